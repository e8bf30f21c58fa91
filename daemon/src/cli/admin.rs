//! `ecardd operator` and `ecardd audit`: accounts and the audit log's hash chain.

use super::clock;
use super::output::{print, say, Failure};
use super::station::read_secret;
use clap::Subcommand;
use ecardd::labels;
use ecardd::ops::{NewOperator, Station, StationConfig};
use ecardd::store::Store;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum OperatorCmd {
    Add {
        #[arg(long, env = "ECARDD_DB", default_value = "/var/lib/ecard/ecard.db")]
        db: PathBuf,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// issuer, reviewer, inspector or admin
        #[arg(long)]
        role: String,
        #[arg(long)]
        password_file: PathBuf,
    },
}

pub fn operator(cmd: OperatorCmd) -> Result<(), Failure> {
    let OperatorCmd::Add {
        db,
        username,
        display_name,
        role,
        password_file,
    } = cmd;
    let station = Station::without_keys(
        Arc::new(Store::open(&db, clock())?),
        ecardd::readers::Readers::none(),
        card_profile::pki::TrustList::default(),
        StationConfig::default(),
    );
    // The same checks as the admin page: name, role, password policy.
    let op = station.create_operator(
        "cli",
        &NewOperator {
            username,
            display_name,
            role,
            password: read_secret(&password_file)?.to_string(),
        },
    )?;
    say!("已创建账户 {}（{}）", op.username, labels::role_zh(op.role));
    Ok(())
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain of the audit log and name the first broken row.
    Verify {
        #[arg(long, env = "ECARDD_DB", default_value = "/var/lib/ecard/ecard.db")]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

pub fn audit(cmd: AuditCmd) -> Result<(), Failure> {
    let AuditCmd::Verify { db, json } = cmd;
    let r = Store::open(&db, clock()).and_then(|s| s.verify_audit_chain())?;
    print(json, &r, |v| match &v.first_broken {
        None => format!("审计日志完整：{} 条", v.rows),
        Some((seq, why)) => format!("审计日志在第 {seq} 条断裂：{why}"),
    });
    if r.first_broken.is_some() {
        return Err(Failure::quiet("audit_broken", 3));
    }
    Ok(())
}

//! `ecardd operator` and `ecardd audit`: accounts and the audit log's hash chain.

use super::clock;
use super::output::{print, say, Failure};
use super::station::read_secret;
use clap::Subcommand;
use ecardd::labels;
use ecardd::store::{self, Store};
use std::path::PathBuf;

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
    let role = ecardd::auth::Role::parse(&role)
        .ok_or_else(|| Failure::new("invalid_request", format!("未知的角色：{role}")))?;
    let password = read_secret(&password_file)?;
    let hash = ecardd::auth::hash_password(&password)
        .map_err(|e| Failure::new(e.code(), e.message_zh()))?;
    let store = Store::open(&db, clock())?;
    store.write("cli", |tx| {
        store::create_operator(tx, &username, &display_name, role, &hash)
    })?;
    say!("已创建账户 {username}（{}）", labels::role_zh(role));
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

//! `ecardd import`: a roster (official xlsx, optional zip of photos) becomes
//! applications; a refused roster gets its error report.

use super::clock;
use super::output::{print, Failure};
use clap::Args;
use ecardd::ops::{ImportError, Station, StationConfig};
use ecardd::store::Store;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ImportArgs {
    #[arg(long, env = "ECARDD_DB", default_value = "/var/lib/ecard/ecard.db")]
    db: PathBuf,
    roster: PathBuf,
    #[arg(long)]
    photos: Option<PathBuf>,
    /// Where to write the error report of a refused import.
    #[arg(long)]
    report: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// A refused import as `--json` prints it (the API's `{code, message}` plus the rows).
#[derive(Serialize)]
struct Refused<'a> {
    code: &'static str,
    message: String,
    errors: &'a [ecard_domain::roster::ImportIssue],
}

pub fn import(a: ImportArgs) -> Result<(), Failure> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| Failure::new("io", format!("无法读取 {}：{e}", p.display())))
    };
    let xlsx = read(&a.roster)?;
    let zip = a.photos.as_deref().map(read).transpose()?;
    let store = std::sync::Arc::new(Store::open(&a.db, clock())?);
    let station = Station::without_keys(
        store,
        ecardd::readers::Readers::none(),
        card_profile::pki::TrustList::default(),
        StationConfig::default(),
    );
    let photos = match &zip {
        Some(z) => ecard_domain::roster::Photos::Zip(z),
        None => ecard_domain::roster::Photos::None,
    };
    match station.import_roster("cli", &xlsx, photos) {
        Ok(out) => {
            print(a.json, &out, |out| {
                format!("已导入 {} 条申请，等待审批", out.imported)
            });
            Ok(())
        }
        Err(ImportError::Op(e)) => Err(e.into()),
        Err(ImportError::Rejected(r)) => {
            if let Some(path) = &a.report {
                let bytes = r
                    .to_xlsx()
                    .map_err(|e| Failure::new("xlsx", e.to_string()))?;
                std::fs::write(path, bytes).map_err(|e| Failure::new("io", e.to_string()))?;
            }
            if a.json {
                let refused = Refused {
                    code: r.refused.as_ref().map_or("import_rejected", |l| l.code()),
                    message: r.to_string(),
                    errors: &r.issues,
                };
                print(true, &refused, |_| String::new());
            } else {
                for i in &r.issues {
                    eprintln!("{i}");
                }
            }
            Err(Failure {
                // A file refused unread names its limit (xlsx_range_too_large …).
                code: r
                    .refused
                    .as_ref()
                    .map_or("import_rejected", |l| l.code())
                    .into(),
                message: r.to_string(),
                exit: 4,
            })
        }
    }
}

//! `ecardd doctor`: the station's self-check on the terminal (ecardd::doctor).

use super::clock;
use super::output::{print, Failure};
use super::station::StationArgs;
use clap::Args;
use ecardd::doctor::{probe, Level, Report};
use std::path::Path;

#[derive(Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    station: StationArgs,
    /// Do not contact the registry (its key and pins are still checked).
    #[arg(long)]
    offline: bool,
    #[arg(long)]
    json: bool,
}

pub fn doctor(a: DoctorArgs) -> Result<(), Failure> {
    let clock = clock();
    let readers = ecardd::readers::pcsc::PcscReaders::start(ecardd::ops::DEFAULT_CARD_DEADLINE);
    // One monitor round: pcscd answers or not, the readers are listed.
    std::thread::sleep(std::time::Duration::from_millis(700));
    use ecardd::readers::ReaderBackend;
    let pcscd_up = readers.service_up();
    let reader_names = readers.list().into_iter().map(|r| r.name).collect();
    let (db, store) = probe::open_database(&a.station.db, clock);
    // The passphrase, when given, must open the keys (argon2id: a few seconds).
    let opened = match (&store, a.station.passphrase()?) {
        (Some(s), Some(p)) => Some(ecardd::keyring::unlock(s, &p).ok()),
        _ => None,
    };
    let unlocked = opened.as_ref().map(Option::is_some);
    let open_signer_until = opened
        .flatten()
        .map(|(keys, _)| keys.signer.certificate.valid_until);
    let max_age = store
        .as_ref()
        .and_then(|s| {
            s.setting(ecardd::ops::MAX_REVOCATION_AGE_SETTING)
                .ok()
                .flatten()
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(a.station.config()?.max_revocation_age_days);
    let db_path = a.station.db.display().to_string();
    let situation = probe::Situation {
        pcscd_up,
        reader_names,
        drivers: probe::installed_drivers(
            Path::new(probe::DRIVER_DIR),
            Path::new(probe::READER_CONF_DIR),
        ),
        db_path: &db_path,
        clock,
        max_revocation_age_days: max_age,
        ask_registry: !a.offline,
        open_signer_until,
    };
    let report =
        super::station::runtime()?.block_on(probe::report(situation, db, store.as_ref(), unlocked));
    print(a.json, &report, human);
    match report.exit_status() {
        0 => Ok(()),
        status => Err(Failure::quiet(
            match report.worst {
                Level::Fault => "doctor_fault",
                _ => "doctor_warning",
            },
            status,
        )),
    }
}

/// One line per finding: level, check, Chinese | English; the fix indented below.
fn human(r: &Report) -> String {
    let mut out = Vec::new();
    for f in &r.findings {
        let tag = match f.level {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Fault => "fault",
        };
        out.push(format!(
            "{} {:<7} {:<15} {} | {}",
            f.level.zh(),
            tag,
            f.check,
            f.zh,
            f.en
        ));
        if let (Some(zh), Some(en)) = (&f.fix_zh, &f.fix_en) {
            out.push(format!("{:<28} 处理：{zh} | fix: {en}", ""));
        }
    }
    out.push(match r.worst {
        Level::Ok => "结论：正常 | result: ok".to_owned(),
        Level::Warning => "结论：有需要注意的项 | result: warnings".to_owned(),
        Level::Fault => "结论：有故障 | result: faults".to_owned(),
    });
    out.join("\n")
}

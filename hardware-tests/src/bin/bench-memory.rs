//! Where the memory of an `ecardd serve` process goes (issue #15): idle with both
//! vpcd readers and a written card in one, after a verification, and with a long
//! revocation list loaded.
//!
//!     cargo build --release -p card-sim -p ecardd -p hardware-tests --bin bench-memory
//!     flock /tmp/ecard-hw.lock target/release/bench-memory [--entries N] [--env KEY=VALUE]… [--hold SECS]
//!
//! The station is made as bench-daemon makes it (CLI, one certificate written by the
//! daemon through `POST /api/v1/issue`). Each phase prints `VmRSS` with a breakdown
//! from `/proc/<pid>/smaps` (hardware_tests::memory) and the process's threads.
//!
//! The list: N entries (default 1,000,000; half card serials, half certificate
//! numbers, as the field_check bench makes them) are stored into the station's
//! database while the daemon is stopped, as a sync round leaves them (the same
//! `store::insert_revocation`); the daemon then starts with them on disk and builds
//! its in-memory set at the first verification (`Station::revocations`). Per-entry
//! bytes are the RSS difference across that first verification over N.
//!
//! `--env` passes variables to ecardd (e.g. `MALLOC_ARENA_MAX=2`); `--hold` keeps the
//! idle daemon running that many seconds for a look at /proc by hand.

#[path = "../../tests/common/mod.rs"]
mod common;

use common::*;
use hardware_tests::harness::VPCD_READERS;
use hardware_tests::memory;
use hardware_tests::PcscHarness;
use std::path::Path;
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error>;

struct Options {
    entries: u64,
    env: Vec<(String, String)>,
    hold: Option<u64>,
}

fn options() -> Result<Options, BoxError> {
    let mut o = Options {
        entries: 1_000_000,
        env: Vec::new(),
        hold: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--entries" => o.entries = value()?.parse()?,
            "--hold" => o.hold = Some(value()?.parse()?),
            "--env" => {
                let kv = value()?;
                let (k, v) = kv.split_once('=').ok_or("--env KEY=VALUE")?;
                o.env.push((k.to_owned(), v.to_owned()));
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(o)
}

fn report(title: &str, pid: u32) -> Result<memory::Breakdown, BoxError> {
    let b = memory::breakdown(pid)?;
    println!("== {title}");
    for line in b.lines() {
        println!("{line}");
    }
    Ok(b)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// N revocations into the station's database, half serials, half numbers (as
/// daemon/benches/field_check.rs), in one transaction.
fn store_revocations(db: &Path, entries: u64) -> Result<(), BoxError> {
    use ecard_domain::numbering::CertificateNumber;
    use ecardd::store::{self, Store};
    let store = Store::open(db, clock())?;
    let t = Instant::now();
    store.write("bench", |tx| {
        for i in 0..entries {
            if i % 2 == 0 {
                let serial = format!("{:016X}", 0xB000_0000_0000_0000u64 + i);
                store::insert_revocation(
                    tx,
                    Some(&serial),
                    None,
                    "cancelled",
                    today(),
                    "registry",
                )?;
            } else {
                let number = CertificateNumber::parse(&format!("川Z{i:08}"))?;
                store::insert_revocation(
                    tx,
                    None,
                    Some(&number),
                    "cancelled",
                    today(),
                    "registry",
                )?;
            }
        }
        Ok(())
    })?;
    println!(
        "{entries} revocations stored in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let opts = options()?;
    let exe_dir = std::env::current_exe()?
        .parent()
        .map(Path::to_path_buf)
        .ok_or("exe dir")?;
    let sim = exe_dir.join("ecard-sim");
    if std::env::var_os("ECARD_SIM_BIN").is_none() {
        std::env::set_var("ECARD_SIM_BIN", &sim);
    }
    if std::env::var_os("ECARDD_BIN").is_none() && !exe_dir.join("ecardd").is_file() {
        return Err("build first: cargo build --release -p card-sim -p ecardd".into());
    }
    let env: Vec<(&str, &str)> = opts
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reader = VPCD_READERS[0];
    let dir = tempfile::tempdir()?;
    let mut harness = PcscHarness::start()?;
    let station = prepare_station(dir.path(), 1);

    // One card written by the daemon; it stays in reader 0 for every phase.
    let card_state = dir.path().join("written.json");
    write_card_through_daemon(&mut harness, &station, &card_state, 0)?;
    let _card = harness.start_card(0, hardware_tests::SimSpec::new(&card_state))?;
    println!(
        "ecardd: {}; extra environment: {:?}",
        ecardd_binary().display(),
        opts.env
    );

    let verify = |api: &Api| -> Result<(), BoxError> {
        let resp = api.post("/api/v1/verify", &serde_json::json!({ "reader": reader }));
        let v = resp.json();
        if resp.status != 200 || v["standing"] != "valid" {
            return Err(format!("verify answered {} {v}", resp.status).into());
        }
        if let Some(url) = v["photo_url"].as_str() {
            api.get(url);
        }
        Ok(())
    };

    // Idle: a fresh daemon, logged in once, the card seen, 5 s of nothing.
    let mut daemon = Daemon::start_with_env(&station, &env);
    let pid = daemon.pid();
    let api = Api::login(daemon.addr);
    api.wait_card(reader, true, Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(5));
    let idle = report("idle 5 s after start, 2 readers, written card in one", pid)?;
    if let Some(secs) = opts.hold {
        println!("holding ecardd pid {pid} for {secs} s");
        std::thread::sleep(Duration::from_secs(secs));
    }
    verify(&api)?;
    std::thread::sleep(Duration::from_secs(2));
    report("after one verification", pid)?;
    daemon.stop();

    if opts.entries == 0 {
        return Ok(());
    }
    store_revocations(&station.db, opts.entries)?;
    let mut daemon = Daemon::start_with_env(&station, &env);
    let pid = daemon.pid();
    let api = Api::login(daemon.addr);
    api.wait_card(reader, true, Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(5));
    let before = report(
        &format!("idle 5 s, {} revocations in the database", opts.entries),
        pid,
    )?;
    let t = Instant::now();
    verify(&api)?;
    let first = t.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let loaded = report(
        &format!(
            "after the first verification (list loaded, {:.0} ms)",
            first.as_secs_f64() * 1000.0
        ),
        pid,
    )?;
    verify(&api)?;
    std::thread::sleep(Duration::from_secs(2));
    report("after a second verification (list reused)", pid)?;
    if let Some(secs) = opts.hold {
        println!("holding ecardd pid {pid} for {secs} s");
        std::thread::sleep(Duration::from_secs(secs));
    }
    daemon.stop();

    let grown = loaded.vm_rss_kib.saturating_sub(before.vm_rss_kib);
    println!("== summary");
    println!(
        "idle VmRSS {:.1} MiB; with {} revocations: {:.1} MiB before loading, {:.1} MiB loaded (+{:.1} MiB, {:.0} bytes per entry), peak VmHWM {:.1} MiB",
        mib(idle.vm_rss_kib),
        opts.entries,
        mib(before.vm_rss_kib),
        mib(loaded.vm_rss_kib),
        mib(grown),
        (grown * 1024) as f64 / opts.entries as f64,
        mib(loaded.vm_hwm_kib),
    );
    Ok(())
}

//! 100,000 station events pushed to a real registry process on loopback
//! (docs/PERFORMANCE.md, "Registry and sync"; target < 3 s, issue #15).
//!
//! `cargo bench -p ecard-registry --bench push` (builds and spawns the release binary).
//!
//! The station serves region 川X and reports numbers of the shipped rule in its
//! region, so every event is applied: the bench fails if any is refused (until
//! #15 the station had no region and invalid numbers, and all 100,000 events were
//! refused as `not_your_certificate`, which measured the refusal path).
#![allow(clippy::unwrap_used)]

use card_profile::pki::SigningKey;
use ecard_sync_protocol::client::RegistryClient;
use ecard_sync_protocol::events::{EventBody, StationEvent, MAX_BATCH_EVENTS};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_ecard-registry");
const EVENTS: u64 = 100_000;

/// The day the bench means (registry and station alike): never today's date.
fn clock() -> ecard_clock::Clock {
    ecard_clock::Clock::starting_on(chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
}

/// `n` valid numbers of the shipped Sichuan rule in county 川X01 (within the
/// station's region 川X), department after department.
fn numbers(n: usize) -> Vec<String> {
    let rule = ecard_domain::numbering::NumberingRule::sichuan_default().unwrap();
    let config: serde_json::Value =
        serde_json::from_str(ecard_domain::numbering::SICHUAN_DEFAULT_JSON).unwrap();
    let mut out = Vec::with_capacity(n);
    for department in config["departments"].as_array().unwrap() {
        let department = department["code"].as_str().unwrap();
        let mut last = None;
        while let Ok(number) = rule.next_number("川X01", department, last) {
            if out.len() == n {
                return out;
            }
            last = Some(rule.parse(&number).unwrap().serial);
            out.push(number);
        }
    }
    assert_eq!(out.len(), n, "not enough numbers in 川X01");
    out
}

/// ecardd's outbox mix: mostly issued cards (with a 65-byte chip key and a ~1 KB
/// SOD), some reviews, a few status changes — reviews and changes of cards issued
/// earlier in the same batch. `numbers[seq - 1]` is event `seq`'s number.
fn event(seq: u64, numbers: &[String]) -> StationEvent {
    let number_of = |s: u64| numbers[(s - 1) as usize].clone();
    let number = number_of(seq);
    let (kind, payload) = match seq % 10 {
        0..=6 => (
            "card_issued",
            serde_json::json!({
            "number": number, "serial": format!("{seq:016X}"), "chip_key": "04".repeat(65),
            "sod": "30".repeat(1000), "issued_on": "2026-11-02", "id_number": "11010519491231002X"}),
        ),
        7 | 8 => (
            "review_recorded",
            serde_json::json!({
            "number": number_of(seq - 6), "year": 2026, "date": "2026-11-20", "result": "passed", "remark": null}),
        ),
        _ => (
            "status_changed",
            serde_json::json!({
            "number": number_of(seq - 8), "kind": "cancel", "reason": "调离",
            "detail": {"destination": "成都"}, "effective_on": "2026-11-22", "new_number": null}),
        ),
    };
    let body = EventBody::decode(kind, &payload).unwrap();
    StationEvent::new(
        format!("ev{seq:012}"),
        seq,
        &body,
        "2026-11-22T10:00:00.000Z",
    )
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    // `ECARD_BENCH_DATABASE=postgres://…` (an empty database of its own;
    // scripts/postgres-cluster.sh makes a server): the same run on PostgreSQL.
    let database = std::env::var("ECARD_BENCH_DATABASE")
        .unwrap_or_else(|_| format!("sqlite:{}", dir.path().join("registry.db").display()));
    let key = Arc::new(SigningKey::generate().unwrap());
    // The bench's one clock, handed to the registry it starts (ECARD_TODAY).
    let clock = clock();
    let out = Command::new(BIN)
        .args([
            "station",
            "add",
            "--name",
            "bench",
            "--public-key",
            &hex::encode(key.public_key()),
            "--region",
            "川X",
        ])
        .arg("--database")
        .arg(&database)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--insecure-loopback-http",
        ])
        .arg("--database")
        .arg(&database)
        .arg("--admin-token-file")
        .arg(dir.path().join("admin-token"))
        .arg("--key-file")
        .arg(dir.path().join("registry.key"))
        .env("RUST_LOG", "warn")
        .env(ecard_clock::TODAY_ENV, clock.env_value())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("ecard-registry listening: ")
        .unwrap()
        .to_owned();

    let numbers = numbers(EVENTS as usize);
    let events: Vec<StationEvent> = (1..=EVENTS).map(|s| event(s, &numbers)).collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = RegistryClient::new(
        &url,
        "bench",
        key,
        clock,
        ecard_sync_protocol::client::RegistryTls::InsecureLoopbackHttp,
    )
    .unwrap();
    let t = Instant::now();
    let (mut last, mut applied) = (0, 0);
    rt.block_on(async {
        for chunk in events.chunks(MAX_BATCH_EVENTS) {
            let ack = client.push_events(chunk.to_vec()).await.unwrap();
            assert!(ack.refused.is_empty(), "refused: {:?}", ack.refused.first());
            last = ack.last_applied_seq;
            applied += ack.applied;
        }
    });
    let secs = t.elapsed().as_secs_f64();
    assert_eq!((last, applied), (EVENTS, EVENTS));
    println!(
        "{}: pushed {EVENTS} events in batches of {MAX_BATCH_EVENTS} over loopback: {secs:.2} s ({:.0} events/s)",
        database.split(':').next().unwrap_or("?"),
        EVENTS as f64 / secs
    );
    let _ = child.kill();
    let _ = child.wait();
}

//! 100,000 station events pushed to a real registry process on loopback
//! (docs/PERFORMANCE.md, "Registry and sync"; target < 10 s).
//!
//! `cargo bench -p ecard-registry --bench push` (builds and spawns the release binary).
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

/// ecardd's outbox mix: mostly issued cards (with a 65-byte chip key and a ~1 KB
/// SOD), some reviews, a few status changes.
fn event(seq: u64) -> StationEvent {
    let number = format!("川X01{seq:08}");
    let (kind, payload) = match seq % 10 {
        0..=6 => (
            "card_issued",
            serde_json::json!({
            "number": number, "serial": format!("{seq:016X}"), "chip_key": "04".repeat(65),
            "sod": "30".repeat(1000), "issued_on": "2026-11-23", "id_number": "11010519491231002X"}),
        ),
        7 | 8 => (
            "review_recorded",
            serde_json::json!({
            "number": format!("川X01{:08}", seq - 7), "year": 2027, "date": "2027-03-01", "result": "passed", "remark": null}),
        ),
        _ => (
            "status_changed",
            serde_json::json!({
            "number": format!("川X01{:08}", seq - 9), "kind": "cancel", "reason": "调离",
            "detail": {"destination": "成都"}, "effective_on": "2026-11-24", "new_number": null}),
        ),
    };
    let body = EventBody::decode(kind, &payload).unwrap();
    StationEvent::new(
        format!("ev{seq:012}"),
        seq,
        &body,
        "2026-11-23T10:00:00.000Z",
    )
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("registry.db");
    let key = Arc::new(SigningKey::generate().unwrap());
    // The bench's one clock, handed to the registry it starts (ECARD_TODAY).
    let clock = ecard_clock::Clock::from_env().unwrap();
    let out = Command::new(BIN)
        .args([
            "station",
            "add",
            "--name",
            "bench",
            "--public-key",
            &hex::encode(key.public_key()),
        ])
        .arg("--db")
        .arg(&db)
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
        .arg("--db")
        .arg(&db)
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

    let events: Vec<StationEvent> = (1..=EVENTS).map(event).collect();
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
    let mut last = 0;
    rt.block_on(async {
        for chunk in events.chunks(MAX_BATCH_EVENTS) {
            last = client
                .push_events(chunk.to_vec())
                .await
                .unwrap()
                .last_applied_seq;
        }
    });
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(last, EVENTS);
    println!(
        "pushed {EVENTS} events in batches of {MAX_BATCH_EVENTS} over loopback: {secs:.2} s ({:.0} events/s)",
        EVENTS as f64 / secs
    );
    let _ = child.kill();
    let _ = child.wait();
}

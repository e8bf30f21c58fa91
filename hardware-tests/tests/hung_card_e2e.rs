//! A card that accepts the connection and then stops answering (issue 19), through
//! the real stack: `ecardd serve` and `ecardd verify` → pcscd → vpcd → an
//! `ecard-sim` that reads commands from APDU k on and never replies (`--mute-after`),
//! or replies with an empty frame (`--empty-after`).
//!
//! Asserted: the error (`card_timeout`, 卡片无响应) — never the time it took; the
//! issuance job is left `interrupted`; the reader is usable again with a fresh card
//! once the silent card is pulled.
//!
//! Needs `cargo build --workspace --bins` first (ecardd and ecard-sim binaries).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use hardware_tests::harness::VPCD_READERS;
use hardware_tests::{PcscHarness, SimSpec};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::Duration;

const R0: &str = VPCD_READERS[0];
/// Short, so the test does not wait long; production uses 5 s.
const DEADLINE_MS: &str = "1500";

fn assert_card_timeout(resp: &HttpResponse, what: &str) {
    let v = resp.json();
    assert_eq!(
        (resp.status, v["code"].as_str()),
        (504, Some("card_timeout")),
        "{what}: {v}"
    );
    assert_eq!(v["message"], "卡片无响应，请取出后重新插入", "{what}: {v}");
}

fn job_of(api: &Api, certificate_id: i64) -> Value {
    let jobs = api.get("/api/v1/jobs").json();
    jobs.as_array()
        .expect("jobs")
        .iter()
        .find(|j| j["certificate_id"] == certificate_id)
        .cloned()
        .unwrap_or_else(|| panic!("no job for certificate {certificate_id}: {jobs}"))
}

#[test]
fn a_card_that_stops_answering_gets_card_timeout_and_the_reader_recovers_when_it_is_pulled() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let station = prepare_station(dir.path(), 2);
    let cert = station.certificate_ids[0];
    let daemon = Daemon::start_with_env(&station, &[("ECARDD_CARD_DEADLINE_MS", DEADLINE_MS)]);
    let api = Api::login(daemon.addr);

    // Issuance: a blank card that answers SELECT and two more commands, then hangs.
    let hung = harness
        .start_card(
            0,
            blank(&dir, "hung-blank", 0xEC00_0000_0000_5001).mute_after(3),
        )
        .expect("silent blank");
    api.wait_card(R0, true, Duration::from_secs(10));
    let resp = api.post(
        "/api/v1/issue",
        &json!({ "certificate_id": cert, "reader": R0 }),
    );
    assert_card_timeout(&resp, "issue on a card that stops answering");
    let job = job_of(&api, cert);
    assert_eq!(job["state"], "interrupted", "{job}");
    assert_eq!(job["card_serial"], "EC00000000005001", "{job}");

    // The reader is held while the card still hangs in the driver: the next operation
    // says so at once instead of hanging too.
    let resp = api.post("/api/v1/verify", &json!({ "reader": R0 }));
    assert_card_timeout(&resp, "verify while the silent card is still in");

    // Pulled: the driver lets go, the reader is free, a fresh blank finishes the job
    // (and the first card's serial is voided).
    hung.remove().expect("pull the silent card");
    api.wait_card(R0, false, Duration::from_secs(10));
    let fresh_state = state_path(&dir, "fresh");
    let fresh = harness
        .start_card(
            0,
            SimSpec::new(&fresh_state)
                .serial(0xEC00_0000_0000_5002u64.to_be_bytes())
                .master_key(master_key_bytes()),
        )
        .expect("fresh blank");
    api.wait_card(R0, true, Duration::from_secs(10));
    let job_id = job["id"].as_i64().expect("job id");
    let resp = api.post(
        &format!("/api/v1/jobs/{job_id}/resume"),
        &json!({ "reader": R0 }),
    );
    assert_eq!(
        resp.status,
        200,
        "resume after the card was pulled: {}",
        String::from_utf8_lossy(&resp.body)
    );
    let issued = resp.json();
    assert_eq!(issued["standing"], "valid", "{issued}");
    assert_eq!(issued["serial"], "EC00000000005002", "{issued}");
    assert_eq!(job_of(&api, cert)["state"], "verified");
    fresh.remove().expect("take the written card out");
    api.wait_card(R0, false, Duration::from_secs(10));

    // Verification: the written card again, now going silent after its SELECT.
    let silent = harness
        .start_card(0, SimSpec::new(&fresh_state).mute_after(1))
        .expect("written card, silent");
    api.wait_card(R0, true, Duration::from_secs(10));
    let resp = api.post("/api/v1/verify", &json!({ "reader": R0 }));
    assert_card_timeout(&resp, "verify on a card that stops answering");
    silent.remove().expect("pull");
    api.wait_card(R0, false, Duration::from_secs(10));

    // An empty answer (no data, no status word) is never a verdict either. Measured
    // with Debian 12's vpcd: a 0-byte frame from the card leaves the transmit blocked
    // until the card is pulled, so this is the same hang as a mute card.
    let empty = harness
        .start_card(0, SimSpec::new(&fresh_state).empty_after(2))
        .expect("written card, empty answers");
    api.wait_card(R0, true, Duration::from_secs(10));
    let resp = api.post("/api/v1/verify", &json!({ "reader": R0 }));
    assert_card_timeout(&resp, "verify on a card answering with nothing");
    empty.remove().expect("pull");
    api.wait_card(R0, false, Duration::from_secs(10));

    // And the reader works again with the same card answering normally.
    let _good = harness
        .start_card(0, SimSpec::new(&fresh_state))
        .expect("written card");
    api.wait_card(R0, true, Duration::from_secs(10));
    let resp = api.post("/api/v1/verify", &json!({ "reader": R0 }));
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(resp.json()["standing"], "valid");
}

#[test]
fn ecardd_verify_on_a_silent_card_exits_with_card_timeout() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let station = prepare_station(dir.path(), 0);
    let _silent = harness
        .start_card(
            0,
            blank(&dir, "silent", 0xEC00_0000_0000_5101).mute_after(0),
        )
        .expect("silent card");
    let out = Command::new(ecardd_binary())
        .env(ecard_clock::TODAY_ENV, clock().env_value())
        .env("ECARDD_CARD_DEADLINE_MS", DEADLINE_MS)
        .args(["verify", "--reader", R0, "--db"])
        .arg(&station.db)
        .stdin(Stdio::null())
        .output()
        .expect("run ecardd verify");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("card_timeout"), "{stderr}");
    assert!(stderr.contains("卡片无响应"), "{stderr}");
}

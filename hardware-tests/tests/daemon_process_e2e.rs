//! The real `ecardd serve` process through the real PC/SC stack (pcscd + vpcd +
//! ecard-sim cards), driven only over HTTP like the web UI does.
//!
//! - SIGKILL in the middle of a batch: after a restart and resume no card record is
//!   lost or doubled, every card ever written is either a live record or voided, and
//!   the audit chain verifies (`ecardd audit verify`).
//! - The reader list and the SSE event stream follow cards plugged and unplugged.
//!
//! Needs `cargo build --workspace --bins` first (ecardd and ecard-sim binaries).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use ecardd::store::Store;
use hardware_tests::harness::VPCD_READERS;
use hardware_tests::{PcscHarness, SimProcess, SimSpec};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The cards the operator has at hand: one per vpcd slot, a fresh blank (new
/// serial) whenever the previous one is done with.
struct Cards {
    dir: PathBuf,
    next_serial: u64,
    in_slot: [Option<(SimProcess, String)>; 2],
    /// Every card ever handed out: (serial, state file).
    handed_out: Vec<(String, PathBuf)>,
}

impl Cards {
    fn new(dir: &std::path::Path) -> Cards {
        Cards {
            dir: dir.to_path_buf(),
            next_serial: 0xEC00_0000_0000_1000,
            in_slot: [None, None],
            handed_out: Vec::new(),
        }
    }

    fn take_out(&mut self, slot: usize) -> Option<String> {
        let (sim, serial) = self.in_slot[slot].take()?;
        sim.remove().expect("pull card out");
        Some(serial)
    }

    fn insert_blank(&mut self, harness: &mut PcscHarness, slot: usize) -> String {
        self.take_out(slot);
        let serial_n = self.next_serial;
        self.next_serial += 1;
        let serial = format!("{serial_n:016X}");
        let state = self.dir.join(format!("card-{serial}.json"));
        let spec = SimSpec::new(&state)
            .serial(serial_n.to_be_bytes())
            .master_key(master_key_bytes());
        let sim = harness.start_card(slot as u8, spec).expect("blank card");
        self.handed_out.push((serial.clone(), state));
        self.in_slot[slot] = Some((sim, serial.clone()));
        serial
    }

    /// Puts an already made card (by its state file) back into `slot`.
    fn insert_existing(&mut self, harness: &mut PcscHarness, slot: usize, serial: &str) {
        self.take_out(slot);
        let state = self.state_of(serial);
        let sim = harness
            .start_card(slot as u8, SimSpec::new(state))
            .expect("card back in");
        self.in_slot[slot] = Some((sim, serial.to_string()));
    }

    fn serial_in(&self, slot: usize) -> Option<&str> {
        self.in_slot[slot].as_ref().map(|(_, s)| s.as_str())
    }

    fn state_of(&self, serial: &str) -> PathBuf {
        self.handed_out
            .iter()
            .find(|(s, _)| s == serial)
            .map(|(_, p)| p.clone())
            .expect("a card we handed out")
    }
}

/// The life cycle the card's own (simulated) chip records.
fn life_cycle(state: &std::path::Path) -> String {
    let text = std::fs::read_to_string(state).expect("card state");
    let v: Value = serde_json::from_str(&text).expect("card state json");
    v["life_cycle"].as_str().expect("life_cycle").to_string()
}

fn revoked_serials(api: &Api) -> BTreeSet<String> {
    let v = api.get("/api/v1/revocations").json();
    v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["serial"].as_str().map(str::to_string))
        .collect()
}

/// The operator's side of a batch: a card ecardd has finished with (recorded as
/// verified, or voided) comes out and a fresh blank goes in.
///
/// At most `max_swaps` cards are swapped (each swap waits ~0.5 s for the slot).
fn feed(harness: &mut PcscHarness, cards: &mut Cards, api: &Api, batch: &Value, max_swaps: usize) {
    let mut swaps = 0;
    let jobs = batch["jobs"].as_array().expect("jobs");
    let revoked = revoked_serials(api);
    for slot in 0..2 {
        if swaps >= max_swaps {
            return;
        }
        let Some(serial) = cards.serial_in(slot).map(str::to_string) else {
            cards.insert_blank(harness, slot);
            swaps += 1;
            continue;
        };
        let finished = jobs
            .iter()
            .any(|j| j["state"] == "verified" && j["card_serial"] == serial.as_str());
        if finished || revoked.contains(&serial) {
            cards.insert_blank(harness, slot);
            swaps += 1;
        }
    }
}

fn batch_view(api: &Api, batch: i64) -> Value {
    let resp = api.get(&format!("/api/v1/batches/{batch}"));
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    resp.json()
}

fn count(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

fn readers_json() -> Value {
    json!(VPCD_READERS)
}

fn verify_at(api: &Api, reader: &str) -> Value {
    let resp = api.post("/api/v1/verify", &json!({ "reader": reader }));
    assert_eq!(
        resp.status,
        200,
        "verify at {reader}: {}",
        String::from_utf8_lossy(&resp.body)
    );
    resp.json()
}

/// Rows of one text column.
fn strings(store: &Store, sql: &str) -> Vec<String> {
    store
        .read(|c| {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .expect(sql)
}

#[test]
fn sigkill_during_batch_then_restart_and_resume_loses_and_doubles_no_card() {
    let started = Instant::now();
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let station = prepare_station(dir.path(), 5);
    let certs = station.certificate_ids.clone();
    assert_eq!(certs.len(), 5);
    let mut cards = Cards::new(dir.path());
    cards.insert_blank(&mut harness, 0);
    cards.insert_blank(&mut harness, 1);

    let mut daemon = Daemon::start(&station);
    let api = Api::login(daemon.addr);
    for r in VPCD_READERS {
        api.wait_card(r, true, Duration::from_secs(10));
    }
    let resp = api.post(
        "/api/v1/batches",
        &json!({ "name": "断电测试批次", "certificate_ids": certs, "readers": readers_json() }),
    );
    assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
    let batch = resp.json()["batch_id"].as_i64().expect("batch_id");

    // Kill as soon as one card is done, ideally while another is being written.
    let deadline = Instant::now() + Duration::from_secs(40);
    let at_kill = loop {
        let b = batch_view(&api, batch);
        let done = count(&b, "done");
        // A writing job with its card's serial recorded is past SELECT: its card is
        // being written now.
        let mid_write = b["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .any(|j| j["state"] == "writing" && j["card_serial"].is_string());
        if done >= 1 && (mid_write || done >= 4) {
            daemon.kill();
            break b;
        }
        assert!(
            Instant::now() < deadline,
            "batch made no progress before the kill: {b:#}\nlog: {}",
            daemon.log.display()
        );
        // One swap at a time, then fast polls: a blank goes in and is written
        // within the next few hundred milliseconds.
        if b["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .any(|j| j["state"] == "writing")
        {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        feed(&mut harness, &mut cards, &api, &b, 1);
        std::thread::sleep(Duration::from_millis(2));
    };
    eprintln!(
        "SIGKILL with done={} writing={}",
        count(&at_kill, "done"),
        count(&at_kill, "writing")
    );
    assert!(
        count(&at_kill, "done") < 5,
        "the kill came too late: {at_kill:#}"
    );

    // A card ecardd had started writing but not recorded is lost by the operator: it
    // is replaced by a fresh blank, so resuming its job must void it. (Any other
    // such card stays in its reader and its job resumes on it.)
    let mut lost: Option<String> = None;
    let open_at_kill = {
        let store = Store::open(&station.db, clock()).expect("station.db");
        let open = strings(
            &store,
            "SELECT state FROM jobs WHERE state IN ('writing', 'interrupted')",
        );
        let live = strings(&store, "SELECT serial FROM cards WHERE state = 'live'");
        for slot in 0..2 {
            let Some(serial) = cards.serial_in(slot).map(str::to_string) else {
                continue;
            };
            if lost.is_none()
                && life_cycle(&cards.state_of(&serial)) != "Blank"
                && !live.contains(&serial)
            {
                lost = Some(serial);
                cards.take_out(slot);
            }
        }
        open.len() as u64
    };

    // Restart on the same database and resume the batch at both readers.
    let mut daemon = Daemon::start(&station);
    let api = Api::login(daemon.addr);
    let b = batch_view(&api, batch);
    assert_eq!(
        count(&b, "writing"),
        0,
        "a restarted process has nothing writing: {b:#}"
    );
    assert_eq!(
        count(&b, "interrupted"),
        open_at_kill,
        "jobs writing at the kill are interrupted: {b:#}"
    );
    for slot in 0..2 {
        if cards.serial_in(slot).is_none() {
            cards.insert_blank(&mut harness, slot);
        }
    }
    let resp = api.post(
        &format!("/api/v1/batches/{batch}/resume"),
        &json!({ "readers": readers_json() }),
    );
    assert_eq!(resp.status, 202, "{}", String::from_utf8_lossy(&resp.body));
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let b = batch_view(&api, batch);
        if count(&b, "done") == 5 {
            break b;
        }
        assert!(
            Instant::now() < deadline,
            "batch not done 60 s after resume: {b:#}\nrevocations: {}\nlog: {}",
            String::from_utf8_lossy(&api.get("/api/v1/revocations").body),
            daemon.log.display()
        );
        feed(&mut harness, &mut cards, &api, &b, 2);
        std::thread::sleep(Duration::from_millis(50));
    };
    let jobs = done["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 5, "one job per certificate: {done:#}");
    assert!(
        jobs.iter().all(|j| j["state"] == "verified"),
        "every job verified: {done:#}"
    );

    // A written card read back by the serving station is valid and known.
    cards.take_out(1);
    let first = jobs[0]["card_serial"].as_str().expect("serial").to_string();
    cards.insert_existing(&mut harness, 0, &first);
    api.wait_card(VPCD_READERS[0], true, Duration::from_secs(10));
    let verdict = verify_at(&api, VPCD_READERS[0]);
    assert_eq!(verdict["standing"], "valid", "{verdict:#}");
    assert_eq!(verdict["serial"], first.as_str());
    assert_eq!(verdict["record"]["state"], "live", "{verdict:#}");
    assert_eq!(
        verdict["record"]["certificate_id"],
        jobs[0]["certificate_id"]
    );
    // The lost card never passes a field check.
    if let Some(serial) = &lost {
        cards.insert_existing(&mut harness, 1, serial);
        api.wait_card(VPCD_READERS[1], true, Duration::from_secs(10));
        let resp = api.post("/api/v1/verify", &json!({ "reader": VPCD_READERS[1] }));
        if resp.status == 200 {
            let v = resp.json();
            assert_ne!(v["standing"], "valid", "the lost card {serial}: {v:#}");
            eprintln!("lost card {serial}: standing {}", v["standing"]);
        } else {
            eprintln!(
                "lost card {serial}: HTTP {} {}",
                resp.status,
                String::from_utf8_lossy(&resp.body)
            );
        }
    }
    let revoked = revoked_serials(&api);
    daemon.stop();

    // The records: exactly five live cards, one per certificate, distinct serials.
    let store = Store::open(&station.db, clock()).expect("station.db");
    let all_cards = strings(&store, "SELECT serial FROM cards");
    let live = strings(&store, "SELECT serial FROM cards WHERE state = 'live'");
    assert_eq!(all_cards.len(), 5, "cards: {all_cards:?}");
    assert_eq!(live.len(), 5, "live cards: {live:?}");
    assert_eq!(live.iter().collect::<BTreeSet<_>>().len(), 5, "{live:?}");
    let live_certs = strings(
        &store,
        "SELECT CAST(certificate_id AS TEXT) FROM cards WHERE state = 'live'",
    );
    let expected: BTreeSet<String> = certs.iter().map(i64::to_string).collect();
    assert_eq!(
        live_certs.iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "each certificate on exactly one live card"
    );
    let cert_states = strings(&store, "SELECT state FROM certificates");
    assert!(cert_states.iter().all(|s| s == "issued"), "{cert_states:?}");
    let job_states = strings(&store, "SELECT state FROM jobs");
    assert_eq!(job_states.len(), 5, "{job_states:?}");
    assert!(job_states.iter().all(|s| s == "verified"), "{job_states:?}");
    let revoked_db: BTreeSet<String> = strings(
        &store,
        "SELECT serial FROM revocations WHERE serial IS NOT NULL",
    )
    .into_iter()
    .collect();
    assert_eq!(
        revoked, revoked_db,
        "API and store agree on the revocation list"
    );
    // No live card is on the revocation list.
    for s in &live {
        assert!(!revoked_db.contains(s), "live card {s} is also voided");
    }
    // Every card that was written to at all is a live record or voided.
    for (serial, state) in &cards.handed_out {
        let lc = life_cycle(state);
        if lc != "Blank" {
            assert!(
                live.contains(serial) || revoked_db.contains(serial),
                "card {serial} ({lc}) is neither recorded nor voided; live {live:?}, voided {revoked_db:?}"
            );
        }
    }
    if let Some(serial) = &lost {
        assert!(
            revoked_db.contains(serial),
            "the lost card {serial} is voided"
        );
    }
    drop(store);

    let out = ecardd_cli(&[
        "audit",
        "verify",
        "--db",
        &station.db.display().to_string(),
        "--json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("audit json");
    assert!(report["first_broken"].is_null(), "{report}");
    assert!(report["rows"].as_u64().expect("rows") > 10, "{report}");
    eprintln!(
        "cards handed out {}, lost {:?}, voided {:?}, {:.1} s",
        cards.handed_out.len(),
        lost,
        revoked_db,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn readers_and_event_stream_follow_cards_plugged_and_pulled() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let station = prepare_station(dir.path(), 0);
    let daemon = Daemon::start(&station);
    let api = Api::login(daemon.addr);

    // Both vpcd readers are listed, empty.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = api.get("/api/v1/readers").json();
        assert_eq!(v["service_up"], true, "{v}");
        let names: Vec<&str> = v["readers"]
            .as_array()
            .expect("readers")
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        if VPCD_READERS.iter().all(|r| names.contains(r)) {
            break;
        }
        assert!(Instant::now() < deadline, "vpcd readers not listed: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }
    for r in VPCD_READERS {
        assert_eq!(api.card_present(r), Some(false), "{r} starts empty");
    }

    let mut events = EventStream::open(&api);
    let spec = SimSpec::new(dir.path().join("card.json"))
        .serial(0xEC00_0000_0000_2001u64.to_be_bytes())
        .master_key(master_key_bytes());
    let card = harness.start_card(1, spec).expect("card");
    let mut seen = Vec::new();
    let wanted = |seen: &[(String, String)], what: &str| {
        seen.iter().any(|(e, d)| {
            let v: Value = serde_json::from_str(d).unwrap_or(Value::Null);
            e == "reader" && v["event"] == what && v["reader"] == VPCD_READERS[1]
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !wanted(&seen, "card_inserted") {
        assert!(
            Instant::now() < deadline,
            "no card_inserted event; got {seen:?}"
        );
        if let Some(e) = events.next(Duration::from_millis(500)) {
            seen.push(e);
        }
    }
    api.wait_card(VPCD_READERS[1], true, Duration::from_secs(5));
    assert_eq!(api.card_present(VPCD_READERS[0]), Some(false));

    card.remove().expect("pull card");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !wanted(&seen, "card_removed") {
        assert!(
            Instant::now() < deadline,
            "no card_removed event; got {seen:?}"
        );
        if let Some(e) = events.next(Duration::from_millis(500)) {
            seen.push(e);
        }
    }
    api.wait_card(VPCD_READERS[1], false, Duration::from_secs(5));
}

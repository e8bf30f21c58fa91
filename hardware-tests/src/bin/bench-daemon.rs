//! The `ecardd serve` process through pcscd + vpcd + ecard-sim: how long from a
//! written card going into a reader to the verdict, and how much memory the daemon
//! holds idle and after verifications.
//!
//!     cargo build --release -p card-sim -p ecardd
//!     cargo run --release -p hardware-tests --bin bench-daemon [-- RUNS]
//!
//! Per run: the card (an `ecard-sim` process on a written card's state file) is
//! plugged into vpcd slot 0; *detection* is until ecardd's SSE stream
//! (`GET /api/v1/events`) delivers `card_inserted` for that reader; *verify* is the
//! `POST /api/v1/verify` round trip, which answers the verdict before the photo is
//! read; *photo* is the `GET /api/v1/verify/{id}/photo` that follows it (it waits for
//! the photo read and its hash check); *insert → verdict* and *insert → photo* are
//! what a UI that verifies on the insert event shows, step by step. For the split, a second PC/SC client also times when
//! pcscd itself reports the card. RSS is `VmRSS` of the ecardd process.

#[path = "../../tests/common/mod.rs"]
mod common;

use common::*;
use hardware_tests::harness::{VPCD_BASE_PORT, VPCD_READERS};
use hardware_tests::PcscHarness;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error>;

/// An ecard-sim started directly (not through the harness, whose `start_card` waits
/// for the slot to settle first and would hide the moment of insertion).
struct Plugged(Child);

impl Plugged {
    fn new(sim: &Path, state: &Path) -> Result<Self, BoxError> {
        let child = Command::new(sim)
            .args(["--vpcd", &format!("127.0.0.1:{VPCD_BASE_PORT}"), "--state"])
            .arg(state)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Plugged(child))
    }

    fn pull(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(self.0.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let _ = self.0.wait();
    }
}

impl Drop for Plugged {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.stop();
        }
    }
}

fn vm_rss_kib(pid: u32) -> Result<u64, BoxError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or("no VmRSS")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("VmRSS value")?
        .parse()?)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(label: &str, samples: &[Duration]) {
    let mut v = samples.to_vec();
    v.sort();
    let n = v.len().max(1) as u32;
    let mean = v.iter().sum::<Duration>() / n;
    let median = v.get(v.len() / 2).copied().unwrap_or_default();
    let min = v.first().copied().unwrap_or_default();
    let max = v.last().copied().unwrap_or_default();
    println!(
        "{label:<28} mean {:>7.1} ms  median {:>7.1} ms  min {:>7.1} ms  max {:>7.1} ms",
        ms(mean),
        ms(median),
        ms(min),
        ms(max)
    );
}

fn wait_event(events: &mut EventStream, what: &str, reader: &str) -> Result<(), BoxError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some((event, data)) = events.next(Duration::from_millis(500)) {
            let v: serde_json::Value = serde_json::from_str(&data)?;
            if event == "reader" && v["event"] == what && v["reader"] == reader {
                return Ok(());
            }
        }
    }
    Err(format!("no {what} event for {reader} in 10 s").into())
}

fn main() -> Result<(), BoxError> {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let exe_dir = std::env::current_exe()?
        .parent()
        .map(Path::to_path_buf)
        .ok_or("exe dir")?;
    let sim: PathBuf = std::env::var_os("ECARD_SIM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| exe_dir.join("ecard-sim"));
    if std::env::var_os("ECARD_SIM_BIN").is_none() {
        std::env::set_var("ECARD_SIM_BIN", &sim);
    }
    if std::env::var_os("ECARDD_BIN").is_none() {
        let ecardd = exe_dir.join("ecardd");
        if !ecardd.is_file() || !sim.is_file() {
            return Err("build first: cargo build --release -p card-sim -p ecardd".into());
        }
    }
    let reader = VPCD_READERS[0];
    let dir = tempfile::tempdir()?;
    let mut harness = PcscHarness::start()?;
    let station = prepare_station(dir.path(), 1);

    // Write one card through the daemon (POST /api/v1/issue).
    let card_state = dir.path().join("written.json");
    write_card_through_daemon(&mut harness, &station, &card_state, 0)?;

    // A fresh daemon, the written card in reader 0, reader 1 empty: idle memory.
    let mut daemon = Daemon::start(&station);
    let api = Api::login(daemon.addr);
    let mut card = Some(Plugged::new(&sim, &card_state)?);
    api.wait_card(reader, true, Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(5));
    let rss_idle = vm_rss_kib(daemon.pid())?;
    println!(
        "ecardd pid {} idle 5 s, 2 readers, 1 card: VmRSS {rss_idle} KiB",
        daemon.pid()
    );

    let mut events = EventStream::open(&api);
    let (mut detect, mut verify, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let (mut photo_wait, mut to_photo) = (Vec::new(), Vec::new());
    let mut pcscd = Vec::new();
    let mut apdus = 0;
    for run in 0..runs {
        if let Some(c) = card.take() {
            c.pull();
        }
        wait_event(&mut events, "card_removed", reader)?;
        api.wait_card(reader, false, Duration::from_secs(10));
        // pcscd has polled the empty slot: the next card is seen (see wait_slot_free).
        harness.wait_slot_free(0)?;
        // pcscd's own view, for the split: a second PC/SC client waiting for the card.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let pcscd_seen = std::thread::spawn(move || {
            let ctx = card_pcsc::establish().ok()?;
            let _ = ready_tx.send(());
            card_pcsc::wait_presence(
                &ctx,
                reader,
                card_pcsc::Presence::Present,
                Duration::from_secs(10),
            )
            .ok()
            .filter(|seen| *seen)
            .map(|_| Instant::now())
        });
        ready_rx.recv_timeout(Duration::from_secs(5))?;
        let t0 = Instant::now();
        card = Some(Plugged::new(&sim, &card_state)?);
        wait_event(&mut events, "card_inserted", reader)?;
        let t1 = Instant::now();
        let seen = pcscd_seen
            .join()
            .map_err(|_| "pcscd watcher panicked")?
            .ok_or("pcscd never reported the card")?;
        pcscd.push(seen.saturating_duration_since(t0));
        let resp = api.post("/api/v1/verify", &serde_json::json!({ "reader": reader }));
        let t2 = Instant::now();
        let v = resp.json();
        if resp.status != 200 || v["standing"] != "valid" {
            return Err(format!("run {run}: verify answered {} {v}", resp.status).into());
        }
        let photo_url = v["photo_url"]
            .as_str()
            .ok_or("no photo_url in the verdict")?;
        let photo = api.get(photo_url);
        let t3 = Instant::now();
        let p = photo.json();
        if photo.status != 200 || p["check"]["outcome"] != "passed" || !p["photo"].is_string() {
            return Err(format!("run {run}: photo answered {} {p}", photo.status).into());
        }
        apdus = p["apdus"].as_u64().unwrap_or(0);
        detect.push(t1 - t0);
        verify.push(t2 - t1);
        total.push(t2 - t0);
        photo_wait.push(t3 - t2);
        to_photo.push(t3 - t0);
    }
    let rss_after = vm_rss_kib(daemon.pid())?;
    println!("runs: {runs}; verdict \"valid\", {apdus} APDUs per verify (photo included)");
    summary("insert → pcscd reports card", &pcscd);
    summary("insert → card_inserted (SSE)", &detect);
    summary("POST /api/v1/verify (verdict)", &verify);
    summary("GET …/photo after verdict", &photo_wait);
    summary("insert → verdict", &total);
    summary("insert → photo", &to_photo);
    println!("ecardd VmRSS after {runs} verifications: {rss_after} KiB");
    drop(card);
    daemon.stop();
    Ok(())
}

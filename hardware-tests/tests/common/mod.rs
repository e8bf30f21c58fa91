//! Shared pieces of the end-to-end tests: a fixed calendar, the demo PKI, and the
//! card operations run inside one PC/SC transaction.
#![allow(dead_code)]

use card_profile::channel::Link;
use card_profile::demo::{self, DemoPki};
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, CardError, IssueData, Issued, VerifyContext};
use card_profile::transport::CardChannel;
use card_profile::verdict::Verdict;
use chrono::NaiveDate;
use ecardd::ops::{Station, StationConfig, StationKeys};
use ecardd::readers::pcsc::PcscReaders;
use ecardd::readers::Readers;
use ecardd::store::Store;
use hardware_tests::{PcscChannel, PcscHarness, SimSpec};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tests run on a fixed day so that dates in verdicts are deterministic.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).expect("valid date")
}

/// The one clock of these tests: the `ecardd` processes they start run on `today()`
/// too (ECARD_TODAY), so that the station and the test agree on the date.
pub fn clock() -> ecard_clock::Clock {
    ecard_clock::Clock::starting_on(today())
}

pub fn issued_on() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).expect("valid date")
}

pub fn pki() -> DemoPki {
    demo::pki(today()).expect("demo keys")
}

pub fn officer(i: usize) -> IssueData {
    demo::officers(issued_on()).swap_remove(i)
}

pub fn master_key_bytes() -> Vec<u8> {
    hex::decode(demo::DEMO_MASTER_KEY_HEX).expect("hex")
}

/// A blank card spec with its state file in `dir`.
pub fn blank(dir: &tempfile::TempDir, name: &str, serial: u64) -> SimSpec {
    SimSpec::new(state_path(dir, name))
        .serial(serial.to_be_bytes())
        .master_key(master_key_bytes())
}

pub fn state_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(format!("{name}.json"))
}

/// Runs `f` over a link inside one exclusive PC/SC transaction on `slot`.
pub fn with_link<R>(
    harness: &PcscHarness,
    slot: u8,
    f: impl FnOnce(&mut Link<&mut dyn CardChannel>) -> R,
) -> R {
    let mut channel: PcscChannel = harness.connect(slot).expect("connect");
    channel
        .transaction(|c| {
            let mut link = Link::new(c);
            f(&mut link)
        })
        .expect("transaction")
}

pub fn personalize(
    harness: &PcscHarness,
    slot: u8,
    pki: &DemoPki,
    data: &IssueData,
) -> Result<Issued, CardError> {
    with_link(harness, slot, |link| {
        sequences::personalize(link, data, &pki.master, &pki.signer, issued_on())
    })
}

pub fn verify_with(
    harness: &PcscHarness,
    slot: u8,
    pki: &DemoPki,
    revocations: &RevocationSet,
    day: NaiveDate,
) -> Result<(Verdict, Option<Vec<u8>>), CardError> {
    let ctx = VerifyContext::new(&pki.trust, day, revocations);
    with_link(harness, slot, |link| sequences::verify(link, &ctx))
}

pub fn verify(
    harness: &PcscHarness,
    slot: u8,
    pki: &DemoPki,
) -> Result<(Verdict, Option<Vec<u8>>), CardError> {
    verify_with(harness, slot, pki, &RevocationSet::new(), today())
}

// ---- the `ecardd` process, seen from outside: CLI set-up, `serve`, HTTP ----
//
// Shared by tests/daemon_process_e2e.rs and src/bin/bench-daemon.rs (which includes
// this file by path). A test fixture writes the seed certificates into the database
// directly; everything else goes through the ecardd binary and its HTTP API.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const OPERATOR: &str = "zhizheng";
pub const OPERATOR_PASSWORD: &str = "zhizheng-password-1";

/// `ecardd` built by `cargo build --workspace --bins`: `ECARDD_BIN`, else next to the
/// running executable (`target/<profile>/` for bins, one level up for tests).
pub fn ecardd_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ECARDD_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().map(Path::to_path_buf);
    while let Some(d) = dir {
        let candidate = d.join("ecardd");
        if candidate.is_file() {
            return candidate;
        }
        if d.file_name().is_some_and(|n| n == "target") {
            break;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    panic!(
        "ecardd binary not found beside {}: run `cargo build --workspace --bins` (or set ECARDD_BIN)",
        exe.display()
    );
}

/// Runs `ecardd args…` to completion; panics with its output when it fails.
pub fn ecardd_cli(args: &[&str]) -> std::process::Output {
    let out = Command::new(ecardd_binary())
        .env(ecard_clock::TODAY_ENV, clock().env_value())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ecardd");
    assert!(
        out.status.success(),
        "ecardd {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A station made by the CLI in `dir`: root key, station keys (importing the demo
/// master key so ecard-sim blanks fit), one issuer, and `certificates` approved
/// certificates of the demo officers issued today.
pub struct StationFiles {
    pub db: PathBuf,
    pub passphrase: PathBuf,
    pub certificate_ids: Vec<i64>,
}

pub fn prepare_station(dir: &Path, certificates: usize) -> StationFiles {
    let p = |name: &str| dir.join(name);
    let s = |path: &Path| path.display().to_string();
    std::fs::write(p("root.pass"), "root-passphrase-1\n").expect("write");
    std::fs::write(p("station.pass"), "station-passphrase-1\n").expect("write");
    std::fs::write(p("operator.pass"), format!("{OPERATOR_PASSWORD}\n")).expect("write");
    std::fs::write(p("master.hex"), demo::DEMO_MASTER_KEY_HEX).expect("write");
    let db = p("station.db");
    ecardd_cli(&[
        "keys",
        "root",
        "init",
        "--out",
        &s(&p("root.json")),
        "--name",
        "测试省根",
        "--passphrase-file",
        &s(&p("root.pass")),
    ]);
    ecardd_cli(&[
        "keys",
        "init",
        "--db",
        &s(&db),
        "--bureau",
        "测试市司法局",
        "--root",
        &s(&p("root.json")),
        "--root-passphrase-file",
        &s(&p("root.pass")),
        "--passphrase-file",
        &s(&p("station.pass")),
        "--master-key-file",
        &s(&p("master.hex")),
    ]);
    ecardd_cli(&[
        "operator",
        "add",
        "--db",
        &s(&db),
        "--username",
        OPERATOR,
        "--display-name",
        "制证员",
        "--role",
        "issuer",
        "--password-file",
        &s(&p("operator.pass")),
    ]);
    let certificate_ids = seed_certificates(&db, certificates);
    StationFiles {
        db,
        passphrase: p("station.pass"),
        certificate_ids,
    }
}

/// Test fixture: approved certificates of the demo officers, issued on the tests'
/// day (the serving station runs on it too), written straight into the database.
fn seed_certificates(db: &Path, n: usize) -> Vec<i64> {
    use ecardd::store::Store;
    let store = Store::open(db, clock()).expect("open station.db");
    // A revocation list of today, as the first sync leaves: without one every
    // field check is 无法确认 (ecard_domain::field_check).
    ecard_test_support::revocation_list_of(&store, today());
    ecard_test_support::approve(&store, &demo::officers(today())[..n])
}

/// One `ecardd serve` process; SIGKILLed on drop if still running.
pub struct Daemon {
    child: Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts `ecardd serve --listen 127.0.0.1:0` and waits for its
    /// `ecardd listening: http://…/` line. stderr goes to a log under target/.
    pub fn start(station: &StationFiles) -> Daemon {
        Self::start_with_env(station, &[])
    }

    /// As [`Daemon::start`], with extra environment variables for the process.
    pub fn start_with_env(station: &StationFiles, env: &[(&str, &str)]) -> Daemon {
        Self::start_with(station, env, &[])
    }

    /// As [`Daemon::start`], with extra environment variables and `serve` arguments.
    pub fn start_with(station: &StationFiles, env: &[(&str, &str)], args: &[&str]) -> Daemon {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = hardware_tests::harness::artifacts_dir()
            .join(format!("ecardd-serve-{}-{n}.log", std::process::id()));
        let err = std::fs::File::create(&log).expect("ecardd log");
        let mut child = Command::new(ecardd_binary())
            .env(ecard_clock::TODAY_ENV, clock().env_value())
            .args(["serve", "--db"])
            .arg(&station.db)
            .args(["--listen", "127.0.0.1:0", "--passphrase-file"])
            .arg(&station.passphrase)
            .args(args)
            .env("ECARDD_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .expect("spawn ecardd serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address line, then keeps draining stdout so ecardd never sees EPIPE.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("ecardd listening: http://") {
                    let _ = tx.send(rest.trim_end_matches('/').to_string());
                    break;
                }
            }
            for _ in lines {}
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a.parse().expect("listen address"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "ecardd serve did not report its address; log {}:\n{}",
                    log.display(),
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Daemon { child, addr, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL (what `Child::kill` sends on unix), then reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (systemd's stop), wait up to 10 s, then SIGKILL.
    pub fn stop(&mut self) {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.1 exchange (`Connection: close`, the whole response read).
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

fn request_head(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Vec<u8> {
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    if method != "GET" {
        req.push_str("X-Requested-With: ecard\r\nContent-Type: application/json\r\n");
        req.push_str(&format!("Content-Length: {}\r\n", payload.len()));
    }
    req.push_str("\r\n");
    req.push_str(&payload);
    req.into_bytes()
}

type Headers = Vec<(String, String)>;

/// Splits a response into status, headers and the offset of the body.
fn parse_head(raw: &[u8]) -> Option<(u16, Headers, usize)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Some((status, headers, end + 4))
}

/// Decodes complete chunks of a chunked body; returns the data and the bytes used.
fn dechunk(buf: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(line_end) = buf[pos..].windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&buf[pos..pos + line_end]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
        else {
            break;
        };
        let start = pos + line_end + 2;
        if buf.len() < start + size + 2 {
            break;
        }
        out.extend_from_slice(&buf[start..start + size]);
        pos = start + size + 2;
        if size == 0 {
            break;
        }
    }
    (out, pos)
}

pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<&serde_json::Value>,
) -> std::io::Result<HttpResponse> {
    let head = request_head(addr, method, path, cookie, body);
    exchange(addr, &head)
}

/// One HTTP exchange with a bearer token (the registry's operator API, served as
/// plain HTTP on loopback in these tests).
pub fn http_bearer(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&serde_json::Value>,
) -> std::io::Result<HttpResponse> {
    let mut head = request_head(addr, method, path, None, body);
    let auth = format!("Authorization: Bearer {token}\r\n");
    let at = head
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|i| i + 2)
        .unwrap_or(0);
    head.splice(at..at, auth.into_bytes());
    exchange(addr, &head)
}

fn exchange(addr: SocketAddr, head: &[u8]) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(head)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let (status, headers, at) = parse_head(&raw).ok_or_else(|| {
        std::io::Error::other(format!(
            "malformed HTTP response: {}",
            String::from_utf8_lossy(&raw)
        ))
    })?;
    let mut resp = HttpResponse {
        status,
        headers,
        body: raw[at..].to_vec(),
    };
    if resp
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        resp.body = dechunk(&resp.body).0;
    }
    Ok(resp)
}

/// A logged-in operator session against one daemon.
pub struct Api {
    pub addr: SocketAddr,
    pub cookie: String,
}

impl Api {
    pub fn login(addr: SocketAddr) -> Api {
        let body = serde_json::json!({"username": OPERATOR, "password": OPERATOR_PASSWORD});
        let resp = http(addr, "POST", "/api/v1/session", None, Some(&body)).expect("login");
        assert_eq!(
            resp.status,
            200,
            "login: {}",
            String::from_utf8_lossy(&resp.body)
        );
        let cookie = resp
            .header("set-cookie")
            .and_then(|c| c.split(';').next())
            .expect("session cookie")
            .to_string();
        assert!(cookie.starts_with("ecard_session="), "{cookie}");
        Api { addr, cookie }
    }

    pub fn get(&self, path: &str) -> HttpResponse {
        http(self.addr, "GET", path, Some(&self.cookie), None)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub fn post(&self, path: &str, body: &serde_json::Value) -> HttpResponse {
        http(self.addr, "POST", path, Some(&self.cookie), Some(body))
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Whether ecardd lists `reader` with a card in it (and not busy).
    pub fn card_present(&self, reader: &str) -> Option<bool> {
        let v = self.get("/api/v1/readers").json();
        v["readers"]
            .as_array()?
            .iter()
            .find(|r| r["name"] == reader)
            .and_then(|r| r["card_present"].as_bool())
    }

    /// Polls GET /api/v1/readers until `reader` shows `present`.
    pub fn wait_card(&self, reader: &str, present: bool, timeout: Duration) -> Duration {
        let start = Instant::now();
        loop {
            if self.card_present(reader) == Some(present) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < timeout,
                "{reader}: card_present={present} not seen in {timeout:?}; readers: {}",
                String::from_utf8_lossy(&self.get("/api/v1/readers").body)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// `GET /api/v1/events` held open: yields `(event, data)` pairs.
pub struct EventStream {
    stream: TcpStream,
    raw: Vec<u8>,
    text: String,
}

impl EventStream {
    pub fn open(api: &Api) -> EventStream {
        let mut stream = TcpStream::connect(api.addr).expect("connect");
        stream
            .write_all(&request_head(
                api.addr,
                "GET",
                "/api/v1/events",
                Some(&api.cookie),
                None,
            ))
            .expect("send");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut raw = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some((status, headers, at)) = parse_head(&raw) {
                assert_eq!(status, 200, "events: {}", String::from_utf8_lossy(&raw));
                let sse = headers.iter().any(|(k, v)| {
                    k.eq_ignore_ascii_case("content-type") && v.starts_with("text/event-stream")
                });
                assert!(sse, "events is not an event stream: {headers:?}");
                return EventStream {
                    stream,
                    raw: raw[at..].to_vec(),
                    text: String::new(),
                };
            }
            assert!(Instant::now() < deadline, "no answer from /api/v1/events");
            match stream.read(&mut chunk) {
                Ok(0) => panic!("events closed: {}", String::from_utf8_lossy(&raw)),
                Ok(n) => raw.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
    }

    /// The next event within `timeout`; `None` when none came.
    pub fn next(&mut self, timeout: Duration) -> Option<(String, String)> {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 4096];
        loop {
            let (data, used) = dechunk(&self.raw);
            self.raw.drain(..used);
            self.text.push_str(&String::from_utf8_lossy(&data));
            while let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let mut event = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if !data.is_empty() {
                    return Some((event, data));
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.raw.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
    }
}

/// A station of the demo bureau over ecardd's PC/SC readers: its keys, the demo
/// officers approved, a revocation list of the tests' day.
pub fn station(dir: &tempfile::TempDir) -> (Station, Vec<i64>) {
    station_with(dir, StationConfig::default())
}

/// `station` with its configuration given (e.g. the CUPS server it prints through).
pub fn station_with(dir: &tempfile::TempDir, config: StationConfig) -> (Station, Vec<i64>) {
    let store = Arc::new(Store::open(&dir.path().join("station.db"), clock()).expect("store"));
    // A revocation list of today, as the first sync leaves: without one every
    // field check is 无法确认 (ecard_domain::field_check).
    ecard_test_support::revocation_list_of(&store, today());
    let pki = pki();
    let certs = ecard_test_support::approve(&store, &card_profile::demo::officers(issued_on())[..]);
    let trust = pki.trust.clone();
    let station = Station::new(
        store,
        Readers::new(PcscReaders::start(ecardd::ops::DEFAULT_CARD_DEADLINE)),
        StationKeys {
            master: pki.master,
            signer: pki.signer,
        },
        trust,
        config,
    );
    (station, certs)
}

/// Waits until the station's reader list shows `reader` with or without a card.
pub fn wait_reader(station: &Station, reader: &str, card: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if station
            .readers
            .list()
            .iter()
            .any(|r| r.name == reader && r.card_present == card && !r.busy)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{reader}: card_present={card} not seen; readers: {:?}",
        station.readers.list()
    );
}

/// Writes one card through a daemon of `station` (`POST /api/v1/issue` for its first
/// certificate, in `slot`, a blank `ecard-sim` keeping its state in `card_state`),
/// then stops the daemon and takes the card out: what the benches start from.
pub fn write_card_through_daemon(
    harness: &mut hardware_tests::PcscHarness,
    station: &StationFiles,
    card_state: &Path,
    slot: u8,
) -> Result<(), Box<dyn std::error::Error>> {
    let reader = hardware_tests::harness::VPCD_READERS[usize::from(slot)];
    let mut daemon = Daemon::start(station);
    let api = Api::login(daemon.addr);
    let blank = hardware_tests::SimSpec::new(card_state)
        .serial(0xEC00_0000_0000_3001u64.to_be_bytes())
        .master_key(master_key_bytes());
    let card = harness.start_card(slot, blank)?;
    api.wait_card(reader, true, std::time::Duration::from_secs(10));
    let resp = api.post(
        "/api/v1/issue",
        &serde_json::json!({ "certificate_id": station.certificate_ids[0], "reader": reader }),
    );
    if resp.status != 200 {
        return Err(format!("issue: {}", String::from_utf8_lossy(&resp.body)).into());
    }
    card.remove()?;
    daemon.stop();
    Ok(())
}

//! 2,000 stations polling the feed of one real registry process over loopback
//! (issue #15; docs/PERFORMANCE.md, "Registry: 2,000 stations polling the feed").
//!
//! `cargo bench -p ecard-registry --bench feed_poll [-- OPTIONS]` builds and spawns
//! the release `ecard-registry serve` (TLS with the printed certificate pinned, as
//! stations connect; `--plain` for plain HTTP on loopback), enrols the stations
//! through the admin API, has one source station push records that put review and
//! status-change items into the feed, then runs two bounded phases in which every
//! station is a tokio task with its own key and its own `RegistryClient`
//! (connection) and polls, by default back to back (as fast as answers come):
//!
//! - `steady`: from the head of the feed (the everyday poll: nothing new, an empty
//!   signed page);
//! - `catch-up`: from cursor 0, following `next_cursor` page by page (after an
//!   outage, or a station enrolled late).
//!
//! Each station makes at most `--polls` requests per phase, and a phase ends after
//! `--seconds` however far it got (requests in flight finish): the bench stops by
//! itself. It prints, per phase: requests, errors by kind, p50/p90/p99/max latency
//! and requests per second; nothing is asserted about time.
//!
//! Options (defaults): `--stations 2000 --polls 10 --seconds 60 --items 3000
//! --limit 200 --interval-ms 0 --plain --verify --only steady|catch-up` (flags
//! off, both phases). `--registry-open-files N`: start the registry with that soft
//! open-file limit (1024 is systemd's default) to see what it does when it runs
//! out. `--interval-ms N`: each station pauses N ms between polls
//! (stations spread over the first interval), an offered load of about
//! stations × 1000 / N requests per second instead of as many as the registry
//! answers; the pauses are not part of the latencies. `--limit` is ecardd's page size
//! (`ecardd::sync::FEED_PAGE`). `--verify`: check every page's registry signature
//! as a station does (client CPU on the same 2 cores; off, the page is only
//! decoded, to follow its cursor). Environment: `ECARD_BENCH_DATABASE` (`sqlite:PATH`
//! or `postgres://…`) is handed to `serve --database`; unset, a fresh SQLite file is
//! used through `--db`.
#![allow(clippy::unwrap_used)]

use card_profile::pki::{PublicKey, SigningKey};
use ecard_sync_protocol::client::{ClientError, RegistryClient, RegistryTls};
use ecard_sync_protocol::events::{EventBody, StationEvent, MAX_BATCH_EVENTS};
use ecard_sync_protocol::feed::FeedPage;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ecard-registry");

/// The day the bench means (registry and stations alike): never today's date.
fn clock() -> ecard_clock::Clock {
    ecard_clock::Clock::starting_on(chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
}

#[derive(Debug, Clone)]
struct Options {
    stations: usize,
    polls: usize,
    seconds: u64,
    items: usize,
    limit: u32,
    plain: bool,
    verify: bool,
    /// Pause between one station's polls, in ms (0: back to back, the station
    /// asks again as soon as it has its answer). Stations start spread evenly over
    /// one interval.
    interval_ms: u64,
    /// The registry's soft open-file limit (`--registry-open-files N`), e.g. 1024,
    /// systemd's default soft limit; `None`: the bench's own, raised to the hard one.
    registry_open_files: Option<u64>,
    /// `steady`, `catch-up` or both (`None`): one phase alone, e.g. under a profiler.
    only: Option<String>,
}

impl Options {
    fn from_args() -> Self {
        let mut o = Options {
            stations: 2000,
            polls: 10,
            seconds: 60,
            items: 3000,
            limit: 200,
            plain: false,
            verify: false,
            only: None,
            interval_ms: 0,
            registry_open_files: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            let mut number = |name: &str| -> u64 {
                args.next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("{name} needs a number"))
            };
            match a.as_str() {
                "--stations" => o.stations = number("--stations").max(1) as usize,
                "--polls" => o.polls = number("--polls").max(1) as usize,
                "--seconds" => o.seconds = number("--seconds").max(1),
                "--items" => o.items = number("--items") as usize,
                "--interval-ms" => o.interval_ms = number("--interval-ms"),
                "--registry-open-files" => {
                    o.registry_open_files = Some(number("--registry-open-files").max(64))
                }
                "--limit" => o.limit = number("--limit").clamp(1, 500) as u32,
                "--plain" => o.plain = true,
                "--verify" => o.verify = true,
                "--only" => match args.next().as_deref() {
                    Some(p @ ("steady" | "catch-up")) => o.only = Some(p.to_owned()),
                    _ => panic!("--only needs steady or catch-up"),
                },
                // `cargo bench` passes `--bench` to a bench without harness.
                "--bench" => {}
                other => panic!("unknown option {other}"),
            }
        }
        o
    }
}

/// The registry process and its files.
struct Registry {
    child: Child,
    url: String,
    tls: RegistryTls,
    admin_token: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// `open_files`: the soft limit the process starts with (a child inherits the
    /// bench's limits: it is set for the spawn and raised again after it).
    fn start(plain: bool, open_files: Option<u64>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        match std::env::var("ECARD_BENCH_DATABASE") {
            Ok(db) if !db.trim().is_empty() => cmd.args(["--database", db.trim()]),
            _ => cmd.arg("--db").arg(p("registry.db")),
        };
        cmd.arg("--key-file")
            .arg(p("registry-key.p8"))
            .arg("--admin-token-file")
            .arg(p("admin.token"))
            .arg("--tls-cert")
            .arg(p("tls.crt"))
            .arg("--tls-key")
            .arg(p("tls.key"));
        if plain {
            cmd.arg("--insecure-loopback-http");
        }
        let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        if let Some(n) = open_files {
            rlimit::setrlimit(rlimit::Resource::NOFILE, n.min(hard), hard).unwrap();
        }
        let spawned = cmd
            .env("RUST_LOG", "warn")
            .env(ecard_clock::TODAY_ENV, clock().env_value())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        rlimit::setrlimit(rlimit::Resource::NOFILE, soft, hard).unwrap();
        let mut child = spawned.unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let (mut url, mut tls) = (String::new(), RegistryTls::InsecureLoopbackHttp);
        let mut line = String::new();
        while url.is_empty() {
            line.clear();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "registry exited before listening"
            );
            let line = line.trim();
            if let Some(pin) = line.strip_prefix("ecard-registry tls certificate sha256: ") {
                tls = RegistryTls::from_setting(pin).unwrap();
            }
            if let Some(u) = line.strip_prefix("ecard-registry listening: ") {
                url = u.trim_end_matches('/').to_owned();
            }
        }
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        let admin_token = std::fs::read_to_string(p("admin.token"))
            .unwrap()
            .trim()
            .to_owned();
        Self {
            child,
            url,
            tls,
            admin_token,
            _dir: dir,
        }
    }

    /// `VmRSS` and `Threads` of the registry process, from /proc.
    fn memory_and_threads(&self) -> (String, String) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map_or_else(|| "?".to_owned(), |v| v.trim().to_owned())
        };
        (field("VmRSS:"), field("Threads:"))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The numbers of the shipped rule in region 川X01, department 02 (as the registry's
/// tests use): a station of region 川X may introduce them.
fn numbers(n: usize) -> Vec<String> {
    let rule = ecard_domain::numbering::NumberingRule::sichuan_default().unwrap();
    let mut out = Vec::with_capacity(n);
    let mut last = None;
    while out.len() < n {
        let number = rule.next_number("川X01", "02", last).unwrap();
        last = Some(rule.parse(&number).unwrap().serial);
        out.push(number);
    }
    out
}

/// The source station's outbox: per certificate a card issued (no feed item) and
/// an annual review (a feed item for every other station); every second
/// certificate then cancelled (a feed item and revocation-list entries). About
/// `items` feed items in all.
fn source_events(items: usize) -> Vec<StationEvent> {
    let certificates = items.div_ceil(3) * 2;
    let mut bodies = Vec::new();
    for (i, number) in numbers(certificates).into_iter().enumerate() {
        bodies.push((
            "card_issued",
            json!({"number": number, "serial": format!("{:016X}", i + 1), "chip_key": "04".repeat(65),
                   "sod": "30".repeat(1000), "issued_on": "2026-11-02", "id_number": "11010519491231002X"}),
        ));
        bodies.push((
            "review_recorded",
            json!({"number": number, "year": 2026, "date": "2026-11-20", "result": "passed", "remark": "合格"}),
        ));
        if i % 2 == 1 {
            bodies.push((
                "status_changed",
                json!({"number": number, "kind": "cancel", "reason": "调离",
                       "detail": {"destination": "成都"}, "effective_on": "2026-11-22", "new_number": null}),
            ));
        }
    }
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, (kind, payload))| {
            let seq = i as u64 + 1;
            let body = EventBody::decode(kind, &payload).unwrap();
            StationEvent::new(
                format!("src-{seq:08}"),
                seq,
                &body,
                "2026-11-22T10:00:00.000Z",
            )
        })
        .collect()
}

/// Enrols the stations through the admin API (`POST /api/v1/admin/stations`), a
/// few at a time; returns a client (with its own key) for each, in order.
async fn enrol(reg: &Registry, ids: Vec<(String, Option<&'static str>)>) -> Vec<RegistryClient> {
    let http = ecard_sync_protocol::client::http_client(&reg.url, reg.tls).unwrap();
    let (url, token, tls) = (reg.url.clone(), reg.admin_token.clone(), reg.tls);
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for (i, (id, region)) in chunk.iter().cloned().enumerate() {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            set.spawn(async move {
                let key = Arc::new(SigningKey::generate().unwrap());
                let resp = http
                    .post(format!("{url}/api/v1/admin/stations"))
                    .bearer_auth(&token)
                    .json(&json!({"id": id, "public_key": hex::encode(key.public_key()), "region": region}))
                    .send()
                    .await
                    .unwrap();
                let status = resp.status();
                assert_eq!(status, 201, "{}", resp.text().await.unwrap_or_default());
                (i, id, key)
            });
        }
        let mut done: Vec<_> = set.join_all().await;
        done.sort_by_key(|d| d.0);
        for (_, id, key) in done {
            out.push(RegistryClient::new(&url, &id, key, clock(), tls).unwrap());
        }
    }
    out
}

/// What one station saw in one phase.
#[derive(Default)]
struct Tally {
    /// Microseconds per successful request; the first request of the phase apart
    /// (in `steady` it opens the connection: TCP, and the TLS handshake).
    first: Vec<u64>,
    later: Vec<u64>,
    errors: BTreeMap<String, u64>,
    /// Latency of failed requests too (a refusal or a timeout also takes time).
    failed: Vec<u64>,
    items: u64,
}

fn error_kind(e: &ClientError) -> String {
    match e {
        ClientError::Transport(t) if t.is_timeout() => "transport: timeout".into(),
        ClientError::Transport(t) if t.is_connect() => "transport: connect".into(),
        ClientError::Transport(_) => "transport: other".into(),
        ClientError::Refused { status, code, .. } => format!("refused: {status} {code}"),
        ClientError::Protocol(p) => format!("bad answer: {p}"),
        other => format!("client: {other}"),
    }
}

/// One station's polls: at most `polls`, none started after `deadline`.
async fn station_polls(
    client: RegistryClient,
    start: u64,
    follow: bool,
    o: Arc<Options>,
    key: PublicKey,
    deadline: Instant,
    offset: Duration,
) -> Tally {
    let mut t = Tally::default();
    let mut cursor = start;
    let interval = Duration::from_millis(o.interval_ms);
    tokio::time::sleep(offset).await;
    for n in 0..o.polls {
        if n > 0 {
            tokio::time::sleep(interval).await;
        }
        if Instant::now() >= deadline {
            break;
        }
        let began = Instant::now();
        let got: Result<FeedPage, ClientError> = if o.verify {
            client.feed(cursor, o.limit, &key).await
        } else {
            match client.feed_signed(cursor, o.limit).await {
                Ok((signed, _)) => FeedPage::decode(signed.body.as_bytes()).map_err(Into::into),
                Err(e) => Err(e),
            }
        };
        let micros = began.elapsed().as_micros() as u64;
        match got {
            Ok(page) => {
                if n == 0 {
                    t.first.push(micros);
                } else {
                    t.later.push(micros);
                }
                t.items += page.items.len() as u64;
                if follow {
                    // Once caught up (`has_more` false) this is the head: later
                    // polls are steady ones.
                    cursor = page.next_cursor.max(cursor);
                }
            }
            Err(e) => {
                *t.errors.entry(error_kind(&e)).or_default() += 1;
                t.failed.push(micros);
            }
        }
    }
    t
}

fn pct(sorted: &[u64], p: f64) -> String {
    if sorted.is_empty() {
        return "–".into();
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    ms(sorted[i])
}

fn ms(micros: u64) -> String {
    format!("{:.1} ms", micros as f64 / 1000.0)
}

fn row(name: &str, mut v: Vec<u64>) -> String {
    v.sort_unstable();
    format!(
        "| {name} | {} | {} | {} | {} | {} |",
        v.len(),
        pct(&v, 0.50),
        pct(&v, 0.90),
        pct(&v, 0.99),
        v.last().map_or("–".into(), |m| ms(*m)),
    )
}

/// Runs one phase with every station at once and prints its table.
async fn phase(
    name: &str,
    clients: &[RegistryClient],
    start: u64,
    follow: bool,
    o: &Arc<Options>,
    key: PublicKey,
    reg: &Registry,
) {
    let began = Instant::now();
    let deadline = began + Duration::from_secs(o.seconds);
    let mut set = tokio::task::JoinSet::new();
    for (i, c) in clients.iter().enumerate() {
        let offset = Duration::from_millis(o.interval_ms * i as u64 / clients.len() as u64);
        set.spawn(station_polls(
            c.clone(),
            start,
            follow,
            o.clone(),
            key,
            deadline,
            offset,
        ));
    }
    let tallies = set.join_all().await;
    let secs = began.elapsed().as_secs_f64();
    let (rss, threads) = reg.memory_and_threads();
    let mut all = Tally::default();
    for t in tallies {
        all.first.extend(t.first);
        all.later.extend(t.later);
        all.failed.extend(t.failed);
        all.items += t.items;
        for (k, n) in t.errors {
            *all.errors.entry(k).or_default() += n;
        }
    }
    let ok = all.first.len() + all.later.len();
    let requests = ok + all.failed.len();
    println!(
        "\n## {name}: {} stations, ≤ {} polls each {}, ≤ {} s, limit {}, {}",
        clients.len(),
        o.polls,
        if o.interval_ms == 0 {
            "back to back".to_owned()
        } else {
            format!("{} ms apart", o.interval_ms)
        },
        o.seconds,
        o.limit,
        if o.verify {
            "pages verified"
        } else {
            "pages decoded, not verified"
        }
    );
    println!(
        "{requests} requests in {secs:.2} s: {:.0} req/s, {ok} answered, {} failed; {} feed items received; registry VmRSS {rss}, threads {threads}",
        requests as f64 / secs,
        all.failed.len(),
        all.items
    );
    println!("| requests | n | p50 | p90 | p99 | max |\n| --- | --- | --- | --- | --- | --- |");
    let mut every: Vec<u64> = all.first.iter().chain(&all.later).copied().collect();
    every.extend(&all.failed);
    println!("{}", row("all", every));
    println!("{}", row("first of each station", all.first));
    println!("{}", row("later", all.later));
    if !all.failed.is_empty() {
        println!("{}", row("failed", all.failed));
    }
    if all.errors.is_empty() {
        println!("errors: none");
    }
    for (k, n) in &all.errors {
        println!("errors: {n} × {k}");
    }
}

/// Which database the registry uses, for the report: a URL's scheme only (it may
/// carry a password).
fn database_shown() -> String {
    match std::env::var("ECARD_BENCH_DATABASE") {
        Ok(db) if db.contains("://") => {
            format!("{}://…", db.split("://").next().unwrap_or_default())
        }
        Ok(db) if !db.trim().is_empty() => db,
        _ => "SQLite file, --db".into(),
    }
}

/// Raises the soft descriptor limit to the hard one: every station holds a
/// connection (the registry, a child, inherits the raised limit and holds the
/// other ends).
fn raise_fd_limit(stations: usize) {
    let need = stations as u64 * 2 + 256;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(now) if now < need => eprintln!(
            "warning: open-file limit {now} < {need} for {stations} stations; raise the hard limit (ulimit -Hn)"
        ),
        Ok(_) => {}
        Err(e) => eprintln!("warning: could not raise the open-file limit: {e}"),
    }
}

fn main() {
    let o = Arc::new(Options::from_args());
    raise_fd_limit(o.stations);
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    let reg = Registry::start(o.plain, o.registry_open_files);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let t = Instant::now();
        let mut ids: Vec<(String, Option<&'static str>)> = vec![("source".into(), Some("川X"))];
        // Polling stations of no region: they see every item meant for all.
        ids.extend((0..o.stations).map(|i| (format!("st-{i:05}"), None)));
        let mut clients = enrol(&reg, ids).await;
        let source = clients.remove(0);
        let enrolled = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let events = source_events(o.items);
        let mut refused = 0;
        for chunk in events.chunks(MAX_BATCH_EVENTS) {
            refused += source.push_events(chunk.to_vec()).await.unwrap().refused.len();
        }
        assert_eq!(refused, 0, "the source station's events were refused");
        let pushed = t.elapsed().as_secs_f64();

        let key = clients[0].registry_key().await.unwrap().public_key().unwrap();
        // A probe walks the whole feed once, verified: where its head is and how
        // many items a station sees.
        let (mut head, mut seen) = (0, 0);
        loop {
            let page = clients[0].feed(head, 500, &key).await.unwrap();
            seen += page.items.len();
            head = page.next_cursor;
            if !page.has_more {
                break;
            }
        }
        println!(
            "registry pid {} at {} ({}), open-file limit {soft}/{hard} (registry: {}); {} stations enrolled through the admin API in {enrolled:.1} s; source pushed {} events in {pushed:.1} s; feed: {seen} items for a station, head cursor {head}",
            reg.child.id(),
            reg.url,
            database_shown(),
            o.registry_open_files.map_or("the same".to_owned(), |n| format!("{n} soft")),
            clients.len(),
            events.len(),
        );
        if o.only.as_deref() != Some("catch-up") {
            phase("steady (from the head)", &clients, head, false, &o, key, &reg).await;
        }
        if o.only.as_deref() != Some("steady") {
            phase("catch-up (from cursor 0)", &clients, 0, true, &o, key, &reg).await;
        }
    });
}

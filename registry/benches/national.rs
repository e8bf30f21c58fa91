//! A registry at national scale (issue #15): 3,000,000 certificates, in process
//! (no HTTP), on SQLite or PostgreSQL (docs/PERFORMANCE.md, "Registry at national
//! scale (#15)").
//!
//! `cargo bench -p ecard-registry --bench national -- [--certificates N]
//! [--applications M] [--reviews K] [--runs R]`; `ECARD_BENCH_DATABASE=postgres://…/db`
//! (an empty database made `LC_COLLATE 'C'`) for PostgreSQL, a temporary SQLite
//! file otherwise.
//!
//! 1. `Storage::open_url` makes the schema; the bench's stations and the city
//!    account are made through `Storage`.
//! 2. The bulk rows are seeded with one portable SQL text per table through
//!    `storage::db::Conn` (a recursive CTE, one transaction): N certificates
//!    (origin: station `bench`) each with one card (a 65-byte chip key, a 1,000-byte
//!    SOD); 2 % of them cancelled, with a number entry and a serial entry on the
//!    revocation list, spread over 1,000 list numbers issued evenly over two years;
//!    N feed items (last year's review season: one `review_recorded` notice per
//!    certificate, from 21 city stations); M applications over 420 units of 21
//!    cities, one in ten still pending.
//! 3. Reopened with `Storage::open_url`, each read is timed `--runs` times (the
//!    median is printed); then K `review_recorded` events of the March review
//!    season are ingested by `workflow::service::ingest` (what `POST /sync/v1/events`
//!    runs) in batches of `MAX_BATCH_EVENTS`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use ecard_registry::storage::db::{params, Conn, DatabaseUrl, TxKind};
use ecard_registry::storage::{Role, Storage};
use ecard_sync_protocol::events::{EventBody, StationEvent, MAX_BATCH_EVENTS};
use ecard_sync_protocol::feed::{FeedBody, ReviewNotice, DEFAULT_FEED_LIMIT, MAX_FEED_LIMIT};
use std::time::{Duration, Instant};

/// Lists issued evenly over two years: a station one week behind is this many
/// list numbers behind (1,000 × 7 / 730).
const LISTS: i64 = 1000;
const LISTS_PER_WEEK: u64 = 10;
const CITIES: i64 = 21;
const UNITS_PER_CITY: i64 = 20;

/// The bench's day: the middle of the March review season (never today's date).
fn clock() -> ecard_clock::Clock {
    ecard_clock::Clock::frozen_on(NaiveDate::from_ymd_opt(2027, 3, 15).unwrap())
}

struct Args {
    certificates: i64,
    applications: i64,
    reviews: u64,
    runs: usize,
}

fn args() -> Args {
    let mut a = Args {
        certificates: 3_000_000,
        applications: 0,
        reviews: 100_000,
        runs: 5,
    };
    let mut it = std::env::args().skip(1);
    let mut applications = None;
    while let Some(arg) = it.next() {
        let mut value = || -> u64 {
            it.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or_else(|| panic!("{arg} takes a number"))
        };
        match arg.as_str() {
            "--certificates" => a.certificates = value() as i64,
            "--applications" => applications = Some(value() as i64),
            "--reviews" => a.reviews = value(),
            "--runs" => a.runs = value().max(1) as usize,
            // `cargo bench` passes `--bench`.
            _ => {}
        }
    }
    // A year's intake by default: 2 % of the certificates.
    a.applications = applications.unwrap_or(a.certificates / 50);
    a.reviews = a.reviews.min(a.certificates as u64);
    a
}

/// Number `i` of the bench (1-based): `川Z` and eight digits. Not a number of the
/// shipped rule: the certificates' origin is the reviewing station, which is what
/// lets it review them (`authority::owns_number`).
fn number(i: i64) -> String {
    format!("川Z{}", 10_000_000 + i)
}
const NUMBER_SQL: &str = "'川Z' || CAST(10000000 + i AS TEXT)";

fn form_json() -> String {
    let form = ecard_registry::form::ApplicationForm {
        replaces: None,
        reissues: None,
        name: "张三".into(),
        id_number: "11010519850601002X".into(),
        ethnicity: "汉族".into(),
        certificate_kind: card_profile::records::CertificateKind::Enforcement,
        posts: "1、2".into(),
        category: "教育".into(),
        area: "成都市".into(),
        entrusting_authority: None,
        entrusting_nature: None,
        valid_from: None,
        valid_until: None,
        announced_on: NaiveDate::from_ymd_opt(2026, 9, 1),
        exam_category: Some("综合法律知识考试".into()),
        law_exam_on: NaiveDate::from_ymd_opt(2026, 7, 20),
        law_exam_score: Some(78),
        specialty_exam_on: None,
        specialty_exam_score: None,
        org_nature: Some("行政机关".into()),
        staffing: Some(ecard_domain::eligibility::Staffing::CivilServant),
        position: Some("科员".into()),
        holds_national_certificate: false,
        number: None,
        photo_jpeg: None,
    };
    serde_json::to_string(&form).unwrap()
}

/// Region code of city `c` (0-based): 川A, 川B, ….
const CITY_SQL: &str = "'川' || substr('ABCDEFGHIJKLMNOPQRSTU', CAST(c AS INTEGER) + 1, 1)";

fn review_event(seq: u64, i: i64) -> (StationEvent, EventBody) {
    let payload = serde_json::json!({
        "number": number(i), "year": 2026, "date": "2027-03-10", "result": "passed", "remark": null});
    let body = EventBody::decode("review_recorded", &payload).unwrap();
    let ev = StationEvent::new(
        format!("rv{seq:012}"),
        seq,
        &body,
        "2027-03-10T09:00:00.000Z",
    );
    (ev, body)
}

/// Seeds the bulk rows in one transaction; returns the time per table.
fn seed(conn: &Conn, a: &Args) -> Vec<(&'static str, Duration)> {
    let n = a.certificates;
    let at = "2026-06-01T08:00:00.000Z";
    let chip_key = "04".repeat(65);
    // Random bytes, as a signature-bearing SOD is: a repeated pattern would be
    // compressed away by PostgreSQL's TOAST and make its database look smaller.
    let mut sod = [0u8; 1000];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut sod).unwrap();
    let sod = hex::encode_upper(sod);
    let data_json = serde_json::json!({
        "number": "川Z10000000", "kind": "enforcement", "issuer": "四川省司法厅",
        "category": "教育", "area": "成都市", "posts": "1、2",
        "valid_from": "2024-09-01", "valid_until": "2029-08-31"})
    .to_string();
    let review_body = serde_json::to_string(&FeedBody::ReviewRecorded(ReviewNotice {
        review: last_years_review(),
        origin: "st0".into(),
    }))
    .unwrap();
    let mut times = Vec::new();
    let mut step =
        |name: &'static str, sql: &str, params: &[&dyn ecard_registry::storage::db::ToValue]| {
            let t = Instant::now();
            let rows = conn
                .execute(sql, params)
                .unwrap_or_else(|e| panic!("seeding {name}: {e}"));
            let d = t.elapsed();
            eprintln!("  {name}: {rows} rows, {:.1} s", d.as_secs_f64());
            times.push((name, d));
        };
    conn.begin(TxKind::Write).unwrap();
    step(
        "certificates",
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO certificates (number, id_number, data_json, state, origin, created_at, updated_at)
             SELECT {NUMBER_SQL}, CAST(510100000000000000 + i AS TEXT), ?2,
                    CASE WHEN i % 50 = 0 THEN 'cancelled' ELSE 'issued' END, 'bench', ?3, ?3
             FROM n"
        ),
        params![n, data_json, at],
    );
    step(
        "cards",
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO cards (serial, number, chip_key, sod, issued_on, station_id, state)
             SELECT CAST(1000000000000000 + i AS TEXT), {NUMBER_SQL}, ?2, ?3, '2024-09-01', 'bench',
                    CASE WHEN i % 50 = 0 THEN 'revoked' ELSE 'live' END
             FROM n"
        ),
        params![n, chip_key, sod],
    );
    // List k is issued (k - 1) × 730 / 1000 days after 2025-03-15 (two years to
    // the bench's day); entries of certificate i go to list 1 + (i - 1) × 1000 / N.
    step(
        "revocation_lists",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO revocation_lists (number, issued_at) SELECT i, ?2 FROM n",
        params![LISTS, at],
    );
    for (kind, value) in [
        ("number", NUMBER_SQL.to_owned()),
        ("serial", "CAST(1000000000000000 + i AS TEXT)".to_owned()),
    ] {
        step(
            if kind == "number" {
                "revocations (numbers)"
            } else {
                "revocations (serials)"
            },
            &format!(
                "WITH RECURSIVE n(i) AS (SELECT 50 UNION ALL SELECT i + 50 FROM n WHERE i + 50 <= ?1)
                 INSERT INTO revocations (kind, value, reason, since, added_in)
                 SELECT ?2, {value}, '调离', '2026-01-01', 1 + (CAST(i AS BIGINT) - 1) * ?3 / ?1 FROM n"
            ),
            params![n, kind, LISTS],
        );
    }
    step(
        "feed",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO feed (kind, region, origin, body_json, created_at)
         SELECT 'review_recorded', NULL, 'st' || CAST(i % 21 AS TEXT), ?2, ?3 FROM n",
        params![n, review_body, at],
    );
    step(
        "units",
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1),
                  u(i, c) AS (SELECT i, (i - 1) / ?2 FROM n)
             INSERT INTO units (id, name, region, department, province_level, created_at)
             SELECT i, '单位' || CAST(i AS TEXT), {CITY_SQL} || CAST(10 + i % 9 AS TEXT),
                    CAST(10 + i % 30 AS TEXT), 0, ?3 FROM u"
        ),
        params![CITIES * UNITS_PER_CITY, UNITS_PER_CITY, at],
    );
    step(
        "applications",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO applications (unit_id, form_json, state, round, created_at, updated_at)
         SELECT 1 + i % ?2, ?3, CASE WHEN i % 10 = 0 THEN 'submitted' ELSE 'approved' END,
                CASE WHEN i % 10 = 0 THEN 0 ELSE 1 END, ?4, ?4 FROM n",
        params![a.applications, CITIES * UNITS_PER_CITY, form_json(), at],
    );
    // One known document signer, as any registry that has seen a card has: without
    // one, `Storage` reads every card's SOD at start to learn them.
    step(
        "document_signers",
        "INSERT INTO document_signers (key_id, kid, certificate, subject, station_id, seen_at)
         VALUES ('00', '00', '7F21', 'bench', 'bench', ?1)",
        params![at],
    );
    let t = Instant::now();
    conn.commit().unwrap();
    times.push(("commit", t.elapsed()));
    times
}

/// The review of 2025 (last year's season) that the seeded feed items carry.
fn last_years_review() -> ecard_sync_protocol::events::ReviewRecorded {
    let payload = serde_json::json!({
        "number": number(1), "year": 2025, "date": "2026-03-10", "result": "passed", "remark": null});
    match EventBody::decode("review_recorded", &payload).unwrap() {
        EventBody::ReviewRecorded(r) => r,
        other => panic!("decoded as {other:?}"),
    }
}

fn median(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::with_capacity(runs);
    let mut out = 0;
    for _ in 0..runs {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], out)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn database_bytes(conn: &Conn, url: &DatabaseUrl) -> u64 {
    match url {
        DatabaseUrl::Sqlite(p) => {
            let size = |suffix: &str| {
                std::fs::metadata(format!("{}{suffix}", p.display()))
                    .map(|m| m.len())
                    .unwrap_or(0)
            };
            size("") + size("-wal")
        }
        DatabaseUrl::Postgres(_) => {
            let n: i64 = conn
                .query_row(
                    "SELECT pg_database_size(current_database())",
                    params![],
                    |r| r.get(0),
                )
                .unwrap();
            n.max(0) as u64
        }
    }
}

fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(
        &std::env::var("ECARD_BENCH_DATABASE")
            .unwrap_or_else(|_| format!("sqlite:{}", dir.path().join("registry.db").display())),
    )
    .unwrap();
    let backend = if matches!(url, DatabaseUrl::Postgres(_)) {
        "postgresql"
    } else {
        "sqlite"
    };
    println!(
        "{backend}: {} certificates, {} applications, {} reviews pushed, median of {} runs",
        a.certificates, a.applications, a.reviews, a.runs
    );

    // 1. The schema, the stations and the city's account, through Storage.
    let account = {
        let s = Storage::open_url(&url, clock()).unwrap();
        s.add_station("bench", "04", Some("川Z")).unwrap();
        for c in 0..CITIES {
            let region = format!("川{}", (b'A' + c as u8) as char);
            s.add_station(&format!("st{c}"), "04", Some(&region))
                .unwrap();
        }
        s.add_account(
            "chengdu-city",
            Role::City,
            None,
            Some("川A"),
            "成都市司法局",
            "bench-token-digest",
        )
        .unwrap()
    };

    // 2. The bulk rows.
    let conn = match &url {
        DatabaseUrl::Sqlite(p) => {
            let c = rusqlite::Connection::open(p).unwrap();
            c.pragma_update(None, "journal_mode", "WAL").unwrap();
            Conn::sqlite(c)
        }
        DatabaseUrl::Postgres(u) => Conn::postgres(u).unwrap(),
    };
    eprintln!("seeding:");
    let t = Instant::now();
    let times = seed(&conn, &a);
    let seeding = t.elapsed();
    if let DatabaseUrl::Postgres(_) = url {
        // What autovacuum would do soon after such a load: the planner's statistics.
        let t = Instant::now();
        conn.execute_batch("ANALYZE").unwrap();
        eprintln!("  ANALYZE: {:.1} s", t.elapsed().as_secs_f64());
    } else {
        // Fold the WAL into the file so the size below is the database's.
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }
    let bytes = database_bytes(&conn, &url);
    println!(
        "seed: {:.1} s in one transaction ({}); database {:.2} GB",
        seeding.as_secs_f64(),
        times
            .iter()
            .map(|(n, d)| format!("{n} {:.1} s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", "),
        bytes as f64 / 1e9
    );
    drop(conn);

    // 3. Reopened as the registry opens it.
    let t = Instant::now();
    let s = Storage::open_url(&url, clock()).unwrap();
    println!("open: {}", ms(t.elapsed()));
    let runs = a.runs;

    let (d, entries) = median(runs, || s.revocation_list_full().unwrap().entries.len());
    println!("revocation_list_full: {} ({entries} entries)", ms(d));
    let current = s.revocation_list_number().unwrap();
    let since = current.saturating_sub(LISTS_PER_WEEK);
    let (d, entries) = median(runs, || {
        s.revocation_list_delta(since).unwrap().entries.len()
    });
    println!(
        "revocation_list_delta({since} → {current}, one week): {} ({entries} entries)",
        ms(d)
    );

    // A station one week behind in the feed (a week of last year's season:
    // N × 7 / 30 items after its cursor), a page of the default and of the largest size.
    let top = a.certificates as u64;
    let week_behind = top.saturating_sub(top * 7 / 30);
    let st1 = s.station("st1").unwrap().unwrap();
    for limit in [DEFAULT_FEED_LIMIT, MAX_FEED_LIMIT] {
        let (d, items) = median(runs, || {
            s.feed_page(&st1, week_behind, limit).unwrap().items.len()
        });
        println!(
            "feed_page(st1, a week behind, limit {limit}): {} ({items} items)",
            ms(d)
        );
    }
    // A station at the end of the feed (nothing new): the common poll.
    let (d, items) = median(runs, || {
        s.feed_page(&st1, top, DEFAULT_FEED_LIMIT)
            .unwrap()
            .items
            .len()
    });
    println!(
        "feed_page(st1, up to date, limit {DEFAULT_FEED_LIMIT}): {} ({items} items)",
        ms(d)
    );

    let (d, apps) = median(runs, || {
        ecard_registry::workflow::service::applications(&s, &account)
            .unwrap()
            .len()
    });
    let pending = ecard_registry::workflow::service::applications(&s, &account)
        .unwrap()
        .iter()
        .filter(|r| {
            matches!(
                r.state,
                ecard_registry::storage::AppState::Submitted
                    | ecard_registry::storage::AppState::CountyApproved
            )
        })
        .count();
    println!(
        "applications(city 川A): {} ({apps} applications of the city, {pending} pending; {} in the registry)",
        ms(d),
        a.applications
    );

    // The review season: K reviews of 2026 by station `bench`, as pushed.
    let events: Vec<(StationEvent, EventBody)> = (1..=a.reviews)
        .map(|seq| {
            // Certificate i: every one but the cancelled (i % 50 == 0).
            let i = seq as i64 + (seq as i64 - 1) / 49;
            review_event(seq, i)
        })
        .collect();
    let t = Instant::now();
    let mut applied = 0;
    for batch in events.chunks(MAX_BATCH_EVENTS) {
        let ack = ecard_registry::workflow::service::ingest(&s, "bench", batch).unwrap();
        assert!(ack.refused.is_empty(), "refused: {:?}", ack.refused.first());
        applied += ack.applied;
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(applied, a.reviews);
    let rate = a.reviews as f64 / secs;
    println!(
        "review season: {} review_recorded events ingested in batches of {MAX_BATCH_EVENTS}: {secs:.1} s ({rate:.0} events/s); 3,000,000 reviews at that rate: 3e6 / {rate:.0} = {:.0} min",
        a.reviews,
        3e6 / rate / 60.0
    );
}

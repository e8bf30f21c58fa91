//! The sync client against a real `ecard-registry` process on loopback, with two
//! stations (A and B) that share one desk of simulated readers — a card written at
//! A can be carried to B. Card operations run in process on the stations' databases;
//! the rounds run as real `ecardd sync` processes on those databases (cancel → B,
//! registry down/up, SIGKILL mid-push) or in process (the workflow tests).
#![allow(clippy::unwrap_used)]

mod registry_support;

use card_profile::records::ReviewResult;
use chrono::NaiveDate;
use ecard_sync_protocol::events::{EventBody, ReviewRecorded};
use ecardd::ops::{ReviewRequest, StatusRequest};
use ecardd::readers::sim::SimReaders;
use ecardd::store::{self, CertificateState};
use ecardd::sync;
use registry_support::*;
use std::process::{Command, Stdio};

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_cancelled_at_a_is_refused_at_b_after_b_syncs() {
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0001);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let b = station("station-b", &pki, &desk, &registry, false).await;

    let cert = cert_ids(&a)[0];
    let serial = issue_one(&a, &desk, cert).await;
    round_process(&a).unwrap();
    round_process(&b).unwrap();

    // B sees the card as valid: same bureau keys, nothing revoked yet.
    assert_eq!(standing_at(&b.station, &desk, &serial).await, "有效");

    // A cancels without the card at hand: only the records know.
    a.station
        .change_status(
            "issuer",
            cert,
            &StatusRequest::Cancel {
                occurred_on: None,
                reason: "调离执法岗位".into(),
                destination: "调往档案馆".into(),
            },
            None,
        )
        .await
        .unwrap();
    // Before B syncs, the card still passes B's field check (B cannot know yet).
    assert_eq!(standing_at(&b.station, &desk, &serial).await, "有效");

    let pushed = round_process(&a).unwrap();
    assert!(pushed["pushed"].as_u64().unwrap() >= 1, "{pushed}");
    let pulled = round_process(&b).unwrap();
    assert_eq!(pulled["status_changes"], 1, "{pulled}");
    assert!(pulled["revocation_number"].is_u64(), "{pulled}");

    desk.insert_from_tray(R, &serial).unwrap();
    let v = b.station.verify(R).await.unwrap().verdict;
    assert_eq!(
        ecardd::labels::standing_zh(v.standing),
        "已注销",
        "{:?}",
        v.failures().collect::<Vec<_>>()
    );
    let status = sync::status(&b.station.store, today(), &Default::default()).unwrap();
    assert!(status.configured && status.last_success.is_some() && status.backlog == 0);
    assert_eq!(status.revocation_list_age_days, Some(0));
}

/// A suspension is reversible, so it is not on the revocation list: it reaches B
/// through the feed, B's field check says 已暂停 for a card that itself says active,
/// and the lift reaches B the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_at_a_and_its_lift_reach_the_field_check_at_b() {
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0101);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let b = station("station-b", &pki, &desk, &registry, false).await;
    let cert = cert_ids(&a)[0];
    let serial = issue_one(&a, &desk, cert).await;

    for (request, expected) in [
        (
            StatusRequest::Suspend {
                reason: "立案调查".into(),
            },
            "已暂停",
        ),
        (
            StatusRequest::Lift {
                reason: "调查结束".into(),
            },
            "有效",
        ),
    ] {
        a.station
            .change_status("issuer", cert, &request, None)
            .await
            .unwrap();
        round_process(&a).unwrap();
        let pulled = round_process(&b).unwrap();
        assert_eq!(pulled["status_changes"], 1, "{pulled}");
        assert_eq!(standing_at(&b.station, &desk, &serial).await, expected);
    }
}

/// A status change that arrives through the feed is recorded at the station that
/// holds the card, so the card can be written there when it comes in; it does not go
/// into that station's own filing forms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_from_the_feed_can_be_written_to_the_card_here() {
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0301);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let b = station("station-b", &pki, &desk, &registry, true).await;
    let cert_a = cert_ids(&a)[0];
    let serial = issue_one(&a, &desk, cert_a).await;
    round_process(&a).unwrap();
    // B cancels the same certificate number, without the card.
    let number_of = |s: &StationUnderTest, id: i64| {
        s.station
            .store
            .read(|c| store::certificate(c, id))
            .unwrap()
            .certificate
            .number
    };
    let cert_b = cert_ids(&b)
        .into_iter()
        .find(|id| number_of(&b, *id) == number_of(&a, cert_a))
        .unwrap();
    b.station
        .change_status(
            "issuer",
            cert_b,
            &StatusRequest::Cancel {
                occurred_on: None,
                reason: "调离执法岗位".into(),
                destination: "调往档案馆".into(),
            },
            None,
        )
        .await
        .unwrap();
    round_process(&b).unwrap();
    round_process(&a).unwrap();

    desk.insert_from_tray(R, &serial).unwrap();
    let out = a
        .station
        .write_status_to_card("issuer", cert_a, R)
        .await
        .unwrap();
    assert_eq!(out.written_to.as_deref(), Some(serial.as_str()));
    let v = a.station.verify(R).await.unwrap().verdict;
    assert_eq!(ecardd::labels::standing_zh(v.standing), "已注销");
    assert_eq!(v.life_cycle, card_profile::profile::LifeCycle::Terminated);
    let local: i64 = a
        .station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM status_changes WHERE origin = 'local'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(local, 0, "a change decided at B is not A's own filing");
}

/// Records must reach the provincial system within 10 working days: the sync status
/// ages the oldest unsent record in working days and flags it near the deadline;
/// once delivered, nothing is waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_unsent_record_is_aged_in_working_days() {
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0201);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    issue_one(&a, &desk, cert_ids(&a)[0]).await;
    // Made 7 calendar days before today (a Monday): 5 working days, not at risk.
    let backdate = |days: i64| {
        let on = today() - chrono::Duration::days(days);
        a.station
            .store
            .write("test", |tx| {
                tx.conn().execute(
                    "UPDATE outbox SET created_at = ?1 WHERE sent_at IS NULL",
                    [format!("{on}T09:00:00.000Z")],
                )?;
                Ok(())
            })
            .unwrap();
        on
    };
    let on = backdate(7);
    let s = sync::status(&a.station.store, today(), &Default::default()).unwrap();
    assert!(s.backlog >= 1);
    assert_eq!(s.oldest_unsent_on, Some(on.to_string()));
    assert_eq!(s.oldest_unsent_working_days, Some(5));
    // A configured weekday holiday (province configuration) is not a working day.
    let holidays = [on + chrono::Days::new(2)];
    assert!(!matches!(
        chrono::Datelike::weekday(&holidays[0]),
        chrono::Weekday::Sat | chrono::Weekday::Sun
    ));
    let with_holiday = sync::status(
        &a.station.store,
        today(),
        &ecard_domain::deadlines::Holidays::off_only(&holidays),
    )
    .unwrap();
    assert_eq!(with_holiday.oldest_unsent_working_days, Some(4));
    assert_eq!(s.deadline_working_days, 10);
    assert!(!s.deadline_at_risk);
    // Two weeks: 10 working days, the deadline.
    backdate(14);
    let s = sync::status(&a.station.store, today(), &Default::default()).unwrap();
    assert_eq!(s.oldest_unsent_working_days, Some(10));
    assert!(s.deadline_at_risk);

    round_process(&a).unwrap();
    let s = sync::status(&a.station.store, today(), &Default::default()).unwrap();
    assert_eq!(
        (s.backlog, s.oldest_unsent_on, s.deadline_at_risk),
        (0, None, false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_down_station_works_on_and_every_record_arrives_exactly_once() {
    let (mut registry, pki, desk) = setup(0x5B00_0000_0000_0001);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    round(&a).await.unwrap();

    registry.kill();
    let certs = cert_ids(&a);
    let mut serials = Vec::new();
    for cert in &certs[..3] {
        serials.push(issue_one(&a, &desk, *cert).await);
    }
    desk.insert_from_tray(R, &serials[0]).unwrap();
    a.station
        .review(
            "reviewer",
            &ReviewRequest {
                certificate_id: certs[0],
                year: None,
                result: ReviewResult::Passed,
                remark: None,
                reader: Some(R.into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        ecardd::labels::standing_zh(a.station.verify(R).await.unwrap().verdict.standing),
        "有效"
    );
    desk.eject(R).unwrap();
    a.station
        .change_status(
            "issuer",
            certs[1],
            &StatusRequest::Suspend {
                reason: "调查".into(),
            },
            None,
        )
        .await
        .unwrap();

    // `ecardd sync` says the registry is unreachable (exit 5: retry later).
    let (exit, stderr) = round_process(&a).unwrap_err();
    assert_eq!(exit, 5, "{stderr}");
    assert!(
        stderr.contains("registry_unreachable") && stderr.contains("离线"),
        "{stderr}"
    );
    let err = round(&a).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let st = sync::status(&a.station.store, today(), &Default::default()).unwrap();
    assert!(st.backlog >= 5 && st.last_error.is_some(), "{st:?}");

    registry.restart();
    round_process(&a).unwrap();
    // A second round sends nothing again.
    assert_eq!(round_process(&a).unwrap()["pushed"], 0);
    assert_eq!(
        outbox(&a),
        registry.event_ids("station-a"),
        "every event, once, in order, same content"
    );
    assert_eq!(registry.query_i64("SELECT COUNT(*) FROM cards"), 3);
    assert_eq!(registry.query_i64("SELECT COUNT(*) FROM reviews"), 1);
    assert_eq!(
        registry.query_i64("SELECT COUNT(*) FROM certificates WHERE state = 'suspended'"),
        1
    );
    assert_eq!(
        sync::status(&a.station.store, today(), &Default::default())
            .unwrap()
            .backlog,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecardd_sync_killed_mid_push_loses_and_doubles_nothing() {
    let (registry, pki, desk) = setup(0x5C00_0000_0000_0001);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let cert = cert_ids(&a)[0];
    issue_one(&a, &desk, cert).await;
    // A large backlog of reviews (one per year), so the push takes several batches.
    a.station
        .store
        .write("test", |tx| {
            for year in 0..3000 {
                tx.outbox(&EventBody::ReviewRecorded(ReviewRecorded {
                    number: "川X010001".parse().unwrap(),
                    year: 3000 + year,
                    date: today(),
                    result: ReviewResult::Passed,
                    remark: None,
                }))?;
            }
            Ok(())
        })
        .unwrap();
    let total = outbox(&a).len();
    let sync_cmd = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ecardd"));
        c.env(ecard_clock::TODAY_ENV, clock().env_value());
        c.args(["sync", "--db"])
            .arg(&a.db)
            .arg("--passphrase-file")
            .arg(a.db.with_file_name("pass"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let mut killed_mid = false;
    for delay_ms in [150u64, 300, 600] {
        let mut child = sync_cmd().spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let sent = registry.event_ids(&a.id).len();
        if sent > 0 && sent < total {
            killed_mid = true;
            break;
        }
    }
    let status = sync_cmd().status().unwrap();
    assert!(status.success(), "ecardd sync after the kill");
    assert_eq!(outbox(&a), registry.event_ids(&a.id));
    assert_eq!(
        sync::status(&a.station.store, today(), &Default::default())
            .unwrap()
            .backlog,
        0
    );
    // Not an assertion of timing: say whether this run caught the process mid-push.
    eprintln!("killed mid-push: {killed_mid} ({total} events)");
}

// ---- Issue #6: an officer approved in the registry is written at station B ----

const UNIT: &str = "岳池县教育局";

/// Runs an `ecard-registry` admin command against the registry's database; its
/// stdout is one JSON object.
fn registry_cli(registry: &Registry, args: &[&str]) -> serde_json::Value {
    let out = Command::new(registry_bin())
        .env(ecard_clock::TODAY_ENV, clock().env_value())
        .args(args)
        .arg("--db")
        .arg(registry.db())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Bearer tokens of the unit, the county bureau and the city bureau.
struct Bureaus {
    unit: String,
    county: String,
    city: String,
}

/// A county-level unit of 川X (station B's region) and its three accounts, made
/// with `ecard-registry admin add-unit / add-account`.
fn bureaus(registry: &Registry) -> Bureaus {
    registry_cli(
        registry,
        &[
            "admin",
            "add-unit",
            "--name",
            UNIT,
            "--region",
            "川X04",
            "--department",
            "02",
        ],
    );
    let account = |args: &[&str]| {
        let mut all = vec!["admin", "add-account"];
        all.extend_from_slice(args);
        registry_cli(registry, &all)["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    Bureaus {
        unit: account(&[
            "--username",
            "yc-edu",
            "--role",
            "unit",
            "--unit",
            UNIT,
            "--org-name",
            UNIT,
        ]),
        county: account(&[
            "--username",
            "yc-justice",
            "--role",
            "county",
            "--region",
            "川X04",
            "--org-name",
            "岳池县司法局",
        ]),
        city: account(&[
            "--username",
            "gac-justice",
            "--role",
            "city",
            "--region",
            "川X",
            "--org-name",
            "广安市司法局",
        ]),
    }
}

/// One call to the registry's workflow API; returns (status, JSON body).
async fn workflow(
    registry: &Registry,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = registry
        .http()
        .request(method, format!("{}{path}", registry.url))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// The county reviews, the city decides: returns the centrally allocated number.
async fn county_then_city(registry: &Registry, b: &Bureaus, app: i64) -> String {
    let path = format!("/api/v1/applications/{app}/approve");
    let (s, a) = workflow(registry, &b.county, reqwest::Method::POST, &path, None).await;
    assert_eq!(
        (s, a["state"].as_str()),
        (200, Some("county_approved")),
        "{a}"
    );
    let (s, a) = workflow(registry, &b.city, reqwest::Method::POST, &path, None).await;
    assert_eq!((s, a["state"].as_str()), (200, Some("approved")), "{a}");
    a["number"].as_str().unwrap().to_owned()
}

/// B pulls the order, writes the card at the simulated reader, verifies it, and the
/// next round tells the registry, which then shows the certificate issued.
async fn written_at_b(
    registry: &Registry,
    b: &StationUnderTest,
    desk: &SimReaders,
    number: &str,
    photo: &[u8],
) {
    let pulled = round(b).await.unwrap();
    assert_eq!(pulled.orders, 1, "{pulled:?}");
    let cert = b
        .station
        .store
        .read(|c| store::certificate_by_number(c, &number.parse().unwrap()))
        .unwrap()
        .expect("the approved certificate at B");
    assert_eq!(cert.state, CertificateState::Approved);
    assert_eq!(cert.certificate.unit, UNIT);
    assert_eq!(cert.certificate.issuer, "广安市司法局");
    let stored_photo = b
        .station
        .store
        .read(|c| store::officer_photo(c, cert.officer_id))
        .unwrap();
    assert_eq!(
        stored_photo.as_deref(),
        Some(photo),
        "the photo came with it"
    );

    let serial = issue_one(b, desk, cert.id).await;
    desk.insert_from_tray(R, &serial).unwrap();
    let v = b.station.verify(R).await.unwrap().verdict;
    assert_eq!(
        ecardd::labels::standing_zh(v.standing),
        "有效",
        "{:?}",
        v.failures().collect::<Vec<_>>()
    );
    desk.eject(R).unwrap();

    let pushed = round(b).await.unwrap();
    assert!(pushed.pushed >= 1, "{pushed:?}");
    assert_eq!(
        registry.query_i64(&format!(
            "SELECT COUNT(*) FROM certificates WHERE number = '{number}' AND state = 'issued'"
        )),
        1,
        "the registry shows the certificate issued"
    );
    assert_eq!(
        registry.query_i64(&format!(
            "SELECT COUNT(*) FROM cards WHERE number = '{number}' AND serial = '{serial}' AND station_id = '{}' AND state = 'live'",
            b.id
        )),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roster_imported_at_a_is_approved_in_the_registry_and_written_at_b() {
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0101);
    let bureaus = bureaus(&registry);
    let a = station("station-a", &pki, &desk, &registry, false).await;
    let b = station("station-b", &pki, &desk, &registry, false).await;

    // The official roster template with one new applicant and the photo archive's
    // file (`<ID>.jpg`, ≥ 100 KB, ≥ 402×461), imported at A.
    use ecard_domain::citizen_id::{first17, with_check_digit, CitizenId};
    use ecard_domain::codes::{Ethnicity, PoliticalStatus, PostCode};
    use ecard_domain::roster::{ApplicationKind, Photos, RosterRow};
    let birth = NaiveDate::from_ymd_opt(1985, 3, 14).unwrap();
    let citizen_id = CitizenId::parse(
        &with_check_digit(&first17("511621", birth, 35)).unwrap(),
        today(),
    )
    .unwrap();
    let id_number = citizen_id.to_string();
    let row = RosterRow {
        kind: ApplicationKind::New,
        excel_row: 0,
        county: "岳池县".into(),
        name: "王五".into(),
        unit: UNIT.into(),
        certificate_number: None,
        valid_until: None,
        gender: citizen_id.gender(),
        birth_date: citizen_id.birth_date(),
        citizen_id,
        ethnicity: Ethnicity::parse("汉族").unwrap(),
        political_status: PoliticalStatus::ALL[0],
        valid_from: None,
        education: "大学本科".into(),
        major: "法学".into(),
        rank_code: "020201".into(),
        law_major: true,
        legal_qualification: false,
        posts: vec![PostCode::ByAuthority],
        exam_category: "综合法律知识考试".into(),
        law_exam_on: None,
        law_exam_score: None,
        staffing: None,
        org_nature: None,
        position: None,
        photo: None,
    };
    let xlsx = ecard_domain::forms::roster_xlsx(&[row]).unwrap();
    let portrait = ecard_domain::photo::synthetic::portrait_jpeg(480, 560, 12, 80, 11);
    // Within the shipped (Sichuan) limit: 「100KB以内」.
    assert!(portrait.len() <= 100 * 1024, "{} bytes", portrait.len());
    let files = vec![(format!("{id_number}.jpg"), portrait)];
    let imported = a
        .station
        .import_roster("clerk", &xlsx, Photos::Files(&files))
        .unwrap();
    assert_eq!(imported.imported, 1);
    let chip_photo = a
        .station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT photo_jpeg FROM officers WHERE id_number = ?1",
                [&id_number],
                |r| r.get::<_, Vec<u8>>(0),
            )?)
        })
        .unwrap();

    // A's round pushes `application_submitted`; the registry files it for the unit.
    let pushed = round(&a).await.unwrap();
    assert_eq!(pushed.pushed, 1, "{pushed:?}");
    assert_eq!(
        sync::status(&a.station.store, today(), &Default::default())
            .unwrap()
            .backlog,
        0
    );
    let (s, list) = workflow(
        &registry,
        &bureaus.county,
        reqwest::Method::GET,
        "/api/v1/applications",
        None,
    )
    .await;
    assert_eq!(s, 200, "{list}");
    let apps = list.as_array().unwrap();
    assert_eq!(apps.len(), 1, "{list}");
    assert_eq!(apps[0]["state"], "submitted");
    assert_eq!(apps[0]["unit"], UNIT);
    assert_eq!(apps[0]["form"]["id_number"], id_number.as_str());
    assert_eq!(apps[0]["has_photo"], true);
    let number = county_then_city(&registry, &bureaus, apps[0]["id"].as_i64().unwrap()).await;

    written_at_b(&registry, &b, &desk, &number, &chip_photo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_filed_in_the_registry_is_written_at_b() {
    use base64::Engine;
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0201);
    let bureaus = bureaus(&registry);
    let b = station("station-b", &pki, &desk, &registry, false).await;

    let photo = ecard_domain::photo::downscale_for_chip(
        &ecard_domain::photo::synthetic::portrait_jpeg(480, 560, 12, 80, 12),
    )
    .unwrap();
    let form = serde_json::json!({
        "name": "赵六", "id_number": "11010519850601002X", "ethnicity": "汉族",
        "certificate_kind": "enforcement", "posts": "01", "category": "教育", "area": "岳池县",
        "photo_jpeg": base64::engine::general_purpose::STANDARD.encode(&photo),
    });
    let (s, app) = workflow(
        &registry,
        &bureaus.unit,
        reqwest::Method::POST,
        "/api/v1/applications",
        Some(form),
    )
    .await;
    assert_eq!(
        (s, app["state"].as_str()),
        (201, Some("submitted")),
        "{app}"
    );
    let number = county_then_city(&registry, &bureaus, app["id"].as_i64().unwrap()).await;

    written_at_b(&registry, &b, &desk, &number, &photo).await;
}

// ---- Issue #12: 换证 and 补证 go through review; the registry numbers them ----

/// The registry's application that follows `old` (its `form.replaces` or
/// `form.reissues`), as the county bureau sees it.
async fn application_following(registry: &Registry, b: &Bureaus, old: &str) -> serde_json::Value {
    let (s, list) = workflow(
        registry,
        &b.county,
        reqwest::Method::GET,
        "/api/v1/applications",
        None,
    )
    .await;
    assert_eq!(s, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["form"]["replaces"] == old || a["form"]["reissues"] == old)
        .cloned()
        .unwrap_or_else(|| panic!("no application follows {old}: {list}"))
}

/// A certificate of the registry's, written at A: the unit files, county and city
/// approve, A pulls the order and writes the card.
async fn first_card(
    registry: &Registry,
    b: &Bureaus,
    a: &StationUnderTest,
    desk: &SimReaders,
) -> (String, String) {
    use base64::Engine;
    let photo = ecard_domain::photo::downscale_for_chip(
        &ecard_domain::photo::synthetic::portrait_jpeg(480, 560, 40, 90, 13),
    )
    .unwrap();
    let form = serde_json::json!({
        "name": "钱七", "id_number": "11010519850601002X", "ethnicity": "汉族",
        "certificate_kind": "enforcement", "posts": "01", "category": "教育", "area": "岳池县",
        "photo_jpeg": base64::engine::general_purpose::STANDARD.encode(&photo),
    });
    let (s, app) = workflow(
        registry,
        &b.unit,
        reqwest::Method::POST,
        "/api/v1/applications",
        Some(form),
    )
    .await;
    assert_eq!(s, 201, "{app}");
    let number = county_then_city(registry, b, app["id"].as_i64().unwrap()).await;
    assert_eq!(round(a).await.unwrap().orders, 1);
    let cert = a
        .station
        .store
        .read(|c| store::certificate_by_number(c, &number.parse().unwrap()))
        .unwrap()
        .unwrap();
    let serial = issue_one(a, desk, cert.id).await;
    round(a).await.unwrap();
    (number, serial)
}

/// 补证 then 换证, each made at station A and decided in the registry: A records the
/// old card's end at once and numbers nothing; the county reviews first and the
/// city decides; the registry numbers the new certificate (for the 换证, under the
/// new unit's region and department codes); the approved order comes back to A,
/// linked to the certificate it follows, and the new card is written there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reissue_and_a_replacement_made_at_a_are_reviewed_numbered_centrally_and_written_at_a() {
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0301);
    let bureaus = bureaus(&registry);
    let new_unit = "岳池县卫生健康局";
    registry_cli(
        &registry,
        &[
            "admin",
            "add-unit",
            "--name",
            new_unit,
            "--region",
            "川X04",
            "--department",
            "21",
        ],
    );
    let a = station("station-a", &pki, &desk, &registry, false).await;
    let (n1, lost_serial) = first_card(&registry, &bureaus, &a, &desk).await;
    assert_eq!(n1, "川X04020001");

    // 补证 at A: the number declared void now, with how, when and the 凭证.
    let old = a
        .station
        .store
        .read(|c| store::certificate_by_number(c, &n1.parse().unwrap()))
        .unwrap()
        .unwrap();
    let reissue = StatusRequest::Reissue {
        lost_on: NaiveDate::from_ymd_opt(2026, 11, 10).unwrap(),
        void_declared_how: "四川日报遗失声明".into(),
        void_declared_on: NaiveDate::from_ymd_opt(2026, 11, 12).unwrap(),
        void_reference: "四川日报 2026-11-12 第4版".into(),
        card_returned: false,
    };
    let out = a
        .station
        .change_status("issuer", old.id, &reissue, None)
        .await
        .unwrap();
    assert_eq!(out.state, CertificateState::Void);
    assert!(out.application_id.is_some());
    assert_eq!(standing_at(&a.station, &desk, &lost_serial).await, "已注销");
    let pushed = round(&a).await.unwrap();
    assert_eq!(
        pushed.pushed, 2,
        "the void, then the application: {pushed:?}"
    );
    assert_eq!(
        registry.query_i64(&format!(
            "SELECT COUNT(*) FROM certificates WHERE number = '{n1}' AND state = 'void'"
        )),
        1
    );
    let app = application_following(&registry, &bureaus, &n1).await;
    assert_eq!(app["state"], "submitted");
    assert_eq!(app["unit"], UNIT);
    let n2 = county_then_city(&registry, &bureaus, app["id"].as_i64().unwrap()).await;
    assert_eq!(
        n2, "川X04020002",
        "numbered by the registry, after the old one"
    );

    let pulled = round(&a).await.unwrap();
    assert_eq!(pulled.orders, 1, "{pulled:?}");
    let new = a
        .station
        .store
        .read(|c| store::certificate_by_number(c, &n2.parse().unwrap()))
        .unwrap()
        .expect("the approved 补证 at A");
    assert_eq!(new.state, CertificateState::Approved);
    assert_eq!(new.replaces_id, Some(old.id), "linked to the voided one");
    let reissued_serial = issue_one(&a, &desk, new.id).await;
    assert_eq!(
        standing_at(&a.station, &desk, &reissued_serial).await,
        "有效"
    );

    // 换证 at A: the holder moved to the health bureau; the card is handed back
    // and terminated, the certificate cancelled first, then the application.
    desk.insert_from_tray(R, &reissued_serial).unwrap();
    let replace = StatusRequest::Replace {
        position: None,
        occurred_on: None,
        reason: "调入岳池县卫生健康局".into(),
        unit: Some(new_unit.into()),
        posts: None,
        category: Some("卫生".into()),
        area: None,
        card_returned: true,
    };
    let out = a
        .station
        .change_status("issuer", new.id, &replace, Some(R))
        .await
        .unwrap();
    desk.eject(R).unwrap();
    assert_eq!(out.state, CertificateState::Replaced);
    assert_eq!(out.written_to.as_deref(), Some(reissued_serial.as_str()));
    round(&a).await.unwrap();
    let app = application_following(&registry, &bureaus, &n2).await;
    assert_eq!(app["unit"], new_unit);
    let n3 = county_then_city(&registry, &bureaus, app["id"].as_i64().unwrap()).await;
    assert_eq!(
        n3, "川X04210001",
        "the new unit's region and department codes"
    );

    assert_eq!(round(&a).await.unwrap().orders, 1);
    let moved = a
        .station
        .store
        .read(|c| store::certificate_by_number(c, &n3.parse().unwrap()))
        .unwrap()
        .expect("the approved 换证 at A");
    assert_eq!(moved.certificate.unit, new_unit);
    assert_eq!(moved.certificate.category, "卫生");
    assert_eq!(moved.replaces_id, Some(new.id));
    let serial = issue_one(&a, &desk, moved.id).await;
    assert_eq!(standing_at(&a.station, &desk, &serial).await, "有效");
    assert_eq!(
        standing_at(&a.station, &desk, &reissued_serial).await,
        "已注销"
    );
    round(&a).await.unwrap();
    assert_eq!(
        registry.query_i64(&format!(
            "SELECT COUNT(*) FROM certificates WHERE number = '{n3}' AND state = 'issued'"
        )),
        1
    );
    // The station numbered nothing: every number A holds came from the registry.
    assert_eq!(
        registry.query_i64("SELECT COUNT(*) FROM refused_events"),
        0,
        "nothing A sent was refused"
    );
}

/// The station sees what the bureaus did with its application: a 补证 made at A is
/// rejected by the county with a reason (退回 at A, with the reason), resubmitted by
/// the unit (待审核 again), then approved (已批准, the order arrives).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_sees_its_application_returned_with_the_reason_then_approved() {
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0401);
    let bureaus = bureaus(&registry);
    let a = station("station-a", &pki, &desk, &registry, false).await;
    let (n1, _) = first_card(&registry, &bureaus, &a, &desk).await;
    let old = a
        .station
        .store
        .read(|c| store::certificate_by_number(c, &n1.parse().unwrap()))
        .unwrap()
        .unwrap();
    let reissue = StatusRequest::Reissue {
        lost_on: NaiveDate::from_ymd_opt(2026, 11, 10).unwrap(),
        void_declared_how: "四川日报遗失声明".into(),
        void_declared_on: NaiveDate::from_ymd_opt(2026, 11, 12).unwrap(),
        void_reference: "四川日报 2026-11-12 第4版".into(),
        card_returned: false,
    };
    a.station
        .change_status("issuer", old.id, &reissue, None)
        .await
        .unwrap();
    round(&a).await.unwrap();
    let entry = |a: &StationUnderTest| {
        a.station
            .store
            .read(|c| store::application_entries(c, 10))
            .unwrap()
            .into_iter()
            .find(|e| e.kind == "reissue")
            .unwrap()
    };
    assert_eq!(entry(&a).state, "submitted");

    let app = application_following(&registry, &bureaus, &n1).await;
    let id = app["id"].as_i64().unwrap();
    let (s, r) = workflow(
        &registry,
        &bureaus.county,
        reqwest::Method::POST,
        &format!("/api/v1/applications/{id}/reject"),
        Some(serde_json::json!({"reason": "遗失声明凭证不清晰"})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    round(&a).await.unwrap();
    let e = entry(&a);
    assert_eq!(
        (e.state.as_str(), e.reason.as_deref()),
        ("rejected", Some("遗失声明凭证不清晰"))
    );

    let (s, r) = workflow(
        &registry,
        &bureaus.unit,
        reqwest::Method::POST,
        &format!("/api/v1/applications/{id}/resubmit"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{r}");
    round(&a).await.unwrap();
    assert_eq!(entry(&a).state, "submitted");

    county_then_city(&registry, &bureaus, id).await;
    assert_eq!(round(&a).await.unwrap().orders, 1);
    let e = entry(&a);
    assert_eq!((e.state.as_str(), e.reason), ("approved", None));
}

/// The counted reviews of the card with `serial` at `station`: (year, source) pairs.
async fn counted_at(
    station: &ecardd::ops::Station,
    desk: &SimReaders,
    serial: &str,
) -> Vec<(u16, String)> {
    desk.insert_from_tray(R, serial).unwrap();
    let v = station.verify(R).await.unwrap().verdict;
    desk.eject(R).unwrap();
    v.counted_reviews
        .iter()
        .map(|r| {
            (
                r.year,
                serde_json::to_value(r.source)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

/// A review (年审) recorded at A without the card at hand goes to the registry, and
/// from there through the feed to B: B's field check of the card (which does not
/// carry it) counts it and says it came from the registry. All through a real
/// `ecard-registry` process and real `ecardd sync` rounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_recorded_at_a_reaches_the_field_check_at_b_from_the_registry() {
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0401);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let b = station("station-b", &pki, &desk, &registry, false).await;
    let cert = cert_ids(&a)[0];
    let serial = issue_one(&a, &desk, cert).await;
    round_process(&a).unwrap();
    round_process(&b).unwrap();
    assert_eq!(counted_at(&b.station, &desk, &serial).await, vec![]);

    let year = u16::try_from(chrono::Datelike::year(&today())).unwrap();
    a.station
        .review(
            "reviewer",
            &ReviewRequest {
                certificate_id: cert,
                year: Some(year),
                result: ReviewResult::Passed,
                remark: None,
                reader: None,
            },
        )
        .await
        .unwrap();
    round_process(&a).unwrap();
    let pulled = round_process(&b).unwrap();
    assert_eq!(pulled["reviews"], 1, "{pulled}");
    assert_eq!(
        counted_at(&b.station, &desk, &serial).await,
        vec![(year, "registry".to_owned())]
    );
    // A counts its own record as its own (it never gets its review back).
    assert_eq!(
        counted_at(&a.station, &desk, &serial).await,
        vec![(year, "station".to_owned())]
    );
    let pulled = round_process(&a).unwrap();
    assert_eq!(pulled["reviews"], 0, "{pulled}");
}

/// Applying review items: one recorded at the registry (or elsewhere) is kept by
/// number, whether or not this station holds the certificate, and counted with the
/// source `registry`; the same year again replaces it; an item naming this station
/// as its origin is not applied; a year recorded here stays this station's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_items_from_the_feed_are_stored_by_number_and_said_to_come_from_the_registry() {
    use ecard_sync_protocol::feed::{FeedBody, ReviewNotice};
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0501);
    let b = station("station-b", &pki, &desk, &registry, true).await;
    let cert = cert_ids(&b)[0];
    issue_one(&b, &desk, cert).await;
    let number = b
        .station
        .store
        .read(|c| store::certificate(c, cert))
        .unwrap()
        .certificate
        .number;
    let inject = |year: u16, result: &str, origin: &str| {
        let body = FeedBody::ReviewRecorded(ReviewNotice {
            review: ReviewRecorded {
                number: number.parse().unwrap(),
                year,
                date: today(),
                result: serde_json::from_value(serde_json::json!(result)).unwrap(),
                remark: None,
            },
            origin: origin.to_owned(),
        });
        let c = rusqlite::Connection::open(registry.db()).unwrap();
        c.execute(
            "INSERT INTO feed (kind, region, origin, body_json, created_at) VALUES ('review_recorded', NULL, NULL, ?1, '2026-11-23T00:00:00.000Z')",
            [serde_json::to_string(&body).unwrap()],
        )
        .unwrap();
    };
    let recorded = || {
        b.station
            .store
            .read(|c| store::recorded_reviews(c, &number))
            .unwrap()
            .into_iter()
            .map(|r| (r.year, r.result, r.source))
            .collect::<Vec<_>>()
    };
    use card_profile::verdict::ReviewSource;
    inject(2025, "failed", "registry");
    inject(2025, "passed", "station-c");
    inject(2024, "passed", "station-b");
    let report = round(&b).await.unwrap();
    assert_eq!(report.reviews, 2, "{report:?}");
    assert_eq!(
        recorded(),
        vec![(2025, ReviewResult::Passed, ReviewSource::Registry)],
        "the later item replaced the earlier; the station's own was not applied"
    );
    // A year recorded here is this station's, whatever the feed says of it.
    b.station
        .review(
            "reviewer",
            &ReviewRequest {
                certificate_id: cert,
                year: Some(2026),
                result: ReviewResult::Passed,
                remark: None,
                reader: None,
            },
        )
        .await
        .unwrap();
    inject(2026, "failed", "registry");
    round(&b).await.unwrap();
    assert_eq!(
        recorded(),
        vec![
            (2026, ReviewResult::Passed, ReviewSource::Station),
            (2025, ReviewResult::Passed, ReviewSource::Registry)
        ]
    );
    let audit: i64 = b
        .station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'review.received'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(audit, 3);
}

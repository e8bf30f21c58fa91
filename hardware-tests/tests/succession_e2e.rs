//! 换证 and 补证 end to end, with every part real: an `ecard-registry` process on
//! loopback, an `ecardd serve` process enrolled with it (its own sync loop carries
//! events and orders), and cards in pcscd + vpcd + ecard-sim, driven over HTTP like
//! the web UI and the bureaus' clients do.
//!
//! A card is written at the station; it is lost (补证: the number declared void at
//! once, an application to the registry); the county reviews first, the city
//! decides, the registry numbers it; the order comes back and the new card is
//! written at the station. Then the holder moves unit (换证: the card handed back
//! and terminated, the certificate cancelled first, then the application); the
//! registry numbers it under the NEW unit's codes; the new card is written there.
//!
//! Needs `cargo build --workspace --bins` first; run under `flock /tmp/ecard-hw.lock`.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use ecard_test_support::registry::{RegistryOptions, RegistryProcess};
use hardware_tests::harness::VPCD_READERS;
use hardware_tests::{PcscHarness, SimProcess, SimSpec};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const STATION: &str = "hw-station";
const OLD_UNIT: &str = "演示县农业农村局";
const NEW_UNIT: &str = "演示县卫生健康局";

fn registry_bin() -> PathBuf {
    ecardd_binary().with_file_name("ecard-registry")
}

fn registry_cli(reg: &RegistryProcess, args: &[&str]) -> Value {
    let out = reg.cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn registry_addr(reg: &RegistryProcess) -> SocketAddr {
    reg.url.trim_start_matches("http://").parse().unwrap()
}

/// The registry key id as its operator reads it off the key file (out of band).
fn registry_key_id(reg: &RegistryProcess) -> String {
    let pkcs8 = std::fs::read(reg.dir.path().join("registry-key.p8")).unwrap();
    let key = card_profile::pki::SigningKey::from_pkcs8(&pkcs8).unwrap();
    hex::encode(card_profile::pki::key_id(&key.public_key()))
}

fn bureau(
    reg: &RegistryProcess,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let resp = http_bearer(registry_addr(reg), method, path, token, body).unwrap();
    let status = resp.status;
    (
        status,
        serde_json::from_slice(&resp.body).unwrap_or(Value::Null),
    )
}

/// Polls the county's list until an application follows `old` (the station's
/// sync loop pushes it).
fn application_following(reg: &RegistryProcess, county: &str, old: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, list) = bureau(reg, county, "GET", "/api/v1/applications", None);
        assert_eq!(s, 200, "{list}");
        if let Some(a) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["form"]["replaces"] == old || a["form"]["reissues"] == old)
        {
            return a.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no application follows {old}: {list}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// County first review, city final review: the registry's number.
fn county_then_city(reg: &RegistryProcess, county: &str, city: &str, app: &Value) -> String {
    let path = format!("/api/v1/applications/{}/approve", app["id"]);
    let (s, a) = bureau(reg, city, "POST", &path, Some(&json!({})));
    assert_eq!(
        (s, a["code"].as_str()),
        (409, Some("not_your_turn")),
        "the city does not decide before the county: {a}"
    );
    let (s, a) = bureau(reg, county, "POST", &path, Some(&json!({})));
    assert_eq!(
        (s, a["state"].as_str()),
        (200, Some("county_approved")),
        "{a}"
    );
    let (s, a) = bureau(reg, city, "POST", &path, Some(&json!({})));
    assert_eq!((s, a["state"].as_str()), (200, Some("approved")), "{a}");
    a["number"].as_str().unwrap().to_owned()
}

/// Polls the station until the approved certificate `number` has arrived.
fn arrived(api: &Api, number: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = api.get("/api/v1/certificates?state=approved").json();
        if let Some(c) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["number"] == number)
        {
            return c.clone();
        }
        assert!(Instant::now() < deadline, "{number} never arrived: {list}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn blank(harness: &mut PcscHarness, dir: &Path, serial: u64) -> SimProcess {
    let spec = SimSpec::new(dir.join(format!("card-{serial:016X}.json")))
        .serial(serial.to_be_bytes())
        .master_key(master_key_bytes());
    harness.start_card(0, spec).expect("blank card")
}

fn issue(api: &Api, certificate_id: i64) -> Value {
    api.wait_card(VPCD_READERS[0], true, Duration::from_secs(10));
    let resp = api.post(
        "/api/v1/issue",
        &json!({ "certificate_id": certificate_id, "reader": VPCD_READERS[0] }),
    );
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let v = resp.json();
    assert_eq!(v["standing"], "valid", "{v}");
    v
}

#[test]
fn a_reissue_and_a_replacement_go_through_county_and_city_review_to_new_cards_at_the_station() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().unwrap();
    let station = prepare_station(dir.path(), 3);
    let old_id = station.certificate_ids[2];

    let reg = RegistryProcess::start(
        &registry_bin(),
        clock(),
        RegistryOptions {
            plain_http: true,
            admin_token: true,
            ..RegistryOptions::default()
        },
    );
    let db = station.db.display().to_string();
    let pass = station.passphrase.display().to_string();
    let enrolled = ecardd_cli(&[
        "sync",
        "--json",
        "--db",
        &db,
        "--passphrase-file",
        &pass,
        "enroll",
        "--registry",
        &reg.url,
        "--station-id",
        STATION,
        "--registry-key-id",
        &registry_key_id(&reg),
        "--insecure-loopback-http",
    ]);
    let enrolled: Value = serde_json::from_slice(&enrolled.stdout).unwrap();
    let public_key = enrolled["public_key"].as_str().unwrap();
    registry_cli(
        &reg,
        &[
            "station",
            "add",
            "--name",
            STATION,
            "--public-key",
            public_key,
            "--region",
            "川X",
        ],
    );
    // The old unit numbers under 川X06 + 21 (the demo certificate 川X06210001); the
    // new one, in the same county, under 川X06 + 22.
    registry_cli(
        &reg,
        &[
            "admin",
            "add-unit",
            "--name",
            OLD_UNIT,
            "--region",
            "川X06",
            "--department",
            "21",
        ],
    );
    registry_cli(
        &reg,
        &[
            "admin",
            "add-unit",
            "--name",
            NEW_UNIT,
            "--region",
            "川X06",
            "--department",
            "22",
        ],
    );
    let token = |args: &[&str]| {
        let mut all = vec!["admin", "add-account"];
        all.extend_from_slice(args);
        registry_cli(&reg, &all)["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let county = token(&[
        "--username",
        "ws-justice",
        "--role",
        "county",
        "--region",
        "川X06",
        "--org-name",
        "武胜县司法局",
    ]);
    let city = token(&[
        "--username",
        "ga-justice",
        "--role",
        "city",
        "--region",
        "川X",
        "--org-name",
        "广安市司法局",
    ]);

    let _daemon = Daemon::start_with(&station, &[], &["--sync-interval", "1"]);
    let api = Api::login(_daemon.addr);

    // The first card, written here.
    let first = blank(&mut harness, dir.path(), 0xEC00_0000_0000_2001);
    let written = issue(&api, old_id);
    let lost_serial = written["serial"].as_str().unwrap().to_owned();
    first.remove().unwrap();

    // 补证: the card is lost; the number is void at once, the application goes out.
    let resp = api.post(
        &format!("/api/v1/certificates/{old_id}/status"),
        &json!({ "kind": "reissue", "lost_on": "2026-05-11", "void_declared_how": "四川日报遗失声明",
                 "void_declared_on": "2026-05-13", "void_reference": "四川日报 2026-05-13 第4版",
                 "card_returned": false }),
    );
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let v = resp.json();
    assert_eq!(v["state"], "void");
    assert!(v["application_id"].is_i64(), "{v}");
    let app = application_following(&reg, &county, "川X06210001");
    assert_eq!(app["unit"], OLD_UNIT);
    let n2 = county_then_city(&reg, &county, &city, &app);
    assert_eq!(n2, "川X06210002", "numbered by the registry");
    let new = arrived(&api, &n2);
    let apps = api.get("/api/v1/applications").json();
    assert_eq!(apps[0]["kind_label"], "补证", "{apps}");
    assert_eq!(apps[0]["state_label"], "已批准", "{apps}");
    assert_eq!(apps[0]["follows_number"], "川X06210001", "{apps}");
    let second = blank(&mut harness, dir.path(), 0xEC00_0000_0000_2002);
    let reissued = issue(&api, new["id"].as_i64().unwrap());
    let reissued_serial = reissued["serial"].as_str().unwrap().to_owned();
    let detail = api
        .get(&format!("/api/v1/certificates/{}", new["id"]))
        .json();
    assert_eq!(detail["replaces_id"], old_id, "{detail}");

    // 换证: the holder moves to the health bureau; the card (still in the reader)
    // is handed back and terminated; then the application.
    let resp = api.post(
        &format!("/api/v1/certificates/{}/status", new["id"]),
        &json!({ "kind": "replace", "reason": "调入演示县卫生健康局", "unit": NEW_UNIT,
                 "card_returned": true, "reader": VPCD_READERS[0] }),
    );
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let v = resp.json();
    assert_eq!(v["state"], "replaced");
    assert_eq!(v["written_to"], reissued_serial.as_str(), "{v}");
    second.remove().unwrap();
    let app = application_following(&reg, &county, &n2);
    assert_eq!(app["unit"], NEW_UNIT);
    let n3 = county_then_city(&reg, &county, &city, &app);
    assert_eq!(
        n3, "川X06220001",
        "the new unit's region and department codes"
    );
    let moved = arrived(&api, &n3);
    assert_eq!(moved["unit"], NEW_UNIT);
    let third = blank(&mut harness, dir.path(), 0xEC00_0000_0000_2003);
    issue(&api, moved["id"].as_i64().unwrap());
    third.remove().unwrap();

    // The lost card, if it turns up, is not valid.
    let lost = harness
        .start_card(
            0,
            SimSpec::new(dir.path().join(format!("card-{lost_serial}.json"))),
        )
        .expect("the lost card");
    api.wait_card(VPCD_READERS[0], true, Duration::from_secs(10));
    let answer = api.post("/api/v1/verify", &json!({ "reader": VPCD_READERS[0] }));
    assert_eq!(answer.status, 200, "the lost card is read and verified");
    let v = answer.json();
    assert_eq!(v["standing"], "revoked", "{v}");
    lost.remove().unwrap();
}

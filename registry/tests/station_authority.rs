//! A station acts only for its own (docs/SECURITY.md): the real registry binary,
//! three enrolled stations with real keys. Station A (岳池县, 川X04) issues,
//! suspends, reviews and cancels; station B (武胜县, 川X06) and station C (the
//! city, 川X, which serves A's county) try to act on A's records. Every such event
//! is acknowledged, refused with its code, changes nothing and reaches no feed.
#![allow(clippy::unwrap_used)]

mod common;

use common::Registry;
use ecard_registry::storage::db::params;
use ecard_sync_protocol::client::RegistryClient;
use ecard_sync_protocol::events::{EventAck, EventBody, StationEvent};
use reqwest::Method;
use serde_json::{json, Value};

const N1: &str = "川X04020001";
const N2: &str = "川X04020002";
const N3: &str = "川X04020003";
const N5: &str = "川X04020005";
const NB: &str = "川X06020001";
const S1: &str = "00000000000000A1";
const S2: &str = "00000000000000A2";
const S3: &str = "00000000000000A3";
const SB: &str = "00000000000000B1";

fn ev(station: &str, seq: u64, kind: &str, payload: Value) -> StationEvent {
    let body = EventBody::decode(kind, &payload).unwrap();
    StationEvent::new(
        format!("{station}-{seq:04}"),
        seq,
        &body,
        "2026-11-23T10:00:00.000Z",
    )
}

fn issued(station: &str, seq: u64, number: &str, serial: &str) -> StationEvent {
    ev(
        station,
        seq,
        "card_issued",
        json!({"number": number, "serial": serial, "chip_key": "04", "sod": "30",
               "issued_on": "2026-11-23", "id_number": "11010519491231002X"}),
    )
}

fn status(
    station: &str,
    seq: u64,
    number: &str,
    kind: &str,
    new_number: Option<&str>,
) -> StationEvent {
    ev(
        station,
        seq,
        "status_changed",
        json!({"number": number, "kind": kind, "reason": "测试", "detail": {},
               "effective_on": "2026-11-23", "new_number": new_number}),
    )
}

fn review(station: &str, seq: u64, number: &str, year: u16, result: &str) -> StationEvent {
    ev(
        station,
        seq,
        "review_recorded",
        json!({"number": number, "year": year, "date": "2026-11-23", "result": result, "remark": null}),
    )
}

fn voided(station: &str, seq: u64, serial: &str) -> StationEvent {
    ev(
        station,
        seq,
        "card_voided",
        json!({"serial": serial, "reason": "作废", "since": "2026-11-23"}),
    )
}

/// The codes of an answer's refusals, by sequence number.
fn codes(ack: &EventAck) -> Vec<(u64, &str)> {
    ack.refused
        .iter()
        .map(|r| (r.seq, r.code.as_str()))
        .collect()
}

/// Everything a refused event could have changed, as one comparable value.
fn snapshot(reg: &Registry) -> Vec<Vec<String>> {
    let db = reg.open_db();
    let rows = |sql: &str| -> Vec<String> {
        let mut st = db.prepare(sql).unwrap();
        st.query_map(params![], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    vec![
        rows("SELECT serial || ' ' || number || ' ' || station_id || ' ' || state FROM cards ORDER BY serial"),
        rows("SELECT number || ' ' || state || ' ' || origin FROM certificates ORDER BY number"),
        rows("SELECT number || ' ' || year || ' ' || result || ' ' || station_id FROM reviews ORDER BY number, year"),
        rows("SELECT kind || ' ' || value FROM revocations ORDER BY kind, value"),
        rows("SELECT CAST(COUNT(*) AS TEXT) FROM status_changes"),
        rows("SELECT CAST(COUNT(*) AS TEXT) FROM feed"),
    ]
}

async fn feed_len(s: &RegistryClient) -> usize {
    common::feed_of(s, 0, 500).await.unwrap().items.len()
}

#[tokio::test]
async fn a_station_cannot_act_on_another_stations_certificates_cards_or_reviews() {
    let reg = Registry::start();
    let (a, _) = reg.enroll("yuechi", Some("川X04"));
    let (b, _) = reg.enroll("wusheng", Some("川X06"));
    let (c, _) = reg.enroll("guangan-shi", Some("川X"));

    // A's own records, all accepted: three cards, N1 suspended, N2 reviewed, N3 cancelled.
    let ack = a
        .push_events(vec![
            issued("a", 1, N1, S1),
            issued("a", 2, N2, S2),
            issued("a", 3, N3, S3),
            status("a", 4, N1, "suspend", None),
            review("a", 5, N2, 2026, "passed"),
            status("a", 6, N3, "cancel", None),
        ])
        .await
        .unwrap();
    assert_eq!((ack.applied, codes(&ack)), (6, vec![]));
    // B's own card, in its own county: accepted.
    let ack = b.push_events(vec![issued("b", 1, NB, SB)]).await.unwrap();
    assert_eq!((ack.applied, codes(&ack)), (1, vec![]));

    let before = snapshot(&reg);
    let feed_a = feed_len(&a).await;
    let feed_c = feed_len(&c).await;

    // B, outside A's county, on A's records.
    let from_b = vec![
        status("b", 2, N1, "lift", None),
        voided("b", 3, S1),
        status("b", 4, N2, "cancel", None),
        review("b", 5, N2, 2026, "failed"),
        // A number of B's own making (stations never allocate), or a card of one.
        status("b", 6, NB, "reissue", Some(N5)),
        issued("b", 7, N5, "00000000000000B5"),
        // A second claim to a number (made up by the station) and to a serial.
        status("b", 8, NB, "reissue", Some(N2)),
        issued("b", 9, NB, S1),
        // A revoked card back to live.
        status("b", 10, N3, "lift", None),
    ];
    let ack = b.push_events(from_b.clone()).await.unwrap();
    assert_eq!(ack.last_applied_seq, 10, "refused events are acknowledged");
    assert_eq!(ack.applied, 0);
    assert_eq!(
        codes(&ack),
        vec![
            (2, "not_your_certificate"),
            (3, "not_your_card"),
            (4, "not_your_certificate"),
            (5, "not_your_certificate"),
            (6, "number_not_allocated"),
            (7, "not_your_certificate"),
            (8, "number_not_allocated"),
            (9, "serial_claimed"),
            (10, "not_your_certificate"),
        ]
    );
    assert!(ack.refused.iter().all(|r| !r.message.is_empty()));

    // C serves A's county (it receives its orders) but did not suspend N1 or review N2.
    let ack = c
        .push_events(vec![
            status("c", 1, N1, "lift", None),
            review("c", 2, N2, 2026, "failed"),
            status("c", 3, N3, "lift", None),
            issued("c", 4, N3, "00000000000000C3"),
            // Review years that cannot exist.
            review("c", 5, N1, 2027, "passed"),
            review("c", 6, N1, 2025, "passed"),
        ])
        .await
        .unwrap();
    assert_eq!(ack.applied, 0);
    assert_eq!(
        codes(&ack),
        vec![
            (1, "suspension_not_yours"),
            (2, "review_claimed"),
            (3, "certificate_ended"),
            (4, "certificate_ended"),
            (5, "review_year_out_of_range"),
            (6, "review_year_out_of_range"),
        ]
    );

    // A itself cannot bring its cancelled certificate or revoked card back.
    let ack = a
        .push_events(vec![
            status("a", 7, N3, "lift", None),
            issued("a", 8, N3, S3),
            status("a", 9, N3, "suspend", None),
        ])
        .await
        .unwrap();
    assert_eq!(
        codes(&ack),
        vec![
            (7, "certificate_ended"),
            (8, "serial_revoked"),
            (9, "certificate_ended"),
        ]
    );

    // Nothing changed, nothing reached another station's feed.
    assert_eq!(snapshot(&reg), before);
    assert_eq!(feed_len(&a).await, feed_a);
    assert_eq!(feed_len(&c).await, feed_c);

    // A re-sent batch reports its refusals again, and applies nothing.
    let again = b.push_events(from_b).await.unwrap();
    assert_eq!((again.applied, again.duplicates), (0, 9));
    assert_eq!(again.refused.len(), 9);

    // The registry keeps every refusal for its operator.
    let (status_code, list) = reg
        .admin(Method::GET, "/api/v1/admin/refused-events", Value::Null)
        .await;
    assert_eq!(status_code, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 9 + 6 + 3);
    assert!(list
        .iter()
        .any(|r| r["station"] == "wusheng" && r["code"] == "not_your_card" && r["seq"] == 3));

    // What A may do still works: A lifts its own suspension, C (its city) sees it.
    let ack = a
        .push_events(vec![status("a", 10, N1, "lift", None)])
        .await
        .unwrap();
    assert_eq!((ack.applied, codes(&ack)), (1, vec![]));
    assert_eq!(feed_len(&c).await, feed_c + 1);
}

#[tokio::test]
async fn a_station_without_a_region_acts_only_on_what_it_wrote() {
    let reg = Registry::start();
    let (a, _) = reg.enroll("yuechi", Some("川X04"));
    let (d, _) = reg.enroll("no-region", None);
    a.push_events(vec![issued("a", 1, N1, S1)]).await.unwrap();
    let ack = d
        .push_events(vec![
            issued("d", 1, N2, S2),
            status("d", 2, N1, "suspend", None),
            // A card it gave up before issuing it: its own, it may void it.
            voided("d", 3, "00000000000000D1"),
        ])
        .await
        .unwrap();
    assert_eq!(
        codes(&ack),
        vec![(1, "not_your_certificate"), (2, "not_your_certificate")]
    );
    assert_eq!(ack.applied, 1);
    // The voided serial is now D's: A cannot report it as a live card.
    let ack = a
        .push_events(vec![issued("a", 2, N2, "00000000000000D1")])
        .await
        .unwrap();
    assert_eq!(codes(&ack), vec![(2, "serial_claimed")]);
}

/// Numbers have one owner, the registry: a station's change that names a successor
/// number of its own making is refused even inside its own region, and a card for a
/// number the registry holds for another person is refused; both loudly (a code in
/// the answer, a row in the operator's refused-events list), neither recorded.
#[tokio::test]
async fn a_second_claim_to_a_number_is_refused_loudly() {
    let reg = Registry::start();
    let (a, _) = reg.enroll("yuechi", Some("川X04"));
    let (a2, _) = reg.enroll("yuechi-2", Some("川X04"));
    a.push_events(vec![issued("a", 1, N1, S1)]).await.unwrap();
    let before = snapshot(&reg);

    // A 补证 of A's own certificate, with a successor number A made up itself.
    let ack = a
        .push_events(vec![status("a", 2, N1, "reissue", Some(N2))])
        .await
        .unwrap();
    assert_eq!(codes(&ack), vec![(2, "number_not_allocated")]);
    assert!(ack.refused[0].message.contains("登记中心"), "{ack:?}");
    // A second station of the same county writes a card of N1 for someone else.
    let other = ev(
        "a2",
        1,
        "card_issued",
        json!({"number": N1, "serial": "00000000000000A9", "chip_key": "04", "sod": "30",
               "issued_on": "2026-11-23", "id_number": "110105194912310101"}),
    );
    let ack = a2.push_events(vec![other]).await.unwrap();
    assert_eq!(codes(&ack), vec![(1, "number_claimed")]);

    assert_eq!(snapshot(&reg), before, "neither claim changed anything");
    let n2: i64 = reg
        .open_db()
        .query_row(
            "SELECT COUNT(*) FROM certificates WHERE number = ?1",
            params![N2],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n2, 0, "the made-up number is not recorded");
    let (status_code, list) = reg
        .admin(Method::GET, "/api/v1/admin/refused-events", Value::Null)
        .await;
    assert_eq!(status_code, 200);
    let codes_logged: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert!(codes_logged.contains(&"number_not_allocated"), "{list}");
    assert!(codes_logged.contains(&"number_claimed"), "{list}");
}

/// One table of which status change applies to which state
/// (`StatusKind::applies_to`), on both paths into the registry: a station's event
/// and the administrator's change. A lift of a certificate that is not suspended, a
/// second suspension, a change to an ended certificate: refused with
/// `bad_transition` (the station's event acknowledged and refused, the
/// administrator's answered 409), nothing recorded.
#[tokio::test]
async fn a_status_change_that_does_not_apply_to_the_state_is_refused_on_both_paths() {
    let reg = Registry::start();
    let (a, _) = reg.enroll("yuechi", Some("川X04"));
    a.push_events(vec![issued("a", 1, N1, S1), issued("a", 2, N2, S2)])
        .await
        .unwrap();
    // The station's path.
    let before = snapshot(&reg);
    let ack = a
        .push_events(vec![status("a", 3, N1, "lift", None)])
        .await
        .unwrap();
    assert_eq!(codes(&ack), vec![(3, "bad_transition")]);
    assert_eq!(snapshot(&reg), before, "a refused change changes nothing");
    let refusal = &ack.refused[0].message;
    assert!(
        refusal.contains("已发证") && refusal.contains("恢复"),
        "{refusal}"
    );
    let ack = a
        .push_events(vec![
            status("a", 4, N1, "suspend", None),
            status("a", 5, N1, "suspend", None),
        ])
        .await
        .unwrap();
    assert_eq!(codes(&ack), vec![(5, "bad_transition")]);
    assert_eq!(ack.applied, 1);

    // The administrator's path: the same table.
    let change = |number: &str, kind: &str| {
        json!({"number": number, "kind": kind, "reason": "管理员处理", "detail": {},
               "effective_on": "2026-11-23", "new_number": null})
    };
    let before = snapshot(&reg);
    let (status_code, body) = reg
        .admin(
            Method::POST,
            "/api/v1/admin/status-changes",
            change(N2, "lift"),
        )
        .await;
    assert_eq!(
        (status_code, body["code"].as_str()),
        (409, Some("bad_transition")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("已发证"),
        "{body}"
    );
    assert_eq!(snapshot(&reg), before);
    let (status_code, body) = reg
        .admin(
            Method::POST,
            "/api/v1/admin/status-changes",
            change(N2, "cancel"),
        )
        .await;
    assert_eq!(status_code, 204, "{body}");
    let before = snapshot(&reg);
    let (status_code, body) = reg
        .admin(
            Method::POST,
            "/api/v1/admin/status-changes",
            change(N2, "suspend"),
        )
        .await;
    assert_eq!(
        (status_code, body["code"].as_str()),
        (409, Some("bad_transition")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("已注销"),
        "{body}"
    );
    assert_eq!(snapshot(&reg), before);
}

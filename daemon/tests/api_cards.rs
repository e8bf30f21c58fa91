//! The card operations through the API: issue, verify, review, status changes, batches, and bad cards and readers that must change nothing.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use card_profile::channel::Link;
use card_profile::keys::MasterKey;
use card_profile::profile::FileId;
use card_sim::{SimCard, SimChannel, SimOptions};
use ecardd::demo::READERS;
use serde_json::{json, Value};
use support::*;

#[tokio::test]
async fn issue_verify_review_cancel_through_the_api() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let reviewer = a.login("nianshen").await;
    let inspector = a.login("jiancha").await;
    let cert = a.demo.approved[0];

    a.insert_blank(&issuer, R1).await;
    let (s, issued) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": cert, "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    assert_eq!(issued["standing"], "valid");
    let serial = issued["serial"].as_str().unwrap().to_owned();

    let (s, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["standing_label"], "有效");
    assert_eq!(v["serial"], serial.as_str());
    // The verdict comes first; the photo follows from its own route.
    assert!(v["photo"].is_null(), "{v}");
    let (s, p) = a
        .call(
            Method::GET,
            &format!("/verify/{}/photo", v["photo_id"].as_str().unwrap()),
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert!(p["photo"]
        .as_str()
        .unwrap()
        .starts_with("data:image/jpeg;base64,"));
    assert!(v["checks"].as_array().unwrap().len() >= 10);
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["label"].as_str().is_some_and(|l| !l.is_empty())));
    assert_eq!(v["record"]["certificate_id"], cert);

    // Written once: the same certificate cannot go onto a second card.
    a.call(
        Method::POST,
        &format!("/demo/readers/{}/insert-blank", enc(READERS[1])),
        Some(&issuer),
        None,
    )
    .await;
    let (s, v) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": cert, "reader": READERS[1] })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    let (s, v) = a
        .call(
            Method::POST,
            "/reviews",
            Some(&reviewer),
            Some(json!({ "certificate_id": cert, "result": "passed", "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["written_to"], serial.as_str());
    let (s, v) = a
        .call(
            Method::POST,
            "/reviews",
            Some(&reviewer),
            Some(json!({ "certificate_id": cert, "result": "passed" })),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a second review for the same year: {v}"
    );

    let (s, v) = a
        .call(
            Method::POST,
            &format!("/certificates/{cert}/status"),
            Some(&issuer),
            Some(json!({ "kind": "cancel", "reason": "调离执法岗位", "destination": "调往档案馆", "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state_label"], "已注销");
    assert_eq!(v["written_to"], serial.as_str());

    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(v["standing_label"], "已注销", "{v}");

    let (_, detail) = a
        .call(
            Method::GET,
            &format!("/certificates/{cert}"),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(detail["state"], "cancelled");
    assert_eq!(detail["reviews"].as_array().unwrap().len(), 1);
    assert_eq!(
        detail["status_changes"][0]["detail"]["destination"],
        "调往档案馆"
    );
    let (_, rev) = a
        .call(Method::GET, "/revocations", Some(&issuer), None)
        .await;
    let number = detail["certificate"]["number"].as_str().unwrap();
    assert!(rev["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["number"] == number));

    let admin = a.login("guanli").await;
    let (_, chain) = a
        .call(Method::GET, "/audit/verify", Some(&admin), None)
        .await;
    assert!(
        chain["first_broken"].is_null() && chain["rows"].as_i64().unwrap() > 5,
        "{chain}"
    );
    let (_, log) = a
        .call(Method::GET, "/audit?limit=500", Some(&admin), None)
        .await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "card.issued",
        "review.recorded",
        "certificate.cancel",
        "session.login",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    // Paging back with `before`: the next page continues where the first ended.
    let seqs = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect()
    };
    let all = seqs(&log);
    let (_, first) = a
        .call(Method::GET, "/audit?limit=3", Some(&admin), None)
        .await;
    let first = seqs(&first);
    let (_, next) = a
        .call(
            Method::GET,
            &format!("/audit?limit=3&before={}", first[2]),
            Some(&admin),
            None,
        )
        .await;
    let next = seqs(&next);
    assert_eq!([first, next].concat(), all[..6].to_vec());
}

#[tokio::test]
async fn suspension_lift_replacement_and_reissue_through_the_api() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let inspector = a.login("jiancha").await;
    let (c1, c2) = (a.demo.approved[0], a.demo.approved[1]);
    for (cert, reader) in [(c1, READERS[0]), (c2, READERS[1])] {
        a.insert_blank(&issuer, reader).await;
        let (s, v) = a
            .call(
                Method::POST,
                "/issue",
                Some(&issuer),
                Some(json!({ "certificate_id": cert, "reader": reader })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let status = |cert: i64, body: Value| {
        let issuer = issuer.clone();
        let a = &a;
        async move {
            a.call(
                Method::POST,
                &format!("/certificates/{cert}/status"),
                Some(&issuer),
                Some(body),
            )
            .await
        }
    };
    let (s, v) = status(
        c1,
        json!({ "kind": "suspend", "reason": "涉嫌违纪", "reader": R1 }),
    )
    .await;
    assert_eq!(
        (s, v["state"].as_str()),
        (StatusCode::OK, Some("suspended"))
    );
    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(v["standing_label"], "已暂停");
    // Lifted without the card: recorded; the card still says suspended until the
    // recorded status is written to it.
    let (s, v) = status(c1, json!({ "kind": "lift", "reason": "调查结束" })).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("issued")));
    assert!(
        v["written_to"].is_null() && v["card_write_failed"].is_null(),
        "{v}"
    );
    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(v["standing_label"], "已暂停");
    let (s, v) = a
        .call(
            Method::POST,
            &format!("/certificates/{c1}/status/write"),
            Some(&issuer),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["written_to"].is_string(), "{v}");
    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(v["standing_label"], "有效");

    // 换证: the old certificate is cancelled at once (its handed-back card
    // terminated); the new one is an application to the registry, no number here.
    let (s, v) = status(c1, json!({ "kind": "replace", "reason": "单位名称变更", "unit": "演示市市场监管综合执法支队", "card_returned": true, "reader": R1 })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "replaced");
    assert!(v["application_id"].as_i64().is_some(), "{v}");
    assert!(v.get("new_number").is_none(), "{v}");

    // 补证 without the card: recorded, old number declared void, an application filed.
    let (s, v) = status(c2, json!({ "kind": "reissue", "lost_on": "2026-11-01", "void_declared_how": "四川日报遗失声明", "void_declared_on": "2026-11-05", "void_reference": "四川日报 2026-11-05 第4版" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "void");
    assert!(v["written_to"].is_null());
    let (_, rev) = a
        .call(Method::GET, "/revocations", Some(&issuer), None)
        .await;
    let (_, old) = a
        .call(
            Method::GET,
            &format!("/certificates/{c2}"),
            Some(&issuer),
            None,
        )
        .await;
    let old_number = old["certificate"]["number"].as_str().unwrap();
    assert!(rev["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["number"] == old_number));
    // The lost card, if it turns up, fails the field check.
    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": READERS[1] })),
        )
        .await;
    assert_ne!(v["standing"], "valid", "{v}");

    // The filing forms, filled from these records: read back with calamine.
    for (file, expected) in [
        (
            "replacement.xlsx",
            vec!["单位名称变更", "演示市市场监管综合执法支队"],
        ),
        ("reissue.xlsx", vec![old_number, "四川日报遗失声明"]),
        ("filing.xlsx", vec!["录入归集"]),
    ] {
        let req = Request::get(format!(
            "/api/v1/forms/{file}?from=2026-11-01&to=2026-11-30"
        ))
        .header(header::COOKIE, &issuer)
        .body(Body::empty())
        .unwrap();
        let (s, _, bytes) = a.raw(req).await;
        assert_eq!(s, StatusCode::OK, "{file}");
        let text = sheet_text(&bytes);
        for e in expected {
            assert!(text.contains(e), "{file} lacks {e}: {text}");
        }
    }

    // A cancelled certificate cannot be suspended: refused, nothing changed.
    let before = a.snapshot();
    let (s, v) = status(c2, json!({ "kind": "suspend", "reason": "x" })).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(a.snapshot(), before);
    // A cancel without the destination is refused.
    let (s, v) = status(
        c1,
        json!({ "kind": "cancel", "reason": "离职", "destination": " " }),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    assert_eq!(a.snapshot(), before);
}

#[tokio::test]
async fn bad_cards_and_readers_get_their_own_errors_and_change_nothing() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let inspector = a.login("jiancha").await;
    let master = a.demo.station.keys().unwrap().master.clone();
    let verify = |reader: &'static str| {
        let a = &a;
        let c = inspector.clone();
        async move {
            a.call(
                Method::POST,
                "/verify",
                Some(&c),
                Some(json!({ "reader": reader })),
            )
            .await
        }
    };
    let before = a.snapshot();

    // Missing reader, and a reader without a card.
    let (s, v) = verify("没有这个读卡器").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_reader"))
    );
    let (s, v) = verify(R1).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_card"))
    );
    assert!(v["message"].as_str().unwrap().contains("请插卡"));

    // Malformed card: random bytes in the holder file → invalid, with the file named.
    let bad = written_card(&a, [0xBA; 8], &master, |s| {
        s.files
            .insert(FileId::Holder, vec![0x5A, 0x01, 0xFF, 0x00, 0x13, 0x37]);
    });
    a.demo.sim.insert_card(R1, bad).unwrap();
    let (s, v) = verify(R1).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["standing"], "invalid", "{v}");
    let failed: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert!(
        failed.contains(&"file_format") || failed.contains(&"file_hash"),
        "{failed:?}"
    );
    a.demo.sim.eject(R1).unwrap();

    // A blank card from another bureau (other master key): issuing refuses before writing.
    let other = MasterKey::from_bytes(&[0x42; 32]).unwrap();
    a.demo
        .sim
        .insert_card(
            R1,
            SimCard::from_master_key([0xAB; 8], &other, SimOptions::default()),
        )
        .unwrap();
    let (s, v) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": a.demo.approved[4], "reader": R1 })),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("wrong_management_key")
        ),
        "{v}"
    );
    a.demo.sim.eject(R1).unwrap();

    // Unknown signer: a card signed by a document signer from a root this station does not trust.
    let foreign = card_profile::demo::pki(today()).unwrap();
    let data = a
        .demo
        .station
        .store
        .read(|c| ecardd::store::issue_data(c, a.demo.approved[2]))
        .unwrap();
    let mut chan = SimChannel::new(SimCard::from_master_key(
        [0xCD; 8],
        &master,
        SimOptions::default(),
    ));
    card_profile::sequences::personalize(
        &mut Link::new(&mut chan),
        &data,
        &master,
        &foreign.signer,
        today(),
    )
    .unwrap();
    a.demo.sim.insert_card(R1, chan.into_card()).unwrap();
    let (_, v) = verify(R1).await;
    assert_eq!(v["standing"], "invalid");
    let chain = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "signer_chain")
        .unwrap();
    assert_eq!(chain["outcome"], "failed");
    assert!(
        chain["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("未知签发者"),
        "{chain}"
    );
    a.demo.sim.eject(R1).unwrap();

    // A genuine card whose serial is on the revocation list.
    let genuine = written_card(&a, [0xEE; 8], &master, |_| {});
    a.demo
        .station
        .store
        .write("test", |tx| {
            ecardd::store::insert_revocation(
                tx,
                Some("EEEEEEEEEEEEEEEE"),
                None,
                "测试吊销",
                today(),
                "registry",
            )?;
            Ok(())
        })
        .unwrap();
    let before_revoked = a.snapshot();
    a.demo.sim.insert_card(R1, genuine).unwrap();
    let (_, v) = verify(R1).await;
    assert_eq!(v["standing_label"], "已注销", "{v}");
    // The photo of that verification is read after the verdict: wait for it, so that
    // the tear below lands in the next verification, not in this photo read.
    let photo_url = v["photo_url"]
        .as_str()
        .unwrap()
        .trim_start_matches("/api/v1");
    let (s, p) = a.call(Method::GET, photo_url, Some(&inspector), None).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(a.snapshot(), before_revoked);

    // Card pulled during verification: an error, not a verdict.
    a.demo.sim.tear_next(R1, 3).unwrap();
    let (s, v) = verify(R1).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("card_removed")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("拔出"));

    // Malformed requests.
    let (s, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": 5 })),
        )
        .await;
    // A body that is not the JSON the route takes: refused before the route runs.
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_request"))
    );
    let (s, v) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": "x" })),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_request"))
    );
    let (s, v) = a
        .call(Method::GET, "/no-such-route", Some(&issuer), None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    // Only the revocation row the test itself added.
    // Besides that, only the issuance job refused at the wrong card: it stays queued,
    // waiting for a blank card of this bureau (no card, no certificate changed).
    let mut expected = before;
    expected[1] += 1;
    expected[4] += 1;
    assert_eq!(a.snapshot(), expected);
}

#[tokio::test]
async fn a_batch_writes_each_blank_card_inserted_and_reports_progress() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let ids = &a.demo.approved[..3];
    let (s, v) = a
        .call(
            Method::POST,
            "/batches",
            Some(&issuer),
            Some(json!({ "name": "测试批次", "certificate_ids": ids, "readers": [R1] })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let batch = v["batch_id"].as_i64().unwrap();
    for done in 1..=3 {
        a.insert_blank(&issuer, R1).await;
        let mut progress = Value::Null;
        for _ in 0..200 {
            progress = a
                .call(
                    Method::GET,
                    &format!("/batches/{batch}"),
                    Some(&issuer),
                    None,
                )
                .await
                .1;
            if progress["done"] == done {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(progress["done"], done, "{progress}");
        a.call(
            Method::POST,
            &format!("/demo/readers/{}/eject", enc(R1)),
            Some(&issuer),
            None,
        )
        .await;
    }
    let (_, v) = a
        .call(
            Method::GET,
            &format!("/batches/{batch}"),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(v["total"], 3);
    assert!(v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|j| j["state"] == "verified" && j["card_serial"].is_string()));
    assert_eq!(a.count("SELECT COUNT(DISTINCT serial) FROM cards"), 3);
}

/// Bulk 换证 for a renamed unit: every issued certificate of the old name gets its
/// own 换证 (cancelled first) and its own application to the registry, under the
/// new name; a list that names a certificate a 换证 does not apply to records
/// nothing.
#[tokio::test]
async fn a_renamed_unit_files_one_replacement_per_holder() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let (c1, c2, c3) = (a.demo.approved[0], a.demo.approved[1], a.demo.approved[2]);
    for cert in [c1, c2, c3] {
        a.insert_blank(&issuer, R1).await;
        let (s, v) = a
            .call(
                Method::POST,
                "/issue",
                Some(&issuer),
                Some(json!({ "certificate_id": cert, "reader": R1 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        a.demo.sim.eject(R1).unwrap();
    }
    let bulk = |body: Value| {
        let a = &a;
        let c = issuer.clone();
        async move {
            a.call(
                Method::POST,
                "/certificates/bulk-replace",
                Some(&c),
                Some(body),
            )
            .await
        }
    };
    // A list naming a certificate not yet issued: refused whole.
    let before = a.snapshot();
    let (s, v) = bulk(json!({ "certificate_ids": [c1, a.demo.approved[4]], "reason": "单位名称变更", "unit": "演示市市场监管局" })).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(a.snapshot(), before, "nothing recorded");
    let (s, v) = bulk(
        json!({ "from_unit": "演示市市场监督管理局", "reason": " ", "unit": "演示市市场监管局" }),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request")),
        "{v}"
    );

    // By the old name: the two holders of 演示市市场监督管理局, not the third.
    let (s, v) = bulk(json!({ "from_unit": "演示市市场监督管理局", "reason": "单位名称变更", "unit": "演示市市场监管局" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["filed"], 2, "{v}");
    let ids: Vec<i64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["certificate_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![c1, c2]);
    for id in [c1, c2] {
        let (_, cert) = a
            .call(
                Method::GET,
                &format!("/certificates/{id}"),
                Some(&issuer),
                None,
            )
            .await;
        assert_eq!(cert["state"], "replaced", "{cert}");
    }
    assert_eq!(
        a.count("SELECT COUNT(*) FROM applications WHERE kind = 'replacement' AND json_extract(row_json, '$.unit') = '演示市市场监管局'"),
        2
    );
    assert_eq!(
        a.count("SELECT COUNT(*) FROM outbox WHERE kind = 'succession_submitted'"),
        2
    );
    // The station's view of its applications: both 换证, 待审核, for the new name,
    // each naming the certificate it follows.
    let (s, list) = a
        .call(Method::GET, "/applications", Some(&issuer), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    for app in list {
        assert_eq!(app["kind_label"], "换证", "{app}");
        assert_eq!(app["state_label"], "待审核", "{app}");
        assert_eq!(app["unit"], "演示市市场监管局", "{app}");
        assert!(
            app["follows_number"].as_str().unwrap().starts_with("川X01"),
            "{app}"
        );
    }
}

/// One person by form (not only by spreadsheet): the template's columns as typed,
/// checked by the roster's own row check (the same reasons, by column), filed as an
/// application to the registry like an imported row. A refused form changes
/// nothing; a number typed in is refused where the registry numbers (Sichuan); the
/// photo may come later, while the application is pending.
#[tokio::test]
async fn one_person_is_added_by_form_as_an_application() {
    use base64::Engine;
    let a = api();
    let issuer = a.login("zhizheng").await;
    let form = json!({
        "county": "演示县", "name": "孙八", "unit": "演示县农业农村局",
        "citizen_id": "110105198001010016", "ethnicity": "汉族", "political_status": "中共党员",
        "education": "大学本科", "major": "法学", "rank_code": "020201",
        "law_major": "是", "legal_qualification": "否", "posts": "01",
        "exam_category": "综合法律知识考试",
    });
    let before = a.snapshot();
    for (field, value, column) in [
        ("citizen_id", "110105198001010017", "持证人身份证号码"),
        ("certificate_number", "川X06210001", "证编号"),
        ("posts", "99", "执法岗位"),
    ] {
        let mut bad = form.clone();
        bad[field] = json!(value);
        let (s, v) = a
            .call(
                Method::POST,
                "/applications",
                Some(&issuer),
                Some(json!({ "form": bad })),
            )
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("form_rejected")),
            "{v}"
        );
        assert_eq!(v["errors"][0]["column"], column, "{v}");
        assert_eq!(a.snapshot(), before, "a refused form changes nothing");
    }
    let (s, v) = a
        .call(
            Method::POST,
            "/applications",
            Some(&issuer),
            Some(json!({ "form": form })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["imported"], 1, "{v}");
    let id = v["application_ids"][0].as_i64().unwrap();
    let (_, list) = a
        .call(Method::GET, "/applications", Some(&issuer), None)
        .await;
    assert_eq!(list[0]["name"], "孙八", "{list}");
    assert_eq!(list[0]["kind_label"], "新申领");
    assert_eq!(list[0]["state_label"], "待审核");
    assert_eq!(list[0]["has_photo"], false);
    assert_eq!(
        a.count("SELECT COUNT(*) FROM outbox WHERE kind = 'application_submitted'"),
        1
    );
    // The form comes back as the page edits it.
    let (s, one) = a
        .call(
            Method::GET,
            &format!("/applications/{id}"),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{one}");
    assert_eq!(one["form"]["posts"], "01");
    assert_eq!(one["form"]["political_status"], "中共党员");

    // The photo, later: checked as a roster photo file (Sichuan: within 100 KB).
    let big = ecard_domain::photo::synthetic::portrait_jpeg(480, 560, 40, 90, 13);
    assert!(big.len() > 100 * 1024);
    let b64 = |p: &[u8]| base64::engine::general_purpose::STANDARD.encode(p);
    let before = a.snapshot();
    let (s, v) = a
        .call(
            Method::POST,
            &format!("/applications/{id}/photo"),
            Some(&issuer),
            Some(json!({ "photo_jpeg": b64(&big) })),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("form_rejected")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("100KB"), "{v}");
    assert_eq!(a.snapshot(), before);
    let small = ecard_domain::photo::synthetic::portrait_jpeg(410, 470, 8, 60, 3);
    let (s, v) = a
        .call(
            Method::POST,
            &format!("/applications/{id}/photo"),
            Some(&issuer),
            Some(json!({ "photo_jpeg": b64(&small) })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["has_photo"], true, "{v}");
    assert_eq!(
        a.count("SELECT COUNT(*) FROM outbox WHERE kind = 'application_amended' AND json_extract(payload, '$.resubmit') = 0"),
        1
    );
    // Pending: nothing to resubmit, no send-back to ask for.
    let (s, v) = a
        .call(
            Method::PUT,
            &format!("/applications/{id}"),
            Some(&issuer),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (s, v["conflict"].as_str()),
        (StatusCode::CONFLICT, Some("application_state")),
        "{v}"
    );
    let (s, v) = a
        .call(
            Method::POST,
            &format!("/applications/{id}/send-back"),
            Some(&issuer),
            Some(json!({ "reason": "职务填错" })),
        )
        .await;
    assert_eq!(
        (s, v["conflict"].as_str()),
        (StatusCode::CONFLICT, Some("application_state")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("已批准"), "{v}");
}

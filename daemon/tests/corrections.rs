//! A roster import never writes over a certified officer's record (issue 11, "a
//! malicious issuer"): a changed name or photo becomes a pending correction that
//! another operator approves (the record takes it, the audit row carries old and new)
//! or rejects (nothing changes). And a hostile roster file is refused unread with its
//! code. In-process: the same `Station` the API and CLI call.
#![allow(clippy::unwrap_used)]

use card_profile::demo;
use card_profile::records::Holder;
use ecard_clock::Clock;
use ecard_domain::citizen_id::CitizenId;
use ecard_domain::codes::{Ethnicity, PoliticalStatus, PostCode};
use ecard_domain::roster::{ApplicationKind, Photos, RosterRow};
use ecardd::ops::{ImportError, Station, StationConfig};
use ecardd::readers::Readers;
use ecardd::store::{self, CertificateState, CorrectionState, Store};
use std::sync::Arc;

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

struct Fixture {
    station: Station,
    officer: Holder,
    officer_id: i64,
    photo: Vec<u8>,
    _dir: tempfile::TempDir,
}

/// A station whose first demo officer holds a certificate in `state`.
fn fixture(state: Option<CertificateState>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("t.db"), Clock::frozen_on(today())).unwrap());
    let o = demo::officers(chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap())
        .into_iter()
        .next()
        .unwrap();
    let officer_id = store
        .write("admin", |tx| {
            let officer = store::upsert_officer(tx, &o.holder, Some(&o.photo_jpeg))?;
            if let Some(state) = state {
                store::insert_certificate(tx, officer, &o.certificate, state, None)?;
            }
            Ok(officer)
        })
        .unwrap();
    let station = Station::without_keys(
        store,
        Readers::none(),
        card_profile::pki::TrustList::default(),
        StationConfig::default(),
    );
    Fixture {
        station,
        officer: o.holder,
        officer_id,
        photo: o.photo_jpeg,
        _dir: dir,
    }
}

/// The roster row of `holder` as an issuer would type it, with another name.
fn roster_of(holder: &Holder, name: &str) -> Vec<u8> {
    let citizen_id = CitizenId::parse(&holder.id_number, today()).unwrap();
    let row = RosterRow {
        kind: ApplicationKind::New,
        excel_row: 0,
        county: "演示县".into(),
        name: name.into(),
        unit: "演示县市场监督管理局".into(),
        certificate_number: None,
        valid_until: None,
        gender: citizen_id.gender(),
        birth_date: citizen_id.birth_date(),
        citizen_id,
        ethnicity: Ethnicity::parse(&holder.ethnicity).unwrap(),
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
    ecard_domain::forms::roster_xlsx(&[row]).unwrap()
}

/// Imports `holder` under `name` with an impostor's photo, as `clerk`.
fn import_impostor(f: &Fixture, name: &str) -> ecardd::ops::ImportOutcome {
    let impostor = ecard_domain::photo::synthetic::portrait_jpeg(480, 560, 12, 80, 77);
    let files = vec![(format!("{}.jpg", f.officer.id_number), impostor)];
    f.station
        .import_roster("clerk", &roster_of(&f.officer, name), Photos::Files(&files))
        .unwrap()
}

fn recorded(f: &Fixture) -> (Holder, Vec<u8>) {
    let holder = f
        .station
        .store
        .read(|c| store::officer(c, f.officer_id))
        .unwrap()
        .holder;
    let photo = f
        .station
        .store
        .read(|c| store::officer_photo(c, f.officer_id))
        .unwrap()
        .unwrap();
    (holder, photo)
}

fn last_audit(f: &Fixture, action: &str) -> serde_json::Value {
    let json: String = f
        .station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT detail FROM audit_log WHERE action = ?1 ORDER BY seq DESC LIMIT 1",
                [action],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    serde_json::from_str(&json).unwrap()
}

#[test]
fn import_with_a_changed_name_and_photo_for_a_certified_officer_leaves_the_record_and_files_a_correction(
) {
    for state in [
        CertificateState::Approved,
        CertificateState::Issued,
        CertificateState::Suspended,
    ] {
        let f = fixture(Some(state));
        let out = import_impostor(&f, "冒名者");
        assert_eq!(
            out.imported, 1,
            "the application still goes to the registry"
        );
        assert_eq!(out.corrections.len(), 1, "{state:?}");
        let (holder, photo) = recorded(&f);
        assert_eq!(holder, f.officer, "{state:?}: the record is unchanged");
        assert_eq!(photo, f.photo, "{state:?}: the photo is unchanged");
        let pending = f
            .station
            .corrections(Some(CorrectionState::Pending))
            .unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].old, f.officer);
        assert_eq!(pending[0].new.name, "冒名者");
        assert!(pending[0].photo_changed);
        assert_eq!(pending[0].requested_by, "clerk");
        let audit = last_audit(&f, "correction.requested");
        assert_eq!(audit["old"]["name"], f.officer.name.as_str());
        assert_eq!(audit["new"]["name"], "冒名者");
        assert_ne!(audit["old"]["photo_sha256"], audit["new"]["photo_sha256"]);
    }
}

#[test]
fn a_pending_application_protects_the_record_too() {
    let f = fixture(None);
    // The first import of an uncertified person writes the record as before …
    let first = import_impostor(&f, "张三");
    assert!(first.corrections.is_empty());
    assert_eq!(recorded(&f).0.name, "张三");
    // … and while that application is pending, a second import cannot change it.
    let second = import_impostor(&f, "李四");
    assert_eq!(second.corrections.len(), 1);
    assert_eq!(recorded(&f).0.name, "张三");
}

#[test]
fn approving_a_correction_applies_it_with_old_and_new_in_the_audit_row() {
    let f = fixture(Some(CertificateState::Issued));
    let id = import_impostor(&f, "改名后").corrections[0];
    let decided = f
        .station
        .decide_correction("reviewer", id, true, Some("户籍更名，已核对"))
        .unwrap();
    assert_eq!(decided.state, CorrectionState::Approved);
    assert_eq!(decided.decided_by.as_deref(), Some("reviewer"));
    let (holder, photo) = recorded(&f);
    assert_eq!(holder.name, "改名后");
    assert_ne!(photo, f.photo, "the new photo is the record's now");
    let audit = last_audit(&f, "correction.approved");
    assert_eq!(audit["correction"], id);
    assert_eq!(audit["old"]["name"], f.officer.name.as_str());
    assert_eq!(audit["new"]["name"], "改名后");
    assert!(audit["old"]["photo_sha256"].is_string());
    assert_ne!(audit["old"]["photo_sha256"], audit["new"]["photo_sha256"]);
    assert_eq!(audit["reason"], "户籍更名，已核对");
    // Decided once.
    let again = f
        .station
        .decide_correction("reviewer", id, false, None)
        .unwrap_err();
    assert_eq!(
        again.conflict().map(|c| c.code()),
        Some("correction_decided")
    );
}

#[test]
fn rejecting_a_correction_leaves_the_record_unchanged() {
    let f = fixture(Some(CertificateState::Issued));
    let id = import_impostor(&f, "冒名者").corrections[0];
    let decided = f
        .station
        .decide_correction("reviewer", id, false, Some("照片与本人不符"))
        .unwrap();
    assert_eq!(decided.state, CorrectionState::Rejected);
    let (holder, photo) = recorded(&f);
    assert_eq!(holder, f.officer);
    assert_eq!(photo, f.photo);
    let audit = last_audit(&f, "correction.rejected");
    assert_eq!(audit["new"]["name"], "冒名者");
    assert_eq!(audit["old"]["name"], f.officer.name.as_str());
}

#[test]
fn the_importer_cannot_decide_their_own_correction() {
    let f = fixture(Some(CertificateState::Issued));
    let id = import_impostor(&f, "冒名者").corrections[0];
    let refused = f
        .station
        .decide_correction("clerk", id, true, None)
        .unwrap_err();
    assert_eq!(
        refused.conflict().map(|c| c.code()),
        Some("correction_own_request")
    );
    assert!(
        refused.message_zh().contains("其他"),
        "{}",
        refused.message_zh()
    );
    assert_eq!(recorded(&f).0, f.officer);
}

#[test]
fn a_correction_made_against_an_older_record_cannot_be_approved() {
    let f = fixture(Some(CertificateState::Issued));
    let first = import_impostor(&f, "甲").corrections[0];
    let second = import_impostor(&f, "乙").corrections[0];
    f.station
        .decide_correction("reviewer", first, true, None)
        .unwrap();
    let stale = f
        .station
        .decide_correction("reviewer", second, true, None)
        .unwrap_err();
    assert_eq!(stale.conflict().map(|c| c.code()), Some("correction_stale"));
    assert_eq!(recorded(&f).0.name, "甲");
}

#[test]
fn the_same_values_again_file_no_correction() {
    let f = fixture(Some(CertificateState::Issued));
    let out = f
        .station
        .import_roster(
            "clerk",
            &roster_of(&f.officer, &f.officer.name),
            Photos::None,
        )
        .unwrap();
    assert!(out.corrections.is_empty());
    assert_eq!(recorded(&f).0, f.officer);
}

#[test]
fn a_hostile_roster_is_refused_unread_with_its_code_and_changes_nothing() {
    // The calamine abort: cells at A1 and XFD1048576 in a file of a few hundred bytes.
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    for (name, body) in [
        (
            "xl/workbook.xml",
            r#"<workbook><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/worksheets/sheet1.xml",
            r#"<worksheet><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>b</t></is></c></row></sheetData></worksheet>"#,
        ),
    ] {
        zip.start_file(name, o).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    let xlsx = zip.finish().unwrap().into_inner();
    let f = fixture(Some(CertificateState::Issued));
    match f.station.import_roster("clerk", &xlsx, Photos::None) {
        Err(ImportError::Rejected(report)) => {
            let limit = report.refused.expect("refused for a limit");
            assert_eq!(limit.code(), "xlsx_range_too_large");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(f.station.corrections(None).unwrap().is_empty());
}

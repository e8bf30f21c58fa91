//! Shared helpers for the integration tests: rows and IDs are computed, never
//! hard-coded as "valid".
#![allow(dead_code)]

use chrono::NaiveDate;
use ecard_domain::citizen_id::{first17, with_check_digit, CitizenId};
use ecard_domain::codes::{Ethnicity, PoliticalStatus, PostCode};
use ecard_domain::roster::{ApplicationKind, RosterRow};

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).expect("date")
}

pub fn id(n: u32) -> CitizenId {
    // Born 1980 or later: nobody retires within the five years of a 2025 announcement.
    let birth = NaiveDate::from_ymd_opt(1980, 1, 1).expect("d")
        + chrono::Duration::days(i64::from(n % 9000));
    let s = with_check_digit(&first17("510100", birth, (n % 1000) as u16)).expect("17 digits");
    CitizenId::parse(&s, today()).expect("computed ID is valid")
}

pub fn row(n: u32, kind: ApplicationKind) -> RosterRow {
    let citizen_id = id(n);
    RosterRow {
        kind,
        excel_row: 0,
        county: "广安市".into(),
        name: format!("测试人员{n}"),
        unit: "广安市市场监督管理局".into(),
        certificate_number: match kind {
            ApplicationKind::New => None,
            ApplicationKind::Replacement => {
                Some(format!("川X23{:04}", n % 9000 + 1).parse().expect("number"))
            }
        },
        // The one validity rule's end date (the import fills it in when empty).
        valid_until: Some(NaiveDate::from_ymd_opt(2030, 7, 20).expect("d")),
        gender: citizen_id.gender(),
        birth_date: citizen_id.birth_date(),
        citizen_id,
        ethnicity: Ethnicity::parse(if n.is_multiple_of(3) {
            "回族"
        } else {
            "汉族"
        })
        .expect("ethnicity"),
        political_status: PoliticalStatus::ALL[(n % 13) as usize],
        valid_from: Some(NaiveDate::from_ymd_opt(2025, 7, 20).expect("d")),
        education: "大学本科".into(),
        major: "法学".into(),
        rank_code: "020201".into(),
        law_major: n.is_multiple_of(2),
        legal_qualification: n.is_multiple_of(5),
        posts: if n.is_multiple_of(2) {
            vec![PostCode::ByAuthority, PostCode::OnApplication]
        } else {
            vec![PostCode::OnApplication]
        },
        exam_category: "综合法律知识考试".into(),
        law_exam_on: None,
        law_exam_score: None,
        staffing: None,
        // Every other row carries the 信息收集表's two free-text facts, so that the
        // template's round trip covers their columns.
        org_nature: n.is_multiple_of(2).then(|| "行政机关".to_owned()),
        position: n.is_multiple_of(2).then(|| "科员".to_owned()),
        photo: None,
    }
}

//! The filing forms and the review list, read back with calamine.

mod common;

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::NaiveDate;
use common::{id, today};
use ecard_domain::forms::*;
use ecard_domain::validity::{ReviewPolicy, ReviewStatus};

fn first_sheet(bytes: &[u8]) -> (String, calamine::Range<Data>) {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("xlsx");
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).expect("sheet");
    (name, range)
}

fn text(r: &calamine::Range<Data>, row: u32, col: u32) -> String {
    match r.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

fn header() -> FormHeader {
    FormHeader {
        unit: "启东市市场监督管理局".into(),
        filled_by: "王某".into(),
        phone: "0513-00000000".into(),
        date: Some(d(2026, 6, 1)),
    }
}

fn assert_columns(r: &calamine::Range<Data>, cols: &[&str]) {
    for (c, h) in cols.iter().enumerate() {
        assert_eq!(text(r, 2, c as u32), *h);
    }
}

#[test]
fn cancellation_form_has_reason_and_destination() {
    let rec = CancellationRecord {
        name: "张三".into(),
        unit: "启东市市场监督管理局".into(),
        citizen_id: id(1),
        original_number: "苏F0123456".into(),
        reason: "调离执法岗位".into(),
        destination: "启东市财政局".into(),
        remark: String::new(),
    };
    let (_, r) = first_sheet(&cancellation_form(&header(), &[rec]).expect("xlsx"));
    assert_eq!(text(&r, 0, 0), "行政执法（监督）证件注销表");
    assert!(text(&r, 1, 0).contains("填报单位（盖章）：启东市市场监督管理局"));
    assert_columns(&r, &CANCELLATION_COLUMNS);
    assert_eq!(text(&r, 3, 3), id(1).as_str());
    assert_eq!(text(&r, 3, 4), id(1).gender().label_zh());
    assert_eq!(text(&r, 3, 6), "调离执法岗位");
    assert_eq!(text(&r, 3, 7), "启东市财政局");
    assert!(text(&r, 5, 0).contains("交还"));
}

#[test]
fn replacement_form_has_old_and_new_unit() {
    let rec = ReplacementRecord {
        name: "李四".into(),
        citizen_id: id(2),
        original_unit: "启东市人防办".into(),
        original_number: "苏F0000001".into(),
        reason: "机构改革单位名称变更".into(),
        current_unit: "启东市住房和城乡建设局".into(),
        post_and_title: "执法大队 科员".into(),
        enforcement_kind: "城建".into(),
        remark: "备注".into(),
    };
    let (_, r) = first_sheet(&replacement_form(&header(), &[rec]).expect("xlsx"));
    assert_columns(&r, &REPLACEMENT_COLUMNS);
    assert_eq!(text(&r, 3, 4), "启东市人防办");
    assert_eq!(text(&r, 3, 7), "启东市住房和城乡建设局");
    assert_eq!(text(&r, 3, 9), "城建");
}

#[test]
fn reissue_and_filing_forms() {
    let rec = ReissueRecord {
        name: "王五".into(),
        unit: "启东市交通运输局".into(),
        citizen_id: id(3),
        certificate_number: "苏F0000002".into(),
        lost_on: d(2026, 5, 3),
        void_declaration: "2026-05-05 启东日报登报声明作废".into(),
        remark: String::new(),
    };
    let (_, r) = first_sheet(&reissue_form(&header(), &[rec]).expect("xlsx"));
    assert_columns(&r, &REISSUE_COLUMNS);
    assert_eq!(text(&r, 3, 6), "2026-05-03");
    assert!(text(&r, 3, 7).contains("登报"));

    let rec = FilingRecord {
        name: "赵六".into(),
        unit: "启东市交通运输局".into(),
        citizen_id: id(4),
        certificate_number: "苏F0000003".into(),
        action: FilingAction::Cancelled,
        entered_on: d(2026, 5, 10),
        remark: String::new(),
    };
    let (_, r) = first_sheet(&filing_form(&header(), &[rec]).expect("xlsx"));
    assert_columns(&r, &FILING_COLUMNS);
    assert_eq!(text(&r, 3, 6), "注销");
    assert_eq!(r.get_value((3, 0)), Some(&Data::Float(1.0)));
}

#[test]
fn review_list_leaves_out_exempt_and_marks_overdue() {
    let cand = |n: u32, issued: NaiveDate, reviewed: Option<NaiveDate>| ReviewCandidate {
        name: format!("人员{n}"),
        unit: "单位".into(),
        citizen_id: id(n),
        certificate_number: format!("川X01{n:04}"),
        issued_on: issued,
        valid_until: d(2029, 7, 20),
        reviewed_on: reviewed,
    };
    let all = [
        cand(1, d(2024, 7, 20), None),
        cand(2, d(2025, 12, 31), Some(d(2026, 3, 2))),
        cand(3, d(2026, 1, 5), None),
    ];
    // The 2025 review (named by the year it covers) is due by 31 March 2026; a
    // certificate issued in 2026 is not part of it.
    let list = review_list(&all, 2025, today(), &ReviewPolicy::default());
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0].1,
        ReviewStatus::Overdue {
            deadline: d(2026, 3, 31)
        }
    );
    assert_eq!(
        list[1].1,
        ReviewStatus::Done {
            reviewed_on: d(2026, 3, 2)
        }
    );
    let (name, r) = first_sheet(&review_list_xlsx(&header(), 2025, &list).expect("xlsx"));
    assert_eq!(name, "2025年度行政执法证件年审名单");
    assert_columns(&r, &REVIEW_COLUMNS);
    assert_eq!(text(&r, 3, 8), "逾期未年审");
    assert_eq!(text(&r, 4, 8), "已年审");
}

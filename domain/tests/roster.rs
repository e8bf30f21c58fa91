//! Roster import/export round trips through real xlsx bytes.

mod common;

use std::io::{Cursor, Write};

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::NaiveDate;
use common::{id, row, today};
use ecard_domain::codes::PoliticalStatus;
use ecard_domain::forms::roster_xlsx;
use ecard_domain::photo::synthetic::portrait_jpeg;
use ecard_domain::roster::{import, ApplicationKind, ImportOptions, Photos, RosterRow, COLUMNS};
use rust_xlsxwriter::{Format, Workbook};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/political-status-as-number.xlsx"
);

fn opts() -> ImportOptions {
    ImportOptions::new(today())
}

fn read_sheet(bytes: &[u8], sheet: &str) -> calamine::Range<Data> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("xlsx");
    wb.worksheet_range(sheet).expect("sheet")
}

/// Writes a sheet with a title row, the header and the given raw rows.
fn workbook(rows: &[Vec<Cell>]) -> Vec<u8> {
    workbook_with(&COLUMNS, rows)
}

/// [`workbook`] with the given header cells.
fn workbook_with(headers: &[&str], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Sheet1").expect("name");
    ws.write_string(0, 0, "（盖章） 市(区)行政执法人员基本信息数据元采集表")
        .expect("w");
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(1, c as u16, *h).expect("w");
    }
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    for (i, r) in rows.iter().enumerate() {
        for (c, cell) in r.iter().enumerate() {
            let (rr, cc) = (2 + i as u32, c as u16);
            match cell {
                Cell::S(s) => {
                    ws.write_string(rr, cc, s).expect("w");
                }
                Cell::N(n) => {
                    ws.write_number(rr, cc, *n).expect("w");
                }
                Cell::D(d) => {
                    let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(
                        d.format("%Y").to_string().parse().expect("y"),
                        d.format("%m").to_string().parse().expect("m"),
                        d.format("%d").to_string().parse().expect("d"),
                    )
                    .expect("date");
                    ws.write_datetime_with_format(rr, cc, &dt, &date_fmt)
                        .expect("w");
                }
                Cell::E => {}
            }
        }
    }
    wb.save_to_buffer().expect("save")
}

#[derive(Clone)]
enum Cell {
    S(String),
    N(f64),
    D(NaiveDate),
    E,
}

fn s(x: &str) -> Cell {
    Cell::S(x.to_string())
}

/// A good row as cells; political status and posts as Excel numbers.
fn number_row(n: u32) -> Vec<Cell> {
    let id = id(n);
    vec![
        Cell::N(f64::from(n)),
        s("福州市"),
        s("蔡某"),
        Cell::E,
        s("福州市儿童公园管理处"),
        Cell::E,
        Cell::E,
        s(id.as_str()),
        s(id.gender().label_zh()),
        s("汉族"),
        Cell::D(id.birth_date()),
        Cell::N(2.0),
        Cell::E,
        s("大学专科"),
        s("法学"),
        Cell::N(20201.0),
        s("是"),
        s("是"),
        Cell::N(2.0),
        s("综合法律知识考试"),
    ]
}

#[test]
#[ignore = "writes the committed fixture; run once by hand"]
fn regenerate_number_fixture() {
    std::fs::write(FIXTURE, workbook(&[number_row(42)])).expect("write fixture");
}

#[test]
fn excel_number_2_comes_back_as_02() {
    let bytes = std::fs::read(FIXTURE).expect("fixture committed");
    // The fixture really holds numbers, as Excel would.
    let range = read_sheet(&bytes, "Sheet1");
    assert_eq!(range.get_value((2, 11)), Some(&Data::Float(2.0)));
    let rows = import(&bytes, Photos::None, &opts()).expect("imports");
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r.political_status.code(), "02");
    assert_eq!(r.political_status, PoliticalStatus::CpcProbationary);
    assert_eq!(r.posts.iter().map(|p| p.code()).collect::<Vec<_>>(), ["02"]);
    assert_eq!(r.rank_code, "020201");
    // The committed fixture was written when the test IDs were born from 1970.
    assert_eq!(
        r.birth_date,
        NaiveDate::from_ymd_opt(1970, 2, 12).expect("d")
    );
    assert_eq!(r.excel_row, 3);
}

#[test]
fn template_with_rows_round_trips_through_calamine() {
    let mut rows: Vec<RosterRow> = (1..=20).map(|n| row(n, ApplicationKind::New)).collect();
    rows.extend((100..105).map(|n| row(n, ApplicationKind::Replacement)));
    let bytes = roster_xlsx(&rows).expect("write");
    let back = import(&bytes, Photos::None, &opts()).expect("imports");
    assert_eq!(back.len(), rows.len());
    for (a, b) in rows.iter().zip(&back) {
        let mut a = a.clone();
        a.excel_row = b.excel_row;
        assert_eq!(&a, b);
    }
    assert_eq!(
        back[0].excel_row, 3,
        "title row 1, header row 2, data from row 3"
    );
}

/// 工作单位机构性质 and 现任职务 (the 信息收集表 facts the registry's form shows,
/// issue 12): read from their columns after the official 20, carried by the form,
/// and over-long text refused in its column.
#[test]
fn org_nature_and_position_columns_are_read_and_bounded() {
    use ecard_domain::roster::{check_form, RosterForm, EXTRA_COLUMNS, MAX_FACT_CHARS};
    let headers: Vec<&str> = COLUMNS
        .iter()
        .chain(EXTRA_COLUMNS.iter())
        .copied()
        .collect();
    let with = |n: u32, nature: &str, position: &str| {
        let mut cells = number_row(n);
        cells.extend([Cell::E, Cell::E, Cell::E, s(nature), s(position)]);
        cells
    };
    let rows = import(
        &workbook_with(&headers, &[with(1, "法律法规授权组织", "大队长")]),
        Photos::None,
        &opts(),
    )
    .expect("a row");
    assert_eq!(rows[0].org_nature.as_deref(), Some("法律法规授权组织"));
    assert_eq!(rows[0].position.as_deref(), Some("大队长"));

    let long = "长".repeat(MAX_FACT_CHARS + 1);
    let report = import(
        &workbook_with(&headers, &[with(1, &long, "科员")]),
        Photos::None,
        &opts(),
    )
    .expect_err("too long");
    assert!(
        report
            .issues
            .iter()
            .any(|i| i.column == "工作单位机构性质" && i.reason.contains("最多50个字")),
        "{report:?}"
    );

    // The form carries them the same way, and a row gives its form back.
    let form = RosterForm::from_row(&rows[0]);
    assert_eq!(form.org_nature, "法律法规授权组织");
    assert_eq!(form.position, "大队长");
    let again = check_form(&form, None, &opts()).expect("the same row");
    assert_eq!(again.org_nature, rows[0].org_nature);
    assert_eq!(again.position, rows[0].position);
}

#[test]
fn empty_template_has_the_exact_columns() {
    let bytes = ecard_domain::forms::roster_template().expect("template");
    let range = read_sheet(&bytes, ecard_domain::roster::SHEET_NEW);
    for (c, h) in COLUMNS.iter().enumerate() {
        assert_eq!(
            range.get_value((1, c as u32)),
            Some(&Data::String(h.to_string()))
        );
    }
    // An empty template imports as zero rows, not as an error.
    assert_eq!(import(&bytes, Photos::None, &opts()), Ok(vec![]));
}

#[test]
fn one_bad_row_returns_report_and_no_rows() {
    let mut bad = number_row(7);
    bad[7] = s("452122197502156642"); // the guide's sample ID: wrong check digit
    bad[11] = Cell::N(14.0); // political status out of range
    let bytes = workbook(&[number_row(5), bad, number_row(9)]);
    let report = import(&bytes, Photos::None, &opts()).expect_err("must refuse");
    assert_eq!(report.issues.len(), 2, "{:?}", report.issues);
    let id_issue = &report.issues[0];
    assert_eq!(id_issue.row, Some(4));
    assert_eq!(id_issue.column, "持证人身份证号码");
    assert!(id_issue.reason.contains("校验位"), "{}", id_issue.reason);
    assert_eq!(report.issues[1].column, "政治面貌");
    assert!(report.to_string().contains("未导入任何数据"));

    let xlsx = report.to_xlsx().expect("report xlsx");
    let range = read_sheet(&xlsx, "导入错误报告");
    assert_eq!(range.get_value((0, 1)), Some(&Data::String("行号".into())));
    assert_eq!(
        range.get_value((1, 0)),
        Some(&Data::String("Sheet1".into()))
    );
    assert_eq!(range.get_value((1, 1)), Some(&Data::Float(4.0)));
    assert_eq!(
        range.get_value((1, 2)),
        Some(&Data::String("持证人身份证号码".into()))
    );
    match range.get_value((1, 3)) {
        Some(Data::String(r)) => assert!(r.contains("校验位") && r.contains("应为“8”")),
        other => panic!("reason cell: {other:?}"),
    }
}

#[test]
fn gender_and_birth_date_must_match_the_id() {
    let mut r = number_row(3);
    let wrong = if id(3).gender().label_zh() == "男" {
        "女"
    } else {
        "男"
    };
    r[8] = s(wrong);
    r[10] = s("1999-01-01");
    let report = import(&workbook(&[r]), Photos::None, &opts()).expect_err("refused");
    let cols: Vec<&str> = report.issues.iter().map(|i| i.column.as_str()).collect();
    assert_eq!(cols, ["性别", "出生日期"]);
}

#[test]
fn id_stored_as_number_is_explained() {
    let mut r = number_row(3);
    r[7] = Cell::N(510100197001040000.0);
    let report = import(&workbook(&[r]), Photos::None, &opts()).expect_err("refused");
    assert!(report.issues[0].reason.contains("文本格式"));
}

#[test]
fn new_applicant_with_hand_picked_number_refused() {
    let mut r = number_row(3);
    r[5] = s("川X018888");
    let report = import(&workbook(&[r]), Photos::None, &opts()).expect_err("refused");
    assert_eq!(report.issues[0].column, "证编号");
}

#[test]
fn reordered_or_missing_column_is_a_structural_error() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let mut cols = COLUMNS.to_vec();
    cols.swap(9, 10); // 民族 <-> 出生日期
    for (c, h) in cols.iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("w");
    }
    ws.write_string(1, 2, "张三").expect("w");
    let bytes = wb.save_to_buffer().expect("save");
    let report = import(&bytes, Photos::None, &opts()).expect_err("refused");
    assert_eq!(report.issues.len(), 2);
    assert!(report.issues.iter().all(|i| i.row == Some(1)));
    assert!(report.issues[0].reason.contains("不得增删或调整顺序"));

    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in COLUMNS[..19].iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("w");
    }
    let report = import(&wb.save_to_buffer().expect("s"), Photos::None, &opts()).expect_err("x");
    assert_eq!(report.issues.len(), 1);
    assert_eq!(report.issues[0].column, "考试类别");
}

#[test]
fn not_an_xlsx_is_reported_not_panicked() {
    let report = import(b"not a spreadsheet", Photos::None, &opts()).expect_err("refused");
    assert_eq!(report.issues.len(), 1);
}

#[test]
fn duplicate_id_across_sheets_refused() {
    let rows = vec![row(1, ApplicationKind::New), {
        let mut r = row(1, ApplicationKind::Replacement);
        r.certificate_number = Some("川X230001".parse().expect("number"));
        r
    }];
    let bytes = roster_xlsx(&rows).expect("write");
    let report = import(&bytes, Photos::None, &opts()).expect_err("refused");
    assert_eq!(report.issues.len(), 1);
    assert!(report.issues[0].reason.contains("重复"));
}

fn good_photo(seed: u64) -> Vec<u8> {
    portrait_jpeg(480, 560, 40, 90, seed)
}

#[test]
fn photos_from_zip_are_matched_by_id() {
    let rows: Vec<RosterRow> = (1..=2).map(|n| row(n, ApplicationKind::New)).collect();
    let bytes = roster_xlsx(&rows).expect("write");
    let mut zip_bytes = Vec::new();
    {
        let mut z = zip::ZipWriter::new(Cursor::new(&mut zip_bytes));
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for n in 1..=2 {
            z.start_file(format!("照片/{}.jpg", id(n)), o)
                .expect("start");
            z.write_all(&good_photo(u64::from(n))).expect("write");
        }
        z.finish().expect("finish");
    }
    let back = import(&bytes, Photos::Zip(&zip_bytes), &opts()).expect("imports");
    assert!(back.iter().all(|r| r.photo.is_some()));
    assert_eq!(back[1].photo.as_deref(), Some(good_photo(2).as_slice()));
}

#[test]
fn missing_extra_and_bad_photos_each_reported() {
    let rows: Vec<RosterRow> = (1..=2).map(|n| row(n, ApplicationKind::New)).collect();
    let bytes = roster_xlsx(&rows).expect("write");
    let files = vec![
        (format!("{}.jpg", id(1)), portrait_jpeg(200, 230, 0, 80, 1)), // too small
        (format!("{}.jpg", id(77)), good_photo(3)),                    // nobody in the sheet
    ];
    let report = import(&bytes, Photos::Files(&files), &opts()).expect_err("refused");
    let reasons: Vec<String> = report.issues.iter().map(|i| i.to_string()).collect();
    assert_eq!(report.issues.len(), 5, "{reasons:#?}");
    // id(1): too few bytes + too few pixels; then both rows lack an accepted
    // photo; id(77) is an extra photo.
    assert!(reasons.iter().filter(|r| r.contains("缺少照片")).count() == 2);
    assert!(reasons.iter().any(|r| r.contains("没有对应的人员")));
}

/// The one validity rule at import: 起始日 is the announcement date; the end date is
/// filled in when empty and refused (with the right date) when it disagrees.
#[test]
fn import_checks_validity_dates_against_the_rule() {
    let ann = NaiveDate::from_ymd_opt(2025, 7, 20).expect("d");
    // Filled in.
    let mut r = number_row(3);
    r[12] = Cell::D(ann);
    let rows = import(&workbook(&[r]), Photos::None, &opts()).expect("imports");
    assert_eq!(rows[0].valid_until, NaiveDate::from_ymd_opt(2030, 7, 20));

    // The old "60 months - 1 day": refused, with the right date in the reason.
    let mut r = number_row(3);
    r[12] = Cell::D(ann);
    r[6] = Cell::D(NaiveDate::from_ymd_opt(2030, 7, 19).expect("d"));
    let report = import(&workbook(&[r]), Photos::None, &opts()).expect_err("refused");
    assert_eq!(report.issues.len(), 1, "{:?}", report.issues);
    assert_eq!(report.issues[0].column, "证有效期截止日");
    assert!(
        report.issues[0].reason.contains("应为2030-07-20"),
        "{:?}",
        report.issues
    );

    // Someone retiring within the five years: the retirement date, not five years.
    // A man born 1968-09-15 retires on 2029-09-15 (2025 reform: +12 months).
    let old = ecard_domain::citizen_id::with_check_digit(&ecard_domain::citizen_id::first17(
        "510100",
        NaiveDate::from_ymd_opt(1968, 9, 15).expect("d"),
        11,
    ))
    .expect("id");
    let mut r = number_row(3);
    r[7] = s(&old);
    r[8] = Cell::E;
    r[10] = Cell::E;
    r[12] = Cell::D(ann);
    r[6] = Cell::D(NaiveDate::from_ymd_opt(2030, 7, 20).expect("d"));
    let report = import(&workbook(&[r.clone()]), Photos::None, &opts()).expect_err("refused");
    assert!(
        report.issues[0].reason.contains("应为2029-09-15"),
        "{:?}",
        report.issues
    );
    r[6] = Cell::E;
    let rows = import(&workbook(&[r]), Photos::None, &opts()).expect("imports");
    assert_eq!(rows[0].valid_until, NaiveDate::from_ymd_opt(2029, 9, 15));

    // An end date without the announcement date cannot be checked: refused.
    let mut r = number_row(3);
    r[6] = Cell::D(NaiveDate::from_ymd_opt(2030, 7, 20).expect("d"));
    let report = import(&workbook(&[r]), Photos::None, &opts()).expect_err("refused");
    assert_eq!(report.issues[0].column, "证有效期起始日");
}

/// The station's import takes the photo limits of the province configuration:
/// Sichuan's 「100KB以内」 refuses a photo Guangxi's 100 KB–1 MB accepts.
#[test]
fn photo_limits_come_from_the_province_configuration() {
    use ecard_domain::province::{ProvinceConfig, GUANGXI_JSON};
    let rows: Vec<RosterRow> = vec![row(1, ApplicationKind::New)];
    let bytes = roster_xlsx(&rows).expect("write");
    let photo = good_photo(1);
    assert!(photo.len() > 100 * 1024, "fixture is {} bytes", photo.len());
    let files = vec![(format!("{}.jpg", id(1)), photo)];
    let guangxi = ProvinceConfig::from_json(GUANGXI_JSON).expect("guangxi");
    let ok = import(
        &bytes,
        Photos::Files(&files),
        &ImportOptions::for_province(today(), &guangxi),
    );
    assert!(ok.is_ok(), "{:?}", ok.err());
    let report = import(
        &bytes,
        Photos::Files(&files),
        &ImportOptions::for_province(today(), &ProvinceConfig::sichuan()),
    )
    .expect_err("too large for Sichuan");
    // The photo is reported, and the row that needed it.
    assert!(
        report.issues[0]
            .reason
            .contains("应不大于102400字节（100KB）"),
        "{:?}",
        report.issues
    );
}

/// Sichuan (the registry numbers) with `units_prefill_numbers` switched on: the
/// Fujian way (「按各执法单位证照编号规则生成编号后上传取证」), same tables.
fn units_number() -> ImportOptions {
    use ecard_domain::province::{ProvinceConfig, SICHUAN_JSON};
    let json = SICHUAN_JSON.replace(
        "\"units_prefill_numbers\": false",
        "\"units_prefill_numbers\": true",
    );
    let province = ProvinceConfig::from_json(&json).expect("config");
    assert!(province.units_prefill_numbers, "the switch is in the file");
    ImportOptions::for_province(today(), &province)
}

#[test]
fn a_prefilled_number_is_accepted_where_units_number_and_checked_by_the_rule() {
    let mut r = number_row(3);
    r[5] = s("川X018888");
    let rows = import(&workbook(&[r]), Photos::None, &units_number()).expect("accepted");
    assert_eq!(
        rows[0].certificate_number.as_ref().map(|n| n.as_str()),
        Some("川X018888")
    );
    // Where the registry numbers, the same row is refused, saying so.
    let mut r = number_row(3);
    r[5] = s("川X018888");
    let report = import(&workbook(&[r]), Photos::None, &opts()).expect_err("refused");
    assert_eq!(report.issues[0].column, "证编号");
    assert!(report.issues[0].reason.contains("登记中心"), "{report}");
    // Not a number of the province's rule: refused even where units number.
    let mut r = number_row(3);
    r[5] = s("闽A019999");
    let report = import(&workbook(&[r]), Photos::None, &units_number()).expect_err("refused");
    assert_eq!(report.issues[0].column, "证编号");
    assert!(report.issues[0].reason.contains("地区代码"), "{report}");
}

fn good_form(n: u32) -> ecard_domain::roster::RosterForm {
    let id = id(n);
    ecard_domain::roster::RosterForm {
        county: "岳池县".into(),
        name: "蔡某".into(),
        unit: "岳池县教育局".into(),
        citizen_id: id.as_str().into(),
        ethnicity: "汉族".into(),
        political_status: "中共党员".into(),
        law_major: "是".into(),
        legal_qualification: "否".into(),
        posts: "01,02".into(),
        exam_category: "综合法律知识考试".into(),
        ..Default::default()
    }
}

/// One person typed into the station's form is checked by the roster's own row
/// check: the same problems, the same columns and words as in a spreadsheet.
#[test]
fn a_form_is_refused_for_the_same_reasons_as_a_roster_row() {
    use ecard_domain::roster::{check_form, FORM_SHEET};
    let row = check_form(&good_form(4), None, &opts()).expect("a good form");
    // A row shown in the form for editing checks back to the same row.
    let shown = ecard_domain::roster::RosterForm::from_row(&row);
    assert_eq!(check_form(&shown, None, &opts()), Ok(row.clone()));
    assert_eq!(row.kind, ApplicationKind::New);
    assert_eq!(row.citizen_id, id(4));
    assert_eq!(row.posts.len(), 2);

    let mut bad = good_form(4);
    bad.citizen_id = "452122197502156642".into(); // the guide's sample: bad check digit
    bad.political_status = "14".into();
    bad.certificate_number = "川X018888".into();
    let report = check_form(&bad, None, &opts()).expect_err("refused");
    let cols: Vec<&str> = report.issues.iter().map(|i| i.column.as_str()).collect();
    assert_eq!(cols, ["证编号", "持证人身份证号码", "政治面貌"], "{report}");
    assert!(report
        .issues
        .iter()
        .all(|i| i.sheet == FORM_SHEET && i.row.is_none()));
    // The same cells in a spreadsheet row: the same reasons, word for word.
    let mut cells = number_row(4);
    cells[5] = s("川X018888");
    cells[7] = s("452122197502156642");
    cells[11] = s("14");
    let sheet = import(&workbook(&[cells]), Photos::None, &opts()).expect_err("refused");
    let reasons = |r: &ecard_domain::roster::ImportReport| {
        r.issues
            .iter()
            .map(|i| i.reason.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(reasons(&report), reasons(&sheet));
}

#[test]
fn a_forms_photo_is_checked_as_a_roster_photo_file() {
    use ecard_domain::province::ProvinceConfig;
    use ecard_domain::roster::check_form;
    let sichuan = ImportOptions::for_province(today(), &ProvinceConfig::sichuan());
    let big = good_photo(1);
    let report = check_form(&good_form(1), Some(&big), &sichuan).expect_err("over 100 KB");
    assert_eq!(report.issues[0].column, format!("{}.jpg", id(1)));
    assert!(report.issues[0].reason.contains("100KB"), "{report}");
    let small = portrait_jpeg(410, 470, 8, 60, 3);
    let row = check_form(&good_form(1), Some(&small), &sichuan).expect("a fitting photo");
    assert_eq!(row.photo.as_deref(), Some(small.as_slice()));
}

/// The template's eligibility columns (通用法律知识考试时间/成绩, 编制情况, after the
/// official 20): read into the row, checked by the one eligibility rule the
/// registry's form uses — a failed, expired or future exam and staff not formal are
/// refused with the rule's own words, in a spreadsheet and in the form alike; a
/// roster on the official 20 columns still reads, the facts left to the reviewer.
#[test]
fn eligibility_columns_are_read_and_checked_by_the_same_rule_as_the_form() {
    use ecard_domain::eligibility::{Ineligible, Staffing};
    use ecard_domain::roster::{check_form, EXTRA_COLUMNS};
    let headers: Vec<&str> = COLUMNS
        .iter()
        .chain(EXTRA_COLUMNS.iter())
        .copied()
        .collect();
    let with = |n: u32, exam_on: Cell, score: Cell, staffing: &str| {
        let mut cells = number_row(n);
        cells.extend([exam_on, score, s(staffing)]);
        cells
    };
    let taken = NaiveDate::from_ymd_opt(2025, 7, 20).expect("d");
    let rows = import(
        &workbook_with(
            &headers,
            &[with(1, Cell::D(taken), Cell::N(78.0), "公务员")],
        ),
        Photos::None,
        &opts(),
    )
    .expect("an eligible row");
    assert_eq!(rows[0].law_exam_on, Some(taken));
    assert_eq!(rows[0].law_exam_score, Some(78));
    assert_eq!(rows[0].staffing, Some(Staffing::CivilServant));

    // Each failure in its column, in the rule's words; the same through the form.
    let today = opts().today;
    type Case<'a> = (Cell, Cell, &'a str, Vec<(&'a str, String)>);
    let cases: Vec<Case> = vec![
        (
            s("2025-07-20"),
            s("59"),
            "合同聘用人员",
            vec![
                (
                    "通用法律知识考试成绩",
                    Ineligible::LawExamFailed { score: 59, pass: 60 }.to_string(),
                ),
                (
                    "编制情况",
                    Ineligible::NotFormalStaff(Staffing::Contract).to_string(),
                ),
            ],
        ),
        (
            s("2023-05-31"),
            s("80"),
            "事业干部",
            vec![(
                "通用法律知识考试时间",
                Ineligible::LawExamExpired {
                    taken_on: NaiveDate::from_ymd_opt(2023, 5, 31).expect("d"),
                    earliest: ecard_domain::eligibility::earliest_exam_date(today),
                }
                .to_string(),
            )],
        ),
        (
            s("2025-07-20"),
            Cell::E,
            "临时工",
            vec![
                (
                    "通用法律知识考试成绩",
                    "填写了通用法律知识考试时间时须同时填写成绩".to_owned(),
                ),
                (
                    "编制情况",
                    "编制情况“临时工”应为：公务员、参公管理人员、事业干部、机关工勤人员、合同聘用人员、劳务派遣人员".to_owned(),
                ),
            ],
        ),
        (
            Cell::E,
            s("101"),
            "",
            vec![
                (
                    "通用法律知识考试时间",
                    "填写了通用法律知识考试成绩时须同时填写考试时间".to_owned(),
                ),
                (
                    "通用法律知识考试成绩",
                    "通用法律知识考试成绩“101”应为0到100之间的整数分".to_owned(),
                ),
            ],
        ),
    ];
    for (exam_on, score, staffing, expected) in cases {
        let text = |c: &Cell| match c {
            Cell::S(t) => t.clone(),
            _ => String::new(),
        };
        let mut form = good_form(2);
        form.law_exam_on = text(&exam_on);
        form.law_exam_score = text(&score);
        form.staffing = staffing.to_owned();
        let report = import(
            &workbook_with(&headers, &[with(2, exam_on, score, staffing)]),
            Photos::None,
            &opts(),
        )
        .expect_err("refused");
        let got: Vec<(&str, String)> = report
            .issues
            .iter()
            .map(|i| (i.column.as_str(), i.reason.clone()))
            .collect();
        assert_eq!(got, expected, "{report}");
        let by_form = check_form(&form, None, &opts()).expect_err("refused by the form too");
        let got: Vec<(&str, String)> = by_form
            .issues
            .iter()
            .map(|i| (i.column.as_str(), i.reason.clone()))
            .collect();
        assert_eq!(got, expected, "{by_form}");
    }

    // The official 20 columns: no facts, nothing refused for them.
    let rows = import(&workbook(&[number_row(3)]), Photos::None, &opts()).expect("reads");
    assert_eq!((rows[0].law_exam_score, rows[0].staffing), (None, None));
    // An unknown extra column is still refused.
    let mut odd = headers.clone();
    odd[21] = "考试分数";
    let report = import(
        &workbook_with(&odd, &[with(4, Cell::D(taken), Cell::N(78.0), "公务员")]),
        Photos::None,
        &opts(),
    )
    .expect_err("refused");
    assert!(report.issues[0].reason.contains("模板以外的列"), "{report}");

    // The station's template writes them; a filled roster reads back the same.
    let mut row = rows[0].clone();
    row.law_exam_on = Some(taken);
    row.law_exam_score = Some(91);
    row.staffing = Some(Staffing::ReferenceCivilServant);
    let back = import(
        &roster_xlsx(std::slice::from_ref(&row)).expect("xlsx"),
        Photos::None,
        &opts(),
    )
    .expect("reads back");
    assert_eq!(
        (
            back[0].law_exam_on,
            back[0].law_exam_score,
            back[0].staffing
        ),
        (Some(taken), Some(91), Some(Staffing::ReferenceCivilServant))
    );
}

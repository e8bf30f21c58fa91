//! Hostile uploads: a roster xlsx or photo zip made to exhaust memory is refused
//! before anything is allocated for its contents, with a stable code and a Chinese
//! message (ecard_domain::file_limits). The workbooks are written part by part with
//! the zip crate, as an attacker would.

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ecard_domain::file_limits::{self, FileLimit};
use ecard_domain::roster::{import, ImportOptions, ImportReport, Photos};
use proptest::prelude::*;
use zip::write::SimpleFileOptions;

fn opts() -> ImportOptions {
    ImportOptions::new(NaiveDate::from_ymd_opt(2026, 6, 1).expect("date"))
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#;
const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

/// A workbook of the given sheets (XML of each `sheetN.xml`) and optional shared
/// strings, deflated.
fn xlsx(sheets: &[String], shared_strings: Option<&str>) -> Vec<u8> {
    let mut workbook = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#,
    );
    let mut rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for i in 1..=sheets.len() {
        workbook.push_str(&format!(
            r#"<sheet name="Sheet{i}" sheetId="{i}" r:id="rId{i}"/>"#
        ));
        rels.push_str(&format!(
            r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>"#
        ));
    }
    if shared_strings.is_some() {
        rels.push_str(r#"<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"#);
    }
    workbook.push_str("</sheets></workbook>");
    rels.push_str("</Relationships>");

    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut put = |name: &str, body: &str| {
        out.start_file(name, o).expect("entry");
        out.write_all(body.as_bytes()).expect("write");
    };
    put("[Content_Types].xml", CONTENT_TYPES);
    put("_rels/.rels", ROOT_RELS);
    put("xl/workbook.xml", &workbook);
    put("xl/_rels/workbook.xml.rels", &rels);
    for (i, sheet) in sheets.iter().enumerate() {
        put(&format!("xl/worksheets/sheet{}.xml", i + 1), sheet);
    }
    if let Some(sst) = shared_strings {
        put("xl/sharedStrings.xml", sst);
    }
    out.finish().expect("zip").into_inner()
}

/// A sheet's XML around `body` (the inside of `<sheetData>`).
fn sheet(dimension: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{body}</sheetData></worksheet>"#
    )
}

fn inline(reference: &str, text: &str) -> String {
    format!(r#"<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

/// The refusal of a file refused unread: its limit, with its message as an issue.
fn refused(report: ImportReport) -> FileLimit {
    let limit = report.refused.clone().expect("refused for a limit");
    assert_eq!(report.issues.len(), 1, "{report:?}");
    assert_eq!(report.issues[0].reason, limit.to_string());
    limit
}

#[test]
fn cells_at_a1_and_xfd1048576_are_refused_before_calamine_allocates() {
    let body = format!(
        r#"<row r="1">{}</row><row r="1048576">{}</row>"#,
        inline("A1", "序号"),
        inline("XFD1048576", "x")
    );
    let bytes = xlsx(&[sheet("A1:XFD1048576", &body)], None);
    assert!(bytes.len() < 2048, "a small file: {} bytes", bytes.len());
    // Without the check calamine asks for 17 billion cells and the process aborts.
    let report = import(&bytes, Photos::None, &opts()).expect_err("refused");
    let limit = refused(report);
    assert_eq!(limit.code(), "xlsx_range_too_large");
    assert!(limit.to_string().contains("XFD1048576"), "{limit}");
    assert!(limit.to_string().contains("使用范围过大"), "{limit}");
}

#[test]
fn a_far_cell_is_refused_even_when_the_dimension_is_small() {
    let body = format!(
        r#"<row r="1">{}{}</row>"#,
        inline("A1", "序号"),
        inline("ZZZ1", "x")
    );
    let bytes = xlsx(&[sheet("A1:B1", &body)], None);
    let limit = refused(import(&bytes, Photos::None, &opts()).expect_err("refused"));
    assert_eq!(limit.code(), "xlsx_range_too_large");
}

#[test]
fn a_far_row_without_cell_references_is_refused() {
    // Cells without `r` take the row's number: calamine places this one at A1048576.
    let body = r#"<row r="1048576"><c t="inlineStr"><is><t>x</t></is></c></row>"#;
    let bytes = xlsx(&[sheet("A1", body)], None);
    let limit = refused(import(&bytes, Photos::None, &opts()).expect_err("refused"));
    assert_eq!(limit.code(), "xlsx_range_too_large");
}

#[test]
fn a_huge_declared_dimension_alone_is_refused() {
    let bytes = xlsx(&[sheet("A1:XFD1048576", &inline("A1", "序号"))], None);
    let limit = refused(import(&bytes, Photos::None, &opts()).expect_err("refused"));
    assert_eq!(limit.code(), "xlsx_range_too_large");
}

#[test]
fn an_overlong_cell_reference_is_refused_not_overflowed() {
    let body = format!(r#"<row>{}</row>"#, inline("AAAAAAAAAAAAAAAA1", "x"));
    let bytes = xlsx(&[sheet("A1", &body)], None);
    let limit = refused(import(&bytes, Photos::None, &opts()).expect_err("refused"));
    assert_eq!(limit.code(), "xlsx_bad_cell_reference");
}

#[test]
fn too_many_sheets_are_refused() {
    let sheets = vec![sheet("A1", ""); file_limits::MAX_SHEETS + 1];
    let limit = refused(import(&xlsx(&sheets, None), Photos::None, &opts()).expect_err("refused"));
    assert_eq!(limit.code(), "xlsx_too_many_sheets");
}

#[test]
fn too_many_cells_are_refused() {
    // Rows of 200 cells each, within the range limits, over the cell limit.
    let row_cells: String = (0..200).map(|_| "<c><v>1</v></c>").collect();
    let rows = (file_limits::MAX_CELLS / 200 + 1) as usize;
    assert!(rows < file_limits::MAX_ROWS as usize);
    let body: String = (0..rows)
        .map(|_| format!("<row>{row_cells}</row>"))
        .collect();
    let bytes = xlsx(&[sheet("A1", &body)], None);
    let limit = refused(import(&bytes, Photos::None, &opts()).expect_err("refused"));
    assert_eq!(limit.code(), "xlsx_too_many_cells");
}

#[test]
fn too_many_shared_strings_are_refused() {
    let entries = "<si/>".repeat(file_limits::MAX_SHARED_STRINGS as usize + 1);
    let sst = format!(
        r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{entries}</sst>"#
    );
    let bytes = xlsx(&[sheet("A1", "")], Some(&sst));
    let limit = refused(import(&bytes, Photos::None, &opts()).expect_err("refused"));
    assert_eq!(limit.code(), "xlsx_shared_strings_too_large");
}

#[test]
fn a_shared_strings_part_over_its_size_is_refused() {
    let text = "a".repeat(file_limits::MAX_SHARED_STRINGS_BYTES as usize);
    let sst = format!(
        r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>{text}</t></si></sst>"#
    );
    let bytes = xlsx(&[sheet("A1", "")], Some(&sst));
    assert!(
        bytes.len() < 1024 * 1024,
        "it deflates to {} bytes",
        bytes.len()
    );
    let limit = refused(import(&bytes, Photos::None, &opts()).expect_err("refused"));
    assert_eq!(limit.code(), "xlsx_shared_strings_too_large");
}

#[test]
fn a_part_inflating_past_its_limit_is_refused() {
    let padding = " ".repeat(file_limits::MAX_XLSX_PART_BYTES as usize + 1);
    let bytes = xlsx(&[sheet("A1", &padding)], None);
    let limit = refused(import(&bytes, Photos::None, &opts()).expect_err("refused"));
    assert_eq!(limit.code(), "xlsx_part_too_large");
}

#[test]
fn the_official_template_passes_the_limits() {
    let template = ecard_domain::forms::roster_template().expect("template");
    file_limits::check_xlsx(&template).expect("within the limits");
}

fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, body) in entries {
        out.start_file(name.as_str(), o).expect("entry");
        out.write_all(body).expect("write");
    }
    out.finish().expect("zip").into_inner()
}

#[test]
fn a_photo_zip_with_too_many_entries_is_refused() {
    let entries: Vec<(String, Vec<u8>)> = (0..=file_limits::MAX_PHOTO_ENTRIES)
        .map(|i| (format!("{i}.jpg"), Vec::new()))
        .collect();
    let photos = zip_of(&entries);
    let roster = ecard_domain::forms::roster_template().expect("template");
    let report = import(&roster, Photos::Zip(&photos), &opts()).expect_err("refused");
    let limit = report.refused.clone().expect("refused for a limit");
    assert_eq!(limit.code(), "photos_too_many_entries");
    assert!(report.issues.iter().any(|i| i.reason == limit.to_string()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any bytes as the roster and as the photo zip: rows or a report, never a
    /// panic, in bounded time.
    #[test]
    fn arbitrary_bytes_give_rows_or_a_report(xlsx_bytes in proptest::collection::vec(any::<u8>(), 0..4096),
                                             zip_bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let started = Instant::now();
        for photos in [Photos::None, Photos::Zip(&zip_bytes)] {
            if let Err(report) = import(&xlsx_bytes, photos, &opts()) {
                prop_assert!(!report.issues.is_empty());
            }
        }
        prop_assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// Arbitrary well-formed zips of sheet-like parts (random cell references,
    /// dimensions and rows): never a panic, and a file that passes the limits is
    /// read by calamine within them.
    #[test]
    fn arbitrary_workbooks_give_rows_or_a_report(
        cells in proptest::collection::vec((0u32..30_000, 0u32..20_000, any::<bool>()), 0..40),
        dim in (0u32..2_000_000, 0u32..20_000),
        sheets in 1usize..20,
    ) {
        let name = |r: u32, c: u32| {
            let mut letters = Vec::new();
            let mut n = c + 1;
            while n > 0 { letters.push(char::from(b'A' + ((n - 1) % 26) as u8)); n = (n - 1) / 26; }
            letters.iter().rev().collect::<String>() + &(r + 1).to_string()
        };
        let body: String = cells.iter().map(|&(r, c, explicit)| if explicit {
            format!(r#"<row r="{}">{}</row>"#, r + 1, inline(&name(r, c), "v"))
        } else {
            r#"<row><c t="inlineStr"><is><t>v</t></is></c></row>"#.to_owned()
        }).collect();
        let one = sheet(&format!("A1:{}", name(dim.0, dim.1)), &body);
        let bytes = xlsx(&vec![one; sheets], None);
        let started = Instant::now();
        if let Err(report) = import(&bytes, Photos::None, &opts()) {
            prop_assert!(!report.issues.is_empty());
        }
        prop_assert!(started.elapsed() < Duration::from_secs(5));
    }
}

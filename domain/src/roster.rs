//! Batch roster import from the official template
//! 《行政执法人员基本信息数据元采集表》 (seed 003), with the holders' photos.
//!
//! - The header row is found by its first cell `序号` within the first 10 rows
//!   (a title row above it is fine). The 20 columns must be exactly
//!   [`COLUMNS`], in order; whitespace and full-/half-width brackets in header
//!   cells are ignored, and two misspellings found in the published template
//!   are accepted. A missing, extra or reordered column is a structural error.
//! - Sheets: the first sheet holds new applicants; a sheet whose name contains
//!   `换证` holds replacement applicants (seed 003: "换证人员需单独列表上传"),
//!   same columns, where `证编号` is the holder's current (old) certificate number.
//!   Other sheets (instructions) are ignored. In the new-applicant sheet
//!   `证编号` must be empty: numbers are allocated by the system.
//! - Codes stored by Excel as numbers come back zero-padded (`2` → `02`); dates
//!   may be Excel date serials or `YYYY-MM-DD` text.
//! - Gender is derived from the ID; a filled `性别` or `出生日期` must agree.
//! - All-or-nothing: [`import`] returns either every row or an [`ImportReport`]
//!   listing every problem (sheet, Excel row number, column header, reason).

use std::collections::HashMap;
use std::io::{Cursor, Read};

use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::citizen_id::{CitizenId, Gender};
use crate::codes::{self, Ethnicity, PoliticalStatus, PostCode};
use crate::eligibility::{self, ExamResult, Facts, Ineligible, Staffing};
use crate::file_limits::{self, FileLimit, PhotoBudget};
use crate::numbering::{CertificateNumber, NumberingRule};
use crate::photo::{self, PhotoRules};
use crate::validity::{self, RetirementRule, ValidityError};

/// The template's columns, in order.
pub const COLUMNS: [&str; 20] = [
    "序号",
    "县(市、区)",
    "持证人姓名",
    "照片",
    "所属执法主体或受委托组织名称",
    "证编号",
    "证有效期截止日",
    "持证人身份证号码",
    "性别",
    "民族",
    "出生日期",
    "政治面貌",
    "证有效期起始日",
    "最高学历",
    "最高学历专业",
    "职级代码",
    "是否法学专业",
    "是否具有法律职业资格",
    "执法岗位",
    "考试类别",
];

/// The eligibility columns the station's template adds after the official 20
/// (issue 12: a row filed from the template arrived 「unverified」 without them).
/// Optional in a file: a roster on the official 20-column template still reads,
/// its rows without these facts (the reviewer sees them unverified); where present,
/// in any order after 考试类别, each at most once. Checked by the same eligibility
/// rule as the registry's form (`eligibility::check`).
pub const EXTRA_COLUMNS: [&str; 5] = [
    "通用法律知识考试时间",
    "通用法律知识考试成绩",
    "编制情况",
    "工作单位机构性质",
    "现任职务",
];

/// The longest 机构性质 or 现任职务 a row may carry (the registry's form's limit).
pub const MAX_FACT_CHARS: usize = 50;

/// Every column a row may carry: the template's, then [`EXTRA_COLUMNS`].
pub fn column_name(c: usize) -> &'static str {
    COLUMNS
        .get(c)
        .or_else(|| EXTRA_COLUMNS.get(c - COLUMNS.len()))
        .copied()
        .unwrap_or("")
}

fn column_position(name: &str) -> usize {
    COLUMNS
        .iter()
        .chain(EXTRA_COLUMNS.iter())
        .position(|c| *c == name)
        .unwrap_or(usize::MAX)
}

/// Misspellings in the published Fujian template (seed 003), accepted as aliases.
const COLUMN_ALIASES: [(usize, &str); 2] =
    [(4, "所属执法主持或照的托组织名称"), (12, "持有效期起始日")];

/// Title of the template (row 1).
pub const TEMPLATE_TITLE: &str = "行政执法人员基本信息数据元采集表";
/// Default name of the new-applicant sheet written by [`crate::forms`].
pub const SHEET_NEW: &str = "新申领人员";
/// Default name of the replacement sheet written by [`crate::forms`].
pub const SHEET_REPLACEMENT: &str = "换证人员";

/// Width of 职级代码 when Excel stored it as a number (seed sample: `020201`).
const RANK_CODE_DIGITS: usize = 6;
/// How many rows above the header are searched for it.
const HEADER_SEARCH_ROWS: u32 = 10;

mod col {
    pub const COUNTY: usize = 1;
    pub const NAME: usize = 2;
    pub const PHOTO: usize = 3;
    pub const UNIT: usize = 4;
    pub const NUMBER: usize = 5;
    pub const VALID_UNTIL: usize = 6;
    pub const ID: usize = 7;
    pub const GENDER: usize = 8;
    pub const ETHNICITY: usize = 9;
    pub const BIRTH: usize = 10;
    pub const POLITICAL: usize = 11;
    pub const VALID_FROM: usize = 12;
    pub const EDUCATION: usize = 13;
    pub const MAJOR: usize = 14;
    pub const RANK: usize = 15;
    pub const LAW_MAJOR: usize = 16;
    pub const LEGAL_QUAL: usize = 17;
    pub const POSTS: usize = 18;
    pub const EXAM: usize = 19;
    pub const LAW_EXAM_ON: usize = 20;
    pub const LAW_EXAM_SCORE: usize = 21;
    pub const STAFFING: usize = 22;
    pub const ORG_NATURE: usize = 23;
    pub const POSITION: usize = 24;
    /// Cells of a row: the template's and the extra columns.
    pub const ALL: usize = 25;
}

/// Which sheet a row came from. One type for the roster, the station's records and
/// the sync protocol (`application_submitted.kind`); the capitalised spellings are
/// what rows stored before this was unified say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationKind {
    /// 新申领
    #[serde(alias = "New")]
    New,
    /// 换证: `certificate_number` is the holder's current certificate.
    #[serde(alias = "Replacement")]
    Replacement,
}

impl ApplicationKind {
    /// The stable code (as stored and sent).
    pub const fn as_str(self) -> &'static str {
        match self {
            ApplicationKind::New => "new",
            ApplicationKind::Replacement => "replacement",
        }
    }
}

/// One validated row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterRow {
    pub kind: ApplicationKind,
    /// Row number as Excel shows it.
    pub excel_row: u32,
    pub county: String,
    pub name: String,
    pub unit: String,
    /// New: `None`, or the number the unit gave it where the province's units number
    /// their own (`ImportOptions::prefilled_numbers`). Replacement: the current (old)
    /// certificate number.
    pub certificate_number: Option<CertificateNumber>,
    pub valid_until: Option<NaiveDate>,
    pub citizen_id: CitizenId,
    pub gender: Gender,
    pub ethnicity: Ethnicity,
    pub birth_date: NaiveDate,
    pub political_status: PoliticalStatus,
    pub valid_from: Option<NaiveDate>,
    pub education: String,
    pub major: String,
    pub rank_code: String,
    pub law_major: bool,
    pub legal_qualification: bool,
    pub posts: Vec<PostCode>,
    pub exam_category: String,
    /// 通用法律知识考试时间 and 成绩 (extra columns; `None` when not given).
    #[serde(default)]
    pub law_exam_on: Option<NaiveDate>,
    #[serde(default)]
    pub law_exam_score: Option<u16>,
    /// 编制情况 (extra column).
    #[serde(default)]
    pub staffing: Option<Staffing>,
    /// 工作单位机构性质 (extra column; e.g. 行政机关, 法律法规授权组织, 受委托组织).
    #[serde(default)]
    pub org_nature: Option<String>,
    /// 现任职务 (extra column; the position held, e.g. 科员, not the post codes).
    #[serde(default)]
    pub position: Option<String>,
    /// The checked photo (present when photos were supplied to [`import`]).
    #[serde(skip)]
    pub photo: Option<Vec<u8>>,
}

/// One problem found during import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportIssue {
    /// Sheet name, or `照片` for a problem with the photo archive itself.
    pub sheet: String,
    /// Row number as Excel shows it; `None` for whole-file problems.
    pub row: Option<u32>,
    /// Column header (`COLUMNS`), or empty for whole-file problems.
    pub column: String,
    /// Chinese explanation.
    pub reason: String,
}

impl std::fmt::Display for ImportIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.row {
            Some(r) => write!(
                f,
                "{} 第{}行 {}：{}",
                self.sheet, r, self.column, self.reason
            ),
            None => write!(f, "{} {}：{}", self.sheet, self.column, self.reason),
        }
    }
}

/// Every problem of a refused import. `Display` is a Chinese summary.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, thiserror::Error)]
#[error("导入失败，共发现{}处问题，未导入任何数据", .issues.len())]
pub struct ImportReport {
    pub issues: Vec<ImportIssue>,
    /// Set when a file was refused unread for exceeding a limit
    /// ([`crate::file_limits`]); its message is among `issues` too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<FileLimit>,
    /// Set when the file is not an xlsx workbook at all (a .xls, a CSV, a renamed
    /// file): there are no rows to report on, only what to do ([`NOT_XLSX`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_xlsx: bool,
}

/// What a clerk is told when the roster is not an xlsx workbook. The spreadsheet
/// library's own reason (English, about zip archives) is no help to them.
pub const NOT_XLSX: &str = "所选文件不是 .xlsx 格式的花名册，无法读取。请下载官方花名册模板填写，在 Excel 或 WPS 中“另存为” Excel 工作簿（.xlsx）后重新上传。";

/// Headers of the downloadable error report.
pub const REPORT_COLUMNS: [&str; 4] = ["工作表", "行号", "列", "问题"];

/// Error writing a spreadsheet. `Display` is the Chinese message.
#[derive(Debug, thiserror::Error)]
#[error("生成Excel文件失败：{0}")]
pub struct XlsxWriteError(#[from] pub rust_xlsxwriter::XlsxError);

impl ImportReport {
    fn push(&mut self, sheet: &str, row: Option<u32>, column: &str, reason: impl Into<String>) {
        self.issues.push(ImportIssue {
            sheet: sheet.to_string(),
            row,
            column: column.to_string(),
            reason: reason.into(),
        });
    }

    /// A file refused unread: the limit, and its message as an issue.
    fn refuse(&mut self, sheet: &str, limit: FileLimit) {
        self.push(sheet, None, "", limit.to_string());
        self.refused = Some(limit);
    }

    /// The report as an xlsx workbook (one sheet 导入错误报告).
    pub fn to_xlsx(&self) -> Result<Vec<u8>, XlsxWriteError> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("导入错误报告")?;
        let bold = Format::new().set_bold();
        for (c, h) in REPORT_COLUMNS.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        ws.set_column_width(0, 14)?;
        ws.set_column_width(2, 28)?;
        ws.set_column_width(3, 70)?;
        for (i, issue) in self.issues.iter().enumerate() {
            let r = i as u32 + 1;
            ws.write_string(r, 0, &issue.sheet)?;
            if let Some(row) = issue.row {
                ws.write_number(r, 1, f64::from(row))?;
            }
            ws.write_string(r, 2, &issue.column)?;
            ws.write_string(r, 3, &issue.reason)?;
        }
        Ok(wb.save_to_buffer()?)
    }
}

/// The holders' photos, as uploaded.
#[derive(Debug, Clone, Copy)]
pub enum Photos<'a> {
    /// No photos in this import (they are uploaded later); photo checks skipped.
    None,
    /// A zip archive of `<ID>.jpg` files (folders inside are ignored).
    Zip(&'a [u8]),
    /// Already-read files: (file name, bytes). Reading a folder is the caller's job.
    Files(&'a [(String, Vec<u8>)]),
}

/// Import settings.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Birth dates after this day are refused.
    pub today: NaiveDate,
    pub photo_rules: PhotoRules,
    /// The province's retirement rule: it ends a certificate's validity
    /// (`validity::period_for`).
    pub retirement: RetirementRule,
    /// `Some(rule)` where the province's units number their own certificates
    /// (`ProvinceConfig::units_prefill_numbers`; Fujian:
    /// 「按各执法单位证照编号规则生成编号后上传取证」): a number in the new-applicant
    /// sheet is accepted when the rule parses it. `None` where the registry numbers:
    /// such a number is refused.
    pub prefilled_numbers: Option<NumberingRule>,
}

impl ImportOptions {
    pub fn new(today: NaiveDate) -> Self {
        ImportOptions {
            today,
            photo_rules: PhotoRules::default(),
            retirement: RetirementRule::shipped(),
            prefilled_numbers: None,
        }
    }

    /// The settings of a province's configuration (photo limits, retirement rule).
    pub fn for_province(today: NaiveDate, province: &crate::province::ProvinceConfig) -> Self {
        ImportOptions {
            today,
            photo_rules: province.photo,
            retirement: province.retirement.clone(),
            prefilled_numbers: province
                .units_prefill_numbers
                .then(|| province.numbering.clone()),
        }
    }
}

/// Header normalisation: no whitespace, half-width brackets.
fn norm_header(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            other => other,
        })
        .collect()
}

fn header_matches(i: usize, cell: &str) -> bool {
    let n = norm_header(cell);
    n == COLUMNS[i] || COLUMN_ALIASES.iter().any(|(j, a)| *j == i && n == *a)
}

/// Excel column letter for a 0-based index (A, B, …, Z, AA, …).
fn col_letter(mut c: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// Text of a cell, trimmed; `None` when empty. Whole numbers lose the `.0`.
fn cell_text(d: &Data) -> Option<String> {
    let s = match d {
        Data::Empty => return None,
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(dt) => match serial_to_date(dt.as_f64()) {
            Some(d) => codes::format_date(d),
            None => dt.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Error(e) => format!("#{e:?}"),
    };
    (!s.is_empty()).then_some(s)
}

fn is_number(d: &Data) -> bool {
    matches!(d, Data::Float(_) | Data::Int(_))
}

/// Excel (1900 date system) serial number to date. Serials below 61 are
/// shifted by Excel's fictitious 29 Feb 1900.
fn serial_to_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    let base = if days < 61 {
        NaiveDate::from_ymd_opt(1899, 12, 31)?
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    base.checked_add_signed(Duration::days(days))
}

/// A date cell: Excel date, serial number or `YYYY-MM-DD` text.
fn cell_date(d: &Data) -> Result<Option<NaiveDate>, String> {
    match d {
        Data::Empty => Ok(None),
        Data::DateTime(dt) => serial_to_date(dt.as_f64())
            .map(Some)
            .ok_or_else(|| "日期超出范围".to_string()),
        Data::Float(f) => serial_to_date(*f)
            .map(Some)
            .ok_or_else(|| format!("“{f}”不是有效日期")),
        Data::Int(i) => serial_to_date(*i as f64)
            .map(Some)
            .ok_or_else(|| format!("“{i}”不是有效日期")),
        Data::DateTimeIso(s) => codes::parse_date(s.get(..10).unwrap_or(s))
            .map(Some)
            .map_err(|e| e.to_string()),
        other => match cell_text(other) {
            None => Ok(None),
            Some(t) => codes::parse_date(&t).map(Some).map_err(|e| e.to_string()),
        },
    }
}

struct SheetRows {
    name: String,
    kind: ApplicationKind,
    range: Range<Data>,
}

/// Reads the workbook's relevant sheets; structural problems go to `report`.
fn read_sheets(xlsx: &[u8], report: &mut ImportReport) -> Vec<SheetRows> {
    let mut wb: Xlsx<_> = match open_workbook_from_rs(Cursor::new(xlsx)) {
        Ok(wb) => wb,
        Err(_) => {
            report.push("", None, "", NOT_XLSX);
            report.not_xlsx = true;
            return Vec::new();
        }
    };
    let names = wb.sheet_names();
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let kind = if name.contains("换证") {
            ApplicationKind::Replacement
        } else if i == 0 {
            ApplicationKind::New
        } else {
            continue;
        };
        match wb.worksheet_range(name) {
            Ok(range) => out.push(SheetRows {
                name: name.clone(),
                kind,
                range,
            }),
            Err(_) => report.push(
                name,
                None,
                "",
                "无法读取此工作表，请用官方模板另存为 .xlsx 后重新上传",
            ),
        }
    }
    if out.is_empty() && report.issues.is_empty() {
        report.push("", None, "", "Excel文件中没有工作表");
    }
    out
}

/// Finds the header row and checks the columns. Returns (header row, first col).
/// Where a sheet's header is: its row, its first column, and the column of each of
/// [`EXTRA_COLUMNS`] the sheet has.
struct Header {
    row: u32,
    first: u32,
    extra: [Option<u32>; EXTRA_COLUMNS.len()],
}

fn find_header(sheet: &SheetRows, report: &mut ImportReport) -> Option<Header> {
    let (r0, _) = sheet.range.start()?;
    let (r_end, c_end) = sheet.range.end()?;
    let empty = Data::Empty;
    let get = |r: u32, c: u32| sheet.range.get_value((r, c)).unwrap_or(&empty);
    let mut found = None;
    'rows: for r in r0..=r_end.min(r0 + HEADER_SEARCH_ROWS) {
        for c in 0..=c_end {
            if cell_text(get(r, c)).is_some_and(|t| norm_header(&t) == "序号") {
                found = Some((r, c));
                break 'rows;
            }
        }
    }
    let Some((hr, c0)) = found else {
        report.push(
            &sheet.name,
            None,
            "",
            "未找到表头：模板的表头行第一列应为“序号”，请使用官方模板，不要改动表头",
        );
        return None;
    };
    let before = report.issues.len();
    for (i, expected) in COLUMNS.iter().enumerate() {
        let c = c0 + i as u32;
        let got = cell_text(get(hr, c)).unwrap_or_default();
        if !header_matches(i, &got) {
            let reason = if got.is_empty() {
                format!(
                    "第{}列缺少表头“{expected}”，模板列不得删除或调整顺序",
                    col_letter(c)
                )
            } else {
                format!(
                    "第{}列表头应为“{expected}”，实际为“{got}”，模板列不得增删或调整顺序",
                    col_letter(c)
                )
            };
            report.push(&sheet.name, Some(hr + 1), expected, reason);
        }
    }
    let mut extra = [None; EXTRA_COLUMNS.len()];
    for c in c0 + COLUMNS.len() as u32..=c_end {
        if let Some(text) = cell_text(get(hr, c)) {
            let n = norm_header(&text);
            match EXTRA_COLUMNS.iter().position(|e| *e == n) {
                Some(i) if extra[i].is_none() => extra[i] = Some(c),
                Some(_) => report.push(
                    &sheet.name,
                    Some(hr + 1),
                    &text,
                    format!("第{}列“{text}”重复，请删除", col_letter(c)),
                ),
                None => report.push(
                    &sheet.name,
                    Some(hr + 1),
                    &text,
                    format!("第{}列“{text}”是模板以外的列，请删除", col_letter(c)),
                ),
            }
        }
    }
    (report.issues.len() == before).then_some(Header {
        row: hr,
        first: c0,
        extra,
    })
}

struct RowCtx<'a> {
    sheet: &'a str,
    row: u32,
    issues: Vec<ImportIssue>,
    retirement: &'a RetirementRule,
    prefilled_numbers: Option<&'a NumberingRule>,
}

impl RowCtx<'_> {
    fn bad(&mut self, col: usize, reason: impl Into<String>) {
        self.issues.push(ImportIssue {
            sheet: self.sheet.to_string(),
            row: Some(self.row),
            column: column_name(col).to_string(),
            reason: reason.into(),
        });
    }

    fn required(&mut self, cells: &[&Data], col: usize) -> Option<String> {
        let t = cell_text(cells[col]);
        if t.is_none() {
            self.bad(col, "不能为空");
        }
        t
    }
}

/// The 证编号 cell: a replacement's old number; for a new applicant, empty where
/// the registry numbers, or the unit's own number where the province's rule says
/// the units number (checked against that rule).
fn number_cell(
    cell: &Data,
    kind: ApplicationKind,
    ctx: &mut RowCtx<'_>,
) -> Option<CertificateNumber> {
    let text = cell_text(cell);
    let parsed = match text.as_deref().map(CertificateNumber::parse) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(e)) => {
            ctx.bad(col::NUMBER, e.to_string());
            return None;
        }
    };
    match (kind, parsed) {
        (ApplicationKind::New, Some(n)) => {
            match ctx.prefilled_numbers {
                None => {
                    ctx.bad(
                    col::NUMBER,
                    format!("本省新申领人员的证编号由登记中心按编号规则统一分配，请留空（填写了“{n}”）"),
                );
                    None
                }
                Some(rule) => match rule.parse(&n) {
                    Ok(_) => Some(n),
                    Err(e) => {
                        ctx.bad(col::NUMBER, e.to_string());
                        None
                    }
                },
            }
        }
        (ApplicationKind::Replacement, None) => {
            ctx.bad(col::NUMBER, "换证人员须填写原证件编号");
            None
        }
        (_, n) => n,
    }
}

/// Parses one data row; `None` with issues in `ctx` when anything is wrong.
fn parse_row(
    cells: &[&Data],
    kind: ApplicationKind,
    ctx: &mut RowCtx<'_>,
    today: NaiveDate,
) -> Option<RosterRow> {
    let county = ctx.required(cells, col::COUNTY);
    let name = ctx.required(cells, col::NAME);
    let unit = ctx.required(cells, col::UNIT);

    let citizen_id = match cells[col::ID] {
        d if is_number(d) => {
            ctx.bad(
                col::ID,
                "身份证号码被Excel存成了数字，末几位已经丢失；请把该列设置为文本格式后重新填写",
            );
            None
        }
        d => match cell_text(d) {
            None => {
                ctx.bad(col::ID, "不能为空");
                None
            }
            Some(t) => match CitizenId::parse(&t, today) {
                Ok(id) => Some(id),
                Err(e) => {
                    ctx.bad(col::ID, e.to_string());
                    None
                }
            },
        },
    };

    let certificate_number = number_cell(cells[col::NUMBER], kind, ctx);

    let date = |ctx: &mut RowCtx<'_>, c: usize| match cell_date(cells[c]) {
        Ok(d) => d,
        Err(e) => {
            ctx.bad(c, e);
            None
        }
    };
    let valid_until = date(ctx, col::VALID_UNTIL);
    let valid_from = date(ctx, col::VALID_FROM);
    let birth_cell = date(ctx, col::BIRTH);
    // The one validity rule: 证有效期起始日 is the exam-pass announcement date
    // (公告日); the end date is the rule's, filled in when left empty, refused with
    // the date it should be when it disagrees.
    let mut valid_until = valid_until;
    match (valid_from, &citizen_id) {
        (Some(f), Some(id)) => match validity::check_period(
            f,
            valid_until,
            id.birth_date(),
            id.gender(),
            ctx.retirement,
        ) {
            Ok(p) => valid_until = Some(p.valid_until),
            Err(e @ ValidityError::RetiredBeforeStart { .. }) => {
                ctx.bad(col::VALID_FROM, e.to_string())
            }
            Err(e) => ctx.bad(col::VALID_UNTIL, e.to_string()),
        },
        (None, _) if valid_until.is_some() => ctx.bad(
            col::VALID_FROM,
            "填写了证有效期截止日时须同时填写起始日（考试合格公告日），截止日由它计算",
        ),
        _ => {}
    }

    if let (Some(id), Some(b)) = (&citizen_id, birth_cell) {
        if id.birth_date() != b {
            ctx.bad(
                col::BIRTH,
                format!(
                    "出生日期{b}与身份证号码中的出生日期{}不一致",
                    id.birth_date()
                ),
            );
        }
    }
    if let Some(g) = cell_text(cells[col::GENDER]) {
        match (Gender::from_label_zh(&g), &citizen_id) {
            (None, _) => ctx.bad(
                col::GENDER,
                format!("性别“{g}”应为“男”或“女”（也可留空，由身份证号码自动判别）"),
            ),
            (Some(g), Some(id)) if g != id.gender() => ctx.bad(
                col::GENDER,
                format!(
                    "性别“{}”与身份证号码判别的性别“{}”不一致",
                    g.label_zh(),
                    id.gender().label_zh()
                ),
            ),
            _ => {}
        }
    }

    let ethnicity = ctx.required(cells, col::ETHNICITY).and_then(|t| {
        Ethnicity::parse(&t)
            .map_err(|e| ctx.bad(col::ETHNICITY, e.to_string()))
            .ok()
    });
    let political_status = ctx.required(cells, col::POLITICAL).and_then(|t| {
        PoliticalStatus::parse(&t)
            .map_err(|e| ctx.bad(col::POLITICAL, e.to_string()))
            .ok()
    });
    let posts = ctx.required(cells, col::POSTS).and_then(|t| {
        codes::parse_posts(&t)
            .map_err(|e| ctx.bad(col::POSTS, e.to_string()))
            .ok()
    });
    let yes_no = |ctx: &mut RowCtx<'_>, c: usize| {
        ctx.required(cells, c).and_then(|t| {
            codes::parse_yes_no(&t)
                .map_err(|e| ctx.bad(c, e.to_string()))
                .ok()
        })
    };
    let law_major = yes_no(ctx, col::LAW_MAJOR);
    let legal_qualification = yes_no(ctx, col::LEGAL_QUAL);

    let rank_code = match cell_text(cells[col::RANK]) {
        None => String::new(),
        Some(t) if is_number(cells[col::RANK]) => codes::normalize_code(&t, RANK_CODE_DIGITS)
            .unwrap_or_else(|| {
                ctx.bad(col::RANK, format!("职级代码“{t}”无效"));
                String::new()
            }),
        Some(t) if t.bytes().all(|b| b.is_ascii_digit()) => t,
        Some(t) => {
            ctx.bad(col::RANK, format!("职级代码“{t}”只能填写数字代码"));
            String::new()
        }
    };

    let (law_exam_on, law_exam_score, staffing) =
        eligibility_cells(cells, kind, posts.as_deref(), ctx, today);
    let org_nature = fact_cell(cells, col::ORG_NATURE, ctx);
    let position = fact_cell(cells, col::POSITION, ctx);

    if let (Some(p), Some(id)) = (cell_text(cells[col::PHOTO]), &citizen_id) {
        let stem = p
            .strip_suffix(".jpg")
            .or_else(|| p.strip_suffix(".JPG"))
            .or_else(|| p.strip_suffix(".jpeg"))
            .unwrap_or(&p);
        if !stem.eq_ignore_ascii_case(id.as_str()) {
            ctx.bad(
                col::PHOTO,
                format!("照片名称“{p}”应与身份证号码一致，即“{id}.jpg”"),
            );
        }
    }

    if !ctx.issues.is_empty() {
        return None;
    }
    let citizen_id = citizen_id?;
    Some(RosterRow {
        kind,
        excel_row: ctx.row,
        county: county?,
        name: name?,
        unit: unit?,
        certificate_number,
        valid_until,
        gender: citizen_id.gender(),
        birth_date: citizen_id.birth_date(),
        citizen_id,
        ethnicity: ethnicity?,
        political_status: political_status?,
        valid_from,
        education: cell_text(cells[col::EDUCATION]).unwrap_or_default(),
        major: cell_text(cells[col::MAJOR]).unwrap_or_default(),
        rank_code,
        law_major: law_major?,
        legal_qualification: legal_qualification?,
        posts: posts?,
        exam_category: cell_text(cells[col::EXAM]).unwrap_or_default(),
        law_exam_on,
        law_exam_score,
        staffing,
        org_nature,
        position,
        photo: None,
    })
}

/// A free-text fact of the 信息收集表 (机构性质, 现任职务): at most
/// [`MAX_FACT_CHARS`] characters, no line breaks.
fn fact_cell(cells: &[&Data], c: usize, ctx: &mut RowCtx<'_>) -> Option<String> {
    let t = cell_text(cells[c])?;
    if t.chars().count() > MAX_FACT_CHARS || t.contains(['\n', '\r']) {
        ctx.bad(
            c,
            format!("{}最多{MAX_FACT_CHARS}个字，且不能换行", column_name(c)),
        );
        return None;
    }
    Some(t)
}

/// The eligibility columns of a row: 通用法律知识考试时间 and 成绩 (both or neither;
/// a whole score 0–100) and 编制情况 (its name, e.g. 公务员), then — for a new
/// applicant — the one eligibility rule (`eligibility::check`, the registry's form
/// check too) on what they say: a failed, expired or future exam and staff not
/// formal are refused with its reason. Missing facts are not (the reviewer sees
/// them unverified); a 换证 keeps the eligibility its old certificate was granted on.
fn eligibility_cells(
    cells: &[&Data],
    kind: ApplicationKind,
    posts: Option<&[PostCode]>,
    ctx: &mut RowCtx<'_>,
    today: NaiveDate,
) -> (Option<NaiveDate>, Option<u16>, Option<Staffing>) {
    let exam_on = match cell_date(cells[col::LAW_EXAM_ON]) {
        Ok(d) => d,
        Err(e) => {
            ctx.bad(col::LAW_EXAM_ON, e);
            None
        }
    };
    let score_text = cell_text(cells[col::LAW_EXAM_SCORE]);
    let score = match score_text.as_deref() {
        None => None,
        Some(t) => match t.parse::<u16>() {
            Ok(n) if n <= 100 => Some(n),
            _ => {
                ctx.bad(
                    col::LAW_EXAM_SCORE,
                    format!("通用法律知识考试成绩“{t}”应为0到100之间的整数分"),
                );
                None
            }
        },
    };
    let date_given = cell_text(cells[col::LAW_EXAM_ON]).is_some();
    match (date_given, score_text.is_some()) {
        (true, false) => ctx.bad(
            col::LAW_EXAM_SCORE,
            "填写了通用法律知识考试时间时须同时填写成绩",
        ),
        (false, true) => ctx.bad(
            col::LAW_EXAM_ON,
            "填写了通用法律知识考试成绩时须同时填写考试时间",
        ),
        _ => {}
    }
    let staffing = cell_text(cells[col::STAFFING]).and_then(|t| {
        let found = Staffing::parse_zh(&t);
        if found.is_none() {
            ctx.bad(
                col::STAFFING,
                format!(
                    "编制情况“{t}”应为：{}",
                    Staffing::ALL.map(Staffing::label_zh).join("、")
                ),
            );
        }
        found
    });
    if kind == ApplicationKind::New {
        let facts = Facts {
            staffing,
            // Posts are checked as their own column; an empty list is refused there.
            posts: posts.map(<[PostCode]>::to_vec).unwrap_or_default(),
            law_exam: exam_on
                .zip(score)
                .map(|(taken_on, score)| ExamResult { taken_on, score }),
            holds_national_certificate: false,
            other_live_certificates: Vec::new(),
        };
        for e in eligibility::check(&facts, today).ineligible {
            let c = match e {
                Ineligible::LawExamFailed { .. } => col::LAW_EXAM_SCORE,
                Ineligible::LawExamExpired { .. } | Ineligible::LawExamInFuture { .. } => {
                    col::LAW_EXAM_ON
                }
                Ineligible::NotFormalStaff(_) => col::STAFFING,
                // Not from these columns: posts are required above; the rest is the
                // registry's to know.
                Ineligible::NoEnforcementPost
                | Ineligible::NationalCertificateHeld
                | Ineligible::AlreadyCertified(_) => continue,
            };
            ctx.bad(c, e.to_string());
        }
    }
    (
        exam_on.filter(|_| score.is_some()),
        score.filter(|_| exam_on.is_some()),
        staffing,
    )
}

/// Reads the photo files, keyed by normalised ID; problems go to `report`.
fn collect_photos(
    photos: Photos<'_>,
    opts: &ImportOptions,
    report: &mut ImportReport,
) -> Option<HashMap<String, (String, Vec<u8>)>> {
    const SHEET: &str = "照片";
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    match photos {
        Photos::None => return None,
        Photos::Files(list) => files.extend(list.iter().cloned()),
        Photos::Zip(bytes) => match zip::ZipArchive::new(Cursor::new(bytes)) {
            Err(e) => {
                report.push(SHEET, None, "", format!("照片压缩包无法读取：{e}"));
                return Some(HashMap::new());
            }
            Ok(mut z) => {
                let mut budget = match PhotoBudget::for_zip(&mut z) {
                    Ok(b) => b,
                    Err(limit) => {
                        report.refuse(SHEET, limit);
                        return Some(HashMap::new());
                    }
                };
                for i in 0..z.len() {
                    let mut f = match z.by_index(i) {
                        Ok(f) => f,
                        Err(e) => {
                            report.push(
                                SHEET,
                                None,
                                "",
                                format!("照片压缩包第{}个文件无法读取：{e}", i + 1),
                            );
                            continue;
                        }
                    };
                    if f.is_dir() {
                        continue;
                    }
                    let name = f.name().map(|n| n.to_string()).unwrap_or_default();
                    // Never read more than one byte past the size limit (zip bombs),
                    // nor past what is left of the whole import's budget.
                    let mut buf = Vec::new();
                    let limit = budget.cap(opts.photo_rules.max_bytes as u64 + 1);
                    let read = (&mut f).take(limit).read_to_end(&mut buf);
                    if let Err(limit) = budget.spend(buf.len() as u64) {
                        report.refuse(SHEET, limit);
                        return Some(HashMap::new());
                    }
                    if let Err(e) = read {
                        report.push(SHEET, None, &name, format!("文件无法解压：{e}"));
                        continue;
                    }
                    files.push((name, buf));
                }
            }
        },
    }
    let mut map = HashMap::new();
    for (name, bytes) in files {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string();
        if base.starts_with('.')
            || name.starts_with("__MACOSX")
            || base.eq_ignore_ascii_case("Thumbs.db")
        {
            continue;
        }
        match photo::check_photo(&base, &bytes, &opts.photo_rules, opts.today) {
            Ok(c) => {
                if map
                    .insert(c.citizen_id.as_str().to_string(), (base.clone(), bytes))
                    .is_some()
                {
                    report.push(SHEET, None, &base, "同一身份证号码有多张照片");
                }
            }
            Err(violations) => {
                for v in violations {
                    report.push(SHEET, None, &base, v.to_string());
                }
            }
        }
    }
    Some(map)
}

/// Imports a roster: every row, or a report of every problem (nothing partial).
pub fn import(
    xlsx: &[u8],
    photos: Photos<'_>,
    opts: &ImportOptions,
) -> Result<Vec<RosterRow>, ImportReport> {
    let mut report = ImportReport::default();
    // Sized up before calamine allocates anything for it.
    if let Err(limit) = file_limits::check_xlsx(xlsx) {
        report.refuse("", limit);
        return Err(report);
    }
    let sheets = read_sheets(xlsx, &mut report);
    let mut rows = Vec::new();
    let empty = Data::Empty;
    for sheet in &sheets {
        let Some(header) = find_header(sheet, &mut report) else {
            continue;
        };
        let (hr, c0) = (header.row, header.first);
        let Some((r_end, _)) = sheet.range.end() else {
            continue;
        };
        for r in hr + 1..=r_end {
            let cells: Vec<&Data> = (0..COLUMNS.len() as u32)
                .map(|i| sheet.range.get_value((r, c0 + i)).unwrap_or(&empty))
                .chain(header.extra.iter().map(|c| {
                    c.and_then(|c| sheet.range.get_value((r, c)))
                        .unwrap_or(&empty)
                }))
                .collect();
            // Empty template rows (maybe with only 序号 pre-filled) are skipped.
            if cells[1..].iter().all(|d| cell_text(d).is_none()) {
                continue;
            }
            let mut ctx = RowCtx {
                sheet: &sheet.name,
                row: r + 1,
                issues: Vec::new(),
                retirement: &opts.retirement,
                prefilled_numbers: opts.prefilled_numbers.as_ref(),
            };
            match parse_row(&cells, sheet.kind, &mut ctx, opts.today) {
                Some(row) => rows.push(row),
                None => {
                    // Report a row's problems from left to right, as the user reads it.
                    ctx.issues.sort_by_key(|i| column_position(&i.column));
                    report.issues.append(&mut ctx.issues)
                }
            }
        }
    }
    if sheets.iter().all(|s| s.kind != ApplicationKind::New) && report.issues.is_empty() {
        report.push("", None, "", "缺少新申领人员工作表");
    }

    // The same person twice (in one sheet or across both) is refused.
    let mut seen: HashMap<&str, (&str, u32)> = HashMap::new();
    let mut dupes = Vec::new();
    for row in &rows {
        let sheet = sheet_name(&sheets, row.kind);
        if let Some((s, r)) = seen.insert(row.citizen_id.as_str(), (sheet, row.excel_row)) {
            dupes.push(ImportIssue {
                sheet: sheet.to_string(),
                row: Some(row.excel_row),
                column: COLUMNS[col::ID].to_string(),
                reason: format!("身份证号码与{s}第{r}行重复"),
            });
        }
    }
    report.issues.extend(dupes);

    if let Some(mut by_id) = collect_photos(photos, opts, &mut report) {
        for row in &mut rows {
            match by_id.remove(row.citizen_id.as_str()) {
                Some((_, bytes)) => row.photo = Some(bytes),
                None => report.push(
                    sheet_name(&sheets, row.kind),
                    Some(row.excel_row),
                    COLUMNS[col::PHOTO],
                    format!("缺少照片“{}.jpg”", row.citizen_id),
                ),
            }
        }
        let mut extra: Vec<String> = by_id.into_values().map(|(n, _)| n).collect();
        extra.sort();
        for name in extra {
            report.push(
                "照片",
                None,
                &name,
                "照片没有对应的人员（文件名应为表中人员的身份证号码）",
            );
        }
    }

    if report.issues.is_empty() {
        Ok(rows)
    } else {
        Err(report)
    }
}

/// One new applicant typed into a form (the station's 逐人填报): the template's
/// columns as text, exactly as a person would type them into the spreadsheet.
/// [`check_form`] checks it with the roster's own row check, so a form and a roster
/// row are refused for the same reasons in the same words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RosterForm {
    /// 县(市、区)
    pub county: String,
    /// 持证人姓名
    pub name: String,
    /// 所属执法主体或受委托组织名称
    pub unit: String,
    /// 证编号: empty unless the province's units number their own.
    pub certificate_number: String,
    /// 证有效期截止日 (YYYY-MM-DD; empty: the validity rule's)
    pub valid_until: String,
    /// 持证人身份证号码
    pub citizen_id: String,
    /// 性别 (男/女; empty: from the ID)
    pub gender: String,
    /// 民族
    pub ethnicity: String,
    /// 出生日期 (empty: from the ID)
    pub birth_date: String,
    /// 政治面貌
    pub political_status: String,
    /// 证有效期起始日 (the exam-pass announcement date, YYYY-MM-DD)
    pub valid_from: String,
    /// 最高学历
    pub education: String,
    /// 最高学历专业
    pub major: String,
    /// 职级代码
    pub rank_code: String,
    /// 是否法学专业 (是/否)
    pub law_major: String,
    /// 是否具有法律职业资格 (是/否)
    pub legal_qualification: String,
    /// 执法岗位 (post codes, e.g. "01,02")
    pub posts: String,
    /// 考试类别
    pub exam_category: String,
    /// 通用法律知识考试时间 (YYYY-MM-DD; with the score, or both empty)
    pub law_exam_on: String,
    /// 通用法律知识考试成绩 (whole points)
    pub law_exam_score: String,
    /// 编制情况 (公务员, 参公管理人员, 事业干部, …)
    pub staffing: String,
    /// 工作单位机构性质
    #[serde(default)]
    pub org_nature: String,
    /// 现任职务
    #[serde(default)]
    pub position: String,
}

impl RosterForm {
    /// A checked row as the form shows it, for editing an application that came
    /// back; [`check_form`] of it gives the row again.
    pub fn from_row(row: &RosterRow) -> Self {
        let date = |d: Option<NaiveDate>| d.map(codes::format_date).unwrap_or_default();
        let yes_no = |b: bool| if b { "是" } else { "否" }.to_owned();
        RosterForm {
            county: row.county.clone(),
            name: row.name.clone(),
            unit: row.unit.clone(),
            certificate_number: row
                .certificate_number
                .as_deref()
                .unwrap_or_default()
                .to_owned(),
            valid_until: date(row.valid_until),
            citizen_id: row.citizen_id.to_string(),
            gender: row.gender.label_zh().to_owned(),
            ethnicity: row.ethnicity.as_str().to_owned(),
            birth_date: codes::format_date(row.birth_date),
            political_status: row.political_status.name_zh().to_owned(),
            valid_from: date(row.valid_from),
            education: row.education.clone(),
            major: row.major.clone(),
            rank_code: row.rank_code.clone(),
            law_major: yes_no(row.law_major),
            legal_qualification: yes_no(row.legal_qualification),
            posts: row
                .posts
                .iter()
                .map(|p| p.code())
                .collect::<Vec<_>>()
                .join(","),
            exam_category: row.exam_category.clone(),
            law_exam_on: date(row.law_exam_on),
            law_exam_score: row
                .law_exam_score
                .map(|s| s.to_string())
                .unwrap_or_default(),
            staffing: row
                .staffing
                .map(|s| s.label_zh().to_owned())
                .unwrap_or_default(),
            org_nature: row.org_nature.clone().unwrap_or_default(),
            position: row.position.clone().unwrap_or_default(),
        }
    }
}

/// The sheet name a form's problems are reported under.
pub const FORM_SHEET: &str = "表单";

/// Checks one new applicant typed into a form, and the photo when one is given, by
/// the same rules as a roster row and its photo file (one check, [`parse_row`] and
/// [`photo::check_photo`]): the row, or every problem (column and reason).
pub fn check_form(
    form: &RosterForm,
    photo: Option<&[u8]>,
    opts: &ImportOptions,
) -> Result<RosterRow, ImportReport> {
    let text = |t: &str| {
        if t.trim().is_empty() {
            Data::Empty
        } else {
            Data::String(t.to_owned())
        }
    };
    let mut cells: Vec<Data> = vec![Data::Empty; col::ALL];
    for (c, t) in [
        (col::COUNTY, &form.county),
        (col::NAME, &form.name),
        (col::UNIT, &form.unit),
        (col::NUMBER, &form.certificate_number),
        (col::VALID_UNTIL, &form.valid_until),
        (col::ID, &form.citizen_id),
        (col::GENDER, &form.gender),
        (col::ETHNICITY, &form.ethnicity),
        (col::BIRTH, &form.birth_date),
        (col::POLITICAL, &form.political_status),
        (col::VALID_FROM, &form.valid_from),
        (col::EDUCATION, &form.education),
        (col::MAJOR, &form.major),
        (col::RANK, &form.rank_code),
        (col::LAW_MAJOR, &form.law_major),
        (col::LEGAL_QUAL, &form.legal_qualification),
        (col::POSTS, &form.posts),
        (col::EXAM, &form.exam_category),
        (col::LAW_EXAM_ON, &form.law_exam_on),
        (col::LAW_EXAM_SCORE, &form.law_exam_score),
        (col::STAFFING, &form.staffing),
        (col::ORG_NATURE, &form.org_nature),
        (col::POSITION, &form.position),
    ] {
        cells[c] = text(t);
    }
    let refs: Vec<&Data> = cells.iter().collect();
    let mut ctx = RowCtx {
        sheet: FORM_SHEET,
        row: 0,
        issues: Vec::new(),
        retirement: &opts.retirement,
        prefilled_numbers: opts.prefilled_numbers.as_ref(),
    };
    let row = parse_row(&refs, ApplicationKind::New, &mut ctx, opts.today);
    // Left to right, as the import reports a row.
    ctx.issues.sort_by_key(|i| column_position(&i.column));
    let mut report = ImportReport {
        issues: ctx
            .issues
            .into_iter()
            .map(|i| ImportIssue { row: None, ..i })
            .collect(),
        ..Default::default()
    };
    let mut row = row.filter(|_| report.issues.is_empty());
    if let (Some(bytes), Some(r)) = (photo, row.as_mut()) {
        photo_of(r, bytes, opts, &mut report);
    }
    match row {
        Some(r) if report.issues.is_empty() => Ok(r),
        _ => Err(report),
    }
}

/// Checks a photo for `row`'s holder as a roster photo file named after the ID
/// (`{citizen ID}.jpg`) is checked; on success it becomes the row's photo.
pub fn photo_of(
    row: &mut RosterRow,
    bytes: &[u8],
    opts: &ImportOptions,
    report: &mut ImportReport,
) {
    let name = format!("{}.jpg", row.citizen_id);
    match photo::check_photo(&name, bytes, &opts.photo_rules, opts.today) {
        Ok(_) => row.photo = Some(bytes.to_vec()),
        Err(violations) => {
            for v in violations {
                report.push("照片", None, &name, v.to_string());
            }
        }
    }
}

fn sheet_name(sheets: &[SheetRows], kind: ApplicationKind) -> &str {
    sheets
        .iter()
        .find(|s| s.kind == kind)
        .map(|s| s.name.as_str())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(col_letter(0), "A");
        assert_eq!(col_letter(25), "Z");
        assert_eq!(col_letter(26), "AA");
        assert_eq!(col_letter(27), "AB");
    }

    #[test]
    fn excel_serials() {
        assert_eq!(serial_to_date(1.0), NaiveDate::from_ymd_opt(1900, 1, 1));
        assert_eq!(serial_to_date(61.0), NaiveDate::from_ymd_opt(1900, 3, 1));
        assert_eq!(serial_to_date(45292.0), NaiveDate::from_ymd_opt(2024, 1, 1));
        assert_eq!(serial_to_date(0.0), None);
        assert_eq!(serial_to_date(f64::NAN), None);
    }

    #[test]
    fn header_normalisation() {
        assert!(header_matches(1, "县（市、区）"));
        assert!(header_matches(2, " 持证人\n姓名 "));
        assert!(header_matches(4, "所属执法主持或照的托组织名称"));
        assert!(!header_matches(2, "姓名"));
    }

    #[test]
    fn numeric_cells_lose_dot_zero() {
        assert_eq!(cell_text(&Data::Float(2.0)).as_deref(), Some("2"));
        assert_eq!(cell_text(&Data::Float(2.5)).as_deref(), Some("2.5"));
        assert_eq!(cell_text(&Data::String("  ".into())), None);
    }
}

//! Spreadsheet exports (rust_xlsxwriter): the empty roster template, the
//! roster filled from rows, the four filing forms of seed 004 (启东 notice,
//! 附件1–4) and the annual-review list.
//!
//! The records here are plain structs; the daemon maps its own records to them.
//! Gender is always derived from the citizen ID, never a separate field.

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet};
use serde::{Deserialize, Serialize};

use crate::citizen_id::CitizenId;
use crate::codes::{format_date, format_posts};
use crate::roster::{
    ApplicationKind, RosterRow, XlsxWriteError, COLUMNS, EXTRA_COLUMNS, SHEET_NEW,
    SHEET_REPLACEMENT, TEMPLATE_TITLE,
};
use crate::validity::{review_status, ReviewPolicy, ReviewStatus};

/// The header line every filing form carries (填报单位, 填报人员, 联系电话, 填报时间).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormHeader {
    pub unit: String,
    pub filled_by: String,
    pub phone: String,
    pub date: Option<NaiveDate>,
}

/// What a 附件1 line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilingAction {
    /// 录入归集
    Entered,
    /// 注销
    Cancelled,
    /// 修改
    Modified,
    /// 换证: the old number cancelled for a new certificate (「换证的要先注销再点"申领"」)
    Replaced,
    /// 补证: the lost certificate's number declared void for a new one
    Reissued,
}

impl FilingAction {
    pub fn label_zh(self) -> &'static str {
        match self {
            FilingAction::Entered => "录入归集",
            FilingAction::Cancelled => "注销",
            FilingAction::Modified => "修改",
            FilingAction::Replaced => "换证（原证注销）",
            FilingAction::Reissued => "补证（原证作废）",
        }
    }
}

/// 附件1: 人员数据录入归集、注销、修改备案表.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingRecord {
    pub name: String,
    pub unit: String,
    pub citizen_id: CitizenId,
    pub certificate_number: String,
    pub action: FilingAction,
    pub entered_on: NaiveDate,
    pub remark: String,
}

/// 附件2: 证件注销表.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationRecord {
    pub name: String,
    pub unit: String,
    pub citizen_id: CitizenId,
    pub original_number: String,
    pub reason: String,
    /// 被注销人员去向
    pub destination: String,
    pub remark: String,
}

/// 附件3: 证件换证表.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplacementRecord {
    pub name: String,
    pub citizen_id: CitizenId,
    pub original_unit: String,
    pub original_number: String,
    pub reason: String,
    pub current_unit: String,
    /// 工作岗位及职务
    pub post_and_title: String,
    /// 执法种类
    pub enforcement_kind: String,
    pub remark: String,
}

/// 附件4: 证件补发表.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReissueRecord {
    pub name: String,
    pub unit: String,
    pub citizen_id: CitizenId,
    pub certificate_number: String,
    /// 证件遗失时间
    pub lost_on: NaiveDate,
    /// 领证机关声明作废情况（声明作废方式、时间等）
    pub void_declaration: String,
    pub remark: String,
}

/// Column headers of the four forms (seed 004).
pub const FILING_COLUMNS: [&str; 9] = [
    "序号",
    "姓名",
    "所属主体（受委托组织）全称",
    "身份证号码",
    "性别",
    "行政执法（监督）证件号码",
    "数据录入归集、注销、修改情况",
    "数据录入时间",
    "备注",
];
pub const CANCELLATION_COLUMNS: [&str; 9] = [
    "序号",
    "姓名",
    "所属主体（受委托组织）全称",
    "身份证号码",
    "性别",
    "原行政执法（监督）证件号码",
    "注销原因",
    "被注销人员去向",
    "备注",
];
pub const REPLACEMENT_COLUMNS: [&str; 11] = [
    "序号",
    "姓名",
    "性别",
    "身份证号码",
    "原所属主体（受委托组织）全称",
    "原行政执法（监督）证件号码",
    "换证原因",
    "现所属主体（受委托组织）全称",
    "工作岗位及职务",
    "执法种类",
    "备注",
];
pub const REISSUE_COLUMNS: [&str; 9] = [
    "序号",
    "姓名",
    "所属主体（受委托组织）全称",
    "身份证号码",
    "性别",
    "行政执法（监督）证件号码",
    "证件遗失时间",
    "领证机关声明作废情况（声明作废方式、时间等）",
    "备注",
];
pub const REVIEW_COLUMNS: [&str; 10] = [
    "序号",
    "姓名",
    "性别",
    "身份证号码",
    "所属执法主体",
    "证件编号",
    "发证日期",
    "有效期截止日",
    "年审状态",
    "年审期限或完成日期",
];

struct Formats {
    title: Format,
    header: Format,
    cell: Format,
    text: Format,
    note: Format,
}

fn formats() -> Formats {
    let border = |f: Format| f.set_border(FormatBorder::Thin);
    Formats {
        title: Format::new()
            .set_bold()
            .set_font_size(16)
            .set_align(FormatAlign::Center),
        header: border(
            Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
        ),
        cell: border(Format::new()),
        // Text cells: leading zeros and 18-digit IDs must never become numbers.
        text: border(Format::new().set_num_format("@")),
        note: Format::new().set_text_wrap(),
    }
}

fn header_line(h: &FormHeader) -> String {
    let date = h
        .date
        .map(|d| d.format("%Y 年 %m 月 %d 日").to_string())
        .unwrap_or_else(|| "    年   月   日".to_string());
    format!(
        "填报单位（盖章）：{}    填报人员：{}    联系电话：{}    填报时间：{}",
        h.unit, h.filled_by, h.phone, date
    )
}

/// Writes title (row 0), header line (row 1), column headers (row 2), rows
/// from row 3 and an optional note under them. Every value is written as text.
fn write_form(
    ws: &mut Worksheet,
    f: &Formats,
    title: &str,
    header: &FormHeader,
    columns: &[&str],
    rows: &[Vec<String>],
    note: Option<&str>,
) -> Result<(), XlsxWriteError> {
    let last = columns.len() as u16 - 1;
    ws.merge_range(0, 0, 0, last, title, &f.title)?;
    ws.merge_range(1, 0, 1, last, &header_line(header), &Format::new())?;
    for (c, h) in columns.iter().enumerate() {
        ws.write_string_with_format(2, c as u16, *h, &f.header)?;
        ws.set_column_width(c as u16, if c == 0 { 6.0 } else { 18.0 })?;
    }
    ws.set_row_height(2, 36)?;
    for (i, row) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        ws.write_number_with_format(r, 0, (i + 1) as f64, &f.cell)?;
        for (c, v) in row.iter().enumerate() {
            ws.write_string_with_format(r, c as u16 + 1, v, &f.text)?;
        }
    }
    if let Some(n) = note {
        let r = 3 + rows.len() as u32 + 1;
        ws.merge_range(r, 0, r, last, n, &f.note)?;
    }
    Ok(())
}

fn single_form(
    title: &str,
    header: &FormHeader,
    columns: &[&str],
    rows: &[Vec<String>],
    note: Option<&str>,
) -> Result<Vec<u8>, XlsxWriteError> {
    let f = formats();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    // Sheet names are limited to 31 characters.
    ws.set_name(title.chars().take(31).collect::<String>())?;
    write_form(ws, &f, title, header, columns, rows, note)?;
    ws.set_landscape();
    Ok(wb.save_to_buffer()?)
}

const RETURN_NOTE: &str = "注：报送表格时，领证单位应当将原行政执法（监督）证件同时交还市司法局。";

/// 附件1 filled with `records`.
pub fn filing_form(
    header: &FormHeader,
    records: &[FilingRecord],
) -> Result<Vec<u8>, XlsxWriteError> {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.unit.clone(),
                r.citizen_id.to_string(),
                r.citizen_id.gender().label_zh().to_string(),
                r.certificate_number.clone(),
                r.action.label_zh().to_string(),
                format_date(r.entered_on),
                r.remark.clone(),
            ]
        })
        .collect();
    single_form(
        "“行政执法主体和人员管理系统”人员数据录入归集、注销、修改备案表",
        header,
        &FILING_COLUMNS,
        &rows,
        None,
    )
}

/// 附件2 filled with `records`.
pub fn cancellation_form(
    header: &FormHeader,
    records: &[CancellationRecord],
) -> Result<Vec<u8>, XlsxWriteError> {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.unit.clone(),
                r.citizen_id.to_string(),
                r.citizen_id.gender().label_zh().to_string(),
                r.original_number.clone(),
                r.reason.clone(),
                r.destination.clone(),
                r.remark.clone(),
            ]
        })
        .collect();
    single_form(
        "行政执法（监督）证件注销表",
        header,
        &CANCELLATION_COLUMNS,
        &rows,
        Some(RETURN_NOTE),
    )
}

/// 附件3 filled with `records`.
pub fn replacement_form(
    header: &FormHeader,
    records: &[ReplacementRecord],
) -> Result<Vec<u8>, XlsxWriteError> {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.citizen_id.gender().label_zh().to_string(),
                r.citizen_id.to_string(),
                r.original_unit.clone(),
                r.original_number.clone(),
                r.reason.clone(),
                r.current_unit.clone(),
                r.post_and_title.clone(),
                r.enforcement_kind.clone(),
                r.remark.clone(),
            ]
        })
        .collect();
    single_form(
        "行政执法（监督）证件换证表",
        header,
        &REPLACEMENT_COLUMNS,
        &rows,
        Some(RETURN_NOTE),
    )
}

/// 附件4 filled with `records`.
pub fn reissue_form(
    header: &FormHeader,
    records: &[ReissueRecord],
) -> Result<Vec<u8>, XlsxWriteError> {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.unit.clone(),
                r.citizen_id.to_string(),
                r.citizen_id.gender().label_zh().to_string(),
                r.certificate_number.clone(),
                format_date(r.lost_on),
                r.void_declaration.clone(),
                r.remark.clone(),
            ]
        })
        .collect();
    single_form(
        "行政执法（监督）证件补发表",
        header,
        &REISSUE_COLUMNS,
        &rows,
        Some("注：报送表格时，领证单位应当就声明作废情况附相关凭证。"),
    )
}

const TEMPLATE_NOTES: [&str; 9] = [
    "①照片无需嵌入表格，只需填写名称，名称必须与照片文件名称一致，照片一律用身份证号码命名，如：身份证号码.jpg。",
    "②日期格式：YYYY-MM-DD，如：2001-01-22。",
    "③政治面貌只需填写代码（01中共党员、02中共预备党员、03共青团员、04民革党员、05民建党员、06民盟党员、07民进党员、08农工党党员、09致公党党员、10九三学社社员、11台盟盟员、12无党派民主人士、13群众）。",
    "④执法岗位只需填写代码（01：依职权开展的行政执法；02：依申请开展的行政执法），可填多个，用顿号分隔，如：01、02。",
    "⑤性别可不填，系统根据身份证号码自动判别；填写的须与身份证号码一致。",
    "⑥民族填写全称，如：汉族、蒙古族。",
    "⑦新申领人员的证编号留空，由系统按编号规则分配；换证人员填写在“换证人员”工作表，证编号填写原证件编号。",
    "⑧请勿增删、调整表头各列。",
    "⑨“通用法律知识考试时间”“通用法律知识考试成绩”“编制情况”三列在官方模板各列之后，用于核对申领条件：考试须在近三年内、成绩60分以上；编制情况填公务员、参公管理人员、事业干部之一（机关工勤人员、合同聘用人员、劳务派遣人员不能申领）。未填写的由审核机关核实。",
];

fn write_roster_sheet(
    wb: &mut Workbook,
    f: &Formats,
    name: &str,
    rows: &[&RosterRow],
) -> Result<(), XlsxWriteError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    let last = (COLUMNS.len() + EXTRA_COLUMNS.len()) as u16 - 1;
    ws.merge_range(
        0,
        0,
        0,
        last,
        &format!("（盖章）    市（区）{TEMPLATE_TITLE}"),
        &f.title,
    )?;
    for (c, h) in COLUMNS.iter().chain(EXTRA_COLUMNS.iter()).enumerate() {
        ws.write_string_with_format(1, c as u16, *h, &f.header)?;
        ws.set_column_format(c as u16, &Format::new().set_num_format("@"))?;
        ws.set_column_width(c as u16, if c == 7 { 22.0 } else { 14.0 })?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = 2 + i as u32;
        let opt_date = |d: Option<NaiveDate>| d.map(format_date).unwrap_or_default();
        let yes = |b: bool| if b { "是" } else { "否" }.to_string();
        let values = [
            (i + 1).to_string(),
            row.county.clone(),
            row.name.clone(),
            format!("{}.jpg", row.citizen_id),
            row.unit.clone(),
            row.certificate_number
                .as_deref()
                .unwrap_or_default()
                .to_owned(),
            opt_date(row.valid_until),
            row.citizen_id.to_string(),
            row.gender.label_zh().to_string(),
            row.ethnicity.as_str().to_string(),
            format_date(row.birth_date),
            row.political_status.code().to_string(),
            opt_date(row.valid_from),
            row.education.clone(),
            row.major.clone(),
            row.rank_code.clone(),
            yes(row.law_major),
            yes(row.legal_qualification),
            format_posts(&row.posts),
            row.exam_category.clone(),
            opt_date(row.law_exam_on),
            row.law_exam_score
                .map(|s| s.to_string())
                .unwrap_or_default(),
            row.staffing
                .map(|s| s.label_zh().to_owned())
                .unwrap_or_default(),
            row.org_nature.clone().unwrap_or_default(),
            row.position.clone().unwrap_or_default(),
        ];
        for (c, v) in values.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string_with_format(r, c as u16, v, &f.text)?;
            }
        }
    }
    Ok(())
}

/// The roster template with `rows` filled in (new and replacement sheets,
/// plus a 填表说明 sheet). With no rows this is the empty template.
pub fn roster_xlsx(rows: &[RosterRow]) -> Result<Vec<u8>, XlsxWriteError> {
    let f = formats();
    let mut wb = Workbook::new();
    let new: Vec<&RosterRow> = rows
        .iter()
        .filter(|r| r.kind == ApplicationKind::New)
        .collect();
    let repl: Vec<&RosterRow> = rows
        .iter()
        .filter(|r| r.kind == ApplicationKind::Replacement)
        .collect();
    write_roster_sheet(&mut wb, &f, SHEET_NEW, &new)?;
    write_roster_sheet(&mut wb, &f, SHEET_REPLACEMENT, &repl)?;
    let notes = wb.add_worksheet();
    notes.set_name("填表说明")?;
    notes.set_column_width(0, 120)?;
    for (i, n) in TEMPLATE_NOTES.iter().enumerate() {
        notes.write_string_with_format(i as u32, 0, *n, &f.note)?;
    }
    Ok(wb.save_to_buffer()?)
}

/// The empty roster template for download.
pub fn roster_template() -> Result<Vec<u8>, XlsxWriteError> {
    roster_xlsx(&[])
}

/// A certificate considered for the annual review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCandidate {
    pub name: String,
    pub unit: String,
    pub citizen_id: CitizenId,
    pub certificate_number: String,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    /// When the review for the year in question was done, if it was.
    pub reviewed_on: Option<NaiveDate>,
}

/// The certificates that must be reviewed in `year` (exempt ones left out),
/// with their status as of `today`, in the order given.
pub fn review_list(
    candidates: &[ReviewCandidate],
    year: i32,
    today: NaiveDate,
    policy: &ReviewPolicy,
) -> Vec<(ReviewCandidate, ReviewStatus)> {
    candidates
        .iter()
        .map(|c| {
            (
                c.clone(),
                review_status(c.issued_on, year, c.reviewed_on, today, policy),
            )
        })
        .filter(|(_, s)| *s != ReviewStatus::Exempt)
        .collect()
}

/// The annual-review list as xlsx (title: `{year}年度行政执法证件年审名单`).
pub fn review_list_xlsx(
    header: &FormHeader,
    year: i32,
    list: &[(ReviewCandidate, ReviewStatus)],
) -> Result<Vec<u8>, XlsxWriteError> {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|(c, s)| {
            let when = match s {
                ReviewStatus::Due { deadline } | ReviewStatus::Overdue { deadline } => {
                    format_date(*deadline)
                }
                ReviewStatus::Done { reviewed_on } => format_date(*reviewed_on),
                ReviewStatus::Exempt => String::new(),
            };
            vec![
                c.name.clone(),
                c.citizen_id.gender().label_zh().to_string(),
                c.citizen_id.to_string(),
                c.unit.clone(),
                c.certificate_number.clone(),
                format_date(c.issued_on),
                format_date(c.valid_until),
                s.label_zh().to_string(),
                when,
            ]
        })
        .collect();
    single_form(
        &format!("{year}年度行政执法证件年审名单"),
        header,
        &REVIEW_COLUMNS,
        &rows,
        Some("注：上一年12月31日前发放的证件须在本年3月31日前完成年审，当年发放的证件免于年审。"),
    )
}

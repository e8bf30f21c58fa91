//! The typed answers of the card operations, as the API serialises them and the
//! CLI prints them (`--json` is the same serialisation; the human text is made
//! from the same fields). Each enum value travels with its Chinese label from
//! crate::labels, so no screen keeps a label table of its own.

use crate::labels;
use crate::ops::{CardWriteFailure, IssueOutcome, PhotoOutcome, StatusOutcome, VerifyOutcome};
use crate::store::{self, CertificateState};
use base64::Engine;
use card_profile::profile::{Family, FileId};
use card_profile::records::{Certificate, Holder, Review, StatusRecord};
use card_profile::verdict::{Check, CheckKind, Outcome, Standing};
use chrono::NaiveDate;
use serde::Serialize;

/// What `POST /issue`, `POST /jobs/{id}/resume` and `ecardd issue --json` answer.
#[derive(Debug, Serialize)]
pub struct IssueView {
    pub job_id: i64,
    pub certificate_id: i64,
    pub number: String,
    pub serial: String,
    /// Which kind of card was written (`native` | `piv`).
    pub family: Family,
    pub family_label: &'static str,
    pub standing: Standing,
    pub standing_label: &'static str,
    pub resumed_without_rewrite: bool,
    pub apdus: usize,
}

impl From<&IssueOutcome> for IssueView {
    fn from(out: &IssueOutcome) -> Self {
        Self {
            job_id: out.job_id,
            certificate_id: out.certificate_id,
            number: out.number.clone(),
            serial: out.serial.clone(),
            family: out.verdict.family,
            family_label: labels::family_zh(out.verdict.family),
            standing: out.verdict.standing,
            standing_label: labels::standing_zh(out.verdict.standing),
            resumed_without_rewrite: out.resumed_without_rewrite,
            apdus: out.apdus,
        }
    }
}

impl IssueView {
    pub fn text(&self) -> String {
        format!(
            "已制证 {} → {} {}，核验：{}",
            self.number, self.family_label, self.serial, self.standing_label
        )
    }
}

/// One finding of a check: its stable kind and its sentence.
#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    pub kind: Option<String>,
    pub message: String,
}

/// One check as the inspector's screen shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckView {
    pub check: &'static str,
    pub file: Option<FileId>,
    pub label: String,
    pub outcome: &'static str,
    pub outcome_label: &'static str,
    pub findings: Vec<FindingView>,
}

impl CheckView {
    /// The check's view; a warning's sentences are also pushed to `warnings`.
    fn of(c: &Check, warnings: &mut Vec<String>) -> Self {
        let (check, file) = labels::check_key(c.check);
        let outcome = labels::outcome_key(&c.outcome);
        let findings = match &c.outcome {
            Outcome::Warning { findings } | Outcome::Failed { findings } => findings.as_slice(),
            Outcome::Passed | Outcome::Pending => &[][..],
        };
        let findings = findings
            .iter()
            .map(|f| {
                let message = labels::finding_zh(f);
                if outcome == "warning" {
                    warnings.push(message.clone());
                }
                // The finding's stable kind is its serde tag.
                let kind = serde_json::to_value(f)
                    .ok()
                    .and_then(|j| j.get("kind").and_then(|k| k.as_str()).map(str::to_owned));
                FindingView { kind, message }
            })
            .collect();
        Self {
            check,
            file,
            label: labels::check_zh(c.check),
            outcome,
            outcome_label: labels::outcome_zh(&c.outcome),
            findings,
        }
    }
}

/// What the station's records say about the card.
#[derive(Debug, Serialize)]
pub struct RecordView {
    pub certificate_id: i64,
    pub state: store::CardState,
    pub state_label: &'static str,
}

/// The verdict as the inspector's screen shows it (`POST /verify`,
/// `ecardd verify --json`).
#[derive(Debug, Serialize)]
pub struct VerdictView {
    pub standing: Standing,
    pub standing_label: &'static str,
    pub standing_note: &'static str,
    pub posts_label: Option<String>,
    pub serial: String,
    /// Which kind of card was read (`native` | `piv`).
    pub family: Family,
    pub family_label: &'static str,
    pub verified_on: NaiveDate,
    pub holder: Option<Holder>,
    pub certificate: Option<Certificate>,
    pub reviews: Vec<Review>,
    /// The reviews the annual-review check counted, each with its source (the card,
    /// or this station's records when the card does not carry it yet).
    pub counted_reviews: Vec<serde_json::Value>,
    pub status: Option<StatusRecord>,
    pub checks: Vec<CheckView>,
    pub warnings: Vec<String>,
    /// A data URL, only when the photo's hash matched (never in the first answer).
    pub photo: Option<String>,
    pub record: Option<RecordView>,
    pub apdus: usize,
    /// Where the photo follows (the API's first answer only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
}

impl From<&VerifyOutcome> for VerdictView {
    fn from(out: &VerifyOutcome) -> Self {
        let v = &out.verdict;
        let mut warnings = Vec::new();
        let checks = v
            .checks
            .iter()
            .map(|c| CheckView::of(c, &mut warnings))
            .collect();
        Self {
            standing: v.standing,
            standing_label: labels::standing_zh(v.standing),
            standing_note: labels::standing_note_zh(v.standing),
            posts_label: v.certificate.as_ref().map(|c| labels::posts_zh(&c.posts)),
            serial: hex::encode_upper(v.serial),
            family: v.family,
            family_label: labels::family_zh(v.family),
            verified_on: v.verified_on,
            holder: v.holder.clone(),
            certificate: v.certificate.clone(),
            reviews: v.reviews.clone(),
            counted_reviews: v
                .counted_reviews
                .iter()
                .map(|r| {
                    let mut j = serde_json::json!(r);
                    j["source_label"] = labels::review_source_zh(r.source).into();
                    j
                })
                .collect(),
            status: v.status.clone(),
            checks,
            warnings,
            photo: out.photo.as_deref().map(photo_data_url),
            record: out.record.as_ref().map(|r| RecordView {
                certificate_id: r.certificate_id,
                state: r.state,
                state_label: labels::card_state_zh(r.state),
            }),
            apdus: out.apdus,
            photo_id: None,
            photo_url: None,
        }
    }
}

/// The photo's answer (`GET /verify/{id}/photo`): the settled standing, the photo's
/// hash check and the photo itself, only when the hash matched.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoView {
    pub standing: Standing,
    pub standing_label: &'static str,
    pub serial: String,
    pub check: Option<CheckView>,
    pub photo: Option<String>,
    pub apdus: usize,
    /// Bytes of the JPEG that passed (for the terminal's line; not sent).
    #[serde(skip)]
    pub photo_bytes: Option<usize>,
}

impl From<&PhotoOutcome> for PhotoView {
    fn from(out: &PhotoOutcome) -> Self {
        let v = &out.verdict;
        let check = v
            .checks
            .iter()
            .find(|c| c.check == CheckKind::FileHash(FileId::Photo))
            .map(|c| CheckView::of(c, &mut Vec::new()));
        Self {
            standing: v.standing,
            standing_label: labels::standing_zh(v.standing),
            serial: hex::encode_upper(v.serial),
            check,
            photo: out.photo.as_deref().map(photo_data_url),
            apdus: out.apdus,
            photo_bytes: out.photo.as_ref().map(Vec::len),
        }
    }
}

impl PhotoView {
    /// The terminal's line about the photo; `first` is the standing answered before it.
    pub fn text(&self, first: Standing) -> String {
        let mut text = match (&self.check, self.photo_bytes) {
            (Some(c), Some(bytes)) if c.outcome == "passed" => {
                format!("照片：{}通过（{bytes} 字节）", c.label)
            }
            // A PIV card's photo is behind the holder's PIN: not read, not failed.
            (Some(c), _) if c.outcome == "warning" => "照片：未读取".to_string(),
            _ => "照片：未通过校验，不予显示".to_string(),
        };
        for f in self.check.iter().flat_map(|c| &c.findings) {
            text.push_str(&format!("：{}", f.message));
        }
        if self.standing != first {
            text.push_str(&format!("\n核验结果更正为：{}", self.standing_label));
        }
        text
    }
}

fn photo_data_url(jpeg: &[u8]) -> String {
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    )
}

/// A recorded annual review (`POST /review`, `ecardd review --json`).
#[derive(Debug, Serialize)]
pub struct ReviewView {
    pub year: u16,
    pub date: NaiveDate,
    pub result: card_profile::records::ReviewResult,
    pub result_label: &'static str,
    pub remark: Option<String>,
    /// The card's serial when the review was written to it.
    pub written_to: Option<String>,
}

impl ReviewView {
    pub fn new(review: &Review, written: bool) -> Self {
        Self {
            year: review.year,
            date: review.date,
            result: review.result,
            result_label: labels::review_result_zh(review.result),
            remark: review.remark.clone(),
            written_to: written.then(|| hex::encode_upper(review.serial)),
        }
    }

    pub fn text(&self) -> String {
        format!(
            "已记录 {} 年度年审（{}，{}）{}",
            self.year,
            self.date,
            self.result_label,
            if self.written_to.is_some() {
                "，已写入卡片"
            } else {
                ""
            }
        )
    }
}

/// A status change's answer (`POST /certificates/{id}/status`, `ecardd revoke`).
#[derive(Debug, Serialize)]
pub struct StatusView {
    pub certificate_id: i64,
    pub state: CertificateState,
    pub state_label: &'static str,
    pub written_to: Option<String>,
    pub card_write_failed: Option<CardWriteFailure>,
    /// 换证/补证: the application sent to the registry for review.
    pub application_id: Option<i64>,
    /// 注销/换证/补证: the last day to file it with the bureau (3 working days).
    pub due_on: Option<chrono::NaiveDate>,
}

impl From<&StatusOutcome> for StatusView {
    fn from(out: &StatusOutcome) -> Self {
        Self {
            certificate_id: out.certificate_id,
            state: out.state,
            state_label: labels::certificate_state_zh(out.state),
            written_to: out.written_to.clone(),
            card_write_failed: out.card_write_failed.clone(),
            application_id: out.application_id,
            due_on: out.due_on,
        }
    }
}

impl StatusView {
    pub fn text(&self) -> String {
        let mut t = format!("证件状态：{}", self.state_label);
        if let Some(s) = &self.written_to {
            t.push_str(&format!("，已写入卡片 {s}"));
        }
        if let Some(n) = &self.application_id {
            t.push_str(&format!(
                "，已提交申请 #{n}，待县级初审、市级复审后由登记中心编号并下发制证"
            ));
        }
        if let Some(d) = &self.due_on {
            t.push_str(&format!("；应于 {d} 前报送市司法局（3 个工作日）"));
        }
        t
    }
}

/// One card-writing job with its state and error in words.
#[derive(Debug, Serialize)]
pub struct JobRowView {
    #[serde(flatten)]
    pub job: store::JobView,
    pub state_label: String,
    pub error_label: Option<String>,
}

impl From<&store::JobView> for JobRowView {
    fn from(j: &store::JobView) -> Self {
        Self {
            state_label: store::JobState::parse(&j.state)
                .map(labels::job_state_zh)
                .unwrap_or(j.state.as_str())
                .to_owned(),
            error_label: j
                .error
                .as_deref()
                .map(|e| labels::reason_zh(e).into_owned()),
            job: j.clone(),
        }
    }
}

pub fn job_rows(jobs: &[store::JobView]) -> Vec<JobRowView> {
    jobs.iter().map(JobRowView::from).collect()
}

/// A batch's progress with its jobs (`GET /batches/{id}`).
#[derive(Debug, Serialize)]
pub struct BatchView {
    #[serde(flatten)]
    pub progress: crate::ops::BatchProgress,
    pub jobs: Vec<JobRowView>,
}

/// The id of a batch just started or resumed.
#[derive(Debug, Serialize)]
pub struct BatchRef {
    pub batch_id: i64,
}

/// A certificate in the list, its state in words beside the code.
#[derive(Debug, Serialize)]
pub struct CertificateListRow {
    #[serde(flatten)]
    pub row: store::CertificateSummary,
    pub state_label: &'static str,
}

/// One certificate's page: the record, its officer, cards, reviews, status changes
/// and jobs (`GET /certificates/{id}`).
#[derive(Debug, Serialize)]
pub struct CertificateView {
    pub id: i64,
    pub state: CertificateState,
    pub state_label: &'static str,
    pub posts_label: String,
    pub holder: Holder,
    pub has_photo: bool,
    pub certificate: Certificate,
    pub officer_id: i64,
    pub replaces_id: Option<i64>,
    pub cards: Vec<store::CardRow>,
    pub reviews: Vec<store::ReviewEntry>,
    pub status_changes: Vec<store::StatusEntry>,
    pub jobs: Vec<JobRowView>,
}

/// One revocation-list entry, its reason in words (a stored code, or typed text).
#[derive(Debug, Serialize)]
pub struct RevocationRow {
    #[serde(flatten)]
    pub entry: store::RevocationEntry,
    pub reason_label: String,
}

/// The station's revocation list (`GET /revocations`).
#[derive(Debug, Serialize)]
pub struct RevocationsView {
    pub list_date: Option<String>,
    pub entries: Vec<RevocationRow>,
}

/// One audit row with its action and detail in words (`GET /audit`).
#[derive(Debug, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub action_label: String,
    pub subject: String,
    pub detail_label: String,
    pub detail: serde_json::Value,
}

impl From<store::AuditEntry> for AuditRow {
    fn from(e: store::AuditEntry) -> Self {
        let detail = serde_json::from_str::<serde_json::Value>(&e.detail)
            .unwrap_or(serde_json::Value::String(e.detail.clone()));
        Self {
            action_label: labels::audit_action_zh(&e.action).into_owned(),
            detail_label: labels::audit_detail_zh(&detail),
            detail,
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            subject: e.subject,
        }
    }
}

/// One officer due (or not) for the year's annual review.
#[derive(Debug, Serialize)]
pub struct ScheduleRow {
    pub certificate_id: i64,
    pub number: String,
    pub name: String,
    pub unit: String,
    pub issue_date: NaiveDate,
    pub reviewed_on: Option<NaiveDate>,
    pub status: ecard_domain::validity::ReviewStatus,
    pub status_label: &'static str,
}

/// The annual-review schedule of a year (`GET /reviews/schedule`).
#[derive(Debug, Serialize)]
pub struct ScheduleView {
    pub year: i32,
    pub deadline: Option<NaiveDate>,
    /// Every unit on the year's schedule, sorted (the unit filter's choices).
    pub units: Vec<String>,
    pub items: Vec<ScheduleRow>,
}

/// The readers and whether the smart-card service is up (`GET /readers`).
#[derive(Debug, Serialize)]
pub struct ReadersView {
    pub service_up: bool,
    pub readers: Vec<crate::readers::ReaderInfo>,
}

/// The card the demo's hands put in or took out (`POST /demo/readers/…`).
#[derive(Debug, Serialize)]
pub struct DemoCardView {
    pub serial: Option<String>,
}

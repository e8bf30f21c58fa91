//! The card commands: verify, issue, review and status changes. Each calls the
//! operation the HTTP API calls and prints the API's typed answer (crate::api::views).

use super::output::{print, say, Failure};
use super::station::{certificate_id, open_station, runtime, StationArgs};
use clap::{Args, ValueEnum};
use ecardd::api::views::{IssueView, PhotoView, ReviewView, StatusView, VerdictView};
use ecardd::labels;
use ecardd::ops::{ReviewRequest, StatusRequest, VerifyOutcome};

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    station: StationArgs,
    #[arg(long)]
    reader: String,
    #[arg(long)]
    json: bool,
}

/// The verdict first, as soon as it is decided; the photo after it. The standing
/// (after the photo's check) decides the exit status, so a script can act on it.
pub fn verify(a: VerifyArgs) -> Result<(), Failure> {
    let st = open_station(&a.station)?;
    let rt = runtime()?;
    let first = rt.block_on(st.verify_first(&a.reader))?;
    if !a.json {
        say!("{}", labels::verdict_text(&first.outcome.verdict));
    }
    let photo = rt.block_on(first.photo.wait())?;
    let standing = photo.verdict.standing;
    if a.json {
        let whole = VerifyOutcome {
            verdict: photo.verdict,
            photo: photo.photo,
            record: first.outcome.record,
            apdus: photo.apdus,
        };
        print(true, &VerdictView::from(&whole), |_| String::new());
    } else {
        say!(
            "{}",
            PhotoView::from(&photo).text(first.outcome.verdict.standing)
        );
    }
    match ecardd::ops::verify_exit_status(standing) {
        0 => Ok(()),
        exit => Err(Failure::quiet("standing", exit)),
    }
}

#[derive(Args)]
pub struct IssueArgs {
    #[command(flatten)]
    station: StationArgs,
    #[arg(long)]
    reader: String,
    /// Certificate number (or record id).
    #[arg(long)]
    certificate: String,
    #[arg(long)]
    json: bool,
}

pub fn issue(a: IssueArgs) -> Result<(), Failure> {
    let st = open_station(&a.station)?;
    let id = certificate_id(&st, &a.certificate)?;
    let out = runtime()?.block_on(st.issue("cli", id, &a.reader))?;
    print(a.json, &IssueView::from(&out), IssueView::text);
    Ok(())
}

#[derive(Clone, Copy, ValueEnum)]
enum ReviewOutcome {
    Passed,
    Failed,
}

#[derive(Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    station: StationArgs,
    #[arg(long)]
    certificate: String,
    #[arg(long, value_enum, default_value = "passed")]
    result: ReviewOutcome,
    #[arg(long)]
    remark: Option<String>,
    #[arg(long)]
    reader: Option<String>,
    #[arg(long)]
    year: Option<u16>,
    #[arg(long)]
    json: bool,
}

pub fn review(a: ReviewArgs) -> Result<(), Failure> {
    let st = open_station(&a.station)?;
    let id = certificate_id(&st, &a.certificate)?;
    let req = ReviewRequest {
        certificate_id: id,
        year: a.year,
        result: match a.result {
            ReviewOutcome::Passed => card_profile::records::ReviewResult::Passed,
            ReviewOutcome::Failed => card_profile::records::ReviewResult::Failed,
        },
        remark: a.remark,
        reader: a.reader.clone(),
    };
    let r = runtime()?.block_on(st.review("cli", &req))?;
    print(
        a.json,
        &ReviewView::new(&r, a.reader.is_some()),
        ReviewView::text,
    );
    Ok(())
}

#[derive(Clone, Copy, ValueEnum)]
enum RevokeKind {
    Suspend,
    Lift,
    Cancel,
    Reissue,
    /// Write the recorded status to the card at --reader (after a change recorded
    /// without the card, or whose card write failed).
    WriteCard,
}

#[derive(Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    station: StationArgs,
    #[arg(long)]
    certificate: String,
    #[arg(long, value_enum)]
    kind: RevokeKind,
    #[arg(long, default_value = "")]
    reason: String,
    /// 注销: where the person went.
    #[arg(long)]
    destination: Option<String>,
    /// 补证: when the card was lost, and how/when it was declared void.
    #[arg(long)]
    lost_on: Option<chrono::NaiveDate>,
    #[arg(long)]
    void_declared_how: Option<String>,
    #[arg(long)]
    void_declared_on: Option<chrono::NaiveDate>,
    /// 补证: the 凭证 of the void declaration (e.g. the newspaper, date and page).
    #[arg(long)]
    void_reference: Option<String>,
    /// The old card was handed back.
    #[arg(long)]
    card_returned: bool,
    #[arg(long)]
    reader: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn revoke(a: RevokeArgs) -> Result<(), Failure> {
    let st = open_station(&a.station)?;
    let id = certificate_id(&st, &a.certificate)?;
    let required = |v: Option<_>, flag: &str| {
        v.ok_or_else(|| Failure::new("invalid_request", format!("补证须填写 {flag}")))
    };
    let req = match a.kind {
        RevokeKind::WriteCard => {
            let reader = a
                .reader
                .ok_or_else(|| Failure::new("invalid_request", "写卡须指定 --reader"))?;
            let out = runtime()?.block_on(st.write_status_to_card("cli", id, &reader))?;
            print(a.json, &StatusView::from(&out), StatusView::text);
            return Ok(());
        }
        RevokeKind::Suspend => StatusRequest::Suspend { reason: a.reason },
        RevokeKind::Lift => StatusRequest::Lift { reason: a.reason },
        RevokeKind::Cancel => StatusRequest::Cancel {
            occurred_on: None,
            reason: a.reason,
            destination: a.destination.unwrap_or_default(),
        },
        RevokeKind::Reissue => StatusRequest::Reissue {
            lost_on: required(a.lost_on, "--lost-on")?,
            void_declared_how: a
                .void_declared_how
                .ok_or_else(|| Failure::new("invalid_request", "补证须填写 --void-declared-how"))?,
            void_declared_on: required(a.void_declared_on, "--void-declared-on")?,
            void_reference: a
                .void_reference
                .ok_or_else(|| Failure::new("invalid_request", "补证须填写 --void-reference"))?,
            card_returned: a.card_returned,
        },
    };
    let out = runtime()?.block_on(st.change_status("cli", id, &req, a.reader.as_deref()))?;
    print(a.json, &StatusView::from(&out), StatusView::text);
    match out.card_write_failed {
        // Recorded, but the card still says what it said: its own exit status,
        // so that a script knows to write the card later.
        Some(f) => Err(Failure {
            code: f.code.into(),
            message: format!(
                "变更已记录，但未写入卡片：{}；插入该卡后运行 ecardd revoke --kind write-card",
                f.message
            ),
            exit: 6,
        }),
        None => Ok(()),
    }
}

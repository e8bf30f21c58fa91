//! What a station may do (docs/SECURITY.md "A station acts only for its own").
//!
//! A station key signs every event, so a stolen or hostile station could otherwise
//! lift any suspension in the province, void any serial, cancel any number,
//! overwrite reviews or mint approved certificates. Before an event is applied it is
//! checked here against the sending station:
//!
//! - a certificate is the station's when the station wrote a card of it, when the
//!   certificate came from that station, or when its unit's region (the unit of the
//!   application it was approved from, else the region the number itself names)
//!   lies within the station's region — the same rule that sends issuance orders;
//! - a number the registry does not know yet may be introduced only within the
//!   station's region, and a number or serial already claimed is never claimed again
//!   (a card of a number the registry holds for another person is refused);
//! - a station never allocates a number: a change that names a new number of its own
//!   making (`new_number`) is refused — 换证/补证 are applications, numbered by the
//!   registry when approved;
//! - a serial is the station's when it wrote (or first voided) it;
//! - an ended certificate (cancelled, void, replaced) or a voided or revoked card
//!   never comes back; a suspension is lifted only by whoever decided it;
//! - a review of a year is the station's that recorded it, and only the years
//!   `ecard_domain::validity::check_review_year` allows exist.
//!
//! A refusal is a [`Refusal`] with a stable code; the caller records it and applies
//! nothing of the event.

use super::db::{params, OptionalExtension};
use super::{IngestHooks, Result, Tx};
use ecard_sync_protocol::events::CertificateNumber;
use ecard_sync_protocol::events::{
    CardIssued, CardVoided, EventBody, ReviewRecorded, StatusChanged, StatusKind,
};
use ecard_sync_protocol::state::CertificateState;

/// Why an event was refused: `code` for programs (docs/SYNC.md), `message` in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: String) -> Option<Refusal> {
    Some(Refusal { code, message })
}

/// The refusal codes, as in docs/SYNC.md.
pub mod codes {
    pub const NOT_YOUR_CERTIFICATE: &str = "not_your_certificate";
    pub const NOT_YOUR_CARD: &str = "not_your_card";
    pub const SERIAL_CLAIMED: &str = "serial_claimed";
    pub const SERIAL_REVOKED: &str = "serial_revoked";
    pub const CERTIFICATE_ENDED: &str = "certificate_ended";
    pub const BAD_TRANSITION: &str = "bad_transition";
    pub const SUSPENSION_NOT_YOURS: &str = "suspension_not_yours";
    pub const NUMBER_CLAIMED: &str = "number_claimed";
    pub const NUMBER_NOT_ALLOCATED: &str = "number_not_allocated";
    pub const REVIEW_CLAIMED: &str = "review_claimed";
    pub const REVIEW_YEAR_OUT_OF_RANGE: &str = "review_year_out_of_range";
    /// A new applicant's number filled in by the unit where the registry numbers.
    pub const NUMBER_PREFILLED: &str = "number_prefilled";
    /// A follow-up names an application the station did not send.
    pub const NOT_YOUR_APPLICATION: &str = "not_your_application";
    /// A follow-up the application's state does not allow (edit only after 退回,
    /// a photo only before approval, a send-back only of an approved one, once).
    pub const APPLICATION_STATE: &str = "application_state";
    /// The amended application does not make a valid form.
    pub const APPLICATION_INVALID: &str = "application_invalid";
}
use codes::*;

/// The sending station, as ingest knows it.
pub(super) struct Sender<'a> {
    pub id: &'a str,
    /// The region code prefix it serves; `None`: no region (it acts only on what it
    /// wrote or introduced itself).
    pub region: Option<&'a str>,
}

impl Sender<'_> {
    fn serves(&self, region: Option<&str>) -> bool {
        matches!((self.region, region), (Some(mine), Some(r)) if !mine.is_empty() && r.starts_with(mine))
    }
}

/// A certificate as far as authority needs it.
struct Cert {
    state: String,
    origin: String,
    unit_region: Option<String>,
    /// The person the number is held for, when known.
    id_number: Option<String>,
}

fn cert(tx: &Tx<'_>, number: &str) -> Result<Option<Cert>> {
    Ok(tx
        .conn()
        .prepare_cached(
            "SELECT c.state, c.origin, u.region, c.id_number FROM certificates c
             LEFT JOIN applications a ON a.id = c.application_id
             LEFT JOIN units u ON u.id = a.unit_id
             WHERE c.number = ?1",
        )?
        .query_row(params![number], |r| {
            Ok(Cert {
                state: r.get(0)?,
                origin: r.get(1)?,
                unit_region: r.get(2)?,
                id_number: r.get(3)?,
            })
        })
        .optional()?)
}

const ENDED: [&str; 3] = ["cancelled", "void", "replaced"];

/// Checks `body` from `sender`; `None` when it may be applied.
pub(super) fn check(
    tx: &Tx<'_>,
    hooks: &dyn IngestHooks,
    sender: &Sender<'_>,
    body: &EventBody,
) -> Result<Option<Refusal>> {
    match body {
        // Never refused for its content: the unit's bureaus decide it (docs/SYNC.md)
        // — except a number the unit filled in (it claims a number).
        EventBody::ApplicationSubmitted(p) => prefilled(tx, hooks, sender, p),
        EventBody::SuccessionSubmitted(_) => Ok(None),
        // Checked and applied by the workflow (`IngestHooks::station_follow_up`).
        EventBody::ApplicationAmended(_) | EventBody::SendBackRequested(_) => Ok(None),
        EventBody::CardIssued(p) => issued(tx, hooks, sender, p),
        EventBody::CardVoided(p) => voided(tx, sender, p),
        EventBody::ReviewRecorded(p) => review(tx, hooks, sender, p),
        EventBody::StatusChanged(p) => status(tx, hooks, sender, p),
    }
}

/// A new applicant's number the unit filled in: only where the province's units
/// number their own (`units_prefill_numbers`; Fujian:
/// 「按各执法单位证照编号规则生成编号后上传取证」), a number of the rule, within the
/// station's region, and never one already claimed.
fn prefilled(
    tx: &Tx<'_>,
    hooks: &dyn IngestHooks,
    sender: &Sender<'_>,
    p: &ecard_sync_protocol::events::ApplicationSubmitted,
) -> Result<Option<Refusal>> {
    use ecard_domain::roster::ApplicationKind;
    let (ApplicationKind::New, Some(number)) = (p.row.kind, &p.row.certificate_number) else {
        return Ok(None);
    };
    prefilled_number(tx, number, |_| owns_number(tx, hooks, sender, number, None))
}

/// The one check of a number a unit filled in for a new applicant, on every path
/// that takes one: a station's roster row or form (above) and the registry's own
/// unit form (`workflow::service::submit_applications`). Only where the province's
/// units number their own (else `number_prefilled`), a number of the province's
/// rule (`number_prefilled`), the unit's own (`owner`: the station's region, or the
/// unit's codes), never one a certificate or another application holds
/// (`number_claimed`, loudly).
pub(crate) fn prefilled_number(
    tx: &Tx<'_>,
    number: &CertificateNumber,
    owner: impl FnOnce(&ecard_domain::numbering::NumberParts) -> Result<Option<Refusal>>,
) -> Result<Option<Refusal>> {
    if !tx.province().units_prefill_numbers {
        return Ok(refuse(
            NUMBER_PREFILLED,
            format!("本省证件编号由登记中心统一分配，新申领人员不能预填编号（填写了{number}）"),
        ));
    }
    let parts = match tx.province().numbering.parse(number) {
        Ok(p) => p,
        Err(e) => return Ok(refuse(NUMBER_PREFILLED, e.to_string())),
    };
    if let Some(r) = owner(&parts)? {
        return Ok(Some(r));
    }
    if tx.number_held(number)? {
        return Ok(refuse(
            NUMBER_CLAIMED,
            format!("证号{number}已有人使用或已被其他申请预填，不能重复申领"),
        ));
    }
    Ok(None)
}

/// `owner` of [`prefilled_number`] for a unit filing at the registry: the number is
/// made under the unit's own region and department codes
/// (「地区代码和部门代码是固定的」).
pub(crate) fn unit_codes(
    unit: &super::Unit,
) -> impl FnOnce(&ecard_domain::numbering::NumberParts) -> Result<Option<Refusal>> + '_ {
    move |parts| {
        Ok(
            if parts.region == unit.region && parts.department == unit.department {
                None
            } else {
                refuse(
                    NUMBER_PREFILLED,
                    format!(
                        "预填的证件编号应使用本单位的地区代码{}和部门代码{}",
                        unit.region, unit.department
                    ),
                )
            },
        )
    }
}

/// `None` when `number` is the sender's; the refusal otherwise. A number the
/// registry does not know is the sender's when its region is within the sender's.
fn owns_number(
    tx: &Tx<'_>,
    hooks: &dyn IngestHooks,
    sender: &Sender<'_>,
    number: &str,
    known: Option<&Cert>,
) -> Result<Option<Refusal>> {
    let Some(c) = known else {
        return Ok(if sender.serves(hooks.number_region(number).as_deref()) {
            None
        } else {
            refuse(
                NOT_YOUR_CERTIFICATE,
                format!("证号{number}在登记中心没有记录，且不在本站服务的地区内，本站不能登记"),
            )
        });
    };
    let wrote_a_card: bool = tx
        .conn()
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM cards WHERE number = ?1 AND station_id = ?2)",
        )?
        .query_row(params![number, sender.id], |r| r.get(0))?;
    let region = c
        .unit_region
        .clone()
        .or_else(|| hooks.number_region(number));
    if wrote_a_card || c.origin == sender.id || sender.serves(region.as_deref()) {
        return Ok(None);
    }
    Ok(refuse(
        NOT_YOUR_CERTIFICATE,
        format!("证号{number}不属于本站服务的单位，也不是发给本站或由本站制证的，本站无权处理"),
    ))
}

fn issued(
    tx: &Tx<'_>,
    hooks: &dyn IngestHooks,
    sender: &Sender<'_>,
    p: &CardIssued,
) -> Result<Option<Refusal>> {
    let card: Option<(String, String, String)> = tx
        .conn()
        .prepare_cached("SELECT number, station_id, state FROM cards WHERE serial = ?1")?
        .query_row(params![&p.serial], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    if let Some((number, station, state)) = card {
        if station != sender.id || (number != p.number.as_str() && !number.is_empty()) {
            return Ok(refuse(
                SERIAL_CLAIMED,
                format!("卡号{}已由其他站点或为其他证号登记，不能再次登记", p.serial),
            ));
        }
        if state == "void" || state == "revoked" {
            return Ok(refuse(
                SERIAL_REVOKED,
                format!("卡{}已作废或注销，不能再登记为有效卡", p.serial),
            ));
        }
    }
    let known = cert(tx, &p.number)?;
    if let Some(r) = owns_number(tx, hooks, sender, &p.number, known.as_ref())? {
        return Ok(Some(r));
    }
    if let Some(held_for) = known.as_ref().and_then(|c| c.id_number.as_deref()) {
        if !held_for.eq_ignore_ascii_case(p.id_number.trim()) {
            return Ok(refuse(
                NUMBER_CLAIMED,
                format!("证号{}已登记给另一人，不能再为他人制卡", p.number),
            ));
        }
    }
    match known.as_ref().map(|c| c.state.as_str()) {
        None | Some("approved") | Some("issued") => Ok(None),
        Some(s) if ENDED.contains(&s) => Ok(ended(&p.number)),
        Some(s) => Ok(refuse(
            BAD_TRANSITION,
            format!("证号{}当前状态为{s}，不能制发新卡", p.number),
        )),
    }
}

fn ended(number: &str) -> Option<Refusal> {
    refuse(
        CERTIFICATE_ENDED,
        format!("证号{number}已注销、作废或换发，不能再变更"),
    )
}

fn voided(tx: &Tx<'_>, sender: &Sender<'_>, p: &CardVoided) -> Result<Option<Refusal>> {
    let station: Option<String> = tx
        .conn()
        .prepare_cached("SELECT station_id FROM cards WHERE serial = ?1")?
        .query_row(params![&p.serial], |r| r.get(0))
        .optional()?;
    // An unknown serial is a card the station gave up before it was issued (a job
    // moved on to another card): voiding it claims it for the sender.
    Ok(match station {
        Some(s) if s != sender.id => refuse(
            NOT_YOUR_CARD,
            format!("卡{}不是本站写入的，本站无权作废", p.serial),
        ),
        _ => None,
    })
}

fn review(
    tx: &Tx<'_>,
    hooks: &dyn IngestHooks,
    sender: &Sender<'_>,
    p: &ReviewRecorded,
) -> Result<Option<Refusal>> {
    let known = cert(tx, &p.number)?;
    if known.is_none() {
        return Ok(refuse(
            NOT_YOUR_CERTIFICATE,
            format!("证号{}在登记中心没有记录，不能登记年审", p.number),
        ));
    }
    if let Some(r) = owns_number(tx, hooks, sender, &p.number, known.as_ref())? {
        return Ok(Some(r));
    }
    let issued_on: Option<String> = tx
        .conn()
        .prepare_cached("SELECT MIN(issued_on) FROM cards WHERE number = ?1 AND issued_on <> ''")?
        .query_row(params![&p.number], |r| r.get(0))?;
    let issued_on = issued_on.and_then(|d| d.parse().ok());
    if let Err(e) =
        ecard_domain::validity::check_review_year(issued_on, i32::from(p.year), tx.today())
    {
        return Ok(refuse(REVIEW_YEAR_OUT_OF_RANGE, e.to_string()));
    }
    let by: Option<String> = tx
        .conn()
        .prepare_cached("SELECT station_id FROM reviews WHERE number = ?1 AND year = ?2")?
        .query_row(params![p.number, p.year], |r| r.get(0))
        .optional()?;
    Ok(match by {
        Some(s) if s != sender.id => refuse(
            REVIEW_CLAIMED,
            format!(
                "证号{}的{}年度年审已由其他站点登记，不能覆盖",
                p.number, p.year
            ),
        ),
        _ => None,
    })
}

fn status(
    tx: &Tx<'_>,
    hooks: &dyn IngestHooks,
    sender: &Sender<'_>,
    p: &StatusChanged,
) -> Result<Option<Refusal>> {
    if let Some(new) = &p.new_number {
        // Numbers have one owner: a station that names a successor number made it
        // up itself (an older ecardd did), and two stations could make the same one.
        return Ok(refuse(
            NUMBER_NOT_ALLOCATED,
            format!(
                "证件编号只由登记中心分配：站点自行编出的新证号{new}不予登记（换证、补证应提交申请，审核通过后由登记中心编号）"
            ),
        ));
    }
    let known = cert(tx, &p.number)?;
    if let Some(r) = owns_number(tx, hooks, sender, &p.number, known.as_ref())? {
        return Ok(Some(r));
    }
    if let Some(c) = &known {
        if ENDED.contains(&c.state.as_str()) {
            return Ok(ended(&p.number));
        }
        // The one table of which change applies to which state (the protocol's,
        // the station checks the same): a station's event gets no looser rule here.
        let Some(state) = CertificateState::parse(&c.state) else {
            return Ok(refuse(
                BAD_TRANSITION,
                format!("证号{}的状态记录无法识别，不能变更", p.number),
            ));
        };
        if !p.kind.applies_to(state) {
            return Ok(refuse(
                BAD_TRANSITION,
                crate::web::labels::transition_refused_zh(&p.number, state, p.kind),
            ));
        }
        if p.kind == StatusKind::Lift {
            let by: Option<String> = tx
                .conn()
                .prepare_cached(
                    "SELECT origin FROM status_changes WHERE number = ?1 AND kind = 'suspend'
                     ORDER BY id DESC LIMIT 1",
                )?
                .query_row(params![&p.number], |r| r.get(0))
                .optional()?;
            if by.as_deref() != Some(sender.id) {
                return Ok(refuse(
                    SUSPENSION_NOT_YOURS,
                    format!(
                        "证号{}的暂停不是本站作出的，只能由作出暂停的一方解除",
                        p.number
                    ),
                ));
            }
        }
    } else if p.kind == StatusKind::Lift {
        return Ok(refuse(
            BAD_TRANSITION,
            format!("证号{}在登记中心没有暂停记录，不能解除", p.number),
        ));
    }
    Ok(None)
}

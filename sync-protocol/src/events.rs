//! Station → registry: the outbox events (`POST /sync/v1/events`) and the answer.
//!
//! On the wire an event keeps the station's outbox row as it is (`kind` + raw JSON
//! `payload`), so that a station never has to re-encode what it stored; the registry
//! decodes each payload with [`StationEvent::body`] before applying anything.

use crate::{check_version, ProtocolError, PROTOCOL_VERSION};
use card_profile::records::{CertificateKind, ReviewResult};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Most events one batch may carry: keeps one registry transaction short.
pub const MAX_BATCH_EVENTS: usize = 1000;
/// Every certificate number in a message is this type: checked as it is decoded.
pub use ecard_domain::numbering::CertificateNumber;
/// Longest certificate number accepted anywhere in the protocol (bytes): the
/// domain's, where [`CertificateNumber`] checks it.
pub use ecard_domain::numbering::MAX_NUMBER_LEN;
/// Longest free text (reasons, remarks) in bytes.
pub const MAX_TEXT_LEN: usize = 2000;

/// One outbox row of a station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StationEvent {
    /// Random id given by the station when the event was stored (idempotency key).
    pub event_id: String,
    /// The station's outbox sequence: contiguous from 1, per station.
    pub seq: u64,
    pub kind: String,
    pub payload: serde_json::Value,
    /// When the station stored it (RFC 3339), for the record only.
    pub created_at: String,
}

/// The body of `POST /sync/v1/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBatch {
    pub version: u32,
    pub events: Vec<StationEvent>,
}

/// The answer to a batch: everything up to `last_applied_seq` is durably applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventAck {
    pub version: u32,
    pub last_applied_seq: u64,
    /// Events of this batch applied now.
    pub applied: u64,
    /// Events of this batch that were applied before (re-sent): acknowledged, skipped.
    pub duplicates: u64,
    /// Events acknowledged (counted in `last_applied_seq`, never to be re-sent) but
    /// refused: the station may not do what they say (another station's card or
    /// certificate, a number outside its region, a second claim to a number or
    /// serial, ...). They changed nothing at the registry and reached no other
    /// station. Added within v1: absent (empty) from older registries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<EventRefusal>,
}

/// One refused event of a batch: a stable `code` for programs and a Chinese `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRefusal {
    pub seq: u64,
    pub event_id: String,
    pub code: String,
    pub message: String,
}

impl EventBatch {
    pub fn new(events: Vec<StationEvent>) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            events,
        }
    }

    /// Decodes and checks a batch from request bytes: version, size, ids, and
    /// strictly increasing sequence numbers. Payloads are checked by [`StationEvent::body`].
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let batch: EventBatch = serde_json::from_slice(bytes)?;
        check_version(batch.version)?;
        if batch.events.len() > MAX_BATCH_EVENTS {
            return Err(ProtocolError::field(
                "events",
                format!("more than {MAX_BATCH_EVENTS} events"),
            ));
        }
        for pair in batch.events.windows(2) {
            if pair[1].seq != pair[0].seq + 1 {
                return Err(ProtocolError::field(
                    "seq",
                    "sequence numbers in a batch must be contiguous and increasing",
                ));
            }
        }
        for e in &batch.events {
            check_event_id(&e.event_id)?;
            if e.seq == 0 {
                return Err(ProtocolError::field("seq", "sequence numbers start at 1"));
            }
            check_text("created_at", &e.created_at, 64)?;
        }
        Ok(batch)
    }
}

impl EventAck {
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let ack: EventAck = serde_json::from_slice(bytes)?;
        check_version(ack.version)?;
        Ok(ack)
    }
}

/// `card_issued`: a card was written and verified at the station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardIssued {
    pub number: CertificateNumber,
    /// Card serial, 16 hex digits.
    pub serial: String,
    /// The chip's public key (hex).
    pub chip_key: String,
    /// EF.SOD as written (hex).
    pub sod: String,
    pub issued_on: NaiveDate,
    pub id_number: String,
}

/// `card_voided`: a card was given up (e.g. replaced by another card mid-job).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardVoided {
    pub serial: String,
    pub reason: String,
    pub since: NaiveDate,
}

/// `review_recorded`: an annual review (年审).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRecorded {
    pub number: CertificateNumber,
    pub year: u16,
    pub date: NaiveDate,
    pub result: ReviewResult,
    pub remark: Option<String>,
}

/// The kinds of status change (daemon/src/ops/status.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    /// 暂停执法 (reversible)
    Suspend,
    /// the suspension is lifted
    Lift,
    /// 注销
    Cancel,
    /// 换证: the old certificate is cancelled for a new one
    Replace,
    /// 补证: the old number is declared void after a loss
    Reissue,
}

impl StatusKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            StatusKind::Suspend => "suspend",
            StatusKind::Lift => "lift",
            StatusKind::Cancel => "cancel",
            StatusKind::Replace => "replace",
            StatusKind::Reissue => "reissue",
        }
    }

    pub const ALL: [StatusKind; 5] = [
        StatusKind::Suspend,
        StatusKind::Lift,
        StatusKind::Cancel,
        StatusKind::Replace,
        StatusKind::Reissue,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// True when the change ends the certificate: its number goes on the revocation list.
    pub const fn revokes(self) -> bool {
        matches!(
            self,
            StatusKind::Cancel | StatusKind::Replace | StatusKind::Reissue
        )
    }
}

/// `status_changed`: suspend, lift, cancel, replace or re-issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChanged {
    pub number: CertificateNumber,
    pub kind: StatusKind,
    pub reason: String,
    /// Kind-specific detail (destination, how/when declared void, ...).
    #[serde(default)]
    pub detail: serde_json::Value,
    pub effective_on: NaiveDate,
    /// Re-issue: the number of the new certificate.
    pub new_number: Option<CertificateNumber>,
}

/// Which roster sheet an application came from: the domain's one type.
pub use ecard_domain::roster::ApplicationKind;
use ecard_domain::roster::RosterRow;

/// What the official roster template does not say, given by whoever imports it
/// (the registry's `RosterDefaults`). Optional within v1: ecardd does not send it yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDefaults {
    pub certificate_kind: CertificateKind,
    /// 执法类别
    pub category: String,
    /// 执法区域
    pub area: String,
}

/// Longest unit name accepted in an application (bytes).
pub const MAX_UNIT_LEN: usize = 400;
/// Longest roster row accepted, as JSON (bytes).
pub const MAX_ROW_LEN: usize = 16 * 1024;
/// Longest photo accepted, base64 (a 512 KiB JPEG).
pub const MAX_PHOTO_BASE64_LEN: usize = 512 * 1024 * 4 / 3 + 4;

/// `application_submitted`: a roster row imported at the station (导入), to be
/// decided by the bureaus in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSubmitted {
    pub kind: ApplicationKind,
    /// The validated roster row: the domain's type on both sides (decoding it checks
    /// the citizen ID, codes and dates again). Boxed: a row is far larger than the
    /// other events.
    pub row: Box<RosterRow>,
    /// The holder's photo as the station keeps it (chip-sized JPEG), base64, or null.
    #[serde(default)]
    pub photo_jpeg: Option<String>,
    /// Added within v1 (optional): certificate kind, category and area for the row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<ApplicationDefaults>,
}

impl ApplicationSubmitted {
    /// The unit named in the row (所属执法主体), trimmed.
    pub fn unit(&self) -> &str {
        self.row.unit.trim()
    }

    fn check(&self) -> Result<(), ProtocolError> {
        check_row(&self.row)?;
        check_photo(self.photo_jpeg.as_deref())?;
        if let Some(d) = &self.defaults {
            check_text("defaults.category", &d.category, MAX_TEXT_LEN)?;
            check_text("defaults.area", &d.area, MAX_TEXT_LEN)?;
        }
        Ok(())
    }
}

/// Which application follows a certificate the station has just ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuccessionKind {
    /// 换证: the old certificate was cancelled first (「换证的要先注销再点"申领"」).
    Replacement,
    /// 补证: the old number was declared void after a loss.
    Reissue,
}

impl SuccessionKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            SuccessionKind::Replacement => "replacement",
            SuccessionKind::Reissue => "reissue",
        }
    }
}

/// `succession_submitted`: a 换证 or 补证 application made at the station for a
/// certificate it has just ended (the `status_changed` event before it). The
/// registry files it for `unit` (the holder's unit now: for a 换证 after a move, the
/// new one) and reviews it like a new application (county, then city:
/// 「换证补证的信息由县（市、区）司法局进行初审，设区的市司法局进行复审」); the
/// approval gives the new number, the issuance order brings it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessionSubmitted {
    pub kind: SuccessionKind,
    /// The certificate it follows.
    pub old_number: CertificateNumber,
    /// The unit the new certificate is for (所属执法主体).
    pub unit: String,
    pub holder: card_profile::records::Holder,
    pub certificate_kind: CertificateKind,
    /// Post codes, e.g. "01,02".
    pub posts: String,
    /// 执法类别
    pub category: String,
    /// 执法区域
    pub area: String,
    #[serde(default)]
    pub entrusting_authority: Option<String>,
    #[serde(default)]
    pub entrusting_nature: Option<String>,
    /// 换证原因, or the loss for a 补证.
    pub reason: String,
    /// The holder's photo as the station keeps it, base64, or null.
    #[serde(default)]
    pub photo_jpeg: Option<String>,
}

impl SuccessionSubmitted {
    fn check(&self) -> Result<(), ProtocolError> {
        let unit = self.unit.trim();
        if unit.is_empty() || unit.len() > MAX_UNIT_LEN {
            return Err(ProtocolError::field(
                "unit",
                "the unit name must be a non-empty string",
            ));
        }
        for (field, text) in [
            ("holder.name", self.holder.name.as_str()),
            ("holder.id_number", self.holder.id_number.as_str()),
            ("holder.ethnicity", self.holder.ethnicity.as_str()),
            ("posts", self.posts.as_str()),
            ("category", self.category.as_str()),
            ("area", self.area.as_str()),
            ("reason", self.reason.as_str()),
        ] {
            check_text(field, text, MAX_TEXT_LEN)?;
        }
        for (field, text) in [
            ("entrusting_authority", self.entrusting_authority.as_deref()),
            ("entrusting_nature", self.entrusting_nature.as_deref()),
        ] {
            check_text(field, text.unwrap_or(""), MAX_TEXT_LEN)?;
        }
        check_photo(self.photo_jpeg.as_deref())
    }
}

/// `application_amended`: the station's follow-up to an application it sent
/// (`application_submitted` or `succession_submitted`, named by that event's id):
/// the unit edited one that came back (退回) and sends it for review again, or adds
/// the photo it was filed without while it is still pending (before approval).
/// The registry applies it only to that station's own application, in a state
/// that allows it (docs/SYNC.md); anything else is refused in the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationAmended {
    /// The event that carried the application.
    pub application_event: String,
    /// The corrected roster row (an `application_submitted` only); `None` keeps it.
    #[serde(default)]
    pub row: Option<Box<RosterRow>>,
    /// The holder's photo (chip-sized JPEG), base64; `None` keeps the one filed.
    #[serde(default)]
    pub photo_jpeg: Option<String>,
    /// Back to the bureaus for review: only an application that came back (退回).
    /// `false`: nothing but a photo, for one still pending.
    pub resubmit: bool,
}

impl ApplicationAmended {
    fn check(&self) -> Result<(), ProtocolError> {
        check_event_id(&self.application_event)?;
        if let Some(row) = &self.row {
            check_row(row)?;
        }
        check_photo(self.photo_jpeg.as_deref())?;
        if !self.resubmit && (self.row.is_some() || self.photo_jpeg.is_none()) {
            return Err(ProtocolError::field(
                "resubmit",
                "without resubmit only a photo may be added",
            ));
        }
        Ok(())
    }
}

/// `send_back_requested`: the unit asks, from its station, that an approved
/// application be sent back for editing before its card is written
/// (「可由单位管理员在系统上申请退回，待复审的司法行政机关退回后…」). The reviewing
/// bureau decides: the send-back, done once, reaches the station as an
/// `application_decision` (`returned`, with the reason) and an `order_withdrawn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendBackRequested {
    /// The event that carried the application.
    pub application_event: String,
    /// Why (shown to the bureau).
    pub reason: String,
}

impl SendBackRequested {
    fn check(&self) -> Result<(), ProtocolError> {
        check_event_id(&self.application_event)?;
        if self.reason.trim().is_empty() {
            return Err(ProtocolError::field("reason", "a reason is required"));
        }
        check_text("reason", &self.reason, MAX_TEXT_LEN)
    }
}

fn check_row(row: &RosterRow) -> Result<(), ProtocolError> {
    if serde_json::to_string(row)?.len() > MAX_ROW_LEN {
        return Err(ProtocolError::field(
            "row",
            format!("longer than {MAX_ROW_LEN} bytes"),
        ));
    }
    let unit = row.unit.trim();
    if unit.is_empty() || unit.len() > MAX_UNIT_LEN {
        return Err(ProtocolError::field(
            "row.unit",
            "the unit name must be a non-empty string",
        ));
    }
    Ok(())
}

fn check_photo(photo: Option<&str>) -> Result<(), ProtocolError> {
    if let Some(p) = photo {
        if p.len() > MAX_PHOTO_BASE64_LEN
            || !p
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        {
            return Err(ProtocolError::field(
                "photo_jpeg",
                "must be base64, at most 512 KiB decoded",
            ));
        }
    }
    Ok(())
}

/// A decoded, checked event payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventBody {
    CardIssued(CardIssued),
    CardVoided(CardVoided),
    ReviewRecorded(ReviewRecorded),
    StatusChanged(StatusChanged),
    ApplicationSubmitted(ApplicationSubmitted),
    SuccessionSubmitted(Box<SuccessionSubmitted>),
    ApplicationAmended(ApplicationAmended),
    SendBackRequested(SendBackRequested),
}

pub mod kinds {
    pub const CARD_ISSUED: &str = "card_issued";
    pub const CARD_VOIDED: &str = "card_voided";
    pub const REVIEW_RECORDED: &str = "review_recorded";
    pub const STATUS_CHANGED: &str = "status_changed";
    pub const APPLICATION_SUBMITTED: &str = "application_submitted";
    pub const SUCCESSION_SUBMITTED: &str = "succession_submitted";
    pub const APPLICATION_AMENDED: &str = "application_amended";
    pub const SEND_BACK_REQUESTED: &str = "send_back_requested";
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::CardIssued(_) => kinds::CARD_ISSUED,
            EventBody::CardVoided(_) => kinds::CARD_VOIDED,
            EventBody::ReviewRecorded(_) => kinds::REVIEW_RECORDED,
            EventBody::StatusChanged(_) => kinds::STATUS_CHANGED,
            EventBody::ApplicationSubmitted(_) => kinds::APPLICATION_SUBMITTED,
            EventBody::SuccessionSubmitted(_) => kinds::SUCCESSION_SUBMITTED,
            EventBody::ApplicationAmended(_) => kinds::APPLICATION_AMENDED,
            EventBody::SendBackRequested(_) => kinds::SEND_BACK_REQUESTED,
        }
    }

    pub fn payload(&self) -> serde_json::Value {
        // Serialising these plain structs cannot fail; Null would be refused by decode.
        match self {
            EventBody::CardIssued(p) => serde_json::to_value(p),
            EventBody::CardVoided(p) => serde_json::to_value(p),
            EventBody::ReviewRecorded(p) => serde_json::to_value(p),
            EventBody::StatusChanged(p) => serde_json::to_value(p),
            EventBody::ApplicationSubmitted(p) => serde_json::to_value(p),
            EventBody::SuccessionSubmitted(p) => serde_json::to_value(p),
            EventBody::ApplicationAmended(p) => serde_json::to_value(p),
            EventBody::SendBackRequested(p) => serde_json::to_value(p),
        }
        .unwrap_or(serde_json::Value::Null)
    }

    /// Decodes a payload by kind and checks its fields; serials come back upper-case.
    pub fn decode(kind: &str, payload: &serde_json::Value) -> Result<Self, ProtocolError> {
        Ok(match kind {
            kinds::CARD_ISSUED => {
                let mut p = CardIssued::deserialize(payload)?;
                p.serial = normalize_serial(&p.serial)?;
                check_hex("chip_key", &p.chip_key)?;
                check_hex("sod", &p.sod)?;
                check_text("id_number", &p.id_number, 32)?;
                EventBody::CardIssued(p)
            }
            kinds::CARD_VOIDED => {
                let mut p = CardVoided::deserialize(payload)?;
                p.serial = normalize_serial(&p.serial)?;
                check_text("reason", &p.reason, MAX_TEXT_LEN)?;
                EventBody::CardVoided(p)
            }
            kinds::REVIEW_RECORDED => {
                let p = ReviewRecorded::deserialize(payload)?;
                if let Some(r) = &p.remark {
                    check_text("remark", r, MAX_TEXT_LEN)?;
                }
                EventBody::ReviewRecorded(p)
            }
            kinds::STATUS_CHANGED => {
                let p = StatusChanged::deserialize(payload)?;
                check_text("reason", &p.reason, MAX_TEXT_LEN)?;
                EventBody::StatusChanged(p)
            }
            kinds::APPLICATION_SUBMITTED => {
                let p = ApplicationSubmitted::deserialize(payload)?;
                p.check()?;
                EventBody::ApplicationSubmitted(p)
            }
            kinds::SUCCESSION_SUBMITTED => {
                let p = SuccessionSubmitted::deserialize(payload)?;
                p.check()?;
                EventBody::SuccessionSubmitted(Box::new(p))
            }
            kinds::APPLICATION_AMENDED => {
                let p = ApplicationAmended::deserialize(payload)?;
                p.check()?;
                EventBody::ApplicationAmended(p)
            }
            kinds::SEND_BACK_REQUESTED => {
                let p = SendBackRequested::deserialize(payload)?;
                p.check()?;
                EventBody::SendBackRequested(p)
            }
            other => {
                return Err(ProtocolError::UnknownEventKind(
                    other.chars().take(64).collect(),
                ))
            }
        })
    }
}

impl StationEvent {
    pub fn new(
        event_id: impl Into<String>,
        seq: u64,
        body: &EventBody,
        created_at: impl Into<String>,
    ) -> Self {
        Self {
            event_id: event_id.into(),
            seq,
            kind: body.kind().to_owned(),
            payload: body.payload(),
            created_at: created_at.into(),
        }
    }

    pub fn body(&self) -> Result<EventBody, ProtocolError> {
        EventBody::decode(&self.kind, &self.payload)
    }
}

/// An event id: 1–64 ASCII letters, digits, `-` or `_` (the daemon uses 32 hex).
pub fn check_event_id(id: &str) -> Result<(), ProtocolError> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ProtocolError::field(
            "event_id",
            "1–64 letters, digits, - or _",
        ));
    }
    Ok(())
}

/// A card serial: exactly 16 hex digits; returned upper-case (the daemon's form).
pub fn normalize_serial(serial: &str) -> Result<String, ProtocolError> {
    if serial.len() != 16 || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ProtocolError::field(
            "serial",
            "card serial must be 16 hex digits",
        ));
    }
    Ok(serial.to_ascii_uppercase())
}

/// A certificate number held as text where the message's type is not ours (the
/// card's `Certificate`, a revocation entry that is a serial or a number): checked
/// by [`CertificateNumber::parse`], the one check; the number itself, not a trimmed
/// copy, must pass.
pub fn check_number(number: &str) -> Result<(), ProtocolError> {
    match CertificateNumber::parse(number) {
        Ok(n) if n.as_str() == number => Ok(()),
        Ok(_) => Err(ProtocolError::field("number", "证件编号前后不能有空白字符")),
        Err(e) => Err(ProtocolError::field("number", e.to_string())),
    }
}

fn check_hex(field: &'static str, s: &str) -> Result<(), ProtocolError> {
    if !s.len().is_multiple_of(2) || s.len() > 16_384 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ProtocolError::field(field, "must be hex"));
    }
    Ok(())
}

fn check_text(field: &'static str, s: &str, max: usize) -> Result<(), ProtocolError> {
    if s.len() > max {
        return Err(ProtocolError::field(
            field,
            format!("longer than {max} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn issued() -> EventBody {
        EventBody::CardIssued(CardIssued {
            number: "川X010001".parse().expect("number"),
            serial: "00112233AABBCCDD".into(),
            chip_key: "04ab".into(),
            sod: "77".into(),
            issued_on: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
            id_number: "510102199001011234".into(),
        })
    }

    #[test]
    fn daemon_payloads_decode() {
        // The exact shapes ecardd writes with tx.outbox(...).
        let cases = [
            (
                "card_issued",
                json!({"number": "川X010001", "serial": "00112233aabbccdd", "chip_key": "04ab", "sod": "77", "issued_on": "2026-11-23", "id_number": "510102199001011234"}),
            ),
            (
                "card_voided",
                json!({"serial": "00112233AABBCCDD", "reason": "换卡", "since": "2026-11-23"}),
            ),
            (
                "review_recorded",
                json!({"number": "川X010001", "year": 2027, "date": "2027-03-01", "result": "passed", "remark": null}),
            ),
            (
                "status_changed",
                json!({"number": "川X010001", "kind": "reissue", "reason": "证件遗失，声明作废", "detail": {"lost_on": "2026-11-01"}, "effective_on": "2026-11-23", "new_number": "川X010002"}),
            ),
            (
                "status_changed",
                json!({"number": "川X010001", "kind": "suspend", "reason": "调查", "detail": {}, "effective_on": "2026-11-23", "new_number": null}),
            ),
            (
                "application_submitted",
                json!({"kind": "new", "row": roster_row("岳池县教育局"), "photo_jpeg": "/9j/4AAQ"}),
            ),
            (
                "application_submitted",
                json!({"kind": "replacement", "row": roster_row("岳池县教育局"), "photo_jpeg": null}),
            ),
        ];
        for (kind, payload) in cases {
            let body = EventBody::decode(kind, &payload).expect(kind);
            assert_eq!(body.kind(), kind);
        }
        match EventBody::decode("card_issued", &cases_serial_lower()) {
            Ok(EventBody::CardIssued(p)) => assert_eq!(p.serial, "00112233AABBCCDD"),
            other => panic!("{other:?}"),
        }
    }

    /// A roster row as the station encodes it (the domain's type, serialised).
    fn roster_row(unit: &str) -> serde_json::Value {
        use ecard_domain::citizen_id::CitizenId;
        use ecard_domain::codes::{Ethnicity, PoliticalStatus, PostCode};
        use ecard_domain::roster::{ApplicationKind, RosterRow};
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let citizen_id = CitizenId::parse("11010519491231002X", day).expect("valid id");
        let row = RosterRow {
            kind: ApplicationKind::New,
            excel_row: 2,
            county: "岳池县".into(),
            name: "张三".into(),
            unit: unit.into(),
            certificate_number: None,
            valid_until: None,
            gender: citizen_id.gender(),
            birth_date: citizen_id.birth_date(),
            citizen_id,
            ethnicity: Ethnicity::parse("汉族").expect("ethnicity"),
            political_status: PoliticalStatus::ALL[0],
            valid_from: None,
            education: "大学".into(),
            major: "法学".into(),
            rank_code: "01".into(),
            law_major: true,
            legal_qualification: false,
            posts: vec![PostCode::ALL[0]],
            exam_category: "通用法律知识".into(),
            law_exam_on: None,
            law_exam_score: None,
            staffing: None,
            org_nature: None,
            position: None,
            photo: None,
        };
        serde_json::to_value(row).expect("encode")
    }

    fn cases_serial_lower() -> serde_json::Value {
        json!({"number": "川X010001", "serial": "00112233aabbccdd", "chip_key": "04ab", "sod": "77", "issued_on": "2026-11-23", "id_number": "5101"})
    }

    #[test]
    fn bad_payloads_refused() {
        assert!(matches!(
            EventBody::decode("card_exploded", &json!({})),
            Err(ProtocolError::UnknownEventKind(_))
        ));
        assert!(EventBody::decode(
            "card_voided",
            &json!({"serial": "xyz", "reason": "", "since": "2026-11-23"})
        )
        .is_err());
        assert!(EventBody::decode("status_changed", &json!({"number": "a b", "kind": "cancel", "reason": "", "effective_on": "2026-11-23", "new_number": null})).is_err());
        for bad in [
            json!({"kind": "new", "row": "not an object", "photo_jpeg": null}),
            json!({"kind": "new", "row": roster_row("  "), "photo_jpeg": null}),
            json!({"kind": "new", "row": {"name": "张三"}, "photo_jpeg": null}),
            json!({"kind": "renew", "row": roster_row("某局"), "photo_jpeg": null}),
            json!({"kind": "new", "row": roster_row("某局"), "photo_jpeg": "not base64!"}),
        ] {
            assert!(
                EventBody::decode("application_submitted", &bad).is_err(),
                "{bad}"
            );
        }
        assert!(EventBody::decode("status_changed", &json!({"number": "A1", "kind": "explode", "reason": "", "effective_on": "2026-11-23", "new_number": null})).is_err());
    }

    /// A malformed number from the wire is refused as the payload is decoded, with
    /// the domain's words for what is wrong; nothing downstream sees a bare string.
    #[test]
    fn a_malformed_number_is_refused_with_a_clear_error() {
        for (payload, needle) in [
            (
                json!({"number": "", "year": 2027, "date": "2027-03-01", "result": "passed", "remark": null}),
                "证件编号为空",
            ),
            (
                json!({"number": "川X 010001", "kind": "cancel", "reason": "", "effective_on": "2026-11-23", "new_number": null}),
                "空白或控制字符",
            ),
            (
                json!({"number": "川X010001", "kind": "reissue", "reason": "", "effective_on": "2026-11-23", "new_number": "9".repeat(65)}),
                "超过64字节",
            ),
        ] {
            let kind = if payload.get("year").is_some() {
                "review_recorded"
            } else {
                "status_changed"
            };
            match EventBody::decode(kind, &payload) {
                Err(e) => assert!(e.to_string().contains(needle), "{e}"),
                Ok(b) => panic!("{b:?} must be refused"),
            }
        }
        assert!(
            check_number(" 川X010001").is_err(),
            "the text itself must be a number"
        );
    }

    #[test]
    fn follow_ups_to_an_application_decode_and_are_checked() {
        let amended = json!({"application_event": "0123abcd", "row": roster_row("岳池县教育局"), "photo_jpeg": null, "resubmit": true});
        match EventBody::decode("application_amended", &amended) {
            Ok(EventBody::ApplicationAmended(a)) => {
                assert!(a.resubmit && a.row.is_some());
                let again = EventBody::ApplicationAmended(a);
                assert_eq!(EventBody::decode(again.kind(), &again.payload()), Ok(again));
            }
            other => panic!("{other:?}"),
        }
        let photo_only =
            json!({"application_event": "e1", "photo_jpeg": "/9j/4AAQ", "resubmit": false});
        assert!(EventBody::decode("application_amended", &photo_only).is_ok());
        for bad in [
            // Without resubmit only a photo may be added.
            json!({"application_event": "e1", "row": roster_row("某局"), "photo_jpeg": "/9j/", "resubmit": false}),
            json!({"application_event": "e1", "photo_jpeg": null, "resubmit": false}),
            json!({"application_event": "not an id!", "photo_jpeg": "/9j/", "resubmit": false}),
            json!({"application_event": "e1", "photo_jpeg": "not base64!", "resubmit": true}),
        ] {
            assert!(
                EventBody::decode("application_amended", &bad).is_err(),
                "{bad}"
            );
        }
        let req = json!({"application_event": "e1", "reason": "职务填错"});
        assert!(matches!(
            EventBody::decode("send_back_requested", &req),
            Ok(EventBody::SendBackRequested(_))
        ));
        let blank = json!({"application_event": "e1", "reason": "  "});
        assert!(EventBody::decode("send_back_requested", &blank).is_err());
    }

    #[test]
    fn batch_round_trip_and_checks() {
        let events: Vec<_> = (1..=3)
            .map(|i| StationEvent::new(format!("e{i}"), i, &issued(), "2026-11-23T10:00:00.000Z"))
            .collect();
        let batch = EventBatch::new(events);
        let bytes = serde_json::to_vec(&batch).expect("encode");
        assert_eq!(EventBatch::decode(&bytes), Ok(batch.clone()));

        let mut gap = batch.clone();
        gap.events[2].seq = 5;
        let bytes = serde_json::to_vec(&gap).expect("encode");
        assert!(EventBatch::decode(&bytes).is_err());

        let mut v2 = batch;
        v2.version = 2;
        let bytes = serde_json::to_vec(&v2).expect("encode");
        assert_eq!(EventBatch::decode(&bytes), Err(ProtocolError::Version(2)));
    }

    proptest! {
        #[test]
        fn batch_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = EventBatch::decode(&bytes);
            let _ = EventAck::decode(&bytes);
        }

        #[test]
        fn payload_decoder_never_panics(kind in "(card_issued|card_voided|review_recorded|status_changed|application_submitted|[a-z_]{0,12})", s in ".{0,200}") {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&s) {
                let _ = EventBody::decode(&kind, &v);
            }
        }

        #[test]
        fn serials_normalize_or_refuse(s in "[0-9a-fA-F]{16}|.{0,20}") {
            match normalize_serial(&s) {
                Ok(n) => { prop_assert_eq!(n.len(), 16); prop_assert_eq!(n.to_ascii_uppercase(), n); }
                Err(_) => prop_assert!(s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit())),
            }
        }

        #[test]
        fn decoded_batches_are_contiguous(seqs in proptest::collection::vec(0u64..10, 0..6)) {
            let events: Vec<_> = seqs.iter().enumerate()
                .map(|(i, s)| StationEvent::new(format!("e{i}"), *s, &issued(), "t"))
                .collect();
            let bytes = serde_json::to_vec(&EventBatch::new(events)).expect("encode");
            if let Ok(b) = EventBatch::decode(&bytes) {
                for w in b.events.windows(2) { prop_assert_eq!(w[1].seq, w[0].seq + 1); }
                prop_assert!(b.events.iter().all(|e| e.seq >= 1));
            }
        }
    }
}

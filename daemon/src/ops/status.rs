//! Status changes: suspension (暂停执法) and its lifting, cancellation (注销, with
//! reason and where the person went), 换证 and 补证. Always recorded; written to the
//! card when the card is in a reader; cancelled and voided numbers and serials go on
//! the revocation list.
//!
//! 换证 and 补证 are applications, not local decisions: the old certificate's state
//! is recorded at once (换证: cancelled first, 「换证的要先注销再点"申领"」; 补证: the
//! number declared void, with how, when and the 凭证 reference), and a
//! `succession_submitted` application goes to the registry, where the county and the
//! city review it (「换证补证的信息由县（市、区）司法局进行初审，设区的市司法局进行复审」)
//! and the registry, the one owner of numbers, numbers it. The approved order comes
//! back through the feed and the new card is written here like any other.

use super::invalid::Invalid;
use super::{select_known, KnownCard, OpError, Station};
use crate::store::{self, CardState, CardStateOf, CertificateState, Conflict, Tx};
use base64::Engine;
use card_profile::channel::Link;
use card_profile::records::CardState as OnCard;
use card_profile::sequences::{self, StatusChange};
use chrono::NaiveDate;
use ecard_domain::deadlines;
use ecard_sync_protocol::events::{
    EventBody, StatusChanged, StatusKind, SuccessionKind, SuccessionSubmitted,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StatusRequest {
    Suspend {
        reason: String,
    },
    Lift {
        reason: String,
    },
    /// 注销: reason and 被注销人员去向.
    Cancel {
        reason: String,
        destination: String,
        /// The day the situation arose (left the unit, changed post): the 3 working
        /// days run from it. Absent: the day it is recorded.
        #[serde(default)]
        occurred_on: Option<NaiveDate>,
    },
    /// 换证: the unit's name changed, or the holder moved unit or post. The old
    /// certificate is cancelled now; an application for the new one, with the
    /// changed fields (`unit`: the holder's unit now), goes to the registry.
    Replace {
        reason: String,
        #[serde(default)]
        unit: Option<String>,
        #[serde(default)]
        posts: Option<String>,
        #[serde(default)]
        category: Option<String>,
        #[serde(default)]
        area: Option<String>,
        /// The old card was handed back (the guides ask for it on 换证).
        #[serde(default)]
        card_returned: bool,
        /// 职务 after the change (附件3 工作岗位及职务).
        #[serde(default)]
        position: Option<String>,
        /// The day the situation arose (unit renamed, holder moved): the 3 working
        /// days run from it. Absent: the day it is recorded.
        #[serde(default)]
        occurred_on: Option<NaiveDate>,
    },
    /// 补证: lost card; the old number is declared void (声明作废) now, with how,
    /// when and the 凭证 reference (e.g. the newspaper and issue); an application
    /// for the new certificate goes to the registry.
    Reissue {
        lost_on: NaiveDate,
        void_declared_how: String,
        void_declared_on: NaiveDate,
        #[serde(default)]
        void_reference: String,
        /// The lost card turned up and was handed back.
        #[serde(default)]
        card_returned: bool,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusOutcome {
    pub certificate_id: i64,
    pub state: CertificateState,
    /// Serial of the card the change was written to, when one was in the reader.
    pub written_to: Option<String>,
    /// The change is recorded, but writing it to the card in the reader failed.
    pub card_write_failed: Option<CardWriteFailure>,
    /// For a 换证/补证: the station's application sent to the registry (the new
    /// certificate arrives with its approval).
    pub application_id: Option<i64>,
    /// 注销/换证/补证: the last day to file it with the city bureau (3 working days,
    /// `deadlines::add_working_days`); done when it reached the registry.
    pub due_on: Option<NaiveDate>,
}

impl StatusRequest {
    fn kind(&self) -> StatusKind {
        match self {
            StatusRequest::Suspend { .. } => StatusKind::Suspend,
            StatusRequest::Lift { .. } => StatusKind::Lift,
            StatusRequest::Cancel { .. } => StatusKind::Cancel,
            StatusRequest::Replace { .. } => StatusKind::Replace,
            StatusRequest::Reissue { .. } => StatusKind::Reissue,
        }
    }

    /// The day the 3 working days of 「在 3 个工作日内向市司法局办理注销、换发、补发手续」
    /// run from: when the situation arose (a 补证's loss date, the given day of a
    /// 注销 or 换证), else `recorded`. None for suspension and lifting.
    pub(crate) fn situation_on(&self, recorded: NaiveDate) -> Option<NaiveDate> {
        match self {
            StatusRequest::Suspend { .. } | StatusRequest::Lift { .. } => None,
            StatusRequest::Reissue { lost_on, .. } => Some(*lost_on),
            StatusRequest::Cancel { occurred_on, .. }
            | StatusRequest::Replace { occurred_on, .. } => Some(occurred_on.unwrap_or(recorded)),
        }
    }

    fn reason(&self) -> String {
        match self {
            StatusRequest::Suspend { reason }
            | StatusRequest::Lift { reason }
            | StatusRequest::Cancel { reason, .. }
            | StatusRequest::Replace { reason, .. } => reason.trim().to_owned(),
            StatusRequest::Reissue { .. } => "证件遗失，声明作废".to_owned(),
        }
    }

    /// The certificate state before → after, or why the change does not apply.
    /// (The one rule and table: `StatusKind::applies_to` / `state_after`.)
    pub(crate) fn transition(&self, from: CertificateState) -> Result<CertificateState, Conflict> {
        let kind = self.kind();
        if kind.applies_to(from) {
            Ok(kind.state_after())
        } else {
            Err(Conflict::StatusChangeNotAllowed { state: from, kind })
        }
    }
}

/// Why a change that was recorded did not reach the card (the records stand; the
/// card can be written later with `Station::write_status_to_card`).
#[derive(Debug, Clone, Serialize)]
pub struct CardWriteFailure {
    pub code: &'static str,
    pub message: String,
}

impl Station {
    /// Applies a status change; `reader` optionally holds the certificate's card.
    ///
    /// The records come first: the change, the certificate's and cards' states, the
    /// revocation list or suspension, audit and outbox rows in one transaction. Then
    /// the card, when one is at hand; a card write that fails (card pulled, reader
    /// gone) leaves the change recorded and says so in `card_write_failed`; a
    /// crash in between leaves the records ahead of the card, never the reverse.
    /// Field checks follow the records either way (revocation list, suspensions).
    /// Before anything is recorded, a card at `reader` must be this certificate's:
    /// a wrong card changes nothing.
    pub async fn change_status(
        &self,
        actor: &str,
        certificate_id: i64,
        req: &StatusRequest,
        reader: Option<&str>,
    ) -> Result<StatusOutcome, OpError> {
        if req.reason().is_empty() {
            return Err(OpError::Invalid(Invalid::ReasonMissing));
        }
        if let StatusRequest::Cancel { destination, .. } = req {
            if destination.trim().is_empty() {
                return Err(OpError::Invalid(Invalid::DestinationMissing));
            }
        }
        if let StatusRequest::Reissue {
            void_declared_how,
            void_reference,
            ..
        } = req
        {
            if void_declared_how.trim().is_empty() || void_reference.trim().is_empty() {
                return Err(OpError::Invalid(Invalid::VoidDeclarationMissing));
            }
        }
        let today = self.today();
        let situation_on = req.situation_on(today);
        if situation_on.is_some_and(|d| d > today) {
            return Err(OpError::Invalid(Invalid::OccurredInFuture));
        }
        // The one working-day rule, with the province's holidays and 调休.
        let due_on = situation_on.map(|d| {
            deadlines::add_working_days(
                d,
                deadlines::DECISION_WORKING_DAYS,
                &self.config.province.holidays,
            )
        });
        let cert = self.store.read(|c| store::certificate(c, certificate_id))?;
        let new_state = req.transition(cert.state).map_err(OpError::Conflict)?;
        let cards = self
            .store
            .read(|c| store::cards_of_certificate(c, certificate_id))?;
        let live: Vec<_> = cards
            .iter()
            .filter(|c| matches!(c.state, CardState::Live | CardState::Suspended))
            .collect();
        let known: Vec<KnownCard> = live.iter().map(|c| KnownCard::from(*c)).collect();
        if let Some(reader) = reader {
            self.keys()?;
            self.card_of(reader, &known).await?;
        }

        let (change_id, application_id) = self.store.write(actor, |tx| {
            // What was checked above may have changed while the card was checked (a
            // double-clicked 补证 must not file two applications).
            let current = store::certificate(tx.conn(), certificate_id)?.state;
            if current != cert.state {
                return Err(Conflict::StateChanged { state: current }.into());
            }
            store::set_certificate_state(tx, certificate_id, new_state)?;
            let card_state = new_state.card_state();
            for card in &live {
                store::set_card_state(tx, &card.serial, card_state, false)?;
            }
            let detail = detail_of(req);
            let change_id = store::insert_status_change(
                tx,
                certificate_id,
                req.kind(),
                &req.reason(),
                &detail,
                today,
                None,
            )?;
            if matches!(
                new_state,
                CertificateState::Cancelled | CertificateState::Void | CertificateState::Replaced
            ) {
                revoke_all(tx, &cert.certificate.number, &live, &req.reason(), today)?;
            }
            let reason = req.reason();
            let suspension =
                (new_state == CertificateState::Suspended).then_some((reason.as_str(), today));
            store::set_suspension(tx, &cert.certificate.number, suspension, "local")?;
            tx.audit(
                &format!("certificate.{}", req.kind().as_str()),
                &cert.certificate.number,
                json!({ "reason": req.reason(), "detail": detail }),
            )?;
            // The old certificate's end goes first: the registry records it before
            // it files the application that follows it.
            let change_event = tx.outbox(&EventBody::StatusChanged(StatusChanged {
                number: cert.number()?,
                kind: req.kind(),
                reason: req.reason(),
                detail: detail.clone(),
                effective_on: today,
                new_number: None,
            }))?;
            let (application, last_event) = match req {
                StatusRequest::Reissue { .. } | StatusRequest::Replace { .. } => {
                    let (id, event) = file_succession(tx, &cert, req)?;
                    (Some(id), event)
                }
                _ => (None, change_event),
            };
            // Filed with the bureau when the last of its events reached the registry.
            if let Some(due_on) = due_on {
                store::track_deadline(tx, change_id, due_on, &last_event)?;
            }
            Ok((change_id, application))
        })?;

        let mut outcome = StatusOutcome {
            certificate_id,
            state: new_state,
            written_to: None,
            card_write_failed: None,
            application_id,
            due_on,
        };
        if let Some(reader) = reader {
            let change = StatusChange {
                state: on_card_state(new_state),
                reason: req.reason(),
                date: today,
            };
            match self
                .write_change(actor, reader, &known, change, change_id, new_state)
                .await
            {
                Ok(serial) => outcome.written_to = Some(serial),
                Err(OpError::Store(e)) => return Err(OpError::Store(e)),
                Err(e) => {
                    outcome.card_write_failed = Some(CardWriteFailure {
                        code: e.code(),
                        message: e.message_zh(),
                    })
                }
            }
        }
        Ok(outcome)
    }

    /// Writes the certificate's recorded status to its card at `reader`: after a
    /// change recorded without the card, or whose card write failed. The card must be
    /// one of the certificate's cards that the change concerned and not yet
    /// terminated; the latest status change learns the card's serial.
    pub async fn write_status_to_card(
        &self,
        actor: &str,
        certificate_id: i64,
        reader: &str,
    ) -> Result<StatusOutcome, OpError> {
        let cert = self.store.read(|c| store::certificate(c, certificate_id))?;
        let (change_id, reason, effective_on) = self
            .store
            .read(|c| store::latest_status_change(c, certificate_id))?
            .ok_or_else(|| {
                OpError::Conflict(Conflict::NoStatusChange {
                    number: cert.certificate.number.clone(),
                })
            })?;
        let cards = self
            .store
            .read(|c| store::cards_of_certificate(c, certificate_id))?;
        // The cards the change concerned: every card of the certificate that is
        // not terminated, except one voided for another reason (a card torn during
        // issuance belongs to a certificate that is itself still in use).
        let known: Vec<KnownCard> = cards
            .iter()
            .filter(|c| !c.terminated)
            .filter(|c| c.state != CardState::Void || cert.state == CertificateState::Void)
            .map(KnownCard::from)
            .collect();
        if known.is_empty() {
            return Err(OpError::Conflict(Conflict::NoCardToWrite {
                number: cert.certificate.number.clone(),
            }));
        }
        self.keys()?;
        let change = StatusChange {
            state: on_card_state(cert.state),
            reason,
            date: effective_on,
        };
        let serial = self
            .write_change(actor, reader, &known, change, change_id, cert.state)
            .await?;
        Ok(StatusOutcome {
            certificate_id,
            state: cert.state,
            written_to: Some(serial),
            card_write_failed: None,
            application_id: None,
            due_on: None,
        })
    }

    /// The serial of the card at `reader`, refused unless it is one of `cards` and
    /// proves that card's chip key.
    async fn card_of(&self, reader: &str, cards: &[KnownCard]) -> Result<String, OpError> {
        let cards = cards.to_vec();
        let suite = self.suite();
        self.readers
            .run(reader, move |chan| {
                select_known(&mut Link::new(chan), suite, &cards)
            })
            .await?
    }

    /// Writes `change` to the card at `reader` (terminating it for a revocation) and
    /// records that status change `change_id` reached that card.
    async fn write_change(
        &self,
        actor: &str,
        reader: &str,
        cards: &[KnownCard],
        change: StatusChange,
        change_id: i64,
        state: CertificateState,
    ) -> Result<String, OpError> {
        let terminate = change.state == OnCard::Revoked;
        let cards = cards.to_vec();
        let station = self.clone();
        let suite = self.suite();
        let (serial, written) = self
            .readers
            .run(reader, move |chan| {
                let mut link = Link::new(chan);
                let serial = select_known(&mut link, suite, &cards)?;
                let keys = station.keys()?;
                // Numbered above every sequence this station has seen for the card,
                // not only above the card's own (which may have been rolled back).
                let seen = station
                    .store
                    .read(|c| store::status_sequence(c, &serial))?
                    .unwrap_or(0);
                let written = sequences::set_status_above(
                    &mut link,
                    &change,
                    seen,
                    &keys.master,
                    &keys.signer,
                )?;
                if terminate {
                    sequences::terminate(&mut link, &keys.master)?;
                }
                Ok::<_, OpError>((serial, written.sequence))
            })
            .await??;
        self.store.write(actor, |tx| {
            store::note_status_sequence(tx, &serial, written)?;
            store::status_change_written(tx, change_id, &serial, state, terminate)
        })?;
        Ok(serial)
    }
}

/// What EF.STATUS says for a certificate state.
fn on_card_state(state: CertificateState) -> OnCard {
    match state {
        CertificateState::Suspended => OnCard::Suspended,
        CertificateState::Issued | CertificateState::Approved => OnCard::Active,
        _ => OnCard::Revoked,
    }
}

fn detail_of(req: &StatusRequest) -> serde_json::Value {
    match req {
        StatusRequest::Cancel {
            destination,
            occurred_on,
            ..
        } => json!({ "destination": destination, "occurred_on": occurred_on }),
        StatusRequest::Reissue {
            lost_on,
            void_declared_how,
            void_declared_on,
            void_reference,
            card_returned,
        } => json!({
            "lost_on": lost_on,
            "void_declared_how": void_declared_how.trim(),
            "void_declared_on": void_declared_on,
            "void_reference": void_reference.trim(),
            "card_returned": card_returned,
        }),
        StatusRequest::Replace {
            unit,
            posts,
            category,
            area,
            card_returned,
            position,
            occurred_on,
            ..
        } => json!({
            "unit": unit,
            "posts": posts,
            "category": category,
            "area": area,
            "card_returned": card_returned,
            "position": position.as_deref().map(str::trim),
            "occurred_on": occurred_on,
        }),
        _ => json!({}),
    }
}

fn revoke_all(
    tx: &mut Tx<'_>,
    number: &ecard_sync_protocol::events::CertificateNumber,
    cards: &[&store::CardRow],
    reason: &str,
    today: NaiveDate,
) -> store::Result<()> {
    store::insert_revocation(tx, None, Some(number), reason, today, "local")?;
    for card in cards {
        store::insert_revocation(tx, Some(&card.serial), None, reason, today, "local")?;
    }
    Ok(())
}

/// Files the application for the certificate that follows a 换证 or 补证: the same
/// holder and data (with a 换证's changed fields), for the unit the holder belongs
/// to now, sent to the registry (`succession_submitted`) and kept here as one of
/// the station's applications. No number: the registry gives it on approval.
/// Returns the application and the outbox event that carries it.
fn file_succession(
    tx: &mut Tx<'_>,
    old: &store::CertificateRow,
    req: &StatusRequest,
) -> store::Result<(i64, String)> {
    let mut cert = old.certificate.clone();
    let kind = match req {
        StatusRequest::Replace {
            unit,
            posts,
            category,
            area,
            ..
        } => {
            let changed = |new: &Option<String>, old: &mut String| {
                if let Some(v) = new.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                    *old = v.to_owned();
                }
            };
            changed(unit, &mut cert.unit);
            changed(posts, &mut cert.posts);
            changed(category, &mut cert.category);
            changed(area, &mut cert.area);
            SuccessionKind::Replacement
        }
        _ => SuccessionKind::Reissue,
    };
    let holder = store::officer(tx.conn(), old.officer_id)?.holder;
    let photo = store::officer_photo(tx.conn(), old.officer_id)?;
    let application = SuccessionSubmitted {
        kind,
        old_number: old.number()?,
        unit: cert.unit.clone(),
        holder,
        certificate_kind: cert.kind,
        posts: cert.posts.clone(),
        category: cert.category.clone(),
        area: cert.area.clone(),
        entrusting_authority: cert.entrusting_authority.clone(),
        entrusting_nature: cert.entrusting_nature.clone(),
        reason: req.reason(),
        photo_jpeg: photo.map(|p| base64::engine::general_purpose::STANDARD.encode(p)),
    };
    let event_id = tx.outbox(&EventBody::SuccessionSubmitted(Box::new(
        application.clone(),
    )))?;
    let id = store::insert_succession(tx, old, &application, &event_id)?;
    tx.audit(
        "application.submitted",
        &old.certificate.number,
        json!({ "application": id, "kind": kind.as_str(), "unit": application.unit }),
    )?;
    Ok((id, event_id))
}

//! Status changes: suspension (暂停执法) and its lifting, cancellation (注销, with
//! reason and where the person went), and re-issue after loss (补证: the old number
//! is declared void, with how and when, and a new certificate is approved under a new
//! number). Always recorded; written to the card when the card is in a reader;
//! cancelled and voided numbers and serials go on the revocation list.

use super::invalid::Invalid;
use super::{select_known, KnownCard, OpError, Station};
use crate::store::{self, CardState, CardStateOf, CertificateState, Conflict, Tx};
use card_profile::channel::Link;
use card_profile::records::CardState as OnCard;
use card_profile::sequences::{self, StatusChange};
use chrono::NaiveDate;
use ecard_domain::numbering::NumberingRule;
use ecard_sync_protocol::events::{EventBody, StatusChanged, StatusKind};
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
    },
    /// 换证: the unit's name changed, or the holder moved unit or post. The old
    /// certificate is cancelled and a new one, with the changed fields, approved.
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
    },
    /// 补证: lost card; the old number is declared void (声明作废).
    Reissue {
        lost_on: NaiveDate,
        void_declared_how: String,
        void_declared_on: NaiveDate,
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
    /// For a re-issue: the new certificate, approved and ready to write.
    pub new_certificate_id: Option<i64>,
    pub new_number: Option<String>,
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
    fn transition(&self, from: CertificateState) -> Result<CertificateState, Conflict> {
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
        let cert = self.store.read(|c| store::certificate(c, certificate_id))?;
        let new_state = req.transition(cert.state).map_err(OpError::Conflict)?;
        let today = self.today();
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

        // The province configuration's rule, loaded at start.
        let rule = self.config.province.numbering.clone();
        let (change_id, new_id, new_number) = self.store.write(actor, |tx| {
            // What was checked above may have changed while the card was checked (a
            // double-clicked 补证 must not approve two successors).
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
            let mut new = (None, None);
            if let StatusRequest::Reissue { .. } | StatusRequest::Replace { .. } = req {
                new = successor(tx, &rule, &cert, req, today)?;
            }
            tx.audit(
                &format!("certificate.{}", req.kind().as_str()),
                &cert.certificate.number,
                json!({ "reason": req.reason(), "detail": detail, "new_number": new.1 }),
            )?;
            tx.outbox(&EventBody::StatusChanged(StatusChanged {
                number: cert.certificate.number.clone(),
                kind: req.kind(),
                reason: req.reason(),
                detail: detail.clone(),
                effective_on: today,
                new_number: new.1.clone(),
            }))?;
            Ok((change_id, new.0, new.1))
        })?;

        let mut outcome = StatusOutcome {
            certificate_id,
            state: new_state,
            written_to: None,
            card_write_failed: None,
            new_certificate_id: new_id,
            new_number,
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
            new_certificate_id: None,
            new_number: None,
        })
    }

    /// The serial of the card at `reader`, refused unless it is one of `cards` and
    /// proves that card's chip key.
    async fn card_of(&self, reader: &str, cards: &[KnownCard]) -> Result<String, OpError> {
        let cards = cards.to_vec();
        self.readers
            .run(reader, move |chan| {
                select_known(&mut Link::new(chan), &cards)
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
        let (serial, written) = self
            .readers
            .run(reader, move |chan| {
                let mut link = Link::new(chan);
                let serial = select_known(&mut link, &cards)?;
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
        StatusRequest::Cancel { destination, .. } => json!({ "destination": destination }),
        StatusRequest::Reissue {
            lost_on,
            void_declared_how,
            void_declared_on,
        } => {
            json!({ "lost_on": lost_on, "void_declared_how": void_declared_how, "void_declared_on": void_declared_on })
        }
        StatusRequest::Replace {
            unit,
            posts,
            category,
            area,
            ..
        } => json!({ "unit": unit, "posts": posts, "category": category, "area": area }),
        _ => json!({}),
    }
}

fn revoke_all(
    tx: &mut Tx<'_>,
    number: &str,
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

/// The certificate that follows a re-issue or a replacement: the same holder and
/// data (with a replacement's changed fields), issued today under the next number
/// of the same region and department, approved and ready to write.
fn successor(
    tx: &mut Tx<'_>,
    rule: &NumberingRule,
    old: &store::CertificateRow,
    req: &StatusRequest,
    today: NaiveDate,
) -> store::Result<(Option<i64>, Option<String>)> {
    let parsed = rule
        .parse(&old.certificate.number)
        .map_err(|error| Conflict::Numbering { error })?;
    store::note_number(tx, rule, &old.certificate.number)?;
    let number = store::allocate_number(tx, rule, &parsed.region, &parsed.department)?;
    let mut cert = old.certificate.clone();
    cert.number = number.clone();
    cert.issue_date = today;
    if let StatusRequest::Replace {
        unit,
        posts,
        category,
        area,
        ..
    } = req
    {
        let changed = |new: &Option<String>, old: &mut String| {
            if let Some(v) = new.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                *old = v.to_owned();
            }
        };
        changed(unit, &mut cert.unit);
        changed(posts, &mut cert.posts);
        changed(category, &mut cert.category);
        changed(area, &mut cert.area);
    }
    let id = store::insert_certificate(
        tx,
        old.officer_id,
        &cert,
        CertificateState::Approved,
        Some(old.id),
    )?;
    Ok((Some(id), Some(number)))
}

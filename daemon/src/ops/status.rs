//! Status changes: suspension (暂停执法) and its lifting, cancellation (注销, with
//! reason and where the person went), and re-issue after loss (补证: the old number
//! is declared void, with how and when, and a new certificate is approved under a new
//! number). Always recorded; written to the card when the card is in a reader;
//! cancelled and voided numbers and serials go on the revocation list.

use super::{OpError, Station};
use crate::store::{self, CardState, CertificateState, Tx};
use card_profile::channel::Link;
use card_profile::records::CardState as OnCard;
use card_profile::sequences::{self, Card, StatusChange};
use chrono::NaiveDate;
use ecard_domain::numbering::NumberingRule;
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
    /// For a re-issue: the new certificate, approved and ready to write.
    pub new_certificate_id: Option<i64>,
    pub new_number: Option<String>,
}

impl StatusRequest {
    fn kind(&self) -> &'static str {
        match self {
            StatusRequest::Suspend { .. } => "suspend",
            StatusRequest::Lift { .. } => "lift",
            StatusRequest::Cancel { .. } => "cancel",
            StatusRequest::Replace { .. } => "replace",
            StatusRequest::Reissue { .. } => "reissue",
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
    fn transition(&self, from: CertificateState) -> Result<CertificateState, String> {
        use CertificateState::*;
        match (self, from) {
            (StatusRequest::Suspend { .. }, Issued) => Ok(Suspended),
            (StatusRequest::Lift { .. }, Suspended) => Ok(Issued),
            (StatusRequest::Cancel { .. }, Issued | Suspended | Approved) => Ok(Cancelled),
            (StatusRequest::Reissue { .. }, Issued | Suspended) => Ok(Void),
            (StatusRequest::Replace { .. }, Issued | Suspended) => Ok(Replaced),
            (req, state) => Err(format!(
                "证件状态为 {}，不能执行 {}",
                state.as_str(),
                req.kind()
            )),
        }
    }
}

impl Station {
    /// Applies a status change; `reader` optionally holds the certificate's card.
    pub async fn change_status(
        &self,
        actor: &str,
        certificate_id: i64,
        req: &StatusRequest,
        reader: Option<&str>,
    ) -> Result<StatusOutcome, OpError> {
        if req.reason().is_empty() {
            return Err(OpError::Invalid("请填写原因".into()));
        }
        if let StatusRequest::Cancel { destination, .. } = req {
            if destination.trim().is_empty() {
                return Err(OpError::Invalid("请填写被注销人员去向".into()));
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

        // The card first, when it is at hand: a refused write changes nothing.
        let mut written_to = None;
        if let Some(reader) = reader {
            let serials: Vec<String> = live.iter().map(|c| c.serial.clone()).collect();
            let on_card = match new_state {
                CertificateState::Suspended => OnCard::Suspended,
                CertificateState::Issued => OnCard::Active,
                _ => OnCard::Revoked,
            };
            let change = StatusChange {
                state: on_card,
                reason: req.reason(),
                date: today,
            };
            let terminate = on_card == OnCard::Revoked;
            let station = self.clone();
            written_to = Some(
                self.readers
                    .run(reader, move |chan| {
                        let mut link = Link::new(chan);
                        let serial = hex::encode_upper(Card::select(&mut link)?.serial());
                        if !serials.contains(&serial) {
                            return Err(OpError::WrongCard);
                        }
                        sequences::set_status(
                            &mut link,
                            &change,
                            &station.keys()?.master,
                            &station.keys()?.signer,
                        )?;
                        if terminate {
                            sequences::terminate(&mut link, &station.keys()?.master)?;
                        }
                        Ok(serial)
                    })
                    .await??,
            );
        }

        let rule = NumberingRule::sichuan_default().map_err(|e| OpError::Invalid(e.to_string()))?;
        let (new_id, new_number) = self.store.write(actor, |tx| {
            store::set_certificate_state(tx, certificate_id, new_state)?;
            let card_state = match new_state {
                CertificateState::Suspended => CardState::Suspended,
                CertificateState::Issued => CardState::Live,
                CertificateState::Cancelled => CardState::Cancelled,
                CertificateState::Replaced => CardState::Replaced,
                _ => CardState::Void,
            };
            for card in &live {
                let terminated = written_to.as_deref() == Some(card.serial.as_str()) && card_state != CardState::Live && card_state != CardState::Suspended;
                store::set_card_state(tx, &card.serial, card_state, terminated)?;
            }
            let detail = detail_of(req);
            tx.conn().execute(
                "INSERT INTO status_changes (certificate_id, kind, reason, detail_json, effective_on, card_serial, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![
                    certificate_id,
                    req.kind(),
                    req.reason(),
                    detail.to_string(),
                    today.to_string(),
                    written_to,
                    store::now()
                ],
            )?;
            if matches!(
                new_state,
                CertificateState::Cancelled | CertificateState::Void | CertificateState::Replaced
            ) {
                revoke_all(tx, &cert.certificate.number, &live, &req.reason(), today)?;
            }
            let reason = req.reason();
            let suspension = (new_state == CertificateState::Suspended).then_some((reason.as_str(), today));
            store::set_suspension(tx, &cert.certificate.number, suspension, "local")?;
            let mut new = (None, None);
            if let StatusRequest::Reissue { .. } | StatusRequest::Replace { .. } = req {
                new = successor(tx, &rule, &cert, req, today)?;
            }
            tx.audit(
                &format!("certificate.{}", req.kind()),
                &cert.certificate.number,
                json!({ "reason": req.reason(), "detail": detail, "card": written_to, "new_number": new.1 }),
            )?;
            tx.outbox(
                "status_changed",
                json!({
                    "number": cert.certificate.number, "kind": req.kind(), "reason": req.reason(),
                    "detail": detail, "effective_on": today, "new_number": new.1,
                }),
            )?;
            Ok(new)
        })?;
        Ok(StatusOutcome {
            certificate_id,
            state: new_state,
            written_to,
            new_certificate_id: new_id,
            new_number,
        })
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
        .map_err(|e| store::StoreError::Conflict(e.to_string()))?;
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

//! Applying what the registry sends: feed pages (issuance orders, withdrawn orders,
//! status changes made elsewhere, trust-list updates) and revocation lists. Each page
//! or list is one transaction together with the cursor or list number that covers
//! it, so a crash in between replays it — and every item applies idempotently.
//!
//! Only what arrived verified reaches here (pages and lists signed with the pinned
//! registry key, checked by the client), and each is checked again, inside its
//! transaction, against what the store holds: a page must answer the stored cursor,
//! a revocation list must not go back in number, a trust list must be signed by a
//! root the station already trusts and be newer than its own.

use super::SyncError;
use crate::keyring;
use crate::ops::{Station, REVOCATION_LIST_DATE};
use crate::store::{self, CardState, CardStateOf, CertificateState, Tx};
use base64::Engine;
use card_profile::pki::TrustList;
use ecard_sync_protocol::client::ClientError;
use ecard_sync_protocol::events::StatusKind;
use ecard_sync_protocol::feed::{FeedBody, FeedPage, IssuanceOrder, StatusChangeNotice};
use ecard_sync_protocol::revocation::{EntryKind, RevocationList};
use ecard_sync_protocol::trust::SignedTrustList;
use ecard_sync_protocol::ProtocolError;
use serde_json::json;

#[derive(Debug, Default)]
pub struct Applied {
    pub orders: usize,
    pub status_changes: usize,
    /// Annual reviews recorded elsewhere, received for the field check.
    pub reviews: usize,
    /// Trust-list updates not applied (not signed by a held root, or not newer).
    pub trust_lists_refused: usize,
    /// Issuance orders not applied: their photo is not a JPEG that decodes.
    pub orders_refused: usize,
    /// Other bureaus' document signers learnt (their card faces' seals now check here).
    pub document_signers: usize,
}

fn refused(e: ProtocolError) -> SyncError {
    SyncError::Client(ClientError::Protocol(e))
}

pub fn feed_page(station: &Station, page: &FeedPage) -> Result<Applied, SyncError> {
    let me = station
        .store
        .read(store::sync_identity)?
        .ok_or(SyncError::NotEnrolled)?
        .station_id;
    let mut applied = Applied::default();
    let mut new_trust = None;
    let today = station.store.clock().today();
    let max_photo = station.config.province.photo.max_bytes;
    let held = station.store.write("sync", |tx| {
        // The page must answer the cursor this transaction holds: a page replayed
        // from an earlier request (or raced by another sync process) changes nothing.
        let held = store::feed_cursor(tx.conn())?;
        if page.after != held {
            return Ok(Some(held));
        }
        for item in &page.items {
            match &item.body {
                FeedBody::IssuanceOrder(order) => match issuance_order(tx, order, max_photo)? {
                    Order::Applied => applied.orders += 1,
                    Order::Known => {}
                    Order::Refused => applied.orders_refused += 1,
                },
                FeedBody::OrderWithdrawn(w) => {
                    if let Some(cert) = store::certificate_by_number(tx.conn(), &w.number)? {
                        store::withdraw_order(tx, cert.id, &w.reason)?;
                    }
                }
                FeedBody::StatusChange(n) => {
                    if n.origin != me {
                        status_change(tx, n)?;
                        applied.status_changes += 1;
                    }
                }
                FeedBody::ReviewRecorded(n) => {
                    if n.origin != me {
                        store::review_received(tx, n)?;
                        applied.reviews += 1;
                    }
                }
                FeedBody::ApplicationDecision(d) => {
                    store::application_decided(tx, &d.event_id, &d.state, d.reason.as_deref())?;
                }
                FeedBody::DocumentSigner(n) => {
                    if document_signer(tx, n)? {
                        applied.document_signers += 1;
                    }
                }
                FeedBody::TrustListUpdate(t) => match trust_list_update(tx, &t.signed, today)? {
                    Some(list) => new_trust = Some(list),
                    None => applied.trust_lists_refused += 1,
                },
            }
        }
        store::advance_feed_cursor(tx, page.next_cursor)?;
        Ok(None)
    })?;
    if let Some(held) = held {
        return Err(refused(ProtocolError::FeedReplayed {
            asked: held,
            page: page.after,
        }));
    }
    if let Some(trust) = new_trust {
        station.set_trust_list(trust);
    }
    Ok(applied)
}

/// A new trust list from the feed, applied only when a root the station already
/// trusts signed it (offline: the registry holds no root key) and it is newer than
/// the one held; anything else is recorded as refused and the old anchors stay.
/// The item is not a reason to stop the feed: the rest of the page still applies.
fn trust_list_update(
    tx: &mut Tx<'_>,
    signed: &SignedTrustList,
    today: chrono::NaiveDate,
) -> store::Result<Option<TrustList>> {
    let held = keyring::trust_list_in(tx.conn())?;
    let held_number = keyring::trust_list_number(tx.conn())?.unwrap_or(0);
    let checked = signed
        .verify(&held.anchors, today)
        .and_then(|(list, root)| list.check_succeeds(held_number).map(|()| (list, root)));
    let (list, root) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            tracing::warn!(error = %e, "trust list from the registry refused");
            let key_id: String = signed.key_id.chars().take(32).collect();
            tx.audit(
                "trust.list_refused",
                &key_id,
                json!({ "code": e.code(), "detail": e.to_string() }),
            )?;
            return Ok(None);
        }
    };
    store::replace_trust_anchors(tx, &list.trust_list.anchors)?;
    tx.set_setting(keyring::TRUST_LIST_NUMBER, &list.number.to_string())?;
    tx.set_setting(
        keyring::REVOKED_SIGNERS,
        &serde_json::to_string(&list.trust_list.revoked_signers)?,
    )?;
    tx.audit(
        "trust.list_applied",
        &list.number.to_string(),
        json!({
            "signed_by": root.name,
            "anchors": list.trust_list.anchors.len(),
            "revoked_signers": list.trust_list.revoked_signers.len(),
        }),
    )?;
    Ok(Some(list.trust_list))
}

/// Another bureau's document signer (issue #16): kept when new, with an audit row.
/// Its chain is checked where it is used, against the trust list of that day.
fn document_signer(
    tx: &mut Tx<'_>,
    notice: &ecard_sync_protocol::feed::DocumentSignerNotice,
) -> store::Result<bool> {
    // The page's decode parsed it already; a failure here changes nothing.
    let Ok(cert) = notice.parse() else {
        return Ok(false);
    };
    if !keyring::add_document_signer(tx, &cert)? {
        return Ok(false);
    }
    tx.audit(
        "trust.signer_learnt",
        &cert.subject,
        json!({
            "key_id": hex::encode(card_profile::pki::key_id(&cert.public_key)),
            "issuer": hex::encode(cert.issuer),
            "valid_until": cert.valid_until,
        }),
    )?;
    Ok(true)
}

enum Order {
    Applied,
    /// The number is already here.
    Known,
    /// Its photo is not a JPEG that decodes: nothing stored, an audit row.
    Refused,
}

/// The photo of an order, checked before it is stored (and so before the web UI
/// serves it or a card carries it): `Err` says why not.
/// `max_bytes` is the province configuration's photo limit.
fn order_photo(order: &IssuanceOrder, max_bytes: usize) -> Result<Option<Vec<u8>>, String> {
    let Some(b64) = order.photo_jpeg.as_deref() else {
        return Ok(None);
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| "照片不是有效的 base64 编码".to_owned())?;
    ecard_domain::photo::check_jpeg(&bytes, max_bytes).map_err(|v| v.to_string())?;
    // An application filed at the registry (its pages, its API) carries the filing
    // photo, up to the province's limit; EF.PHOTO takes far less. It is made to fit
    // here, as an imported roster's photos are (ops::import), or no card could be
    // written for it (数据超出卡片容量). A photo that already fits is kept as sent.
    if bytes.len() > ecard_domain::photo::CHIP_PHOTO_MAX_BYTES {
        return ecard_domain::photo::downscale_for_chip(&bytes)
            .map(Some)
            .map_err(|e| e.to_string());
    }
    Ok(Some(bytes))
}

/// An approved certificate to write here; known numbers are left alone, an order
/// whose photo is not a JPEG is refused (audit row `order.photo_refused`).
fn issuance_order(
    tx: &mut Tx<'_>,
    order: &IssuanceOrder,
    max_photo: usize,
) -> store::Result<Order> {
    let known = store::certificate_by_number(tx.conn(), &order.certificate.number)?;
    // A send-back withdrew the order before its card was written; the unit edited
    // and resubmitted the application, the bureaus approved it again (a new
    // order id, the same number): the certificate is approved again.
    let reopened = match &known {
        Some(c) if c.state == CertificateState::Void => {
            store::reapprove_withdrawn(tx, &order.certificate)?
        }
        _ => None,
    };
    if let Some(id) = reopened {
        store::applications_approved(tx, known.map_or(0, |c| c.officer_id))?;
        tx.audit(
            "certificate.approved",
            &order.certificate.number,
            json!({ "order": order.order_id, "certificate_id": id, "source": "registry", "again": true }),
        )?;
        return Ok(Order::Applied);
    }
    if known.is_some() {
        return Ok(Order::Known);
    }
    let photo = match order_photo(order, max_photo) {
        Ok(photo) => photo,
        Err(why) => {
            tracing::warn!(number = %order.certificate.number, %why, "issuance order refused: photo");
            tx.audit(
                "order.photo_refused",
                &order.certificate.number,
                json!({ "order": order.order_id, "code": "photo_not_jpeg", "detail": why }),
            )?;
            return Ok(Order::Refused);
        }
    };
    let officer = store::upsert_officer(tx, &order.holder, photo.as_deref())?;
    // 换证/补证: linked to the certificate it follows when that one is known here.
    let follows = match order.follows.as_ref() {
        Some(old) => store::certificate_by_number(tx.conn(), old)?
            .filter(|c| c.officer_id == officer)
            .map(|c| c.id),
        None => None,
    };
    let id = store::insert_certificate(
        tx,
        officer,
        &order.certificate,
        CertificateState::Approved,
        follows,
    )?;
    store::applications_approved(tx, officer)?;
    tx.audit(
        "certificate.approved",
        &order.certificate.number,
        json!({ "order": order.order_id, "certificate_id": id, "source": "registry" }),
    )?;
    Ok(Order::Applied)
}

/// A status change made at another station or in the registry.
fn status_change(tx: &mut Tx<'_>, notice: &StatusChangeNotice) -> store::Result<()> {
    let n = &notice.change;
    let revoking = n.kind.revokes();
    if revoking {
        store::insert_revocation(
            tx,
            None,
            Some(&n.number),
            &n.reason,
            n.effective_on,
            "registry",
        )?;
    }
    // Kept whether or not this station holds the certificate: its card may be
    // presented here.
    let suspension = (n.kind == StatusKind::Suspend).then_some((n.reason.as_str(), n.effective_on));
    store::set_suspension(tx, &n.number, suspension, "registry")?;
    if let Some(cert) = store::certificate_by_number(tx.conn(), &n.number)? {
        let cert_state = n.kind.state_after();
        let card_state = cert_state.card_state();
        // Recorded like a local change (not yet on any card here), so that the card,
        // if it is presented at this station, can be written with it.
        store::insert_status_change(
            tx,
            cert.id,
            n.kind,
            &n.reason,
            &n.detail,
            n.effective_on,
            Some(&notice.origin),
        )?;
        store::set_certificate_state(tx, cert.id, cert_state)?;
        for card in store::cards_of_certificate(tx.conn(), cert.id)? {
            if matches!(card.state, CardState::Live | CardState::Suspended) {
                store::set_card_state(tx, &card.serial, card_state, false)?;
                if revoking {
                    store::insert_revocation(
                        tx,
                        Some(&card.serial),
                        None,
                        &n.reason,
                        n.effective_on,
                        "registry",
                    )?;
                }
            }
        }
    }
    tx.audit(
        &format!("certificate.{}", n.kind.as_str()),
        &n.number,
        json!({ "reason": n.reason, "origin": notice.origin, "source": "registry" }),
    )?;
    Ok(())
}

/// Stores a verified full list or delta and its number and date; returns entries added.
pub fn revocation_list(station: &Station, list: &RevocationList) -> Result<usize, SyncError> {
    let date = list.issued_at.get(..10).unwrap_or_default().to_owned();
    if chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_err() {
        return Err(SyncError::Malformed(format!(
            "revocation list date {}",
            list.issued_at
        )));
    }
    let outcome = station.store.write("sync", |tx| {
        // SYNC.md: never back to an older list, and a delta only onto its base.
        let held = store::revocation_number(tx.conn())?;
        if let Err(e) = list.check_succeeds(held) {
            return Ok(Err(e));
        }
        let before = store::count_revocations(tx.conn())?;
        for e in &list.entries {
            let (serial, number) = match e.kind {
                EntryKind::Serial => (Some(e.value.as_str()), None),
                // Checked as the list was decoded (`check_number`); parsed here, at
                // the store's boundary.
                EntryKind::Number => {
                    match ecard_sync_protocol::events::CertificateNumber::parse(&e.value) {
                        Ok(n) if n.as_str() == e.value => (None, Some(n)),
                        _ => continue,
                    }
                }
            };
            store::insert_revocation(tx, serial, number.as_ref(), &e.reason, e.since, "registry")?;
        }
        let after = store::count_revocations(tx.conn())?;
        store::set_revocation_number(tx, list.number, &list.issued_at)?;
        tx.set_setting(REVOCATION_LIST_DATE, &date)?;
        tx.audit(
            "revocations.updated",
            &list.number.to_string(),
            json!({ "kind": list.kind, "entries": list.entries.len(), "added": after - before }),
        )?;
        Ok(Ok((after - before) as usize))
    })?;
    outcome.map_err(refused)
}

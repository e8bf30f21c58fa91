//! Changes to a card after issue: annual reviews, status changes, termination, and
//! the wipe of a card that was never activated.

use super::selected::Application;
use super::{CardError, Selected};
use crate::channel::Link;
use crate::keys::MasterKey;
use crate::pki::DocumentSigner;
use crate::profile::{tags, FileId, LifeCycle};
use crate::records::{CardState, Review, StatusRecord};
use crate::sod::SignedObject;
use crate::transport::CardChannel;
use chrono::NaiveDate;

/// A new status for a card: what EF.STATUS will say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub state: CardState,
    pub reason: String,
    pub date: NaiveDate,
}

/// The status record that follows the card's current one (`current`, as read) for
/// `change`: numbered above both that record and `seen`. A status that does not
/// parse (a damaged card being revoked) restarts the sequence rather than blocking
/// the revocation. Either family.
fn next_status(
    current: &[u8],
    change: &StatusChange,
    seen: u32,
    serial: crate::keys::Serial,
) -> StatusRecord {
    let previous = SignedObject::parse(current, tags::STATUS, tags::STATUS_CONTENT)
        .ok()
        .and_then(|s| {
            s.content_tlv()
                .ok()
                .and_then(|t| StatusRecord::from_content(t).ok())
        })
        .map_or(0, |r| r.sequence);
    StatusRecord {
        state: change.state,
        reason: change.reason.clone(),
        date: change.date,
        sequence: previous.max(seen).saturating_add(1),
        serial,
    }
}

/// The one life-cycle check before a change, for either family.
fn require(
    card: &Selected<'_, impl CardChannel>,
    command: &'static str,
    allowed: &[LifeCycle],
    expected: &'static str,
) -> Result<(), CardError> {
    let found = card.info().life_cycle;
    if allowed.contains(&found) {
        Ok(())
    } else {
        Err(CardError::WrongLifeCycle {
            command,
            expected,
            found,
        })
    }
}

/// Appends a signed annual-review record. The review's serial must be this card's.
/// The checks and the signature are the same for both families; only the write
/// differs (a record of EF.REVIEWS, or the PIV state object).
pub fn append_review<C: CardChannel>(
    link: &mut Link<C>,
    review: &Review,
    master: &MasterKey,
    signer: &DocumentSigner,
) -> Result<(), CardError> {
    super::same_suite(master, signer)?;
    let card = Selected::select(link)?;
    require(
        &card,
        "append review",
        &[LifeCycle::Activated],
        "an activated card",
    )?;
    if review.serial != card.serial() {
        return Err(CardError::Refused {
            command: "append review",
            status: crate::status::Status::IncorrectData,
        });
    }
    let record = signer.sign_object(tags::REVIEW, &review.content_tlv())?;
    match card {
        Selected::Native(card) => card
            .authenticate(&master.derive(&review.serial))?
            .append_record(FileId::Reviews, &record),
        Selected::Piv(card) => super::piv::append_review_record(card, &record, master),
    }
}

/// Rewrites EF.STATUS with the next sequence number. Returns the record written.
pub fn set_status<C: CardChannel>(
    link: &mut Link<C>,
    change: &StatusChange,
    master: &MasterKey,
    signer: &DocumentSigner,
) -> Result<StatusRecord, CardError> {
    set_status_above(link, change, 0, master, signer)
}

/// [`set_status`] by a writer that remembers the highest sequence it has seen for
/// this card (`seen`): the record written is numbered above both that and the card's
/// own, so a card whose status was rolled back never receives a number a verifier
/// has already seen.
pub fn set_status_above<C: CardChannel>(
    link: &mut Link<C>,
    change: &StatusChange,
    seen: u32,
    master: &MasterKey,
    signer: &DocumentSigner,
) -> Result<StatusRecord, CardError> {
    super::same_suite(master, signer)?;
    let mut card = Selected::select(link)?;
    require(
        &card,
        "set status",
        &[LifeCycle::Personalizing, LifeCycle::Activated],
        "a personalized card",
    )?;
    let serial = card.serial();
    let current = Application::read_file(&mut card, FileId::Status)?;
    let record = next_status(&current, change, seen, serial);
    let bytes = signer.sign_object(tags::STATUS, &record.content_tlv())?;
    match card {
        Selected::Native(card) => card
            .authenticate(&master.derive(&serial))?
            .write_file(FileId::Status, &bytes)?,
        Selected::Piv(card) => super::piv::write_status(card, &bytes, master)?,
    }
    Ok(record)
}

/// Terminates the application: on a native card TERMINATE DF (the card refuses
/// chip authentication and writes from now on); on a PIV card see
/// [`super::piv`] (the 9E key is replaced).
pub fn terminate<C: CardChannel>(link: &mut Link<C>, master: &MasterKey) -> Result<(), CardError> {
    let card = Selected::select(link)?;
    require(
        &card,
        "terminate",
        &[LifeCycle::Personalizing, LifeCycle::Activated],
        "a personalized card",
    )?;
    let serial = card.serial();
    match card {
        Selected::Native(card) => card.authenticate(&master.derive(&serial))?.terminate(),
        Selected::Piv(card) => super::piv::terminate(card, master),
    }
}

/// WIPE: returns a card that was never activated (e.g. torn during personalization)
/// to blank. Refused on activated cards by the card itself, and checked here first.
pub fn wipe<C: CardChannel>(link: &mut Link<C>, master: &MasterKey) -> Result<(), CardError> {
    let card = Selected::select(link)?;
    require(
        &card,
        "wipe",
        &[LifeCycle::Blank, LifeCycle::Personalizing],
        "a card that was never activated",
    )?;
    let serial = card.serial();
    match card {
        Selected::Native(card) => card.authenticate(&master.derive(&serial))?.wipe(),
        Selected::Piv(card) => super::piv::wipe(card, master),
    }
}

//! Changes to a card after issue: annual reviews, status changes, termination, and
//! the wipe of a card that was never activated.

use super::{Card, CardError, Selected};
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

fn require(
    card: &Card<'_, impl CardChannel>,
    command: &'static str,
    allowed: &[LifeCycle],
    expected: &'static str,
) -> Result<(), CardError> {
    require_life_cycle(card.info().life_cycle, command, allowed, expected)
}

/// The one life-cycle check before a change, for either family.
pub(crate) fn require_life_cycle(
    found: LifeCycle,
    command: &'static str,
    allowed: &[LifeCycle],
    expected: &'static str,
) -> Result<(), CardError> {
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

/// The status record that follows the card's current one (`current`, as read) for
/// `change`: numbered above both that record and `seen`. A status that does not
/// parse (a damaged card being revoked) restarts the sequence rather than blocking
/// the revocation. Either family.
pub(crate) fn next_status(
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

/// Appends a signed annual-review record. The review's serial must be this card's.
pub fn append_review<C: CardChannel>(
    link: &mut Link<C>,
    review: &Review,
    master: &MasterKey,
    signer: &DocumentSigner,
) -> Result<(), CardError> {
    super::same_suite(master, signer)?;
    let card = match Selected::select(link)? {
        Selected::Native(card) => card,
        Selected::Piv(card) => return super::piv::append_review(card, review, master, signer),
    };
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
    let mut admin = card.authenticate(&master.derive(&review.serial))?;
    admin.append_record(FileId::Reviews, &record)
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
    let mut card = match Selected::select(link)? {
        Selected::Native(card) => card,
        Selected::Piv(card) => {
            return super::piv::set_status_above(card, change, seen, master, signer)
        }
    };
    require(
        &card,
        "set status",
        &[LifeCycle::Personalizing, LifeCycle::Activated],
        "a personalized card",
    )?;
    let serial = card.serial();
    let record = next_status(&card.read_file(FileId::Status)?, change, seen, serial);
    let bytes = signer.sign_object(tags::STATUS, &record.content_tlv())?;
    let mut admin = card.authenticate(&master.derive(&serial))?;
    admin.write_file(FileId::Status, &bytes)?;
    Ok(record)
}

/// TERMINATE DF: the card refuses chip authentication and writes from now on.
pub fn terminate<C: CardChannel>(link: &mut Link<C>, master: &MasterKey) -> Result<(), CardError> {
    let card = match Selected::select(link)? {
        Selected::Native(card) => card,
        Selected::Piv(card) => return super::piv::terminate(card, master),
    };
    require(
        &card,
        "terminate",
        &[LifeCycle::Personalizing, LifeCycle::Activated],
        "a personalized card",
    )?;
    let serial = card.serial();
    card.authenticate(&master.derive(&serial))?.terminate()
}

/// WIPE: returns a card that was never activated (e.g. torn during personalization)
/// to blank. Refused on activated cards by the card itself, and checked here first.
pub fn wipe<C: CardChannel>(link: &mut Link<C>, master: &MasterKey) -> Result<(), CardError> {
    let card = match Selected::select(link)? {
        Selected::Native(card) => card,
        Selected::Piv(card) => return super::piv::wipe(card, master),
    };
    require(
        &card,
        "wipe",
        &[LifeCycle::Blank, LifeCycle::Personalizing],
        "a card that was never activated",
    )?;
    let serial = card.serial();
    card.authenticate(&master.derive(&serial))?.wipe()
}

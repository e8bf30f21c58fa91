//! Changes to an issued PIV card: annual reviews and status records in ecard's state
//! object, termination, and the wipe of a card never activated
//! (docs/PROFILE-PIV.md §5).

use super::card::{bureau_keys, factory_keys, PivAdmin, PivCard};
use super::issue::wipe_objects;
use crate::keys::MasterKey;
use crate::piv::{key_ref, objects, Container};
use crate::profile::{tags, FileId, MAX_RECORDS};
use crate::sequences::CardError;
use crate::tlv::Builder;
use crate::transport::CardChannel;

fn open<'l, C: CardChannel>(
    card: PivCard<'l, C>,
    master: &MasterKey,
) -> Result<PivAdmin<'l, C>, CardError> {
    let keys = bureau_keys(master, &card.serial())?;
    Ok(card.authenticate_any(&keys)?.0)
}

/// The state object with `replace`'s template swapped for `record` (or `record`
/// appended when the object has none), the other parts kept in their order.
fn state_with(current: &[u8], record: &[u8], replace: Option<crate::tlv::Tag>) -> Vec<u8> {
    let mut out = Vec::with_capacity(current.len() + record.len());
    let mut placed = false;
    // A state object that does not parse is replaced whole rather than blocking a
    // revocation (as the native EF.STATUS restarts its sequence).
    for t in objects::split(current).unwrap_or_default() {
        if Some(t.tag) == replace {
            if !placed {
                out.extend_from_slice(record);
                placed = true;
            }
        } else {
            out.extend_from_slice(t.raw);
        }
    }
    if !placed {
        out.extend_from_slice(record);
    }
    out
}

/// Appends a signed review record (already checked and signed by the caller,
/// `sequences::append_review`) to ecard's state object.
pub(crate) fn append_review_record<C: CardChannel>(
    card: PivCard<'_, C>,
    record: &[u8],
    master: &MasterKey,
) -> Result<(), CardError> {
    let mut admin = open(card, master)?;
    if admin.card().read_records(FileId::Reviews)?.len() >= MAX_RECORDS {
        return Err(CardError::ObjectTooLarge {
            object: Container::EcardState.name(),
            len: MAX_RECORDS + 1,
        });
    }
    let current = admin.card().object(Container::EcardState).to_vec();
    admin.put(Container::EcardState, &state_with(&current, record, None))
}

/// Replaces the status record (signed by the caller, `sequences::set_status_above`)
/// in ecard's state object, keeping the reviews.
pub(crate) fn write_status<C: CardChannel>(
    card: PivCard<'_, C>,
    status: &[u8],
    master: &MasterKey,
) -> Result<(), CardError> {
    let mut admin = open(card, master)?;
    let state = admin.card().object(Container::EcardState).to_vec();
    admin.put(
        Container::EcardState,
        &state_with(&state, status, Some(tags::STATUS)),
    )
}

/// Terminates the certificate on the card: the state object says so, the 9E
/// certificate is deleted, and a new 9E key replaces the old one, so the chip can
/// never again prove the key its security object names. The data stays readable,
/// as on a terminated native card.
pub(crate) fn terminate<C: CardChannel>(
    card: PivCard<'_, C>,
    master: &MasterKey,
) -> Result<(), CardError> {
    let mut admin = open(card, master)?;
    let state = admin.card().object(Container::EcardState).to_vec();
    let marker = Builder::new()
        .field(objects::LIFE_CYCLE_MARKER, &[objects::TERMINATED])
        .into_bytes();
    admin.put(
        Container::EcardState,
        &state_with(&state, &marker, Some(objects::LIFE_CYCLE_MARKER)),
    )?;
    admin.put(Container::CardAuthCertificate, &[])?;
    admin.generate_key(key_ref::CARD_AUTH)?;
    Ok(())
}

/// Returns a PIV card that was never activated to blank: ecard's objects deleted.
/// Its CHUID and 9B key stay: the card is the bureau's.
pub(crate) fn wipe<C: CardChannel>(
    card: PivCard<'_, C>,
    master: &MasterKey,
) -> Result<(), CardError> {
    let mut keys = bureau_keys(master, &card.serial())?;
    keys.extend(factory_keys());
    let (mut admin, _) = card.authenticate_any(&keys)?;
    wipe_objects(&mut admin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_keeps_reviews_when_the_status_is_replaced() {
        let status = |b: u8| crate::tlv::encode(tags::STATUS, &[b]);
        let review = |b: u8| crate::tlv::encode(tags::REVIEW, &[b]);
        let current = [status(1), review(2), review(3)].concat();
        let next = state_with(&current, &status(9), Some(tags::STATUS));
        assert_eq!(next, [status(9), review(2), review(3)].concat());
        let appended = state_with(&next, &review(4), None);
        assert_eq!(
            appended,
            [status(9), review(2), review(3), review(4)].concat()
        );
    }
}

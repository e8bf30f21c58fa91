//! Issuing onto a PIV card (docs/PROFILE-PIV.md §4): the same job as the native
//! issue, over PIV data objects. The card proves a 9B key this bureau gave it (or,
//! on a card as sold, the factory key) before the caller's `claim` records its
//! serial; the CHUID is written first, then the bureau's 9B key, then the objects,
//! and the security object last, so an interrupted issue is never taken for a
//! finished one.

use super::card::{bureau_keys, factory_keys, ver_object, PivAdmin, PivCard};
use crate::keys::Serial;
use crate::piv::{key_ref, objects, Chuid, Container};
use crate::pki::{DocumentSigner, PublicKey};
use crate::profile::{tags, FileId, LifeCycle};
use crate::records::{self, CardState, StatusRecord};
use crate::sequences::{
    verify, CardError, CardInfo, Found, IssueData, IssueError, IssueJob, IssuedCard,
};
use crate::sod::SecurityObject;
use crate::suite::Suite;
use crate::transport::CardChannel;
use crate::x509::{self, CardAuthSubject};
use ring::rand::{SecureRandom, SystemRandom};

pub(crate) fn issue<C: CardChannel, E>(
    mut card: PivCard<'_, C>,
    job: &IssueJob<'_>,
    claim: impl FnOnce(&Found) -> Result<(), E>,
) -> Result<IssuedCard, IssueError<E>> {
    crate::sequences::same_suite(job.master, job.signer)?;
    if job.master.suite() != Suite::P256 {
        return Err(CardError::PivSuite.into());
    }
    let signer_x509 = job.signer.x509.as_deref().ok_or(CardError::NoX509Signer)?;
    let info = *card.info();
    let resumed = match info.life_cycle {
        LifeCycle::Blank | LifeCycle::Personalizing => false,
        LifeCycle::Activated if job.previous_serial == Some(info.serial) => true,
        _ => return Err(IssueError::NotBlank),
    };
    let (serial, chip_key, sod, mut card) = if resumed {
        // The job's own card, finished before the interruption: it must hold the
        // chip key its security object names (see the native issue).
        let sod = card.load(Container::EcardSecurityObject)?.to_vec();
        let chip_key = SecurityObject::parse(&sod)
            .map(|s| s.chip_key)
            .map_err(|error| CardError::Malformed {
                what: Container::EcardSecurityObject.name(),
                error,
            })?;
        card.prove_chip(&chip_key)?;
        claim(&Found {
            info,
            resumed: true,
        })
        .map_err(IssueError::Claim)?;
        (info.serial, chip_key, sod, card)
    } else {
        // A card with a CHUID may have been given the bureau's key for its GUID by
        // the vendor (docs/PROFILE-PIV.md §4); one without has no GUID yet, so only
        // the factory key can be on it, and no other key is tried (a card that
        // counts wrong 9B keys would spend a try on each).
        let (guid, mut keys) = match card.chuid() {
            Some(chuid) => (
                chuid.guid,
                bureau_keys(job.master, &first_eight(&chuid.guid))?,
            ),
            None => (fresh_guid()?, Vec::new()),
        };
        let serial: Serial = first_eight(&guid);
        if info.life_cycle == LifeCycle::Blank {
            keys.extend(factory_keys());
        }
        let (mut admin, used) = card.authenticate_any(&keys)?;
        let found = Found {
            info: CardInfo { serial, ..info },
            resumed: false,
        };
        claim(&found).map_err(IssueError::Claim)?;
        if info.life_cycle == LifeCycle::Personalizing {
            wipe_objects(&mut admin)?;
        }
        let content = Chuid::signed_content(&guid, job.data.certificate.valid_until);
        let signature = x509::chuid_signature(job.signer, signer_x509, &content)
            .map_err(|e| CardError::X509(e.to_string()))?;
        admin.put(Container::Chuid, &Chuid::encode(&content, &signature))?;
        if factory_keys().contains(&used) {
            admin = enrol(admin, job, &serial)?;
        }
        let (chip_key, sod) = personalize(&mut admin, job, signer_x509, &guid, &serial)?;
        (serial, chip_key, sod, admin.into_card())
    };
    let (verdict, _) = verify(card.link(), job.verify)?;
    if resumed
        && verdict.certificate.as_ref().map(|c| &c.number) != Some(&job.data.certificate.number)
    {
        return Err(IssueError::WrongCard);
    }
    Ok(IssuedCard {
        serial,
        chip_key,
        sod,
        verdict,
        resumed,
    })
}

/// Gives a card as sold the bureau's 9B key (AES-128 where it takes it, else 3DES)
/// and opens a session with it, which proves the key is set.
fn enrol<'l, C: CardChannel>(
    mut admin: PivAdmin<'l, C>,
    job: &IssueJob<'_>,
    serial: &Serial,
) -> Result<PivAdmin<'l, C>, CardError> {
    for key in bureau_keys(job.master, serial)? {
        if admin.set_admin_key(&key)? {
            return admin.into_card().authenticate(&key);
        }
    }
    Err(CardError::AdminKeyNotChangeable)
}

/// Generates the chip key and writes every object, the security object last.
/// Returns the chip key and the security object.
fn personalize<C: CardChannel>(
    admin: &mut PivAdmin<'_, C>,
    job: &IssueJob<'_>,
    signer_x509: &[u8],
    guid: &[u8; 16],
    serial: &Serial,
) -> Result<(PublicKey, Vec<u8>), CardError> {
    let data: &IssueData = job.data;
    let signer: &DocumentSigner = job.signer;
    // Encode and size-check everything before the first write.
    let ver = ver_object(serial, admin.info().capabilities);
    let holder = data.holder.to_tlv();
    let cert = data.certificate.to_tlv();
    let photo = records::photo_to_tlv(&data.photo_jpeg);
    for (file, content) in [
        (FileId::Holder, &holder),
        (FileId::Cert, &cert),
        (FileId::Photo, &photo),
    ] {
        if content.len() > file.capacity() {
            return Err(CardError::FileTooLarge {
                file,
                len: content.len(),
            });
        }
    }
    let status = StatusRecord {
        state: CardState::Active,
        reason: String::new(),
        date: job.today,
        sequence: records::FIRST_STATUS_SEQUENCE,
        serial: *serial,
    };
    let status = signer.sign_object(tags::STATUS, &status.content_tlv())?;

    let chip_key = admin.generate_key(key_ref::CARD_AUTH)?;
    let subject = CardAuthSubject {
        certificate_number: data.certificate.number.to_string(),
        guid: *guid,
    };
    let certificate = x509::card_auth_certificate(
        signer,
        signer_x509,
        &subject,
        &chip_key,
        data.certificate.valid_from,
        data.certificate.valid_until,
    )
    .map_err(|e| CardError::X509(e.to_string()))?;
    let sod = SecurityObject::build(
        serial,
        &chip_key,
        job.today,
        &[
            (FileId::Ver, &ver),
            (FileId::Holder, &holder),
            (FileId::Cert, &cert),
            (FileId::Photo, &photo),
        ],
        signer,
    )?;
    admin.put(
        Container::CardAuthCertificate,
        &objects::certificate_container(&certificate),
    )?;
    admin.put(Container::EcardData, &[ver, holder, cert].concat())?;
    admin.put(Container::EcardState, &status)?;
    admin.put(Container::FacialImage, &photo)?;
    admin.put(Container::EcardSecurityObject, &sod)?;
    Ok((chip_key, sod))
}

/// Deletes ecard's objects, the security object first, so that a card torn midway
/// is never read as activated.
pub(super) fn wipe_objects<C: CardChannel>(admin: &mut PivAdmin<'_, C>) -> Result<(), CardError> {
    for container in [
        Container::EcardSecurityObject,
        Container::EcardData,
        Container::EcardState,
        Container::FacialImage,
        Container::CardAuthCertificate,
    ] {
        admin.put(container, &[])?;
    }
    Ok(())
}

fn fresh_guid() -> Result<[u8; 16], CardError> {
    let mut guid = [0u8; 16];
    SystemRandom::new()
        .fill(&mut guid)
        .map_err(|_| CardError::Random)?;
    // RFC 4122 version 4, variant 1: the UUID the CHUID's GUID is read as.
    guid[6] = (guid[6] & 0x0F) | 0x40;
    guid[8] = (guid[8] & 0x3F) | 0x80;
    Ok(guid)
}

fn first_eight(guid: &[u8; 16]) -> Serial {
    let mut serial = [0u8; 8];
    serial.copy_from_slice(&guid[..8]);
    serial
}

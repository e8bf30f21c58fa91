//! Personalization: the chip generates its key, the files are written, the security
//! object last, and ACTIVATE FILE commits. Every input is checked and every signature
//! made before the first write, so bad input never leaves a half-written card; a card
//! torn before activation stays "personalizing", which never verifies.

use super::{Card, CardError};
use crate::channel::{Link, Traffic};
use crate::keys::{MasterKey, Serial};
use crate::pki::{DocumentSigner, PublicKey};
use crate::profile::{tags, FileId, LifeCycle};
use crate::records::{self, CardState, Certificate, Holder, StatusRecord};
use crate::sod::SecurityObject;
use crate::transport::CardChannel;
use chrono::NaiveDate;

/// What goes onto a new card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueData {
    pub holder: Holder,
    pub certificate: Certificate,
    /// The chip photo: an already downscaled JPEG.
    pub photo_jpeg: Vec<u8>,
}

/// What the issuer keeps about a card it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub serial: Serial,
    pub chip_key: PublicKey,
    pub sod: Vec<u8>,
    pub traffic: Traffic,
}

pub fn personalize<C: CardChannel>(
    link: &mut Link<C>,
    data: &IssueData,
    master: &MasterKey,
    signer: &DocumentSigner,
    today: NaiveDate,
) -> Result<Issued, CardError> {
    let start = link.traffic();
    super::same_suite(master, signer)?;
    // Encode and size-check everything before touching the card.
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

    let mut card = Card::select(link)?;
    if card.info().life_cycle != LifeCycle::Blank {
        return Err(CardError::WrongLifeCycle {
            command: "personalize",
            expected: "a blank card",
            found: card.info().life_cycle,
        });
    }
    let serial = card.serial();
    let ver = card.read_file(FileId::Ver)?;
    let status = StatusRecord {
        state: CardState::Active,
        reason: String::new(),
        date: today,
        sequence: crate::records::FIRST_STATUS_SEQUENCE,
        serial,
    };
    let status = signer.sign_object(tags::STATUS, &status.content_tlv())?;

    let mut admin = card.authenticate(&master.derive(&serial))?;
    let chip_key = admin.generate_chip_key()?;
    let sod = SecurityObject::build(
        &serial,
        &chip_key,
        today,
        &[
            (FileId::Ver, &ver),
            (FileId::Holder, &holder),
            (FileId::Cert, &cert),
            (FileId::Photo, &photo),
        ],
        signer,
    )?;
    admin.write_file(FileId::Holder, &holder)?;
    admin.write_file(FileId::Cert, &cert)?;
    admin.write_file(FileId::Photo, &photo)?;
    admin.write_file(FileId::Status, &status)?;
    admin.write_file(FileId::Sod, &sod)?;
    admin.activate()?;

    Ok(Issued {
        serial,
        chip_key,
        sod,
        traffic: link.traffic().since(start),
    })
}

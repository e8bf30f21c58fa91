//! A selected PIV application: SELECT, GET DATA and PUT DATA of whole data objects,
//! the 9B mutual authentication that opens writes, key generation and the Card
//! Authentication key's signature (SP 800-73-4 Part 2 §3). Every object ecard needs
//! for a verdict is read once, at selection, and kept.

use super::super::card::{parse_public_key, ChipCheck, CHIP_CHALLENGE_LEN};
use super::super::{CardError, CardInfo, Family};
use crate::apdu::{Command, Ins, Response};
use crate::channel::{Capabilities, Link};
use crate::chip_auth;
use crate::keys::Serial;
use crate::piv::{
    alg, auth_tags, data_tags, key_ref, objects, AdminAlgorithm, AdminKey, Chuid, Container,
};
use crate::pki::PublicKey;
use crate::profile::{tags, FileId, LifeCycle, PROFILE_VERSION};
use crate::status::Status;
use crate::tlv::{self, Builder, Fields};
use crate::transport::CardChannel;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::BTreeMap;

const GET_DATA: Ins = Ins::Other(0xCB);
const PUT_DATA: Ins = Ins::Other(0xDB);
const GENERAL_AUTHENTICATE: Ins = Ins::Other(0x87);
/// YubiKey's SET MANAGEMENT KEY (not in SP 800-73-4; other cards answer 6D00).
const SET_MANAGEMENT_KEY: Ins = Ins::Other(0xFF);

/// Short APDUs with command chaining: what SP 800-73-4 requires of every card.
const SHORT: Capabilities = Capabilities {
    extended_length: false,
    command_chaining: true,
    max_command_data: crate::apdu::SHORT_MAX_DATA,
};
/// Extended length as well, where the card takes it: one GET DATA per object.
const EXTENDED: Capabilities = Capabilities {
    extended_length: true,
    command_chaining: true,
    max_command_data: crate::apdu::EXTENDED_MAX_DATA,
};

/// The objects read at selection: all a verdict needs but the 9E certificate.
const READ_AT_SELECT: [Container; 4] = [
    Container::Chuid,
    Container::EcardData,
    Container::EcardSecurityObject,
    Container::EcardState,
];

/// The PIV application, selected, with the objects it was found holding.
pub struct PivCard<'l, C> {
    link: &'l mut Link<C>,
    info: CardInfo,
    chuid: Option<Chuid>,
    /// Object values as read (or last written); an absent object is an empty value.
    objects: BTreeMap<Container, Vec<u8>>,
}

impl<'l, C: CardChannel> PivCard<'l, C> {
    /// SELECTs the PIV application and reads ecard's objects. A card without it is
    /// [`CardError::NotAnEcard`].
    pub fn select(link: &'l mut Link<C>) -> Result<Self, CardError> {
        let cmd = Command::new(Ins::Select)
            .p1(0x04)
            .p2(0x00)
            .data(crate::piv::AID.to_vec())
            .ne(256);
        let resp = link.send(&cmd)?;
        if !resp.status.is_success() {
            return Err(CardError::from_status("SELECT", resp.status));
        }
        let mut card = Self {
            link,
            info: CardInfo {
                serial: [0; 8],
                life_cycle: LifeCycle::Blank,
                profile_version: PROFILE_VERSION,
                capabilities: SHORT,
                family: Family::Piv,
            },
            chuid: None,
            objects: BTreeMap::new(),
        };
        card.probe_extended_length()?;
        for container in READ_AT_SELECT {
            card.load(container)?;
        }
        card.chuid = match card.object(Container::Chuid) {
            [] => None,
            value => Some(Chuid::parse(value).map_err(|error| CardError::Malformed {
                what: "CHUID",
                error,
            })?),
        };
        card.info.serial = card.chuid.as_ref().map_or([0; 8], Chuid::serial);
        card.info.life_cycle = card.life_cycle();
        Ok(card)
    }

    /// Asks for the CHUID with an extended Le: a card that takes it gives every
    /// object in one APDU; one that answers 6700 (or anything but data, absence or a
    /// refusal) is spoken to in short APDUs, which every PIV card takes.
    fn probe_extended_length(&mut self) -> Result<(), CardError> {
        self.link.set_capabilities(EXTENDED);
        let resp = self.link.send(&get_data(Container::Chuid))?;
        match resp.status {
            Status::Success | Status::FileNotFound => {
                let value = data_of(Container::Chuid, resp)?;
                self.objects.insert(Container::Chuid, value);
            }
            _ => {
                self.link.set_capabilities(SHORT);
                self.info.capabilities = SHORT;
                return Ok(());
            }
        }
        self.info.capabilities = EXTENDED;
        Ok(())
    }

    fn life_cycle(&self) -> LifeCycle {
        objects::life_cycle(|c| self.object(c))
    }

    pub fn info(&self) -> &CardInfo {
        &self.info
    }

    pub fn serial(&self) -> Serial {
        self.info.serial
    }

    /// The card's CHUID, when it has one that parses.
    pub fn chuid(&self) -> Option<&Chuid> {
        self.chuid.as_ref()
    }

    pub fn link(&mut self) -> &mut Link<C> {
        self.link
    }

    /// A data object's value as last read or written (empty: absent or not read).
    pub fn object(&self, container: Container) -> &[u8] {
        self.objects.get(&container).map_or(&[], Vec::as_slice)
    }

    /// Reads a data object from the card (GET DATA) and keeps it.
    pub fn load(&mut self, container: Container) -> Result<&[u8], CardError> {
        if !self.objects.contains_key(&container) {
            let resp = self.link.send(&get_data(container))?;
            let value = data_of(container, resp)?;
            self.objects.insert(container, value);
        }
        Ok(self.object(container))
    }

    /// The native file's bytes out of its PIV object: the object of the file's
    /// template tag (empty when absent).
    pub fn read_file(&mut self, file: FileId) -> Result<Vec<u8>, CardError> {
        if file == FileId::Photo {
            return self.load(Container::FacialImage).map(<[u8]>::to_vec);
        }
        let mut found = self.read_records(file)?.into_iter();
        match (found.next(), found.next()) {
            (Some(t), None) => Ok(t),
            (None, _) => Ok(Vec::new()),
            (Some(_), Some(_)) => Err(CardError::Malformed {
                what: Container::of_file(file).name(),
                error: tlv::TlvError::Duplicate {
                    parent: data_tags::DATA,
                    tag: file.template(),
                },
            }),
        }
    }

    /// Every object of the file's template in its container, in the order written
    /// (the review records; for the other files, zero or one).
    pub fn read_records(&mut self, file: FileId) -> Result<Vec<Vec<u8>>, CardError> {
        let container = Container::of_file(file);
        let all = objects::split(self.load(container)?).map_err(|error| CardError::Malformed {
            what: container.name(),
            error,
        })?;
        Ok(all
            .iter()
            .filter(|t| t.tag == file.template())
            .map(|t| t.raw.to_vec())
            .collect())
    }

    /// GENERAL AUTHENTICATE with the Card Authentication key (9E, no PIN) over a
    /// fresh challenge, checked against `chip_key`. Only a transport failure is an
    /// `Err`. The card signs the SHA-256 of ecard's chip-authentication message, so
    /// the key never signs a bare value a verifier chose.
    pub(crate) fn chip_check(&mut self, chip_key: &PublicKey) -> Result<ChipCheck, CardError> {
        let mut challenge = [0u8; CHIP_CHALLENGE_LEN];
        SystemRandom::new()
            .fill(&mut challenge)
            .map_err(|_| CardError::Random)?;
        let message = chip_auth::message(&challenge);
        match self.sign_digest(key_ref::CARD_AUTH, &crate::pki::sha256(&message)) {
            // The same DER signature check as the X.509 and CMS signatures.
            Ok(sig) if crate::x509::ec::verify_der(chip_key, &message, &sig) => {
                Ok(ChipCheck::Passed)
            }
            Ok(_) => Ok(ChipCheck::BadSignature),
            Err(CardError::Channel(e)) => Err(CardError::Channel(e)),
            Err(other) => Ok(ChipCheck::Refused(other)),
        }
    }

    /// Proves the card holds `chip_key` in 9E; see [`super::super::Card::prove_chip`].
    pub fn prove_chip(&mut self, chip_key: &PublicKey) -> Result<(), CardError> {
        match self.chip_check(chip_key)? {
            ChipCheck::Passed => Ok(()),
            ChipCheck::BadSignature | ChipCheck::Refused(_) => Err(CardError::NotAuthentic),
        }
    }

    /// An ECDSA P-256 signature (DER) by `key` over a 32-byte digest.
    pub fn sign_digest(&mut self, key: u8, digest: &[u8; 32]) -> Result<Vec<u8>, CardError> {
        let template = Builder::new()
            .field(auth_tags::RESPONSE, &[])
            .field(auth_tags::CHALLENGE, digest)
            .wrap(auth_tags::TEMPLATE);
        let cmd = Command::new(GENERAL_AUTHENTICATE)
            .p1(alg::ECC_P256)
            .p2(key)
            .data(template)
            .ne(256);
        let data = self.send("GENERAL AUTHENTICATE", &cmd)?;
        dynamic_part(&data, auth_tags::RESPONSE, "GENERAL AUTHENTICATE")
    }

    fn send(&mut self, command: &'static str, cmd: &Command) -> Result<Vec<u8>, CardError> {
        let Response { data, status } = self.link.send(cmd)?;
        if status == Status::Success {
            Ok(data)
        } else {
            Err(CardError::from_status(command, status))
        }
    }

    /// 9B mutual authentication (SP 800-73-4 Part 2, Appendix A.1): the card's
    /// witness decrypted proves the host; the host's challenge encrypted proves the
    /// card. `Ok(None)`: the card has no 9B key in this algorithm (it refused the
    /// witness request), so another may be tried; a wrong key is an error.
    pub fn authenticate(mut self, key: &AdminKey) -> Result<PivAdmin<'l, C>, CardError> {
        match self.try_authenticate(key)? {
            true => Ok(PivAdmin { card: self }),
            false => Err(CardError::AdminKeyRejected),
        }
    }

    /// Tries `keys` in order; the first the card takes opens the write session.
    pub fn authenticate_any(
        mut self,
        keys: &[AdminKey],
    ) -> Result<(PivAdmin<'l, C>, AdminKey), CardError> {
        for key in keys {
            if self.try_authenticate(key)? {
                return Ok((PivAdmin { card: self }, key.clone()));
            }
        }
        Err(CardError::AdminKeyRejected)
    }

    /// `Ok(false)`: this key (or its algorithm) is not the card's.
    fn try_authenticate(&mut self, key: &AdminKey) -> Result<bool, CardError> {
        let alg = key.algorithm();
        let ask = Builder::new()
            .field(auth_tags::WITNESS, &[])
            .wrap(auth_tags::TEMPLATE);
        let cmd = Command::new(GENERAL_AUTHENTICATE)
            .p1(alg.id())
            .p2(key_ref::ADMIN)
            .data(ask)
            .ne(256);
        let resp = self.link.send(&cmd)?;
        match resp.status {
            Status::Success => {}
            // Another algorithm than the card's key, or no such key.
            Status::IncorrectData
            | Status::IncorrectP1P2
            | Status::ReferencedDataNotFound
            | Status::FunctionNotSupported
            | Status::WrongP1P2 => return Ok(false),
            Status::AuthenticationBlocked => return Err(CardError::ManagementKeyBlocked),
            status => return Err(CardError::from_status("GENERAL AUTHENTICATE", status)),
        }
        let witness = dynamic_part(&resp.data, auth_tags::WITNESS, "GENERAL AUTHENTICATE")?;
        let bad = |_| CardError::Refused {
            command: "GENERAL AUTHENTICATE",
            status: Status::WrongLength,
        };
        let decrypted = key.decrypt_block(&witness).map_err(bad)?;
        let mut challenge = vec![0u8; alg.block_len()];
        SystemRandom::new()
            .fill(&mut challenge)
            .map_err(|_| CardError::Random)?;
        let answer = Builder::new()
            .field(auth_tags::WITNESS, &decrypted)
            .field(auth_tags::CHALLENGE, &challenge)
            .wrap(auth_tags::TEMPLATE);
        let cmd = Command::new(GENERAL_AUTHENTICATE)
            .p1(alg.id())
            .p2(key_ref::ADMIN)
            .data(answer)
            .ne(256);
        let resp = self.link.send(&cmd)?;
        match resp.status {
            Status::Success => {}
            Status::SecurityStatusNotSatisfied
            | Status::RemainingRetries(_)
            | Status::IncorrectData => return Ok(false),
            Status::AuthenticationBlocked => return Err(CardError::ManagementKeyBlocked),
            status => return Err(CardError::from_status("GENERAL AUTHENTICATE", status)),
        }
        let response = dynamic_part(&resp.data, auth_tags::RESPONSE, "GENERAL AUTHENTICATE")?;
        if key.encrypt_block(&challenge).map_err(bad)? == response {
            Ok(true)
        } else {
            // The card took our answer but cannot prove the key: not a card to write.
            Err(CardError::ManagementKeyNotProven)
        }
    }
}

/// A PIV card whose 9B key was proven: writes are allowed.
pub struct PivAdmin<'l, C> {
    card: PivCard<'l, C>,
}

impl<'l, C: CardChannel> PivAdmin<'l, C> {
    pub fn card(&mut self) -> &mut PivCard<'l, C> {
        &mut self.card
    }

    pub fn info(&self) -> &CardInfo {
        &self.card.info
    }

    /// PUT DATA of a whole object (an empty value deletes it), chained as needed.
    pub fn put(&mut self, container: Container, value: &[u8]) -> Result<(), CardError> {
        if value.len() > container.max_len() {
            return Err(CardError::ObjectTooLarge {
                object: container.name(),
                len: value.len(),
            });
        }
        let data = Builder::new()
            .field(data_tags::TAG_LIST, &container.tag_bytes())
            .field(data_tags::DATA, value)
            .into_bytes();
        let cmd = Command::new(PUT_DATA).p1(0x3F).p2(0xFF).data(data);
        self.card.send("PUT DATA", &cmd)?;
        self.card.objects.insert(container, value.to_vec());
        if container == Container::Chuid {
            self.card.chuid = Chuid::parse(value).ok();
            self.card.info.serial = self.card.chuid.as_ref().map_or([0; 8], Chuid::serial);
        }
        self.card.info.life_cycle = self.card.life_cycle();
        Ok(())
    }

    /// GENERATE ASYMMETRIC KEY PAIR, ECC P-256, in `key`: the old key is gone.
    pub fn generate_key(&mut self, key: u8) -> Result<PublicKey, CardError> {
        let template = Builder::new()
            .field(data_tags::KEY_ALGORITHM, &[alg::ECC_P256])
            .wrap(data_tags::KEY_TEMPLATE);
        let cmd = Command::new(Ins::GenerateKeyPair)
            .p2(key)
            .data(template)
            .ne(256);
        let data = self.card.send("GENERATE KEY PAIR", &cmd)?;
        parse_public_key(&data)
    }

    /// Replaces the 9B key (YubiKey's SET MANAGEMENT KEY, INS FF). `Ok(false)`: the
    /// card does not take this algorithm (or has no such command).
    pub fn set_admin_key(&mut self, key: &AdminKey) -> Result<bool, CardError> {
        let mut data = vec![
            key.algorithm().id(),
            key_ref::ADMIN,
            key.expose().len() as u8,
        ];
        data.extend_from_slice(key.expose());
        let cmd = Command::new(SET_MANAGEMENT_KEY)
            .p1(0xFF)
            .p2(0xFF)
            .data(data);
        let resp = self.card.link.send(&cmd)?;
        match resp.status {
            Status::Success => Ok(true),
            Status::IncorrectData
            | Status::IncorrectP1P2
            | Status::WrongP1P2
            | Status::FunctionNotSupported
            | Status::InstructionNotSupported => Ok(false),
            status => Err(CardError::from_status("SET MANAGEMENT KEY", status)),
        }
    }

    /// Gives the card back for reading or a new session.
    pub fn into_card(self) -> PivCard<'l, C> {
        self.card
    }
}

/// The 9B keys this bureau may have put on the card with this serial: AES-128 first,
/// where the card takes it, then 3DES.
pub fn bureau_keys(
    master: &crate::keys::MasterKey,
    serial: &Serial,
) -> Result<Vec<AdminKey>, CardError> {
    [AdminAlgorithm::Aes128, AdminAlgorithm::Tdes]
        .into_iter()
        .map(|alg| AdminKey::derive(master, serial, alg).map_err(|_| CardError::PivSuite))
        .collect()
}

/// The keys a card leaves the factory with: 3DES 0102..08 (most cards, YubiKey
/// before firmware 5.7) and the same bytes as AES-192 (YubiKey 5.7 and later).
pub fn factory_keys() -> Vec<AdminKey> {
    let mut keys = vec![AdminKey::factory()];
    if let Ok(aes) = AdminKey::new(AdminAlgorithm::Aes192, &crate::piv::admin_key::FACTORY_KEY) {
        keys.push(aes);
    }
    keys
}

fn get_data(container: Container) -> Command {
    Command::new(GET_DATA)
        .p1(0x3F)
        .p2(0xFF)
        .data(
            Builder::new()
                .field(data_tags::TAG_LIST, &container.tag_bytes())
                .into_bytes(),
        )
        .ne(crate::apdu::EXTENDED_MAX_NE)
}

/// The value of a GET DATA answer `53 L value`; an absent object (6A82) is empty.
fn data_of(container: Container, resp: Response) -> Result<Vec<u8>, CardError> {
    match resp.status {
        Status::Success => {}
        Status::FileNotFound => return Ok(Vec::new()),
        status => return Err(CardError::from_status("GET DATA", status)),
    }
    if resp.data.len() > container.max_len() + 8 {
        return Err(CardError::ObjectTooLarge {
            object: container.name(),
            len: resp.data.len(),
        });
    }
    let object = tlv::parse_exact(&resp.data).map_err(|error| CardError::Malformed {
        what: container.name(),
        error,
    })?;
    if object.tag != data_tags::DATA {
        return Err(CardError::Malformed {
            what: container.name(),
            error: tlv::TlvError::UnexpectedTag {
                expected: data_tags::DATA,
                found: object.tag,
            },
        });
    }
    Ok(object.value.to_vec())
}

/// One part of a dynamic authentication template `7C { .. tag value .. }`.
fn dynamic_part(data: &[u8], tag: tlv::Tag, command: &'static str) -> Result<Vec<u8>, CardError> {
    let malformed = |error| CardError::Malformed {
        what: command,
        error,
    };
    let template = tlv::parse_exact(data).map_err(malformed)?;
    let f = Fields::of(
        template,
        auth_tags::TEMPLATE,
        &[
            auth_tags::WITNESS,
            auth_tags::CHALLENGE,
            auth_tags::RESPONSE,
        ],
    )
    .map_err(malformed)?;
    Ok(f.bytes(tag).map_err(malformed)?.to_vec())
}

/// ecard's EF.VER for a PIV card: the profile version, the card's capabilities, the serial.
pub(crate) fn ver_object(serial: &Serial, caps: Capabilities) -> Vec<u8> {
    let mut flags = 0;
    if caps.extended_length {
        flags |= crate::profile::capability::EXTENDED_LENGTH;
    }
    if caps.command_chaining {
        flags |= crate::profile::capability::COMMAND_CHAINING;
    }
    Builder::new()
        .field(tags::PROFILE_VERSION, &[PROFILE_VERSION])
        .field(tags::CAPABILITIES, &[flags])
        .field(tags::SERIAL, serial)
        .wrap(tags::VER)
}

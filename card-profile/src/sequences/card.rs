//! A selected ecard application: SELECT and its FCI, reading files and records, and
//! the management-key authentication that opens a write session.

use super::CardError;
use crate::apdu::{Command, Ins, Response};
use crate::channel::{Capabilities, Link};
use crate::chip_auth;
use crate::keys::{ManagementKey, Serial};
use crate::pki::PublicKey;
use crate::profile::{
    self, capability, tags, FileId, LifeCycle, CHALLENGE_LEN, CRYPTOGRAM_LEN, HOST_CHALLENGE_LEN,
    MANAGEMENT_KEY_REF, MAX_RECORDS,
};
use crate::status::Status;
use crate::suite::Suite;
use crate::tlv::{self, Fields};
use crate::transport::CardChannel;
use ring::rand::{SecureRandom, SystemRandom};

/// Length of a chip-authentication challenge (PROFILE.md §6).
pub(crate) const CHIP_CHALLENGE_LEN: usize = 32;

/// What a chip check found (a transport failure is not among them).
#[derive(Debug)]
pub(crate) enum ChipCheck {
    Passed,
    /// The card answered, but not with a signature by the chip key on record.
    BadSignature,
    /// The card refused INTERNAL AUTHENTICATE (or answered malformed).
    Refused(CardError),
}

/// What the FCI says about the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardInfo {
    pub serial: Serial,
    pub life_cycle: LifeCycle,
    pub profile_version: u8,
    pub capabilities: Capabilities,
    /// Which kind of card answered: the native application or a PIV card.
    pub family: super::Family,
}

impl CardInfo {
    pub fn parse_fci(bytes: &[u8]) -> Result<Self, CardError> {
        let malformed = |error| CardError::Malformed { what: "FCI", error };
        let fci = Fields::of(
            tlv::parse_exact(bytes).map_err(malformed)?,
            tags::FCI,
            &[tags::FCI_AID, tags::FCI_LIFE_CYCLE, tags::FCI_PROPRIETARY],
        )
        .map_err(malformed)?;
        let prop = Fields::of(
            fci.required(tags::FCI_PROPRIETARY).map_err(malformed)?,
            tags::FCI_PROPRIETARY,
            &[
                tags::PROFILE_VERSION,
                tags::CAPABILITIES,
                tags::SERIAL,
                tags::MAX_APDU_DATA,
            ],
        )
        .map_err(malformed)?;
        let lcs = fci.byte(tags::FCI_LIFE_CYCLE).map_err(malformed)?;
        let life_cycle = LifeCycle::from_u8(lcs).ok_or(malformed(tlv::TlvError::BadValue {
            tag: tags::FCI_LIFE_CYCLE,
            reason: "unknown life-cycle state",
        }))?;
        let caps = prop.byte(tags::CAPABILITIES).map_err(malformed)?;
        let max = u16::from_be_bytes(prop.fixed(tags::MAX_APDU_DATA).map_err(malformed)?);
        Ok(Self {
            serial: prop.fixed(tags::SERIAL).map_err(malformed)?,
            life_cycle,
            profile_version: prop.byte(tags::PROFILE_VERSION).map_err(malformed)?,
            capabilities: Capabilities {
                extended_length: caps & capability::EXTENDED_LENGTH != 0,
                command_chaining: caps & capability::COMMAND_CHAINING != 0,
                max_command_data: max as usize,
            },
            family: super::Family::Native,
        })
    }
}

/// The ecard application, selected.
pub struct Card<'l, C> {
    link: &'l mut Link<C>,
    info: CardInfo,
}

impl<'l, C: CardChannel> Card<'l, C> {
    /// SELECTs the application by AID and adopts the capabilities its FCI announces.
    pub fn select(link: &'l mut Link<C>) -> Result<Self, CardError> {
        let cmd = Self::select_command();
        let resp = link.send(&cmd)?;
        Self::adopt(link, resp)
    }

    /// The SELECT command of the native application.
    pub(crate) fn select_command() -> Command {
        Command::new(Ins::Select)
            .p1(0x04)
            .p2(0x00)
            .data(profile::AID.to_vec())
            .ne(256)
    }

    /// Takes the application on from the card's answer to [`Self::select_command`].
    pub(crate) fn adopt(link: &'l mut Link<C>, resp: Response) -> Result<Self, CardError> {
        // A terminated application still answers, with a warning status.
        if !resp.status.is_success() {
            return Err(CardError::from_status("SELECT", resp.status));
        }
        let info = CardInfo::parse_fci(&resp.data)?;
        if info.profile_version != profile::PROFILE_VERSION {
            return Err(CardError::UnsupportedProfile(info.profile_version));
        }
        link.set_capabilities(info.capabilities);
        Ok(Self { link, info })
    }

    pub fn info(&self) -> &CardInfo {
        &self.info
    }

    pub fn serial(&self) -> Serial {
        self.info.serial
    }

    pub fn link(&mut self) -> &mut Link<C> {
        self.link
    }

    pub(crate) fn send(
        &mut self,
        command: &'static str,
        cmd: &Command,
    ) -> Result<Vec<u8>, CardError> {
        let Response { data, status } = self.link.send(cmd)?;
        if status == Status::Success {
            Ok(data)
        } else {
            Err(CardError::from_status(command, status))
        }
    }

    /// Reads a transparent file's TLV object exactly (an empty file gives an empty
    /// vector). One READ BINARY when the card has extended length, otherwise one per
    /// 256 bytes, never past the object.
    pub fn read_file(&mut self, file: FileId) -> Result<Vec<u8>, CardError> {
        // A read continued at an offset addresses the current EF, which a card reset
        // forgets: after a recovered reset the file is read again from the start.
        let epoch = self.link.resets();
        match self.read_file_once(file) {
            Err(_) if self.link.resets() != epoch => self.read_file_once(file),
            other => other,
        }
    }

    fn read_file_once(&mut self, file: FileId) -> Result<Vec<u8>, CardError> {
        let cap = file.capacity();
        let max_ne = self.link.capabilities().max_ne();
        let first = Command::new(Ins::ReadBinary)
            .p1(0x80 | file.sfi())
            .p2(0)
            .ne(cap.min(max_ne));
        let mut data = self.send("READ BINARY", &first)?;
        if data.is_empty() {
            return Ok(data);
        }
        let malformed = |error| CardError::Malformed {
            what: file.name(),
            error,
        };
        // The first read always covers the header (at most 7 bytes) of a real object.
        let total = tlv::object_len_from_header(&data)
            .map_err(malformed)?
            .ok_or_else(|| malformed(tlv::TlvError::Truncated(data.len())))?;
        if total > cap {
            return Err(CardError::FileTooLarge { file, len: total });
        }
        while data.len() < total {
            let offset = data.len();
            let cmd = Command::new(Ins::ReadBinary)
                .p1((offset >> 8) as u8 & 0x7F)
                .p2(offset as u8)
                .ne((total - offset).min(max_ne));
            let more = self.send("READ BINARY", &cmd)?;
            if more.is_empty() {
                return Err(malformed(tlv::TlvError::Truncated(offset)));
            }
            data.extend_from_slice(&more);
        }
        data.truncate(total);
        Ok(data)
    }

    /// Reads every record of EF.REVIEWS, in order.
    pub fn read_records(&mut self, file: FileId) -> Result<Vec<Vec<u8>>, CardError> {
        let mut out = Vec::new();
        for n in 1..=MAX_RECORDS as u8 {
            let cmd = Command::new(Ins::ReadRecord)
                .p1(n)
                .p2((file.sfi() << 3) | 0x04)
                .ne(file.capacity().min(self.link.capabilities().max_ne()));
            let resp = self.link.send(&cmd)?;
            match resp.status {
                Status::Success => out.push(resp.data),
                Status::RecordNotFound => break,
                status => return Err(CardError::from_status("READ RECORD", status)),
            }
        }
        Ok(out)
    }

    /// INTERNAL AUTHENTICATE: the chip's signature over the challenge.
    pub fn internal_authenticate(&mut self, challenge: &[u8]) -> Result<Vec<u8>, CardError> {
        let cmd = Command::new(Ins::InternalAuthenticate)
            .p2(profile::CHIP_KEY_REF)
            .data(challenge.to_vec())
            .ne(256);
        self.send("INTERNAL AUTHENTICATE", &cmd)
    }

    /// Proves that this card holds the private chip key `chip_key` (the one on
    /// record for its serial): INTERNAL AUTHENTICATE over a fresh random challenge,
    /// checked here. Run before anything is written to a card believed issued, so a
    /// copy of its data on another chip gets nothing. A card that refuses or signs
    /// wrongly is [`CardError::NotAuthentic`]; a transport failure stays what it is.
    pub fn prove_chip(&mut self, suite: Suite, chip_key: &PublicKey) -> Result<(), CardError> {
        match self.chip_check(suite, chip_key)? {
            ChipCheck::Passed => Ok(()),
            ChipCheck::BadSignature | ChipCheck::Refused(_) => Err(CardError::NotAuthentic),
        }
    }

    /// INTERNAL AUTHENTICATE over a fresh random challenge, checked against
    /// `chip_key`: the one chip check, which a write turns into a refusal
    /// ([`Self::prove_chip`]) and a verification into a finding. Only a transport
    /// failure is an `Err`.
    pub(crate) fn chip_check(
        &mut self,
        suite: Suite,
        chip_key: &PublicKey,
    ) -> Result<ChipCheck, CardError> {
        let mut challenge = [0u8; CHIP_CHALLENGE_LEN];
        SystemRandom::new()
            .fill(&mut challenge)
            .map_err(|_| CardError::Random)?;
        match self.internal_authenticate(&challenge) {
            Ok(sig) if suite.verify(chip_key, &chip_auth::message(&challenge), &sig) => {
                Ok(ChipCheck::Passed)
            }
            Ok(_) => Ok(ChipCheck::BadSignature),
            Err(CardError::Channel(e)) => Err(CardError::Channel(e)),
            Err(other) => Ok(ChipCheck::Refused(other)),
        }
    }

    /// GET CHALLENGE + EXTERNAL AUTHENTICATE with this card's management key.
    pub fn authenticate(mut self, key: &ManagementKey) -> Result<AdminCard<'l, C>, CardError> {
        self.open_session(key)?;
        let epoch = self.link.resets();
        Ok(AdminCard {
            card: self,
            key: key.clone(),
            epoch,
        })
    }

    /// A reset between GET CHALLENGE and EXTERNAL AUTHENTICATE takes the challenge
    /// with it (`6984`, no try spent): the pair is run again after a recovered reset.
    fn open_session(&mut self, key: &ManagementKey) -> Result<(), CardError> {
        let epoch = self.link.resets();
        match self.open_session_once(key) {
            Err(_) if self.link.resets() != epoch => self.open_session_once(key),
            other => other,
        }
    }

    fn open_session_once(&mut self, key: &ManagementKey) -> Result<(), CardError> {
        let nonce = self.send(
            "GET CHALLENGE",
            &Command::new(Ins::GetChallenge).ne(CHALLENGE_LEN),
        )?;
        let challenge: [u8; CHALLENGE_LEN] =
            nonce
                .as_slice()
                .try_into()
                .map_err(|_| CardError::Refused {
                    command: "GET CHALLENGE",
                    status: Status::WrongLength,
                })?;
        // Mutual: the host's cryptogram and a fresh host challenge; the card answers
        // with its cryptogram over both challenges. A card that cannot (a fake that
        // says 9000 to anything) gets no write and is recorded as nothing.
        let mut host_challenge = [0u8; HOST_CHALLENGE_LEN];
        SystemRandom::new()
            .fill(&mut host_challenge)
            .map_err(|_| CardError::Random)?;
        let cryptogram = key.cryptogram(&self.info.serial, &challenge);
        let cmd = Command::new(Ins::ExternalAuthenticate)
            .p2(MANAGEMENT_KEY_REF)
            .data([cryptogram.as_slice(), host_challenge.as_slice()].concat())
            .ne(CRYPTOGRAM_LEN);
        let answer = self.send("EXTERNAL AUTHENTICATE", &cmd)?;
        if key.check_card_cryptogram(&self.info.serial, &host_challenge, &challenge, &answer) {
            Ok(())
        } else {
            Err(CardError::ManagementKeyNotProven)
        }
    }
}

/// A card with an open write session (the management key was proven).
pub struct AdminCard<'l, C> {
    card: Card<'l, C>,
    /// Kept to open the session again after a card reset the link recovered from.
    key: ManagementKey,
    /// The link's reset count when the session was opened.
    epoch: u32,
}

impl<'l, C: CardChannel> AdminCard<'l, C> {
    /// Sends a command that needs the write session. A reset the link recovered
    /// from during (or before) the command took the session with it: it is opened
    /// again and the command sent once more.
    fn send(&mut self, command: &'static str, cmd: &Command) -> Result<Vec<u8>, CardError> {
        match self.card.send(command, cmd) {
            Err(CardError::NotAuthenticated) if self.card.link.resets() != self.epoch => {
                self.epoch = self.card.link.resets();
                let key = self.key.clone();
                self.card.open_session(&key)?;
                self.card.send(command, cmd)
            }
            other => other,
        }
    }

    pub fn card(&mut self) -> &mut Card<'l, C> {
        &mut self.card
    }

    pub fn info(&self) -> &CardInfo {
        &self.card.info
    }

    /// GENERATE ASYMMETRIC KEY PAIR on the card; returns the chip public key.
    pub fn generate_chip_key(&mut self) -> Result<[u8; 65], CardError> {
        let cmd = Command::new(Ins::GenerateKeyPair)
            .p1(0x80)
            .p2(profile::CHIP_KEY_REF)
            .ne(256);
        let data = self.send("GENERATE KEY PAIR", &cmd)?;
        parse_public_key(&data)
    }

    /// Writes a whole transparent file from offset 0: one command, chained or
    /// extended when the card can; otherwise at increasing offsets.
    pub fn write_file(&mut self, file: FileId, content: &[u8]) -> Result<(), CardError> {
        // As for reads: writes at offsets address the current EF, which a reset
        // forgets, so a write interrupted by a recovered reset starts over.
        let epoch = self.card.link.resets();
        match self.write_file_once(file, content) {
            Err(_) if self.card.link.resets() != epoch => self.write_file_once(file, content),
            other => other,
        }
    }

    fn write_file_once(&mut self, file: FileId, content: &[u8]) -> Result<(), CardError> {
        if content.len() > file.capacity() {
            return Err(CardError::FileTooLarge {
                file,
                len: content.len(),
            });
        }
        let caps = self.card.link.capabilities();
        if content.len() <= caps.max_data() || caps.command_chaining {
            let cmd = Command::new(Ins::UpdateBinary)
                .p1(0x80 | file.sfi())
                .data(content.to_vec());
            self.send("UPDATE BINARY", &cmd)?;
            return Ok(());
        }
        for (i, chunk) in content.chunks(caps.max_data()).enumerate() {
            let offset = i * caps.max_data();
            let cmd = if i == 0 {
                Command::new(Ins::UpdateBinary).p1(0x80 | file.sfi())
            } else {
                Command::new(Ins::UpdateBinary)
                    .p1((offset >> 8) as u8 & 0x7F)
                    .p2(offset as u8)
            };
            self.send("UPDATE BINARY", &cmd.data(chunk.to_vec()))?;
        }
        Ok(())
    }

    pub fn append_record(&mut self, file: FileId, record: &[u8]) -> Result<(), CardError> {
        if record.len() > file.capacity() || record.is_empty() {
            return Err(CardError::FileTooLarge {
                file,
                len: record.len(),
            });
        }
        let cmd = Command::new(Ins::AppendRecord)
            .p2(file.sfi() << 3)
            .data(record.to_vec());
        self.send("APPEND RECORD", &cmd).map(drop)
    }

    /// ACTIVATE FILE: the commit step of personalization.
    pub fn activate(&mut self) -> Result<(), CardError> {
        self.send("ACTIVATE FILE", &Command::new(Ins::ActivateFile))
            .map(drop)
    }

    pub fn terminate(&mut self) -> Result<(), CardError> {
        self.send("TERMINATE DF", &Command::new(Ins::TerminateDf))
            .map(drop)
    }

    pub fn wipe(&mut self) -> Result<(), CardError> {
        self.send("WIPE", &Command::new(Ins::Wipe)).map(drop)
    }
}

/// Parses `7F49 { 86 <uncompressed P-256 point> }`.
pub(crate) fn parse_public_key(data: &[u8]) -> Result<[u8; 65], CardError> {
    let parsed = tlv::parse_exact(data)
        .and_then(|t| Fields::of(t, tags::PUBLIC_KEY, &[tags::PUBLIC_KEY_POINT]))
        .and_then(|f| f.fixed::<65>(tags::PUBLIC_KEY_POINT));
    match parsed {
        Ok(point) if point[0] == 0x04 => Ok(point),
        _ => Err(CardError::BadChipKey),
    }
}

//! Command and response APDUs (ISO 7816-4 §5.1): the one place APDU bytes are built
//! and parsed. Both sides use it: the host encodes commands, the card (card-sim)
//! parses them.

use crate::status::Status;
use thiserror::Error;

/// Instruction bytes used by the ecard profile.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ins {
    Select,
    ReadBinary,
    UpdateBinary,
    ReadRecord,
    AppendRecord,
    GetChallenge,
    ExternalAuthenticate,
    InternalAuthenticate,
    GenerateKeyPair,
    GetResponse,
    ActivateFile,
    TerminateDf,
    /// Proprietary (CLA 80): erase a never-activated application back to blank.
    Wipe,
    Other(u8),
}

impl Ins {
    pub const fn to_u8(self) -> u8 {
        match self {
            Ins::Select => 0xA4,
            Ins::ReadBinary => 0xB0,
            Ins::UpdateBinary => 0xD6,
            Ins::ReadRecord => 0xB2,
            Ins::AppendRecord => 0xE2,
            Ins::GetChallenge => 0x84,
            Ins::ExternalAuthenticate => 0x82,
            Ins::InternalAuthenticate => 0x88,
            Ins::GenerateKeyPair => 0x47,
            Ins::GetResponse => 0xC0,
            Ins::ActivateFile => 0x44,
            Ins::TerminateDf => 0xE6,
            Ins::Wipe => 0xEE,
            Ins::Other(b) => b,
        }
    }

    pub const fn from_u8(b: u8) -> Self {
        match b {
            0xA4 => Ins::Select,
            0xB0 => Ins::ReadBinary,
            0xD6 => Ins::UpdateBinary,
            0xB2 => Ins::ReadRecord,
            0xE2 => Ins::AppendRecord,
            0x84 => Ins::GetChallenge,
            0x82 => Ins::ExternalAuthenticate,
            0x88 => Ins::InternalAuthenticate,
            0x47 => Ins::GenerateKeyPair,
            0xC0 => Ins::GetResponse,
            0x44 => Ins::ActivateFile,
            0xE6 => Ins::TerminateDf,
            0xEE => Ins::Wipe,
            other => Ins::Other(other),
        }
    }

    /// The class byte this profile uses for the instruction (80 = proprietary).
    pub const fn class(self) -> u8 {
        match self {
            Ins::Wipe => 0x80,
            _ => 0x00,
        }
    }
}

/// CLA bit that marks "more commands of this chain follow" (ISO 7816-4 §5.1.1.1).
pub const CLA_CHAINING: u8 = 0x10;

/// Largest Nc / Ne of a short APDU.
pub const SHORT_MAX_DATA: usize = 255;
pub const SHORT_MAX_NE: usize = 256;
/// Largest Nc / Ne of an extended APDU.
pub const EXTENDED_MAX_DATA: usize = 65_535;
pub const EXTENDED_MAX_NE: usize = 65_536;

/// A command APDU: header, optional data (Nc = data.len()) and optional Ne.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: Ins,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    /// Expected response length Ne; `None` = no Le field.
    pub ne: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApduError {
    #[error("command APDU shorter than its 4-byte header")]
    TooShort,
    #[error("command APDU length fields do not match its size ({0} bytes)")]
    BadLength(usize),
    #[error("Nc {0} does not fit the chosen encoding")]
    DataTooLong(usize),
    #[error("Ne {0} does not fit the chosen encoding")]
    NeTooLarge(usize),
    #[error("response APDU of {0} bytes has no status word")]
    NoStatusWord(usize),
}

impl Command {
    pub fn new(ins: Ins) -> Self {
        Self {
            cla: ins.class(),
            ins,
            p1: 0,
            p2: 0,
            data: Vec::new(),
            ne: None,
        }
    }

    pub fn p1(mut self, p1: u8) -> Self {
        self.p1 = p1;
        self
    }

    pub fn p2(mut self, p2: u8) -> Self {
        self.p2 = p2;
        self
    }

    pub fn data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = data.into();
        self
    }

    pub fn ne(mut self, ne: usize) -> Self {
        self.ne = Some(ne);
        self
    }

    pub fn is_chained(&self) -> bool {
        self.cla & CLA_CHAINING != 0
    }

    /// Short encoding fits (Nc ≤ 255 and Ne ≤ 256).
    pub fn fits_short(&self) -> bool {
        self.data.len() <= SHORT_MAX_DATA && self.ne.is_none_or(|ne| ne <= SHORT_MAX_NE)
    }

    /// Encodes as a short APDU, or as an extended one when `extended` is set and the
    /// command does not fit the short form.
    pub fn encode(&self, extended: bool) -> Result<Vec<u8>, ApduError> {
        let nc = self.data.len();
        let mut out = Vec::with_capacity(nc + 9);
        out.extend_from_slice(&[self.cla, self.ins.to_u8(), self.p1, self.p2]);
        if self.fits_short() {
            if nc > 0 {
                out.push(nc as u8);
                out.extend_from_slice(&self.data);
            }
            if let Some(ne) = self.ne {
                out.push(if ne == SHORT_MAX_NE { 0 } else { ne as u8 });
            }
            return Ok(out);
        }
        if !extended {
            return Err(if nc > SHORT_MAX_DATA {
                ApduError::DataTooLong(nc)
            } else {
                ApduError::NeTooLarge(self.ne.unwrap_or(0))
            });
        }
        if nc > EXTENDED_MAX_DATA {
            return Err(ApduError::DataTooLong(nc));
        }
        out.push(0);
        if nc > 0 {
            out.extend_from_slice(&(nc as u16).to_be_bytes());
            out.extend_from_slice(&self.data);
        }
        if let Some(ne) = self.ne {
            if ne > EXTENDED_MAX_NE {
                return Err(ApduError::NeTooLarge(ne));
            }
            let le = if ne == EXTENDED_MAX_NE { 0 } else { ne as u16 };
            out.extend_from_slice(&le.to_be_bytes());
        }
        Ok(out)
    }

    /// Parses a command APDU (the card side), following the case rules of
    /// ISO 7816-4 §5.1 exactly; anything that is not one of the seven cases is rejected.
    pub fn parse(apdu: &[u8]) -> Result<Self, ApduError> {
        let (header, body) = apdu.split_at_checked(4).ok_or(ApduError::TooShort)?;
        let mut cmd = Command {
            cla: header[0],
            ins: Ins::from_u8(header[1]),
            p1: header[2],
            p2: header[3],
            data: Vec::new(),
            ne: None,
        };
        let bad = || ApduError::BadLength(apdu.len());
        match body {
            [] => {}
            // Case 2S.
            [le] => cmd.ne = Some(if *le == 0 { 256 } else { *le as usize }),
            // Extended cases start with 00 and are at least 3 bytes long.
            [0, rest @ ..] if rest.len() >= 2 => {
                let n = u16::from_be_bytes([rest[0], rest[1]]) as usize;
                let after = &rest[2..];
                if after.is_empty() {
                    // Case 2E.
                    cmd.ne = Some(if n == 0 { 65_536 } else { n });
                } else {
                    // Case 3E / 4E: n is Nc and must not be zero.
                    if n == 0 {
                        return Err(bad());
                    }
                    match after.len().checked_sub(n) {
                        Some(0) => cmd.data = after.to_vec(),
                        Some(2) => {
                            cmd.data = after[..n].to_vec();
                            let le = u16::from_be_bytes([after[n], after[n + 1]]) as usize;
                            cmd.ne = Some(if le == 0 { 65_536 } else { le });
                        }
                        _ => return Err(bad()),
                    }
                }
            }
            [lc, rest @ ..] => {
                let nc = *lc as usize;
                if nc == 0 {
                    return Err(bad());
                }
                match rest.len().checked_sub(nc) {
                    Some(0) => cmd.data = rest.to_vec(),
                    Some(1) => {
                        cmd.data = rest[..nc].to_vec();
                        let le = rest[nc];
                        cmd.ne = Some(if le == 0 { 256 } else { le as usize });
                    }
                    _ => return Err(bad()),
                }
            }
        }
        Ok(cmd)
    }
}

/// A response APDU: data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub status: Status,
}

impl Response {
    pub fn new(data: Vec<u8>, status: Status) -> Self {
        Self { data, status }
    }

    pub fn status(status: Status) -> Self {
        Self::new(Vec::new(), status)
    }

    pub fn ok(data: Vec<u8>) -> Self {
        Self::new(data, Status::Success)
    }

    /// A response shorter than two bytes is an error, never a success: pcsc-lite can
    /// return 0 bytes when the card vanishes during a command.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApduError> {
        let split = bytes
            .len()
            .checked_sub(2)
            .ok_or(ApduError::NoStatusWord(bytes.len()))?;
        let sw = u16::from_be_bytes([bytes[split], bytes[split + 1]]);
        Ok(Self::new(bytes[..split].to_vec(), Status::from_u16(sw)))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.status.to_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_the_four_short_cases() {
        let c1 = Command::new(Ins::ActivateFile);
        assert_eq!(c1.encode(false).unwrap(), [0x00, 0x44, 0x00, 0x00]);
        let c2 = Command::new(Ins::GetChallenge).ne(16);
        assert_eq!(c2.encode(false).unwrap(), [0x00, 0x84, 0x00, 0x00, 0x10]);
        let c3 = Command::new(Ins::Select)
            .p1(4)
            .p2(0x0C)
            .data(vec![0xF0, 0x01]);
        assert_eq!(
            c3.encode(false).unwrap(),
            [0x00, 0xA4, 0x04, 0x0C, 0x02, 0xF0, 0x01]
        );
        let c4 = Command::new(Ins::InternalAuthenticate)
            .data(vec![1, 2])
            .ne(256);
        assert_eq!(
            c4.encode(false).unwrap(),
            [0x00, 0x88, 0x00, 0x00, 0x02, 1, 2, 0x00]
        );
    }

    #[test]
    fn long_commands_need_extended_length() {
        let cmd = Command::new(Ins::UpdateBinary)
            .data(vec![0xAA; 300])
            .ne(0x1234);
        assert_eq!(cmd.encode(false), Err(ApduError::DataTooLong(300)));
        let enc = cmd.encode(true).unwrap();
        assert_eq!(&enc[4..7], &[0x00, 0x01, 0x2C]);
        assert_eq!(&enc[enc.len() - 2..], &[0x12, 0x34]);
        assert_eq!(Command::parse(&enc).unwrap(), cmd);
    }

    #[test]
    fn response_without_status_word_is_an_error() {
        assert_eq!(Response::parse(&[]), Err(ApduError::NoStatusWord(0)));
        assert_eq!(Response::parse(&[0x90]), Err(ApduError::NoStatusWord(1)));
        assert_eq!(
            Response::parse(&[1, 0x90, 0x00]).unwrap(),
            Response::ok(vec![1])
        );
    }

    #[test]
    fn malformed_length_fields_are_rejected() {
        assert!(Command::parse(&[0, 0xB0, 0, 0, 3, 1, 2]).is_err());
        assert!(Command::parse(&[0, 0xB0, 0, 0, 0, 0, 2, 1]).is_err());
        assert!(Command::parse(&[0, 0xB0, 0]).is_err());
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(
            p1 in any::<u8>(), p2 in any::<u8>(),
            data in prop::collection::vec(any::<u8>(), 0..1000),
            ne in prop::option::of(1usize..=65_536),
        ) {
            let mut cmd = Command::new(Ins::UpdateBinary).p1(p1).p2(p2).data(data);
            cmd.ne = ne;
            let enc = cmd.encode(true).unwrap();
            prop_assert_eq!(Command::parse(&enc).unwrap(), cmd);
        }

        #[test]
        fn parsing_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let _ = Command::parse(&bytes);
            let _ = Response::parse(&bytes);
        }
    }
}

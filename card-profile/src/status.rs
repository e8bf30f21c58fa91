//! ISO 7816-4 status words as a typed enum: the one place SW1-SW2 are interpreted.

use std::fmt;

/// A status word returned by the card (SW1-SW2).
///
/// Payload variants carry the low byte where ISO 7816-4 gives it a meaning, so a
/// caller never re-decodes `0x61xx` or `0x63Cx` by hand.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 9000: normal processing.
    Success,
    /// 61xx: `n` more response bytes are available through GET RESPONSE (0 = 256 or more).
    MoreAvailable(u8),
    /// 6283: selected file deactivated (terminated application answers SELECT with this).
    SelectedFileDeactivated,
    /// 6285: selected file in termination state.
    SelectedFileTerminated,
    /// 63Cx: authentication failed, `n` tries remain.
    RemainingRetries(u8),
    /// 6581: memory failure (write did not complete).
    MemoryFailure,
    /// 6700: wrong length.
    WrongLength,
    /// 6881: logical channel not supported.
    LogicalChannelNotSupported,
    /// 6883: last command of the chain expected.
    LastCommandOfChainExpected,
    /// 6884: command chaining not supported.
    CommandChainingNotSupported,
    /// 6982: security status not satisfied (management key not presented).
    SecurityStatusNotSatisfied,
    /// 6983: authentication method blocked.
    AuthenticationBlocked,
    /// 6984: reference data not usable (e.g. no challenge was issued).
    ReferenceDataNotUsable,
    /// 6985: conditions of use not satisfied (wrong life-cycle state).
    ConditionsNotSatisfied,
    /// 6986: command not allowed (no current EF).
    CommandNotAllowed,
    /// 6A80: incorrect parameters in the data field.
    IncorrectData,
    /// 6A81: function not supported.
    FunctionNotSupported,
    /// 6A82: file or application not found.
    FileNotFound,
    /// 6A83: record not found.
    RecordNotFound,
    /// 6A84: not enough memory space in the file.
    NotEnoughMemory,
    /// 6A86: incorrect P1-P2.
    IncorrectP1P2,
    /// 6A88: referenced data not found.
    ReferencedDataNotFound,
    /// 6B00: wrong parameters (offset outside the EF).
    WrongP1P2,
    /// 6Cxx: wrong Le; `n` is the exact length available.
    WrongLe(u8),
    /// 6D00: instruction not supported.
    InstructionNotSupported,
    /// 6E00: class not supported.
    ClassNotSupported,
    /// 6F00: no precise diagnosis.
    Unknown,
    /// Anything else, kept verbatim.
    Other(u16),
}

impl Status {
    pub const fn from_u16(sw: u16) -> Self {
        let [sw1, sw2] = sw.to_be_bytes();
        match (sw1, sw2) {
            (0x90, 0x00) => Status::Success,
            (0x61, n) => Status::MoreAvailable(n),
            (0x62, 0x83) => Status::SelectedFileDeactivated,
            (0x62, 0x85) => Status::SelectedFileTerminated,
            (0x63, n) if n & 0xF0 == 0xC0 => Status::RemainingRetries(n & 0x0F),
            (0x65, 0x81) => Status::MemoryFailure,
            (0x67, 0x00) => Status::WrongLength,
            (0x68, 0x81) => Status::LogicalChannelNotSupported,
            (0x68, 0x83) => Status::LastCommandOfChainExpected,
            (0x68, 0x84) => Status::CommandChainingNotSupported,
            (0x69, 0x82) => Status::SecurityStatusNotSatisfied,
            (0x69, 0x83) => Status::AuthenticationBlocked,
            (0x69, 0x84) => Status::ReferenceDataNotUsable,
            (0x69, 0x85) => Status::ConditionsNotSatisfied,
            (0x69, 0x86) => Status::CommandNotAllowed,
            (0x6A, 0x80) => Status::IncorrectData,
            (0x6A, 0x81) => Status::FunctionNotSupported,
            (0x6A, 0x82) => Status::FileNotFound,
            (0x6A, 0x83) => Status::RecordNotFound,
            (0x6A, 0x84) => Status::NotEnoughMemory,
            (0x6A, 0x86) => Status::IncorrectP1P2,
            (0x6A, 0x88) => Status::ReferencedDataNotFound,
            (0x6B, 0x00) => Status::WrongP1P2,
            (0x6C, n) => Status::WrongLe(n),
            (0x6D, 0x00) => Status::InstructionNotSupported,
            (0x6E, 0x00) => Status::ClassNotSupported,
            (0x6F, 0x00) => Status::Unknown,
            _ => Status::Other(sw),
        }
    }

    pub const fn to_u16(self) -> u16 {
        match self {
            Status::Success => 0x9000,
            Status::MoreAvailable(n) => 0x6100 | n as u16,
            Status::SelectedFileDeactivated => 0x6283,
            Status::SelectedFileTerminated => 0x6285,
            Status::RemainingRetries(n) => 0x63C0 | (n & 0x0F) as u16,
            Status::MemoryFailure => 0x6581,
            Status::WrongLength => 0x6700,
            Status::LogicalChannelNotSupported => 0x6881,
            Status::LastCommandOfChainExpected => 0x6883,
            Status::CommandChainingNotSupported => 0x6884,
            Status::SecurityStatusNotSatisfied => 0x6982,
            Status::AuthenticationBlocked => 0x6983,
            Status::ReferenceDataNotUsable => 0x6984,
            Status::ConditionsNotSatisfied => 0x6985,
            Status::CommandNotAllowed => 0x6986,
            Status::IncorrectData => 0x6A80,
            Status::FunctionNotSupported => 0x6A81,
            Status::FileNotFound => 0x6A82,
            Status::RecordNotFound => 0x6A83,
            Status::NotEnoughMemory => 0x6A84,
            Status::IncorrectP1P2 => 0x6A86,
            Status::ReferencedDataNotFound => 0x6A88,
            Status::WrongP1P2 => 0x6B00,
            Status::WrongLe(n) => 0x6C00 | n as u16,
            Status::InstructionNotSupported => 0x6D00,
            Status::ClassNotSupported => 0x6E00,
            Status::Unknown => 0x6F00,
            Status::Other(sw) => sw,
        }
    }

    pub const fn to_bytes(self) -> [u8; 2] {
        self.to_u16().to_be_bytes()
    }

    /// 9000 and the 62xx warnings a terminated application answers with.
    pub const fn is_success(self) -> bool {
        matches!(
            self,
            Status::Success | Status::SelectedFileDeactivated | Status::SelectedFileTerminated
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X} ({:?})", self.to_u16(), self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_word_round_trips() {
        for sw in 0..=u16::MAX {
            assert_eq!(Status::from_u16(sw).to_u16(), sw, "{sw:04X}");
        }
    }

    #[test]
    fn payload_variants_decode_their_low_byte() {
        assert_eq!(Status::from_u16(0x6112), Status::MoreAvailable(0x12));
        assert_eq!(Status::from_u16(0x63C3), Status::RemainingRetries(3));
        assert_eq!(Status::from_u16(0x6C20), Status::WrongLe(0x20));
        assert_eq!(Status::from_u16(0x6310), Status::Other(0x6310));
    }
}

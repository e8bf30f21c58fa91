//! The PIV PIN (key reference 80) and PUK (81): their values, retry counters and
//! format, and the commands VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER
//! (SP 800-73-4 Part 2 §3.2.1–§3.2.3).

use super::PivCard;
use card_profile::apdu::{Command, Response};
use card_profile::status::Status;

/// Tries of a fresh or reset reference (YubiKey and Nitrokey ship with 3 and 3).
pub const PIN_TRIES: u8 = 3;
pub const PUK_TRIES: u8 = 3;
/// The reference data field: 8 bytes, the value padded with FF.
pub const REF_LEN: usize = 8;
/// Factory values.
pub const DEFAULT_PIN: &[u8] = b"123456";
pub const DEFAULT_PUK: &[u8] = b"12345678";

pub const PIN_REF: u8 = 0x80;
pub const PUK_REF: u8 = 0x81;
/// The Global PIN, which this card does not have (its discovery object says so).
const GLOBAL_PIN_REF: u8 = 0x00;
const PAD: u8 = 0xFF;

/// A PIN or PUK and its retry counter.
#[derive(Clone, PartialEq, Eq)]
pub struct Reference {
    pub(crate) value: [u8; REF_LEN],
    pub(crate) tries_left: u8,
    pub(crate) max_tries: u8,
}

impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reference")
            .field("tries_left", &self.tries_left)
            .finish_non_exhaustive()
    }
}

/// Which reference a value is for: the PIN must be digits [73-4 Part 2 §2.4.3];
/// the PUK may be any byte but FF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pin,
    Puk,
}

/// A reference value as sent on the wire: 6 to 8 bytes, then FF padding to 8.
pub fn well_formed(kind: Kind, padded: &[u8]) -> bool {
    if padded.len() != REF_LEN {
        return false;
    }
    let len = padded.iter().position(|b| *b == PAD).unwrap_or(REF_LEN);
    let (value, pad) = padded.split_at(len);
    let chars_ok = match kind {
        Kind::Pin => value.iter().all(u8::is_ascii_digit),
        Kind::Puk => true,
    };
    (6..=REF_LEN).contains(&len) && pad.iter().all(|b| *b == PAD) && chars_ok
}

/// Pads `value` (6–8 bytes) to the 8-byte reference data field.
pub fn pad(kind: Kind, value: &[u8]) -> Option<[u8; REF_LEN]> {
    let mut out = [PAD; REF_LEN];
    out.get_mut(..value.len())?.copy_from_slice(value);
    well_formed(kind, &out).then_some(out)
}

/// Comparison whose time does not depend on where the values differ.
fn same(a: &[u8; REF_LEN], b: &[u8]) -> bool {
    b.len() == REF_LEN && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Reference {
    pub fn new(kind: Kind, value: &[u8], max_tries: u8) -> Option<Self> {
        Some(Self {
            value: pad(kind, value)?,
            tries_left: max_tries,
            max_tries,
        })
    }

    pub fn tries_left(&self) -> u8 {
        self.tries_left
    }

    /// The same PIN or PUK (counters aside).
    pub fn same_value(&self, other: &Reference) -> bool {
        self.value == other.value
    }

    pub fn blocked(&self) -> bool {
        self.tries_left == 0
    }

    /// Checks `candidate`; counts a wrong one. `Err` is the status to answer.
    fn check(&mut self, candidate: &[u8]) -> Result<(), Status> {
        if self.blocked() {
            return Err(Status::AuthenticationBlocked);
        }
        if same(&self.value, candidate) {
            self.tries_left = self.max_tries;
            Ok(())
        } else {
            self.tries_left -= 1;
            Err(Status::RemainingRetries(self.tries_left))
        }
    }

    /// The answer to a status query: `63Cx`, or `6983` when blocked.
    fn status(&self) -> Status {
        if self.blocked() {
            Status::AuthenticationBlocked
        } else {
            Status::RemainingRetries(self.tries_left)
        }
    }
}

impl PivCard {
    /// VERIFY: `00 20 00 80 08 <PIN>`; no data (with or without `Le 00`, as ykpiv
    /// sends it) asks for the status; `00 20 FF 80` logs out.
    pub(super) fn verify(&mut self, cmd: &Command) -> Result<Response, Status> {
        match (cmd.p1, cmd.p2) {
            (0x00 | 0xFF, PIN_REF) => {}
            (0x00 | 0xFF, GLOBAL_PIN_REF) => return Err(Status::ReferencedDataNotFound),
            _ => return Err(Status::IncorrectP1P2),
        }
        if cmd.p1 == 0xFF {
            if !cmd.data.is_empty() {
                return Err(Status::WrongLength);
            }
            self.volatile.pin_verified = false;
            return Ok(Response::ok(Vec::new()));
        }
        if cmd.data.is_empty() {
            if self.volatile.pin_verified {
                return Ok(Response::ok(Vec::new()));
            }
            return Err(self.state.pin.status());
        }
        if cmd.data.len() != REF_LEN {
            return Err(Status::WrongLength);
        }
        // A failed comparison also ends an earlier verification [ISO 7816-4 §11.5.6].
        self.volatile.pin_verified = false;
        self.state.pin.check(&cmd.data)?;
        self.volatile.pin_verified = true;
        self.volatile.pin_always = true;
        Ok(Response::ok(Vec::new()))
    }

    /// CHANGE REFERENCE DATA: `00 24 00 80|81 10 <old> <new>`.
    pub(super) fn change_reference(&mut self, cmd: &Command) -> Result<Response, Status> {
        let kind = match (cmd.p1, cmd.p2) {
            (0x00, PIN_REF) => Kind::Pin,
            (0x00, PUK_REF) => Kind::Puk,
            (0x00, GLOBAL_PIN_REF) => return Err(Status::ReferencedDataNotFound),
            _ => return Err(Status::IncorrectP1P2),
        };
        let (old, new) = split_pair(&cmd.data)?;
        // The new value is checked before the old one is counted: a refused command
        // changes nothing, not even a counter.
        if !well_formed(kind, new) {
            return Err(Status::IncorrectData);
        }
        let reference = match kind {
            Kind::Pin => &mut self.state.pin,
            Kind::Puk => &mut self.state.puk,
        };
        let verified = reference.check(old);
        if kind == Kind::Pin {
            self.volatile.pin_verified = verified.is_ok();
        }
        verified?;
        reference.value.copy_from_slice(new);
        Ok(Response::ok(Vec::new()))
    }

    /// RESET RETRY COUNTER: `00 2C 00 80 10 <PUK> <new PIN>`.
    pub(super) fn reset_retry_counter(&mut self, cmd: &Command) -> Result<Response, Status> {
        match (cmd.p1, cmd.p2) {
            (0x00, PIN_REF) => {}
            (0x00, GLOBAL_PIN_REF) => return Err(Status::ReferencedDataNotFound),
            _ => return Err(Status::IncorrectP1P2),
        }
        let (puk, new_pin) = split_pair(&cmd.data)?;
        if !well_formed(Kind::Pin, new_pin) {
            return Err(Status::IncorrectData);
        }
        self.state.puk.check(puk)?;
        self.state.pin.value.copy_from_slice(new_pin);
        self.state.pin.tries_left = self.state.pin.max_tries;
        Ok(Response::ok(Vec::new()))
    }
}

/// `old ‖ new`, 8 + 8 bytes.
fn split_pair(data: &[u8]) -> Result<(&[u8], &[u8]), Status> {
    if data.len() != 2 * REF_LEN {
        return Err(Status::WrongLength);
    }
    Ok(data.split_at(REF_LEN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_rules() {
        assert!(well_formed(Kind::Pin, b"123456\xFF\xFF"));
        assert!(well_formed(Kind::Pin, b"12345678"));
        assert!(!well_formed(Kind::Pin, b"12345\xFF\xFF\xFF"), "too short");
        assert!(!well_formed(Kind::Pin, b"12a456\xFF\xFF"), "PIN is digits");
        assert!(well_formed(Kind::Puk, b"12a456\xFF\xFF"));
        assert!(
            !well_formed(Kind::Pin, b"123456\xFF1"),
            "padding only at the end"
        );
        assert!(
            !well_formed(Kind::Pin, b"123456"),
            "always 8 bytes on the wire"
        );
        assert_eq!(pad(Kind::Pin, b"123456"), Some(*b"123456\xFF\xFF"));
        assert_eq!(pad(Kind::Pin, b"123456789"), None);
    }
}

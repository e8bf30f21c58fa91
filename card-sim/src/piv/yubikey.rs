//! The YubiKey extensions yubico-piv-tool uses on any card it talks to: FD
//! (version), F8 (serial) and FF (set the 9B key). Not in SP 800-73-4.

use super::admin::ADMIN_KEY_REF;
use super::{AdminAlg, AdminKey, PivCard};
use card_profile::apdu::{Command, Response};
use card_profile::status::Status;

/// What FD answers. Major 5 makes ykpiv ask F8 for the serial instead of
/// selecting the YubiKey OTP application; nothing newer is claimed (no F7
/// metadata, no attestation).
pub const VERSION: [u8; 3] = [5, 0, 0];

impl PivCard {
    /// `00 FD 00 00` → major, minor, patch.
    pub(super) fn version(&mut self, cmd: &Command) -> Result<Response, Status> {
        no_parameters(cmd)?;
        Ok(Response::ok(VERSION.to_vec()))
    }

    /// `00 F8 00 00` → the last four bytes of the card serial, big-endian.
    pub(super) fn serial(&mut self, cmd: &Command) -> Result<Response, Status> {
        no_parameters(cmd)?;
        Ok(Response::ok(self.state.serial[4..].to_vec()))
    }

    /// `00 FF FF FF|FE L <alg> 9B <len> <key>`. Needs 9B; keeps it authenticated.
    /// P2 FE (touch required) is accepted, but this card has no button to touch.
    pub(super) fn set_management_key(&mut self, cmd: &Command) -> Result<Response, Status> {
        if cmd.p1 != 0xFF || !matches!(cmd.p2, 0xFF | 0xFE) {
            return Err(Status::IncorrectP1P2);
        }
        if !self.volatile.admin {
            return Err(Status::SecurityStatusNotSatisfied);
        }
        let [alg, ADMIN_KEY_REF, len, key @ ..] = cmd.data.as_slice() else {
            return Err(Status::IncorrectData);
        };
        let alg = AdminAlg::from_id(*alg).ok_or(Status::IncorrectData)?;
        if usize::from(*len) != key.len() {
            return Err(Status::WrongLength);
        }
        self.state.admin_key = AdminKey::new(alg, key).map_err(|_| Status::IncorrectData)?;
        Ok(Response::ok(Vec::new()))
    }
}

fn no_parameters(cmd: &Command) -> Result<(), Status> {
    if (cmd.p1, cmd.p2) != (0, 0) || !cmd.data.is_empty() {
        return Err(Status::IncorrectP1P2);
    }
    Ok(())
}

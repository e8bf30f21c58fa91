//! GENERATE ASYMMETRIC KEY PAIR (SP 800-73-4 Part 2 §3.3.2) and GENERAL
//! AUTHENTICATE with a slot key: sign a digest (`81`) or agree on a secret (`85`).

use super::admin::{parse_template, template::RESPONSE, template_with};
use super::keys::{self, SlotKey, UseRule, ALG_P256};
use super::PivCard;
use card_profile::apdu::{Command, Response};
use card_profile::status::Status;
use card_profile::tlv::{self, Builder, Tag};

/// The control reference template of GENERATE and its algorithm tag.
const CRT: Tag = Tag(0xAC);
const CRT_ALGORITHM: Tag = Tag(0x80);
/// The reply: `7F49 {86 point}`.
const PUBLIC_KEY: Tag = Tag(0x7F49);
const EC_POINT: Tag = Tag(0x86);

impl PivCard {
    /// `00 47 00 <slot> 05 AC 03 80 01 11` → `7F 49 43 86 41 04 X Y`. Needs 9B.
    /// Replaces any key in the slot. YubiKey's PIN and touch policies (AA, AB) are
    /// refused: this card has neither.
    pub(super) fn generate(&mut self, cmd: &Command) -> Result<Response, Status> {
        if cmd.p1 != 0x00 || keys::use_rule(cmd.p2).is_none() {
            return Err(Status::IncorrectP1P2);
        }
        if !self.volatile.admin {
            return Err(Status::SecurityStatusNotSatisfied);
        }
        let crt = tlv::parse_exact(&cmd.data).map_err(|_| Status::IncorrectData)?;
        if crt.tag != CRT {
            return Err(Status::IncorrectData);
        }
        match tlv::parse_all(crt.value)
            .map_err(|_| Status::IncorrectData)?
            .as_slice()
        {
            [alg] if alg.tag == CRT_ALGORITHM && alg.value == [ALG_P256] => {}
            _ => return Err(Status::IncorrectData),
        }
        let key = SlotKey::generate(&self.rng).map_err(|_| Status::Unknown)?;
        let reply = Builder::new()
            .field(EC_POINT, &key.public_point())
            .wrap(PUBLIC_KEY);
        self.state.keys.insert(cmd.p2, key);
        Ok(Response::ok(reply))
    }

    /// `00 87 11 <slot> L 7C L {82 00, 81 <digest>}` → `7C L 82 L <DER signature>`;
    /// with `85 <point>` in place of `81`: `7C L 82 L <shared X>`.
    pub(super) fn use_key(&mut self, cmd: &Command, pin_always: bool) -> Result<Response, Status> {
        let rule = keys::use_rule(cmd.p2).ok_or(Status::IncorrectP1P2)?;
        if cmd.p1 != ALG_P256 {
            return Err(Status::IncorrectP1P2);
        }
        let key = self
            .state
            .keys
            .get(&cmd.p2)
            .ok_or(Status::ReferencedDataNotFound)?;
        let allowed = match rule {
            UseRule::Always => true,
            UseRule::Pin => self.volatile.pin_verified,
            UseRule::PinAlways => pin_always,
        };
        if !allowed {
            return Err(Status::SecurityStatusNotSatisfied);
        }
        let parts = parse_template(&cmd.data)?;
        if parts.response != Some(&[]) || parts.witness.is_some() {
            return Err(Status::IncorrectData);
        }
        let result = match (parts.challenge, parts.exponentiation) {
            (Some(digest), None) => key.sign_digest(digest),
            (None, Some(point)) => key.agree(point),
            _ => return Err(Status::IncorrectData),
        };
        let value = result.map_err(|_| Status::IncorrectData)?;
        Ok(Response::ok(template_with(RESPONSE, &value)))
    }
}

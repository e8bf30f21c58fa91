//! Authentication with the 9B key: GENERAL AUTHENTICATE (SP 800-73-4 Part 2
//! Appendix A.1 / A.2) in its two flows.
//!
//! Mutual (ykpiv, OpenSC `-A M:9B:<alg>`):
//! 1. `7C 02 80 00` → `7C L 80 L E_K(R)` (one block; ykpiv copies bytes 4..12
//!    without parsing, so this exact layout matters);
//! 2. `7C L 80 L R 81 L C [82 00]` → the card checks R, is authenticated, and
//!    answers `7C L 82 L E_K(C)`.
//!
//! External (OpenSC `-A A:9B:<alg>`; also OpenSC's random-number source):
//! 1. `7C 02 81 00` → `7C L 81 L C`;
//! 2. `7C L 82 L E_K(C)` → `9000`.
//!
//! Step 1 holds only until the next command. A failed step 2 ends any earlier 9B
//! authentication. The 9B key has no retry counter (as on YubiKeys).

use super::PivCard;
use card_profile::apdu::{Command, Response};
use card_profile::status::Status;
use card_profile::tlv::{self, Builder, Tag};
use ring::rand::SecureRandom;

pub(super) const ADMIN_KEY_REF: u8 = 0x9B;

/// The Dynamic Authentication Template and its parts [73-4 Part 2 Table 7].
pub(super) mod template {
    use card_profile::tlv::Tag;
    pub const DYNAMIC_AUTH: Tag = Tag(0x7C);
    pub const WITNESS: Tag = Tag(0x80);
    pub const CHALLENGE: Tag = Tag(0x81);
    pub const RESPONSE: Tag = Tag(0x82);
    pub const EXPONENTIATION: Tag = Tag(0x85);
}
use template::{CHALLENGE, DYNAMIC_AUTH, RESPONSE, WITNESS};

/// Step 1, remembered for step 2.
#[derive(Debug, Clone)]
pub(super) enum AdminChallenge {
    /// Mutual: the plain witness R the host must give back.
    Witness(Vec<u8>),
    /// External: the challenge C the host must encrypt.
    Challenge(Vec<u8>),
}

/// The parts of a `7C` template, each at most once, in any order.
#[derive(Debug, Default)]
pub(super) struct Parts<'a> {
    pub witness: Option<&'a [u8]>,
    pub challenge: Option<&'a [u8]>,
    pub response: Option<&'a [u8]>,
    pub exponentiation: Option<&'a [u8]>,
}

/// Parses `7C L {80|81|82|85 …}` exactly; anything else is `6A80`.
pub(super) fn parse_template(data: &[u8]) -> Result<Parts<'_>, Status> {
    let outer = tlv::parse_exact(data).map_err(|_| Status::IncorrectData)?;
    if outer.tag != DYNAMIC_AUTH {
        return Err(Status::IncorrectData);
    }
    let mut parts = Parts::default();
    for item in tlv::parse_all(outer.value).map_err(|_| Status::IncorrectData)? {
        let slot = match item.tag {
            WITNESS => &mut parts.witness,
            CHALLENGE => &mut parts.challenge,
            RESPONSE => &mut parts.response,
            template::EXPONENTIATION => &mut parts.exponentiation,
            _ => return Err(Status::IncorrectData),
        };
        if slot.replace(item.value).is_some() {
            return Err(Status::IncorrectData);
        }
    }
    Ok(parts)
}

/// `7C L {tag L value}`.
pub(super) fn template_with(tag: Tag, value: &[u8]) -> Vec<u8> {
    Builder::new().field(tag, value).wrap(DYNAMIC_AUTH)
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl PivCard {
    pub(super) fn authenticate_admin(
        &mut self,
        cmd: &Command,
        pending: Option<AdminChallenge>,
    ) -> Result<Response, Status> {
        // A copy, so the refusal paths below may change the volatile state.
        let key = self.state.admin_key.clone();
        if !key.alg().answers_to(cmd.p1) {
            return Err(Status::IncorrectP1P2);
        }
        let block = key.alg().block_len();
        let parts = parse_template(&cmd.data)?;
        if parts.exponentiation.is_some() {
            return Err(Status::IncorrectData);
        }
        match (parts.witness, parts.challenge, parts.response) {
            // Mutual, step 1: a witness, please.
            (Some([]), None, None) => {
                let witness = self.random_block(block)?;
                let encrypted = key.encrypt_block(&witness).ok_or(Status::Unknown)?;
                self.volatile.admin_challenge = Some(AdminChallenge::Witness(witness));
                Ok(Response::ok(template_with(WITNESS, &encrypted)))
            }
            // External, step 1: a challenge, please.
            (None, Some([]), None) => {
                let challenge = self.random_block(block)?;
                let reply = template_with(CHALLENGE, &challenge);
                self.volatile.admin_challenge = Some(AdminChallenge::Challenge(challenge));
                Ok(Response::ok(reply))
            }
            // Mutual, step 2 (`82 00` asks for the response, as in the 73-4 example).
            (Some(witness), Some(challenge), None | Some([])) if !witness.is_empty() => {
                if challenge.len() != block {
                    return Err(Status::IncorrectData);
                }
                let expected = match pending {
                    Some(AdminChallenge::Witness(r)) => r,
                    _ => return Err(self.admin_refused()),
                };
                if !self.accepts_any_cryptogram && !same(&expected, witness) {
                    return Err(self.admin_refused());
                }
                let answer = key.encrypt_block(challenge).ok_or(Status::Unknown)?;
                self.volatile.admin = true;
                Ok(Response::ok(template_with(RESPONSE, &answer)))
            }
            // External, step 2.
            (None, None, Some(response)) if !response.is_empty() => {
                let expected = match pending {
                    Some(AdminChallenge::Challenge(c)) => c,
                    _ => return Err(self.admin_refused()),
                };
                let plain = key.decrypt_block(response).ok_or(Status::IncorrectData)?;
                if !self.accepts_any_cryptogram && !same(&expected, &plain) {
                    return Err(self.admin_refused());
                }
                self.volatile.admin = true;
                Ok(Response::ok(Vec::new()))
            }
            _ => Err(Status::IncorrectData),
        }
    }

    /// A failed authentication also ends an earlier one.
    fn admin_refused(&mut self) -> Status {
        self.volatile.admin = false;
        Status::SecurityStatusNotSatisfied
    }

    fn random_block(&self, len: usize) -> Result<Vec<u8>, Status> {
        let mut out = vec![0u8; len];
        self.rng.fill(&mut out).map_err(|_| Status::Unknown)?;
        Ok(out)
    }
}

//! GET CHALLENGE / EXTERNAL AUTHENTICATE (management key, PROFILE.md §5) and the chip
//! key: GENERATE ASYMMETRIC KEY PAIR and INTERNAL AUTHENTICATE (§6).

use super::NativeCard;
use crate::state::ChipKey;
use card_profile::apdu::{Command, Response};
use card_profile::chip_auth;
use card_profile::profile::{
    tags, LifeCycle, CHALLENGE_LEN, CHIP_KEY_REF, CRYPTOGRAM_LEN, HOST_CHALLENGE_LEN,
    MANAGEMENT_KEY_REF, MANAGEMENT_KEY_TRIES, MAX_INTERNAL_CHALLENGE, MIN_INTERNAL_CHALLENGE,
};
use card_profile::status::Status;
use card_profile::tlv::Builder;
use ring::rand::SecureRandom;

/// P1 of GENERATE ASYMMETRIC KEY PAIR: generate a new key, or read the public key.
const GENERATE: u8 = 0x80;
const READ_PUBLIC: u8 = 0x81;
/// Length of an uncompressed P-256 point.
const POINT_LEN: usize = 65;

fn public_key_template(point: &[u8]) -> Vec<u8> {
    Builder::new()
        .field(tags::PUBLIC_KEY_POINT, point)
        .wrap(tags::PUBLIC_KEY)
}

impl NativeCard {
    pub(super) fn get_challenge(&mut self, cmd: &Command) -> Result<Response, Status> {
        if (cmd.p1, cmd.p2) != (0, 0) {
            return Err(Status::IncorrectP1P2);
        }
        if !cmd.data.is_empty() {
            return Err(Status::WrongLength);
        }
        self.check_t0_le(cmd, CHALLENGE_LEN)?;
        let mut challenge = [0u8; CHALLENGE_LEN];
        self.rng.fill(&mut challenge).map_err(|_| Status::Unknown)?;
        self.volatile.challenge = Some(challenge);
        Ok(Response::ok(challenge.to_vec()))
    }

    pub(super) fn external_authenticate(&mut self, cmd: &Command) -> Result<Response, Status> {
        if cmd.p1 != 0 {
            return Err(Status::IncorrectP1P2);
        }
        if cmd.p2 != MANAGEMENT_KEY_REF {
            return Err(Status::ReferencedDataNotFound);
        }
        if self.state.tries_left == 0 {
            return Err(Status::AuthenticationBlocked);
        }
        // Single use: whatever happens next, this challenge is spent.
        let challenge = self
            .volatile
            .challenge
            .take()
            .ok_or(Status::ReferenceDataNotUsable)?;
        // The host's cryptogram, optionally followed by its challenge (mutual
        // authentication, which every ecard host uses): then the card answers with
        // its own cryptogram over both challenges.
        let (host_cryptogram, host_challenge) = match cmd.data.len() {
            CRYPTOGRAM_LEN => (cmd.data.as_slice(), None),
            n if n == CRYPTOGRAM_LEN + HOST_CHALLENGE_LEN => {
                let (c, h) = cmd.data.split_at(CRYPTOGRAM_LEN);
                (c, <[u8; HOST_CHALLENGE_LEN]>::try_from(h).ok())
            }
            _ => return Err(Status::WrongLength),
        };
        let good = self.accepts_any_cryptogram
            || self.state.management_key.check_cryptogram(
                &self.state.serial,
                &challenge,
                host_cryptogram,
            );
        if good {
            self.state.tries_left = MANAGEMENT_KEY_TRIES;
            self.volatile.session = true;
            let answer = host_challenge.map(|host| {
                self.state
                    .management_key
                    .card_cryptogram(&self.state.serial, &host, &challenge)
                    .to_vec()
            });
            Ok(Response::ok(answer.unwrap_or_default()))
        } else {
            self.state.tries_left -= 1;
            self.volatile.session = false;
            Err(Status::RemainingRetries(self.state.tries_left))
        }
    }

    pub(super) fn generate_key_pair(&mut self, cmd: &Command) -> Result<Response, Status> {
        if cmd.p2 != CHIP_KEY_REF {
            return Err(Status::ReferencedDataNotFound);
        }
        if !cmd.data.is_empty() {
            return Err(Status::WrongLength);
        }
        match cmd.p1 {
            GENERATE => {
                if !self.volatile.session {
                    return Err(Status::SecurityStatusNotSatisfied);
                }
                if !matches!(
                    self.state.life_cycle,
                    LifeCycle::Blank | LifeCycle::Personalizing
                ) {
                    return Err(Status::ConditionsNotSatisfied);
                }
                self.check_t0_le(cmd, public_key_template(&[0; POINT_LEN]).len())?;
                // The chip key is generated in the card's suite (P-256 or SM2).
                let key = ChipKey::generate(self.state.management_key.suite())
                    .map_err(|_| Status::Unknown)?;
                let pair = key.key_pair().map_err(|_| Status::Unknown)?;
                let response = public_key_template(&pair.public_key());
                // Key and life cycle change together.
                self.state.chip_key = Some(key);
                self.leave_blank();
                Ok(Response::ok(response))
            }
            READ_PUBLIC => {
                let key = self
                    .state
                    .chip_key
                    .as_ref()
                    .ok_or(Status::ReferencedDataNotFound)?;
                let pair = key.key_pair().map_err(|_| Status::Unknown)?;
                Ok(Response::ok(public_key_template(&pair.public_key())))
            }
            _ => Err(Status::IncorrectP1P2),
        }
    }

    pub(super) fn internal_authenticate(&mut self, cmd: &Command) -> Result<Response, Status> {
        if cmd.p1 != 0 {
            return Err(Status::IncorrectP1P2);
        }
        if cmd.p2 != CHIP_KEY_REF {
            return Err(Status::ReferencedDataNotFound);
        }
        let key = match (&self.state.chip_key, self.state.life_cycle) {
            (Some(key), LifeCycle::Personalizing | LifeCycle::Activated) => key,
            _ => return Err(Status::ConditionsNotSatisfied),
        };
        if !(MIN_INTERNAL_CHALLENGE..=MAX_INTERNAL_CHALLENGE).contains(&cmd.data.len()) {
            return Err(Status::WrongLength);
        }
        let pair = key.key_pair().map_err(|_| Status::Unknown)?;
        let signature = pair
            .sign(&chip_auth::message(&cmd.data))
            .map_err(|_| Status::Unknown)?;
        Ok(Response::ok(signature.to_vec()))
    }
}

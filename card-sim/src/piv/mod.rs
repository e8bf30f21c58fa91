//! A PIV card: the PIV Card Application of NIST SP 800-73-4 (contact interface), as
//! a second application [`crate::SimCard`] can run instead of the native profile.
//! ../shared/PIV.md has the bytes and the quirks of yubico-piv-tool 2.2 and OpenSC
//! 0.23 it was written against; docs/PROFILE-PIV.md (appendix) what it does.
//!
//! - [`objects`]: which data objects exist, who may read them, limits;
//!   `data`: GET DATA / PUT DATA.
//! - `pin`: PIN and PUK (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER).
//! - [`admin_key`] + `admin`: the 9B key and its authentication (GENERAL AUTHENTICATE).
//! - [`keys`] + `asym`: the P-256 slot keys (GENERATE ASYMMETRIC KEY PAIR, GENERAL
//!   AUTHENTICATE to sign or agree).
//! - `yubikey`: the YubiKey extensions yubico-piv-tool uses (FD, F8, FF).
//! - [`state`]: the persistent part and its JSON form.
//!
//! As on the native card, persistent state ([`PivState`]) survives
//! [`PivCard::power_cycle`] and RAM does not; every command checks all its
//! conditions before it changes anything. PIV is the default application: it is
//! selected from power-up, and SELECT of another AID answers `6A82` and keeps it
//! selected with its security state (the host tells the families apart this way).

mod admin;
pub mod admin_key;
mod asym;
mod data;
pub mod keys;
pub mod objects;
pub mod pin;
pub mod state;
mod yubikey;

pub use admin_key::{AdminAlg, AdminKey, DEFAULT_ADMIN_KEY};
pub use state::{PivSetup, PivState};

use crate::options::SimOptions;
use crate::transport::{chain, get_response, shape, Chain, Pending};
use admin::AdminChallenge;
use card_profile::apdu::{Command, Response, CLA_CHAINING};
use card_profile::status::Status;
use card_profile::tlv::Builder;
use ring::rand::SystemRandom;

/// The PIV AID; SELECT accepts any prefix of at least [`AID_MIN_PREFIX`] bytes.
pub const AID: [u8; 11] = [
    0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
];
/// ykpiv selects with the RID alone.
pub const AID_MIN_PREFIX: usize = 5;

/// Largest chained command: the largest object with its `5C`/`53` headers.
const CHAIN_MAX: usize = 16 * 1024;

/// Instructions (SP 800-73-4 Part 2 Table 5, and YubiKey's).
mod ins {
    pub const SELECT: u8 = 0xA4;
    pub const GET_DATA: u8 = 0xCB;
    pub const PUT_DATA: u8 = 0xDB;
    pub const VERIFY: u8 = 0x20;
    pub const CHANGE_REFERENCE: u8 = 0x24;
    pub const RESET_RETRY: u8 = 0x2C;
    pub const GENERAL_AUTHENTICATE: u8 = 0x87;
    pub const GENERATE: u8 = 0x47;
    pub const GET_RESPONSE: u8 = 0xC0;
    pub const YK_VERSION: u8 = 0xFD;
    pub const YK_SERIAL: u8 = 0xF8;
    pub const YK_SET_MGMKEY: u8 = 0xFF;
}

/// The card's RAM.
#[derive(Debug, Default)]
struct Volatile {
    pin_verified: bool,
    /// The command just before was a successful VERIFY (what key 9C asks for).
    pin_always: bool,
    /// 9B authenticated.
    admin: bool,
    /// Step 1 of a 9B authentication, waiting for step 2.
    admin_challenge: Option<AdminChallenge>,
    chain: Option<Chain>,
    pending: Option<Pending>,
}

/// The PIV application of a software card.
pub struct PivCard {
    state: PivState,
    volatile: Volatile,
    options: SimOptions,
    rng: SystemRandom,
    /// A fake card that does not hold the 9B key: it accepts any witness and
    /// answers the host's challenge with whatever key it holds.
    accepts_any_cryptogram: bool,
}

impl std::fmt::Debug for PivCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PivCard")
            .field("serial", &hex::encode_upper(self.state.serial))
            .field("objects", &self.state.objects.len())
            .field("keys", &self.state.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl PivCard {
    pub(crate) fn blank(setup: PivSetup, options: SimOptions) -> Self {
        Self::from_state(PivState::blank(setup), options)
    }

    pub(crate) fn from_state(state: PivState, options: SimOptions) -> Self {
        Self {
            state,
            volatile: Volatile::default(),
            options,
            rng: SystemRandom::new(),
            accepts_any_cryptogram: false,
        }
    }

    /// A copy of `genuine` made by someone who read everything readable: the same
    /// objects, and fresh keys in the same slots (private keys never leave a card).
    /// `knows_admin_key`: it also holds the genuine 9B key; otherwise it holds a
    /// random one and accepts any witness.
    pub(crate) fn counterfeit_of(
        genuine: &PivCard,
        knows_admin_key: bool,
    ) -> Result<Self, keys::KeyError> {
        let mut state = genuine.state.clone();
        let rng = SystemRandom::new();
        for key in state.keys.values_mut() {
            *key = keys::SlotKey::generate(&rng)?;
        }
        if !knows_admin_key {
            let alg = state.admin_key.alg();
            let mut bytes = zeroize::Zeroizing::new(vec![0u8; alg.key_len()]);
            ring::rand::SecureRandom::fill(&rng, &mut bytes).map_err(|_| keys::KeyError::Random)?;
            state.admin_key = AdminKey::new(alg, &bytes).map_err(|_| keys::KeyError::Random)?;
        }
        let mut card = Self::from_state(state, genuine.options);
        card.accepts_any_cryptogram = !knows_admin_key;
        Ok(card)
    }

    pub(crate) fn accept_any_cryptogram(&mut self) {
        self.accepts_any_cryptogram = true;
    }

    pub fn options(&self) -> SimOptions {
        self.options
    }

    pub fn state(&self) -> &PivState {
        &self.state
    }

    pub(crate) fn restore(&mut self, state: PivState) {
        self.state = state;
    }

    /// The value of object `tag` (inside `53`), `None` when empty.
    pub fn object(&self, tag: u32) -> Option<&[u8]> {
        self.state.objects.get(&tag).map(Vec::as_slice)
    }

    /// The public key in `slot` as `04 X Y`, `None` when the slot is empty.
    pub fn public_key(&self, slot: u8) -> Option<Vec<u8>> {
        self.state.keys.get(&slot).map(keys::SlotKey::public_point)
    }

    pub fn pin_tries_left(&self) -> u8 {
        self.state.pin.tries_left()
    }

    pub fn puk_tries_left(&self) -> u8 {
        self.state.puk.tries_left()
    }

    pub fn admin_key(&self) -> &AdminKey {
        &self.state.admin_key
    }

    /// Factory blank: no objects and no keys.
    pub fn is_blank(&self) -> bool {
        self.state.objects.is_empty() && self.state.keys.is_empty()
    }

    /// Reset or power loss: RAM is gone (PIN and 9B status, chain, pending bytes).
    pub fn power_cycle(&mut self) {
        self.volatile = Volatile::default();
    }

    /// Processes one command APDU. Never panics.
    pub(crate) fn dispatch(&mut self, apdu: &[u8]) -> Response {
        // Any command but GET RESPONSE discards what was pending.
        let pending = self.volatile.pending.take();
        let [cla, ..] = *apdu else {
            return Response::status(Status::WrongLength);
        };
        if cla & !CLA_CHAINING != 0x00 {
            return Response::status(Status::ClassNotSupported);
        }
        if !self.options.extended_length && apdu.len() >= 7 && apdu[4] == 0 {
            return Response::status(Status::WrongLength);
        }
        let Ok(cmd) = Command::parse(apdu) else {
            return Response::status(Status::WrongLength);
        };
        if cmd.ins.to_u8() == ins::GET_RESPONSE {
            return get_response(&mut self.volatile.pending, &cmd, pending);
        }
        let cmd = match chain(&self.options, &mut self.volatile.chain, cmd, CHAIN_MAX) {
            Ok(Some(cmd)) => cmd,
            Ok(None) => return Response::status(Status::Success),
            Err(status) => return Response::status(status),
        };
        // What holds only until the next command: "PIN Always" and step 1 of a 9B
        // authentication.
        let pin_always = std::mem::take(&mut self.volatile.pin_always);
        let admin_challenge = self.volatile.admin_challenge.take();
        let resp = match cmd.ins.to_u8() {
            ins::SELECT => self.select(&cmd),
            ins::GET_DATA => self.get_data(&cmd),
            ins::PUT_DATA => self.put_data(&cmd),
            ins::VERIFY => self.verify(&cmd),
            ins::CHANGE_REFERENCE => self.change_reference(&cmd),
            ins::RESET_RETRY => self.reset_retry_counter(&cmd),
            ins::GENERAL_AUTHENTICATE => match cmd.p2 {
                admin::ADMIN_KEY_REF => self.authenticate_admin(&cmd, admin_challenge),
                _ => self.use_key(&cmd, pin_always),
            },
            ins::GENERATE => self.generate(&cmd),
            ins::YK_VERSION => self.version(&cmd),
            ins::YK_SERIAL => self.serial(&cmd),
            ins::YK_SET_MGMKEY => self.set_management_key(&cmd),
            _ => Err(Status::InstructionNotSupported),
        };
        match resp {
            Ok(resp) => shape(&self.options, &mut self.volatile.pending, resp, &cmd),
            Err(status) => Response::status(status),
        }
    }

    /// SELECT: the PIV AID (any prefix of 5+ bytes) answers the Application
    /// Property Template; anything else `6A82`, with PIV still selected.
    fn select(&mut self, cmd: &Command) -> Result<Response, Status> {
        if cmd.p1 != 0x04 {
            return Err(Status::FileNotFound);
        }
        if cmd.p2 != 0x00 && cmd.p2 != 0x0C {
            return Err(Status::IncorrectP1P2);
        }
        let is_piv = cmd.data.len() >= AID_MIN_PREFIX
            && cmd.data.len() <= AID.len()
            && AID.starts_with(&cmd.data);
        if !is_piv {
            return Err(Status::FileNotFound);
        }
        // Re-selecting keeps the PIN and 9B status [73-4 Part 2 §3.1.1].
        let data = if cmd.p2 == 0x00 {
            application_property_template()
        } else {
            Vec::new()
        };
        Ok(Response::ok(data))
    }
}

/// Tags of the Application Property Template [73-4 Part 2 Table 3].
mod apt {
    use card_profile::tlv::Tag;
    pub const APT: Tag = Tag(0x61);
    pub const AID: Tag = Tag(0x4F);
    pub const AUTHORITY: Tag = Tag(0x79);
    pub const LABEL: Tag = Tag(0x50);
    pub const ALGORITHMS: Tag = Tag(0xAC);
    pub const ALGORITHM: Tag = Tag(0x80);
    pub const OID: Tag = Tag(0x06);
}

/// `61 L {4F PIX, 79 {4F RID}, 50 label, AC {80 alg…, 06 00}}`. OpenSC finds the
/// PIX (`00 00 10 00 01 00`) under 61/4F; ykpiv reads nothing of it.
fn application_property_template() -> Vec<u8> {
    let mut algorithms = Builder::new();
    for alg in AdminAlg::ALL {
        algorithms = algorithms.field(apt::ALGORITHM, &[alg.id()]);
    }
    let algorithms = algorithms
        .field(apt::ALGORITHM, &[keys::ALG_P256])
        .field(apt::OID, &[0x00])
        .wrap(apt::ALGORITHMS);
    let authority = Builder::new()
        .field(apt::AID, &AID[..AID_MIN_PREFIX])
        .wrap(apt::AUTHORITY);
    Builder::new()
        .field(apt::AID, &AID[AID_MIN_PREFIX..])
        .raw(&authority)
        .field(apt::LABEL, b"ecard software PIV")
        .raw(&algorithms)
        .wrap(apt::APT)
}

//! The native ecard application: the card side of docs/PROFILE.md §1–§2, §5, §6.
//! [`crate::SimCard`] runs it (or the PIV application of [`crate::piv`]) and keeps
//! its state file.
//!
//! State is split the way a chip splits it: [`Persistent`] is the EEPROM (serial,
//! management key, life cycle, files, records, chip key, try counter) and survives
//! [`NativeCard::power_cycle`]; `Volatile` is RAM (selection, current EF, write session,
//! challenge, chain buffer, pending GET RESPONSE bytes) and does not.
//!
//! Every command either completes or leaves the persistent state as it was: handlers
//! check all conditions before they change anything, and when the card has a state
//! file, a command whose change cannot be saved is rolled back and answered `6581`
//! (by [`crate::SimCard::process`]).

mod files;
mod lifecycle;
mod security;

use crate::options::SimOptions;
use crate::state::Persistent;
use crate::transport::{chain, check_t0_le, get_response, shape, Chain, Pending};
use card_profile::apdu::{Command, Ins, Response, CLA_CHAINING, EXTENDED_MAX_DATA};
use card_profile::keys::{ManagementKey, MasterKey, Serial};
use card_profile::profile::{
    tags, FileId, LifeCycle, AID, CHALLENGE_LEN, MANAGEMENT_KEY_TRIES, PROFILE_VERSION,
};
use card_profile::status::Status;
use card_profile::tlv::Builder;
use ring::rand::SystemRandom;
use std::collections::BTreeMap;

/// The card's RAM: gone at every reset or power loss.
#[derive(Debug, Default)]
struct Volatile {
    selected: bool,
    current_ef: Option<FileId>,
    session: bool,
    challenge: Option<[u8; CHALLENGE_LEN]>,
    chain: Option<Chain>,
    pending: Option<Pending>,
}

/// The native ecard application (PROFILE.md) on a software card.
pub(crate) struct NativeCard {
    state: Persistent,
    volatile: Volatile,
    options: SimOptions,
    rng: SystemRandom,
    /// A fake card that does not hold the management key and answers every EXTERNAL
    /// AUTHENTICATE with success (tests of what a station must not trust).
    accepts_any_cryptogram: bool,
}

impl std::fmt::Debug for NativeCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeCard")
            .field("serial", &hex::encode_upper(self.state.serial))
            .field("life_cycle", &self.state.life_cycle)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// True when the APDU uses the extended length encoding: a body that starts with a
/// 00 byte and is at least three bytes long (a short Lc is never 00, see
/// `Command::parse`).
fn is_extended(apdu: &[u8]) -> bool {
    apdu.len() >= 7 && apdu[4] == 0
}

impl NativeCard {
    /// A blank card as delivered: EF.VER written from the serial and capabilities,
    /// the management key loaded, everything else empty.
    pub(crate) fn manufacture(
        serial: Serial,
        management_key: ManagementKey,
        options: SimOptions,
    ) -> NativeCard {
        let ver = Builder::new()
            .field(tags::PROFILE_VERSION, &[PROFILE_VERSION])
            .field(tags::CAPABILITIES, &[options.capabilities()])
            .field(tags::SERIAL, &serial)
            .wrap(tags::VER);
        let mut files = BTreeMap::new();
        files.insert(FileId::Ver, ver);
        Self::from_state(
            Persistent {
                serial,
                management_key,
                life_cycle: LifeCycle::Blank,
                tries_left: MANAGEMENT_KEY_TRIES,
                files,
                records: Vec::new(),
                chip_key: None,
            },
            options,
        )
    }

    /// A blank card whose management key is diversified from the bureau master key
    /// (the supplier's key ceremony, PROFILE.md §5).
    pub(crate) fn from_master_key(
        serial: Serial,
        master: &MasterKey,
        options: SimOptions,
    ) -> NativeCard {
        Self::manufacture(serial, master.derive(&serial), options)
    }

    /// A card with the given persistent state, powered up fresh.
    pub(crate) fn from_state(state: Persistent, options: SimOptions) -> NativeCard {
        NativeCard {
            state,
            volatile: Volatile::default(),
            options,
            rng: SystemRandom::new(),
            accepts_any_cryptogram: false,
        }
    }

    /// A fake of `genuine`: the same serial, files and records (all a reader can
    /// copy) and a chip key of its own, since the genuine one never leaves its chip.
    /// `knows_management_key`: it also holds the genuine card's management key (a
    /// leaked master key); otherwise it holds none and answers every EXTERNAL
    /// AUTHENTICATE with success, as a fake card would.
    pub(crate) fn counterfeit_of(genuine: &NativeCard, knows_management_key: bool) -> NativeCard {
        let mut state = genuine.state.clone();
        let suite = state.management_key.suite();
        // A fake that silently kept the genuine chip key or management key would
        // turn the tests that prove refusal into tests of the opposite.
        #[allow(clippy::expect_used)]
        let key = crate::state::ChipKey::generate(suite)
            .expect("the system random number generator works");
        state.chip_key = Some(key);
        if !knows_management_key {
            #[allow(clippy::expect_used)]
            let key = ManagementKey::from_bytes_in(suite, &[0; 16])
                .expect("16 bytes is a management key");
            state.management_key = key;
        }
        let mut card = Self::from_state(state, genuine.options);
        card.accepts_any_cryptogram = !knows_management_key;
        card
    }

    /// From now on answers every EXTERNAL AUTHENTICATE with success, as a fake card
    /// that does not hold the management key would (its own answer to a host
    /// challenge is then made with whatever key it holds, and is wrong).
    pub(crate) fn accept_any_cryptogram(&mut self) {
        self.accepts_any_cryptogram = true;
    }

    pub(crate) fn options(&self) -> SimOptions {
        self.options
    }

    pub(crate) fn serial(&self) -> Serial {
        self.state.serial
    }

    pub(crate) fn life_cycle(&self) -> LifeCycle {
        self.state.life_cycle
    }

    /// Content of a transparent file (empty when never written; EF.REVIEWS is empty
    /// here, see [`NativeCard::records`]).
    pub(crate) fn file(&self, id: FileId) -> &[u8] {
        self.state
            .files
            .get(&id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub(crate) fn records(&self) -> &[Vec<u8>] {
        &self.state.records
    }

    pub(crate) fn tries_left(&self) -> u8 {
        self.state.tries_left
    }

    pub(crate) fn has_chip_key(&self) -> bool {
        self.state.chip_key.is_some()
    }

    pub(crate) fn persistent(&self) -> &Persistent {
        &self.state
    }

    /// Reset or power loss: RAM is gone, EEPROM stays.
    pub(crate) fn power_cycle(&mut self) {
        self.volatile = Volatile::default();
    }

    /// The state to restore when a change cannot be saved.
    pub(crate) fn restore(&mut self, state: Persistent) {
        self.state = state;
    }

    /// Power is lost in the middle of this command: UPDATE BINARY and APPEND RECORD
    /// have written only the first half of their data (a torn EEPROM write); any
    /// other command has no effect, because every other change of persistent state
    /// is atomic. The caller powers the card off and saves.
    pub(crate) fn tear(&mut self, apdu: &[u8]) {
        if matches!(
            apdu.get(1).map(|b| Ins::from_u8(*b)),
            Some(Ins::UpdateBinary | Ins::AppendRecord)
        ) {
            let _ = self.dispatch(apdu, true);
        }
    }

    /// Processes one command APDU (data + SW). Never panics.
    pub(crate) fn dispatch(&mut self, apdu: &[u8], torn: bool) -> Response {
        // Any command but GET RESPONSE discards what was pending.
        let pending = self.volatile.pending.take();
        let [cla, ins, ..] = *apdu else {
            return Response::status(Status::WrongLength);
        };
        let class = cla & !CLA_CHAINING;
        if class != 0x00 && class != 0x80 {
            return Response::status(Status::ClassNotSupported);
        }
        let ins = Ins::from_u8(ins);
        if matches!(ins, Ins::Other(_)) {
            return Response::status(Status::InstructionNotSupported);
        }
        if class != ins.class() {
            return Response::status(Status::ClassNotSupported);
        }
        if !self.options.extended_length && is_extended(apdu) {
            return Response::status(Status::WrongLength);
        }
        let Ok(cmd) = Command::parse(apdu) else {
            return Response::status(Status::WrongLength);
        };
        if cmd.ins == Ins::GetResponse {
            return get_response(&mut self.volatile.pending, &cmd, pending);
        }
        if cmd.ins != Ins::Select && !self.volatile.selected {
            return Response::status(Status::ConditionsNotSatisfied);
        }
        let cmd = match chain(
            &self.options,
            &mut self.volatile.chain,
            cmd,
            EXTENDED_MAX_DATA,
        ) {
            Ok(Some(cmd)) => cmd,
            Ok(None) => return Response::status(Status::Success),
            Err(status) => return Response::status(status),
        };
        let resp = match cmd.ins {
            Ins::Select => self.select(&cmd),
            Ins::ReadBinary => self.read_binary(&cmd),
            Ins::UpdateBinary => self.update_binary(&cmd, torn),
            Ins::ReadRecord => self.read_record(&cmd),
            Ins::AppendRecord => self.append_record(&cmd, torn),
            Ins::GetChallenge => self.get_challenge(&cmd),
            Ins::ExternalAuthenticate => self.external_authenticate(&cmd),
            Ins::GenerateKeyPair => self.generate_key_pair(&cmd),
            Ins::InternalAuthenticate => self.internal_authenticate(&cmd),
            Ins::ActivateFile => self.activate(&cmd),
            Ins::TerminateDf => self.terminate(&cmd),
            Ins::Wipe => self.wipe(&cmd),
            _ => Err(Status::InstructionNotSupported),
        };
        match resp {
            Ok(resp) => shape(&self.options, &mut self.volatile.pending, resp, &cmd),
            Err(status) => Response::status(status),
        }
    }

    fn fci(&self) -> Vec<u8> {
        let proprietary = Builder::new()
            .field(tags::PROFILE_VERSION, &[PROFILE_VERSION])
            .field(tags::CAPABILITIES, &[self.options.capabilities()])
            .field(tags::SERIAL, &self.state.serial)
            .field(
                tags::MAX_APDU_DATA,
                &self.options.max_command_data().to_be_bytes(),
            )
            .wrap(tags::FCI_PROPRIETARY);
        Builder::new()
            .field(tags::FCI_AID, &AID)
            .field(tags::FCI_LIFE_CYCLE, &[self.state.life_cycle.to_u8()])
            .raw(&proprietary)
            .wrap(tags::FCI)
    }

    fn select(&mut self, cmd: &Command) -> Result<Response, Status> {
        match cmd.p1 {
            0x04 => {
                if cmd.p2 != 0x00 && cmd.p2 != 0x0C {
                    return Err(Status::IncorrectP1P2);
                }
                if cmd.data != AID {
                    return Err(Status::FileNotFound);
                }
                // A new selection starts from scratch: no current EF, no session.
                self.volatile = Volatile {
                    selected: true,
                    ..Volatile::default()
                };
                let status = if self.state.life_cycle == LifeCycle::Terminated {
                    Status::SelectedFileTerminated
                } else {
                    Status::Success
                };
                let data = if cmd.p2 == 0x00 {
                    self.fci()
                } else {
                    Vec::new()
                };
                Ok(Response::new(data, status))
            }
            0x02 => {
                if !self.volatile.selected {
                    return Err(Status::ConditionsNotSatisfied);
                }
                if cmd.p2 != 0x0C {
                    return Err(Status::IncorrectP1P2);
                }
                let fid: [u8; 2] = cmd
                    .data
                    .as_slice()
                    .try_into()
                    .map_err(|_| Status::WrongLength)?;
                let file = FileId::from_fid(u16::from_be_bytes(fid)).ok_or(Status::FileNotFound)?;
                self.volatile.current_ef = Some(file);
                Ok(Response::ok(Vec::new()))
            }
            _ => Err(Status::IncorrectP1P2),
        }
    }

    /// See [`check_t0_le`].
    fn check_t0_le(&self, cmd: &Command, len: usize) -> Result<(), Status> {
        check_t0_le(&self.options, cmd, len)
    }

    /// The first change of a blank card makes it "personalizing" (PROFILE.md §1.1).
    fn leave_blank(&mut self) {
        if self.state.life_cycle == LifeCycle::Blank {
            self.state.life_cycle = LifeCycle::Personalizing;
        }
    }
}

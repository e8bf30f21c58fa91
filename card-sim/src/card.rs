//! The software card: the card side of docs/PROFILE.md §1–§2, §5, §6.
//!
//! State is split the way a chip splits it: [`Persistent`] is the EEPROM (serial,
//! management key, life cycle, files, records, chip key, try counter) and survives
//! [`SimCard::power_cycle`]; `Volatile` is RAM (selection, current EF, write session,
//! challenge, chain buffer, pending GET RESPONSE bytes) and does not.
//!
//! Every command either completes or leaves the persistent state as it was: handlers
//! check all conditions before they change anything, and when the card has a state
//! file, a command whose change cannot be saved is rolled back and answered `6581`.

mod files;
mod lifecycle;
mod security;

use crate::state::{Persistent, StateError};
use card_profile::apdu::{Command, Ins, Response, CLA_CHAINING, EXTENDED_MAX_DATA, SHORT_MAX_NE};
use card_profile::keys::{ManagementKey, MasterKey, Serial};
use card_profile::profile::{
    capability, tags, FileId, LifeCycle, AID, CHALLENGE_LEN, MANAGEMENT_KEY_TRIES, PROFILE_VERSION,
};
use card_profile::status::Status;
use card_profile::tlv::Builder;
use ring::rand::SystemRandom;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How the card behaves at the transport level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimOptions {
    /// Accept extended Lc/Le. When off, extended APDUs get `6700` and the FCI announces
    /// a 255-byte data field.
    pub extended_length: bool,
    /// Behave like a T=0 card: case-4 responses are announced with `61xx` and fetched
    /// with GET RESPONSE; a case-2 command with the wrong short Le gets `6Cxx`.
    pub t0_style: bool,
    /// Accept command chaining (CLA bit 10); when off, chained links get `6884`.
    pub command_chaining: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            extended_length: true,
            t0_style: false,
            command_chaining: true,
        }
    }
}

impl SimOptions {
    /// The capability byte of the FCI (and of EF.VER at manufacture).
    pub fn capabilities(&self) -> u8 {
        let mut caps = 0;
        if self.extended_length {
            caps |= capability::EXTENDED_LENGTH;
        }
        if self.command_chaining {
            caps |= capability::COMMAND_CHAINING;
        }
        caps
    }

    /// Largest data field accepted in one APDU (FCI tag A5/83).
    pub fn max_command_data(&self) -> u16 {
        if self.extended_length {
            EXTENDED_MAX_DATA as u16
        } else {
            255
        }
    }
}

/// Response bytes waiting for GET RESPONSE, and the status word of the last part.
#[derive(Debug, Clone)]
struct Pending {
    data: Vec<u8>,
    status: Status,
}

/// Links of a command chain received so far (all with the same INS P1 P2).
#[derive(Debug, Clone)]
struct Chain {
    ins: Ins,
    p1: u8,
    p2: u8,
    data: Vec<u8>,
}

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

/// A software ecard.
pub struct SimCard {
    state: Persistent,
    volatile: Volatile,
    options: SimOptions,
    state_path: Option<PathBuf>,
    rng: SystemRandom,
    /// A fake card that does not hold the management key and answers every EXTERNAL
    /// AUTHENTICATE with success (tests of what a station must not trust).
    accepts_any_cryptogram: bool,
}

impl std::fmt::Debug for SimCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCard")
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

impl SimCard {
    /// A blank card as delivered: EF.VER written from the serial and capabilities,
    /// the management key loaded, everything else empty.
    pub fn manufacture(
        serial: Serial,
        management_key: ManagementKey,
        options: SimOptions,
    ) -> SimCard {
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
    pub fn from_master_key(serial: Serial, master: &MasterKey, options: SimOptions) -> SimCard {
        Self::manufacture(serial, master.derive(&serial), options)
    }

    /// A card with the given persistent state, powered up fresh.
    pub fn from_state(state: Persistent, options: SimOptions) -> SimCard {
        SimCard {
            state,
            volatile: Volatile::default(),
            options,
            state_path: None,
            rng: SystemRandom::new(),
            accepts_any_cryptogram: false,
        }
    }

    /// A fake of `genuine`: the same serial, files and records (all a reader can
    /// copy) and a chip key of its own, since the genuine one never leaves its chip.
    /// `knows_management_key`: it also holds the genuine card's management key (a
    /// leaked master key); otherwise it holds none and answers every EXTERNAL
    /// AUTHENTICATE with success, as a fake card would.
    pub fn counterfeit_of(genuine: &SimCard, knows_management_key: bool) -> SimCard {
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
    pub fn accept_any_cryptogram(&mut self) {
        self.accepts_any_cryptogram = true;
    }

    /// Loads a card from its state file; later changes are saved back to it.
    pub fn load(path: &Path, options: SimOptions) -> Result<SimCard, StateError> {
        let mut card = Self::from_state(Persistent::load(path)?, options);
        card.state_path = Some(path.to_owned());
        Ok(card)
    }

    /// Keeps the card's state in `path` from now on, saving it right away.
    pub fn attach_state_file(&mut self, path: &Path) -> Result<(), StateError> {
        self.state.save(path)?;
        self.state_path = Some(path.to_owned());
        Ok(())
    }

    pub fn state_path(&self) -> Option<&Path> {
        self.state_path.as_deref()
    }

    pub fn save(&self) -> Result<(), StateError> {
        match &self.state_path {
            Some(path) => self.state.save(path),
            None => Ok(()),
        }
    }

    pub fn options(&self) -> SimOptions {
        self.options
    }

    pub fn serial(&self) -> Serial {
        self.state.serial
    }

    pub fn life_cycle(&self) -> LifeCycle {
        self.state.life_cycle
    }

    /// Content of a transparent file (empty when never written; EF.REVIEWS is empty
    /// here, see [`SimCard::records`]).
    pub fn file(&self, id: FileId) -> &[u8] {
        self.state
            .files
            .get(&id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn records(&self) -> &[Vec<u8>] {
        &self.state.records
    }

    pub fn tries_left(&self) -> u8 {
        self.state.tries_left
    }

    pub fn has_chip_key(&self) -> bool {
        self.state.chip_key.is_some()
    }

    pub fn persistent(&self) -> &Persistent {
        &self.state
    }

    /// Reset or power loss: RAM is gone, EEPROM stays.
    pub fn power_cycle(&mut self) {
        self.volatile = Volatile::default();
    }

    /// Processes one command APDU and returns the response (data + SW). Never panics.
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        let before = self.state_path.is_some().then(|| self.state.clone());
        let resp = self.dispatch(apdu, false);
        if let Some(before) = before {
            if before != self.state && self.save().is_err() {
                // The "EEPROM write" failed: the old state holds.
                self.state = before;
                return Response::status(Status::MemoryFailure).to_bytes();
            }
        }
        resp.to_bytes()
    }

    /// Power is lost in the middle of this command (the card is pulled out). UPDATE
    /// BINARY and APPEND RECORD have written only the first half of their data (a
    /// torn EEPROM write); any other command has no effect, because every other change
    /// of persistent state is atomic. The card is then powered off and its state saved.
    pub fn tear(&mut self, apdu: &[u8]) -> Result<(), StateError> {
        let before = self.state.clone();
        if matches!(
            apdu.get(1).map(|b| Ins::from_u8(*b)),
            Some(Ins::UpdateBinary | Ins::AppendRecord)
        ) {
            let _ = self.dispatch(apdu, true);
        }
        self.power_cycle();
        if before != self.state {
            self.save()?;
        }
        Ok(())
    }

    fn dispatch(&mut self, apdu: &[u8], torn: bool) -> Response {
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
            return self.get_response(&cmd, pending);
        }
        if cmd.ins != Ins::Select && !self.volatile.selected {
            return Response::status(Status::ConditionsNotSatisfied);
        }
        let cmd = match self.chain(cmd) {
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
            Ok(resp) => self.shape(resp, &cmd),
            Err(status) => Response::status(status),
        }
    }

    /// Collects chained links (PROFILE.md §2.2). `Ok(None)`: a link was buffered;
    /// `Ok(Some(cmd))`: the command to execute, with the whole chain's data.
    fn chain(&mut self, cmd: Command) -> Result<Option<Command>, Status> {
        let chained = cmd.is_chained();
        if chained && !self.options.command_chaining {
            return Err(Status::CommandChainingNotSupported);
        }
        let mut cmd = cmd;
        if let Some(mut chain) = self.volatile.chain.take() {
            if (chain.ins, chain.p1, chain.p2) != (cmd.ins, cmd.p1, cmd.p2) {
                return Err(Status::LastCommandOfChainExpected);
            }
            if chain.data.len() + cmd.data.len() > EXTENDED_MAX_DATA {
                return Err(Status::WrongLength);
            }
            chain.data.append(&mut cmd.data);
            cmd.data = chain.data;
        }
        if chained {
            self.volatile.chain = Some(Chain {
                ins: cmd.ins,
                p1: cmd.p1,
                p2: cmd.p2,
                data: cmd.data,
            });
            return Ok(None);
        }
        cmd.cla &= !CLA_CHAINING;
        Ok(Some(cmd))
    }

    /// Fits a response to Ne and to the transport style (PROFILE.md §2.2).
    fn shape(&mut self, resp: Response, cmd: &Command) -> Response {
        if resp.data.is_empty() {
            return resp;
        }
        // No Le field is read as Le = 00 (256): what T=0 readers send for case 2.
        let ne = cmd.ne.unwrap_or(SHORT_MAX_NE);
        let len = resp.data.len();
        if self.options.t0_style && ne <= SHORT_MAX_NE {
            if !cmd.data.is_empty() {
                // Case 4 under T=0: the data always comes through GET RESPONSE.
                return self.defer(resp.data, resp.status, 0);
            }
            if len <= SHORT_MAX_NE && ne != len {
                return Response::status(wrong_le(len));
            }
        }
        if len > ne {
            return self.defer(resp.data, resp.status, ne);
        }
        resp
    }

    /// Answers the first `now` bytes and keeps the rest for GET RESPONSE.
    fn defer(&mut self, mut data: Vec<u8>, status: Status, now: usize) -> Response {
        let rest = data.split_off(now.min(data.len()));
        let announce = more_available(rest.len());
        self.volatile.pending = Some(Pending { data: rest, status });
        Response::new(data, announce)
    }

    fn get_response(&mut self, cmd: &Command, pending: Option<Pending>) -> Response {
        if (cmd.p1, cmd.p2) != (0, 0) {
            self.volatile.pending = pending;
            return Response::status(Status::IncorrectP1P2);
        }
        let Some(pending) = pending else {
            return Response::status(Status::ConditionsNotSatisfied);
        };
        let ne = cmd.ne.unwrap_or(SHORT_MAX_NE);
        if pending.data.len() <= ne {
            return Response::new(pending.data, pending.status);
        }
        self.defer(pending.data, pending.status, ne)
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

    /// Under T=0, a case-2 command whose short Le differs from the `len` bytes it
    /// would return is refused before it acts (a re-sent GET CHALLENGE or key
    /// generation must not have run twice).
    fn check_t0_le(&self, cmd: &Command, len: usize) -> Result<(), Status> {
        let ne = cmd.ne.unwrap_or(SHORT_MAX_NE);
        if self.options.t0_style && cmd.data.is_empty() && ne <= SHORT_MAX_NE && ne != len {
            return Err(wrong_le(len));
        }
        Ok(())
    }

    /// The first change of a blank card makes it "personalizing" (PROFILE.md §1.1).
    fn leave_blank(&mut self) {
        if self.state.life_cycle == LifeCycle::Blank {
            self.state.life_cycle = LifeCycle::Personalizing;
        }
    }
}

/// `61xx` for `rest` bytes still to come (`6100` = 256 or more).
fn more_available(rest: usize) -> Status {
    if rest == 0 {
        Status::Success
    } else {
        Status::MoreAvailable(rest.min(SHORT_MAX_NE) as u8)
    }
}

/// `6Cxx` for a response of `len` ≤ 256 bytes (`6C00` = 256).
fn wrong_le(len: usize) -> Status {
    Status::WrongLe(len.min(SHORT_MAX_NE) as u8)
}

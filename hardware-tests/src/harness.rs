//! `PcscHarness`: one per test. It owns the machine's PC/SC test resources (a lock),
//! makes sure pcscd with vpcd runs, plugs `ecard-sim` cards into the two vpcd slots
//! and hands out `PcscChannel`s. Everything it starts it stops, by pid, in Drop —
//! also when the test panics. Drop order: sims, then pcscd, then the lock.

mod lock;
mod pcscd;
mod process;
mod sim;

use std::ffi::CString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use card_profile::transport::TransportError;
use pcsc::Context;
use thiserror::Error;

use crate::pcsc_channel::{establish, list_readers, wait_presence, PcscChannel, Presence};
use lock::HarnessLock;
use pcscd::OwnedPcscd;
use sim::{spawn_sim, stop_shared, wait_slot, SharedChild};

pub use lock::LOCK_PATH;
pub use pcscd::vpcd_listening;
pub use process::{artifacts_dir, pid_alive};
pub use sim::{sim_binary, SimBuildError, SimProcess, SimSpec};

/// vpcd's two readers, by slot.
pub const VPCD_READERS: [&str; 2] = ["Virtual PCD 00 00", "Virtual PCD 00 01"];
/// vpcd slot 0 listens on this TCP port, slot 1 on the next.
pub const VPCD_BASE_PORT: u16 = 35963;
/// How long a card gets to appear in (or vanish from) a reader.
pub const CARD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a slot may take to be free again after the previous card left.
pub const SLOT_FREE_TIMEOUT: Duration = Duration::from_secs(4);

/// One pcscd presence poll (400 ms) plus margin.
const PCSCD_SETTLE: Duration = Duration::from_millis(450);

/// Physical-reader opt-in (see README.md).
pub const ENV_HW_READER: &str = "ECARD_HW_READER";
pub const ENV_HW_MASTER_KEY: &str = "ECARD_HW_MASTER_KEY";

#[derive(Debug, Error)]
pub enum HarnessError {
    #[error("cannot take the hardware-test lock {LOCK_PATH}: {0}")]
    Lock(String),
    #[error("cannot run a child process: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("pcscd exited during start-up ({status}); log: {}", log.display())]
    PcscdExited { status: String, log: PathBuf },
    #[error("pcscd/vpcd not ready after {waited:?}: {detail}; pcscd log: {log:?}")]
    NotReady {
        waited: Duration,
        detail: String,
        log: Option<PathBuf>,
    },
    #[error("pcscd was not started by this harness; refusing to restart it")]
    NotOwner,
    #[error("no vpcd slot {0}: vpcd has slots 0 and 1")]
    BadSlot(u8),
    #[error("slot {slot} already holds a card before the sim started (a leftover emulator, or another user of vpcd?)")]
    SlotBusy { slot: u8 },
    #[error("{reader}: card not {want:?} after {waited:?}")]
    CardState {
        reader: String,
        want: Presence,
        waited: Duration,
    },
    #[error("ecard-sim in slot {slot} exited before its card appeared ({status}); log: {}", log.display())]
    SimExited {
        slot: u8,
        status: String,
        log: PathBuf,
    },
    #[error("ecard-sim in slot {slot} still running after {waited:?}")]
    SimStillRunning { slot: u8, waited: Duration },
    #[error(transparent)]
    SimBuild(#[from] SimBuildError),
    #[error("reader {wanted:?} not found (readers: {available:?})")]
    ReaderNotFound {
        wanted: String,
        available: Vec<String>,
    },
    #[error("{ENV_HW_MASTER_KEY} is not hex: {0}")]
    BadMasterKey(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
}

pub(crate) fn reader_for_slot(slot: u8) -> Result<&'static str, HarnessError> {
    VPCD_READERS
        .get(usize::from(slot))
        .copied()
        .ok_or(HarnessError::BadSlot(slot))
}

/// The PC/SC test environment of one test.
pub struct PcscHarness {
    ctx: Option<Context>,
    pcscd: Option<OwnedPcscd>,
    sims: Vec<SharedChild>,
    _lock: HarnessLock,
}

impl PcscHarness {
    /// Takes the machine-wide lock, then reuses a running pcscd (never stopping it)
    /// or starts one, and waits until both vpcd readers are listed and listening.
    pub fn start() -> Result<Self, HarnessError> {
        let lock = HarnessLock::acquire()?;
        let mut pcscd = match pcscd::running_service() {
            Some(_) => None,
            None => Some(OwnedPcscd::spawn()?),
        };
        let ctx = pcscd::wait_ready(pcscd.as_mut())?;
        Ok(Self {
            ctx: Some(ctx),
            pcscd,
            sims: Vec::new(),
            _lock: lock,
        })
    }

    /// The pid of the pcscd this harness started; `None` when it reuses one.
    pub fn pcscd_pid(&self) -> Option<u32> {
        self.pcscd.as_ref().map(OwnedPcscd::pid)
    }

    pub fn pcscd_log(&self) -> Option<PathBuf> {
        self.pcscd.as_ref().map(|p| p.log().to_path_buf())
    }

    /// Reader names pcscd lists right now.
    pub fn readers(&self) -> Result<Vec<String>, HarnessError> {
        Ok(list_readers(self.ctx()?)?)
    }

    /// Plugs an `ecard-sim` card into vpcd slot `slot` (0 or 1) and returns once
    /// pcscd reports it present.
    pub fn start_card(&mut self, slot: u8, spec: SimSpec) -> Result<SimProcess, HarnessError> {
        let bin = sim_binary()?;
        self.start_card_with(&bin, slot, spec)
    }

    /// As [`Self::start_card`] with an explicit emulator binary.
    pub fn start_card_with(
        &mut self,
        bin: &std::path::Path,
        slot: u8,
        spec: SimSpec,
    ) -> Result<SimProcess, HarnessError> {
        let port = VPCD_BASE_PORT + u16::from(slot);
        self.plug(slot, |slot| spawn_sim(bin, slot, port, &spec))
    }

    /// Plugs a card emulator that is not `ecard-sim` into vpcd slot `slot`, e.g.
    /// Nitrokey's piv-authenticator through its vpicc runner. `command` is spawned as
    /// given: it must connect to vpcd at `127.0.0.1:3596x` (35963 for slot 0) by
    /// itself. Its output goes to `target/<profile>/hardware-tests/`; the returned
    /// process is stopped like a sim (SIGTERM, then SIGKILL) on drop of the harness.
    pub fn start_external_card(
        &mut self,
        slot: u8,
        mut command: std::process::Command,
    ) -> Result<SimProcess, HarnessError> {
        self.plug(slot, |slot| {
            let (log, out, err) = process::log_file(&format!("external-card-slot{slot}"))
                .map_err(HarnessError::Spawn)?;
            let child = command
                .stdin(std::process::Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .map_err(HarnessError::Spawn)?;
            Ok((child, log))
        })
    }

    /// Waits for `slot` to be free, spawns the emulator and waits until pcscd
    /// reports its card (or the emulator exits).
    fn plug(
        &mut self,
        slot: u8,
        spawn: impl FnOnce(u8) -> Result<(std::process::Child, PathBuf), HarnessError>,
    ) -> Result<SimProcess, HarnessError> {
        let reader = reader_for_slot(slot)?;
        // The previous card must be gone and pcscd settled (see `wait_slot_free`).
        self.wait_slot_free(slot)?;
        let (child, log) = spawn(slot)?;
        let pid = child.id();
        let child: SharedChild = Arc::new(Mutex::new(child));
        self.sims.push(Arc::clone(&child));
        let sim = SimProcess {
            slot,
            pid,
            child,
            log,
        };
        self.wait_card_or_exit(&sim, reader)?;
        Ok(sim)
    }

    /// Waits until `slot` can take a new card: pcscd reports it empty, vpcd has let
    /// go of the previous emulator's socket, and both stayed so for one pcscd poll.
    ///
    /// Why the settle time: right after a removal pcscd can already report the reader
    /// empty while its event thread has not polled the slot yet; an emulator that
    /// connects in that window is never reported (measured: not within 10 s). Waiting
    /// one poll (400 ms) after the slot looks free made 100% of re-insertions work.
    /// A slot that stays occupied for [`SLOT_FREE_TIMEOUT`] holds someone else's
    /// emulator: `SlotBusy`.
    pub fn wait_slot_free(&self, slot: u8) -> Result<(), HarnessError> {
        let reader = reader_for_slot(slot)?;
        let port = VPCD_BASE_PORT + u16::from(slot);
        let deadline = Instant::now() + SLOT_FREE_TIMEOUT;
        let mut free_since: Option<Instant> = None;
        loop {
            let empty = wait_presence(self.ctx()?, reader, Presence::Absent, Duration::ZERO)?;
            if empty && !pcscd::vpcd_has_client(port) {
                let since = *free_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= PCSCD_SETTLE {
                    return Ok(());
                }
            } else {
                free_since = None;
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::SlotBusy { slot });
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Polls presence in short slices so a sim that dies at start fails fast.
    fn wait_card_or_exit(&self, sim: &SimProcess, reader: &str) -> Result<(), HarnessError> {
        let deadline = Instant::now() + CARD_TIMEOUT;
        loop {
            if wait_presence(
                self.ctx()?,
                reader,
                Presence::Present,
                Duration::from_millis(200),
            )? {
                return Ok(());
            }
            if let Ok(status) = sim.wait_exit(Duration::ZERO) {
                return Err(HarnessError::SimExited {
                    slot: sim.slot,
                    status: status.to_string(),
                    log: sim.log.clone(),
                });
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::CardState {
                    reader: reader.to_string(),
                    want: Presence::Present,
                    waited: CARD_TIMEOUT,
                });
            }
        }
    }

    /// Waits until pcscd reports a card in `slot` (for emulators not started here).
    pub fn wait_card_present(&self, slot: u8) -> Result<(), HarnessError> {
        wait_slot(slot, Presence::Present)
    }

    /// Waits until pcscd reports `slot` empty.
    pub fn wait_card_absent(&self, slot: u8) -> Result<(), HarnessError> {
        wait_slot(slot, Presence::Absent)
    }

    /// A shared connection to the card in `slot`; retries while another client holds
    /// it exclusively.
    pub fn connect(&self, slot: u8) -> Result<PcscChannel, HarnessError> {
        let reader =
            CString::new(reader_for_slot(slot)?).map_err(|_| HarnessError::BadSlot(slot))?;
        Ok(PcscChannel::connect(self.ctx()?, &reader)?)
    }

    /// Another PC/SC client resets the card in `slot` (connects and disconnects with
    /// `SCARD_RESET_CARD`): every other connection to it gets `SCARD_W_RESET_CARD`
    /// on its next call until it reconnects.
    pub fn reset_card(&self, slot: u8) -> Result<(), HarnessError> {
        let reader =
            CString::new(reader_for_slot(slot)?).map_err(|_| HarnessError::BadSlot(slot))?;
        let card = self
            .ctx()?
            .connect(&reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
            .map_err(|e| HarnessError::Transport(card_pcsc::map_pcsc_error(e)))?;
        card.disconnect(pcsc::Disposition::ResetCard)
            .map_err(|(_, e)| HarnessError::Transport(card_pcsc::map_pcsc_error(e)))
    }

    /// Stops the pcscd this harness started and starts a fresh one. Running sims lose
    /// their vpcd connection and exit; channels made before must be reconnected
    /// through a new context (an old one answers `NoService` forever).
    pub fn restart_pcscd(&mut self) -> Result<(), HarnessError> {
        let old = self.pcscd.take().ok_or(HarnessError::NotOwner)?;
        self.ctx = None;
        old.stop()?;
        let mut fresh = OwnedPcscd::spawn()?;
        let ctx = pcscd::wait_ready(Some(&mut fresh));
        // Keep ownership even when readiness failed, so Drop still stops it.
        self.pcscd = Some(fresh);
        self.ctx = Some(ctx?);
        Ok(())
    }

    fn ctx(&self) -> Result<&Context, HarnessError> {
        self.ctx
            .as_ref()
            .ok_or(HarnessError::Transport(TransportError::ReaderUnavailable(
                "pcscd context lost in an earlier restart".into(),
            )))
    }

    /// A channel to the physical reader named by `ECARD_HW_READER` (exact name, or a
    /// substring matching one reader). `Ok(None)` when the variable is unset: the
    /// caller prints "skipped: ECARD_HW_READER not set" and returns. pcscd must run.
    pub fn physical() -> Result<Option<PhysicalCard>, HarnessError> {
        let Ok(wanted) = std::env::var(ENV_HW_READER) else {
            return Ok(None);
        };
        let lock = HarnessLock::acquire()?;
        let master_key = match std::env::var(ENV_HW_MASTER_KEY) {
            Ok(h) => {
                Some(hex::decode(h.trim()).map_err(|e| HarnessError::BadMasterKey(e.to_string()))?)
            }
            Err(_) => None,
        };
        let ctx = establish()?;
        let available = list_readers(&ctx)?;
        let matches: Vec<&String> = match available.iter().find(|r| **r == wanted) {
            Some(exact) => vec![exact],
            None => available.iter().filter(|r| r.contains(&wanted)).collect(),
        };
        let [reader] = matches.as_slice() else {
            return Err(HarnessError::ReaderNotFound { wanted, available });
        };
        let reader = (*reader).clone();
        if !wait_presence(&ctx, &reader, Presence::Present, CARD_TIMEOUT)? {
            return Err(HarnessError::CardState {
                reader,
                want: Presence::Present,
                waited: CARD_TIMEOUT,
            });
        }
        let name = CString::new(reader.clone()).map_err(|_| HarnessError::ReaderNotFound {
            wanted: reader.clone(),
            available: available.clone(),
        })?;
        let channel = PcscChannel::connect(&ctx, &name)?;
        Ok(Some(PhysicalCard {
            channel,
            reader,
            master_key,
            _lock: lock,
        }))
    }
}

impl Drop for PcscHarness {
    fn drop(&mut self) {
        for sim in self.sims.drain(..) {
            stop_shared(&sim);
        }
        self.ctx = None;
        if let Some(pcscd) = self.pcscd.take() {
            // Drop cannot report; a pcscd that ignores SIGTERM gets SIGKILL.
            let _ = pcscd.stop();
        }
    }
}

/// A blank (or personalized) card in a physical reader.
pub struct PhysicalCard {
    pub channel: PcscChannel,
    pub reader: String,
    /// From `ECARD_HW_MASTER_KEY`; needed by tests that write.
    pub master_key: Option<Vec<u8>>,
    _lock: HarnessLock,
}

//! The `ecard-sim` card emulator as a child process plugged into a vpcd slot.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use nix::sys::signal::Signal;
use thiserror::Error;

use super::process::{log_file, profile_dir, signal, terminate, wait_timeout, TERM_GRACE};
use super::{reader_for_slot, HarnessError, CARD_TIMEOUT};
use crate::pcsc_channel::{establish, wait_presence, Presence};

/// What card to put in a slot: the options of the `ecard-sim` command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimSpec {
    /// Persistent card state (created blank when missing).
    pub state: PathBuf,
    pub serial: Option<[u8; 8]>,
    /// Bureau master key the card's management key is diversified from.
    pub master_key: Option<Vec<u8>>,
    /// Announce no extended-length support.
    pub short_only: bool,
    /// Announce T=0 in the ATR.
    pub t0: bool,
    /// Vanish in the middle of the k-th APDU (exit code 3).
    pub tear_at: Option<u32>,
    /// Stay in the reader but stop answering from the k-th APDU on.
    pub silent_from: Option<(u32, card_sim::Silence)>,
    pub fake_authentication: bool,
    /// The bureau's algorithm suite the card was pre-personalised for (#17).
    pub suite: card_profile::suite::Suite,
    /// A new state file becomes a factory-blank PIV card (`ecard-sim --piv`).
    pub piv: bool,
    /// The 9B key of a new PIV card; `None`: the factory 3DES key.
    pub piv_admin_key: Option<card_sim::AdminKey>,
}

impl SimSpec {
    pub fn new(state: impl Into<PathBuf>) -> Self {
        Self {
            state: state.into(),
            serial: None,
            master_key: None,
            short_only: false,
            t0: false,
            tear_at: None,
            silent_from: None,
            fake_authentication: false,
            suite: card_profile::suite::Suite::P256,
            piv: false,
            piv_admin_key: None,
        }
    }

    /// A factory-blank PIV card (PIN 123456, PUK 12345678, 9B = the factory 3DES
    /// key) with its state file at `state`; F8 answers the last four serial bytes.
    pub fn piv(state: impl Into<PathBuf>, serial: [u8; 8]) -> Self {
        let mut spec = Self::new(state).serial(serial);
        spec.piv = true;
        spec
    }

    /// The 9B key of a new PIV card.
    pub fn piv_admin_key(mut self, key: card_sim::AdminKey) -> Self {
        self.piv = true;
        self.piv_admin_key = Some(key);
        self
    }

    pub fn suite(mut self, suite: card_profile::suite::Suite) -> Self {
        self.suite = suite;
        self
    }

    pub fn serial(mut self, serial: [u8; 8]) -> Self {
        self.serial = Some(serial);
        self
    }

    pub fn master_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.master_key = Some(key.into());
        self
    }

    pub fn short_only(mut self) -> Self {
        self.short_only = true;
        self
    }

    pub fn t0(mut self) -> Self {
        self.t0 = true;
        self
    }

    pub fn tear_at(mut self, k: u32) -> Self {
        self.tear_at = Some(k);
        self
    }

    /// A fake card: every EXTERNAL AUTHENTICATE succeeds, no management key held.
    pub fn fake_authentication(mut self) -> Self {
        self.fake_authentication = true;
        self
    }

    /// From APDU `k` (0-based) on, commands are read and never answered.
    pub fn mute_after(mut self, k: u32) -> Self {
        self.silent_from = Some((k, card_sim::Silence::Mute));
        self
    }

    /// From APDU `k` (0-based) on, commands are answered with an empty frame.
    pub fn empty_after(mut self, k: u32) -> Self {
        self.silent_from = Some((k, card_sim::Silence::Empty));
        self
    }

    /// The command-line arguments after the binary name.
    pub fn args(&self, vpcd: &str) -> Vec<String> {
        let mut args = vec![
            "--vpcd".to_string(),
            vpcd.to_string(),
            "--state".to_string(),
            self.state.display().to_string(),
        ];
        if let Some(serial) = self.serial {
            args.extend(["--serial".to_string(), hex::encode_upper(serial)]);
        }
        if let Some(key) = &self.master_key {
            args.extend(["--master-key".to_string(), hex::encode_upper(key)]);
        }
        if self.suite != card_profile::suite::Suite::P256 {
            args.extend(["--suite".to_string(), self.suite.code().to_string()]);
        }
        if self.piv {
            args.push("--piv".to_string());
        }
        if let Some(key) = &self.piv_admin_key {
            args.extend([
                "--piv-admin-alg".to_string(),
                key.alg().name().to_string(),
                "--piv-admin-key".to_string(),
                hex::encode_upper(key.expose()),
            ]);
        }
        if self.short_only {
            args.push("--short-only".to_string());
        }
        if self.t0 {
            args.push("--t0".to_string());
        }
        if self.fake_authentication {
            args.push("--fake-authentication".to_string());
        }
        if let Some(k) = self.tear_at {
            args.extend(["--tear-at".to_string(), k.to_string()]);
        }
        match self.silent_from {
            Some((k, card_sim::Silence::Mute)) => {
                args.extend(["--mute-after".to_string(), k.to_string()]);
            }
            Some((k, card_sim::Silence::Empty)) => {
                args.extend(["--empty-after".to_string(), k.to_string()]);
            }
            None => {}
        }
        args
    }
}

/// Shared between the `SimProcess` a test holds and the harness, so the harness can
/// still stop a sim the test leaked or forgot (sims go before pcscd).
pub(crate) type SharedChild = Arc<Mutex<Child>>;

pub(crate) fn stop_shared(child: &SharedChild) {
    let mut child = child.lock().unwrap_or_else(|e| e.into_inner());
    let _ = terminate(&mut child, TERM_GRACE);
}

/// A running `ecard-sim` in one vpcd slot. Dropping it stops the process.
pub struct SimProcess {
    pub(crate) slot: u8,
    pub(crate) pid: u32,
    pub(crate) child: SharedChild,
    pub(crate) log: PathBuf,
}

impl std::fmt::Debug for SimProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimProcess")
            .field("slot", &self.slot)
            .field("pid", &self.pid)
            .field("log", &self.log)
            .finish()
    }
}

impl SimProcess {
    pub fn slot(&self) -> u8 {
        self.slot
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// stdout + stderr of the sim.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Waits for the sim to exit on its own (after `--tear-at`, exit code 3).
    pub fn wait_exit(&self, timeout: Duration) -> Result<ExitStatus, HarnessError> {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        wait_timeout(&mut child, timeout)
            .map_err(HarnessError::Spawn)?
            .ok_or(HarnessError::SimStillRunning {
                slot: self.slot,
                waited: timeout,
            })
    }

    /// Pulls the card out: SIGTERM to the sim, then waits until pcscd reports the
    /// reader empty, so the next step of a test sees the removal deterministically.
    pub fn remove(&self) -> Result<ExitStatus, HarnessError> {
        let status = {
            let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
            if child.try_wait().map_err(HarnessError::Spawn)?.is_none() {
                signal(&child, Signal::SIGTERM).map_err(HarnessError::Spawn)?;
            }
            terminate(&mut child, TERM_GRACE).map_err(HarnessError::Spawn)?
        };
        wait_slot(self.slot, Presence::Absent)?;
        Ok(status)
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        stop_shared(&self.child);
    }
}

/// Waits (up to [`CARD_TIMEOUT`]) until pcscd sees the slot's reader in state `want`.
pub(crate) fn wait_slot(slot: u8, want: Presence) -> Result<(), HarnessError> {
    let ctx = establish()?;
    let reader = reader_for_slot(slot)?;
    if wait_presence(&ctx, reader, want, CARD_TIMEOUT)? {
        Ok(())
    } else {
        Err(HarnessError::CardState {
            reader: reader.to_string(),
            want,
            waited: CARD_TIMEOUT,
        })
    }
}

pub(crate) fn spawn_sim(
    bin: &Path,
    slot: u8,
    port: u16,
    spec: &SimSpec,
) -> Result<(Child, PathBuf), HarnessError> {
    let (log, out, err) =
        log_file(&format!("ecard-sim-slot{slot}")).map_err(HarnessError::Spawn)?;
    let child = Command::new(bin)
        .args(spec.args(&format!("127.0.0.1:{port}")))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(HarnessError::Spawn)?;
    Ok((child, log))
}

/// Finds `ecard-sim`: `ECARD_SIM_BIN`, else next to the test binaries in
/// `target/<profile>/`, else builds it once per test process.
///
/// A binary that exists is used as is: `scripts/test.sh` builds all binaries first,
/// so a stale sim only happens when running `cargo test` alone after editing card-sim.
pub fn sim_binary() -> Result<PathBuf, HarnessError> {
    if let Some(path) = std::env::var_os("ECARD_SIM_BIN") {
        return Ok(PathBuf::from(path));
    }
    let profile = profile_dir().ok_or(SimBuildError::Failed(
        "cannot locate target/<profile> from the test executable".into(),
    ))?;
    let candidate = profile.join("ecard-sim");
    if candidate.is_file() {
        return Ok(candidate);
    }
    static BUILT: OnceLock<Result<PathBuf, SimBuildError>> = OnceLock::new();
    Ok(BUILT.get_or_init(|| build_sim(&profile)).clone()?)
}

/// Why `ecard-sim` could not be built (cloneable: the outcome is cached per process).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SimBuildError {
    /// card-sim has no `ecard-sim` binary target yet.
    #[error("card-sim declares no `ecard-sim` binary")]
    NotDeclared,
    #[error("building ecard-sim failed: {0}")]
    Failed(String),
}

fn build_sim(profile: &Path) -> Result<PathBuf, SimBuildError> {
    let target_dir = profile
        .parent()
        .ok_or(SimBuildError::Failed("target dir has no parent".into()))?;
    let profile_name = profile
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .env("CARGO_TARGET_DIR", target_dir)
        .args(["build", "-p", "card-sim", "--bin", "ecard-sim"]);
    // `debug` is cargo's dev profile; any other directory name is a profile name.
    if profile_name != "debug" {
        cmd.args(["--profile", profile_name]);
    }
    let out = cmd
        .output()
        .map_err(|e| SimBuildError::Failed(e.to_string()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("no bin target named") {
        return Err(SimBuildError::NotDeclared);
    }
    if !out.status.success() {
        return Err(SimBuildError::Failed(stderr.into_owned()));
    }
    let built = profile.join("ecard-sim");
    if built.is_file() {
        Ok(built)
    } else {
        Err(SimBuildError::Failed(format!(
            "cargo succeeded but {} is missing",
            built.display()
        )))
    }
}

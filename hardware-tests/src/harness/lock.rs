//! One harness at a time per machine: there is one pcscd and vpcd has two slots.
//!
//! The static mutex serializes test threads inside one binary; the flock serializes
//! separate test binaries (and separate `cargo test` runs) on the same machine.

use std::fs::{File, OpenOptions};
use std::sync::{Mutex, MutexGuard};

use nix::fcntl::{Flock, FlockArg};

use super::HarnessError;

pub const LOCK_PATH: &str = "/tmp/ecard-hwtests.lock";

static IN_PROCESS: Mutex<()> = Mutex::new(());

/// Held for the life of a harness; released on drop (also when a test panics).
pub struct HarnessLock {
    // Dropped first: another binary may proceed as soon as this one lets go.
    _flock: Flock<File>,
    _guard: MutexGuard<'static, ()>,
}

impl HarnessLock {
    /// Blocks until this thread owns the machine's PC/SC test resources.
    pub fn acquire() -> Result<Self, HarnessError> {
        // A test that panicked while holding the lock poisons it; its harness has
        // already cleaned up in Drop, so the lock is still good to use.
        let guard = IN_PROCESS.lock().unwrap_or_else(|e| e.into_inner());
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK_PATH)
            .map_err(|e| HarnessError::Lock(e.to_string()))?;
        let flock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| HarnessError::Lock(errno.to_string()))?;
        Ok(Self {
            _flock: flock,
            _guard: guard,
        })
    }
}

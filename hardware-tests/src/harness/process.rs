//! Child processes of the harness: log files and stopping by pid.
//!
//! Only `Child` handles we spawned ourselves are ever signalled. Holding the unreaped
//! `Child` guarantees its pid cannot have been reused by an unrelated process.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long a child gets to exit after SIGTERM before SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_secs(5);

const POLL: Duration = Duration::from_millis(10);

/// `target/<profile>/hardware-tests/`: next to the test binaries, so logs survive the
/// run and are found where CI collects artifacts. Falls back to the temp dir.
pub fn artifacts_dir() -> PathBuf {
    let dir = profile_dir()
        .map(|p| p.join("hardware-tests"))
        .unwrap_or_else(|| std::env::temp_dir().join("ecard-hardware-tests"));
    // A missing directory surfaces as an error when the log file is created.
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// `target/<profile>` of the running test executable (`target/<profile>/deps/x-hash`).
pub fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.to_path_buf())
}

/// A fresh log file `<stem>-<pid>-<n>.log` for one child's stdout and stderr.
pub fn log_file(stem: &str) -> io::Result<(PathBuf, File, File)> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = artifacts_dir().join(format!("{stem}-{}-{n}.log", std::process::id()));
    let out = File::create(&path)?;
    let err = out.try_clone()?;
    Ok((path, out, err))
}

pub fn signal(child: &Child, sig: Signal) -> io::Result<()> {
    let pid = i32::try_from(child.id()).map_err(|_| io::Error::other("pid out of range"))?;
    kill(Pid::from_raw(pid), sig).map_err(io::Error::from)
}

/// Polls until the child exits or `timeout` passes (`Ok(None)`).
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(POLL);
    }
}

/// SIGTERM, wait up to `grace`, then SIGKILL; always reaps the child.
pub fn terminate(child: &mut Child, grace: Duration) -> io::Result<ExitStatus> {
    if let Some(status) = child.try_wait()? {
        return Ok(status);
    }
    signal(child, Signal::SIGTERM)?;
    if let Some(status) = wait_timeout(child, grace)? {
        return Ok(status);
    }
    child.kill()?;
    child.wait()
}

/// Whether `/proc/<pid>` exists (a live or unreaped process).
pub fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

//! Starting, detecting and stopping pcscd, and waiting until vpcd is usable.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use pcsc::Context;

use super::process::{log_file, terminate, TERM_GRACE};
use super::{HarnessError, VPCD_BASE_PORT, VPCD_READERS};
use crate::pcsc_channel::{establish, list_readers};

/// pcscd's client socket; its presence alone may be stale after a crash.
pub const PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";

/// How long pcscd plus vpcd get to come up.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A pcscd that this harness started and therefore must stop.
pub struct OwnedPcscd {
    child: Child,
    log: PathBuf,
}

impl OwnedPcscd {
    /// `pcscd --foreground` (never `--auto-exit`: it would take the virtual readers
    /// away 60 s after the last client). `ECARD_PCSCD_DEBUG=1` adds `--debug --apdu`.
    pub fn spawn() -> Result<Self, HarnessError> {
        let (log, out, err) = log_file("pcscd").map_err(HarnessError::Spawn)?;
        let bin = std::env::var("ECARD_PCSCD_BIN").unwrap_or_else(|_| "pcscd".into());
        let mut cmd = Command::new(bin);
        cmd.arg("--foreground");
        if std::env::var_os("ECARD_PCSCD_DEBUG").is_some() {
            cmd.args(["--debug", "--apdu"]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(HarnessError::Spawn)?;
        Ok(Self { child, log })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Fails early with the log's path when pcscd died during start-up (for example
    /// because another pcscd owns /run/pcscd).
    fn check_alive(&mut self) -> Result<(), HarnessError> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(HarnessError::PcscdExited {
                status: status.to_string(),
                log: self.log.clone(),
            }),
            Err(e) => Err(HarnessError::Spawn(e)),
        }
    }

    pub fn stop(mut self) -> Result<(), HarnessError> {
        terminate(&mut self.child, TERM_GRACE)
            .map(|_| ())
            .map_err(HarnessError::Spawn)
    }
}

impl Drop for OwnedPcscd {
    fn drop(&mut self) {
        // Best effort on the panic path; `stop` reports errors on the normal one.
        let _ = terminate(&mut self.child, TERM_GRACE);
    }
}

/// A pcscd that already answers: reuse it and never stop it.
pub fn running_service() -> Option<Context> {
    if !Path::new(PCSCD_SOCKET).exists() {
        return None;
    }
    establish().ok()
}

/// Whether vpcd listens on `port` (IPv4, any address), from /proc/net/tcp.
/// Listening state is `0A`; local address `00000000:<PORT>`.
pub fn vpcd_listening(port: u16) -> bool {
    let needle = format!(":{port:04X} 00000000:0000 0A");
    std::fs::read_to_string("/proc/net/tcp").is_ok_and(|t| t.contains(&needle))
}

/// Who listens on `port`, for the error that says why a vpcd reader is missing: vpcd
/// cannot bind a port another process (typically a second pcscd, such as one the
/// package's init script started at install time) already listens on, and pcscd then
/// lists no reader for it.
pub fn describe_listeners(port: u16) -> String {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return "nobody".into();
    }
    let mut holders = Vec::new();
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for entry in procs.flatten() {
            let pid = entry.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
                continue;
            };
            let holds = fds.flatten().any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|target| {
                    inodes
                        .iter()
                        .any(|inode| target.to_string_lossy() == format!("socket:[{inode}]"))
                })
            });
            if holds {
                let cmd = std::fs::read(entry.path().join("cmdline"))
                    .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
                    .unwrap_or_default();
                holders.push(format!("pid {pid} ({})", cmd.trim()));
            }
        }
    }
    if holders.is_empty() {
        format!("socket inode(s) {inodes:?} of an unknown process")
    } else {
        holders.join(", ")
    }
}

/// Inodes of the sockets in LISTEN state on `port` (IPv4).
fn listening_inodes(port: u16) -> Vec<String> {
    let needle = format!(":{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .map(|t| {
            t.lines()
                .skip(1)
                .filter_map(|line| {
                    let cols: Vec<&str> = line.split_whitespace().collect();
                    let listening = cols.get(1).is_some_and(|l| l.ends_with(&needle))
                        && cols.get(3) == Some(&"0A");
                    listening
                        .then(|| cols.get(9).map(|s| s.to_string()))
                        .flatten()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether vpcd still holds a card connection on `port` (any state but LISTEN and
/// TIME_WAIT). pcscd can report the reader empty while vpcd still holds the old
/// emulator's half-closed socket; a new emulator that connects then is never seen.
pub fn vpcd_has_client(port: u16) -> bool {
    let local = format!(":{port:04X} ");
    std::fs::read_to_string("/proc/net/tcp").is_ok_and(|t| {
        t.lines().skip(1).any(|line| {
            let mut cols = line.split_whitespace().skip(1);
            let (Some(local_addr), Some(_remote), Some(state)) =
                (cols.next(), cols.next(), cols.next())
            else {
                return false;
            };
            format!("{local_addr} ").ends_with(&local) && state != "0A" && state != "06"
        })
    })
}

/// Waits until pcscd answers, lists both vpcd readers and vpcd listens on both ports.
/// `owned` is polled so a pcscd that died at start fails fast instead of timing out.
pub fn wait_ready(mut owned: Option<&mut OwnedPcscd>) -> Result<Context, HarnessError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(p) = owned.as_deref_mut() {
            p.check_alive()?;
        }
        let last = match readiness() {
            Ok(ctx) => return Ok(ctx),
            Err(why) => why,
        };
        if Instant::now() >= deadline {
            // CI keeps only the test's output: the end of pcscd's log goes into it.
            let detail = match owned.as_deref() {
                Some(p) => format!("{last}; pcscd said: {}", log_tail(p.log(), 12)),
                None => last,
            };
            return Err(HarnessError::NotReady {
                waited: READY_TIMEOUT,
                detail,
                log: owned.map(|p| p.log().to_path_buf()),
            });
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The last `lines` lines of a log, joined with " | ".
fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path)
        .map(|raw| String::from_utf8_lossy(&raw).into_owned())
        .unwrap_or_else(|e| format!("(cannot read: {e})"));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join(" | ")
}

fn readiness() -> Result<Context, String> {
    let ctx = establish().map_err(|e| format!("pcscd: {e}"))?;
    let readers = list_readers(&ctx).map_err(|e| format!("list_readers: {e}"))?;
    for (slot, want) in VPCD_READERS.iter().enumerate() {
        if !readers.iter().any(|r| r == want) {
            let port = VPCD_BASE_PORT + slot as u16;
            return Err(format!(
                "reader {want:?} not listed (have {readers:?}); is vsmartcard-vpcd installed? \
                 port {port} is listened on by {} (a connection using it as its local port \
                 blocks vpcd too: scripts/install-test-deps.sh reserves 35963-35964)",
                describe_listeners(port)
            ));
        }
    }
    for (slot, _) in VPCD_READERS.iter().enumerate() {
        let port = VPCD_BASE_PORT + slot as u16;
        if !vpcd_listening(port) {
            return Err(format!("vpcd not listening on port {port}"));
        }
    }
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_is_named_by_its_pid() {
        let listener = std::net::TcpListener::bind("0.0.0.0:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let said = describe_listeners(port);
        assert!(
            said.contains(&format!("pid {} ", std::process::id())),
            "{said}"
        );
        drop(listener);
        assert_eq!(describe_listeners(port), "nobody");
    }
}

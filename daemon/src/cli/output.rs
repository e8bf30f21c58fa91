//! How the CLI speaks: one line at a time to stdout (quietly stopping when the
//! reader of a pipe goes away), `--json` as the API's serialisation, and a
//! failure as a Chinese message, a stable code and an exit status.

use serde::Serialize;

/// `println!` for the CLI's output. A closed stdout (`ecardd verify | head -1`)
/// is met like a Unix tool meets it: the rest of the output is dropped quietly and
/// the command ends with its own exit status (std's `println!` would panic).
macro_rules! say {
    ($($arg:tt)*) => { $crate::cli::output::write_out(format_args!($($arg)*)) };
}
pub(crate) use say;

static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("ecardd: stdout: {e}");
        }
    }
}

/// Prints `value` as JSON with `--json`, else the human text made from it.
pub fn print<T: Serialize>(json_out: bool, value: &T, human: impl FnOnce(&T) -> String) {
    if json_out {
        match serde_json::to_string(value) {
            Ok(text) => say!("{text}"),
            Err(e) => eprintln!("ecardd: json: {e}"),
        }
    } else {
        say!("{}", human(value));
    }
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A user-facing failure: the Chinese message, a stable code, an exit status.
pub struct Failure {
    pub code: String,
    pub message: String,
    pub exit: u8,
}

impl Failure {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            exit: 1,
        }
    }

    /// An exit status with nothing more to say on stderr (the output said it).
    pub fn quiet(code: &str, exit: u8) -> Self {
        Self {
            code: code.into(),
            message: String::new(),
            exit,
        }
    }
}

impl From<ecardd::ops::OpError> for Failure {
    fn from(e: ecardd::ops::OpError) -> Self {
        Self {
            code: e.code().into(),
            message: e.message_zh(),
            exit: 2,
        }
    }
}

impl From<BoxError> for Failure {
    fn from(e: BoxError) -> Self {
        Failure::new("error", e.to_string())
    }
}

impl From<ecardd::store::StoreError> for Failure {
    fn from(e: ecardd::store::StoreError) -> Self {
        ecardd::ops::OpError::Store(e).into()
    }
}

impl From<ecardd::keyring::KeyringError> for Failure {
    fn from(e: ecardd::keyring::KeyringError) -> Self {
        let mut failure = Failure::new(e.code(), e.message_zh());
        // Keys that exist are a refusal, not a bad argument (docs/OPERATIONS.md,
        // exit statuses): a setup script re-run on a set-up station can tell.
        if matches!(e, ecardd::keyring::KeyringError::AlreadyInitialised) {
            failure.exit = 2;
        }
        failure
    }
}

impl From<ecardd::sync::SyncError> for Failure {
    fn from(e: ecardd::sync::SyncError) -> Self {
        Failure {
            code: e.code().into(),
            message: e.message_zh(),
            exit: if e.is_retryable() { 5 } else { 2 },
        }
    }
}

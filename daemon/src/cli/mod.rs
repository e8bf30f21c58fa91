//! ecardd's command line, one module per command family. Every card command calls
//! the same operation the HTTP API calls (ecardd::ops) and prints the API's typed
//! answer; `--json` prints exactly what the API would send.

mod admin;
mod card;
mod docs;
mod doctor;
mod import;
mod keys;
pub mod output;
mod serve;
mod station;
mod sync;

use clap::{Parser, Subcommand};
use ecard_clock::Clock;
use output::Failure;

#[derive(Parser)]
#[command(name = "ecardd", about = "ecard station daemon")]
pub struct Cli {
    /// How log lines are written to standard error: `auto` is `journald` under
    /// systemd and `text` on a terminal.
    #[arg(
        long,
        global = true,
        env = "ECARDD_LOG_FORMAT",
        value_enum,
        default_value = "auto"
    )]
    pub log_format: ecard_logging::LogFormat,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the API and the web UI with the PC/SC readers.
    Serve(serve::ServeArgs),
    /// Run the station with no hardware: simulated readers, demo keys, sample officers.
    Demo(serve::DemoArgs),
    /// Print the vocabulary: every code a program reads beside the word a person
    /// reads (the table GET /api/v1/labels serves).
    Labels {
        #[arg(long)]
        json: bool,
    },
    /// List the PC/SC readers pcscd offers and whether a card is in each.
    Readers {
        #[arg(long)]
        json: bool,
    },
    /// Verify the card in a reader (offline: local trust and revocation lists).
    Verify(card::VerifyArgs),
    /// Write an approved certificate onto the blank card in a reader.
    Issue(card::IssueArgs),
    /// Record the annual review (年审), and write it to the card when --reader is given.
    Review(card::ReviewArgs),
    /// Suspend, lift, cancel (注销) or re-issue (补证) a certificate; written to the card with --reader.
    Revoke(card::RevokeArgs),
    /// Import a roster (official xlsx, optional zip of photos) as applications.
    Import(import::ImportArgs),
    /// Sync with the registry: one round, the status, or enrollment.
    Sync(sync::SyncArgs),
    /// Keys: province root (demo/tests), station keys, status.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCmd,
    },
    /// Operator accounts.
    Operator {
        #[command(subcommand)]
        command: admin::OperatorCmd,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: admin::AuditCmd,
    },
    /// Check this station's setup (pcscd, readers, keys, database, clock, registry,
    /// revocation list): one line per check, ok / warning / fault with what to do.
    /// Exit status 0 all ok, 7 a warning at worst, 8 a fault.
    Doctor(doctor::DoctorArgs),
    /// Write the manual pages (section 1, one per command) into a directory.
    #[command(hide = true)]
    Man {
        #[arg(long)]
        out_dir: std::path::PathBuf,
    },
    /// Print the shell completion script for bash, zsh or fish.
    Completions { shell: clap_complete::Shell },
}

impl Cli {
    pub fn run(self) -> Result<(), Failure> {
        match self.command {
            Cmd::Serve(a) => serve::serve(a),
            Cmd::Demo(a) => serve::demo(a),
            Cmd::Labels { json } => serve::labels(json),
            Cmd::Readers { json } => serve::readers(json),
            Cmd::Verify(a) => card::verify(a),
            Cmd::Issue(a) => card::issue(a),
            Cmd::Review(a) => card::review(a),
            Cmd::Revoke(a) => card::revoke(a),
            Cmd::Import(a) => import::import(a),
            Cmd::Sync(a) => sync::sync(a),
            Cmd::Keys { command } => keys::keys(command),
            Cmd::Operator { command } => admin::operator(command),
            Cmd::Audit { command } => admin::audit(command),
            Cmd::Doctor(a) => doctor::doctor(a),
            Cmd::Man { out_dir } => docs::man(&out_dir),
            Cmd::Completions { shell } => docs::completions(shell),
        }
    }
}

/// The process's one clock, set once in `main` (the only place ecardd reads the
/// system clock; `ECARD_TODAY` moves it for tests) and handed to everything from there.
static CLOCK: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();

pub fn set_clock(c: Clock) {
    let _ = CLOCK.set(c);
}

fn clock() -> Clock {
    CLOCK.get().copied().unwrap_or_default()
}

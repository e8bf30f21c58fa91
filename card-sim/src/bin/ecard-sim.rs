//! `ecard-sim`: the software card behind vpcd, so pcscd sees a reader with a card:
//! a native ecard, or with `--piv` a PIV card (SP 800-73-4).
//!
//! Exit status: 0 when vpcd closes the connection or on SIGTERM/SIGINT; 3 when
//! `--tear-at` pulled the card out; 1 on any error (2 for bad arguments). Only one
//! line goes to stderr on connect; stdout stays quiet; key material is never printed.

use card_profile::keys::{MasterKey, Serial};
use card_sim::piv::{AdminAlg, AdminKey, PivSetup, DEFAULT_ADMIN_KEY};
use card_sim::vpcd::{self, Ending, DEFAULT_VPCD};
use card_sim::{Family, Silence, SilencePlan, SimCard, SimOptions, TearPlan};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Exit status when fault injection pulled the card out.
const EXIT_TORN: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "ecard-sim",
    about = "Software ecard behind vpcd (virtual PC/SC reader)"
)]
struct Args {
    /// vpcd address (slot 0 listens on 35963, slot 1 on 35964).
    #[arg(long, default_value = DEFAULT_VPCD)]
    vpcd: String,
    /// Card state file: loaded when it exists, else a blank card is made and saved there.
    #[arg(long)]
    state: PathBuf,
    /// Card serial, 16 hex digits (for a new card).
    #[arg(long)]
    serial: Option<String>,
    /// Bureau master key, 32 or 64 hex digits (for a new card).
    #[arg(long)]
    master_key: Option<String>,
    /// The bureau's algorithm suite for a new card: p256 (AES management key) or
    /// sm (SM4 management key, SM2 chip key; docs/SUITES.md).
    #[arg(long, default_value = "p256")]
    suite: card_profile::suite::Suite,
    /// Short APDUs only: extended length is refused with 6700.
    #[arg(long)]
    short_only: bool,
    /// T=0 behaviour: case-4 data through GET RESPONSE (61xx), wrong Le answered 6Cxx.
    #[arg(long)]
    t0: bool,
    /// Refuse command chaining (6884).
    #[arg(long)]
    no_chaining: bool,
    /// Pull the card out during APDU K (0-based, counted since start).
    #[arg(long, value_name = "K")]
    tear_at: Option<u64>,
    /// Stop answering from APDU K on (0-based, counted since start): commands are
    /// read and never answered, as by a hung chip; the card stays in the reader.
    #[arg(long, value_name = "K", conflicts_with = "empty_after")]
    mute_after: Option<u64>,
    /// Answer APDU K and every later one with an empty frame (no data, no status word).
    #[arg(long, value_name = "K")]
    empty_after: Option<u64>,
    /// Play a fake card: answer every EXTERNAL AUTHENTICATE with success without
    /// holding the management key (what a station must refuse to write to).
    #[arg(long)]
    fake_authentication: bool,
    /// A new state file becomes a factory-blank PIV card (SP 800-73-4) instead of a
    /// native ecard: PIN 123456, PUK 12345678, no objects, no keys. `--serial` is
    /// optional (random when absent); `--master-key` does not apply.
    #[arg(long)]
    piv: bool,
    /// Algorithm of a new PIV card's 9B management key.
    #[arg(
        long,
        default_value = "3des",
        requires = "piv",
        value_name = "3des|aes128|aes192|aes256"
    )]
    piv_admin_alg: AdminAlg,
    /// A new PIV card's 9B key in hex. Default: the factory key 0102…08 ×3 (for
    /// 3des and aes192, as YubiKeys ship); aes128 and aes256 need one.
    #[arg(long, requires = "piv", value_name = "HEX")]
    piv_admin_key: Option<String>,
    /// Keep retrying the connection to vpcd for this many seconds.
    #[arg(long, default_value_t = 5)]
    wait: u64,
}

fn parse_serial(text: &str) -> Result<Serial, String> {
    let bytes = hex::decode(text.trim()).map_err(|_| "--serial is not hex".to_owned())?;
    bytes
        .try_into()
        .map_err(|_| "--serial must be 8 bytes (16 hex digits)".to_owned())
}

fn open_card(args: &Args, options: SimOptions) -> Result<SimCard, String> {
    if args.state.exists() {
        let card = SimCard::load(&args.state, options).map_err(|e| e.to_string())?;
        if args.piv && card.family() != Family::Piv {
            return Err(format!(
                "{} holds a native card; --piv applies to new state files only",
                args.state.display()
            ));
        }
        return Ok(card);
    }
    if args.piv {
        return new_piv_card(args, options);
    }
    let (Some(serial), Some(master)) = (&args.serial, &args.master_key) else {
        return Err(format!(
            "{} does not exist: --serial and --master-key are needed to make a new card",
            args.state.display()
        ));
    };
    let serial = parse_serial(serial)?;
    // The key error never echoes the key.
    let master = MasterKey::from_hex(master)
        .and_then(|m| m.in_suite(args.suite))
        .map_err(|e| format!("--master-key: {e}"))?;
    let mut card = SimCard::from_master_key(serial, &master, options);
    card.attach_state_file(&args.state)
        .map_err(|e| e.to_string())?;
    Ok(card)
}

/// A factory-blank PIV card saved to `--state`.
fn new_piv_card(args: &Args, options: SimOptions) -> Result<SimCard, String> {
    if args.master_key.is_some() {
        return Err("--master-key does not apply to a PIV card (use --piv-admin-key)".into());
    }
    let serial = match &args.serial {
        Some(text) => parse_serial(text)?,
        None => {
            let mut serial = [0u8; 8];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut serial)
                .map_err(|_| "the random number generator failed".to_owned())?;
            serial
        }
    };
    let alg = args.piv_admin_alg;
    // The key error never echoes the key.
    let key = match &args.piv_admin_key {
        Some(text) => {
            hex::decode(text.trim()).map_err(|_| "--piv-admin-key is not hex".to_owned())?
        }
        None if alg.key_len() == DEFAULT_ADMIN_KEY.len() => DEFAULT_ADMIN_KEY.to_vec(),
        None => {
            return Err(format!(
                "--piv-admin-alg {} needs --piv-admin-key",
                alg.name()
            ))
        }
    };
    let admin_key = AdminKey::new(alg, &key).map_err(|e| format!("--piv-admin-key: {e}"))?;
    let mut card = SimCard::blank_piv(PivSetup { serial, admin_key }, options);
    card.attach_state_file(&args.state)
        .map_err(|e| e.to_string())?;
    Ok(card)
}

fn connect(addr: &str, wait: Duration) -> Result<std::net::TcpStream, vpcd::VpcdError> {
    let deadline = Instant::now() + wait;
    loop {
        match vpcd::connect(addr) {
            Ok(stream) => return Ok(stream),
            Err(vpcd::VpcdError::Connect { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e),
        }
    }
}

fn run(args: Args) -> Result<Ending, String> {
    let options = SimOptions {
        extended_length: !args.short_only,
        t0_style: args.t0,
        command_chaining: !args.no_chaining,
    };
    let mut card = open_card(&args, options)?;
    if args.fake_authentication {
        card.accept_any_cryptogram();
    }
    let mut stream =
        connect(&args.vpcd, Duration::from_secs(args.wait)).map_err(|e| e.to_string())?;
    eprintln!(
        "ecard-sim: {}serial {} connected to {}",
        match card.family() {
            Family::Native => "",
            Family::Piv => "PIV card, ",
        },
        hex::encode_upper(card.serial()),
        args.vpcd
    );

    // On SIGTERM/SIGINT shut the socket down: the serve loop then sees a closed
    // connection after the command in progress (already saved) and ends normally.
    let stopping = Arc::new(AtomicBool::new(false));
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])
    .map_err(|e| format!("cannot install signal handler: {e}"))?;
    let shutdown = stream
        .try_clone()
        .map_err(|e| format!("cannot clone socket: {e}"))?;
    {
        let stopping = Arc::clone(&stopping);
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                stopping.store(true, Ordering::SeqCst);
                let _ = shutdown.shutdown(std::net::Shutdown::Both);
            }
        });
    }

    let mut tear = match args.tear_at {
        Some(k) => TearPlan::at(k),
        None => TearPlan::never(),
    };
    let mut silence = match (args.mute_after, args.empty_after) {
        (Some(k), _) => SilencePlan::from(k, Silence::Mute),
        (None, Some(k)) => SilencePlan::from(k, Silence::Empty),
        (None, None) => SilencePlan::never(),
    };
    match vpcd::serve(&mut card, &mut stream, &mut tear, &mut silence) {
        Ok(ending) => Ok(ending),
        // A stop request can surface as any socket error; the state is saved anyway.
        Err(_) if stopping.load(Ordering::SeqCst) => Ok(Ending::Closed),
        Err(e) => Err(e.to_string()),
    }
    // Dropping the stream closes the socket: for a torn card, that is the removal.
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(Ending::Closed) => ExitCode::SUCCESS,
        Ok(Ending::Torn) => ExitCode::from(EXIT_TORN),
        Err(e) => {
            eprintln!("ecard-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

//! ecardd: the station daemon's entry point. The commands live in `cli/`.

mod cli;

use clap::Parser;
use ecard_clock::Clock;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    ecard_logging::init(cli.log_format, "ECARDD_LOG", "warn");
    match Clock::from_env() {
        Ok(c) => {
            if c.is_moved() {
                tracing::warn!(today = %c.today(), "clock moved by {}", ecard_clock::TODAY_ENV);
            }
            cli::set_clock(c);
        }
        Err(e) => {
            eprintln!("ecardd: {e}");
            return ExitCode::from(2);
        }
    }
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("ecardd: {}（{}）", f.message, f.code);
            }
            ExitCode::from(f.exit)
        }
    }
}

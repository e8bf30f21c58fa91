//! ecardd: the station daemon's entry point. The commands live in `cli/`.

mod cli;

use clap::Parser;
use ecard_clock::Clock;
use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ECARDD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
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
    match cli::Cli::parse().run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("ecardd: {}（{}）", f.message, f.code);
            }
            ExitCode::from(f.exit)
        }
    }
}

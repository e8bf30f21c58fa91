//! The manual pages and shell completions the package installs, made from the
//! command definitions themselves so they cannot drift from `--help`.

use super::output::Failure;
use super::Cli;
use clap::CommandFactory;
use std::path::Path;

pub fn man(out_dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(out_dir)
        .and_then(|()| clap_mangen::generate_to(Cli::command(), out_dir))
        .map_err(|e| Failure::new("io", format!("无法写入手册页到 {}：{e}", out_dir.display())))
}

pub fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    clap_complete::generate(shell, &mut Cli::command(), "ecardd", &mut std::io::stdout());
    Ok(())
}

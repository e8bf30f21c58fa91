//! Programs that are not ours, run against a PIV card in a vpcd slot through pcscd:
//! yubico-piv-tool (Debian 12: 2.2.0), OpenSC 0.23 (`pkcs15-tool`, `pkcs15-crypt`,
//! `piv-tool`, `opensc-tool`) and `openssl`.
//!
//! [`setup_with_yubico_piv_tool`] sets a blank card up as a token from a shop would
//! be set up by its owner: a P-256 key generated in 9E, a certificate for it
//! imported, CHUID and CCC written, optionally a new 9B key. Tests of the tools use
//! it, and so can a test that asks ecard to verify such a card ("PIV, not issued by
//! us").
//!
//! The certificate is made by `openssl` (a throwaway test root signs the 9E public
//! key), not by `yubico-piv-tool -a selfsign-certificate`: 2.2.0 linked with OpenSSL
//! 3 never asks the card to sign and prints "Failed signing certificate"
//! (Yubico/yubico-piv-tool#388), whatever the card.
//!
//! Every tool runs with `HOME` set to the work directory, so no OpenSC file cache of
//! an earlier card is read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use thiserror::Error;

/// The factory 9B key (3DES), as yubico-piv-tool's `--key` wants it.
pub const DEFAULT_MGM_KEY_HEX: &str = "010203040506070801020304050607080102030405060708";

#[derive(Debug, Error)]
pub enum ToolError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{command} failed ({status}):\n{stdout}\n{stderr}")]
    Failed {
        command: String,
        status: String,
        stdout: String,
        stderr: String,
    },
    #[error("cannot use {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a tool printed.
#[derive(Debug, Clone)]
pub struct Run {
    pub success: bool,
    /// The exit status (`None` when killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together (the tools mix where they print).
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Is `program` on PATH? (Tests say "skipped" rather than pass when it is not.)
pub fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// A tool invocation in `dir`, with `HOME=dir`.
pub struct Tool<'a> {
    program: &'a str,
    dir: &'a Path,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl<'a> Tool<'a> {
    pub fn new(program: &'a str, dir: &'a Path) -> Self {
        Self {
            program,
            dir,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// Runs it; a non-zero exit is a [`Run`] with `success == false`, not an error.
    pub fn run(&self) -> Result<Run, ToolError> {
        let mut cmd = Command::new(self.program);
        cmd.args(&self.args)
            .current_dir(self.dir)
            .env("HOME", self.dir)
            .stdin(std::process::Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let Output {
            status,
            stdout,
            stderr,
        } = cmd.output().map_err(|source| ToolError::Spawn {
            program: self.program.to_owned(),
            source,
        })?;
        Ok(Run {
            success: status.success(),
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }

    /// Runs it and fails unless it exits 0.
    pub fn ok(&self) -> Result<Run, ToolError> {
        let run = self.run()?;
        if run.success {
            Ok(run)
        } else {
            Err(ToolError::Failed {
                command: format!("{} {}", self.program, self.args.join(" ")),
                status: "non-zero exit".into(),
                stdout: run.stdout,
                stderr: run.stderr,
            })
        }
    }
}

/// `yubico-piv-tool -r <reader> [--key=<hex>] <args>`.
pub fn yubico_piv_tool<'a>(dir: &'a Path, reader: &str, key_hex: Option<&str>) -> Tool<'a> {
    let mut tool = Tool::new("yubico-piv-tool", dir).args(["-r", reader]);
    if let Some(key) = key_hex {
        // `--key` takes its value attached: a separate word would be read as an action.
        tool = tool.args([format!("--key={key}")]);
    }
    tool
}

/// How to set a card up.
#[derive(Debug, Clone)]
pub struct YkSetup {
    /// The reader, as yubico-piv-tool's `-r` substring (e.g. `Virtual PCD 00 00`).
    pub reader: String,
    /// The card's 9B key now (hex; 3DES: yubico-piv-tool 2.2 speaks nothing else).
    pub mgm_key_hex: String,
    /// Set this 9B key at the end (`-a set-mgm-key`).
    pub new_mgm_key_hex: Option<String>,
    /// Subject of the 9E certificate.
    pub subject: String,
}

impl YkSetup {
    pub fn new(reader: &str) -> Self {
        Self {
            reader: reader.to_owned(),
            mgm_key_hex: DEFAULT_MGM_KEY_HEX.to_owned(),
            new_mgm_key_hex: None,
            subject: "/CN=yubico-piv-tool test/".to_owned(),
        }
    }
}

/// A card set up by [`setup_with_yubico_piv_tool`], and the files made on the way.
#[derive(Debug, Clone)]
pub struct YkCard {
    pub dir: PathBuf,
    /// The 9E public key as yubico-piv-tool wrote it (PEM SubjectPublicKeyInfo).
    pub public_key_pem: PathBuf,
    /// The test root that issued the 9E certificate (PEM), and its key.
    pub root_pem: PathBuf,
    pub root_key: PathBuf,
    /// The 9E certificate (PEM) and its DER bytes, as imported.
    pub cert_pem: PathBuf,
    pub cert_der: Vec<u8>,
    /// The card's 9B key after set-up (hex).
    pub mgm_key_hex: String,
}

/// Sets a blank PIV card up with yubico-piv-tool (see the module docs); files go
/// to `dir`.
pub fn setup_with_yubico_piv_tool(setup: &YkSetup, dir: &Path) -> Result<YkCard, ToolError> {
    let key = Some(setup.mgm_key_hex.as_str());
    let yk = |key: Option<&str>| yubico_piv_tool(dir, &setup.reader, key);
    yk(key)
        .args([
            "-a", "generate", "-s", "9e", "-A", "ECCP256", "-o", "9e.pub",
        ])
        .ok()?;
    let openssl = |args: &[&str]| Tool::new("openssl", dir).args(args.iter().copied()).ok();
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        "root.key",
    ])?;
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        "root.key",
        "-subj",
        "/CN=ecard test root/",
        "-days",
        "30",
        "-out",
        "root.pem",
    ])?;
    openssl(&[
        "x509",
        "-new",
        "-subj",
        &setup.subject,
        "-force_pubkey",
        "9e.pub",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-days",
        "30",
        "-out",
        "9e.pem",
    ])?;
    openssl(&["x509", "-in", "9e.pem", "-outform", "DER", "-out", "9e.der"])?;
    yk(key)
        .args(["-a", "import-certificate", "-s", "9e", "-i", "9e.pem"])
        .ok()?;
    yk(key).args(["-a", "set-chuid"]).ok()?;
    yk(key).args(["-a", "set-ccc"]).ok()?;
    let mut mgm_key_hex = setup.mgm_key_hex.clone();
    if let Some(new) = &setup.new_mgm_key_hex {
        yk(key).args(["-a", "set-mgm-key", "-n", new]).ok()?;
        mgm_key_hex = new.clone();
    }
    let der_path = dir.join("9e.der");
    let cert_der = std::fs::read(&der_path).map_err(|source| ToolError::File {
        path: der_path,
        source,
    })?;
    Ok(YkCard {
        dir: dir.to_owned(),
        public_key_pem: dir.join("9e.pub"),
        root_pem: dir.join("root.pem"),
        root_key: dir.join("root.key"),
        cert_pem: dir.join("9e.pem"),
        cert_der,
        mgm_key_hex,
    })
}

//! `ecardd keys`: the province root (demo and tests), the station's keys, their status.

use super::clock;
use super::output::{print, say, Failure};
use super::station::read_secret;
use clap::Subcommand;
use ecardd::keyring;
use ecardd::keystore::KdfParams;
use ecardd::store::Store;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Province root key (a province keeps its own offline; this is for demo and tests).
    Root {
        #[command(subcommand)]
        command: RootCmd,
    },
    /// Generate the station's master and document-signer keys, certified by a root.
    Init {
        #[arg(long, env = "ECARDD_DB", default_value = "/var/lib/ecard/ecard.db")]
        db: PathBuf,
        #[arg(long)]
        bureau: String,
        /// Root key file from `ecardd keys root init`.
        #[arg(long)]
        root: PathBuf,
        #[arg(long)]
        root_passphrase_file: PathBuf,
        #[arg(long)]
        passphrase_file: PathBuf,
        /// The bureau's existing master key (hex, 16 or 32 bytes), for a second
        /// station of the same bureau; without it a new one is generated.
        #[arg(long)]
        master_key_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// What keys the station has (never the secrets).
    Status {
        #[arg(long, env = "ECARDD_DB", default_value = "/var/lib/ecard/ecard.db")]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum RootCmd {
    Init {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long)]
        passphrase_file: PathBuf,
    },
    /// On the province's offline machine: sign a trust list (JSON `{"anchors": […],
    /// "revoked_signers": […]}`) with the root, numbered above the stations' current
    /// list; the registry admin publishes the output (`ecard-registry trust-list publish`).
    SignTrustList {
        /// The sealed root key file (`keys root init`).
        #[arg(long)]
        root: PathBuf,
        #[arg(long)]
        passphrase_file: PathBuf,
        #[arg(long)]
        list: PathBuf,
        #[arg(long)]
        number: u64,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn keys(cmd: KeysCmd) -> Result<(), Failure> {
    match cmd {
        KeysCmd::Root {
            command:
                RootCmd::Init {
                    out,
                    name,
                    passphrase_file,
                },
        } => root_init(out, &name, passphrase_file),
        KeysCmd::Root {
            command:
                RootCmd::SignTrustList {
                    root,
                    passphrase_file,
                    list,
                    number,
                    out,
                },
        } => sign_trust_list(&root, &passphrase_file, &list, number, &out),
        KeysCmd::Init {
            db,
            bureau,
            root,
            root_passphrase_file,
            passphrase_file,
            master_key_file,
            json,
        } => {
            let master = match &master_key_file {
                Some(p) => Some(
                    card_profile::keys::MasterKey::from_hex(&read_secret(p)?).map_err(|e| {
                        Failure::new("invalid_request", format!("主密钥文件格式错误：{e}"))
                    })?,
                ),
                None => None,
            };
            let text =
                std::fs::read_to_string(&root).map_err(|e| Failure::new("io", e.to_string()))?;
            let file: keyring::RootKeyFile = serde_json::from_str(&text)
                .map_err(|e| Failure::new("invalid_request", format!("根密钥文件格式错误：{e}")))?;
            let root_key = file.unlock(&read_secret(&root_passphrase_file)?)?;
            let store = Store::open(&db, clock())?;
            let status = keyring::init_station(
                &store,
                "cli",
                keyring::NewStationKeys {
                    bureau: &bureau,
                    root: &root_key,
                    passphrase: &read_secret(&passphrase_file)?,
                    today: clock().today(),
                    kdf: KdfParams::default(),
                    existing_master: master.as_ref(),
                },
            )?;
            print(json, &status, |_| {
                format!("本站密钥已生成并加密保存：{bureau}")
            });
            Ok(())
        }
        KeysCmd::Status { db, json } => {
            let status = keyring::status(&Store::open(&db, clock())?)?;
            print(json, &status, |status| {
                let mut t = format!("主密钥：{}", if status.master { "已生成" } else { "无" });
                match &status.signer {
                    Some(s) => t.push_str(&format!(
                        "\n签发密钥：{}（{} 至 {}）",
                        s.subject, s.valid_from, s.valid_until
                    )),
                    None => t.push_str("\n签发密钥：无"),
                }
                t.push_str(&format!("\n信任根：{} 个", status.trust.len()));
                t
            });
            Ok(())
        }
    }
}

fn root_init(out: PathBuf, name: &str, passphrase_file: PathBuf) -> Result<(), Failure> {
    if out.exists() {
        return Err(Failure::new(
            "exists",
            format!("{} 已存在，未覆盖", out.display()),
        ));
    }
    let file = keyring::init_root(
        name,
        &read_secret(&passphrase_file)?,
        clock().today(),
        KdfParams::default(),
    )?;
    let text =
        serde_json::to_string_pretty(&file).map_err(|e| Failure::new("error", e.to_string()))?;
    std::fs::write(&out, text).map_err(|e| Failure::new("io", e.to_string()))?;
    say!(
        "根密钥已写入 {}（加密保存）；公钥标识 {}",
        out.display(),
        hex::encode(file.anchor.key_id)
    );
    Ok(())
}

fn sign_trust_list(
    root: &Path,
    passphrase_file: &Path,
    list: &Path,
    number: u64,
    out: &Path,
) -> Result<(), Failure> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| Failure::new("io", format!("{}: {e}", p.display())))
    };
    let bad = |p: &Path, e: serde_json::Error| {
        Failure::new("invalid_request", format!("{}: {e}", p.display()))
    };
    let file: keyring::RootKeyFile =
        serde_json::from_slice(&read(root)?).map_err(|e| bad(root, e))?;
    let trust = serde_json::from_slice(&read(list)?).map_err(|e| bad(list, e))?;
    let signed = keyring::sign_trust_list(&file, &read_secret(passphrase_file)?, trust, number)?;
    let text =
        serde_json::to_string_pretty(&signed).map_err(|e| Failure::new("error", e.to_string()))?;
    std::fs::write(out, text).map_err(|e| Failure::new("io", e.to_string()))?;
    say!(
        "第 {number} 号信任列表已由根密钥签名，写入 {}",
        out.display()
    );
    Ok(())
}

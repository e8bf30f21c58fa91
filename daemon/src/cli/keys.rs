//! `ecardd keys`: the province root (demo and tests), the station's keys, their status.

use super::clock;
use super::output::{print, say, Failure};
use super::station::read_secret;
use card_profile::keys::MasterKey;
use clap::Subcommand;
use ecardd::keyring;
use ecardd::keystore::KdfParams;
use ecardd::master_handover::{self, TransferFile};
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
        /// station of the same bureau; without it (and without --master-key-sealed)
        /// a new one is generated, to be exported to the card vendor.
        #[arg(long, conflicts_with = "master_key_sealed")]
        master_key_file: Option<PathBuf>,
        /// The bureau's master key as a transfer file (from the card vendor's
        /// `keys seal-master`, or another station's `keys export-master`).
        #[arg(long, requires = "master_key_passphrase_file")]
        master_key_sealed: Option<PathBuf>,
        /// The transfer passphrase of --master-key-sealed (given by another channel).
        #[arg(long)]
        master_key_passphrase_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Seal this station's master key into a transfer file for the card vendor (or a
    /// second station), under a transfer passphrase given to them by another channel.
    ExportMaster {
        #[arg(long, env = "ECARDD_DB", default_value = "/var/lib/ecard/ecard.db")]
        db: PathBuf,
        /// The station's key passphrase.
        #[arg(long, env = "ECARDD_PASSPHRASE_FILE")]
        passphrase_file: PathBuf,
        /// The transfer passphrase (12 characters or more, not the station's).
        #[arg(long)]
        transfer_passphrase_file: PathBuf,
        /// The transfer file to write (refused if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// For a card vendor: seal a master key (hex file) into a transfer file for the
    /// bureau's `keys init --master-key-sealed`.
    SealMaster {
        #[arg(long)]
        master_key_file: PathBuf,
        #[arg(long)]
        transfer_passphrase_file: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// The bureau's suite: p256 (AES key) or sm (a 16-byte SM4 key).
        #[arg(long, default_value = "p256")]
        suite: card_profile::suite::Suite,
    },
    /// For a card vendor: open a transfer file, write the master key (hex) for the
    /// personalisation system, and print its check value to compare with the bureau.
    OpenMaster {
        #[arg(long = "in")]
        input: PathBuf,
        #[arg(long)]
        transfer_passphrase_file: PathBuf,
        /// Where to write the master key in hex (created 0600; refused if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// Certify this station's document signer as X.509 with the root (PIV cards
    /// need it; stations whose keys predate them: docs/PROFILE-PIV.md §3). Writes
    /// it to --out as PEM too, for `openssl verify`.
    SignerX509 {
        #[arg(long, env = "ECARDD_DB", default_value = "/var/lib/ecard/ecard.db")]
        db: PathBuf,
        /// Root key file from `ecardd keys root init`.
        #[arg(long)]
        root: PathBuf,
        #[arg(long)]
        root_passphrase_file: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
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
        /// The province's algorithm suite: p256, or sm (SM2/SM3/SM4, for a 密评
        /// deployment; docs/SUITES.md). Every station under the root follows it.
        #[arg(long, default_value = "p256")]
        suite: card_profile::suite::Suite,
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
    /// The root's self-signed X.509 certificate (PEM), the anchor outside PIV tools
    /// check a PIV card's chain up to (`openssl verify -CAfile`).
    X509 {
        #[arg(long)]
        root: PathBuf,
        #[arg(long)]
        passphrase_file: PathBuf,
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
                    suite,
                },
        } => root_init(out, &name, passphrase_file, suite),
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
        KeysCmd::Root {
            command:
                RootCmd::X509 {
                    root,
                    passphrase_file,
                    out,
                },
        } => {
            let root_key = unlock_root(&root, &passphrase_file)?;
            let der = card_profile::x509::root_certificate(&root_key)
                .map_err(|e| Failure::new("keys_error", format!("根证书 X.509 生成失败：{e}")))?;
            write_pem(&out, &der)?;
            say!("根证书（X.509）已写入 {}", out.display());
            Ok(())
        }
        KeysCmd::SignerX509 {
            db,
            root,
            root_passphrase_file,
            out,
        } => {
            let root_key = unlock_root(&root, &root_passphrase_file)?;
            let store = Store::open(&db, clock())?;
            let der = keyring::certify_signer_x509(&store, "cli", &root_key)?;
            if let Some(out) = &out {
                write_pem(out, &der)?;
            }
            say!("本站签发机关证书的 X.509 形式已生成并保存，可在 PIV 标准卡上制证");
            Ok(())
        }
        KeysCmd::Init {
            db,
            bureau,
            root,
            root_passphrase_file,
            passphrase_file,
            master_key_file,
            master_key_sealed,
            master_key_passphrase_file,
            json,
        } => {
            let master = match (&master_key_file, &master_key_sealed) {
                (Some(p), _) => Some(read_master_hex(p)?),
                (None, Some(sealed)) => {
                    let pass = master_key_passphrase_file.as_deref().ok_or_else(|| {
                        Failure::new(
                            "invalid_request",
                            "请用 --master-key-passphrase-file 给出传递口令",
                        )
                    })?;
                    Some(open_transfer(sealed, pass)?)
                }
                (None, None) => None,
            };
            let generated = master.is_none();
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
            print(json, &status, |status| {
                let kcv = status.master_check_value.as_deref().unwrap_or("—");
                let mut t =
                    format!("本站密钥已生成并加密保存：{bureau}\n主密钥校验值（KCV）：{kcv}");
                if generated {
                    t.push_str(&format!(
                        "\n下一步：本站新生成了主密钥，制卡厂商须持有它才能预置空白卡。\n  \
                         ecardd keys export-master --db {db} --passphrase-file <本站口令文件> \
                         --transfer-passphrase-file <传递口令文件> --out <传递文件>\n  \
                         将传递文件交给厂商，传递口令另行告知（当面或电话），\
                         并与厂商核对校验值 {kcv}（docs/OPERATIONS.md「主密钥交接」）。",
                        db = db.display()
                    ));
                } else {
                    t.push_str(&format!(
                        "\n下一步：与提供主密钥的一方（制卡厂商或本局另一站点）核对校验值 {kcv}。"
                    ));
                }
                t
            });
            Ok(())
        }
        KeysCmd::ExportMaster {
            db,
            passphrase_file,
            transfer_passphrase_file,
            out,
        } => {
            let store = Store::open(&db, clock())?;
            let master = keyring::master_key(&store, &read_secret(&passphrase_file)?)?;
            let kcv = write_transfer(&master, &transfer_passphrase_file, &out)?;
            say!(
                "主密钥已加密写入传递文件 {}\n主密钥校验值（KCV）：{kcv}\n\
                 将文件交给制卡厂商，传递口令另行告知；厂商用 `ecardd keys open-master` 打开后核对校验值。",
                out.display()
            );
            Ok(())
        }
        KeysCmd::SealMaster {
            master_key_file,
            transfer_passphrase_file,
            out,
            suite,
        } => {
            let master = read_master_hex(&master_key_file)?
                .in_suite(suite)
                .map_err(|_| {
                    Failure::new(
                        "invalid_request",
                        "国密（SM4）主密钥须为 16 字节（32 位十六进制）",
                    )
                })?;
            let kcv = write_transfer(&master, &transfer_passphrase_file, &out)?;
            say!(
                "主密钥已加密写入传递文件 {}\n主密钥校验值（KCV）：{kcv}\n\
                 发证机关用 `ecardd keys init --master-key-sealed` 导入后核对校验值。",
                out.display()
            );
            Ok(())
        }
        KeysCmd::OpenMaster {
            input,
            transfer_passphrase_file,
            out,
        } => {
            let master = open_transfer(&input, &transfer_passphrase_file)?;
            let hex = zeroize::Zeroizing::new(hex::encode_upper(master.expose()));
            write_new_private(&out, hex.as_bytes())?;
            say!(
                "主密钥已写入 {}（十六进制）\n主密钥校验值（KCV）：{}\n请与发证机关核对校验值。",
                out.display(),
                master.check_value()
            );
            Ok(())
        }
        KeysCmd::Status { db, json } => {
            let status = keyring::status(&Store::open(&db, clock())?)?;
            print(json, &status, |status| {
                let mut t = format!("主密钥：{}", if status.master { "已生成" } else { "无" });
                if let Some(kcv) = &status.master_check_value {
                    t.push_str(&format!("（校验值 KCV {kcv}）"));
                }
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

/// A master key in hex (16 or 32 bytes) from a file.
fn read_master_hex(path: &Path) -> Result<MasterKey, Failure> {
    MasterKey::from_hex(&read_secret(path)?)
        .map_err(|e| Failure::new("invalid_request", format!("主密钥文件格式错误：{e}")))
}

/// The master key of a transfer file, opened with the passphrase in `passphrase_file`.
fn open_transfer(path: &Path, passphrase_file: &Path) -> Result<MasterKey, Failure> {
    let mut text = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            use std::io::Read;
            f.take(master_handover::MAX_FILE_BYTES as u64 + 1)
                .read_to_end(&mut text)
        })
        .map_err(|e| Failure::new("io", format!("无法读取 {}：{e}", path.display())))?;
    let file = TransferFile::parse(&text).map_err(handover_failure)?;
    file.open(&read_secret(passphrase_file)?)
        .map_err(handover_failure)
}

/// Seals `master` into a new transfer file at `out`; returns its check value.
fn write_transfer(
    master: &MasterKey,
    passphrase_file: &Path,
    out: &Path,
) -> Result<String, Failure> {
    let file = TransferFile::seal(master, &read_secret(passphrase_file)?, KdfParams::default())
        .map_err(handover_failure)?;
    let text =
        serde_json::to_string_pretty(&file).map_err(|e| Failure::new("error", e.to_string()))?;
    write_new_private(out, text.as_bytes())?;
    Ok(file.check_value)
}

/// Writes a new file readable by its owner only; an existing file is never replaced.
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::AlreadyExists {
                "exists"
            } else {
                "io"
            };
            Failure::new(
                code,
                format!("无法写入 {}（已存在的文件不会被覆盖）：{e}", path.display()),
            )
        })?;
    f.write_all(bytes)
        .map_err(|e| Failure::new("io", format!("无法写入 {}：{e}", path.display())))
}

fn handover_failure(e: master_handover::HandoverError) -> Failure {
    Failure::new(e.code(), e.message_zh())
}

fn unlock_root(path: &Path, passphrase_file: &Path) -> Result<card_profile::pki::RootKey, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new("io", format!("{}: {e}", path.display())))?;
    let file: keyring::RootKeyFile = serde_json::from_str(&text)
        .map_err(|e| Failure::new("invalid_request", format!("根密钥文件格式错误：{e}")))?;
    Ok(file.unlock(&read_secret(passphrase_file)?)?)
}

/// A certificate as PEM, what openssl and the PIV tools read.
fn write_pem(path: &Path, der: &[u8]) -> Result<(), Failure> {
    let text = card_profile::x509::to_pem(der)
        .map_err(|e| Failure::new("keys_error", format!("PEM 编码失败：{e}")))?;
    std::fs::write(path, text).map_err(|e| Failure::new("io", format!("{}: {e}", path.display())))
}

fn root_init(
    out: PathBuf,
    name: &str,
    passphrase_file: PathBuf,
    suite: card_profile::suite::Suite,
) -> Result<(), Failure> {
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
        suite,
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

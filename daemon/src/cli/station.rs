//! What the station commands share: the database and passphrase options, opening
//! the station, finding a certificate by number or id, a runtime.

use super::clock;
use super::output::Failure;
use clap::Args;
use ecardd::ops::{Station, StationConfig};
use ecardd::store;
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Global: accepted after a subcommand too (`ecardd sync enroll --passphrase-file F`),
/// where a user puts them.
#[derive(Args, Clone)]
pub struct StationArgs {
    /// The station database.
    #[arg(
        long,
        global = true,
        env = "ECARDD_DB",
        default_value = "/var/lib/ecard/ecard.db"
    )]
    pub db: PathBuf,
    /// File holding the key passphrase; without it cards can be verified but not written.
    #[arg(long, global = true, env = "ECARDD_PASSPHRASE_FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Milliseconds a card gets to answer one command; then the operation fails with
    /// card_timeout (卡片无响应) and the reader waits for the card to be pulled.
    #[arg(
        long,
        global = true,
        env = "ECARDD_CARD_DEADLINE_MS",
        default_value_t = 5000
    )]
    pub card_deadline_ms: u64,
    /// The province configuration file (numbering tables, photo limits, review
    /// deadline, retirement rule, holidays); the shipped Sichuan one when absent.
    #[arg(long, global = true, env = "ECARD_PROVINCE_CONFIG")]
    pub province_config: Option<PathBuf>,
    /// The registry's address as phones reach it (`https://host[:port]`, with a
    /// certificate they trust): what the /check page asks for a certificate's state
    /// now. Default: the registry this station is enrolled with.
    #[arg(long, global = true, env = "ECARDD_PUBLIC_REGISTRY_URL")]
    pub public_registry_url: Option<String>,
    /// The CUPS server card faces are printed through: host:port or a socket path
    /// (default: the CUPS client's own, /etc/cups/client.conf or the local socket).
    #[arg(long, global = true, env = "ECARDD_CUPS_SERVER")]
    pub cups_server: Option<String>,
}

impl StationArgs {
    /// The station's configuration; a province file that cannot be used stops the
    /// start with a message naming the file and the field.
    pub fn config(&self) -> Result<StationConfig, Failure> {
        if let Some(url) = &self.public_registry_url {
            if ecardd::ops::registry_origin(url).is_none() {
                return Err(Failure::new(
                    "bad_public_registry_url",
                    format!("--public-registry-url {url} 不是 https://主机[:端口] 形式的地址"),
                ));
            }
        }
        Ok(StationConfig {
            card_deadline: std::time::Duration::from_millis(self.card_deadline_ms),
            public_registry_url: self.public_registry_url.clone(),
            cups_server: self.cups_server.clone().filter(|s| !s.is_empty()),
            ..StationConfig::default()
        }
        .with_province(load_province(self.province_config.as_deref())?))
    }

    /// The key passphrase: from `--passphrase-file` (`-`: the first line of standard
    /// input, for an operator typing it at start), else from the systemd credential
    /// `ecardd-passphrase` (`LoadCredentialEncrypted=`, docs/OPERATIONS.md), else none.
    pub fn passphrase(&self) -> Result<Option<Zeroizing<String>>, Failure> {
        self.passphrase_path()
            .as_deref()
            .map(read_secret)
            .transpose()
    }

    /// Where the passphrase comes from, when it comes from a file.
    pub fn passphrase_path(&self) -> Option<PathBuf> {
        self.passphrase_file.clone().or_else(|| {
            let dir = std::env::var_os(CREDENTIALS_DIRECTORY)?;
            let path = Path::new(&dir).join(PASSPHRASE_CREDENTIAL);
            path.exists().then_some(path)
        })
    }
}

/// Reads and checks a province configuration file (none: the shipped Sichuan one).
pub fn load_province(
    path: Option<&Path>,
) -> Result<std::sync::Arc<ecard_domain::province::ProvinceConfig>, Failure> {
    use ecard_domain::province::ProvinceConfig;
    let Some(path) = path else {
        return Ok(std::sync::Arc::new(ProvinceConfig::sichuan()));
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            "io",
            format!("无法读取省份配置文件 {}：{e}", path.display()),
        )
    })?;
    ProvinceConfig::from_json(&text)
        .map(std::sync::Arc::new)
        .map_err(|e| Failure::new(e.code(), format!("{}：{e}", path.display())))
}

/// systemd's variable naming the directory of a unit's decrypted credentials.
const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";
/// The credential holding the key passphrase (`LoadCredentialEncrypted=ecardd-passphrase:…`).
pub const PASSPHRASE_CREDENTIAL: &str = "ecardd-passphrase";

/// A secret from a file (`-`: standard input): one line, its line ending dropped,
/// never empty; wiped from memory when dropped, and so is the text it was read from.
pub fn read_secret(path: &Path) -> Result<Zeroizing<String>, Failure> {
    let mut text = Zeroizing::new(String::new());
    let read = if path == Path::new("-") {
        std::io::stdin().read_line(&mut text).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text).map(|_| ()))
    };
    read.map_err(|e| Failure::new("io", format!("无法读取口令文件 {}：{e}", path.display())))?;
    let secret = Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_owned());
    if secret.is_empty() {
        return Err(Failure::new(
            "io",
            format!("口令文件 {} 为空", path.display()),
        ));
    }
    Ok(secret)
}

/// The station with its PC/SC readers, for one card command.
pub fn open_station(args: &StationArgs) -> Result<Station, Failure> {
    let passphrase = args.passphrase()?;
    let station = ecardd::server::open_station(
        &args.db,
        passphrase.as_deref().map(String::as_str),
        args.config()?,
        clock(),
    )?;
    // The monitor thread lists the readers and polls their cards once before a
    // command runs.
    std::thread::sleep(std::time::Duration::from_millis(700));
    Ok(station)
}

/// A certificate named by its number, or by its record id.
pub fn certificate_id(station: &Station, key: &str) -> Result<i64, Failure> {
    // Parsed at the boundary: text that is no number may still be a record id.
    if let Ok(number) = ecard_sync_protocol::events::CertificateNumber::parse(key) {
        if let Some(row) = station
            .store
            .read(|c| store::certificate_by_number(c, &number))?
        {
            return Ok(row.id);
        }
    }
    key.parse::<i64>()
        .ok()
        .filter(|id| station.store.read(|c| store::certificate(c, *id)).is_ok())
        .ok_or_else(|| Failure::new("not_found", format!("找不到证件 {key}")))
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Runtime::new().map_err(|e| Failure::new("runtime", e.to_string()))
}

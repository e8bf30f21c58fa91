//! `ecard-registry`: serve, enroll stations, create units and accounts.

use clap::{Parser, Subcommand};
use ecard_clock::Clock;
use ecard_registry::api::admin_cli;
use ecard_registry::server::{serve, ServeConfig};
use ecard_registry::storage::db::DatabaseUrl;
use ecard_registry::storage::{NewUnit, Role, Storage};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use ecard_domain::province::ProvinceConfig;

#[derive(Parser)]
#[command(name = "ecard-registry", about = "ecard reference central registry")]
struct Cli {
    /// The province configuration file (numbering tables, photo limits, review
    /// deadline, retirement rule, holidays); the shipped Sichuan one when absent.
    #[arg(long, global = true, env = "ECARD_PROVINCE_CONFIG")]
    province_config: Option<PathBuf>,
    /// How log lines are written to standard error: `auto` is `journald` under
    /// systemd and `text` on a terminal.
    #[arg(
        long,
        global = true,
        env = "ECARD_REGISTRY_LOG_FORMAT",
        value_enum,
        default_value = "auto"
    )]
    log_format: ecard_logging::LogFormat,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check this registry's setup (database, list-signing key, TLS certificate,
    /// trust list, clock, listening): ok / warning / fault per line with what to do.
    /// Exit status 0 all ok, 7 a warning at worst, 8 a fault.
    Doctor {
        /// The database: a SQLite file (`sqlite:PATH` or a path) or `postgres://…`.
        #[arg(
            long = "database",
            visible_alias = "db",
            env = "ECARD_REGISTRY_DB",
            default_value = "/var/lib/ecard-registry/registry.db",
            value_parser = DatabaseUrl::parse
        )]
        db: DatabaseUrl,
        #[arg(long, default_value = "/var/lib/ecard-registry/list-key.p8")]
        key_file: PathBuf,
        /// Default: the database path with extension `tls.crt`.
        #[arg(long)]
        tls_cert: Option<PathBuf>,
        /// Check that something accepts connections here (the serve --listen address).
        #[arg(long, env = "ECARD_REGISTRY_LISTEN")]
        listen: Option<SocketAddr>,
        #[arg(long)]
        json: bool,
    },
    /// Write the manual pages (section 1, one per command) into a directory.
    #[command(hide = true)]
    Man {
        #[arg(long)]
        out_dir: PathBuf,
    },
    /// Print the shell completion script for bash, zsh or fish.
    Completions { shell: clap_complete::Shell },
    /// Serve the sync and workflow API.
    Serve {
        /// The database: a SQLite file (`sqlite:PATH` or a path) or `postgres://…`.
        #[arg(long = "database", visible_alias = "db", value_parser = DatabaseUrl::parse)]
        db: DatabaseUrl,
        #[arg(long, default_value = "127.0.0.1:8600")]
        listen: SocketAddr,
        /// The registry's revocation-list signing key (PKCS#8); generated if missing.
        #[arg(long)]
        key_file: PathBuf,
        /// The admin bearer token; a random one is written here if missing.
        /// Default: the database path with extension `admin-token`.
        #[arg(long)]
        admin_token_file: Option<PathBuf>,
        /// TLS certificate (PEM); with --tls-key, generated self-signed on first
        /// start when neither exists. Default: the database path with extension `tls.crt`.
        #[arg(long)]
        tls_cert: Option<PathBuf>,
        /// TLS private key (PKCS#8 PEM). Default: the database path with extension `tls.key`.
        #[arg(long)]
        tls_key: Option<PathBuf>,
        /// Host names or addresses written into a generated certificate.
        #[arg(long = "tls-name")]
        tls_names: Vec<String>,
        /// Serve plain HTTP instead of TLS; refused unless --listen is a loopback address.
        #[arg(long)]
        insecure_loopback_http: bool,
        /// A host name the reviewers' pages may be reached by, besides the listen
        /// address, the loopback names and the TLS names (DNS-rebinding guard).
        #[arg(long = "allowed-host")]
        allowed_hosts: Vec<String>,
    },
    /// Stations.
    #[command(subcommand)]
    Station(StationCmd),
    /// Units and operator accounts.
    #[command(subcommand)]
    Admin(AdminCmd),
    /// The trust list stations verify cards with: signed offline by a province root.
    #[command(subcommand)]
    TrustList(TrustListCmd),
    /// Print the SHA-256 pin of a TLS certificate (PEM), as stations enrol with it
    /// (`ecardd sync enroll --registry-cert-sha256 …`).
    TlsPin {
        #[arg(long)]
        cert: PathBuf,
    },
    /// Print the registry's signing key as stations pin it at enrolment
    /// (`ecardd sync enroll --registry-key-id …`): `{"key_id", "public_key"}`. The key
    /// file is the one `serve --key-file` uses; it is made here when missing, so the
    /// pin can be given out before the first start.
    Key {
        #[arg(long)]
        key_file: PathBuf,
        /// The suite of a key made here: p256, or sm (SM2; a 国密 deployment, whose
        /// stations then enrol in SM2/SM3/SM4; docs/SUITES.md). A key that exists is
        /// read whatever its suite.
        #[arg(long, default_value = "p256")]
        suite: card_profile::suite::Suite,
    },
}

#[derive(Subcommand)]
enum TrustListCmd {
    /// The offline step, on the province's machine that holds the root key: signs a
    /// trust list (JSON: `{"anchors": […], "revoked_signers": […]}`) with the root key
    /// and a number above the stations' current one; prints the signed list, which
    /// the registry admin publishes (`trust-list publish` or `PUT /api/v1/admin/trust-list`).
    Sign {
        /// The province root's private key (PKCS#8, P-256).
        #[arg(long)]
        root_key: PathBuf,
        #[arg(long)]
        list: PathBuf,
        #[arg(long)]
        number: u64,
        /// Write the signed list here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Publishes a signed trust list to every station through the feed.
    Publish {
        /// The database: a SQLite file (`sqlite:PATH` or a path) or `postgres://…`.
        #[arg(long = "database", visible_alias = "db", value_parser = DatabaseUrl::parse)]
        db: DatabaseUrl,
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum StationCmd {
    /// Enroll a station with its public key.
    Add {
        /// The database: a SQLite file (`sqlite:PATH` or a path) or `postgres://…`.
        #[arg(long = "database", visible_alias = "db", value_parser = DatabaseUrl::parse)]
        db: DatabaseUrl,
        /// Station id (letters, digits, - _ .), sent in every request.
        #[arg(long)]
        name: String,
        /// Uncompressed P-256 public key, hex (130 digits).
        #[arg(long)]
        public_key: String,
        /// Region code prefix whose issuance orders the station receives (e.g. 川X).
        #[arg(long)]
        region: Option<String>,
    },
    /// List enrolled stations.
    List {
        /// The database: a SQLite file (`sqlite:PATH` or a path) or `postgres://…`.
        #[arg(long = "database", visible_alias = "db", value_parser = DatabaseUrl::parse)]
        db: DatabaseUrl,
    },
    /// Stop accepting a station's requests (a lost or retired machine, a leaked
    /// key); its records stay. Takes effect at its next request, without a restart.
    Disable {
        /// The database: a SQLite file (`sqlite:PATH` or a path) or `postgres://…`.
        #[arg(long = "database", visible_alias = "db", value_parser = DatabaseUrl::parse)]
        db: DatabaseUrl,
        #[arg(long)]
        name: String,
    },
    /// Accept a disabled station's requests again.
    Enable {
        /// The database: a SQLite file (`sqlite:PATH` or a path) or `postgres://…`.
        #[arg(long = "database", visible_alias = "db", value_parser = DatabaseUrl::parse)]
        db: DatabaseUrl,
        #[arg(long)]
        name: String,
    },
    /// Generate a station key pair: writes the PKCS#8 file, prints the public key.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum AdminCmd {
    /// Create a unit (its region and department codes make its certificate numbers).
    AddUnit {
        /// The database: a SQLite file (`sqlite:PATH` or a path) or `postgres://…`.
        #[arg(long = "database", visible_alias = "db", value_parser = DatabaseUrl::parse)]
        db: DatabaseUrl,
        #[arg(long)]
        name: String,
        #[arg(long)]
        region: String,
        #[arg(long)]
        department: String,
        #[arg(long)]
        province_level: bool,
    },
    /// Create an operator account; prints its bearer token once.
    AddAccount {
        /// The database: a SQLite file (`sqlite:PATH` or a path) or `postgres://…`.
        #[arg(long = "database", visible_alias = "db", value_parser = DatabaseUrl::parse)]
        db: DatabaseUrl,
        #[arg(long)]
        username: String,
        /// unit | county | city | province
        #[arg(long)]
        role: String,
        #[arg(long)]
        org_name: String,
        /// Unit accounts: the unit's name.
        #[arg(long)]
        unit: Option<String>,
        /// County/city accounts: the region code reviewed.
        #[arg(long)]
        region: Option<String>,
    },
    /// Set an account's password for the reviewers' pages (its bearer token stays
    /// for programs). The password is read from --password-file or from stdin,
    /// never from the command line.
    SetPassword {
        /// The database: a SQLite file (`sqlite:PATH` or a path) or `postgres://…`.
        #[arg(long = "database", visible_alias = "db", value_parser = DatabaseUrl::parse)]
        db: DatabaseUrl,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

fn set_disabled(
    db: &DatabaseUrl,
    clock: Clock,
    province: &Arc<ProvinceConfig>,
    name: &str,
    disabled: bool,
) -> Result<(), String> {
    open(db, clock, province)?
        .set_station_disabled(name, disabled)
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::json!({ "station": name, "disabled": disabled })
    );
    Ok(())
}

fn sign_trust_list(root_key: &Path, list: &Path, number: u64) -> Result<String, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let root = card_profile::pki::SigningKey::from_pkcs8_any(&read(root_key)?)
        .map_err(|e| format!("{}: {e}", root_key.display()))?;
    let trust: card_profile::pki::TrustList =
        serde_json::from_slice(&read(list)?).map_err(|e| format!("{}: {e}", list.display()))?;
    let signer = card_profile::pki::key_id(&root.public_key());
    if !trust.anchors.iter().any(|a| a.key_id == signer) {
        // Not an error (a retiring root may sign its successor's list without
        // staying in it), but worth saying: stations accept only a root they hold.
        eprintln!(
            "ecard-registry: note: the signing root {} is not in the list itself",
            hex::encode(signer)
        );
    }
    let signed = ecard_sync_protocol::trust::NumberedTrustList::new(number, trust)
        .sign(&root)
        .map_err(|e| e.to_string())?;
    serde_json::to_string_pretty(&signed).map_err(|e| e.to_string())
}

fn open(db: &DatabaseUrl, clock: Clock, province: &Arc<ProvinceConfig>) -> Result<Storage, String> {
    Storage::open_url(db, clock)
        .map(|s| s.with_province(Arc::clone(province)))
        .map_err(|e| format!("{}: {e}", db.display()))
}

/// Reads and checks the province configuration; the error names the file and field.
fn load_province(path: Option<&Path>) -> Result<Arc<ProvinceConfig>, String> {
    let Some(path) = path else {
        return Ok(Arc::new(ProvinceConfig::sichuan()));
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ProvinceConfig::from_json(&text)
        .map(Arc::new)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `ecard-registry doctor`: prints the report, exits by its worst finding.
fn doctor(
    db: &DatabaseUrl,
    key_file: &Path,
    tls_cert: Option<PathBuf>,
    listen: Option<SocketAddr>,
    json: bool,
    clock: Clock,
) -> ExitCode {
    use ecard_registry::doctor::{report, Level, Situation};
    let tls_cert = tls_cert.unwrap_or_else(|| db.file_base().with_extension("tls.crt"));
    let listen = listen.map(|a| {
        let answer = std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(5))
            .map(drop)
            .map_err(|e| e.to_string());
        (a.to_string(), answer)
    });
    let r = report(Situation {
        db,
        key_file,
        tls_cert: &tls_cert,
        today: clock.today(),
        clock_moved: clock.is_moved(),
        listen,
    });
    if json {
        println!("{}", serde_json::to_string(&r).unwrap_or_default());
    } else {
        for f in &r.findings {
            let (zh, tag) = match f.level {
                Level::Ok => ("正常", "ok"),
                Level::Warning => ("注意", "warning"),
                Level::Fault => ("故障", "fault"),
            };
            println!("{zh} {tag:<7} {:<15} {} | {}", f.check, f.zh, f.en);
            if let (Some(fz), Some(fe)) = (&f.fix_zh, &f.fix_en) {
                println!("{:<28} 处理：{fz} | fix: {fe}", "");
            }
        }
    }
    ExitCode::from(r.exit_status())
}

fn run(cli: Cli, clock: Clock) -> Result<(), String> {
    let province = load_province(cli.province_config.as_deref())?;
    tracing::info!(province = %province.province, "province configuration loaded");
    match cli.cmd {
        Cmd::Doctor { .. } => Ok(()),
        Cmd::Man { out_dir } => std::fs::create_dir_all(&out_dir)
            .and_then(|()| {
                clap_mangen::generate_to(<Cli as clap::CommandFactory>::command(), &out_dir)
            })
            .map_err(|e| format!("{}: {e}", out_dir.display())),
        Cmd::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "ecard-registry",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Cmd::Serve {
            db,
            listen,
            key_file,
            admin_token_file,
            tls_cert,
            tls_key,
            tls_names,
            insecure_loopback_http,
            allowed_hosts,
        } => {
            let admin_token_file =
                admin_token_file.unwrap_or_else(|| db.file_base().with_extension("admin-token"));
            let tls = (!insecure_loopback_http).then(|| {
                let mut names = tls_names;
                if names.is_empty() {
                    names = vec!["localhost".into(), listen.ip().to_string()];
                }
                ecard_registry::tls::TlsFiles {
                    cert: tls_cert.unwrap_or_else(|| db.file_base().with_extension("tls.crt")),
                    key: tls_key.unwrap_or_else(|| db.file_base().with_extension("tls.key")),
                    names,
                }
            });
            let cfg = ServeConfig {
                db,
                listen,
                key_file,
                admin_token_file,
                tls,
                allowed_hosts,
                clock,
                province,
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(serve(cfg)).map_err(|e| e.to_string())
        }
        Cmd::Station(StationCmd::Add {
            db,
            name,
            public_key,
            region,
        }) => {
            let st = admin_cli::add_station(
                &open(&db, clock, &province)?,
                &name,
                &public_key,
                region.as_deref(),
            )?;
            println!("{}", serde_json::to_string(&st).map_err(|e| e.to_string())?);
            Ok(())
        }
        Cmd::Station(StationCmd::List { db }) => {
            let list = open(&db, clock, &province)?
                .stations()
                .map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?
            );
            Ok(())
        }
        Cmd::Station(StationCmd::Disable { db, name }) => {
            set_disabled(&db, clock, &province, &name, true)
        }
        Cmd::Station(StationCmd::Enable { db, name }) => {
            set_disabled(&db, clock, &province, &name, false)
        }
        Cmd::Station(StationCmd::Keygen { out }) => {
            let key = admin_cli::station_keygen(&out)?;
            println!("{key}");
            Ok(())
        }
        Cmd::Key { key_file, suite } => {
            let key = ecard_registry::keys::load_or_generate_key_in(&key_file, suite)
                .map_err(|e| e.to_string())?;
            let public = key.public_key();
            println!(
                "{}",
                serde_json::json!({
                    "key_id": hex::encode(card_profile::pki::key_id(&public)),
                    "public_key": hex::encode(public),
                })
            );
            Ok(())
        }
        Cmd::TlsPin { cert } => {
            let pin = ecard_registry::tls::pin_of(&cert).map_err(|e| e.to_string())?;
            println!("{}", hex::encode(pin));
            Ok(())
        }
        Cmd::TrustList(TrustListCmd::Sign {
            root_key,
            list,
            number,
            out,
        }) => {
            let signed = sign_trust_list(&root_key, &list, number)?;
            match out {
                Some(p) => std::fs::write(&p, signed).map_err(|e| format!("{}: {e}", p.display())),
                None => {
                    println!("{signed}");
                    Ok(())
                }
            }
        }
        Cmd::TrustList(TrustListCmd::Publish { db, file }) => {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let signed = ecard_sync_protocol::trust::SignedTrustList::decode(&bytes)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let today = clock.today();
            let cursor = open(&db, clock, &province)?
                .set_trust_list(&signed, today)
                .map_err(|e| e.to_string())?;
            println!("{}", serde_json::json!({ "cursor": cursor }));
            Ok(())
        }
        Cmd::Admin(AdminCmd::AddUnit {
            db,
            name,
            region,
            department,
            province_level,
        }) => {
            let unit = ecard_registry::workflow::service::add_unit(
                &open(&db, clock, &province)?,
                &NewUnit {
                    name,
                    region,
                    department,
                    province_level,
                },
            )
            .map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::to_string(&unit).map_err(|e| e.to_string())?
            );
            Ok(())
        }
        Cmd::Admin(AdminCmd::SetPassword {
            db,
            username,
            password_file,
        }) => {
            let password = match password_file {
                Some(p) => {
                    std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?
                }
                None => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .map_err(|e| e.to_string())?;
                    line
                }
            };
            let password = password.trim_end_matches(['\r', '\n']);
            let phc = ecard_registry::web::password::hash_password(password)
                .map_err(|e| ecard_registry::web::password::message_zh(&e))?;
            if !open(&db, clock, &province)?
                .set_account_password(&username, &phc)
                .map_err(|e| e.to_string())?
            {
                return Err(format!("没有账号“{username}”"));
            }
            println!("已设置“{username}”的页面登录口令");
            Ok(())
        }
        Cmd::Admin(AdminCmd::AddAccount {
            db,
            username,
            role,
            org_name,
            unit,
            region,
        }) => {
            let role = Role::parse(&role).ok_or_else(|| {
                format!("unknown role {role}: unit, county, city, province or admin")
            })?;
            let created = admin_cli::add_account(
                &open(&db, clock, &province)?,
                &username,
                role,
                &org_name,
                unit,
                region,
            )?;
            println!(
                "{}",
                serde_json::to_string(&created).map_err(|e| e.to_string())?
            );
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The filter stays RUST_LOG (info by default), as before the formats.
    ecard_logging::init(cli.log_format, "RUST_LOG", "info");
    // The one place the registry reads the system clock (ECARD_TODAY moves it for
    // tests; see ecard_clock).
    let clock = match Clock::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ecard-registry: {e}");
            return ExitCode::FAILURE;
        }
    };
    if clock.is_moved() {
        tracing::warn!(today = %clock.today(), "clock moved by {}", ecard_clock::TODAY_ENV);
    }
    if let Cmd::Doctor {
        db,
        key_file,
        tls_cert,
        listen,
        json,
    } = &cli.cmd
    {
        return doctor(db, key_file, tls_cert.clone(), *listen, *json, clock);
    }
    match run(cli, clock) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ecard-registry: {e}");
            ExitCode::FAILURE
        }
    }
}

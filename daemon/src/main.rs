//! ecardd command line. Every card command calls the same operation the HTTP API
//! calls (crate::ops); `--json` prints the API's JSON shape for scripts.

use clap::{Args, Parser, Subcommand, ValueEnum};
use ecard_clock::Clock;
use ecardd::labels;
use ecardd::ops::{ReviewRequest, Station, StationConfig, StatusRequest};
use ecardd::store::{self, Store};
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
#[command(name = "ecardd", about = "ecard station daemon")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Args, Clone)]
struct StationArgs {
    /// The station database.
    #[arg(long, env = "ECARDD_DB", default_value = "/var/lib/ecard/ecard.db")]
    db: PathBuf,
    /// File holding the key passphrase; without it cards can be verified but not written.
    #[arg(long, env = "ECARDD_PASSPHRASE_FILE")]
    passphrase_file: Option<PathBuf>,
    /// Name written into review records.
    #[arg(long, default_value = "司法局")]
    bureau: String,
    /// Milliseconds a card gets to answer one command; then the operation fails with
    /// card_timeout (卡片无响应) and the reader waits for the card to be pulled.
    #[arg(long, env = "ECARDD_CARD_DEADLINE_MS", default_value_t = 5000)]
    card_deadline_ms: u64,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the API and the web UI with the PC/SC readers.
    Serve {
        #[command(flatten)]
        station: StationArgs,
        /// Address to listen on; loopback unless configured otherwise.
        #[arg(long, env = "ECARDD_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seconds between sync rounds (when enrolled with a registry).
        #[arg(long, default_value_t = 60)]
        sync_interval: u64,
    },
    /// Run the station with no hardware: simulated readers, demo keys, sample officers.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Run issue → verify → review once on the terminal instead of serving.
        #[arg(long)]
        walkthrough: bool,
    },
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
    Verify {
        #[command(flatten)]
        station: StationArgs,
        #[arg(long)]
        reader: String,
        #[arg(long)]
        json: bool,
    },
    /// Write an approved certificate onto the blank card in a reader.
    Issue {
        #[command(flatten)]
        station: StationArgs,
        #[arg(long)]
        reader: String,
        /// Certificate number (or record id).
        #[arg(long)]
        certificate: String,
        #[arg(long)]
        json: bool,
    },
    /// Record the annual review (年审), and write it to the card when --reader is given.
    Review {
        #[command(flatten)]
        station: StationArgs,
        #[arg(long)]
        certificate: String,
        #[arg(long, value_enum, default_value = "passed")]
        result: ReviewOutcome,
        #[arg(long)]
        remark: Option<String>,
        #[arg(long)]
        reader: Option<String>,
        #[arg(long)]
        year: Option<u16>,
        #[arg(long)]
        json: bool,
    },
    /// Suspend, lift, cancel (注销) or re-issue (补证) a certificate; written to the card with --reader.
    Revoke {
        #[command(flatten)]
        station: StationArgs,
        #[arg(long)]
        certificate: String,
        #[arg(long, value_enum)]
        kind: RevokeKind,
        #[arg(long, default_value = "")]
        reason: String,
        /// 注销: where the person went.
        #[arg(long)]
        destination: Option<String>,
        /// 补证: when the card was lost, and how/when it was declared void.
        #[arg(long)]
        lost_on: Option<chrono::NaiveDate>,
        #[arg(long)]
        void_declared_how: Option<String>,
        #[arg(long)]
        void_declared_on: Option<chrono::NaiveDate>,
        #[arg(long)]
        reader: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Import a roster (official xlsx, optional zip of photos) as applications.
    Import {
        #[arg(long, env = "ECARDD_DB", default_value = "/var/lib/ecard/ecard.db")]
        db: PathBuf,
        roster: PathBuf,
        #[arg(long)]
        photos: Option<PathBuf>,
        /// Where to write the error report of a refused import.
        #[arg(long)]
        report: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Sync with the registry: one round, the status, or enrollment.
    Sync {
        #[command(flatten)]
        station: StationArgs,
        /// Print the status (last success, backlog, revocation list) instead.
        #[arg(long)]
        status: bool,
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Option<SyncCmd>,
    },
    /// Keys: province root (demo/tests), station keys, status.
    Keys {
        #[command(subcommand)]
        command: KeysCmd,
    },
    /// Operator accounts.
    Operator {
        #[command(subcommand)]
        command: OperatorCmd,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCmd,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ReviewOutcome {
    Passed,
    Failed,
}

#[derive(Clone, Copy, ValueEnum)]
enum RevokeKind {
    Suspend,
    Lift,
    Cancel,
    Reissue,
    /// Write the recorded status to the card at --reader (after a change recorded
    /// without the card, or whose card write failed).
    WriteCard,
}

#[derive(Subcommand)]
enum KeysCmd {
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
enum SyncCmd {
    /// Generate this station's request key and pin the registry's list key; prints
    /// the public key for `ecard-registry station add`.
    Enroll {
        #[arg(long)]
        registry: String,
        #[arg(long)]
        station_id: String,
        /// The registry key id given out of band (in the registry's start-up log);
        /// required: enrollment stops if the registry presents another key.
        #[arg(long)]
        registry_key_id: Option<String>,
        /// SHA-256 (hex) of the registry's TLS certificate, from its start-up
        /// output: the only certificate this station will accept from it.
        #[arg(long)]
        registry_cert_sha256: Option<String>,
        /// Plain http:// to a registry on this machine's loopback address (tests);
        /// refused for any other address.
        #[arg(long)]
        insecure_loopback_http: bool,
    },
}

#[derive(Subcommand)]
enum RootCmd {
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

#[derive(Subcommand)]
enum OperatorCmd {
    Add {
        #[arg(long, env = "ECARDD_DB", default_value = "/var/lib/ecard/ecard.db")]
        db: PathBuf,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// issuer, reviewer, inspector or admin
        #[arg(long)]
        role: String,
        #[arg(long)]
        password_file: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the hash chain of the audit log and name the first broken row.
    Verify {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// A user-facing failure: the Chinese message, a stable code, an exit status.
struct Failure {
    code: String,
    message: String,
    exit: u8,
}

impl Failure {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            exit: 1,
        }
    }
}

impl From<ecardd::ops::OpError> for Failure {
    fn from(e: ecardd::ops::OpError) -> Self {
        Self {
            code: e.code().into(),
            message: e.message_zh(),
            exit: 2,
        }
    }
}

impl From<BoxError> for Failure {
    fn from(e: BoxError) -> Self {
        Failure::new("error", e.to_string())
    }
}

impl From<store::StoreError> for Failure {
    fn from(e: store::StoreError) -> Self {
        ecardd::ops::OpError::Store(e).into()
    }
}

impl From<ecardd::keyring::KeyringError> for Failure {
    fn from(e: ecardd::keyring::KeyringError) -> Self {
        Failure::new("keys_error", e.message_zh())
    }
}

fn read_secret(path: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new("io", format!("无法读取口令文件 {}：{e}", path.display())))?;
    let secret = text.trim_end_matches(['\n', '\r']).to_owned();
    if secret.is_empty() {
        return Err(Failure::new(
            "io",
            format!("口令文件 {} 为空", path.display()),
        ));
    }
    Ok(secret)
}

fn open_station(args: &StationArgs) -> Result<Station, Failure> {
    let passphrase = args
        .passphrase_file
        .as_deref()
        .map(read_secret)
        .transpose()?;
    let config = StationConfig {
        bureau_name: args.bureau.clone(),
        card_deadline: std::time::Duration::from_millis(args.card_deadline_ms),
        ..StationConfig::default()
    };
    let station = ecardd::server::open_station(&args.db, passphrase.as_deref(), config, clock())?;
    // The monitor thread lists the readers and polls their cards once before a
    // command runs.
    std::thread::sleep(std::time::Duration::from_millis(700));
    Ok(station)
}

fn certificate_id(station: &Station, key: &str) -> Result<i64, Failure> {
    if let Some(row) = station
        .store
        .read(|c| store::certificate_by_number(c, key))?
    {
        return Ok(row.id);
    }
    key.parse::<i64>()
        .ok()
        .filter(|id| station.store.read(|c| store::certificate(c, *id)).is_ok())
        .ok_or_else(|| Failure::new("not_found", format!("找不到证件 {key}")))
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Runtime::new().map_err(|e| Failure::new("runtime", e.to_string()))
}

/// `println!` for the CLI's output. A closed stdout (`ecardd verify | head -1`)
/// is met like a Unix tool meets it: the rest of the output is dropped quietly and
/// the command ends with its own exit status (std's `println!` would panic).
macro_rules! say {
    ($($arg:tt)*) => { write_out(format_args!($($arg)*)) };
}

static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("ecardd: stdout: {e}");
        }
    }
}

fn print(json_out: bool, value: &serde_json::Value, human: impl FnOnce() -> String) {
    if json_out {
        say!("{value}");
    } else {
        say!("{}", human());
    }
}

fn run(cmd: Cmd) -> Result<(), Failure> {
    match cmd {
        Cmd::Serve {
            station,
            listen,
            sync_interval,
        } => {
            let passphrase = station
                .passphrase_file
                .as_deref()
                .map(read_secret)
                .transpose()?;
            let opts = ecardd::server::ServeOptions {
                db: station.db,
                listen,
                passphrase,
                config: StationConfig {
                    bureau_name: station.bureau,
                    card_deadline: std::time::Duration::from_millis(station.card_deadline_ms),
                    ..StationConfig::default()
                },
                sync_interval_secs: sync_interval,
                clock: clock(),
            };
            runtime()?.block_on(ecardd::server::serve(opts))?;
            Ok(())
        }
        Cmd::Demo {
            listen,
            walkthrough,
        } => {
            let rt = runtime()?;
            if walkthrough {
                rt.block_on(ecardd::demo::walkthrough(clock()))?;
            } else {
                rt.block_on(ecardd::demo::serve(listen, clock()))?;
            }
            Ok(())
        }
        Cmd::Readers { json } => readers(json),
        Cmd::Labels { json } => {
            let table = labels::table();
            if json {
                say!("{table}");
            } else {
                for (group, entries) in table.as_object().into_iter().flatten() {
                    for (code, word) in entries.as_object().into_iter().flatten() {
                        say!("{group}\t{code}\t{}", word.as_str().unwrap_or_default());
                    }
                }
            }
            Ok(())
        }
        Cmd::Verify {
            station,
            reader,
            json,
        } => {
            let st = open_station(&station)?;
            let rt = runtime()?;
            let first = rt.block_on(st.verify_first(&reader))?;
            if !json {
                // The verdict first, as soon as it is decided; the photo after it.
                say!("{}", labels::verdict_text(&first.outcome.verdict));
            }
            let photo = rt.block_on(first.photo.wait())?;
            let standing = photo.verdict.standing;
            if json {
                let out = ecardd::ops::VerifyOutcome {
                    verdict: photo.verdict,
                    photo: photo.photo,
                    record: first.outcome.record,
                    apdus: photo.apdus,
                };
                say!("{}", ecardd::api::verdict_view(&out));
            } else {
                let view = ecardd::api::photo_view(&photo);
                let check = &view["check"];
                let mut text = match (check["outcome"].as_str(), &photo.photo) {
                    (Some("passed"), Some(jpeg)) => {
                        format!(
                            "照片：{}通过（{} 字节）",
                            check["label"].as_str().unwrap_or(""),
                            jpeg.len()
                        )
                    }
                    _ => "照片：未通过校验，不予显示".to_string(),
                };
                for f in check["findings"].as_array().into_iter().flatten() {
                    text.push_str(&format!("：{}", f["message"].as_str().unwrap_or("")));
                }
                if standing != first.outcome.verdict.standing {
                    text.push_str(&format!(
                        "\n核验结果更正为：{}",
                        labels::standing_zh(standing)
                    ));
                }
                say!("{text}");
            }
            // The standing (after the photo's check) decides the exit status, so a
            // script can act on it.
            match ecardd::ops::verify_exit_status(standing) {
                0 => Ok(()),
                exit => Err(Failure {
                    code: "standing".into(),
                    message: String::new(),
                    exit,
                }),
            }
        }
        Cmd::Issue {
            station,
            reader,
            certificate,
            json,
        } => {
            let st = open_station(&station)?;
            let id = certificate_id(&st, &certificate)?;
            let out = runtime()?.block_on(st.issue("cli", id, &reader))?;
            let view = ecardd::api::issue_view(&out);
            print(json, &view, || {
                format!(
                    "已制证 {} → 卡号 {}，核验：{}",
                    out.number,
                    out.serial,
                    labels::standing_zh(out.verdict.standing)
                )
            });
            Ok(())
        }
        Cmd::Review {
            station,
            certificate,
            result,
            remark,
            reader,
            year,
            json,
        } => {
            let st = open_station(&station)?;
            let id = certificate_id(&st, &certificate)?;
            let req = ReviewRequest {
                certificate_id: id,
                year,
                result: match result {
                    ReviewOutcome::Passed => card_profile::records::ReviewResult::Passed,
                    ReviewOutcome::Failed => card_profile::records::ReviewResult::Failed,
                },
                remark,
                reader: reader.clone(),
            };
            let r = runtime()?.block_on(st.review("cli", &req))?;
            let view = json!({ "year": r.year, "date": r.date, "result": r.result, "written_to_card": reader.is_some() });
            print(json, &view, || {
                format!(
                    "已记录 {} 年度年审（{}）{}",
                    r.year,
                    r.date,
                    if reader.is_some() {
                        "，已写入卡片"
                    } else {
                        ""
                    }
                )
            });
            Ok(())
        }
        Cmd::Revoke {
            station,
            certificate,
            kind,
            reason,
            destination,
            lost_on,
            void_declared_how,
            void_declared_on,
            reader,
            json,
        } => {
            let st = open_station(&station)?;
            let id = certificate_id(&st, &certificate)?;
            let req = match kind {
                RevokeKind::WriteCard => {
                    let reader = reader
                        .ok_or_else(|| Failure::new("invalid_request", "写卡须指定 --reader"))?;
                    let out = runtime()?.block_on(st.write_status_to_card("cli", id, &reader))?;
                    print(json, &json!(out), || {
                        format!(
                            "证件状态：{}，已写入卡片 {}",
                            out.state.as_str(),
                            out.written_to.as_deref().unwrap_or("")
                        )
                    });
                    return Ok(());
                }
                RevokeKind::Suspend => StatusRequest::Suspend { reason },
                RevokeKind::Lift => StatusRequest::Lift { reason },
                RevokeKind::Cancel => StatusRequest::Cancel {
                    reason,
                    destination: destination.unwrap_or_default(),
                },
                RevokeKind::Reissue => StatusRequest::Reissue {
                    lost_on: lost_on
                        .ok_or_else(|| Failure::new("invalid_request", "补证须填写 --lost-on"))?,
                    void_declared_how: void_declared_how.ok_or_else(|| {
                        Failure::new("invalid_request", "补证须填写 --void-declared-how")
                    })?,
                    void_declared_on: void_declared_on.ok_or_else(|| {
                        Failure::new("invalid_request", "补证须填写 --void-declared-on")
                    })?,
                },
            };
            let out = runtime()?.block_on(st.change_status("cli", id, &req, reader.as_deref()))?;
            let view = json!(out);
            print(json, &view, || {
                let mut t = format!("证件状态：{}", out.state.as_str());
                if let Some(s) = &out.written_to {
                    t.push_str(&format!("，已写入卡片 {s}"));
                }
                if let Some(n) = &out.new_number {
                    t.push_str(&format!("，新证号 {n}（待制证）"));
                }
                t
            });
            match out.card_write_failed {
                // Recorded, but the card still says what it said: its own exit status,
                // so that a script knows to write the card later.
                Some(f) => Err(Failure {
                    code: f.code.into(),
                    message: format!(
                        "变更已记录，但未写入卡片：{}；插入该卡后运行 ecardd revoke --kind write-card",
                        f.message
                    ),
                    exit: 6,
                }),
                None => Ok(()),
            }
        }
        Cmd::Import {
            db,
            roster,
            photos,
            report,
            json,
        } => import(&db, &roster, photos.as_deref(), report.as_deref(), json),
        Cmd::Keys { command } => keys(command),
        Cmd::Sync {
            station,
            status,
            json,
            command,
        } => sync(station, status, json, command),
        Cmd::Operator {
            command:
                OperatorCmd::Add {
                    db,
                    username,
                    display_name,
                    role,
                    password_file,
                },
        } => {
            let role = ecardd::auth::Role::parse(&role)
                .ok_or_else(|| Failure::new("invalid_request", format!("未知的角色：{role}")))?;
            let password = read_secret(&password_file)?;
            let hash = ecardd::auth::hash_password(&password)
                .map_err(|e| Failure::new(e.code(), e.message_zh()))?;
            let store = Store::open(&db, clock())?;
            store.write("cli", |tx| {
                store::create_operator(tx, &username, &display_name, role, &hash)
            })?;
            say!("已创建账户 {username}（{}）", labels::role_zh(role));
            Ok(())
        }
        Cmd::Audit {
            command: AuditCmd::Verify { db, json },
        } => {
            let r = Store::open(&db, clock()).and_then(|s| s.verify_audit_chain())?;
            print(
                json,
                &json!({ "rows": r.rows, "first_broken": r.first_broken }),
                || match &r.first_broken {
                    None => format!("审计日志完整：{} 条", r.rows),
                    Some((seq, why)) => format!("审计日志在第 {seq} 条断裂：{why}"),
                },
            );
            if r.first_broken.is_some() {
                return Err(Failure {
                    code: "audit_broken".into(),
                    message: String::new(),
                    exit: 3,
                });
            }
            Ok(())
        }
    }
}

fn readers(json: bool) -> Result<(), Failure> {
    use ecardd::readers::ReaderBackend;
    let readers = ecardd::readers::pcsc::PcscReaders::start(ecardd::ops::DEFAULT_CARD_DEADLINE);
    // One monitor round: readers are listed, then their cards polled.
    std::thread::sleep(std::time::Duration::from_millis(700));
    if !readers.service_up() {
        return Err(Failure {
            code: "pcsc_unavailable".into(),
            message: "智能卡服务（pcscd）不可用".into(),
            exit: 2,
        });
    }
    let list = readers.list();
    if json {
        say!("{}", json!(list));
    } else if list.is_empty() {
        say!("没有读卡器");
    } else {
        for r in list {
            say!(
                "{}\t{}",
                r.name,
                if r.card_present { "有卡" } else { "无卡" }
            );
        }
    }
    Ok(())
}

fn import(
    db: &Path,
    roster: &Path,
    photos: Option<&Path>,
    report: Option<&Path>,
    json: bool,
) -> Result<(), Failure> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| Failure::new("io", format!("无法读取 {}：{e}", p.display())))
    };
    let xlsx = read(roster)?;
    let zip = photos.map(read).transpose()?;
    let store = std::sync::Arc::new(Store::open(db, clock())?);
    let station = Station::without_keys(
        store,
        ecardd::readers::Readers::none(),
        card_profile::pki::TrustList::default(),
        StationConfig::default(),
    );
    let photos = match &zip {
        Some(z) => ecard_domain::roster::Photos::Zip(z),
        None => ecard_domain::roster::Photos::None,
    };
    match station.import_roster("cli", &xlsx, photos) {
        Ok(out) => {
            print(json, &json!(out), || {
                format!("已导入 {} 条申请，等待审批", out.imported)
            });
            Ok(())
        }
        Err(ecardd::ops::ImportError::Op(e)) => Err(e.into()),
        Err(ecardd::ops::ImportError::Rejected(r)) => {
            if let Some(path) = report {
                let bytes = r
                    .to_xlsx()
                    .map_err(|e| Failure::new("xlsx", e.to_string()))?;
                std::fs::write(path, bytes).map_err(|e| Failure::new("io", e.to_string()))?;
            }
            if json {
                say!(
                    "{}",
                    json!({ "code": "import_rejected", "message": r.to_string(), "errors": r.issues })
                );
            } else {
                for i in &r.issues {
                    eprintln!("{i}");
                }
            }
            Err(Failure {
                code: "import_rejected".into(),
                message: r.to_string(),
                exit: 4,
            })
        }
    }
}

impl From<ecardd::sync::SyncError> for Failure {
    fn from(e: ecardd::sync::SyncError) -> Self {
        Failure {
            code: e.code().into(),
            message: e.message_zh(),
            exit: if e.is_retryable() { 5 } else { 2 },
        }
    }
}

fn sync(args: StationArgs, status: bool, json: bool, cmd: Option<SyncCmd>) -> Result<(), Failure> {
    let store = std::sync::Arc::new(Store::open(&args.db, clock())?);
    let today = clock().today();
    if let Some(SyncCmd::Enroll {
        registry,
        station_id,
        registry_key_id,
        registry_cert_sha256,
        insecure_loopback_http,
    }) = cmd
    {
        // No trust on first use: the key id comes from the registry operator, not
        // from whoever answers on the network.
        let expected_key_id = registry_key_id.ok_or_else(|| {
            Failure::new(
                "registry_key_id_required",
                "登记本站须提供 --registry-key-id（登记中心管理员线下提供的密钥标识，见登记中心启动日志），未登记",
            )
        })?;
        let tls = match (registry_cert_sha256, insecure_loopback_http) {
            (Some(pin), false) => ecard_sync_protocol::client::RegistryTls::from_setting(&pin).ok_or_else(|| {
                Failure::new(
                    "invalid_request",
                    "--registry-cert-sha256 须为 64 位十六进制（登记中心启动时输出的证书指纹）",
                )
            })?,
            (None, true) => ecard_sync_protocol::client::RegistryTls::InsecureLoopbackHttp,
            _ => {
                return Err(Failure::new(
                    "registry_cert_required",
                    "登记本站须提供 --registry-cert-sha256（登记中心证书指纹，见其启动输出）；仅本机测试可改用 --insecure-loopback-http",
                ))
            }
        };
        let passphrase = read_secret(args.passphrase_file.as_deref().ok_or_else(|| {
            Failure::new(
                "invalid_request",
                "登记本站须提供 --passphrase-file（用于加密本站密钥）",
            )
        })?)?;
        let rt = runtime()?;
        let fetch = ecard_sync_protocol::client::RegistryClient::new(
            &registry,
            &station_id,
            std::sync::Arc::new(
                card_profile::pki::SigningKey::generate()
                    .map_err(|e| Failure::new("error", e.to_string()))?,
            ),
            clock(),
            tls,
        )
        .map_err(ecardd::sync::SyncError::from)?;
        let key = rt
            .block_on(fetch.registry_key())
            .map_err(ecardd::sync::SyncError::from)?;
        let public = ecardd::sync::enroll(
            &store,
            &ecardd::sync::Enrolment {
                registry_url: &registry,
                station_id: &station_id,
                registry_key: &key,
                expected_key_id: &expected_key_id,
                tls,
            },
            &passphrase,
            ecardd::keystore::KdfParams::default(),
        )?;
        print(
            json,
            &json!({ "station_id": station_id, "public_key": public, "registry_key_id": key.key_id }),
            || {
                format!(
                "本站 {station_id} 已登记；登记中心密钥标识 {}\n请登记中心管理员执行：ecard-registry station add --name {station_id} --public-key {public}",
                key.key_id
            )
            },
        );
        return Ok(());
    }
    if status {
        let s = ecardd::sync::status(&store, today)?;
        print(json, &json!(s), || {
            format!(
                "登记中心：{}\n上次成功：{}\n待上报：{} 条{}\n注销名单：第 {} 号，{}",
                s.registry_url.as_deref().unwrap_or("未登记"),
                s.last_success.as_deref().unwrap_or("从未"),
                s.backlog,
                match (&s.oldest_unsent_on, s.oldest_unsent_working_days) {
                    (Some(on), Some(days)) => format!(
                        "，最早一条 {on}，已 {days} 个工作日（须在 {} 个工作日内报送）{}",
                        s.deadline_working_days,
                        if s.deadline_at_risk {
                            " ⚠ 即将或已经超期"
                        } else {
                            ""
                        }
                    ),
                    _ => String::new(),
                },
                s.revocation_list_number
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "—".into()),
                s.revocation_list_age_days
                    .map(|d| format!("{d} 天前"))
                    .unwrap_or_else(|| "无".into())
            )
        });
        return Ok(());
    }
    let passphrase = read_secret(args.passphrase_file.as_deref().ok_or_else(|| {
        Failure::new(
            "invalid_request",
            "同步须提供 --passphrase-file（解锁本站密钥）",
        )
    })?)?;
    let (client, registry_key) = ecardd::sync::open(&store, &passphrase)?;
    let trust = ecardd::keyring::trust_list(&store)?;
    let station = Station::without_keys(
        store,
        ecardd::readers::Readers::none(),
        trust,
        StationConfig::default(),
    );
    let report = runtime()?.block_on(ecardd::sync::round(&station, &client, &registry_key))?;
    print(json, &json!(report), || {
        format!(
            "同步完成：上报 {} 条，收到 {} 项（制证任务 {}，状态变更 {}），注销名单新增 {} 条",
            report.pushed,
            report.feed_items,
            report.orders,
            report.status_changes,
            report.revocations_added
        ) + &if report.trust_lists_refused > 0 {
            format!(
                "\n⚠ 拒绝了 {} 份信任列表（非本站信任根签名或不是更新的列表），原信任列表不变，详见审计日志",
                report.trust_lists_refused
            )
        } else {
            String::new()
        }
    });
    Ok(())
}

fn keys(cmd: KeysCmd) -> Result<(), Failure> {
    use ecardd::keyring;
    use ecardd::keystore::KdfParams;
    let today = clock().today();
    match cmd {
        KeysCmd::Root {
            command:
                RootCmd::Init {
                    out,
                    name,
                    passphrase_file,
                },
        } => {
            if out.exists() {
                return Err(Failure::new(
                    "exists",
                    format!("{} 已存在，未覆盖", out.display()),
                ));
            }
            let file = keyring::init_root(
                &name,
                &read_secret(&passphrase_file)?,
                today,
                KdfParams::default(),
            )?;
            let text = serde_json::to_string_pretty(&file)
                .map_err(|e| Failure::new("error", e.to_string()))?;
            std::fs::write(&out, text).map_err(|e| Failure::new("io", e.to_string()))?;
            say!(
                "根密钥已写入 {}（加密保存）；公钥标识 {}",
                out.display(),
                hex::encode(file.anchor.key_id)
            );
            Ok(())
        }
        KeysCmd::Root {
            command:
                RootCmd::SignTrustList {
                    root,
                    passphrase_file,
                    list,
                    number,
                    out,
                },
        } => {
            let read = |p: &Path| {
                std::fs::read(p).map_err(|e| Failure::new("io", format!("{}: {e}", p.display())))
            };
            let bad = |p: &Path, e: serde_json::Error| {
                Failure::new("invalid_request", format!("{}: {e}", p.display()))
            };
            let file: keyring::RootKeyFile =
                serde_json::from_slice(&read(&root)?).map_err(|e| bad(&root, e))?;
            let trust = serde_json::from_slice(&read(&list)?).map_err(|e| bad(&list, e))?;
            let signed =
                keyring::sign_trust_list(&file, &read_secret(&passphrase_file)?, trust, number)?;
            let text = serde_json::to_string_pretty(&signed)
                .map_err(|e| Failure::new("error", e.to_string()))?;
            std::fs::write(&out, text).map_err(|e| Failure::new("io", e.to_string()))?;
            say!(
                "第 {number} 号信任列表已由根密钥签名，写入 {}",
                out.display()
            );
            Ok(())
        }
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
                    today,
                    kdf: KdfParams::default(),
                    existing_master: master.as_ref(),
                },
            )?;
            print(json, &json!(status), || {
                format!("本站密钥已生成并加密保存：{bureau}")
            });
            Ok(())
        }
        KeysCmd::Status { db, json } => {
            let status = keyring::status(&Store::open(&db, clock())?)?;
            print(json, &json!(status), || {
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

/// The process's one clock, set once in `main` (the only place ecardd reads the
/// system clock; `ECARD_TODAY` moves it for tests) and handed to everything from there.
static CLOCK: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();

fn clock() -> Clock {
    CLOCK.get().copied().unwrap_or_default()
}

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
            let _ = CLOCK.set(c);
        }
        Err(e) => {
            eprintln!("ecardd: {e}");
            return ExitCode::from(2);
        }
    }
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("ecardd: {}（{}）", f.message, f.code);
            }
            ExitCode::from(f.exit)
        }
    }
}

//! `ecardd doctor` and 设置's 自检: is this station set up to work? Each check turns
//! facts gathered elsewhere (`probe`) into findings — ok, warning or fault, each
//! in Chinese and English with what to do — so the rules are plain functions a unit
//! test can feed any situation, and the CLI and the API show the same lines.

pub mod probe;

use chrono::NaiveDate;

// The report's shape is shared with `ecard-registry doctor` (one JSON for both).
pub use ecard_doctor_report::{Finding, Level, Report, EXIT_FAULT, EXIT_WARNING};

/// pcscd answers (a PC/SC context could be established).
pub fn pcscd(up: bool) -> Finding {
    if up {
        return Finding::ok(
            "pcscd",
            "pcscd_ok",
            "智能卡服务（pcscd）可用",
            "pcscd is reachable",
        );
    }
    Finding::bad(
        "pcscd",
        Level::Fault,
        "pcscd_unreachable",
        (
            "智能卡服务（pcscd）不可用，无法读写卡".into(),
            "pcscd is not reachable: no card can be read or written".into(),
        ),
        (
            "安装并启动 pcscd：apt-get install pcscd；systemctl enable --now pcscd.socket",
            "install and start pcscd: apt-get install pcscd; systemctl enable --now pcscd.socket",
        ),
    )
}

/// The name pcscd gives the vpcd virtual reader (a test tool, docs/OPERATIONS.md §8).
const VIRTUAL_READER: &str = "Virtual PCD";

/// The readers pcscd lists (only meaningful when pcscd is up).
pub fn readers(names: &[String]) -> Vec<Finding> {
    if names.is_empty() {
        return vec![Finding::bad(
            "readers",
            Level::Warning,
            "no_reader",
            ("没有读卡器".into(), "no card reader is connected".into()),
            (
                "接上读卡器，用 opensc-tool -l 确认能看到它",
                "plug in a reader and check that opensc-tool -l lists it",
            ),
        )];
    }
    let mut out = vec![Finding::ok(
        "readers",
        "readers_ok",
        format!("读卡器 {} 个：{}", names.len(), names.join("，")),
        format!("{} reader(s): {}", names.len(), names.join(", ")),
    )];
    if names.iter().any(|n| n.starts_with(VIRTUAL_READER)) {
        out.push(Finding::bad(
            "readers",
            Level::Warning,
            "virtual_reader",
            (
                "有虚拟读卡器（vpcd，测试工具）：网络上任何人都可以向本站出示卡片".into(),
                "a virtual reader (vpcd, a test tool) is present: anyone on the network can present a card".into(),
            ),
            (
                "生产站点上卸载 vsmartcard-vpcd",
                "remove vsmartcard-vpcd from a production station",
            ),
        ));
    }
    out
}

/// The reader drivers pcscd can load: bundle names under /usr/lib/pcsc/drivers and
/// serial driver entries in /etc/reader.conf.d.
pub fn drivers(installed: &[String]) -> Finding {
    if installed.is_empty() {
        return Finding::bad(
            "drivers",
            Level::Fault,
            "no_driver",
            (
                "没有安装读卡器驱动".into(),
                "no reader driver is installed".into(),
            ),
            (
                "安装 libccid：apt-get install libccid",
                "install libccid: apt-get install libccid",
            ),
        );
    }
    if !installed.iter().any(|d| d == CCID_BUNDLE) {
        return Finding::bad(
            "drivers",
            Level::Warning,
            "no_ccid_driver",
            (
                format!(
                    "未安装 USB 读卡器通用驱动（CCID）；已有：{}",
                    installed.join("，")
                ),
                format!(
                    "the USB CCID driver is not installed; found: {}",
                    installed.join(", ")
                ),
            ),
            (
                "安装 libccid：apt-get install libccid",
                "install libccid: apt-get install libccid",
            ),
        );
    }
    Finding::ok(
        "drivers",
        "drivers_ok",
        format!("读卡器驱动：{}", installed.join("，")),
        format!("reader drivers: {}", installed.join(", ")),
    )
}

/// libccid's bundle: the driver for almost every USB reader.
pub const CCID_BUNDLE: &str = "ifd-ccid.bundle";

/// The keys as the doctor sees them.
#[derive(Debug, Clone)]
pub struct KeyFacts {
    /// `keys init` has run (a sealed master key is stored).
    pub initialised: bool,
    /// The document signer's last valid day.
    pub signer_valid_until: Option<NaiveDate>,
    pub trust_anchors: usize,
    /// Whether the keys are open: `None` no passphrase was given (verify-only),
    /// `Some(false)` the passphrase given does not open them.
    pub unlocked: Option<bool>,
}

/// Days before the signer's end from which the doctor warns.
pub const SIGNER_WARN_DAYS: i64 = 90;

pub fn keys(k: &KeyFacts, today: NaiveDate) -> Vec<Finding> {
    if !k.initialised {
        return vec![Finding::bad(
            "keys",
            Level::Warning,
            "keys_not_initialised",
            (
                "本站尚未生成密钥：只能验证，不能制卡".into(),
                "the station has no keys yet: it can verify but not write cards".into(),
            ),
            (
                "以服务用户运行 ecardd keys init（docs/OPERATIONS.md 第 4 节）",
                "run ecardd keys init as the service user (docs/OPERATIONS.md section 4)",
            ),
        )];
    }
    let mut out = Vec::new();
    match k.signer_valid_until {
        Some(until) if until < today => out.push(Finding::bad(
            "keys",
            Level::Fault,
            "signer_expired",
            (
                format!("签名证书已于 {until} 过期：无法制卡"),
                format!("the document signer expired on {until}: cards cannot be written"),
            ),
            (
                "请省级根证书为本站重新签发签名证书",
                "have the province root certify a new document signer",
            ),
        )),
        Some(until) if (until - today).num_days() <= SIGNER_WARN_DAYS => out.push(Finding::bad(
            "keys",
            Level::Warning,
            "signer_expiring",
            (
                format!("签名证书将于 {until} 到期"),
                format!("the document signer expires on {until}"),
            ),
            (
                "请尽早安排重新签发签名证书",
                "arrange a new document signer before then",
            ),
        )),
        Some(until) => out.push(Finding::ok(
            "keys",
            "keys_ok",
            format!("密钥已生成，签名证书有效至 {until}"),
            format!("keys present, document signer valid until {until}"),
        )),
        None => out.push(Finding::bad(
            "keys",
            Level::Fault,
            "signer_missing",
            (
                "有主密钥但没有签名证书".into(),
                "a master key but no document signer is stored".into(),
            ),
            ("从备份恢复数据库", "restore the database from a backup"),
        )),
    }
    if k.trust_anchors == 0 {
        out.push(Finding::bad(
            "keys",
            Level::Fault,
            "no_trust_anchor",
            (
                "信任列表为空：任何卡都无法验证".into(),
                "the trust list is empty: no card can be verified".into(),
            ),
            (
                "ecardd sync 取得省级信任列表，或在 设置 中添加根证书",
                "run ecardd sync to take the province's trust list, or add the root on 设置",
            ),
        ));
    }
    match k.unlocked {
        Some(true) => out.push(Finding::ok("keys", "keys_unlocked", "密钥已解锁，可以制卡", "keys unlocked: cards can be written")),
        Some(false) => out.push(Finding::bad(
            "keys",
            Level::Fault,
            "keys_wrong_passphrase",
            ("给出的口令打不开密钥".into(), "the passphrase given does not open the keys".into()),
            ("检查口令文件或 systemd 凭据 ecardd-passphrase", "check the passphrase file or the systemd credential ecardd-passphrase"),
        )),
        None => out.push(Finding::bad(
            "keys",
            Level::Warning,
            "keys_locked",
            ("未给出口令：本站只验证，不制卡".into(), "no passphrase given: the station verifies but does not write cards".into()),
            (
                "用 --passphrase-file 或 systemd 凭据启动（docs/OPERATIONS.md 第 2 节）",
                "start with --passphrase-file or the systemd credential (docs/OPERATIONS.md section 2)",
            ),
        )),
    }
    out
}

/// What opening the database found.
#[derive(Debug, Clone)]
pub enum DatabaseFacts {
    /// No file yet: the first start creates it.
    Missing,
    /// The file could not be opened or migrated.
    Unreadable(String),
    Opened {
        /// `PRAGMA integrity_check`'s lines ("ok" alone when sound).
        integrity: Vec<String>,
        audit_rows: u64,
        /// First broken row of the audit chain and why.
        audit_broken: Option<(i64, String)>,
        /// Group or others may read the file.
        readable_by_others: bool,
    },
}

pub fn database(d: &DatabaseFacts, path: &str) -> Vec<Finding> {
    match d {
        DatabaseFacts::Missing => vec![Finding::bad(
            "database",
            Level::Warning,
            "database_missing",
            (
                format!("数据库 {path} 尚不存在"),
                format!("the database {path} does not exist yet"),
            ),
            (
                "启动服务（首次启动时创建），或检查 --db / ECARDD_DB",
                "start the service (the first start creates it), or check --db / ECARDD_DB",
            ),
        )],
        DatabaseFacts::Unreadable(why) => vec![Finding::bad(
            "database",
            Level::Fault,
            "database_unreadable",
            (
                format!("无法打开数据库 {path}：{why}"),
                format!("cannot open the database {path}: {why}"),
            ),
            (
                "停止服务，从最近的备份恢复（docs/OPERATIONS.md 第 6 节）",
                "stop the service and restore the latest backup (docs/OPERATIONS.md section 6)",
            ),
        )],
        DatabaseFacts::Opened {
            integrity,
            audit_rows,
            audit_broken,
            readable_by_others,
        } => {
            let mut out = Vec::new();
            if integrity.len() == 1 && integrity[0] == "ok" {
                out.push(Finding::ok(
                    "database",
                    "database_ok",
                    format!("数据库完整：{path}"),
                    format!("database integrity ok: {path}"),
                ));
            } else {
                let first = integrity.first().cloned().unwrap_or_default();
                out.push(Finding::bad(
                    "database",
                    Level::Fault,
                    "database_corrupt",
                    (format!("数据库损坏：{first}"), format!("the database is corrupt: {first}")),
                    ("停止服务，从最近的备份恢复（docs/OPERATIONS.md 第 6 节）", "stop the service and restore the latest backup (docs/OPERATIONS.md section 6)"),
                ));
            }
            if *readable_by_others {
                out.push(Finding::bad(
                    "database",
                    Level::Warning,
                    "database_mode",
                    (
                        "数据库文件可被其他用户读取".into(),
                        "other users can read the database file".into(),
                    ),
                    ("chmod 0600 数据库文件", "chmod 0600 the database file"),
                ));
            }
            match audit_broken {
                None => out.push(Finding::ok("audit", "audit_ok", format!("审计日志完整：{audit_rows} 条"), format!("audit chain intact: {audit_rows} rows"))),
                Some((seq, why)) => out.push(Finding::bad(
                    "audit",
                    Level::Fault,
                    "audit_broken",
                    (format!("审计日志在第 {seq} 条断裂：{why}"), format!("the audit chain breaks at row {seq}: {why}")),
                    ("保全现场并报告；从备份恢复前先复制当前数据库", "preserve the evidence and report it; copy the database before restoring a backup"),
                )),
            }
            out
        }
    }
}

/// The clock: `today` as the process reads it, the newest day the database recorded,
/// whether `ECARD_TODAY` moved it.
pub fn clock(today: NaiveDate, newest_record: Option<NaiveDate>, moved: bool) -> Finding {
    if today.year_ce().1 < EARLIEST_YEAR {
        return Finding::bad(
            "clock",
            Level::Fault,
            "clock_implausible",
            (
                format!("系统日期 {today} 不可信"),
                format!("the system date {today} is implausible"),
            ),
            (
                "校准系统时间（timedatectl set-ntp true）",
                "set the system time (timedatectl set-ntp true)",
            ),
        );
    }
    if let Some(newest) = newest_record.filter(|n| *n > today) {
        return Finding::bad(
            "clock",
            Level::Fault,
            "clock_behind_records",
            (
                format!("系统日期 {today} 早于数据库中最新的记录（{newest}）：时钟被调回了"),
                format!("the system date {today} is before the newest record ({newest}): the clock went back"),
            ),
            ("校准系统时间后再制卡或年审", "correct the system time before writing or reviewing cards"),
        );
    }
    if moved {
        return Finding::bad(
            "clock",
            Level::Warning,
            "clock_moved",
            (
                format!("日期被 ECARD_TODAY 设为 {today}（仅用于测试）"),
                format!("the date is moved to {today} by ECARD_TODAY (tests only)"),
            ),
            (
                "生产站点上去掉 ECARD_TODAY",
                "unset ECARD_TODAY on a production station",
            ),
        );
    }
    Finding::ok(
        "clock",
        "clock_ok",
        format!("日期 {today}"),
        format!("date {today}"),
    )
}

use chrono::Datelike;

/// A date before this year is a clock that was never set (the project did not exist).
const EARLIEST_YEAR: u32 = 2025;

/// The registry as the doctor sees it.
#[derive(Debug, Clone)]
pub enum RegistryFacts {
    NotEnrolled,
    /// Enrolled; `pinned`: the stored registry key and transport pin are usable;
    /// `probe`: what asking the registry for its key gave (`None`: not asked).
    Enrolled {
        url: String,
        pinned: bool,
        probe: Option<Result<ProbeAnswer, String>>,
    },
}

/// What the registry answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeAnswer {
    /// Its key is the pinned one.
    SameKey,
    /// Its key is another: a different server, or a changed key.
    OtherKey(String),
}

pub fn registry(r: &RegistryFacts) -> Finding {
    let fix_enrol = (
        "按 docs/OPERATIONS.md 第 0 节运行 ecardd sync enroll",
        "run ecardd sync enroll (docs/OPERATIONS.md section 0)",
    );
    match r {
        RegistryFacts::NotEnrolled => Finding::bad(
            "registry",
            Level::Warning,
            "registry_not_enrolled",
            ("未登记到省级系统：记录不会上报，注销名单不会更新".into(), "not enrolled with a registry: records are not sent and the revocation list is not updated".into()),
            fix_enrol,
        ),
        RegistryFacts::Enrolled { url, pinned: false, .. } => Finding::bad(
            "registry",
            Level::Fault,
            "registry_not_pinned",
            (format!("省级系统 {url} 的密钥或证书未固定"), format!("the key or certificate of the registry {url} is not pinned")),
            fix_enrol,
        ),
        RegistryFacts::Enrolled { url, probe: None, .. } => Finding::ok(
            "registry",
            "registry_pinned",
            format!("已登记到 {url}，密钥已固定（未联网检查）"),
            format!("enrolled with {url}, key pinned (not contacted)"),
        ),
        RegistryFacts::Enrolled { url, probe: Some(Ok(ProbeAnswer::SameKey)), .. } => Finding::ok(
            "registry",
            "registry_ok",
            format!("省级系统 {url} 可达，密钥与固定的一致"),
            format!("registry {url} reachable, its key is the pinned one"),
        ),
        RegistryFacts::Enrolled { url, probe: Some(Ok(ProbeAnswer::OtherKey(id))), .. } => Finding::bad(
            "registry",
            Level::Fault,
            "registry_key_changed",
            (format!("{url} 出示的密钥 {id} 不是固定的密钥"), format!("{url} presents key {id}, not the pinned one")),
            ("向省级系统管理员核实密钥；确认后重新登记", "check the key with the registry's operator; enrol again once confirmed"),
        ),
        RegistryFacts::Enrolled { url, probe: Some(Err(why)), .. } => Finding::bad(
            "registry",
            Level::Warning,
            "registry_unreachable",
            (format!("省级系统 {url} 不可达：{why}"), format!("the registry {url} is unreachable: {why}")),
            ("检查网络；记录留在本站，恢复后自动上报", "check the network; records wait on the station and are sent when it is back"),
        ),
    }
}

/// The revocation list's age in days (`None`: never received) against the limit
/// beyond which verification answers 无法确认.
pub fn revocation_list(age_days: Option<i64>, max_age_days: i64) -> Finding {
    match age_days {
        None => Finding::bad(
            "revocation_list",
            Level::Warning,
            "revocation_list_missing",
            ("还没有注销名单：验证只能答“无法确认”".into(), "no revocation list yet: verification answers 无法确认 (cannot confirm)".into()),
            ("登记后运行 ecardd sync", "enrol, then run ecardd sync"),
        ),
        Some(age) if age > max_age_days => Finding::bad(
            "revocation_list",
            Level::Fault,
            "revocation_list_stale",
            (format!("注销名单已 {age} 天未更新（上限 {max_age_days} 天）：验证答“无法确认”"), format!("the revocation list is {age} days old (limit {max_age_days}): verification answers 无法确认")),
            ("运行 ecardd sync，检查与省级系统的连接", "run ecardd sync and check the connection to the registry"),
        ),
        Some(age) if age * 2 > max_age_days => Finding::bad(
            "revocation_list",
            Level::Warning,
            "revocation_list_ageing",
            (format!("注销名单已 {age} 天未更新（上限 {max_age_days} 天）"), format!("the revocation list is {age} days old (limit {max_age_days})")),
            ("运行 ecardd sync", "run ecardd sync"),
        ),
        Some(age) => Finding::ok(
            "revocation_list",
            "revocation_list_ok",
            format!("注销名单 {age} 天前更新"),
            format!("revocation list updated {age} days ago"),
        ),
    }
}

#[cfg(test)]
mod tests;

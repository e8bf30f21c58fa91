//! The one vocabulary: the Chinese word a person reads for every value a program
//! passes around. The core (card_profile, store, ops) passes enums and stable
//! codes; the words are made here, at the edge, and nowhere else. The API serves the
//! whole table (`GET /api/v1/labels`, [`table`]) for the web UI, adds a label beside
//! values in its answers, and the CLI prints the same words.
//!
//! Every enum's words are written once, in a `vocabulary!` list that makes both the
//! exhaustive `match` and the list of all values: a new variant does not compile
//! until it has its word, and then it is in the table by itself.

use crate::auth::Role;
use crate::store::{
    CardState, CertificateState, Conflict, CorrectionState, FixedField, FollowUp, JobState,
};
use card_profile::pki::ChainError;
use card_profile::profile::{Family, FileId};
use card_profile::records::{CardState as CardStatus, CertificateKind, Gender, ReviewResult};
use card_profile::verdict::{CheckKind, Finding, Outcome, ReviewSource, Standing};
use ecard_domain::codes::PostCode;
use ecard_domain::validity::ReviewStatus;
use ecard_sync_protocol::events::StatusKind;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// `vocabulary!(fn_name, ALL_NAME: Type { Variant => "词", … })`: the label
/// function (an exhaustive match) and every value, from one list.
macro_rules! vocabulary {
    ($(#[$m:meta])* $f:ident, $all:ident : $ty:ident { $($v:ident => $zh:literal),+ $(,)? }) => {
        $(#[$m])*
        pub fn $f(v: $ty) -> &'static str {
            match v { $($ty::$v => $zh),+ }
        }

        /// Every value, in declaration order.
        pub const $all: &[$ty] = &[$($ty::$v),+];
    };
}

vocabulary!(
    /// The overall answer of a verification.
    standing_zh, STANDINGS: Standing {
        Valid => "有效",
        Invalid => "无效",
        Revoked => "已注销",
        Suspended => "已暂停",
        Expired => "已过期",
        NotYetValid => "尚未生效",
        ReviewOverdue => "年审逾期",
        ReviewFailed => "年审不合格",
        Unconfirmed => "无法确认",
    }
);

/// The sentence under the standing on the verification screen.
pub fn standing_note_zh(s: Standing) -> &'static str {
    match s {
        Standing::Valid => "证件真实、有效",
        Standing::Invalid => "证件未通过真伪或完整性核验",
        Standing::Revoked => "证件已被注销，不得用于执法",
        Standing::Suspended => "证件处于暂停状态，不得用于执法",
        Standing::Expired => "证件已超过有效期",
        Standing::NotYetValid => "证件尚未到生效日期",
        Standing::ReviewOverdue => "证件未按期年审",
        Standing::ReviewFailed => "证件年审不合格",
        Standing::Unconfirmed => {
            "本机注销名单缺失或过旧，无法确认证件是否已被注销；请同步后重新核验"
        }
    }
}

/// One check's outcome: its stable code and its word.
pub fn outcome_key(o: &Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Warning { .. } => "warning",
        Outcome::Failed { .. } => "failed",
        Outcome::Pending => "pending",
    }
}

pub fn outcome_zh(o: &Outcome) -> &'static str {
    match o {
        Outcome::Passed => "通过",
        Outcome::Warning { .. } => "警告",
        Outcome::Failed { .. } => "未通过",
        Outcome::Pending => "待完成",
    }
}

fn outcomes() -> [Outcome; 4] {
    [
        Outcome::Passed,
        Outcome::Warning {
            findings: Vec::new(),
        },
        Outcome::Failed {
            findings: Vec::new(),
        },
        Outcome::Pending,
    ]
}

/// A verdict as the CLI prints it: the standing, the holder, and each check with
/// its outcome and findings, in words.
pub fn verdict_text(v: &card_profile::verdict::Verdict) -> String {
    let mut text = format!(
        "核验结果：{}（{}，卡号 {}）",
        standing_zh(v.standing),
        family_zh(v.family),
        hex::encode_upper(v.serial)
    );
    if let Some(h) = &v.holder {
        text.push_str(&format!("\n持证人：{}（{}）", h.name, h.id_number));
    }
    for c in &v.checks {
        text.push_str(&format!(
            "\n  [{}] {}",
            outcome_zh(&c.outcome),
            check_zh(c.check)
        ));
        if let Outcome::Warning { findings } | Outcome::Failed { findings } = &c.outcome {
            for f in findings {
                text.push_str(&format!("：{}", finding_zh(f)));
            }
        }
    }
    text
}

vocabulary!(
    /// The card's files, as findings name them.
    file_zh, FILES: FileId {
        Ver => "版本文件",
        Holder => "持证人信息",
        Photo => "照片",
        Cert => "证件信息",
        Sod => "安全对象",
        Reviews => "年审记录",
        Status => "状态文件",
    }
);

/// A check's word; a file's hash check names its file.
pub fn check_zh(check: CheckKind) -> String {
    match check {
        CheckKind::FileHash(f) => format!("{}：{}", check_kind_zh(check), file_zh(f)),
        other => check_kind_zh(other).to_owned(),
    }
}

/// A check's word without its file.
pub fn check_kind_zh(check: CheckKind) -> &'static str {
    match check {
        CheckKind::LifeCycle => "卡片生命周期",
        CheckKind::FileFormat => "数据格式",
        CheckKind::SignerChain => "签发机关证书链",
        CheckKind::SodSignature => "数据签名",
        CheckKind::SerialBinding => "卡号绑定",
        CheckKind::FileHash(_) => "数据完整性",
        CheckKind::ChipAuthentication => "芯片防伪认证",
        CheckKind::ValidityDates => "有效期",
        CheckKind::CardStatus => "卡内状态",
        CheckKind::RevocationList => "注销名单",
        CheckKind::AnnualReview => "年审",
    }
}

/// The check's snake_case name without its file, and the file when it has one.
pub fn check_key(check: CheckKind) -> (&'static str, Option<FileId>) {
    match check {
        CheckKind::LifeCycle => ("life_cycle", None),
        CheckKind::FileFormat => ("file_format", None),
        CheckKind::SignerChain => ("signer_chain", None),
        CheckKind::SodSignature => ("sod_signature", None),
        CheckKind::SerialBinding => ("serial_binding", None),
        CheckKind::FileHash(f) => ("file_hash", Some(f)),
        CheckKind::ChipAuthentication => ("chip_authentication", None),
        CheckKind::ValidityDates => ("validity_dates", None),
        CheckKind::CardStatus => ("card_status", None),
        CheckKind::RevocationList => ("revocation_list", None),
        CheckKind::AnnualReview => ("annual_review", None),
    }
}

fn check_kinds() -> [CheckKind; 11] {
    [
        CheckKind::LifeCycle,
        CheckKind::FileFormat,
        CheckKind::SignerChain,
        CheckKind::SodSignature,
        CheckKind::SerialBinding,
        CheckKind::FileHash(FileId::Ver),
        CheckKind::ChipAuthentication,
        CheckKind::ValidityDates,
        CheckKind::CardStatus,
        CheckKind::RevocationList,
        CheckKind::AnnualReview,
    ]
}

fn chain_zh(e: &ChainError) -> String {
    match e {
        ChainError::UnknownIssuer => "签发机关证书不是由受信任的根证书签发（未知签发者）".into(),
        ChainError::BadSignature => "签发机关证书的签名无效".into(),
        ChainError::SuiteMismatch => "签发机关证书与根证书的密码算法不一致".into(),
        ChainError::SignerOutOfValidity { on, from, until } => {
            format!("签发机关证书在 {on} 不在有效期内（{from} 至 {until}）")
        }
        ChainError::RootOutOfValidity { name, on } => format!("根证书「{name}」在 {on} 已失效"),
        ChainError::SignerRevoked { revoked_on, on } => {
            format!("签发机关证书已于 {revoked_on} 被省级根证书机构撤销，本卡签于 {on}")
        }
    }
}

/// What one finding says, in a sentence.
pub fn finding_zh(f: &Finding) -> String {
    match f {
        Finding::NotActivated { .. } => "卡片未完成制作（未激活），可能写卡中断".into(),
        Finding::Terminated => "卡片已注销（应用已终止），不再进行芯片认证".into(),
        Finding::FileMissing { file } => format!("缺少{}", file_zh(*file)),
        Finding::FileMalformed { file, .. } => format!("{}格式错误", file_zh(*file)),
        Finding::Signer { error } => chain_zh(error),
        Finding::SodSignatureInvalid => "数据签名无效，卡片数据可能被伪造".into(),
        Finding::SerialMismatch => "卡号与签名数据不一致".into(),
        Finding::HashMismatch { file } => format!("{}被篡改（哈希不符）", file_zh(*file)),
        Finding::HashMissing { file } => format!("安全对象中缺少{}的哈希", file_zh(*file)),
        Finding::ChipAuthenticationFailed => "芯片认证失败：疑似复制卡".into(),
        Finding::ChipAuthenticationRefused { .. } => "芯片拒绝认证：疑似复制卡".into(),
        Finding::NotYetValid { from } => format!("证件自 {from} 起生效"),
        Finding::Expired { until } => format!("证件已于 {until} 过期"),
        Finding::StatusSignatureInvalid => "卡内状态记录签名无效".into(),
        Finding::StatusRolledBack { seen, found } => {
            format!("卡内状态记录是旧的（序号 {found}，本站已见过序号 {seen}），状态可能被回退")
        }
        Finding::Suspended { reason, since } => {
            format!("自 {since} 起暂停执法：{}", reason_zh(reason))
        }
        Finding::SuspensionListed { reason, since } => format!(
            "本站记录：自 {since} 起暂停执法：{}；卡内记载的是此前的状态，与本站记录不符",
            reason_zh(reason)
        ),
        Finding::Revoked { reason, since } => {
            format!("已于 {since} 注销：{}", reason_zh(reason))
        }
        Finding::OnRevocationList { reason, since } => {
            format!("在注销名单上（{since}）：{}", reason_zh(reason))
        }
        Finding::RevocationListStale { age_days, max_days } => {
            format!(
                "注销名单已 {age_days} 天未更新（上限 {max_days} 天），无法确认证件是否已被注销"
            )
        }
        Finding::RevocationListMissing => "本机没有注销名单，无法核对是否已注销".into(),
        Finding::ReviewOverdue { year } => format!("{year} 年度年审逾期未审"),
        Finding::ReviewDue { year, deadline } => {
            format!("{year} 年度年审须在 {deadline} 前完成")
        }
        Finding::ReviewFailed { year } => format!("{year} 年度年审不合格"),
        Finding::ReviewRecordInvalid { index } => format!("第 {} 条年审记录无效", index + 1),
        Finding::PhotoNeedsPin => "PIV 标准卡的照片须持证人输入 PIN 后读取，本次未核对照片".into(),
        Finding::ChuidInvalid => "卡片标识（CHUID）缺失或签名无效".into(),
        Finding::ChipCertificateInvalid => "芯片认证证书缺失、签发者不符或与芯片密钥不一致".into(),
        Finding::UnknownIssuer { issuer } => {
            format!("非本系统签发的 PIV 卡（证书签发者：{issuer}）")
        }
        Finding::NotChecked { because } => {
            format!("未检查（因「{}」未通过）", check_zh(*because))
        }
    }
}

vocabulary!(
    /// Which kind of card was read (docs/PROFILE-PIV.md §1).
    family_zh, FAMILIES: Family {
        Native => "本系统卡",
        Piv => "PIV 标准卡",
    }
);

vocabulary!(
    /// Where a certificate stands in the station's records.
    certificate_state_zh, CERTIFICATE_STATES: CertificateState {
        Approved => "待制证",
        Issued => "已制证",
        Suspended => "已暂停",
        Cancelled => "已注销",
        Void => "已作废",
        Replaced => "已换证",
    }
);

vocabulary!(
    /// The records' state of one physical card.
    card_state_zh, CARD_STATES: CardState {
        Live => "在用",
        Suspended => "已暂停",
        Cancelled => "已注销",
        Void => "已作废",
        Replaced => "已换证",
    }
);

vocabulary!(
    /// The status the card itself carries (EF.STATUS).
    card_status_zh, CARD_STATUSES: CardStatus {
        Active => "正常",
        Suspended => "已暂停",
        Revoked => "已注销",
    }
);

vocabulary!(
    /// An issuance job's state.
    job_state_zh, JOB_STATES: JobState {
        Queued => "排队中",
        Writing => "正在写卡",
        Written => "已写入",
        Verified => "已写入并核验",
        Synced => "已上报",
        Interrupted => "已中断",
        Failed => "失败",
        Cancelled => "已取消",
    }
);

vocabulary!(
    /// Where a review the field check counted comes from.
    review_source_zh, REVIEW_SOURCES: ReviewSource {
        Card => "卡内记录",
        Station => "本站记录（尚未写卡）",
        Registry => "登记中心转来（他处登记，尚未写卡）",
    }
);

vocabulary!(
    /// A kind of status change (also the action on the 状态变更 page).
    status_kind_zh, STATUS_KINDS: StatusKind {
        Suspend => "暂停",
        Lift => "恢复",
        Cancel => "注销",
        Replace => "换证",
        Reissue => "补证",
    }
);

vocabulary!(
    review_result_zh, REVIEW_RESULTS: ReviewResult {
        Passed => "合格",
        Failed => "不合格",
    }
);

vocabulary!(
    certificate_kind_zh, CERTIFICATE_KINDS: CertificateKind {
        Enforcement => "行政执法证",
        Entrusted => "委托行政执法证",
        Supervision => "行政执法监督证",
    }
);

vocabulary!(
    gender_zh, GENDERS: Gender {
        Male => "男",
        Female => "女",
    }
);

vocabulary!(
    /// An operator's role.
    role_zh, ROLES: Role {
        Issuer => "制证员",
        Reviewer => "年审员",
        Inspector => "检查员",
        Admin => "管理员",
    }
);

/// 执法岗位: the official name of the code table (ecard_domain::codes).
pub fn post_zh(p: PostCode) -> &'static str {
    p.name_zh()
}

/// A certificate's posts as stored (`01,02`) in words (`依职权、依申请`); a code
/// that is not in the table is shown as it is.
pub fn posts_zh(posts: &str) -> String {
    posts
        .split([',', '，', '、', ';', ' '])
        .filter(|p| !p.trim().is_empty())
        .map(|p| match PostCode::parse(p) {
            Ok(code) => post_zh(code).to_owned(),
            Err(_) => p.trim().to_owned(),
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// A certificate's annual-review status for one year (the 年审 schedule).
pub fn review_status_zh(s: &ReviewStatus) -> &'static str {
    s.label_zh()
}

fn review_statuses() -> [ReviewStatus; 4] {
    let d = chrono::NaiveDate::MIN;
    [
        ReviewStatus::Exempt,
        ReviewStatus::Due { deadline: d },
        ReviewStatus::Done { reviewed_on: d },
        ReviewStatus::Overdue { deadline: d },
    ]
}

/// What a record (`StoreError::NotFound`'s `what`) is called.
pub fn record_zh(what: &str) -> &str {
    match what {
        "operator" => "操作员",
        "officer" => "人员",
        "certificate" => "证件",
        "job" => "制证任务",
        "batch" => "批次",
        "trust_anchor" => "信任根",
        "correction" => "更正申请",
        _ => "记录",
    }
}

/// The words for a refused change, from what it clashed with.
pub fn conflict_zh(c: &Conflict) -> String {
    match c {
        Conflict::NotIssuable { number, state } => format!(
            "证件 {number} 的状态为「{}」，只有「{}」的证件可以制证",
            certificate_state_zh(*state),
            certificate_state_zh(CertificateState::Approved)
        ),
        Conflict::JobNotResumable { job_id } => {
            format!("制证任务 {job_id} 正在写卡或已完成，无需续写")
        }
        Conflict::NotReviewable { number, state } => format!(
            "证件 {number} 的状态为「{}」，只有「{}」的证件可以年审",
            certificate_state_zh(*state),
            certificate_state_zh(CertificateState::Issued)
        ),
        Conflict::NoLiveCard { number } => format!("证件 {number} 没有在用的卡片"),
        Conflict::ReviewExists { year } => format!("{year} 年度的年审已有记录"),
        Conflict::NothingDue { unit, year } => {
            format!("「{unit}」没有待 {year} 年度年审的证件（均已年审，或不在该年度名单中）")
        }
        Conflict::ReviewYear { error } => error.to_string(),
        Conflict::StatusChangeNotAllowed { state, kind } => format!(
            "证件状态为「{}」，不能{}",
            certificate_state_zh(*state),
            status_kind_zh(*kind)
        ),
        Conflict::StateChanged { state } => format!(
            "证件状态已变为「{}」，请刷新后重试",
            certificate_state_zh(*state)
        ),
        Conflict::NoStatusChange { number } => format!("证件 {number} 没有状态变更记录"),
        Conflict::NoCardToWrite { number } => format!("证件 {number} 没有可写入状态的卡片"),
        Conflict::NoChipPhoto { id_number } => {
            format!("人员 {id_number} 没有可写入芯片的照片，请先导入照片")
        }
        Conflict::UsernameTaken { username } => format!("用户名「{username}」已存在"),
        Conflict::NumberTaken { number } => format!("证号 {number} 已有记录"),
        Conflict::CardAlreadyRecorded {
            certificate_id,
            serial,
        } => format!("证件记录 #{certificate_id} 已有在用卡片，或卡片 {serial} 已有记录"),
        Conflict::JobOpen { certificate_id } => {
            format!("证件记录 #{certificate_id} 已有未完成的制证任务")
        }
        Conflict::KeysExist => "本站密钥已存在".into(),
        Conflict::CorrectionDecided { id, state } => format!(
            "更正申请 {id} 已{}，不能再次处理",
            match state {
                CorrectionState::Pending => "提交",
                CorrectionState::Approved => "批准",
                CorrectionState::Rejected => "驳回",
            }
        ),
        Conflict::CorrectionOwnRequest { id } => {
            format!("更正申请 {id} 由您导入，须由其他有权限的操作员审核")
        }
        Conflict::CorrectionStale { id } => {
            format!("人员信息在更正申请 {id} 提出后已有变更，请驳回后重新导入")
        }
        Conflict::ApplicationState {
            id,
            state,
            follow_up,
        } => format!(
            "申请 #{id} 当前为「{}」，{}",
            application_word(APPLICATION_STATES, state.as_str()),
            match follow_up {
                FollowUp::Resubmit => "只有退回的申请可以修改后重新提交",
                FollowUp::AddPhoto => "只有待审核的申请可以补交照片（退回的请修改后重新提交）",
                FollowUp::RequestSendBack => "只有已批准的申请可以申请退回",
            }
        ),
        Conflict::SendBackPending { id } => {
            format!("申请 #{id} 已申请退回，正在等待审核机关处理")
        }
        Conflict::ApplicationFieldFixed { id, field } => format!(
            "申请 #{id} {}",
            match field {
                FixedField::CitizenId => "的身份证号码不能修改：另一个人请新增申请",
                FixedField::PrefilledNumber => "预填的证件编号不能修改：新的编号请新增申请",
                FixedField::SuccessionForm => {
                    "是换证或补证申请，只能补交照片后原样重新提交；内容有误请重新办理"
                }
            }
        ),
    }
}

/// Codes the station writes into its records where a person later reads a reason
/// or an error (jobs' `error`, a voided card's revocation reason): the code is
/// stored, the words are made here.
pub const NOTE_CODES: &[&str] = &[
    PROCESS_RESTARTED,
    VOID_VERIFICATION_FAILED,
    VOID_REPLACED_BY_ANOTHER_CARD,
    VOID_WRITE_FAILED,
];
/// A job left `writing` by a process that stopped.
pub const PROCESS_RESTARTED: &str = "process_restarted";
/// A card voided because it failed its verification after writing.
pub const VOID_VERIFICATION_FAILED: &str = "card_voided.verification_failed";
/// A card voided because an interrupted job moved on to another card.
pub const VOID_REPLACED_BY_ANOTHER_CARD: &str = "card_voided.replaced_by_another_card";
/// A card spoiled at a card printer's encoder: its chip write failed (废卡).
pub const VOID_WRITE_FAILED: &str = "card_voided.write_failed";

/// The words for a stored code: a note code, an error code (`OpError::code`) or
/// `verification_failed.<standing>`; anything else (a reason a person typed, an old
/// row written as text) is shown as it is.
pub fn reason_zh(stored: &str) -> Cow<'_, str> {
    match stored {
        PROCESS_RESTARTED => return "进程重启时写卡未完成".into(),
        VOID_VERIFICATION_FAILED => return "写卡后核验未通过，卡片作废".into(),
        VOID_REPLACED_BY_ANOTHER_CARD => return "制证中断后改用新卡，原卡作废".into(),
        VOID_WRITE_FAILED => return "打印机写芯片失败，废卡作废".into(),
        _ => {}
    }
    if let Some(standing) = stored.strip_prefix("verification_failed.") {
        if let Some(s) = STANDINGS.iter().find(|s| code_of(*s) == standing) {
            return format!("写卡后核验结果：{}", standing_zh(*s)).into();
        }
    }
    match error_code_zh(stored) {
        Some(words) => words.into(),
        None => stored.into(),
    }
}

/// Every `code` an API error or a CLI failure can carry, with its general meaning
/// (the `message` beside it says the particulars). docs/API.md lists the same.
pub const ERROR_CODES: &[(&str, &str)] = &[
    ("unknown_reader", "找不到读卡器"),
    ("no_card", "读卡器中没有卡片"),
    ("reader_busy", "读卡器正在处理其他卡片"),
    ("pcsc_unavailable", "智能卡服务不可用"),
    ("reader_error", "读卡器故障"),
    ("card_removed", "卡片被拔出，操作中断"),
    ("wrong_management_key", "卡片管理密钥不匹配"),
    ("management_key_blocked", "卡片管理密钥已锁定"),
    ("not_an_ecard", "不是执法证卡片"),
    (
        "card_not_authentic",
        "卡片未能证明登记的芯片密钥（疑似伪造或复制）",
    ),
    ("wrong_card_state", "卡片状态不允许该操作"),
    ("data_too_large", "数据超出卡片容量"),
    ("card_locked", "PIV 卡的管理密钥不是本局的（他人设置的卡）"),
    ("card_admin_key_fixed", "PIV 卡无法更换出厂管理密钥"),
    ("piv_suite_unsupported", "PIV 标准卡不支持国密算法"),
    ("signer_x509_missing", "签发机关证书缺少 X.509 形式"),
    ("card_error", "卡片操作失败"),
    ("not_found", "找不到记录"),
    ("conflict", "操作与当前记录冲突"),
    ("store_error", "数据库错误，操作未生效"),
    ("invalid_request", "请求无效"),
    ("bad_request", "请求格式错误（不是所需的 JSON 或参数）"),
    ("method_not_allowed", "该接口不接受这种请求方法"),
    ("body_too_large", "请求体过大"),
    ("import_rejected", "花名册有错误，未导入"),
    ("roster_not_xlsx", "花名册不是 .xlsx 文件"),
    ("wrong_card", "读卡器中的卡片不属于该证件"),
    ("card_not_blank", "卡片不是空白卡"),
    ("verification_failed", "写卡后核验未通过"),
    ("keys_locked", "本站密钥未解锁"),
    ("card_voided", "卡片已作废"),
    ("card_serial_known", "卡号已登记过，不是新的空白卡"),
    ("unauthenticated", "请先登录"),
    ("forbidden", "无权执行此操作"),
    ("csrf_refused", "请求缺少 X-Requested-With 标头"),
    ("host_not_allowed", "请求的主机名不是本站的地址"),
    ("login_throttled", "登录失败次数过多，请稍后重试"),
    ("busy", "正在处理的登录或口令运算过多，请稍后重试"),
    ("card_timeout", "卡片无响应，请取出后重新插入"),
    ("keys_error", "本站密钥处理失败"),
    ("keys_exist", "本站密钥已存在"),
    ("keys_not_initialised", "本站尚未生成密钥"),
    ("not_a_transfer_file", "不是主密钥传递文件"),
    ("check_value_mismatch", "主密钥与校验值不符"),
    (
        "keystore_wrong_passphrase",
        "密钥口令错误，或密钥文件已被篡改",
    ),
    ("keystore_malformed", "密钥文件格式错误"),
    ("keystore_unsupported_version", "密钥文件版本不受支持"),
    ("keystore_kdf", "密钥派生失败"),
    ("keystore_random", "系统随机数生成失败"),
    ("keystore_empty_passphrase", "密钥口令不能为空"),
    ("passphrase_too_short", "密钥口令至少 12 个字符"),
    ("password_too_short", "密码过短"),
    ("password_hash_malformed", "存储的密码格式错误"),
    ("password_hash_failed", "密码处理失败"),
    ("random_failed", "系统随机数生成失败"),
    ("session_invalid", "登录凭据无效，请重新登录"),
    ("print_no_queue", "尚未选择制证打印机"),
    ("print_bad_queue_name", "打印队列名称无效"),
    ("print_client_missing", "本机未安装 CUPS 打印客户端"),
    ("print_server_unreachable", "无法连接打印服务（CUPS）"),
    ("print_unknown_queue", "打印队列不存在"),
    ("print_queue_not_accepting", "打印队列已停用"),
    ("print_refused", "打印服务拒绝了打印任务"),
    ("print_timeout", "打印服务无响应，打印未确认"),
    ("print_too_large", "卡面文件过大，未打印"),
    ("reader_not_paired", "读卡器未与制证打印机配对"),
    ("no_live_card", "该证件没有在用的卡片"),
    ("seal_too_large", "二维码放不下"),
    ("face_font_missing", "找不到卡面字体"),
    ("face_render_failed", "卡面生成失败"),
];

pub fn error_code_zh(code: &str) -> Option<&'static str> {
    ERROR_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, w)| *w)
}

/// The audit log's actions. `job.<state>` and `certificate.<kind>` are made from
/// their enums; the rest are the fixed names the station writes.
const AUDIT_ACTIONS: &[(&str, &str)] = &[
    ("session.login", "登录"),
    ("session.logout", "退出登录"),
    ("card.issued", "制证完成"),
    ("card.voided", "卡片作废"),
    ("card.status_sequence", "记下卡内状态记录序号"),
    ("job.claimed", "领取制证任务"),
    ("job.batched", "制证任务编入批次"),
    ("job.card", "制证任务换卡"),
    ("jobs.recovered", "恢复中断的制证任务"),
    ("batch.created", "创建制证批次"),
    ("card.spoiled", "废卡（写芯片失败，卡号作废，换下一张卡）"),
    ("face.printed", "卡面送打印机"),
    ("face.print_failed", "卡面打印失败"),
    ("printing.changed", "修改制证打印机设置"),
    ("certificate.approved", "证件已批准"),
    ("certificate.status_written", "状态写入卡片"),
    ("review.recorded", "记录年审"),
    ("review.written", "年审写入卡片"),
    ("roster.imported", "导入花名册"),
    ("correction.requested", "人员信息更正待审核"),
    ("correction.approved", "批准人员信息更正"),
    ("correction.rejected", "驳回人员信息更正"),
    ("number.allocated", "分配证号"),
    ("operator.created", "新增操作员"),
    ("operator.disabled", "停用操作员"),
    ("operator.enabled", "启用操作员"),
    ("operator.password_set", "设置操作员口令"),
    ("settings.changed", "修改设置"),
    ("keys.initialised", "初始化本站密钥"),
    ("keys.sealed_stored", "保存加密密钥"),
    ("keys.signer_x509", "生成签发机关的国际标准格式证书"),
    ("trust.anchor_added", "添加信任根"),
    ("trust.anchor_removed", "移除信任根"),
    ("trust.list_applied", "应用省级根签名的信任列表"),
    (
        "trust.list_refused",
        "拒绝信任列表（非本站信任根签名或非更新）",
    ),
    ("trust.anchors_replaced", "按信任列表替换全部信任根"),
    ("trust.signer_learnt", "收到其他发证机关的签名证书"),
    ("sync.enrolled", "登记到登记中心"),
    ("sync.pushed", "记录已报送登记中心"),
    ("sync.failed", "与登记中心同步失败"),
    ("sync.recovered", "与登记中心同步恢复"),
    ("sync.refused", "登记中心拒收记录"),
    ("order.withdrawn", "登记中心撤回批准"),
    ("application.submitted", "提交换证/补证申请"),
    ("application.decided", "登记中心审核结果"),
    ("review.received", "收到他处登记的年审"),
    ("application.resubmitted", "修改后重新提交申请"),
    (
        "application.resubmit_refused",
        "登记中心未受理重新提交，申请恢复为退回",
    ),
    ("application.photo_added", "为待审核申请补交照片"),
    ("application.send_back_requested", "申请退回已批准的申请"),
    ("order.photo_refused", "拒绝登记中心的批准（照片无效）"),
    ("revocations.updated", "更新注销名单"),
    ("revocations.dated", "注销名单日期"),
];

/// The station's applications to the registry: kinds and the states it knows.
pub const APPLICATION_KINDS: &[(&str, &str)] = &[
    ("new", "新申领"),
    ("replacement", "换证"),
    ("reissue", "补证"),
];
pub const APPLICATION_STATES: &[(&str, &str)] = &[
    ("submitted", "待审核"),
    ("approved", "已批准"),
    ("rejected", "退回"),
    ("returned", "退回"),
];

/// Words for an application kind or state code (the code itself when unknown).
pub fn application_word<'a>(table: &'static [(&str, &str)], code: &'a str) -> &'a str {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, w)| *w)
        .unwrap_or(code)
}

/// Every audit action with its words (the fixed ones and those made from enums).
pub fn audit_actions() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = AUDIT_ACTIONS
        .iter()
        .map(|(a, w)| ((*a).to_owned(), (*w).to_owned()))
        .collect();
    for s in JOB_STATES {
        out.push((
            format!("job.{}", s.as_str()),
            format!("制证任务{}", job_state_zh(*s)),
        ));
    }
    for k in STATUS_KINDS {
        out.push((
            format!("certificate.{}", k.as_str()),
            format!("证件{}", status_kind_zh(*k)),
        ));
    }
    out
}

/// An audit action's words; an action this version does not know is shown as is.
/// A card printer's order (设置 → 制证打印机, print-and-encode batches).
pub fn print_order_zh(order: crate::store::PrintOrder) -> &'static str {
    match order {
        crate::store::PrintOrder::EncodeFirst => "先写芯片后打印",
        crate::store::PrintOrder::PrintFirst => "先打印后写芯片",
    }
}

pub fn audit_action_zh(action: &str) -> Cow<'_, str> {
    if let Some((_, w)) = AUDIT_ACTIONS.iter().find(|(a, _)| *a == action) {
        return (*w).into();
    }
    if let Some(s) = action.strip_prefix("job.") {
        if let Ok(state) = JobState::parse(s) {
            return format!("制证任务{}", job_state_zh(state)).into();
        }
    }
    if let Some(k) = action.strip_prefix("certificate.") {
        if let Some(kind) = StatusKind::parse(k) {
            return format!("证件{}", status_kind_zh(kind)).into();
        }
    }
    action.into()
}

/// The names of the fields audit details carry.
const DETAIL_KEYS: &[(&str, &str)] = &[
    ("role", "角色"),
    ("display_name", "姓名"),
    ("queue", "打印队列"),
    ("print_job", "打印任务"),
    ("pairings", "读卡器与打印机配对"),
    ("order", "工作顺序"),
    ("print_encode", "边写卡边打印"),
    ("requeued_as", "改由制证任务"),
    ("job", "制证任务"),
    ("number", "证号"),
    ("new_number", "新证号"),
    ("serial", "卡号"),
    ("reader", "读卡器"),
    ("resumed", "续写"),
    ("reason", "原因"),
    ("why", "原因"),
    ("message", "说明"),
    ("certificate", "证件记录"),
    ("certificate_id", "证件记录"),
    ("certificates", "证件记录"),
    ("batch", "批次"),
    ("name", "名称"),
    ("year", "年度"),
    ("result", "结论"),
    ("review", "年审记录"),
    ("state", "状态"),
    ("kind", "类型"),
    ("detail", "详情"),
    ("correction", "更正申请"),
    ("old", "原值"),
    ("new", "新值"),
    ("photo_sha256", "照片摘要"),
    ("status_change", "状态变更记录"),
    ("interrupted", "中断的任务数"),
    ("applications", "申请"),
    ("prefix", "证号前缀"),
    ("value", "值"),
    ("signer_subject", "签发机关"),
    ("root", "信任根"),
    ("registry", "登记中心"),
    ("registry_key_id", "登记中心密钥"),
    ("transport", "连接方式"),
    ("signed_by", "签名根"),
    ("anchors", "信任根数"),
    ("revoked_signers", "撤销的签发机关数"),
    ("code", "代码"),
    ("source", "来源"),
    ("origin", "决定站点"),
    ("order", "批准单"),
    ("entries", "条目数"),
    ("added", "新增"),
    ("date", "日期"),
    ("demo", "演示数据"),
    ("life_cycle", "卡片生命周期"),
    ("standing", "核验结果"),
];

/// An audit row's detail in words: `证号：川X010001；角色：检查员`. Known keys are
/// named; values that are codes of a known kind (role, result, state, kind,
/// reason codes) are labelled; null is —.
pub fn audit_detail_zh(detail: &Value) -> String {
    let Value::Object(map) = detail else {
        return match detail {
            Value::Null => "—".into(),
            Value::String(s) => reason_zh(s).into_owned(),
            other => other.to_string(),
        };
    };
    if map.is_empty() {
        return "—".into();
    }
    map.iter()
        .map(|(k, v)| {
            let key = DETAIL_KEYS
                .iter()
                .find(|(c, _)| c == k)
                .map(|(_, w)| *w)
                .unwrap_or(k.as_str());
            format!("{key}：{}", detail_value_zh(k, v))
        })
        .collect::<Vec<_>>()
        .join("；")
}

fn detail_value_zh(key: &str, v: &Value) -> String {
    let s = match v {
        Value::Null => return "—".into(),
        Value::Bool(b) => return if *b { "是" } else { "否" }.into(),
        Value::String(s) => s.as_str(),
        Value::Array(items) => {
            return items
                .iter()
                .map(|i| detail_value_zh(key, i))
                .collect::<Vec<_>>()
                .join("、")
        }
        Value::Object(_) => return audit_detail_zh(v),
        Value::Number(n) => return n.to_string(),
    };
    let word = match key {
        "role" => Role::parse(s).map(role_zh),
        "result" => REVIEW_RESULTS
            .iter()
            .find(|r| code_of(*r) == s)
            .map(|r| review_result_zh(*r)),
        "state" => CertificateState::parse(s)
            .map(certificate_state_zh)
            .or_else(|| {
                CARD_STATUSES
                    .iter()
                    .find(|c| code_of(*c) == s)
                    .map(|c| card_status_zh(*c))
            }),
        "kind" => StatusKind::parse(s).map(status_kind_zh),
        "order" => crate::store::PrintOrder::parse(s).map(print_order_zh),
        "source" => match s {
            "local" => Some("本站"),
            "registry" => Some("登记中心"),
            _ => None,
        },
        "standing" => STANDINGS
            .iter()
            .find(|x| code_of(*x) == s)
            .map(|x| standing_zh(*x)),
        _ => None,
    };
    match word {
        Some(w) => w.to_owned(),
        None if matches!(key, "reason" | "why" | "message") => reason_zh(s).into_owned(),
        None => s.to_owned(),
    }
}

/// A unit variant's stable code: its serde name.
fn code_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A schedule status's stable code (its serde tag).
pub fn review_status_key(s: &ReviewStatus) -> &'static str {
    match s {
        ReviewStatus::Exempt => "exempt",
        ReviewStatus::Due { .. } => "due",
        ReviewStatus::Done { .. } => "done",
        ReviewStatus::Overdue { .. } => "overdue",
    }
}

fn words<T: Copy + Serialize>(all: &[T], word: impl Fn(T) -> &'static str) -> Value {
    Value::Object(
        all.iter()
            .map(|v| (code_of(v), json!(word(*v))))
            .collect::<Map<_, _>>(),
    )
}

/// The whole vocabulary, `{ "standing": { "valid": "有效", … }, … }`: what
/// `GET /api/v1/labels` answers and `ecardd labels` prints.
pub fn table() -> Value {
    let pairs = |it: Vec<(String, String)>| {
        Value::Object(it.into_iter().map(|(k, v)| (k, json!(v))).collect())
    };
    json!({
        "standing": words(STANDINGS, standing_zh),
        "standing_note": words(STANDINGS, standing_note_zh),
        "outcome": pairs(outcomes().iter().map(|o| (outcome_key(o).to_owned(), outcome_zh(o).to_owned())).collect()),
        "check": pairs(check_kinds().into_iter().map(|c| (check_key(c).0.to_owned(), check_kind_zh(c).to_owned())).collect()),
        "file": words(FILES, file_zh),
        "certificate_state": words(CERTIFICATE_STATES, certificate_state_zh),
        "card_state": words(CARD_STATES, card_state_zh),
        "card_status": words(CARD_STATUSES, card_status_zh),
        "family": words(FAMILIES, family_zh),
        "job_state": words(JOB_STATES, job_state_zh),
        "status_kind": words(STATUS_KINDS, status_kind_zh),
        "review_result": words(REVIEW_RESULTS, review_result_zh),
        "review_source": words(REVIEW_SOURCES, review_source_zh),
        "review_status": pairs(review_statuses().iter().map(|s| (review_status_key(s).to_owned(), review_status_zh(s).to_owned())).collect()),
        "certificate_kind": words(CERTIFICATE_KINDS, certificate_kind_zh),
        "gender": words(GENDERS, gender_zh),
        "role": words(ROLES, role_zh),
        "post": pairs(PostCode::ALL.iter().map(|p| (p.code().to_owned(), post_zh(*p).to_owned())).collect()),
        "audit_action": pairs(audit_actions()),
        "error": pairs(ERROR_CODES.iter().map(|(c, w)| ((*c).to_owned(), (*w).to_owned())).collect()),
        "application_kind": pairs(APPLICATION_KINDS.iter().map(|(c, w)| ((*c).to_owned(), (*w).to_owned())).collect()),
        "application_state": pairs(APPLICATION_STATES.iter().map(|(c, w)| ((*c).to_owned(), (*w).to_owned())).collect()),
        "note": pairs(NOTE_CODES.iter().map(|c| ((*c).to_owned(), reason_zh(c).into_owned())).collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> Map<String, Value> {
        match table() {
            Value::Object(m) => m,
            other => panic!("table is not an object: {other}"),
        }
    }

    /// Every code an operation can fail with has its words: a job's stored error
    /// (`reason_zh`) never shows a bare code.
    #[test]
    fn every_error_code_a_job_can_store_has_words() {
        use crate::auth::AuthError;
        use crate::keystore::KeystoreError;
        use crate::ops::{Invalid, OpError};
        use card_profile::sequences::CardError;
        let keystore = [
            KeystoreError::WrongPassphrase,
            KeystoreError::Malformed("x"),
            KeystoreError::UnsupportedVersion(9),
            KeystoreError::Kdf("x".into()),
            KeystoreError::Random,
            KeystoreError::EmptyPassphrase,
            KeystoreError::PassphraseTooShort { min: 12 },
        ];
        let auth = [
            AuthError::PasswordTooShort { min: 8 },
            AuthError::MalformedHash,
            AuthError::Hash("x".into()),
            AuthError::Random,
            AuthError::MalformedToken,
        ];
        let mut ops: Vec<OpError> = vec![
            OpError::Invalid(Invalid::NoReader),
            OpError::WrongCard,
            OpError::CardNotBlank,
            OpError::KeysLocked,
            OpError::CardVoided("x".into()),
            OpError::Card(CardError::NotAnEcard),
            OpError::Card(CardError::NotAuthentic),
            OpError::Card(CardError::ManagementKeyBlocked),
            OpError::Keys(crate::keyring::KeyringError::NotInitialised),
        ];
        ops.extend(keystore.into_iter().map(|e| OpError::Keys(e.into())));
        ops.extend(auth.into_iter().map(OpError::Auth));
        for e in &ops {
            assert!(
                error_code_zh(e.code()).is_some(),
                "no words for {}",
                e.code()
            );
        }
    }

    #[test]
    fn every_value_of_every_enum_has_a_chinese_word() {
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        for (group, entries) in groups() {
            let Value::Object(entries) = entries else {
                panic!("{group} is not an object");
            };
            assert!(!entries.is_empty(), "{group} is empty");
            for (code, word) in entries {
                let word = word.as_str().unwrap_or_default();
                assert!(!code.is_empty(), "{group}: empty code");
                assert!(cjk(word), "{group}.{code} = {word:?} has no Chinese");
                // No English state names inside the words (the error table names
                // the X-Requested-With header, which is not a state; a card family
                // names the PIV standard as sold and printed on the card).
                if group != "error" && group != "family" {
                    assert!(
                        !word.chars().any(|c| c.is_ascii_alphabetic()),
                        "{group}.{code} = {word:?} has ASCII letters"
                    );
                }
            }
        }
    }

    #[test]
    fn the_table_counts_every_variant() {
        let g = groups();
        let len = |k: &str| g[k].as_object().map(Map::len).unwrap_or(0);
        assert_eq!(len("standing"), 9);
        assert_eq!(len("standing_note"), 9);
        assert_eq!(len("outcome"), 4);
        assert_eq!(len("check"), 11);
        assert_eq!(len("certificate_state"), 6);
        assert_eq!(len("family"), 2);
        assert_eq!(len("card_state"), 5);
        assert_eq!(len("card_status"), 3);
        assert_eq!(len("job_state"), 8);
        assert_eq!(len("status_kind"), 5);
        assert_eq!(len("review_status"), 4);
        assert_eq!(len("post"), 2);
        assert_eq!(g["standing"]["review_failed"], "年审不合格");
        assert_eq!(g["standing"]["review_overdue"], "年审逾期");
        assert_eq!(g["certificate_state"]["void"], "已作废");
        assert_eq!(g["outcome"]["warning"], "警告");
        assert_eq!(g["outcome"]["pending"], "待完成");
        assert_eq!(g["post"]["01"], "依职权");
        assert_eq!(g["review_status"]["overdue"], "逾期未年审");
    }

    #[test]
    fn one_word_per_value_across_groups_that_name_the_same_state() {
        // A certificate's and its card's suspended/cancelled/void read the same.
        assert_eq!(
            certificate_state_zh(CertificateState::Suspended),
            card_state_zh(CardState::Suspended)
        );
        assert_eq!(
            certificate_state_zh(CertificateState::Cancelled),
            card_state_zh(CardState::Cancelled)
        );
        assert_eq!(
            certificate_state_zh(CertificateState::Void),
            card_state_zh(CardState::Void)
        );
        assert_eq!(
            standing_zh(Standing::Revoked),
            card_status_zh(CardStatus::Revoked)
        );
        assert_eq!(
            standing_zh(Standing::Suspended),
            card_status_zh(CardStatus::Suspended)
        );
    }

    #[test]
    fn posts_are_words_not_codes() {
        assert_eq!(posts_zh("01,02"), "依职权、依申请");
        assert_eq!(posts_zh("02"), "依申请");
        assert_eq!(posts_zh("09"), "09");
    }

    #[test]
    fn audit_rows_read_as_words() {
        assert_eq!(audit_action_zh("session.login"), "登录");
        assert_eq!(audit_action_zh("job.interrupted"), "制证任务已中断");
        assert_eq!(audit_action_zh("certificate.cancel"), "证件注销");
        assert_eq!(audit_action_zh("something.new"), "something.new");
        assert_eq!(
            audit_detail_zh(&json!({ "role": "inspector", "display_name": "王五" })),
            "姓名：王五；角色：检查员"
        );
        assert_eq!(
            audit_detail_zh(&json!({ "year": 2026, "result": "failed" })),
            "结论：不合格；年度：2026"
        );
        assert_eq!(
            audit_detail_zh(&json!({ "reason": VOID_VERIFICATION_FAILED })),
            "原因：写卡后核验未通过，卡片作废"
        );
        assert_eq!(audit_detail_zh(&json!({})), "—");
    }

    #[test]
    fn stored_codes_read_as_words_and_typed_text_passes_through() {
        assert_eq!(reason_zh(PROCESS_RESTARTED), "进程重启时写卡未完成");
        assert_eq!(reason_zh("card_removed"), "卡片被拔出，操作中断");
        assert_eq!(
            reason_zh("verification_failed.invalid"),
            "写卡后核验结果：无效"
        );
        assert_eq!(reason_zh("调离执法岗位"), "调离执法岗位");
    }

    #[test]
    fn a_rolled_back_card_is_not_said_to_be_unwritten() {
        let f = Finding::SuspensionListed {
            reason: "立案调查".into(),
            since: chrono::NaiveDate::MIN,
        };
        let words = finding_zh(&f);
        assert!(!words.contains("尚未写入"), "{words}");
        assert!(words.contains("此前的状态"), "{words}");
    }

    #[test]
    fn a_terminated_card_is_never_called_a_copy() {
        let words = finding_zh(&Finding::Terminated);
        assert!(words.contains("已注销"), "{words}");
        assert!(!words.contains("复制"), "{words}");
    }
}

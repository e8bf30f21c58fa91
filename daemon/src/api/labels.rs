//! Chinese labels for what a verification found: the verdict view the UI shows. The
//! core types stay language-free (card_profile::verdict); the words live here, at
//! the edge.

use card_profile::pki::ChainError;
use card_profile::profile::FileId;
use card_profile::verdict::{CheckKind, Finding};

pub fn file_zh(file: FileId) -> &'static str {
    match file {
        FileId::Ver => "版本文件",
        FileId::Holder => "持证人信息",
        FileId::Photo => "照片",
        FileId::Cert => "证件信息",
        FileId::Sod => "安全对象",
        FileId::Reviews => "年审记录",
        FileId::Status => "状态文件",
    }
}

pub fn check_zh(check: CheckKind) -> String {
    match check {
        CheckKind::LifeCycle => "卡片状态（已激活）".into(),
        CheckKind::FileFormat => "数据格式".into(),
        CheckKind::SignerChain => "签发机关证书链".into(),
        CheckKind::SodSignature => "数据签名".into(),
        CheckKind::SerialBinding => "卡号绑定".into(),
        CheckKind::FileHash(f) => format!("数据完整性：{}", file_zh(f)),
        CheckKind::ChipAuthentication => "芯片防伪认证".into(),
        CheckKind::ValidityDates => "有效期".into(),
        CheckKind::CardStatus => "卡内状态".into(),
        CheckKind::RevocationList => "注销名单".into(),
        CheckKind::AnnualReview => "年审".into(),
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

fn chain_zh(e: &ChainError) -> String {
    match e {
        ChainError::UnknownIssuer => "签发机关证书不是由受信任的根证书签发（未知签发者）".into(),
        ChainError::BadSignature => "签发机关证书的签名无效".into(),
        ChainError::SignerOutOfValidity { on, from, until } => {
            format!("签发机关证书在 {on} 不在有效期内（{from} 至 {until}）")
        }
        ChainError::RootOutOfValidity { name, on } => format!("根证书「{name}」在 {on} 已失效"),
    }
}

pub fn finding_zh(f: &Finding) -> String {
    match f {
        Finding::NotActivated { .. } => "卡片未完成制作（未激活），可能写卡中断".into(),
        Finding::Terminated => "卡片已被终止（注销）".into(),
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
        Finding::Suspended { reason, since } => format!("自 {since} 起暂停执法：{reason}"),
        Finding::SuspensionListed { reason, since } => {
            format!("本站记录：自 {since} 起暂停执法：{reason}（卡内尚未写入）")
        }
        Finding::Revoked { reason, since } => format!("已于 {since} 注销：{reason}"),
        Finding::OnRevocationList { reason, since } => {
            format!("在注销名单上（{since}）：{reason}")
        }
        Finding::RevocationListStale { age_days, max_days } => {
            format!("注销名单已 {age_days} 天未更新（上限 {max_days} 天）")
        }
        Finding::RevocationListMissing => "本机没有注销名单，无法核对是否已注销".into(),
        Finding::ReviewOverdue { year } => format!("{year} 年度年审逾期未审"),
        Finding::ReviewDue { year, deadline } => {
            format!("{year} 年度年审须在 {deadline} 前完成")
        }
        Finding::ReviewFailed { year } => format!("{year} 年度年审不合格"),
        Finding::ReviewRecordInvalid { index } => format!("第 {} 条年审记录无效", index + 1),
        Finding::NotChecked { because } => format!("未检查（因「{}」未通过）", check_zh(*because)),
    }
}

//! Operation errors, with a stable code and a Chinese message for users. The
//! message is produced here, at the edge, from the error (STYLE: not scattered
//! through the core).

use crate::labels;
use crate::readers::ReaderError;
use crate::store::StoreError;
use card_profile::channel::ChannelError;
use card_profile::sequences::CardError;
use card_profile::transport::TransportError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum OpError {
    #[error("reader: {0}")]
    Reader(#[from] ReaderError),
    #[error("card: {0}")]
    Card(#[from] CardError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("invalid request: {0}")]
    Invalid(#[from] super::invalid::Invalid),
    #[error("conflict: {0:?}")]
    Conflict(crate::store::Conflict),
    #[error("card in the reader does not belong to this certificate")]
    WrongCard,
    #[error("card is not blank")]
    CardNotBlank,
    #[error("card {0} is voided")]
    CardVoided(String),
    #[error("keys: {0}")]
    Keys(#[from] crate::keyring::KeyringError),
    #[error("account: {0}")]
    Auth(#[from] crate::auth::AuthError),
    #[error("a card with serial {0} is already known to this station")]
    SerialKnown(String),
    #[error("station keys are locked")]
    KeysLocked,
    #[error("written card failed its verification")]
    VerificationFailed(Box<card_profile::verdict::Verdict>),
    #[error("card face: {0}")]
    Face(super::face::FaceProblem),
    #[error("printing: {0}")]
    Print(#[from] crate::printing::PrintError),
}

impl OpError {
    /// The card was pulled (or vanished) during the operation.
    pub fn is_card_removed(&self) -> bool {
        matches!(self, OpError::Card(e) if e.is_card_removed())
    }

    /// The card did not answer within the deadline (or still hangs from an earlier
    /// operation): the user must take it out.
    pub fn is_card_timeout(&self) -> bool {
        match self {
            OpError::Card(e) => e.is_card_timeout(),
            OpError::Reader(ReaderError::CardHung(_))
            | OpError::Reader(ReaderError::Transport(TransportError::Timeout(_))) => true,
            _ => false,
        }
    }

    /// The reader or card was unsuitable before anything was written to a card (not
    /// blank, another bureau's key, no card): a job can wait for the next card.
    /// Anything else may have left a half-written card.
    pub fn card_untouched(&self) -> bool {
        matches!(
            self,
            OpError::CardNotBlank
                | OpError::KeysLocked
                // Print-first: the face is printed before the first write.
                | OpError::Print(_)
                | OpError::Face(_)
                | OpError::CardVoided(_)
                | OpError::SerialKnown(_)
                | OpError::Card(
                    CardError::WrongManagementKey { .. }
                        | CardError::ManagementKeyBlocked
                        | CardError::ManagementKeyNotProven
                        | CardError::NotAnEcard
                        | CardError::AdminKeyRejected
                        | CardError::AdminKeyNotChangeable
                        | CardError::PivSuite
                        | CardError::NoX509Signer
                )
                | OpError::Reader(
                    ReaderError::NoCard(_)
                        | ReaderError::UnknownReader(_)
                        | ReaderError::Busy(_)
                        | ReaderError::CardHung(_)
                )
        )
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            OpError::Reader(ReaderError::UnknownReader(_)) => "unknown_reader",
            OpError::Reader(ReaderError::NoCard(_)) => "no_card",
            OpError::Reader(ReaderError::Busy(_)) => "reader_busy",
            OpError::Reader(ReaderError::ServiceUnavailable(_)) => "pcsc_unavailable",
            _ if self.is_card_timeout() => "card_timeout",
            OpError::Reader(_) => "reader_error",
            _ if self.is_card_removed() => "card_removed",
            OpError::Card(CardError::WrongManagementKey { .. }) => "wrong_management_key",
            OpError::Card(CardError::ManagementKeyBlocked) => "management_key_blocked",
            OpError::Card(CardError::NotAnEcard) => "not_an_ecard",
            OpError::Card(CardError::NotAuthentic | CardError::ManagementKeyNotProven) => {
                "card_not_authentic"
            }
            OpError::Card(CardError::WrongLifeCycle { .. }) => "wrong_card_state",
            OpError::Card(CardError::FileTooLarge { .. } | CardError::ObjectTooLarge { .. }) => {
                "data_too_large"
            }
            OpError::Card(CardError::AdminKeyRejected) => "card_locked",
            OpError::Card(CardError::AdminKeyNotChangeable) => "card_admin_key_fixed",
            OpError::Card(CardError::PivSuite) => "piv_suite_unsupported",
            OpError::Card(CardError::NoX509Signer) => "signer_x509_missing",
            OpError::Card(_) => "card_error",
            OpError::Store(StoreError::NotFound { .. }) => "not_found",
            OpError::Store(StoreError::Conflict(_)) | OpError::Conflict(_) => "conflict",
            OpError::Store(_) => "store_error",
            OpError::Invalid(_) => "invalid_request",
            OpError::Keys(e) => e.code(),
            OpError::Auth(e) => e.code(),
            OpError::WrongCard => "wrong_card",
            OpError::CardNotBlank => "card_not_blank",
            OpError::VerificationFailed(_) => "verification_failed",
            OpError::KeysLocked => "keys_locked",
            OpError::CardVoided(_) => "card_voided",
            OpError::SerialKnown(_) => "card_serial_known",
            OpError::Face(p) => p.code(),
            OpError::Print(p) => p.code(),
        }
    }

    /// What a refused change clashed with, when it was a conflict.
    pub fn conflict(&self) -> Option<&crate::store::Conflict> {
        match self {
            OpError::Store(StoreError::Conflict(c)) | OpError::Conflict(c) => Some(c),
            _ => None,
        }
    }

    /// What the user reads.
    pub fn message_zh(&self) -> String {
        if self.is_card_timeout() {
            return CARD_TIMEOUT_ZH.into();
        }
        match self {
            OpError::Reader(ReaderError::UnknownReader(r)) => format!("找不到读卡器「{r}」"),
            OpError::Reader(ReaderError::NoCard(r)) => format!("读卡器「{r}」中没有卡片，请插卡"),
            OpError::Reader(ReaderError::Busy(r)) => {
                format!("读卡器「{r}」正在处理其他卡片，请稍候")
            }
            OpError::Reader(ReaderError::ServiceUnavailable(_)) => {
                "智能卡服务（pcscd）不可用，正在重连".into()
            }
            OpError::Reader(ReaderError::Transport(t)) => transport_zh(t),
            OpError::Reader(ReaderError::Join(_)) => "读卡操作异常中止".into(),
            OpError::Reader(ReaderError::CardHung(_)) => CARD_TIMEOUT_ZH.into(),
            OpError::Card(e) => card_zh(e),
            OpError::Store(StoreError::NotFound { what, id }) => {
                format!("找不到{}：{id}", labels::record_zh(what))
            }
            OpError::Store(StoreError::Conflict(c)) | OpError::Conflict(c) => {
                labels::conflict_zh(c)
            }
            OpError::Store(_) => "数据库错误，操作未生效".into(),
            OpError::Invalid(i) => i.message_zh(),
            OpError::Keys(e) => e.message_zh(),
            OpError::Auth(e) => e.message_zh(),
            OpError::WrongCard => "读卡器中的卡片不属于该证件".into(),
            OpError::CardNotBlank => "读卡器中的卡片不是空白卡，请换一张空白卡".into(),
            OpError::VerificationFailed(_) => "写卡后核验未通过，卡片已作废处理".into(),
            OpError::KeysLocked => "本站密钥未解锁（未提供口令），不能写卡".into(),
            OpError::SerialKnown(s) => format!(
                "卡号 {s} 本站已登记过，这不是一张新的空白卡（可能是复制或伪造的卡片），已拒绝，未作任何记录"
            ),
            OpError::CardVoided(s) => {
                format!("卡片 {s} 已作废（在注销名单上），不能再写，请换一张空白卡")
            }
            OpError::Face(p) => p.message_zh(),
            OpError::Print(p) => p.message_zh(),
        }
    }
}

/// What the user reads when the card stopped answering.
const CARD_TIMEOUT_ZH: &str = "卡片无响应，请取出后重新插入";

fn transport_zh(t: &TransportError) -> String {
    match t {
        TransportError::Timeout(_) => CARD_TIMEOUT_ZH.into(),
        TransportError::CardRemoved => "卡片被拔出，操作中断".into(),
        TransportError::CardReset => "卡片被复位，请重试".into(),
        TransportError::NoCard => "读卡器中没有卡片".into(),
        TransportError::ReaderUnavailable(_) => "读卡器不可用".into(),
        TransportError::Other(_) => "读卡器通信失败".into(),
    }
}

fn card_zh(e: &CardError) -> String {
    match e {
        CardError::Channel(ChannelError::Transport(t)) => transport_zh(t),
        CardError::Channel(_) => "卡片通信失败".into(),
        CardError::NotAnEcard => "不是执法证卡片（未找到执法证应用）".into(),
        CardError::UnsupportedProfile(v) => format!("卡片格式版本 {v} 不受支持"),
        CardError::Malformed { .. } => "卡片数据格式错误".into(),
        CardError::Refused { command, status } => {
            format!("卡片拒绝了操作 {command}（{:04X}）", status.to_u16())
        }
        CardError::WrongLifeCycle { .. } => "卡片状态不允许该操作".into(),
        CardError::WrongManagementKey { tries_left } => {
            format!("卡片管理密钥不匹配（剩余 {tries_left} 次尝试），该卡可能不属于本局")
        }
        CardError::ManagementKeyBlocked => "卡片管理密钥已锁定，无法写卡".into(),
        CardError::NotAuthenticated => "未通过卡片认证，写入被拒绝".into(),
        CardError::FileTooLarge { .. } => "数据超出卡片容量（照片过大？）".into(),
        CardError::BadChipKey => "卡片返回的芯片公钥无效".into(),
        CardError::ManagementKeyNotProven => {
            "卡片未能证明持有本局管理密钥（可能是伪造的卡片），未写入任何内容".into()
        }
        CardError::NotAuthentic => {
            "卡片未能证明持有登记的芯片密钥（可能是复制或伪造的卡片），未写入任何内容".into()
        }
        CardError::Signing(_) => "签名失败".into(),
        CardError::Random => "随机数生成失败".into(),
        CardError::AdminKeyRejected => {
            "PIV 卡拒绝本局的卡片管理密钥（9B）：不是本局的卡，或已被其他系统设置".into()
        }
        CardError::AdminKeyNotChangeable => {
            "该 PIV 卡无法更换出厂管理密钥，为防他人改写，不予制证".into()
        }
        CardError::PivSuite => "PIV 标准卡仅支持 P-256 算法，国密算法的本站不能在其上制证".into(),
        CardError::ObjectTooLarge { .. } => "数据超出 PIV 卡对象容量".into(),
        CardError::NoX509Signer => {
            "本站签发机关证书缺少 X.509 形式，PIV 卡无法制证（请运行 `ecardd keys signer-x509`）"
                .into()
        }
        CardError::X509(_) => "生成 X.509 证书失败".into(),
    }
}

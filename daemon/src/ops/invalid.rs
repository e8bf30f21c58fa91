//! Why a request was refused before anything was read or written: one variant per
//! rule, so a program matches the rule and the words are made once, at the edge
//! (`Invalid::message_zh`).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("a batch needs at least one certificate")]
    EmptyBatch,
    #[error("no reader chosen")]
    NoReader,
    #[error("stored card serial is malformed")]
    StoredSerial,
    #[error("stored chip key is malformed")]
    StoredChipKey,
    #[error("a status change needs a reason")]
    ReasonMissing,
    #[error("a cancellation needs the person's destination")]
    DestinationMissing,
    #[error("a re-issue needs how the old number was declared void and the 凭证 reference")]
    VoidDeclarationMissing,
    #[error("bulk replacement: {0}")]
    BulkReplace(String),
    #[error("user name must be 2-32 letters, digits, '_', '-' or '.'")]
    Username,
    #[error("display name is empty")]
    DisplayNameMissing,
    #[error("unknown role {0}")]
    UnknownRole(String),
    #[error("revocation list age limit: {0}")]
    RevocationAgeLimit(ecard_domain::field_check::RevocationAgeError),
    #[error("trust anchor key id does not match its key")]
    AnchorKeyId,
    #[error("trust anchor name or validity invalid")]
    AnchorFields,
    #[error("an operator cannot disable their own account")]
    DisableSelf,
    #[error("schedule year outside 2000..=2100")]
    ScheduleYear,
    #[error("a unit's review needs the unit")]
    UnitMissing,
    #[error("the day the situation arose is after today")]
    OccurredInFuture,
    #[error("list window outside 1..=3650 days")]
    ListWindow,
    #[error("reader {0} is paired twice")]
    PairingRepeated(String),
    #[error("a pairing names no reader")]
    PairingReaderMissing,
}

impl Invalid {
    /// What the user reads.
    pub fn message_zh(&self) -> String {
        match self {
            Invalid::EmptyBatch => "批次中没有证件".into(),
            Invalid::NoReader => "未选择读卡器".into(),
            Invalid::StoredSerial => "记录中的卡号格式错误".into(),
            Invalid::StoredChipKey => "记录中的芯片公钥格式错误，无法核对卡片".into(),
            Invalid::ReasonMissing => "请填写原因".into(),
            Invalid::DestinationMissing => "请填写被注销人员去向".into(),
            Invalid::BulkReplace(m) => m.clone(),
            Invalid::VoidDeclarationMissing => {
                "请填写声明作废的方式和凭证（如刊登声明的报纸及日期版次）".into()
            }
            Invalid::Username => "用户名须为 2–32 个字母、数字、下划线、连字符或点".into(),
            Invalid::DisplayNameMissing => "请填写姓名".into(),
            Invalid::UnknownRole(r) => format!("未知的角色：{r}"),
            // The domain's words: the bound and the day count the admin gave.
            Invalid::RevocationAgeLimit(e) => e.to_string(),
            Invalid::AnchorKeyId => "根证书公钥与其标识不符".into(),
            Invalid::AnchorFields => "根证书的名称或有效期无效".into(),
            Invalid::DisableSelf => "不能停用自己的账户".into(),
            Invalid::ScheduleYear => "年度超出范围".into(),
            Invalid::UnitMissing => "请选择执法单位".into(),
            Invalid::OccurredInFuture => "情形发生日期不能晚于今天".into(),
            Invalid::ListWindow => "天数应在 1 到 3650 之间".into(),
            Invalid::PairingRepeated(r) => format!("读卡器「{r}」只能与一台打印机配对"),
            Invalid::PairingReaderMissing => "请为每个配对选择读卡器".into(),
        }
    }
}

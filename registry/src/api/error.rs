//! Every refusal as `{code, message}` with the Chinese message made here, at the
//! edge, from the error (STYLE: user-facing text is produced at the API).

use crate::storage::StorageError;
use crate::workflow::materials::MaterialError;
use crate::workflow::service::WorkflowError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ecard_sync_protocol::signing::AuthError;
use ecard_sync_protocol::{ErrorBody, ProtocolError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "未登录或令牌无效")
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "无权进行该操作")
    }

    pub fn bad_request(detail: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("请求格式错误：{detail}"),
        )
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误，请稍后重试",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.to_owned(),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let message = match &e {
            AuthError::MissingHeader(h) => format!("缺少请求认证信息：{h}"),
            AuthError::MalformedHeader(h) => format!("请求认证信息格式错误：{h}"),
            AuthError::UnknownStation => "站点未登记或已停用".to_owned(),
            AuthError::BadSignature => "请求签名无效，已拒绝".to_owned(),
            AuthError::StaleTimestamp { skew_secs } => {
                format!(
                    "请求时间与服务器时间相差{}秒（允许±300秒），请校准站点时钟",
                    skew_secs
                )
            }
            AuthError::Replayed => "重复的请求（随机数已使用），已拒绝".to_owned(),
        };
        Self::new(StatusCode::UNAUTHORIZED, e.code(), message)
    }
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.code(),
            format!("报文内容无效：{e}"),
        )
    }
}

fn what_zh(what: &str) -> &str {
    match what {
        "station" => "站点",
        "unit" => "单位",
        "account" => "账号",
        "application" => "申请",
        "certificate" => "证件",
        "revocation list" => "吊销名单版本",
        other => other,
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        use StatusCode as S;
        match e {
            StorageError::NotFound { what, id } => Self::new(
                S::NOT_FOUND,
                "not_found",
                format!("未找到{}：{id}", what_zh(what)),
            ),
            StorageError::Exists { what, id } => Self::new(
                S::CONFLICT,
                "already_exists",
                format!("{}已存在：{id}", what_zh(what)),
            ),
            StorageError::SequenceGap { expected, got } => Self::new(
                S::CONFLICT,
                "sequence_gap",
                format!("事件序号不连续：应从第{expected}号开始，收到第{got}号；本批未处理"),
            ),
            StorageError::SeqConflict { seq } => Self::new(
                S::CONFLICT,
                "sequence_conflict",
                format!("第{seq}号事件与此前已接收的同序号事件不一致；本批未处理"),
            ),
            StorageError::EventIdReused(id) => Self::new(
                S::CONFLICT,
                "event_id_reused",
                format!("事件编号{id}已被其他事件使用；本批未处理"),
            ),
            StorageError::Replayed => AuthError::Replayed.into(),
            StorageError::Invalid(m) => Self::new(S::UNPROCESSABLE_ENTITY, "invalid", m),
            StorageError::BadTransition {
                number,
                state,
                kind,
            } => Self::new(
                S::CONFLICT,
                "bad_transition",
                crate::web::labels::transition_refused_zh(&number, state, kind),
            ),
            other @ (StorageError::Sql(_)
            | StorageError::Migration(_)
            | StorageError::Json(_)
            | StorageError::Poisoned) => Self::internal(other),
        }
    }
}

impl From<WorkflowError> for ApiError {
    fn from(e: WorkflowError) -> Self {
        use StatusCode as S;
        match e {
            WorkflowError::Storage(s) => s.into(),
            WorkflowError::Transition(t) => Self::new(S::CONFLICT, t.code(), t.message_zh()),
            WorkflowError::Numbering(n) => {
                Self::new(S::UNPROCESSABLE_ENTITY, "numbering", n.to_string())
            }
            WorkflowError::Validity(v) => {
                Self::new(S::UNPROCESSABLE_ENTITY, v.code(), v.to_string())
            }
            // The first reason's code; the message (WorkflowError's Display) lists
            // them all.
            WorkflowError::Ineligible(ref list) => {
                let code = list.first().map(|i| i.code()).unwrap_or("ineligible");
                Self::new(S::UNPROCESSABLE_ENTITY, code, e.to_string())
            }
            WorkflowError::Prefilled(r) => {
                let status = if r.code == crate::storage::refusal_codes::NUMBER_CLAIMED {
                    S::CONFLICT
                } else {
                    S::UNPROCESSABLE_ENTITY
                };
                Self::new(status, r.code, r.message)
            }
            e @ WorkflowError::NoPhoto { .. } => {
                Self::new(S::UNPROCESSABLE_ENTITY, "photo_missing", e.to_string())
            }
            WorkflowError::Material(m) => {
                let status = match m {
                    MaterialError::TooLarge => S::PAYLOAD_TOO_LARGE,
                    MaterialError::TooMany => S::CONFLICT,
                    MaterialError::Empty => S::UNPROCESSABLE_ENTITY,
                    MaterialError::NotAllowedType => S::UNSUPPORTED_MEDIA_TYPE,
                };
                Self::new(status, m.code(), m.to_string())
            }
        }
    }
}

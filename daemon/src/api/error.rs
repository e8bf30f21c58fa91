//! The API's error answer: an HTTP status and `{code, message}` with the message in
//! Chinese, produced from the operation's own error so the wording lives in one place.

use crate::auth::{AuthError, Role};
use crate::keyring::KeyringError;
use crate::ops::{FaceProblem, OpError};
use crate::printing::PrintError;
use crate::readers::ReaderError;
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra fields of the body (e.g. the rows of a refused import).
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "请先登录")
    }

    pub fn forbidden(role: Role) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("当前账户（{}）无权执行此操作", crate::labels::role_zh(role)),
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = self.extra;
        body.insert("code".into(), json!(self.code));
        body.insert("message".into(), json!(self.message));
        (self.status, Json(Value::Object(body))).into_response()
    }
}

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        let status = match &e {
            _ if e.is_card_timeout() => StatusCode::GATEWAY_TIMEOUT,
            OpError::Reader(ReaderError::UnknownReader(_)) => StatusCode::NOT_FOUND,
            OpError::Store(StoreError::NotFound { .. }) => StatusCode::NOT_FOUND,
            OpError::Reader(ReaderError::ServiceUnavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            OpError::Invalid(_) | OpError::Auth(AuthError::PasswordTooShort { .. }) => {
                StatusCode::BAD_REQUEST
            }
            OpError::Store(StoreError::Conflict(_))
            | OpError::Conflict(_)
            | OpError::Reader(_)
            | OpError::WrongCard
            | OpError::CardNotBlank
            | OpError::KeysLocked
            | OpError::CardVoided(_)
            | OpError::SerialKnown(_) => StatusCode::CONFLICT,
            OpError::Store(_) | OpError::Keys(_) | OpError::Auth(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            OpError::Card(_) | OpError::VerificationFailed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            OpError::Face(p) => match p {
                FaceProblem::NoLiveCard => StatusCode::CONFLICT,
                FaceProblem::SealTooLarge | FaceProblem::SealSuite => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                FaceProblem::FontMissing { .. } | FaceProblem::Render(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            },
            OpError::Print(p) => match p {
                PrintError::BadQueueName(_) | PrintError::TooLarge(_) => StatusCode::BAD_REQUEST,
                PrintError::NoQueueChosen
                | PrintError::ReaderNotPaired(_)
                | PrintError::UnknownQueue(_)
                | PrintError::QueueNotAccepting(_) => StatusCode::CONFLICT,
                PrintError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
                PrintError::ClientMissing(_)
                | PrintError::ServerUnreachable(_)
                | PrintError::Refused(_) => StatusCode::BAD_GATEWAY,
            },
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "operation failed");
        }
        let mut err = Self::new(status, e.code(), e.message_zh());
        // What clashed, as data: `{"conflict": "status_change_not_allowed",
        // "state": "cancelled", "kind": "lift"}` beside the code and the words.
        if let Some(Value::Object(data)) = e.conflict().and_then(|c| serde_json::to_value(c).ok()) {
            err.extra.extend(data);
        }
        err
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        OpError::Store(e).into()
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let status = match e {
            AuthError::PasswordTooShort { .. } => StatusCode::BAD_REQUEST,
            AuthError::MalformedToken => StatusCode::UNAUTHORIZED,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, e.code(), e.message_zh())
    }
}

impl From<KeyringError> for ApiError {
    fn from(e: KeyringError) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "keys_error",
            e.message_zh(),
        )
    }
}

//! The login throttle and the password-hash gate live in `ecard_web_guard` (the
//! registry's pages stand behind the same ones); here only their refusals as this
//! API's errors.

pub use ecard_web_guard::login_guard::*;

impl From<GateError> for super::ApiError {
    fn from(e: GateError) -> Self {
        use axum::http::StatusCode;
        match e {
            GateError::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "正在处理的登录或口令运算过多，请稍后重试",
            ),
            GateError::Failed => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "口令处理失败",
            ),
        }
    }
}

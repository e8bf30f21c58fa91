//! The Host check against DNS rebinding: a page of some web site whose name is
//! made to resolve to 127.0.0.1 would otherwise reach this server as the same
//! origin as itself. Its requests carry that site's name in `Host`, so only the
//! names this server is reached by are served: its listen address, the loopback
//! names on its port, and the names an operator configures (`--allowed-host`).

use super::error::ApiError;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
pub use ecard_web_guard::hosts::AllowedHosts;

pub async fn check(hosts: AllowedHosts, req: Request, next: Next) -> Response {
    // The check is the registry's too (ecard_web_guard::hosts); the refusal's words
    // are the station's.
    match hosts.check(&req) {
        Ok(()) => next.run(req).await,
        Err(host) => {
            tracing::warn!(host = ?host, path = %req.uri().path(), "request for a host not served here refused");
            ApiError::new(
                StatusCode::FORBIDDEN,
                "host_not_allowed",
                "请求的主机名不是本站的地址，已拒绝（如需用其他名称访问，请由管理员配置 --allowed-host）",
            )
            .into_response()
        }
    }
}

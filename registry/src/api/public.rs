//! `GET /public/v1/check?seal=EC1:…` (issue #16, docs/API.md, docs/SECURITY.md):
//! what a printed card face cannot say — whether its certificate was since
//! suspended, cancelled or missed its annual review — for anyone holding the card.
//!
//! The question is the whole seal, not a certificate number: the registry first
//! verifies the seal (signature by a known document signer that chains to the
//! province's trust list), and answers only for the number inside a genuine one. So
//! nobody learns anything by walking numbers, and the answer adds nothing personal
//! to what the QR already shows: the state, and the years of passed reviews.
//!
//! No login, no cookies; `Access-Control-Allow-Origin: *` so the /check page saved
//! on a phone may read the answer; a token bucket per client address
//! (`rate_limit`); a bounded query.

use super::rate_limit::{retry_after_secs, RateLimiter, PUBLIC_CHECK};
use super::{ApiError, AppState};
use crate::storage::{PublicState, PublicStatus};
use crate::web::labels::{public_state_zh, review_standing_zh};
use axum::extract::{ConnectInfo, State};
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use card_seal::{Validity, Verdict};
use ecard_domain::validity::ReviewStanding;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Longest query accepted. A seal is at most `card_seal::MAX_TEXT` (400)
/// characters; percent-encoding its base45 alphabet (space, `$%*+/:`) can triple a
/// character, and `seal=` adds five.
pub const MAX_QUERY: usize = 3 * card_seal::MAX_TEXT + 16;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/public/v1/check", get(check))
        .layer(Extension(Arc::new(RateLimiter::new(PUBLIC_CHECK))))
}

#[derive(Debug, Deserialize)]
struct CheckQuery {
    seal: String,
}

/// The answer for a genuine seal.
#[derive(Debug, Serialize)]
pub struct PublicAnswer {
    /// `ok`.
    pub code: &'static str,
    /// `valid`, `suspended`, `cancelled`, `replaced`, `void`, `card_void`,
    /// `not_yet_recorded`, `not_found`, `expired` (`storage::PublicState`).
    pub status: &'static str,
    /// 有效 / 已暂停 / 已注销 / 不存在 …
    pub word: &'static str,
    /// The certificate number, as the seal carries it.
    pub number: String,
    /// The latest year whose annual review passed (the year it covers), if any.
    pub reviewed_through: Option<i32>,
    /// Where the annual review stands today (only while the certificate is valid).
    pub review: Option<ReviewAnswer>,
    /// The registry's date of the answer.
    pub checked_on: chrono::NaiveDate,
}

#[derive(Debug, Serialize)]
pub struct ReviewAnswer {
    /// `exempt`, `up_to_date`, `due`, `overdue`.
    pub standing: &'static str,
    pub year: Option<i32>,
    pub word: String,
}

fn review_answer(standing: ReviewStanding) -> ReviewAnswer {
    let (code, year) = match standing {
        ReviewStanding::Exempt => ("exempt", None),
        ReviewStanding::UpToDate { year } => ("up_to_date", Some(year)),
        ReviewStanding::Due { year, .. } => ("due", Some(year)),
        ReviewStanding::Overdue { year } => ("overdue", Some(year)),
    };
    ReviewAnswer {
        standing: code,
        year,
        word: review_standing_zh(&standing),
    }
}

/// Every answer of this route, refusals included, may be read by any page.
fn public(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn check(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<RateLimiter>>,
    request: axum::extract::Request,
) -> Response {
    // Present when served (axum::serve's connect info, or the TLS loop's extension).
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a);
    let uri = request.uri().clone();
    public(answer(state, &limiter, peer, uri).await)
}

async fn answer(
    state: AppState,
    limiter: &RateLimiter,
    peer: Option<SocketAddr>,
    uri: Uri,
) -> Response {
    if let Err(wait) = limiter.take(peer.map(|a| a.ip()), Instant::now()) {
        let secs = retry_after_secs(wait);
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("查询过于频繁，请{secs}秒后再试"),
        )
        .into_response();
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    if uri.query().map_or(0, str::len) > MAX_QUERY {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "query_too_long",
            "查询内容过长，不是执法证二维码",
        )
        .into_response();
    }
    let query = match axum::extract::Query::<CheckQuery>::try_from_uri(&uri) {
        Ok(q) => q.0,
        Err(_) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "请提供二维码内容（参数 seal）",
            )
            .into_response()
        }
    };
    match verdict_and_status(&state, query.seal).await {
        Ok(answer) => answer,
        Err(e) => e.into_response(),
    }
}

async fn verdict_and_status(state: &AppState, seal: String) -> Result<Response, ApiError> {
    let today = state.today();
    let province = Arc::clone(state.storage.province());
    state
        .db(move |storage| {
            let trust = storage.held_trust_list()?;
            let signers = match card_seal::named_kid(&seal) {
                Some(kid) => storage.signers_with_kid(&kid)?,
                None => Vec::new(),
            };
            let verdict = card_seal::check(&seal, &trust, &signers, today);
            let Verdict::Genuine {
                payload, validity, ..
            } = verdict
            else {
                return Ok(refusal(&verdict).into_response());
            };
            let serial = hex::encode_upper(payload.card_serial);
            let PublicStatus {
                state: found,
                reviewed_years,
                issued_on,
            } = storage.public_status(&payload.number, &serial)?;
            let status = if found == PublicState::Valid && validity == Validity::Expired {
                PublicState::Expired
            } else {
                found
            };
            let review = (status == PublicState::Valid).then(|| {
                review_answer(province.review.standing(
                    issued_on.unwrap_or(payload.valid_from),
                    &reviewed_years,
                    today,
                ))
            });
            Ok::<_, crate::storage::StorageError>(
                Json(PublicAnswer {
                    code: "ok",
                    status: status.code(),
                    word: public_state_zh(status),
                    number: payload.number,
                    reviewed_through: reviewed_years.iter().copied().max(),
                    review,
                    checked_on: today,
                })
                .into_response(),
            )
        })
        .await
}

/// A seal that is not genuine gets a refusal, never a status: a forged seal's
/// number says nothing about the certificate it copies.
fn refusal(verdict: &Verdict) -> ApiError {
    match verdict {
        Verdict::NotASeal => {
            ApiError::new(StatusCode::BAD_REQUEST, "not_a_seal", "这不是执法证二维码")
        }
        Verdict::Unconfirmed(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "seal_unconfirmed",
            "登记中心不认识签发该二维码的机关，无法确认真伪",
        ),
        // Genuine is answered by the caller; anything else is refused as forged.
        _ => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "seal_forged",
            "二维码签名无效：不是发证机关签发的原样二维码，证件可能被伪造或涂改",
        ),
    }
}

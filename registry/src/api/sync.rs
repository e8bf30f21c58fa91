//! Station routes (`/sync/v1`). Every request but the key lookup is signed by the
//! station (sync_protocol::signing), and every answer a station acts on (feed
//! pages, revocation lists) is signed with the registry key; authentication refuses unknown stations, bad
//! signatures, stale timestamps and reused nonces before anything is read or changed.

use super::{ApiError, AppState};
use crate::storage::Station;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use ecard_sync_protocol::events::{EventAck, EventBatch};
use ecard_sync_protocol::feed::{SignedFeedPage, DEFAULT_FEED_LIMIT, MAX_FEED_LIMIT};
use ecard_sync_protocol::revocation::{RegistryKey, SignedRevocationList};
use ecard_sync_protocol::signing::{verify_request, AuthError, RequestAuth};
use ecard_sync_protocol::{paths, ProtocolError};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(paths::EVENTS, post(push_events))
        .route(paths::FEED, get(feed))
        .route(paths::REVOCATIONS, get(revocations))
        .route(paths::REGISTRY_KEY, get(registry_key))
}

/// Checks a station request; returns the station on success.
async fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Station, ApiError> {
    Ok(authenticate_request(state, method, uri, headers, body)
        .await?
        .0)
}

/// [`authenticate`], also returning the request's nonce (a feed page echoes it).
async fn authenticate_request(
    state: &AppState,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Station, String), ApiError> {
    let auth = RequestAuth::from_headers(|n| headers.get(n).and_then(|v| v.to_str().ok()))?;
    let id = auth.station_id.clone();
    let station = state
        .db(move |s| s.station(&id))
        .await?
        .filter(|s| !s.disabled)
        .ok_or(AuthError::UnknownStation)?;
    let public_key = hex::decode(&station.public_key).map_err(|_| AuthError::UnknownStation)?;
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let now = state.storage.clock().unix_seconds();
    verify_request(&auth, &public_key, method.as_str(), path, body, now)?;
    // Only a request with a valid signature may use up a nonce.
    let (sid, nonce, ts) = (station.id.clone(), auth.nonce.clone(), auth.timestamp);
    let remembered = nonce.clone();
    state
        .db(move |s| s.remember_nonce(&sid, &remembered, ts, now))
        .await?;
    Ok((station, nonce))
}

async fn push_events(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<EventAck>, ApiError> {
    let station = authenticate(&state, &method, &uri, &headers, &body).await?;
    let batch = EventBatch::decode(&body)?;
    let mut decoded = Vec::with_capacity(batch.events.len());
    for ev in batch.events {
        let body = ev.body().map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_event",
                format!(
                    "第{}号事件（{}）内容无效：{e}；本批未处理",
                    ev.seq, ev.event_id
                ),
            )
        })?;
        decoded.push((ev, body));
    }
    let count = decoded.len();
    let ack = state
        .db(move |s| crate::workflow::service::ingest(s, &station.id, &decoded))
        .await?;
    tracing::debug!(count, last = ack.last_applied_seq, "ingested");
    Ok(Json(ack))
}

#[derive(Debug, Deserialize)]
struct FeedQuery {
    #[serde(default)]
    after: u64,
    limit: Option<u32>,
}

async fn feed(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    query: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SignedFeedPage>, ApiError> {
    let (station, nonce) = authenticate_request(&state, &method, &uri, &headers, b"").await?;
    let Query(q) = query.map_err(ApiError::bad_request)?;
    let limit = q
        .limit
        .unwrap_or(DEFAULT_FEED_LIMIT)
        .clamp(1, MAX_FEED_LIMIT);
    let mut page = state
        .db(move |s| s.feed_page(&station, q.after, limit))
        .await?;
    page.nonce = nonce;
    // Signed with the registry key: a station verifies the page before parsing its
    // items, so nothing on the network path can add, drop or change one.
    let key = state.key.clone();
    let signed = tokio::task::spawn_blocking(move || page.sign(&key))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e: ProtocolError| ApiError::internal(e))?;
    Ok(Json(signed))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    since: Option<u64>,
}

async fn revocations(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SignedRevocationList>, ApiError> {
    let (_, nonce) = authenticate_request(&state, &method, &uri, &headers, b"").await?;
    let Query(q) = query.map_err(ApiError::bad_request)?;
    let mut list = match q.since {
        Some(n) => state.db(move |s| s.revocation_list_delta(n)).await?,
        None => state.db(|s| s.revocation_list_full()).await?,
    };
    // Signed for this request only (see RevocationList::nonce).
    list.nonce = Some(nonce);
    let key = state.key.clone();
    let signed = tokio::task::spawn_blocking(move || list.sign(&key))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e: ProtocolError| ApiError::internal(e))?;
    Ok(Json(signed))
}

/// The registry's list-signing key, for a station to pin at enrollment.
async fn registry_key(State(state): State<AppState>) -> Json<RegistryKey> {
    Json(RegistryKey::of(&state.key.public_key()))
}

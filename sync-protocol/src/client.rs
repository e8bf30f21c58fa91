//! The station's client for a registry (feature `client`; for ecardd's sync client
//! and the tests), beside the types it sends and decodes:
//! every request signed with the station key, every answer decoded and checked,
//! revocation lists verified against the pinned registry key before use.
//!
//! Exactly-once on the station side is the caller's part (docs/SYNC.md): mark
//! outbox rows sent only up to the acknowledged `last_applied_seq`, and store the
//! feed cursor in the same transaction as the applied items.

use crate::events::{EventAck, EventBatch, StationEvent};
use crate::feed::{FeedPage, SignedFeedPage};
use crate::revocation::{RegistryKey, RevocationList, SignedRevocationList};
use crate::signing::sign_request;
use crate::{paths, ErrorBody, ProtocolError};
use card_profile::pki::{PublicKey, SigningKey};
use reqwest::Method;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClientError {
    /// The registry could not be reached or the connection broke: retry later.
    #[error("registry unreachable: {0}")]
    Transport(#[from] reqwest::Error),
    /// The registry answered with a refusal.
    #[error("registry refused ({status}, {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        /// The registry's Chinese message, for people.
        message: String,
    },
    /// The answer did not decode or verify: do not use it.
    #[error("bad answer from the registry: {0}")]
    Protocol(#[from] ProtocolError),
    #[error("invalid registry URL {0}")]
    Url(String),
    /// The answer was larger than [`MAX_ANSWER_BYTES`]: not read, not used.
    #[error("answer from the registry larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge,
}

impl ClientError {
    /// Worth retrying with backoff (network trouble, server errors); a refusal of
    /// the request itself (4xx) will not change by retrying.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Transport(_) => true,
            ClientError::Refused { status, code, .. } => {
                *status >= 500 || code == "stale_timestamp"
            }
            ClientError::Protocol(_) | ClientError::Url(_) | ClientError::TooLarge => false,
        }
    }
}

/// One station's connection to one registry.
#[derive(Clone)]
pub struct RegistryClient {
    base: String,
    station_id: String,
    key: Arc<SigningKey>,
    http: reqwest::Client,
    /// The station's one clock: request timestamps come from it.
    clock: ecard_clock::Clock,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("base", &self.base)
            .field("station_id", &self.station_id)
            .finish()
    }
}

impl RegistryClient {
    /// `base_url` like `http://127.0.0.1:8600` or `https://registry.example`.
    pub fn new(
        base_url: &str,
        station_id: &str,
        key: Arc<SigningKey>,
        clock: ecard_clock::Clock,
    ) -> Result<Self, ClientError> {
        let base = base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Url(base));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()?;
        Ok(Self {
            base,
            station_id: station_id.to_owned(),
            key,
            http,
            clock,
        })
    }

    pub fn station_id(&self) -> &str {
        &self.station_id
    }

    /// Sends one signed request; returns the body of a 2xx answer.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, ClientError> {
        let now = self.clock.unix_seconds();
        let auth = sign_request(
            &self.key,
            &self.station_id,
            method.as_str(),
            path_and_query,
            &body,
            now,
        )?;
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path_and_query))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in auth.headers() {
            req = req.header(name, value);
        }
        let resp = req.send().await?;
        read(resp).await
    }

    /// Pushes events (at most `MAX_BATCH_EVENTS`, contiguous `seq`). On success,
    /// every event up to `ack.last_applied_seq` is durably recorded.
    pub async fn push_events(&self, events: Vec<StationEvent>) -> Result<EventAck, ClientError> {
        let body = serde_json::to_vec(&EventBatch::new(events)).map_err(ProtocolError::from)?;
        let bytes = self.send(Method::POST, paths::EVENTS, body).await?;
        Ok(EventAck::decode(&bytes)?)
    }

    /// One page of the feed after `cursor`, signed, unverified (see [`Self::feed`]).
    pub async fn feed_signed(&self, after: u64, limit: u32) -> Result<SignedFeedPage, ClientError> {
        let path = format!("{}?after={after}&limit={limit}", paths::FEED);
        let bytes = self.send(Method::GET, &path, Vec::new()).await?;
        Ok(SignedFeedPage::decode(&bytes)?)
    }

    /// One page of the feed after `cursor`, verified with the pinned registry key
    /// before its items are parsed, and checked to answer this very request.
    pub async fn feed(
        &self,
        after: u64,
        limit: u32,
        registry_key: &PublicKey,
    ) -> Result<FeedPage, ClientError> {
        let signed = self.feed_signed(after, limit).await?;
        Ok(signed.verify(registry_key, &self.station_id, after)?)
    }

    /// The signed full revocation list, unverified (see [`Self::revocations_verified`]).
    pub async fn revocations_full(&self) -> Result<SignedRevocationList, ClientError> {
        let bytes = self
            .send(Method::GET, paths::REVOCATIONS, Vec::new())
            .await?;
        Ok(SignedRevocationList::decode(&bytes)?)
    }

    /// The signed delta after list `since`, unverified.
    pub async fn revocations_since(&self, since: u64) -> Result<SignedRevocationList, ClientError> {
        let path = format!("{}?since={since}", paths::REVOCATIONS);
        let bytes = self.send(Method::GET, &path, Vec::new()).await?;
        Ok(SignedRevocationList::decode(&bytes)?)
    }

    /// Full list (`since` = None) or delta, verified with the pinned registry key.
    pub async fn revocations_verified(
        &self,
        since: Option<u64>,
        registry_key: &PublicKey,
    ) -> Result<RevocationList, ClientError> {
        let signed = match since {
            Some(n) => self.revocations_since(n).await?,
            None => self.revocations_full().await?,
        };
        let list = signed.verify(registry_key)?;
        // The registry answers `since` with a delta from it; anything else (an older
        // list, a delta from another base) is refused here, and again where it is
        // stored against the number actually held.
        list.check_succeeds(since)?;
        Ok(list)
    }

    /// The registry's list key (unauthenticated; pin it only after comparing the
    /// key id with the one the registry operator gave out of band).
    pub async fn registry_key(&self) -> Result<RegistryKey, ClientError> {
        let resp = self
            .http
            .get(format!("{}{}", self.base, paths::REGISTRY_KEY))
            .send()
            .await?;
        let bytes = read(resp).await?;
        Ok(serde_json::from_slice(&bytes).map_err(ProtocolError::from)?)
    }
}

/// The largest answer read from a registry: a full revocation list of a whole
/// country fits (about 3 million entries at ~60 bytes), a hostile endless answer
/// does not exhaust the station's memory.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024 * 1024;

async fn read(mut resp: reqwest::Response) -> Result<Vec<u8>, ClientError> {
    let status = resp.status();
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(ClientError::TooLarge);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(ClientError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    if status.is_success() {
        return Ok(bytes);
    }
    let body: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
    Err(match body {
        Some(b) => ClientError::Refused {
            status: status.as_u16(),
            code: b.code,
            message: b.message,
        },
        None => ClientError::Refused {
            status: status.as_u16(),
            code: "http_error".into(),
            message: format!(
                "登记中心返回错误{}",
                status
                    .canonical_reason()
                    .map_or_else(|| status.as_u16().to_string(), str::to_owned)
            ),
        },
    })
}

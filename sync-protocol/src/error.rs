//! Errors of decoding and checking protocol messages, and the JSON body of every
//! refusal (`{code, message}`, message in Simplified Chinese, as ecardd's API does).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why bytes or a message were refused. Each variant has a stable [`code`](Self::code).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("unsupported protocol version {0}")]
    Version(u32),
    #[error("unknown event kind {0:?}")]
    UnknownEventKind(String),
    #[error("invalid field {field}: {reason}")]
    Field { field: &'static str, reason: String },
    #[error("signature does not verify")]
    BadSignature,
    #[error("signed by key {found}, expected {expected}")]
    WrongKey { expected: String, found: String },
    #[error("a delta from list {base} cannot be applied to list {have}")]
    DeltaBase { base: u64, have: u64 },
    #[error("revocation list {number} is older than the held list {held}")]
    ListOlder { number: u64, held: u64 },
    #[error("feed page signature: {0}")]
    FeedSignature(String),
    #[error("feed page answers another request (asked after {asked}, page is after {page})")]
    FeedReplayed { asked: u64, page: u64 },
    #[error("revocation list answers another request (nonce)")]
    ListNotFresh,
    #[error("feed page answers another request (nonce)")]
    FeedNotFresh,
    #[error("feed page is for station {0:?}")]
    FeedWrongStation(String),
    #[error("trust list signature: {0}")]
    TrustListSignature(String),
    #[error("trust list {number} is not newer than the held list {held}")]
    TrustListOlder { number: u64, held: u64 },
    #[error("expected a {expected} list")]
    ListKind { expected: &'static str },
    #[error("signing failed")]
    Signing,
}

impl ProtocolError {
    pub fn field(field: &'static str, reason: impl Into<String>) -> Self {
        ProtocolError::Field {
            field,
            reason: reason.into(),
        }
    }

    /// Stable machine code (also used in the registry's error bodies).
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::Json(_) => "bad_json",
            ProtocolError::Version(_) => "unsupported_version",
            ProtocolError::UnknownEventKind(_) => "unknown_event_kind",
            ProtocolError::Field { .. } => "bad_field",
            ProtocolError::BadSignature => "bad_list_signature",
            ProtocolError::WrongKey { .. } => "wrong_list_key",
            ProtocolError::DeltaBase { .. } => "delta_base_mismatch",
            ProtocolError::ListKind { .. } => "wrong_list_kind",
            ProtocolError::ListOlder { .. } => "revocation_list_older",
            ProtocolError::ListNotFresh => "revocation_list_replayed",
            ProtocolError::FeedSignature(_) => "bad_feed_signature",
            ProtocolError::FeedReplayed { .. } | ProtocolError::FeedNotFresh => {
                "feed_page_replayed"
            }
            ProtocolError::FeedWrongStation(_) => "feed_wrong_station",
            ProtocolError::TrustListSignature(_) => "bad_trust_list_signature",
            ProtocolError::TrustListOlder { .. } => "trust_list_older",
            ProtocolError::Signing => "signing_failed",
        }
    }
}

impl From<serde_json::Error> for ProtocolError {
    fn from(e: serde_json::Error) -> Self {
        ProtocolError::Json(e.to_string())
    }
}

/// The body of every refusal: a stable code and a Chinese message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

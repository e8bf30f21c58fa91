//! The ecard sync protocol, version 1 (docs/SYNC.md): what a station (ecardd) and the
//! central registry say to each other. Pure: types, encodings, signatures and the
//! revocation-list index; no sockets, files or clocks (callers pass the time in).
//!
//! - [`events`]: the station's outbox events pushed in batches, and the acknowledgement.
//! - [`feed`]: what the registry tells stations (issuance orders, status changes,
//!   trust-list updates), paged by a global cursor.
//! - [`revocation`]: the numbered, dated, registry-signed revocation list (full and delta).
//! - [`index`]: a compact in-memory lookup over a revocation list.
//! - [`signing`]: per-request station signatures (ECDSA P-256 over method, path,
//!   timestamp, nonce and body hash).
//! - [`trust`]: the trust list (province roots, revoked document signers) signed by
//!   a province root, offline: the registry carries it but cannot make one.
//! - [`state`]: a certificate's lifecycle state, and what each status change makes of it.
//! - [`error`]: the error body every refusal carries, and this crate's error type.
//! - [`refusal`]: the Chinese words for a request refused before a handler read it.
//! - `client` (feature `client`): the station's HTTP client for a registry — the one
//!   piece with I/O, so that a station links the protocol, not the registry server.

#[cfg(feature = "client")]
pub mod client;
mod envelope;
pub mod error;
pub mod events;
pub mod feed;
pub mod index;
pub mod refusal;
pub mod revocation;
pub mod signing;
pub mod state;
pub mod trust;

pub use card_profile::pki::{PublicKey, SigningKey};
pub use error::{ErrorBody, ProtocolError};

/// The protocol version in every message body and in the URL prefix (`/sync/v1`).
pub const PROTOCOL_VERSION: u32 = 1;

/// URL paths of the station-facing API.
pub mod paths {
    pub const EVENTS: &str = "/sync/v1/events";
    pub const FEED: &str = "/sync/v1/feed";
    pub const REVOCATIONS: &str = "/sync/v1/revocations";
    /// Unauthenticated: the registry's revocation-list public key (to pin at enrollment).
    pub const REGISTRY_KEY: &str = "/sync/v1/registry-key";
}

/// Checks the `version` field of a decoded message.
pub(crate) fn check_version(version: u32) -> Result<(), ProtocolError> {
    if version == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(ProtocolError::Version(version))
    }
}

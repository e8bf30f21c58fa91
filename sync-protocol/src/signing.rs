//! Station request signing. Every station request carries four headers:
//!
//! | header              | value                                              |
//! |---------------------|----------------------------------------------------|
//! | `x-ecard-station`   | station id (1–64 of `a-z A-Z 0-9 - _ .`)           |
//! | `x-ecard-timestamp` | Unix seconds (UTC) when signed                     |
//! | `x-ecard-nonce`     | 16 random bytes, 32 lower-case hex digits          |
//! | `x-ecard-signature` | ECDSA P-256 / SHA-256 fixed r‖s, 128 hex digits    |
//!
//! The signature covers the signing string built by [`signing_string`]:
//!
//! ```text
//! ECARD-SYNC-V1\n<station>\n<METHOD>\n<path?query>\n<timestamp>\n<nonce>\n<hex SHA-256 of body>
//! ```
//!
//! [`verify_request`] checks the signature and the clock window; remembering nonces
//! (refusing a replay within the window) is the server's job, since it needs storage.

use crate::{ProtocolError, SigningKey};
use card_profile::pki::verify_signature;
use card_profile::suite::Suite;
use ring::rand::{SecureRandom, SystemRandom};
use thiserror::Error;

pub const HEADER_STATION: &str = "x-ecard-station";
pub const HEADER_TIMESTAMP: &str = "x-ecard-timestamp";
pub const HEADER_NONCE: &str = "x-ecard-nonce";
pub const HEADER_SIGNATURE: &str = "x-ecard-signature";

/// A request signed more than this far from the server's clock is refused.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

const SIGNING_PREFIX: &str = "ECARD-SYNC-V1";

/// Why a request's authentication was refused. Codes are stable (docs/SYNC.md).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("malformed header {0}")]
    MalformedHeader(&'static str),
    #[error("unknown or disabled station")]
    UnknownStation,
    #[error("signature does not verify")]
    BadSignature,
    #[error("timestamp {skew_secs} s away from the server clock")]
    StaleTimestamp { skew_secs: i64 },
    #[error("nonce already used")]
    Replayed,
}

impl AuthError {
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingHeader(_) => "auth_missing_header",
            AuthError::MalformedHeader(_) => "auth_malformed_header",
            AuthError::UnknownStation => "unknown_station",
            AuthError::BadSignature => "bad_signature",
            AuthError::StaleTimestamp { .. } => "stale_timestamp",
            AuthError::Replayed => "replayed_request",
        }
    }
}

/// The four authentication headers of one request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAuth {
    pub station_id: String,
    pub timestamp: i64,
    /// 32 lower-case hex digits.
    pub nonce: String,
    pub signature: [u8; 64],
}

/// True for a valid station id (it travels in a header and in URLs of logs).
pub fn is_valid_station_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl RequestAuth {
    /// The headers to send, as (name, value) pairs.
    pub fn headers(&self) -> [(&'static str, String); 4] {
        [
            (HEADER_STATION, self.station_id.clone()),
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_NONCE, self.nonce.clone()),
            (HEADER_SIGNATURE, hex::encode(self.signature)),
        ]
    }

    /// Parses the headers through `get(name) -> value` (any HTTP library).
    pub fn from_headers<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, AuthError> {
        let need = |name: &'static str| get(name).ok_or(AuthError::MissingHeader(name));
        let station_id = need(HEADER_STATION)?;
        if !is_valid_station_id(station_id) {
            return Err(AuthError::MalformedHeader(HEADER_STATION));
        }
        let ts = need(HEADER_TIMESTAMP)?;
        if ts.is_empty() || ts.len() > 19 || !ts.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AuthError::MalformedHeader(HEADER_TIMESTAMP));
        }
        let timestamp: i64 = ts
            .parse()
            .map_err(|_| AuthError::MalformedHeader(HEADER_TIMESTAMP))?;
        let nonce = need(HEADER_NONCE)?;
        if nonce.len() != 32
            || !nonce
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(AuthError::MalformedHeader(HEADER_NONCE));
        }
        let mut signature = [0u8; 64];
        hex::decode_to_slice(need(HEADER_SIGNATURE)?, &mut signature)
            .map_err(|_| AuthError::MalformedHeader(HEADER_SIGNATURE))?;
        Ok(Self {
            station_id: station_id.to_owned(),
            timestamp,
            nonce: nonce.to_owned(),
            signature,
        })
    }
}

/// The exact bytes a station signs. The body's digest is in the station key's suite
/// (SHA-256, or SM3 for an SM2 key), so a 国密 deployment uses no other hash.
pub fn signing_string(
    suite: Suite,
    station_id: &str,
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    format!(
        "{SIGNING_PREFIX}\n{station_id}\n{}\n{path_and_query}\n{timestamp}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        hex::encode(suite.hash(body))
    )
    .into_bytes()
}

/// Signs a request with a fresh random nonce. `now_unix` is the caller's clock.
pub fn sign_request(
    key: &SigningKey,
    station_id: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<RequestAuth, ProtocolError> {
    let mut nonce = [0u8; 16];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| ProtocolError::Signing)?;
    sign_request_with_nonce(
        key,
        station_id,
        method,
        path_and_query,
        body,
        now_unix,
        &hex::encode(nonce),
    )
}

/// Signs with a given nonce (tests; a real client uses [`sign_request`]).
pub fn sign_request_with_nonce(
    key: &SigningKey,
    station_id: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    timestamp: i64,
    nonce: &str,
) -> Result<RequestAuth, ProtocolError> {
    let message = signing_string(
        key.suite(),
        station_id,
        method,
        path_and_query,
        timestamp,
        nonce,
        body,
    );
    let signature = key.sign(&message).map_err(|_| ProtocolError::Signing)?;
    Ok(RequestAuth {
        station_id: station_id.to_owned(),
        timestamp,
        nonce: nonce.to_owned(),
        signature,
    })
}

/// Checks a request's signature with the station's enrolled public key and its
/// timestamp against `now_unix` (±[`MAX_CLOCK_SKEW_SECS`]). The signature is checked
/// first, so a forger learns nothing about the clock window.
pub fn verify_request(
    auth: &RequestAuth,
    public_key: &[u8],
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<(), AuthError> {
    let message = signing_string(
        Suite::of_point(public_key),
        &auth.station_id,
        method,
        path_and_query,
        auth.timestamp,
        &auth.nonce,
        body,
    );
    if !verify_signature(public_key, &message, &auth.signature) {
        return Err(AuthError::BadSignature);
    }
    let skew = now_unix.saturating_sub(auth.timestamp);
    if skew.abs() > MAX_CLOCK_SKEW_SECS {
        return Err(AuthError::StaleTimestamp { skew_secs: skew });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    const NOW: i64 = 1_800_000_000;

    fn signed(key: &SigningKey) -> RequestAuth {
        sign_request(key, "station-a", "POST", "/sync/v1/events", b"{}", NOW).expect("sign")
    }

    fn parse(auth: &RequestAuth) -> Result<RequestAuth, AuthError> {
        let map: HashMap<&str, String> = auth.headers().into_iter().collect();
        RequestAuth::from_headers(|n| map.get(n).map(String::as_str))
    }

    /// An SM2 station key (a 国密 deployment): the request verifies by the key's own
    /// suite, the body digest in the signing string is SM3, and a changed body or a
    /// P-256 reading of the same signature fails.
    #[test]
    fn an_sm2_station_key_signs_requests_with_an_sm3_body_digest() {
        let key = SigningKey::generate_in(Suite::Sm).expect("key");
        let auth = signed(&key);
        let pk = key.public_key();
        assert_eq!(
            verify_request(&auth, &pk, "POST", "/sync/v1/events", b"{}", NOW),
            Ok(())
        );
        assert_eq!(
            verify_request(&auth, &pk, "POST", "/sync/v1/events", b"{ }", NOW),
            Err(AuthError::BadSignature)
        );
        let text = signing_string(Suite::Sm, "s", "POST", "/p", 1, "n", b"{}");
        assert!(String::from_utf8_lossy(&text).ends_with(&hex::encode(Suite::Sm.hash(b"{}"))));
        let p256_text = signing_string(Suite::P256, "s", "POST", "/p", 1, "n", b"{}");
        assert_ne!(text, p256_text);
        assert!(!Suite::P256.verify(
            &pk,
            &signing_string(
                Suite::Sm,
                "station-a",
                "POST",
                "/sync/v1/events",
                NOW,
                &auth.nonce,
                b"{}"
            ),
            &auth.signature
        ));
    }

    #[test]
    fn signed_request_verifies_after_a_header_round_trip() {
        let key = SigningKey::generate().expect("key");
        let auth = signed(&key);
        let parsed = parse(&auth).expect("parse");
        assert_eq!(parsed, auth);
        assert_eq!(
            verify_request(
                &parsed,
                &key.public_key(),
                "post",
                "/sync/v1/events",
                b"{}",
                NOW + 10
            ),
            Ok(())
        );
    }

    #[test]
    fn any_change_is_refused() {
        let key = SigningKey::generate().expect("key");
        let auth = signed(&key);
        let pk = key.public_key();
        let v = |m: &str, p: &str, b: &[u8], now: i64| verify_request(&auth, &pk, m, p, b, now);
        assert_eq!(
            v("GET", "/sync/v1/events", b"{}", NOW),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            v("POST", "/sync/v1/events?x=1", b"{}", NOW),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            v("POST", "/sync/v1/events", b"{ }", NOW),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            v("POST", "/sync/v1/events", b"{}", NOW + 301),
            Err(AuthError::StaleTimestamp { skew_secs: 301 })
        );
        assert_eq!(
            v("POST", "/sync/v1/events", b"{}", NOW - 301),
            Err(AuthError::StaleTimestamp { skew_secs: -301 })
        );
        let mut other_station = auth.clone();
        other_station.station_id = "station-b".into();
        assert_eq!(
            verify_request(&other_station, &pk, "POST", "/sync/v1/events", b"{}", NOW),
            Err(AuthError::BadSignature)
        );
        let stranger = SigningKey::generate().expect("key");
        assert_eq!(
            verify_request(
                &auth,
                &stranger.public_key(),
                "POST",
                "/sync/v1/events",
                b"{}",
                NOW
            ),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify_request(&auth, b"not a key", "POST", "/sync/v1/events", b"{}", NOW),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn malformed_headers_refused() {
        let key = SigningKey::generate().expect("key");
        let good: HashMap<&str, String> = signed(&key).headers().into_iter().collect();
        for (name, bad) in [
            (HEADER_STATION, "站点"),
            (HEADER_TIMESTAMP, "-5"),
            (HEADER_TIMESTAMP, "99999999999999999999"),
            (HEADER_NONCE, "ABCDEF"),
            (HEADER_SIGNATURE, "zz"),
        ] {
            let mut m = good.clone();
            m.insert(name, bad.to_owned());
            assert_eq!(
                RequestAuth::from_headers(|n| m.get(n).map(String::as_str)),
                Err(AuthError::MalformedHeader(name))
            );
        }
        let mut m = good;
        m.remove(HEADER_NONCE);
        assert_eq!(
            RequestAuth::from_headers(|n| m.get(n).map(String::as_str)),
            Err(AuthError::MissingHeader(HEADER_NONCE))
        );
    }

    proptest! {
        #[test]
        fn header_parser_never_panics(station in ".{0,70}", ts in ".{0,25}", nonce in ".{0,40}", sig in ".{0,130}") {
            let m: HashMap<&str, String> = [(HEADER_STATION, station), (HEADER_TIMESTAMP, ts), (HEADER_NONCE, nonce), (HEADER_SIGNATURE, sig)].into_iter().collect();
            if let Ok(a) = RequestAuth::from_headers(|n| m.get(n).map(String::as_str)) {
                prop_assert!(is_valid_station_id(&a.station_id));
                prop_assert!(a.timestamp >= 0);
                prop_assert_eq!(a.nonce.len(), 32);
            }
        }
    }
}

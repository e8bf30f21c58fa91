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
    /// The server presented another certificate than the pinned one: someone else
    /// answers at the registry's address, or the registry's certificate changed
    /// (then its operator gives stations the new pin). Not retried.
    #[error("the registry's certificate is not the pinned one")]
    CertificateMismatch,
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
    /// `http://` without the explicit loopback flag, or to an address that is not
    /// loopback; `https://` without a pinned certificate.
    #[error("refused transport for {0}: https with a pinned certificate, or http to loopback with the explicit flag")]
    InsecureTransport(String),
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
            ClientError::Protocol(_)
            | ClientError::CertificateMismatch
            | ClientError::Url(_)
            | ClientError::InsecureTransport(_)
            | ClientError::TooLarge => false,
        }
    }
}

/// How the station reaches its registry. There is no third way: no `https://`
/// trusting the system's certificate authorities, no plain HTTP across a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryTls {
    /// `https://`, and the registry must present exactly the certificate whose DER
    /// has this SHA-256 (given at enrolment, from the registry's start-up output).
    Pinned([u8; 32]),
    /// `http://` to a loopback address only (`127.0.0.0/8`, `::1`): tests, and a
    /// registry on the same machine. Chosen explicitly (`--insecure-loopback-http`).
    InsecureLoopbackHttp,
}

impl RegistryTls {
    /// The stored form: `sha256:<64 hex>` or `insecure-loopback-http`.
    pub fn to_setting(&self) -> String {
        match self {
            RegistryTls::Pinned(h) => format!("sha256:{}", hex::encode(h)),
            RegistryTls::InsecureLoopbackHttp => "insecure-loopback-http".into(),
        }
    }

    pub fn from_setting(s: &str) -> Option<Self> {
        if s == "insecure-loopback-http" {
            return Some(RegistryTls::InsecureLoopbackHttp);
        }
        // `sha256:` optional; colons between bytes (as other tools print) allowed.
        let hex_digits: String = s
            .trim()
            .strip_prefix("sha256:")
            .unwrap_or(s.trim())
            .chars()
            .filter(|c| *c != ':')
            .collect();
        let mut h = [0u8; 32];
        hex::decode_to_slice(&hex_digits, &mut h).ok()?;
        Some(RegistryTls::Pinned(h))
    }
}

/// True when `base` is `http://` to a loopback IP literal.
fn is_loopback_http(base: &str) -> bool {
    let Some(rest) = base.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// A certificate verifier that accepts exactly one certificate, by its SHA-256, and
/// checks the handshake signature with that certificate's key. Host names and CAs
/// play no part: the pin is the trust.
#[derive(Debug)]
struct PinnedCertificate {
    sha256: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if card_profile::pki::sha256(end_entity.as_ref()) == self.sha256 {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A transport error, or [`ClientError::CertificateMismatch`] when the TLS handshake
/// failed on the pinned certificate (found in the error's sources; rustls's error
/// sits inside an `io::Error`, whose `source` skips it, hence `get_ref`).
fn transport(e: reqwest::Error) -> ClientError {
    if pin_refused(&e, 0) {
        ClientError::CertificateMismatch
    } else {
        ClientError::Transport(e)
    }
}

/// True when `err` or what it wraps (sources, and the errors inside `io::Error`s,
/// which may nest) is rustls refusing the certificate. Depth-bounded.
fn pin_refused(err: &(dyn std::error::Error + 'static), depth: u8) -> bool {
    if depth > 16 {
        return false;
    }
    if matches!(
        err.downcast_ref::<rustls::Error>(),
        Some(rustls::Error::InvalidCertificate(_))
    ) {
        return true;
    }
    if let Some(inner) = err
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        if pin_refused(inner, depth + 1) {
            return true;
        }
    }
    err.source().is_some_and(|s| pin_refused(s, depth + 1))
}

/// An HTTP client for `base` under the station's transport rules: `https://` with
/// the pinned certificate, or `http://` to loopback when explicitly chosen; no
/// redirects. [`RegistryClient`] uses it; so can an operator's tool for the
/// registry's other APIs.
pub fn http_client(base: &str, tls: RegistryTls) -> Result<reqwest::Client, ClientError> {
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        // A redirect could lead a pinned https request to plain http elsewhere.
        .redirect(reqwest::redirect::Policy::none());
    Ok(match tls {
        RegistryTls::Pinned(sha256) if base.starts_with("https://") => builder
            .use_preconfigured_tls(pinned_tls_config(sha256)?)
            .https_only(true)
            .build()?,
        RegistryTls::InsecureLoopbackHttp if is_loopback_http(base) => builder.build()?,
        _ => return Err(ClientError::InsecureTransport(base.to_owned())),
    })
}

fn pinned_tls_config(sha256: [u8; 32]) -> Result<rustls::ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::InsecureTransport(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedCertificate { sha256, provider }))
        .with_no_client_auth();
    Ok(config)
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
    /// `base_url` like `https://registry.example:8600` (with [`RegistryTls::Pinned`])
    /// or `http://127.0.0.1:8600` (with [`RegistryTls::InsecureLoopbackHttp`]).
    pub fn new(
        base_url: &str,
        station_id: &str,
        key: Arc<SigningKey>,
        clock: ecard_clock::Clock,
        tls: RegistryTls,
    ) -> Result<Self, ClientError> {
        let base = base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Url(base));
        }
        let http = http_client(&base, tls)?;
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
        Ok(self.send_signed(method, path_and_query, body).await?.0)
    }

    /// Sends one signed request; returns the body of a 2xx answer and the
    /// request's nonce (a feed page must echo it).
    async fn send_signed(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> Result<(Vec<u8>, String), ClientError> {
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
        let resp = req.send().await.map_err(transport)?;
        Ok((read(resp).await?, auth.nonce))
    }

    /// Pushes events (at most `MAX_BATCH_EVENTS`, contiguous `seq`). On success,
    /// every event up to `ack.last_applied_seq` is durably recorded.
    pub async fn push_events(&self, events: Vec<StationEvent>) -> Result<EventAck, ClientError> {
        let body = serde_json::to_vec(&EventBatch::new(events)).map_err(ProtocolError::from)?;
        let bytes = self.send(Method::POST, paths::EVENTS, body).await?;
        Ok(EventAck::decode(&bytes)?)
    }

    /// One page of the feed after `cursor`, signed, unverified (see [`Self::feed`]),
    /// with the nonce of the request it answers.
    pub async fn feed_signed(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<(SignedFeedPage, String), ClientError> {
        let path = format!("{}?after={after}&limit={limit}", paths::FEED);
        let (bytes, nonce) = self.send_signed(Method::GET, &path, Vec::new()).await?;
        Ok((SignedFeedPage::decode(&bytes)?, nonce))
    }

    /// One page of the feed after `cursor`, verified with the pinned registry key
    /// before its items are parsed, and checked to answer this very request
    /// (this station, this cursor, this request's nonce).
    pub async fn feed(
        &self,
        after: u64,
        limit: u32,
        registry_key: &PublicKey,
    ) -> Result<FeedPage, ClientError> {
        let (signed, nonce) = self.feed_signed(after, limit).await?;
        Ok(signed.verify(registry_key, &self.station_id, after, &nonce)?)
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

    /// Full list (`since` = None) or delta, verified with the pinned registry key,
    /// checked against SYNC.md's number rules for a station holding `since`, and
    /// checked to answer this very request (its nonce).
    pub async fn revocations_verified(
        &self,
        since: Option<u64>,
        registry_key: &PublicKey,
    ) -> Result<RevocationList, ClientError> {
        let path = match since {
            Some(n) => format!("{}?since={n}", paths::REVOCATIONS),
            None => paths::REVOCATIONS.to_owned(),
        };
        let (bytes, nonce) = self.send_signed(Method::GET, &path, Vec::new()).await?;
        let list = SignedRevocationList::decode(&bytes)?.verify(registry_key)?;
        // The registry answers `since` with a delta from it; anything else (an older
        // list, a delta from another base) is refused here, and again where it is
        // stored against the number actually held.
        list.check_succeeds(since)?;
        if list.nonce.as_deref() != Some(nonce.as_str()) {
            return Err(ProtocolError::ListNotFresh.into());
        }
        Ok(list)
    }

    /// The registry's list key (unauthenticated; pin it only after comparing the
    /// key id with the one the registry operator gave out of band).
    pub async fn registry_key(&self) -> Result<RegistryKey, ClientError> {
        let resp = self
            .http
            .get(format!("{}{}", self.base, paths::REGISTRY_KEY))
            .send()
            .await
            .map_err(transport)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str, tls: RegistryTls) -> Result<RegistryClient, ClientError> {
        let key = Arc::new(SigningKey::generate().expect("key"));
        RegistryClient::new(
            url,
            "s",
            key,
            ecard_clock::Clock::frozen_on(
                chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
            ),
            tls,
        )
    }

    /// A one-shot HTTP server on loopback that answers every connection with `head`
    /// and then, when `endless`, a body that never ends.
    fn hostile_registry(head: &'static str, endless: bool) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { return };
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                if s.write_all(head.as_bytes()).is_err() {
                    continue;
                }
                let chunk = [b'x'; 64 * 1024];
                let framed =
                    [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                // Until the client hangs up.
                while endless && s.write_all(&framed).is_ok() {}
            }
        });
        format!("http://{addr}")
    }

    /// A registry answer larger than MAX_ANSWER_BYTES is refused, whether it says so
    /// up front (Content-Length) or just keeps sending: bounded memory either way.
    #[test]
    fn an_answer_too_large_is_refused_declared_or_endless() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let declared = hostile_registry(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 300000000\r\n\r\n",
            false,
        );
        let c = client(&declared, RegistryTls::InsecureLoopbackHttp).expect("client");
        assert!(matches!(
            rt.block_on(c.registry_key()),
            Err(ClientError::TooLarge)
        ));
        let endless = hostile_registry(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
            true,
        );
        let c = client(&endless, RegistryTls::InsecureLoopbackHttp).expect("client");
        assert!(matches!(
            rt.block_on(c.registry_key()),
            Err(ClientError::TooLarge)
        ));
    }

    #[test]
    fn plain_http_only_to_loopback_and_only_when_asked() {
        let insecure = RegistryTls::InsecureLoopbackHttp;
        let pinned = RegistryTls::Pinned([7; 32]);
        for ok in [
            "http://127.0.0.1:8600",
            "http://127.1.2.3:1/",
            "http://[::1]:8600",
        ] {
            assert!(client(ok, insecure).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.5:8600",
            "http://registry.example",
            "http://localhost:8600",
            "http://127.0.0.1.evil.example:80",
            "http://user@127.0.0.1:8600",
            "https://127.0.0.1:8600",
        ] {
            assert!(
                matches!(
                    client(bad, insecure),
                    Err(ClientError::InsecureTransport(_))
                ),
                "{bad}"
            );
        }
        // A pinned certificate needs https, and plain http is never "pinned".
        assert!(client("https://registry.example", pinned).is_ok());
        assert!(matches!(
            client("http://127.0.0.1:8600", pinned),
            Err(ClientError::InsecureTransport(_))
        ));
    }

    #[test]
    fn the_transport_setting_round_trips() {
        for t in [
            RegistryTls::InsecureLoopbackHttp,
            RegistryTls::Pinned([0xab; 32]),
        ] {
            assert_eq!(RegistryTls::from_setting(&t.to_setting()), Some(t));
        }
        assert_eq!(RegistryTls::from_setting("sha256:zz"), None);
        let colons = ["AB"; 32].join(":");
        assert_eq!(
            RegistryTls::from_setting(&colons),
            Some(RegistryTls::Pinned([0xab; 32]))
        );
        assert_eq!(RegistryTls::from_setting(""), None);
    }
}

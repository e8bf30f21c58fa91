//! The sync client (docs/SYNC.md): pushes the outbox to the registry in order,
//! applies the registry's feed and revocation list, and keeps working offline —
//! a failed round changes nothing and the next one catches up.
//!
//! Exactly-once on this side: outbox rows are marked sent only up to the
//! registry's acknowledged sequence (a lost answer means the same events are sent
//! again, and the registry skips them by event id); the feed cursor moves in the same
//! transaction as the items it covers; the revocation list number moves with its
//! entries.

mod apply;
mod state;

pub use state::{enroll, open, status, Enrolment, SyncStatus, REGISTRY_TLS};

use crate::ops::{OpError, Station};
use crate::store::{self, StoreError};
use ecard_sync_protocol::client::{ClientError, RegistryClient};
use serde::Serialize;
use std::time::Duration;

/// Events per push; the registry's own limit is higher.
pub const PUSH_BATCH: usize = 500;
/// Feed items per page.
pub const FEED_PAGE: u32 = 200;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this station is not enrolled with a registry")]
    NotEnrolled,
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Op(#[from] OpError),
    #[error("stored sync state is malformed: {0}")]
    Malformed(String),
    #[error("registry key id {found} is not the expected {expected:?}")]
    RegistryKeyMismatch { expected: String, found: String },
    #[error("the registry's transport (certificate pin) is not set: enrol again")]
    TransportNotPinned,
    #[error(transparent)]
    Keystore(#[from] crate::keystore::KeystoreError),
}

impl SyncError {
    /// Worth retrying later (network, registry down); anything else needs a person.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SyncError::Client(c) if c.is_retryable())
    }

    pub fn code(&self) -> &'static str {
        match self {
            SyncError::NotEnrolled => "sync_not_enrolled",
            // An answer that failed its signature or SYNC.md's rules: the precise code
            // (bad_feed_signature, feed_page_replayed, revocation_list_older…).
            SyncError::Client(ClientError::Protocol(p)) => p.code(),
            SyncError::Client(ClientError::CertificateMismatch) => "registry_certificate_mismatch",
            SyncError::Client(ClientError::InsecureTransport(_)) => "registry_insecure_transport",
            SyncError::Client(e) if e.is_retryable() => "registry_unreachable",
            SyncError::Client(_) => "registry_refused",
            SyncError::Store(_) => "store_error",
            SyncError::Op(e) => e.code(),
            SyncError::Malformed(_) => "sync_state_malformed",
            SyncError::RegistryKeyMismatch { .. } => "registry_key_mismatch",
            SyncError::TransportNotPinned => "registry_transport_not_pinned",
            SyncError::Keystore(e) => e.code(),
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            SyncError::NotEnrolled => "本站尚未登记到省级登记中心（ecardd sync enroll）".into(),
            SyncError::Client(ClientError::Refused { message, .. }) => {
                format!("登记中心拒绝：{message}")
            }
            SyncError::Client(ClientError::CertificateMismatch) => {
                "登记中心出示的证书与登记时固定的证书不符，已拒绝连接（可能有人冒充登记中心；如登记中心更换了证书，请重新登记）".into()
            }
            SyncError::Client(ClientError::InsecureTransport(url)) => format!(
                "拒绝以明文连接 {url}：须使用 https 并固定登记中心证书（--registry-cert-sha256）；明文 http 仅限本机回环地址且须显式指定 --insecure-loopback-http"
            ),
            SyncError::Client(e) if e.is_retryable() => {
                "无法连接登记中心，本站继续离线工作，稍后自动重试".into()
            }
            SyncError::Client(_) => "登记中心的应答无法通过校验，已忽略".into(),
            SyncError::Store(_) => "数据库错误，本轮同步未生效".into(),
            SyncError::Op(e) => e.message_zh(),
            SyncError::Malformed(_) => "同步设置已损坏".into(),
            SyncError::RegistryKeyMismatch { expected, found } => {
                format!("登记中心密钥标识 {found} 与给定的 {expected} 不符，未登记")
            }
            SyncError::TransportNotPinned => {
                "登记中心的连接方式（证书固定）未设置，请重新登记（ecardd sync enroll … --registry-cert-sha256 …）".into()
            }
            SyncError::Keystore(e) => e.message_zh().into(),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoundReport {
    pub pushed: u64,
    pub feed_items: usize,
    pub orders: usize,
    pub status_changes: usize,
    /// Annual reviews recorded at another station or the registry, received.
    pub reviews: usize,
    pub revocations_added: usize,
    pub revocation_number: Option<u64>,
    /// Events the registry acknowledged but refused (not this station's to do):
    /// each is in the audit log as `sync.refused` with its code and message.
    pub refused: usize,
    /// Trust-list updates from the feed that were not applied (see the audit log).
    pub trust_lists_refused: usize,
    /// Issuance orders refused because their photo is not a JPEG that decodes
    /// (`order.photo_refused` in the audit log).
    pub orders_refused: usize,
    /// Other bureaus' document-signer certificates learnt from the feed (their
    /// card faces' seals now check here as genuine).
    pub document_signers: usize,
}

/// One round: push everything unsent, pull the whole feed, refresh the revocation list.
pub async fn round(
    station: &Station,
    client: &RegistryClient,
    registry_key: &[u8; 65],
) -> Result<RoundReport, SyncError> {
    let mut report = RoundReport::default();
    let result = async {
        push(station, client, &mut report).await?;
        pull_feed(station, client, registry_key, &mut report).await?;
        refresh_revocations(station, client, registry_key, &mut report).await?;
        Ok::<_, SyncError>(())
    }
    .await;
    state::record_attempt(&station.store, result.as_ref().err())?;
    result.map(|()| report)
}

async fn push(
    station: &Station,
    client: &RegistryClient,
    report: &mut RoundReport,
) -> Result<(), SyncError> {
    loop {
        let events = station
            .store
            .read(|c| store::unsent_events(c, PUSH_BATCH))?;
        let Some(last) = events.last().map(|e| e.seq) else {
            return Ok(());
        };
        let ack = client.push_events(events).await?;
        let acked = ack.last_applied_seq.min(last);
        station.store.write("sync", |tx| {
            // A refused event is acknowledged (the outbox moves on) but changed
            // nothing at the registry: the operator must see that, once (a re-sent
            // batch reports it again).
            for r in ack.refused.iter().filter(|r| r.seq <= acked) {
                if store::is_unsent(tx.conn(), r.seq)? {
                    tracing::warn!(seq = r.seq, code = %r.code, "registry refused event: {}", r.message);
                    tx.audit(
                        "sync.refused",
                        &r.event_id,
                        serde_json::json!({ "seq": r.seq, "code": r.code, "message": r.message }),
                    )?;
                    // An application, or a follow-up to one, shows why in 本站申请.
                    store::follow_up_refused(tx, &r.event_id, &r.message)?;
                }
            }
            store::mark_sent(tx, acked)?;
            Ok(())
        })?;
        report.pushed += ack.applied;
        report.refused += ack.refused.len();
        if ack.last_applied_seq < last {
            // The registry stopped short (it wants an earlier event first): the next
            // round starts from what it acknowledged.
            return Ok(());
        }
    }
}

async fn pull_feed(
    station: &Station,
    client: &RegistryClient,
    registry_key: &[u8; 65],
    report: &mut RoundReport,
) -> Result<(), SyncError> {
    loop {
        let cursor = state::feed_cursor(&station.store)?;
        // Verified with the pinned key and bound to (this station, this cursor)
        // before any item is parsed.
        let page = client.feed(cursor, FEED_PAGE, registry_key).await?;
        let counts = apply::feed_page(station, &page)?;
        report.feed_items += page.items.len();
        report.orders += counts.orders;
        report.status_changes += counts.status_changes;
        report.reviews += counts.reviews;
        report.trust_lists_refused += counts.trust_lists_refused;
        report.orders_refused += counts.orders_refused;
        report.document_signers += counts.document_signers;
        if !page.has_more || page.next_cursor <= cursor {
            return Ok(());
        }
    }
}

async fn refresh_revocations(
    station: &Station,
    client: &RegistryClient,
    registry_key: &[u8; 65],
    report: &mut RoundReport,
) -> Result<(), SyncError> {
    let held = state::revocation_number(&station.store)?;
    let list = client.revocations_verified(held, registry_key).await?;
    report.revocations_added += apply::revocation_list(station, &list)?;
    report.revocation_number = Some(list.number);
    Ok(())
}

/// Runs rounds for as long as the process lives: every `interval` after a success,
/// with exponential backoff (1 s doubling to `interval`) after retryable failures.
pub async fn run_forever(
    station: Station,
    client: RegistryClient,
    registry_key: [u8; 65],
    interval: Duration,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match round(&station, &client, &registry_key).await {
            Ok(r) => {
                tracing::info!(pushed = r.pushed, feed = r.feed_items, "sync round");
                backoff = Duration::from_secs(1);
                tokio::time::sleep(interval).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, retryable = e.is_retryable(), "sync round failed");
                tokio::time::sleep(backoff.min(interval)).await;
                backoff = (backoff * 2).min(interval);
            }
        }
    }
}

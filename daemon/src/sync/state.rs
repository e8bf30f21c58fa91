//! The station's sync settings and progress (table `sync_state`, one row): its
//! identity and sealed request key, the pinned registry key, the feed cursor, the
//! revocation list number, and the last attempt's outcome.

use super::SyncError;
use crate::keystore::{self, Cipher, KdfParams, SealedKey};
use crate::store::{self, Store};
use card_profile::pki::SigningKey;
use card_profile::suite::Suite;
use ecard_domain::deadlines;
use ecard_sync_protocol::client::{RegistryClient, RegistryTls};
use ecard_sync_protocol::revocation::RegistryKey;
use serde::Serialize;
use std::sync::Arc;

/// Name the station's request-signing key is sealed under.
pub const STATION_KEY: &str = "station-sync-key";
/// Setting: how the registry is reached (`RegistryTls::to_setting`: the pinned
/// certificate's SHA-256, or plain HTTP to loopback), fixed at enrolment.
pub const REGISTRY_TLS: &str = "sync.registry_tls";

/// What a station is enrolled with: the registry's address and transport, the
/// station's id, the key the registry presented and the key id given out of band.
pub struct Enrolment<'a> {
    pub registry_url: &'a str,
    pub station_id: &'a str,
    /// As fetched from `GET /sync/v1/registry-key`.
    pub registry_key: &'a RegistryKey,
    /// The registry key id the registry operator gave out of band: the key fetched
    /// over the network is pinned only when it matches (no trust-on-first-use —
    /// whoever answered the first request would otherwise sign every feed page and
    /// revocation list this station believes).
    pub expected_key_id: &'a str,
    /// The registry certificate's pin, or plain HTTP on loopback.
    pub tls: RegistryTls,
}

/// Enrolls this station: generates its request key (sealed under the passphrase),
/// pins the registry's key and certificate, and returns the public key (hex) for
/// the registry administrator (`ecard-registry station add --public-key …`).
pub fn enroll(
    store: &Store,
    enrolment: &Enrolment<'_>,
    passphrase: &str,
    kdf: KdfParams,
) -> Result<String, SyncError> {
    let Enrolment {
        registry_url,
        station_id,
        registry_key,
        expected_key_id,
        tls,
    } = *enrolment;
    registry_key
        .public_key()
        .map_err(|e| SyncError::Malformed(e.to_string()))?;
    let expected = expected_key_id.trim();
    if expected.is_empty() || !expected.eq_ignore_ascii_case(&registry_key.key_id) {
        return Err(SyncError::RegistryKeyMismatch {
            expected: expected.chars().take(32).collect(),
            found: registry_key.key_id.clone(),
        });
    }
    // The station's request key is in the suite of the registry it pins: an SM2
    // registry key makes an SM2 station key, sealed with SM4-GCM (docs/SUITES.md).
    let suite = registry_key
        .public_key()
        .map(|k| Suite::of_point(&k))
        .map_err(|e| SyncError::Malformed(e.to_string()))?;
    let key = SigningKey::generate_in(suite).map_err(|e| SyncError::Malformed(e.to_string()))?;
    let sealed = keystore::seal_in(Cipher::of(suite), STATION_KEY, key.pkcs8(), passphrase, kdf)?;
    let sealed_json = sealed
        .to_json()
        .map_err(|e| SyncError::Malformed(e.to_string()))?;
    let registry_json = serde_json::to_string(registry_key).map_err(store::StoreError::from)?;
    let identity = store::SyncIdentity {
        registry_url: registry_url.to_owned(),
        station_id: station_id.to_owned(),
        station_key_sealed: sealed_json,
        registry_key: registry_json,
    };
    store.write("sync", |tx| {
        tx.set_setting(REGISTRY_TLS, &tls.to_setting())?;
        store::enrol(tx, &identity, &tls.to_setting(), &registry_key.key_id)
    })?;
    Ok(hex::encode(key.public_key()))
}

/// The client and the pinned registry key, with the station key unsealed.
pub fn open(store: &Store, passphrase: &str) -> Result<(RegistryClient, [u8; 65]), SyncError> {
    let r = store
        .read(store::sync_identity)?
        .ok_or(SyncError::NotEnrolled)?;
    let sealed = SealedKey::from_json(&r.station_key_sealed)
        .map_err(|e| SyncError::Malformed(e.to_string()))?;
    // A wrong passphrase is the keystore's refusal, not damaged sync settings.
    let pkcs8 = sealed.open(STATION_KEY, passphrase)?;
    let key =
        SigningKey::from_pkcs8_any(&pkcs8).map_err(|e| SyncError::Malformed(e.to_string()))?;
    let registry: RegistryKey =
        serde_json::from_str(&r.registry_key).map_err(store::StoreError::from)?;
    let registry_key = registry
        .public_key()
        .map_err(|e| SyncError::Malformed(e.to_string()))?;
    // Enrolled before the transport was pinned: enrol again rather than guess.
    let tls = store
        .setting(REGISTRY_TLS)?
        .as_deref()
        .and_then(RegistryTls::from_setting)
        .ok_or(SyncError::TransportNotPinned)?;
    let client = RegistryClient::new(
        &r.registry_url,
        &r.station_id,
        Arc::new(key),
        store.clock(),
        tls,
    )?;
    Ok((client, registry_key))
}

pub fn feed_cursor(store: &Store) -> Result<u64, SyncError> {
    Ok(store.read(store::feed_cursor)?)
}

pub fn revocation_number(store: &Store) -> Result<Option<u64>, SyncError> {
    Ok(store.read(store::revocation_number)?)
}

/// Stamps this attempt's outcome (audited when it changes: crate::store::record_attempt).
pub fn record_attempt(store: &Store, error: Option<&SyncError>) -> Result<(), SyncError> {
    let words = error.map(|e| (e.code(), e.message_zh()));
    store.write("sync", |tx| {
        store::record_attempt(tx, words.as_ref().map(|(c, w)| (*c, w.as_str())))
    })?;
    Ok(())
}

/// What the UI and `ecardd sync --status` show.
#[derive(Debug, Clone, Serialize)]
pub struct SyncStatus {
    pub configured: bool,
    pub registry_url: Option<String>,
    pub station_id: Option<String>,
    pub last_attempt: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    /// Outbox events not yet acknowledged by the registry.
    pub backlog: i64,
    pub feed_cursor: u64,
    pub revocation_list_number: Option<u64>,
    pub revocation_list_date: Option<String>,
    pub revocation_list_age_days: Option<i64>,
    /// Number of the root-signed trust list applied last from the feed (None: the
    /// anchors installed at `keys init` only).
    pub trust_list_number: Option<u64>,
    /// Day the oldest record still waiting for the registry was made.
    pub oldest_unsent_on: Option<String>,
    /// Its age in working days (Monday–Friday less the configured holidays;
    /// `ecard_domain::deadlines`).
    pub oldest_unsent_working_days: Option<i64>,
    /// Records must reach the provincial system within this many working days.
    pub deadline_working_days: i64,
    /// The oldest unsent record is 2 working days or less from the deadline, or past it.
    pub deadline_at_risk: bool,
}

/// `holidays`: the province configuration's weekday days off (not working days).
pub fn status(
    store: &Store,
    today: chrono::NaiveDate,
    holidays: &ecard_domain::deadlines::Holidays,
) -> Result<SyncStatus, SyncError> {
    let (backlog, oldest) = store.read(store::outbox_backlog)?;
    let oldest_on = oldest
        .as_deref()
        .and_then(|t| t.get(..10))
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let oldest_age = oldest_on.map(|d| deadlines::working_days_between(d, today, holidays));
    let list_date = store.setting(crate::ops::REVOCATION_LIST_DATE)?;
    let age = list_date
        .as_deref()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| (today - d).num_days());
    let row = store.read(store::sync_state_row)?;
    let (registry_url, station_id, last_attempt, last_success, last_error, cursor, number) =
        match row {
            Some(r) => (
                Some(r.registry_url),
                Some(r.station_id),
                r.last_attempt,
                r.last_success,
                r.last_error,
                r.feed_cursor,
                r.revocation_number,
            ),
            None => (None, None, None, None, None, 0, None),
        };
    Ok(SyncStatus {
        configured: registry_url.is_some(),
        registry_url,
        station_id,
        last_attempt,
        last_success,
        last_error,
        backlog,
        feed_cursor: cursor,
        revocation_list_number: number,
        revocation_list_date: list_date,
        revocation_list_age_days: age,
        trust_list_number: store.read(crate::keyring::trust_list_number)?,
        oldest_unsent_on: oldest_on.map(|d| d.to_string()),
        oldest_unsent_working_days: oldest_age,
        deadline_working_days: deadlines::RECORDS_WORKING_DAYS,
        deadline_at_risk: oldest_age.is_some_and(|a| a >= deadlines::RECORDS_WORKING_DAYS - 2),
    })
}

//! The station's operations: one code path each, called by the HTTP API and the CLI
//! alike. Each reads what it needs from the store, runs its card sequence on a reader
//! (card_profile::sequences), and records the result in one store transaction with
//! its audit and outbox rows.

mod admin;
mod applications;
mod bulk_replace;
mod corrections;
mod error;
mod face;
mod import;
mod invalid;
mod issue;
mod lists;
mod print;
mod review;
mod status;
mod verify;

pub use admin::{NewOperator, OperatorChange, SettingsView};
pub use bulk_replace::{BulkReplaceItem, BulkReplaceRequest, MAX_BULK_REPLACE};
pub use error::OpError;
pub use face::{registry_origin, FaceProblem, PrintedFacts, SealCheckView};
pub use import::{ImportError, ImportOutcome};
pub use invalid::Invalid;
pub use issue::{BatchProgress, IssueOutcome, JobEvent};
pub use lists::{Expiring, FilingDue, Overdue, Retiring, DEFAULT_EXPIRING_DAYS, MAX_LIST_DAYS};
pub use print::{PrintedFace, PrintingChange, PrintingView};
pub use review::{
    ReviewRequest, Schedule, ScheduleItem, UnitReview, UnitReviewRequest, UnitReviewed,
};
pub use status::{CardWriteFailure, StatusOutcome, StatusRequest};
pub use verify::{
    verify_exit_status, PhotoFollows, PhotoOutcome, VerdictFirst, VerifyOutcome,
    REVOCATION_LIST_DATE,
};

use crate::readers::Readers;
use crate::store::Store;
use card_profile::keys::MasterKey;
use card_profile::pki::{DocumentSigner, TrustList};
use card_profile::revocation::RevocationSet;
use card_profile::verdict::ReviewPolicy;
use chrono::NaiveDate;
use ecard_domain::province::ProvinceConfig;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::broadcast;

/// Setting key of the admin's revocation-list age limit (days).
pub const MAX_REVOCATION_AGE_SETTING: &str = "max_revocation_age_days";

/// A card command's deadline unless configured: a contact card at 115.2 kbit/s moves
/// the largest command (the 7 kB photo in one extended APDU) in ~0.7 s, and on-card
/// key generation takes about a second on common chips.
pub const DEFAULT_CARD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// The keys a station works with, unlocked for this process's lifetime.
pub struct StationKeys {
    pub master: MasterKey,
    pub signer: DocumentSigner,
}

#[derive(Debug, Clone)]
pub struct StationConfig {
    /// Older than this, the revocation list draws a warning at every verification.
    pub max_revocation_age_days: i64,
    pub review_policy: ReviewPolicy,
    /// The name written into review records (the reviewing justice bureau): the
    /// subject of the station's signer certificate (`Station::new` sets it; a station
    /// without unlocked keys gets it from `server::open_station`, for 设置); empty
    /// before `keys init`.
    pub bureau_name: String,
    /// How long a card gets to answer one command before the operation fails with
    /// `card_timeout` (PC/SC readers; docs/RELIABILITY.md).
    pub card_deadline: std::time::Duration,
    /// The province's rules (numbering, photo limits, review deadline, retirement,
    /// holidays), loaded at start (`--province-config`); shown on 设置.
    /// `review_policy` is its review deadline.
    pub province: Arc<ProvinceConfig>,
    /// The registry the `/check` page asks for a certificate's state now
    /// (`--public-registry-url`: the address phones reach, with a certificate they
    /// trust); the enrolled registry's URL when `None` (issue #16).
    pub public_registry_url: Option<String>,
    /// The CUPS server faces are printed through (`--cups-server`): `host:port` or a
    /// socket path; `None` is the CUPS client's own default.
    pub cups_server: Option<String>,
    /// How long CUPS gets to accept a print job (crate::printing).
    pub print_deadline: std::time::Duration,
}

impl StationConfig {
    /// A configuration under `province`'s rules (its review deadline included).
    pub fn with_province(mut self, province: Arc<ProvinceConfig>) -> Self {
        self.review_policy = province.review;
        self.province = province;
        self
    }
}

impl Default for StationConfig {
    fn default() -> Self {
        let province = Arc::new(ProvinceConfig::sichuan());
        Self {
            max_revocation_age_days: ecard_domain::field_check::DEFAULT_MAX_REVOCATION_AGE_DAYS,
            review_policy: province.review,
            bureau_name: String::new(),
            card_deadline: DEFAULT_CARD_DEADLINE,
            province,
            public_registry_url: None,
            cups_server: None,
            print_deadline: crate::printing::DEFAULT_PRINT_DEADLINE,
        }
    }
}

/// Everything an operation needs.
#[derive(Clone)]
pub struct Station {
    pub store: Arc<Store>,
    pub readers: Readers,
    /// `None` on a verify-only station (no passphrase given): writing refuses.
    pub keys: Option<Arc<StationKeys>>,
    pub trust: Arc<RwLock<TrustList>>,
    pub config: StationConfig,
    pub jobs: broadcast::Sender<JobEvent>,
    /// The revocation list and suspensions as a lookup set, with the store's list
    /// generation it was built at (see `revocations`).
    lists: Arc<Mutex<CachedLists>>,
}

/// The lists' lookup set and the list generation it was built at.
type CachedLists = Option<(i64, Arc<RevocationSet>)>;

impl Station {
    /// The local revocation list and the suspensions in force, for a field check.
    /// Rebuilt only when the store's list generation moved (triggers on both tables
    /// count every change), so a verification does not reload a long list, and no
    /// change can be missed by forgetting to invalidate.
    pub fn revocations(&self) -> Result<Arc<RevocationSet>, OpError> {
        let mut cached = self
            .lists
            .lock()
            .map_err(|_| OpError::Store(crate::store::StoreError::Poisoned))?;
        let set = self.store.read(|c| {
            let generation = crate::store::list_generation(c)?;
            match cached.as_ref() {
                Some((g, set)) if *g == generation => Ok(Arc::clone(set)),
                _ => {
                    // Let go of the old set first: with a long list, holding both
                    // while the new one is built doubles the peak.
                    *cached = None;
                    let set = Arc::new(crate::store::revocation_set(c)?);
                    *cached = Some((generation, Arc::clone(&set)));
                    Ok(set)
                }
            }
        })?;
        Ok(set)
    }

    pub fn new(
        store: Arc<Store>,
        readers: Readers,
        keys: StationKeys,
        trust: TrustList,
        mut config: StationConfig,
    ) -> Self {
        // The reviewing body written to cards is the bureau this station's signer
        // was certified for: configured once, at `keys init`, never a default.
        config.bureau_name = keys.signer.certificate.subject.clone();
        Self {
            store,
            readers,
            keys: Some(Arc::new(keys)),
            trust: Arc::new(RwLock::new(trust)),
            config,
            jobs: broadcast::channel(1024).0,
            lists: Arc::default(),
        }
    }

    /// A station that verifies and records but holds no keys (an inspector's
    /// station, or the CLI without a passphrase): card writes answer `KeysLocked`.
    pub fn without_keys(
        store: Arc<Store>,
        readers: Readers,
        trust: TrustList,
        config: StationConfig,
    ) -> Self {
        Self {
            store,
            readers,
            keys: None,
            trust: Arc::new(RwLock::new(trust)),
            config,
            jobs: broadcast::channel(1024).0,
            lists: Arc::default(),
        }
    }

    /// The unlocked keys, or why a card cannot be written.
    pub fn keys(&self) -> Result<&StationKeys, OpError> {
        self.keys.as_deref().ok_or(OpError::KeysLocked)
    }

    /// Today, from the process's one clock (the store's: see `ecard_clock`).
    pub fn today(&self) -> NaiveDate {
        self.store.clock().today()
    }

    /// The process's one clock.
    pub fn clock(&self) -> ecard_clock::Clock {
        self.store.clock()
    }

    /// The revocation list's allowed age: the admin's setting, else the configured default.
    pub fn max_revocation_age_days(&self) -> i64 {
        self.store
            .setting(MAX_REVOCATION_AGE_SETTING)
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok())
            .unwrap_or(self.config.max_revocation_age_days)
    }

    pub fn trust_list(&self) -> TrustList {
        self.trust.read().map(|t| t.clone()).unwrap_or_default()
    }

    /// The station's algorithm suite (#17): its document signer's; on a station
    /// without unlocked keys, its trust list's (a deployment runs one suite).
    /// Cards this station issued carry chip keys of this suite.
    pub fn suite(&self) -> card_profile::suite::Suite {
        match &self.keys {
            Some(k) => k.signer.certificate.suite,
            None => self
                .trust
                .read()
                .ok()
                .and_then(|t| t.anchors.first().map(|a| a.suite))
                .unwrap_or_default(),
        }
    }

    /// Replaces the trust list verification uses (after the store's anchors changed).
    pub fn set_trust_list(&self, trust: TrustList) {
        if let Ok(mut t) = self.trust.write() {
            *t = trust;
        }
    }

    /// Remembers the highest EF.STATUS sequence seen for a card, so that a later
    /// verification refuses an older record put back on it (PROFILE.md §3). Written
    /// only when it is higher than what is held.
    pub fn remember_status_sequence(
        &self,
        actor: &str,
        serial: &str,
        sequence: u32,
    ) -> Result<(), OpError> {
        if !card_profile::records::status_sequence_worth_keeping(sequence) {
            return Ok(());
        }
        let held = self
            .store
            .read(|c| crate::store::status_sequence(c, serial))?;
        if held.is_some_and(|h| h >= sequence) {
            return Ok(());
        }
        self.store.write(actor, |tx| {
            if crate::store::note_status_sequence(tx, serial, sequence)? {
                tx.audit(
                    "card.status_sequence",
                    serial,
                    serde_json::json!({ "sequence": sequence }),
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Jobs left `writing` by a process that died are interrupted, not done: their
    /// card may be half written. Called once at start.
    pub fn recover_after_restart(&self) -> Result<usize, OpError> {
        Ok(self.store.write("system", |tx| {
            crate::store::interrupt_writing_jobs(tx, crate::labels::PROCESS_RESTARTED)
        })?)
    }
}

/// A card the records say was issued: its serial (upper hex) and chip key (hex), as
/// recorded when it was written.
#[derive(Debug, Clone)]
pub(crate) struct KnownCard {
    pub serial: String,
    pub chip_key: String,
}

impl From<&crate::store::CardRow> for KnownCard {
    fn from(row: &crate::store::CardRow) -> Self {
        Self {
            serial: row.serial.clone(),
            chip_key: row.chip_key.clone(),
        }
    }
}

/// Selects the application on the card behind `link` and returns its serial (upper
/// hex), refused as `WrongCard` unless it is one of `cards`, and as `NotAuthentic`
/// unless it proves the chip key on record for that serial (INTERNAL AUTHENTICATE):
/// the check every write to an already issued card makes before touching it, so a
/// copy of a card's data on another chip is never written to or recorded as written.
fn select_known<C: card_profile::transport::CardChannel>(
    link: &mut card_profile::channel::Link<C>,
    suite: card_profile::suite::Suite,
    cards: &[KnownCard],
) -> Result<String, OpError> {
    use card_profile::sequences::Selected;
    let mut card = Selected::select(link)?;
    let serial = hex::encode_upper(card.serial());
    let known = cards
        .iter()
        .find(|c| c.serial == serial)
        .ok_or(OpError::WrongCard)?;
    // The station's own record unreadable is not the card's fault: not "a fake".
    let chip_key: card_profile::pki::PublicKey = hex::decode(&known.chip_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(OpError::Invalid(Invalid::StoredChipKey))?;
    card.prove_chip(suite, &chip_key)?;
    Ok(serial)
}

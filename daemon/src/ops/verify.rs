//! Field verification: fully offline, against the local trust list and revocation
//! list. Read-only: nothing is recorded.
//!
//! The verdict comes first: [`Station::verify_first`] answers as soon as every check
//! but the photo's hash is decided, while the reader thread, still holding the card,
//! reads the photo ([`PhotoFollows`]). A photo whose hash does not match the security
//! object is reported (its check fails, the standing becomes invalid) and never
//! handed out for display.

use super::{OpError, Station};
use crate::readers::ReaderError;
use crate::store;
use card_profile::channel::Link;
use card_profile::keys::Serial;
use card_profile::revocation::{Revocation, RevocationLookup, RevocationSet};
use card_profile::sequences::{self, CardError, VerifyContext};
use card_profile::verdict::{RecordedReview, Standing, Verdict};
use chrono::NaiveDate;
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::mpsc;

#[derive(Debug, Clone, Serialize)]
pub struct VerifyOutcome {
    pub verdict: Verdict,
    /// The chip photo (JPEG), only when its hash matched the security object.
    #[serde(skip)]
    pub photo: Option<Vec<u8>>,
    /// What the station's own records say about this card, if it knows it.
    pub record: Option<store::CardRow>,
    pub apdus: usize,
}

/// The verdict, decided before the photo is read: its photo check is `Pending` and
/// `outcome.photo` is `None`; the photo arrives through `photo`.
#[derive(Debug)]
pub struct VerdictFirst {
    pub outcome: VerifyOutcome,
    pub photo: PhotoFollows,
}

/// The settled verdict once the photo was read and its hash checked.
#[derive(Debug, Clone)]
pub struct PhotoOutcome {
    /// The whole verdict with the photo check decided (the standing may have changed:
    /// a photo that fails its hash check makes the card invalid).
    pub verdict: Verdict,
    /// The JPEG, only when its hash matched.
    pub photo: Option<Vec<u8>>,
    /// APDUs of the whole verification, photo included.
    pub apdus: usize,
}

/// What the reader thread reports, in this order.
#[derive(Debug)]
enum Step {
    Verdict { verdict: Verdict, apdus: usize },
    Photo(Result<PhotoOutcome, OpError>),
}

/// The photo still being read on the reader thread.
#[derive(Debug)]
pub struct PhotoFollows(mpsc::UnboundedReceiver<Step>);

impl PhotoFollows {
    /// Waits for the photo read to end (it ends within the reader's card deadline).
    pub async fn wait(mut self) -> Result<PhotoOutcome, OpError> {
        match self.0.recv().await {
            Some(Step::Photo(result)) => result,
            Some(Step::Verdict { .. }) | None => Err(OpError::Reader(ReaderError::Join(
                "photo read ended without a result".into(),
            ))),
        }
    }
}

pub const REVOCATION_LIST_DATE: &str = "revocation_list_date";

/// What the field check asks of the station's records: the lists (in memory) and
/// the reviews recorded here that the card may not carry yet (read when asked, for
/// the one certificate being checked).
struct StationRecords {
    lists: Arc<RevocationSet>,
    store: Arc<store::Store>,
}

impl RevocationLookup for StationRecords {
    fn lookup(&self, serial: &Serial, number: &str) -> Option<Revocation> {
        self.lists.lookup(serial, number)
    }

    fn suspension(&self, number: &str) -> Option<Revocation> {
        self.lists.suspension(number)
    }

    fn highest_status_sequence(&self, serial: &Serial) -> Option<u32> {
        self.lists.highest_status_sequence(serial)
    }

    fn recorded_reviews(&self, number: &str) -> Vec<RecordedReview> {
        // A store that cannot be read adds nothing: the card's own reviews still
        // count, and a missing one shows as missing (never a review made up).
        // The number as the card gives it; one that is not a number has no records.
        let Ok(number) = ecard_sync_protocol::events::CertificateNumber::parse(number) else {
            return Vec::new();
        };
        self.store
            .read(|c| store::recorded_reviews(c, &number))
            .unwrap_or_default()
    }
}

/// `ecardd verify`'s exit status for a standing (docs/OPERATIONS.md): 0 only for a
/// valid certificate; each other standing has its own status from 10 up, clear of
/// the CLI's failure statuses 1–6.
pub const fn verify_exit_status(standing: Standing) -> u8 {
    match standing {
        Standing::Valid => 0,
        Standing::Invalid => 10,
        Standing::Revoked => 11,
        Standing::Suspended => 12,
        Standing::Expired => 13,
        Standing::NotYetValid => 14,
        Standing::ReviewOverdue => 15,
        Standing::ReviewFailed => 16,
        Standing::Unconfirmed => 17,
    }
}

impl Station {
    /// Verifies the card in `reader`, photo included (the CLI's and the tests' whole
    /// answer). The same two steps as [`Station::verify_first`], awaited together.
    pub async fn verify(&self, reader: &str) -> Result<VerifyOutcome, OpError> {
        let first = self.verify_first(reader).await?;
        let photo = first.photo.wait().await?;
        Ok(VerifyOutcome {
            verdict: photo.verdict,
            photo: photo.photo,
            record: first.outcome.record,
            apdus: photo.apdus,
        })
    }

    /// Answers the verdict as soon as it is decided; the photo is read after it, on
    /// the reader thread that still holds the card, and follows in
    /// [`VerdictFirst::photo`]. The verdict never waits for the photo.
    pub async fn verify_first(&self, reader: &str) -> Result<VerdictFirst, OpError> {
        let trust = self.trust_list();
        let revocations = StationRecords {
            lists: self.revocations()?,
            store: Arc::clone(&self.store),
        };
        let list_date = self
            .store
            .setting(REVOCATION_LIST_DATE)?
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
        let today = self.today();
        let max_age = self.max_revocation_age_days();
        let policy = self.config.review_policy;
        let (steps, mut rx) = mpsc::unbounded_channel();
        let photo_steps = steps.clone();
        let readers = self.readers.clone();
        let reader_name = reader.to_owned();
        tokio::spawn(async move {
            let read = readers
                .run(&reader_name, move |chan| {
                    let mut link = Link::new(chan);
                    let ctx = VerifyContext {
                        trust: &trust,
                        today,
                        revocations: &revocations,
                        revocation_list_date: list_date,
                        max_revocation_age_days: max_age,
                        review_policy: policy,
                    };
                    let (mut card, pending) = sequences::verify_without_photo(&mut link, &ctx)?;
                    let _ = steps.send(Step::Verdict {
                        verdict: pending.verdict.clone(),
                        apdus: card.link().traffic().apdus,
                    });
                    let (verdict, photo) = pending.fetch(&mut card)?;
                    Ok::<_, CardError>(PhotoOutcome {
                        verdict,
                        photo,
                        apdus: link.traffic().apdus,
                    })
                })
                .await;
            let result = match read {
                Ok(Ok(photo)) => Ok(photo),
                Ok(Err(card)) => Err(OpError::Card(card)),
                Err(reader) => Err(OpError::Reader(reader)),
            };
            let _ = photo_steps.send(Step::Photo(result));
        });
        let (verdict, apdus) = match rx.recv().await {
            Some(Step::Verdict { verdict, apdus }) => (verdict, apdus),
            // Failed before a verdict: no card, a card pulled, not an ecard.
            Some(Step::Photo(Err(e))) => return Err(e),
            Some(Step::Photo(Ok(_))) | None => {
                return Err(OpError::Reader(ReaderError::Join(
                    "verification ended without a verdict".into(),
                )))
            }
        };
        let serial = hex::encode_upper(verdict.serial);
        if let Some(sequence) = verdict.trusted_status_sequence() {
            // Bookkeeping for later checks: a busy database must not cost this
            // inspector the verdict already decided.
            if let Err(e) = self.remember_status_sequence("system", &serial, sequence) {
                tracing::warn!(serial, error = %e, "status sequence not remembered");
            }
        }
        let record = self.store.read(|c| store::card_by_serial(c, &serial))?;
        Ok(VerdictFirst {
            outcome: VerifyOutcome {
                verdict,
                photo: None,
                record,
                apdus,
            },
            photo: PhotoFollows(rx),
        })
    }
}

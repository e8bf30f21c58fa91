//! Field verification: fully offline, against the local trust list and revocation
//! list. Read-only: nothing is recorded.

use super::{OpError, Station};
use crate::store;
use card_profile::channel::Link;
use card_profile::sequences::{self, VerifyContext};
use card_profile::verdict::{Standing, Verdict};
use chrono::NaiveDate;
use serde::Serialize;

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

pub const REVOCATION_LIST_DATE: &str = "revocation_list_date";

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
    }
}

impl Station {
    pub async fn verify(&self, reader: &str) -> Result<VerifyOutcome, OpError> {
        let trust = self.trust_list();
        let revocations = self.revocations()?;
        let list_date = self
            .store
            .setting(REVOCATION_LIST_DATE)?
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
        let today = self.today();
        let max_age = self.max_revocation_age_days();
        let policy = self.config.review_policy;
        let (verdict, photo, apdus) = self
            .readers
            .run(reader, move |chan| {
                let mut link = Link::new(chan);
                let ctx = VerifyContext {
                    trust: &trust,
                    today,
                    revocations: &*revocations,
                    revocation_list_date: list_date,
                    max_revocation_age_days: max_age,
                    review_policy: policy,
                };
                sequences::verify(&mut link, &ctx).map(|(v, p)| (v, p, link.traffic().apdus))
            })
            .await??;
        let serial = hex::encode_upper(verdict.serial);
        let record = self.store.read(|c| store::card_by_serial(c, &serial))?;
        Ok(VerifyOutcome {
            verdict,
            photo,
            record,
            apdus,
        })
    }
}

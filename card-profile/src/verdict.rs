//! The verification verdict: every check with its own outcome, and the standing that
//! follows from them. Verification fails closed: a check that could not be made is a
//! failure, never "data shown without a check".

use crate::keys::Serial;
use crate::pki::ChainError;
use crate::profile::{FileId, LifeCycle};
use crate::records::{Certificate, Holder, Review, ReviewResult, StatusRecord};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The checks a verifier makes, in the order it makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// The application is activated (not blank, torn or terminated).
    LifeCycle,
    /// Every file parses under the profile.
    FileFormat,
    /// The document signer chains to the trust list.
    SignerChain,
    /// The security object's signature.
    SodSignature,
    /// The security object, EF.VER and the FCI name the same card serial.
    SerialBinding,
    /// SHA-256 of each hashed file against the security object.
    FileHash(FileId),
    /// INTERNAL AUTHENTICATE against the chip key in the security object.
    ChipAuthentication,
    /// Today lies within valid-from .. valid-until.
    ValidityDates,
    /// EF.STATUS: signed, bound to this card, and active.
    CardStatus,
    /// The local revocation list does not name the card or its number.
    RevocationList,
    /// Annual review (年审) up to date.
    AnnualReview,
}

/// Why a check did not pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    NotActivated {
        life_cycle: LifeCycle,
    },
    Terminated,
    FileMissing {
        file: FileId,
    },
    FileMalformed {
        file: FileId,
        detail: String,
    },
    Signer {
        error: ChainError,
    },
    SodSignatureInvalid,
    SerialMismatch,
    HashMismatch {
        file: FileId,
    },
    HashMissing {
        file: FileId,
    },
    ChipAuthenticationFailed,
    ChipAuthenticationRefused {
        detail: String,
    },
    NotYetValid {
        from: NaiveDate,
    },
    Expired {
        until: NaiveDate,
    },
    StatusSignatureInvalid,
    /// EF.STATUS carries a lower sequence number than the verifier has already seen
    /// for this card: an older signed record was put back.
    StatusRolledBack {
        seen: u32,
        found: u32,
    },
    Suspended {
        reason: String,
        since: NaiveDate,
    },
    Revoked {
        reason: String,
        since: NaiveDate,
    },
    OnRevocationList {
        reason: String,
        since: NaiveDate,
    },
    /// Suspended according to the verifier's records while the card itself does not
    /// say so (the suspension was decided without the card at hand).
    SuspensionListed {
        reason: String,
        since: NaiveDate,
    },
    RevocationListStale {
        age_days: i64,
        max_days: i64,
    },
    RevocationListMissing,
    ReviewOverdue {
        year: i32,
    },
    ReviewDue {
        year: i32,
        deadline: NaiveDate,
    },
    ReviewFailed {
        year: i32,
    },
    ReviewRecordInvalid {
        index: usize,
    },
    /// A PIV card keeps the facial image behind the holder's PIN: the field check
    /// did not read the photo (a warning, not a failure).
    PhotoNeedsPin,
    /// The PIV card's CHUID (its GUID, the serial) is missing or not signed by the
    /// signer of the security object.
    ChuidInvalid,
    /// The PIV card's Card Authentication certificate (5FC101) is missing, not
    /// issued by the signer of the security object, or names another key.
    ChipCertificateInvalid,
    /// A PIV card whose certificates were issued by someone outside the trust list
    /// (a token set up by another system): `issuer` as its certificate names it.
    UnknownIssuer {
        issuer: String,
    },
    /// A check that depends on another that failed.
    NotChecked {
        because: CheckKind,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    /// Passed, but someone should know (a review due soon).
    Warning {
        findings: Vec<Finding>,
    },
    Failed {
        findings: Vec<Finding>,
    },
    /// Not decided yet: the photo's hash is checked when the photo has arrived.
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub check: CheckKind,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The overall answer shown to the inspector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// 有效
    Valid,
    /// 无效: not genuine, tampered, torn or unreadable.
    Invalid,
    /// 已注销
    Revoked,
    /// 已暂停
    Suspended,
    /// 已过期
    Expired,
    /// 尚未生效
    NotYetValid,
    /// 年审逾期: a required review is missing past its deadline.
    ReviewOverdue,
    /// 年审不合格: the latest review on the card was failed (and not passed since).
    ReviewFailed,
    /// 无法确认: every check on the card passed, but the verifier's revocation list
    /// is missing or older than its limit, so a cancellation could go unseen.
    Unconfirmed,
}

/// Where a review the annual-review check counted comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewSource {
    /// The card's own signed review record.
    Card,
    /// The verifying station's records: recorded there, not yet on this card.
    Station,
    /// Recorded at another station or at the registry and received through the
    /// registry's feed, not yet on this card.
    Registry,
}

/// A review from the verifier's records (`RevocationLookup::recorded_reviews`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedReview {
    /// The year the review covers.
    pub year: u16,
    pub date: NaiveDate,
    pub result: ReviewResult,
    pub source: ReviewSource,
}

/// A review the annual-review check counted, and from where.
pub type CountedReview = RecordedReview;

/// Everything a verification found, with the data it read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Which kind of card was read (native or PIV).
    #[serde(default)]
    pub family: crate::profile::Family,
    pub standing: Standing,
    pub checks: Vec<Check>,
    #[serde(with = "crate::records::hex_serial")]
    pub serial: Serial,
    pub life_cycle: LifeCycle,
    pub holder: Option<Holder>,
    pub certificate: Option<Certificate>,
    pub status: Option<StatusRecord>,
    pub reviews: Vec<Review>,
    /// The reviews the annual-review check counted (one per year), each with its
    /// source: the card, or the station's records when the card does not carry it yet.
    #[serde(default)]
    pub counted_reviews: Vec<CountedReview>,
    pub verified_on: NaiveDate,
}

impl Verdict {
    pub fn check(&self, kind: CheckKind) -> Option<&Outcome> {
        self.checks
            .iter()
            .find(|c| c.check == kind)
            .map(|c| &c.outcome)
    }

    pub fn failed(&self, kind: CheckKind) -> bool {
        matches!(self.check(kind), Some(Outcome::Failed { .. }))
    }

    /// The findings of every failed check.
    pub fn failures(&self) -> impl Iterator<Item = (CheckKind, &Finding)> {
        self.checks.iter().flat_map(|c| match &c.outcome {
            Outcome::Failed { findings } => {
                findings.iter().map(|f| (c.check, f)).collect::<Vec<_>>()
            }
            _ => Vec::new(),
        })
    }

    /// The card's status sequence when its record is one a verifier may remember:
    /// signed by a trusted signer, bound to this card and not rolled back. (A
    /// remembered forgery could lock a genuine card out.)
    pub fn trusted_status_sequence(&self) -> Option<u32> {
        let untrusted = self
            .failures()
            .any(|(kind, f)| kind == CheckKind::CardStatus && breaks_status_record(f));
        match (&self.status, untrusted) {
            (Some(status), false) => Some(status.sequence),
            _ => None,
        }
    }

    pub(crate) fn set(&mut self, kind: CheckKind, outcome: Outcome) {
        match self.checks.iter_mut().find(|c| c.check == kind) {
            Some(c) => c.outcome = outcome,
            None => self.checks.push(Check {
                check: kind,
                outcome,
            }),
        }
        self.standing = standing_of(&self.checks);
    }
}

/// The standing follows from the checks: any integrity failure makes the card invalid;
/// then revocation, suspension, dates and review, in that order of precedence. A
/// pending check (the photo) does not block the verdict; if it later fails, the
/// standing becomes invalid.
pub fn standing_of(checks: &[Check]) -> Standing {
    let failed_with = |kind: CheckKind| {
        checks
            .iter()
            .find_map(|c| match (&c.outcome, c.check == kind) {
                (Outcome::Failed { findings }, true) => Some(findings.as_slice()),
                _ => None,
            })
    };
    let any = |kind, pred: &dyn Fn(&Finding) -> bool| {
        failed_with(kind).is_some_and(|f| f.iter().any(pred))
    };
    // Revocation wins over "invalid" for a terminated card, which still reads fine.
    if any(CheckKind::LifeCycle, &|f| matches!(f, Finding::Terminated)) {
        let integrity_failed = checks.iter().any(|c| {
            matches!(c.outcome, Outcome::Failed { .. })
                && matches!(
                    c.check,
                    CheckKind::FileFormat
                        | CheckKind::SignerChain
                        | CheckKind::SodSignature
                        | CheckKind::FileHash(_)
                )
        });
        return if integrity_failed {
            Standing::Invalid
        } else {
            Standing::Revoked
        };
    }
    let integrity = checks.iter().any(|c| {
        matches!(c.outcome, Outcome::Failed { .. })
            && !matches!(
                c.check,
                CheckKind::ValidityDates
                    | CheckKind::CardStatus
                    | CheckKind::RevocationList
                    | CheckKind::AnnualReview
            )
    });
    if integrity || any(CheckKind::CardStatus, &breaks_status_record) {
        return Standing::Invalid;
    }
    let list_unusable = |f: &Finding| {
        matches!(
            f,
            Finding::RevocationListStale { .. } | Finding::RevocationListMissing
        )
    };
    if any(CheckKind::RevocationList, &|f| {
        !matches!(f, Finding::SuspensionListed { .. }) && !list_unusable(f)
    }) || any(CheckKind::CardStatus, &|f| {
        matches!(f, Finding::Revoked { .. })
    }) {
        return Standing::Revoked;
    }
    if any(CheckKind::CardStatus, &|f| {
        matches!(f, Finding::Suspended { .. })
    }) || any(CheckKind::RevocationList, &|f| {
        matches!(f, Finding::SuspensionListed { .. })
    }) {
        return Standing::Suspended;
    }
    if any(CheckKind::ValidityDates, &|f| {
        matches!(f, Finding::Expired { .. })
    }) {
        return Standing::Expired;
    }
    if any(CheckKind::ValidityDates, &|f| {
        matches!(f, Finding::NotYetValid { .. })
    }) {
        return Standing::NotYetValid;
    }
    if failed_with(CheckKind::ValidityDates).is_some() {
        return Standing::Invalid;
    }
    if any(CheckKind::AnnualReview, &|f| {
        matches!(f, Finding::ReviewFailed { .. })
    }) {
        return Standing::ReviewFailed;
    }
    if failed_with(CheckKind::AnnualReview).is_some() {
        return Standing::ReviewOverdue;
    }
    // Last: only a card that is otherwise valid is "unconfirmed" rather than valid;
    // a definite answer (revoked, expired, ...) does not need the list's freshness.
    if any(CheckKind::RevocationList, &list_unusable) {
        return Standing::Unconfirmed;
    }
    Standing::Valid
}

/// When the annual review is due and where a certificate stands with it: the
/// domain's one rule (DOMAIN.md), used by the verdict and the review schedule alike.
pub use ecard_domain::validity::{ReviewPolicy, ReviewStanding};

/// A card-status failure that leaves the on-card status record untrusted: it makes
/// the card invalid, and its sequence number is not remembered.
fn breaks_status_record(f: &Finding) -> bool {
    matches!(
        f,
        Finding::StatusSignatureInvalid
            | Finding::StatusRolledBack { .. }
            | Finding::SerialMismatch
            | Finding::FileMissing { .. }
            | Finding::FileMalformed { .. }
            | Finding::NotChecked { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn integrity_failures_outrank_everything_else() {
        let failed = |check, findings| Check {
            check,
            outcome: Outcome::Failed { findings },
        };
        let checks = vec![
            failed(
                CheckKind::ValidityDates,
                vec![Finding::Expired {
                    until: d(2020, 1, 1),
                }],
            ),
            failed(
                CheckKind::FileHash(FileId::Holder),
                vec![Finding::HashMismatch {
                    file: FileId::Holder,
                }],
            ),
        ];
        assert_eq!(standing_of(&checks), Standing::Invalid);
        assert_eq!(standing_of(&checks[..1]), Standing::Expired);
        let pending = vec![Check {
            check: CheckKind::FileHash(FileId::Photo),
            outcome: Outcome::Pending,
        }];
        assert_eq!(standing_of(&pending), Standing::Valid);
    }
}

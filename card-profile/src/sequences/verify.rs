//! Verification: read the small files, check the signer chain, the security object,
//! the file hashes and the chip's signature over a fresh challenge, then dates, status,
//! revocation list and annual review. The verdict is ready before the photo is read;
//! the photo's hash is checked when it arrives ([`PendingPhoto::fetch`]).

use super::selected::{Application, Selected};
use super::CardError;
use crate::channel::Link;
use crate::pki::TrustList;
use crate::profile::{tags, Family, FileId, LifeCycle};
use crate::records::{self, CardState, Certificate, Holder, Review, ReviewResult, StatusRecord};
use crate::revocation::RevocationLookup;
use crate::sequences::card::ChipCheck;
use crate::sod::{SecurityObject, SignedObject};
use crate::suite::Suite;
use crate::tlv::{self, Fields};
use crate::transport::CardChannel;
use crate::verdict::{
    standing_of, CheckKind, CountedReview, Finding, Outcome, RecordedReview, ReviewPolicy,
    ReviewSource, ReviewStanding, Standing, Verdict,
};
use chrono::NaiveDate;

/// What a verifier knows besides the card: trust list, date, revocations, policy.
pub struct VerifyContext<'a> {
    pub trust: &'a TrustList,
    pub today: NaiveDate,
    pub revocations: &'a dyn RevocationLookup,
    /// Date of the local revocation list; `None` when the station has none.
    pub revocation_list_date: Option<NaiveDate>,
    /// Older than this many days (held to the domain's hard maximum), the list is
    /// stale: the card is then 无法确认, never 有效 (`ecard_domain::field_check`).
    pub max_revocation_age_days: i64,
    pub review_policy: ReviewPolicy,
}

impl<'a> VerifyContext<'a> {
    /// A context whose revocation list is dated `today`, with a 7-day staleness
    /// limit and the default annual-review deadline (31 March).
    pub fn new(
        trust: &'a TrustList,
        today: NaiveDate,
        revocations: &'a dyn RevocationLookup,
    ) -> Self {
        Self {
            trust,
            today,
            revocations,
            revocation_list_date: Some(today),
            max_revocation_age_days: ecard_domain::field_check::DEFAULT_MAX_REVOCATION_AGE_DAYS,
            review_policy: ReviewPolicy::default(),
        }
    }
}

/// A verdict whose photo check is still pending.
#[derive(Debug, Clone)]
pub struct PendingPhoto {
    pub verdict: Verdict,
    expected_hash: Option<[u8; 32]>,
    /// The suite the photo's hash is in: the security object's signer's.
    suite: Suite,
}

impl PendingPhoto {
    /// Reads EF.PHOTO and settles its hash check. Returns the JPEG when the file parses.
    pub fn fetch<C: CardChannel>(
        self,
        card: &mut Selected<'_, C>,
    ) -> Result<(Verdict, Option<Vec<u8>>), CardError> {
        self.fetch_from(card)
    }

    fn fetch_from(
        mut self,
        card: &mut impl Application,
    ) -> Result<(Verdict, Option<Vec<u8>>), CardError> {
        let check = CheckKind::FileHash(FileId::Photo);
        let Some(expected) = self.expected_hash else {
            return Ok((self.verdict, None));
        };
        let raw = match card.read_file(FileId::Photo) {
            // A PIV card keeps the facial image behind the holder's PIN (SP 800-73-4
            // Part 1, Table 8): the field check has no PIN, so the photo is not
            // checked here, which is no sign of a fake.
            Err(CardError::NotAuthenticated) if card.info().family == Family::Piv => {
                self.verdict.set(
                    check,
                    Outcome::Warning {
                        findings: vec![Finding::PhotoNeedsPin],
                    },
                );
                return Ok((self.verdict, None));
            }
            other => match soft(other, FileId::Photo)? {
                Ok(raw) => raw,
                Err(finding) => {
                    self.verdict.set(check, failed(finding));
                    return Ok((self.verdict, None));
                }
            },
        };
        let outcome = if self.suite.hash(&raw) == expected {
            Outcome::Passed
        } else {
            failed(Finding::HashMismatch {
                file: FileId::Photo,
            })
        };
        let passed = outcome == Outcome::Passed;
        self.verdict.set(check, outcome);
        // Only a photo whose hash matched is handed out for display.
        let jpeg = if passed {
            records::photo_from_tlv(&raw).ok()
        } else {
            None
        };
        Ok((self.verdict, jpeg))
    }
}

/// Full verification including the photo.
pub fn verify<C: CardChannel>(
    link: &mut Link<C>,
    ctx: &VerifyContext<'_>,
) -> Result<(Verdict, Option<Vec<u8>>), CardError> {
    let (mut card, pending) = verify_without_photo(link, ctx)?;
    pending.fetch(&mut card)
}

/// Everything but the photo: the verdict an inspector sees first. Either family.
pub fn verify_without_photo<'l, C: CardChannel>(
    link: &'l mut Link<C>,
    ctx: &VerifyContext<'_>,
) -> Result<(Selected<'l, C>, PendingPhoto), CardError> {
    let mut card = Selected::select(link)?;
    let pending = verify_selected(&mut card, ctx)?;
    Ok((card, pending))
}

fn failed(finding: Finding) -> Outcome {
    Outcome::Failed {
        findings: vec![finding],
    }
}

fn not_checked(because: CheckKind) -> Outcome {
    failed(Finding::NotChecked { because })
}

/// Reads a file; a card-side problem with the data becomes a finding, a transport
/// problem (card pulled out) aborts the verification.
fn read_soft(
    card: &mut impl Application,
    file: FileId,
) -> Result<Result<Vec<u8>, Finding>, CardError> {
    soft(card.read_file(file), file)
}

fn soft(
    read: Result<Vec<u8>, CardError>,
    file: FileId,
) -> Result<Result<Vec<u8>, Finding>, CardError> {
    match read {
        Ok(raw) if raw.is_empty() => Ok(Err(Finding::FileMissing { file })),
        Ok(raw) => Ok(Ok(raw)),
        Err(CardError::Channel(e)) => Err(CardError::Channel(e)),
        Err(other) => Ok(Err(Finding::FileMalformed {
            file,
            detail: other.to_string(),
        })),
    }
}

fn parse_ver(raw: &[u8]) -> Result<[u8; 8], tlv::TlvError> {
    let f = Fields::of(
        tlv::parse_exact(raw)?,
        tags::VER,
        &[tags::PROFILE_VERSION, tags::CAPABILITIES, tags::SERIAL],
    )?;
    f.fixed(tags::SERIAL)
}

/// Parses a file that was read, or records why it could not be read or parsed.
fn parse_file<T, E: ToString>(
    raw: &Result<Vec<u8>, Finding>,
    file: FileId,
    parse: impl FnOnce(&[u8]) -> Result<T, E>,
    findings: &mut Vec<Finding>,
) -> Option<T> {
    match raw {
        Ok(raw) => parse(raw)
            .map_err(|e| findings.push(malformed(file, e)))
            .ok(),
        Err(f) => {
            findings.push(f.clone());
            None
        }
    }
}

fn malformed(file: FileId, e: impl ToString) -> Finding {
    Finding::FileMalformed {
        file,
        detail: e.to_string(),
    }
}

fn verify_selected(
    card: &mut impl Application,
    ctx: &VerifyContext<'_>,
) -> Result<PendingPhoto, CardError> {
    let info = *card.info();
    let mut v = Verdict {
        family: info.family,
        standing: Standing::Invalid,
        checks: Vec::new(),
        serial: info.serial,
        life_cycle: info.life_cycle,
        holder: None,
        certificate: None,
        status: None,
        reviews: Vec::new(),
        counted_reviews: Vec::new(),
        verified_on: ctx.today,
    };
    v.set(
        CheckKind::LifeCycle,
        match info.life_cycle {
            LifeCycle::Activated => Outcome::Passed,
            LifeCycle::Terminated => failed(Finding::Terminated),
            other => failed(Finding::NotActivated { life_cycle: other }),
        },
    );

    // Small files first; the photo comes after the verdict.
    let ver = read_soft(card, FileId::Ver)?;
    let holder_raw = read_soft(card, FileId::Holder)?;
    let cert_raw = read_soft(card, FileId::Cert)?;
    let sod_raw = read_soft(card, FileId::Sod)?;
    let status_raw = read_soft(card, FileId::Status)?;
    let review_records = card.read_records(FileId::Reviews)?;

    let mut format = Vec::new();
    let ver_serial = parse_file(&ver, FileId::Ver, parse_ver, &mut format);
    let holder = parse_file(&holder_raw, FileId::Holder, Holder::from_tlv, &mut format);
    let cert = parse_file(&cert_raw, FileId::Cert, Certificate::from_tlv, &mut format);
    let sod = parse_file(&sod_raw, FileId::Sod, SecurityObject::parse, &mut format);
    v.set(
        CheckKind::FileFormat,
        if format.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed { findings: format }
        },
    );
    v.holder = holder;
    v.certificate = cert.clone();
    let evidence = card.family_evidence(sod.as_ref())?;

    // Passive authentication.
    let mut expected_photo = None;
    let photo_suite = sod
        .as_ref()
        .map_or(Suite::P256, |sod| sod.signed.signer.suite);
    match &sod {
        Some(sod) => {
            v.set(
                CheckKind::SignerChain,
                match ctx.trust.check_signer(&sod.signed.signer, sod.signed_on) {
                    Ok(_) => Outcome::Passed,
                    Err(error) => failed(Finding::Signer { error }),
                },
            );
            v.set(
                CheckKind::SodSignature,
                if sod.signed.signature_valid() {
                    Outcome::Passed
                } else {
                    failed(Finding::SodSignatureInvalid)
                },
            );
            v.set(
                CheckKind::SerialBinding,
                match &evidence.serial_binding {
                    _ if sod.serial != info.serial || ver_serial != Some(info.serial) => {
                        failed(Finding::SerialMismatch)
                    }
                    Some(finding) => failed(finding.clone()),
                    None => Outcome::Passed,
                },
            );
            for (file, raw) in [
                (FileId::Ver, &ver),
                (FileId::Holder, &holder_raw),
                (FileId::Cert, &cert_raw),
            ] {
                let outcome = match (sod.hash_of(file), raw) {
                    (None, _) => failed(Finding::HashMissing { file }),
                    (Some(_), Err(f)) => failed(f.clone()),
                    (Some(h), Ok(raw)) if sod.signed.signer.suite.hash(raw) == *h => {
                        Outcome::Passed
                    }
                    (Some(_), Ok(_)) => failed(Finding::HashMismatch { file }),
                };
                v.set(CheckKind::FileHash(file), outcome);
            }
            match sod.hash_of(FileId::Photo) {
                Some(h) => {
                    expected_photo = Some(*h);
                    v.set(CheckKind::FileHash(FileId::Photo), Outcome::Pending);
                }
                None => v.set(
                    CheckKind::FileHash(FileId::Photo),
                    failed(Finding::HashMissing {
                        file: FileId::Photo,
                    }),
                ),
            }
            // A terminated application refuses INTERNAL AUTHENTICATE by design
            // (PROFILE.md §1): that refusal says "revoked", not "copied", so the
            // challenge is not sent and the check names the termination.
            v.set(
                CheckKind::ChipAuthentication,
                if info.life_cycle == LifeCycle::Terminated {
                    failed(Finding::Terminated)
                } else if let Some(finding) = &evidence.chip_certificate {
                    failed(finding.clone())
                } else {
                    chip_authenticate(card, sod.signed.signer.suite, &sod.chip_key)?
                },
            );
        }
        None => {
            for kind in [
                CheckKind::SignerChain,
                CheckKind::SodSignature,
                CheckKind::SerialBinding,
                CheckKind::FileHash(FileId::Ver),
                CheckKind::FileHash(FileId::Holder),
                CheckKind::FileHash(FileId::Cert),
                CheckKind::FileHash(FileId::Photo),
                CheckKind::ChipAuthentication,
            ] {
                v.set(kind, not_checked(CheckKind::FileFormat));
            }
            // A PIV card someone else issued: say whose, when its certificate tells.
            if let Some(issuer) = evidence.issuer {
                v.set(CheckKind::SignerChain, failed(issuer));
            }
        }
    }

    // Dates.
    v.set(
        CheckKind::ValidityDates,
        match &cert {
            Some(c) if ctx.today < c.valid_from => {
                failed(Finding::NotYetValid { from: c.valid_from })
            }
            Some(c) if ctx.today > c.valid_until => failed(Finding::Expired {
                until: c.valid_until,
            }),
            Some(_) => Outcome::Passed,
            None => not_checked(CheckKind::FileFormat),
        },
    );

    // Status on the card.
    let (status_outcome, status) = check_status(&status_raw, ctx, info.serial);
    let card_says_suspended = matches!(&status_outcome, Outcome::Failed { findings }
        if findings.iter().any(|f| matches!(f, Finding::Suspended { .. })));
    v.status = status;
    v.set(CheckKind::CardStatus, status_outcome);

    // Revocation list.
    let number = cert.as_ref().map(|c| c.number.as_str()).unwrap_or("");
    // No list, or one older than the limit: the card cannot be called valid
    // (standing 无法确认), the domain's one rule decides which.
    use ecard_domain::field_check::{revocation_list_age, ListAge};
    let unconfirmed = match revocation_list_age(
        ctx.revocation_list_date,
        ctx.today,
        ctx.max_revocation_age_days,
    ) {
        ListAge::Fresh => None,
        ListAge::Missing => Some(Finding::RevocationListMissing),
        ListAge::Stale { age_days, max_days } => {
            Some(Finding::RevocationListStale { age_days, max_days })
        }
    };
    v.set(
        CheckKind::RevocationList,
        match ctx.revocations.lookup(&info.serial, number) {
            Some(r) => failed(Finding::OnRevocationList {
                reason: r.reason,
                since: r.since,
            }),
            None => match ctx.revocations.suspension(number) {
                // Unless the card already says so: then CardStatus reports it.
                Some(r) if !card_says_suspended => failed(Finding::SuspensionListed {
                    reason: r.reason,
                    since: r.since,
                }),
                _ => match unconfirmed {
                    None => Outcome::Passed,
                    Some(f) => failed(f),
                },
            },
        },
    );

    // Annual review.
    let mut review_findings = Vec::new();
    for (index, raw) in review_records.iter().enumerate() {
        match check_review(raw, ctx.trust, info.serial) {
            Some(r) => v.reviews.push(r),
            None => review_findings.push(Finding::ReviewRecordInvalid { index }),
        }
    }
    let review = match &cert {
        None => not_checked(CheckKind::FileFormat),
        Some(c) => {
            let recorded = ctx.revocations.recorded_reviews(&c.number);
            let (outcome, counted) = review_outcome(c, &v.reviews, &recorded, review_findings, ctx);
            v.counted_reviews = counted;
            outcome
        }
    };
    v.set(CheckKind::AnnualReview, review);

    v.standing = standing_of(&v.checks);
    Ok(PendingPhoto {
        verdict: v,
        expected_hash: expected_photo,
        suite: photo_suite,
    })
}

fn chip_authenticate(
    card: &mut impl Application,
    suite: Suite,
    chip_key: &[u8; 65],
) -> Result<Outcome, CardError> {
    Ok(match card.chip_check(suite, chip_key)? {
        ChipCheck::Passed => Outcome::Passed,
        ChipCheck::BadSignature => failed(Finding::ChipAuthenticationFailed),
        ChipCheck::Refused(e) => failed(Finding::ChipAuthenticationRefused {
            detail: e.to_string(),
        }),
    })
}

fn check_status(
    raw: &Result<Vec<u8>, Finding>,
    ctx: &VerifyContext<'_>,
    serial: [u8; 8],
) -> (Outcome, Option<StatusRecord>) {
    let trust = ctx.trust;
    let raw = match raw {
        Ok(raw) => raw,
        Err(f) => return (failed(f.clone()), None),
    };
    let parsed = SignedObject::parse(raw, tags::STATUS, tags::STATUS_CONTENT).and_then(|s| {
        let record = StatusRecord::from_content(s.content_tlv()?)?;
        Ok((s, record))
    });
    let (signed, record) = match parsed {
        Ok(p) => p,
        Err(e) => return (failed(malformed(FileId::Status, e)), None),
    };
    if !signed.signature_valid() || trust.check_signer(&signed.signer, record.date).is_err() {
        return (failed(Finding::StatusSignatureInvalid), Some(record));
    }
    if record.serial != serial {
        return (failed(Finding::SerialMismatch), Some(record));
    }
    if let Some(seen) = ctx.revocations.highest_status_sequence(&serial) {
        if record.sequence < seen {
            let found = record.sequence;
            return (
                failed(Finding::StatusRolledBack { seen, found }),
                Some(record),
            );
        }
    }
    let outcome = match record.state {
        CardState::Active => Outcome::Passed,
        CardState::Suspended => failed(Finding::Suspended {
            reason: record.reason.clone(),
            since: record.date,
        }),
        CardState::Revoked => failed(Finding::Revoked {
            reason: record.reason.clone(),
            since: record.date,
        }),
    };
    (outcome, Some(record))
}

/// A review record counts only when its signature, signer and serial check out.
fn check_review(raw: &[u8], trust: &TrustList, serial: [u8; 8]) -> Option<Review> {
    let signed = SignedObject::parse(raw, tags::REVIEW, tags::REVIEW_CONTENT).ok()?;
    let review = Review::from_content(signed.content_tlv().ok()?).ok()?;
    let genuine =
        signed.signature_valid() && trust.check_signer(&signed.signer, review.date).is_ok();
    (genuine && review.serial == serial).then_some(review)
}

/// The annual-review check over the card's reviews and the verifier's records of
/// reviews the card does not carry yet (a year on the card is the card's), with the
/// reviews it counted and their source.
fn review_outcome(
    cert: &Certificate,
    on_card: &[Review],
    recorded: &[RecordedReview],
    findings: Vec<Finding>,
    ctx: &VerifyContext<'_>,
) -> (Outcome, Vec<CountedReview>) {
    // Only years from the issue year to this year exist (the domain's rule): a
    // record of any other year counts neither way.
    let exists = |year: u16| {
        ecard_domain::validity::check_review_year(Some(cert.issue_date), i32::from(year), ctx.today)
            .is_ok()
    };
    let mut counted: Vec<CountedReview> = on_card
        .iter()
        .filter(|r| exists(r.year))
        .map(|r| CountedReview {
            year: r.year,
            date: r.date,
            result: r.result,
            source: ReviewSource::Card,
        })
        .collect();
    for r in recorded {
        let known =
            on_card.iter().any(|c| c.year == r.year) || counted.iter().any(|c| c.year == r.year);
        if exists(r.year) && !known {
            counted.push(r.clone());
        }
    }
    counted.sort_by_key(|r| r.year);
    let outcome = review_outcome_of(cert, &counted, findings, ctx);
    (outcome, counted)
}

fn review_outcome_of(
    cert: &Certificate,
    reviews: &[CountedReview],
    mut findings: Vec<Finding>,
    ctx: &VerifyContext<'_>,
) -> Outcome {
    let passed: Vec<i32> = reviews
        .iter()
        .filter(|r| r.result == ReviewResult::Passed)
        .map(|r| r.year as i32)
        .collect();
    if let Some(r) = reviews
        .iter()
        .filter(|r| r.result == ReviewResult::Failed && !passed.contains(&(r.year as i32)))
        .max_by_key(|r| r.year)
    {
        findings.push(Finding::ReviewFailed {
            year: r.year as i32,
        });
        return Outcome::Failed { findings };
    }
    match ctx
        .review_policy
        .standing(cert.issue_date, &passed, ctx.today)
    {
        ReviewStanding::Overdue { year } => {
            findings.push(Finding::ReviewOverdue { year });
            Outcome::Failed { findings }
        }
        ReviewStanding::Due { year, deadline } => {
            findings.push(Finding::ReviewDue { year, deadline });
            Outcome::Warning { findings }
        }
        ReviewStanding::Exempt | ReviewStanding::UpToDate { .. } if findings.is_empty() => {
            Outcome::Passed
        }
        ReviewStanding::Exempt | ReviewStanding::UpToDate { .. } => Outcome::Warning { findings },
    }
}

//! Annual review (年审): recorded, and appended to the card when it is in a reader.
//! The record is written first (with no card serial), then the card, then the record
//! learns the serial: a crash in between leaves a record marked "not on the card yet",
//! never a card review the records do not know.

use super::invalid::Invalid;
use super::{select_known, KnownCard, OpError, Station};
use crate::store::{self, CardState, CertificateState, Conflict};
use card_profile::channel::Link;
use card_profile::records::{Review, ReviewResult};
use card_profile::sequences;
use chrono::NaiveDate;
use ecard_domain::validity::{review_status, ReviewPolicy, ReviewStatus};
use ecard_sync_protocol::events::{EventBody, ReviewRecorded};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Deserialize)]
pub struct ReviewRequest {
    pub certificate_id: i64,
    /// Defaults to the review being worked on (`ReviewPolicy::campaign_year`), or
    /// the issue year when the certificate was issued after it.
    pub year: Option<u16>,
    pub result: ReviewResult,
    pub remark: Option<String>,
    /// The reader holding the card; `None` records the review only.
    pub reader: Option<String>,
}

impl Station {
    pub async fn review(&self, actor: &str, req: &ReviewRequest) -> Result<Review, OpError> {
        let today = self.today();
        let cert = self
            .store
            .read(|c| store::certificate(c, req.certificate_id))?;
        // By default the review being worked on (named by the year it covers), or
        // the issue year for a certificate issued after it (its first review).
        let year = req.year.unwrap_or_else(|| {
            let campaign = self.config.review_policy.campaign_year(today);
            let issued = chrono::Datelike::year(&cert.certificate.issue_date);
            u16::try_from(campaign.max(issued)).unwrap_or(u16::MAX)
        });
        if cert.state != CertificateState::Issued {
            return Err(OpError::Conflict(Conflict::NotReviewable {
                number: cert.certificate.number,
                state: cert.state,
            }));
        }
        // Only issue year ..= this year exist; the verifier would not count another.
        ecard_domain::validity::check_review_year(
            Some(cert.certificate.issue_date),
            i32::from(year),
            today,
        )
        .map_err(|error| OpError::Conflict(Conflict::ReviewYear { error }))?;
        let live = self
            .store
            .read(|c| store::cards_of_certificate(c, req.certificate_id))?
            .into_iter()
            .find(|c| c.state == CardState::Live)
            .ok_or_else(|| {
                OpError::Conflict(Conflict::NoLiveCard {
                    number: cert.certificate.number.clone(),
                })
            })?;
        let serial_bytes: [u8; 8] = hex::decode(&live.serial)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| OpError::Invalid(Invalid::StoredSerial))?;
        if let Some(reader) = &req.reader {
            // Before anything is recorded: keys to sign with, and this certificate's
            // card in the reader.
            self.keys()?;
            let expected = [KnownCard::from(&live)];
            let suite = self.suite();
            self.readers
                .run(reader, move |chan| {
                    select_known(&mut Link::new(chan), suite, &expected)
                })
                .await??;
        }
        // A review recorded earlier whose card write failed (card pulled): written to
        // the card now, as recorded, instead of refused as a second review.
        let pending = match &req.reader {
            Some(_) => self
                .store
                .read(|c| store::unwritten_review(c, req.certificate_id, year, serial_bytes))?,
            None => None,
        };
        let (review_id, review) = match pending {
            Some(p) => p,
            None => {
                let review = Review {
                    year,
                    date: today,
                    result: req.result,
                    reviewer: self.config.bureau_name.clone(),
                    serial: serial_bytes,
                    remark: req.remark.clone().filter(|r| !r.trim().is_empty()),
                };
                let number = cert.certificate.number.clone();
                let id = self.store.write(actor, |tx| {
                    record_review_in(tx, &number, req.certificate_id, &review)
                })?;
                (id, review)
            }
        };
        if let Some(reader) = &req.reader {
            let station = self.clone();
            let card_review = review.clone();
            let expected = [KnownCard::from(&live)];
            let suite = self.suite();
            self.readers
                .run(reader, move |chan| {
                    let mut link = Link::new(chan);
                    select_known(&mut link, suite, &expected)?;
                    sequences::append_review(
                        &mut link,
                        &card_review,
                        &station.keys()?.master,
                        &station.keys()?.signer,
                    )?;
                    Ok::<(), OpError>(())
                })
                .await??;
            self.store.write(actor, |tx| {
                store::review_written(tx, review_id, year, &live.serial)
            })?;
        }
        Ok(review)
    }
}

/// The review row with its audit and outbox rows, inside the caller's transaction:
/// the one recording of a review, whether one certificate or a unit's schedule.
fn record_review_in(
    tx: &mut store::Tx<'_>,
    number: &ecard_sync_protocol::events::CertificateNumber,
    certificate_id: i64,
    review: &Review,
) -> store::Result<i64> {
    let year = review.year;
    let id = store::insert_review(tx, certificate_id, review)?;
    tx.audit(
        "review.recorded",
        number,
        json!({ "year": year, "result": review.result }),
    )?;
    tx.outbox(&EventBody::ReviewRecorded(ReviewRecorded {
        number: ecard_domain::numbering::CertificateNumber::parse(number)
            .map_err(store::StoreError::from)?,
        year,
        date: review.date,
        result: review.result,
        remark: review.remark.clone(),
    }))?;
    Ok(id)
}

/// One line of a year's review schedule: a certificate the year's review covers and
/// where it stands.
#[derive(Debug, Clone)]
pub struct ScheduleItem {
    pub subject: store::ReviewSubject,
    pub status: ReviewStatus,
}

/// A year's review schedule, perhaps of one unit.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub year: i32,
    /// Every unit on the year's schedule (not only the one filtered on), sorted: what
    /// a person chooses the filter from.
    pub units: Vec<String>,
    pub items: Vec<ScheduleItem>,
}

/// Marks a whole unit's schedule at once (`POST /reviews/unit`).
#[derive(Debug, Clone, Deserialize)]
pub struct UnitReviewRequest {
    /// The unit exactly as on the schedule (`Schedule::units`).
    pub unit: String,
    /// Defaults to the review being worked on, as the schedule does.
    pub year: Option<i32>,
}

/// A certificate marked reviewed by [`Station::review_unit`].
#[derive(Debug, Clone, Serialize)]
pub struct UnitReviewed {
    pub certificate_id: i64,
    pub number: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitReview {
    pub unit: String,
    pub year: i32,
    pub date: NaiveDate,
    pub reviewer: String,
    /// Recorded only: each card learns its review when next presented.
    pub recorded: Vec<UnitReviewed>,
}

/// The year's schedule as the store holds it: certificates issued in the year or
/// before (the others are exempt), with their passed review of the year if any.
fn schedule_in(
    conn: &rusqlite::Connection,
    year: i32,
    today: NaiveDate,
    policy: &ReviewPolicy,
) -> store::Result<Vec<ScheduleItem>> {
    Ok(store::review_subjects(conn, year)?
        .into_iter()
        .map(|subject| {
            let status =
                review_status(subject.issue_date, year, subject.reviewed_on, today, policy);
            ScheduleItem { subject, status }
        })
        .filter(|i| i.status != ReviewStatus::Exempt)
        .collect())
}

/// The certificates of `unit` a passed review of `year` can be recorded for now:
/// on the schedule and not reviewed, in use (a suspended one is not reviewable),
/// with a card in use (its serial well formed), and no review of the year on record at all (a failed one
/// included: it is not overwritten by a unit's mark).
fn due_of_unit(
    conn: &rusqlite::Connection,
    unit: &str,
    year: i32,
    today: NaiveDate,
    policy: &ReviewPolicy,
) -> store::Result<Vec<(store::CertificateRow, String, [u8; 8])>> {
    let mut due = Vec::new();
    for item in schedule_in(conn, year, today, policy)? {
        let s = &item.subject;
        if s.unit != unit
            || !matches!(
                item.status,
                ReviewStatus::Due { .. } | ReviewStatus::Overdue { .. }
            )
        {
            continue;
        }
        let cert = store::certificate(conn, s.certificate_id)?;
        if cert.state != CertificateState::Issued {
            continue;
        }
        // The review names the card in use, as a single review does.
        let live_serial = store::cards_of_certificate(conn, s.certificate_id)?
            .into_iter()
            .find(|c| c.state == CardState::Live)
            .and_then(|c| hex::decode(&c.serial).ok())
            .and_then(|b| <[u8; 8]>::try_from(b).ok());
        let reviewed = store::reviews_of(conn, s.certificate_id)?
            .iter()
            .any(|r| r.year == i64::from(year));
        if let (Some(serial), false) = (live_serial, reviewed) {
            due.push((cert, s.name.clone(), serial));
        }
    }
    Ok(due)
}

impl Station {
    /// The review year asked for, or the one being worked on (the 2026 review
    /// until its deadline, 31 March 2027).
    fn schedule_year(&self, year: Option<i32>) -> Result<i32, OpError> {
        let year = year.unwrap_or(self.config.review_policy.campaign_year(self.today()));
        if !(2000..=2100).contains(&year) {
            return Err(OpError::Invalid(Invalid::ScheduleYear));
        }
        Ok(year)
    }

    /// The year's review schedule; with `unit`, only that unit's certificates.
    pub fn review_schedule(
        &self,
        year: Option<i32>,
        unit: Option<&str>,
    ) -> Result<Schedule, OpError> {
        let year = self.schedule_year(year)?;
        let today = self.today();
        let policy = self.config.review_policy;
        let all = self.store.read(|c| schedule_in(c, year, today, &policy))?;
        let mut units: Vec<String> = all.iter().map(|i| i.subject.unit.clone()).collect();
        units.sort();
        units.dedup();
        let unit = unit.map(str::trim).filter(|u| !u.is_empty());
        let items = all
            .into_iter()
            .filter(|i| unit.is_none_or(|u| i.subject.unit == u))
            .collect();
        Ok(Schedule { year, units, items })
    }

    /// Records a passed review of the year, dated today and signed by this station's
    /// bureau, for every certificate of the unit still due, in one transaction with
    /// an audit and outbox row each. Records only, as a single review without a
    /// reader: each card is written when next presented. Refused when nothing of the
    /// unit is due, so a second click changes nothing.
    pub fn review_unit(&self, actor: &str, req: &UnitReviewRequest) -> Result<UnitReview, OpError> {
        let unit = req.unit.trim();
        if unit.is_empty() {
            return Err(OpError::Invalid(Invalid::UnitMissing));
        }
        let year = self.schedule_year(req.year)?;
        let today = self.today();
        ecard_domain::validity::check_review_year(None, year, today)
            .map_err(|error| OpError::Conflict(Conflict::ReviewYear { error }))?;
        let review_year =
            u16::try_from(year).map_err(|_| OpError::Invalid(Invalid::ScheduleYear))?;
        let policy = self.config.review_policy;
        let reviewer = self.config.bureau_name.clone();
        // Chosen inside the writing transaction: a review recorded meanwhile by
        // another operator is seen, not clashed with.
        let recorded = self.store.write(actor, |tx| {
            let due = due_of_unit(tx.conn(), unit, year, today, &policy)?;
            let mut recorded = Vec::with_capacity(due.len());
            for (cert, name, serial) in due {
                let review = Review {
                    year: review_year,
                    date: today,
                    result: ReviewResult::Passed,
                    reviewer: reviewer.clone(),
                    serial,
                    remark: None,
                };
                record_review_in(tx, &cert.certificate.number, cert.id, &review)?;
                recorded.push(UnitReviewed {
                    certificate_id: cert.id,
                    number: cert.certificate.number.to_string(),
                    name,
                });
            }
            Ok(recorded)
        })?;
        if recorded.is_empty() {
            return Err(OpError::Conflict(Conflict::NothingDue {
                unit: unit.to_owned(),
                year,
            }));
        }
        Ok(UnitReview {
            unit: unit.to_owned(),
            year,
            date: today,
            reviewer,
            recorded,
        })
    }
}

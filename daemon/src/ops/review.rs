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
use ecard_sync_protocol::events::{EventBody, ReviewRecorded};
use serde::Deserialize;
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
            self.readers
                .run(reader, move |chan| {
                    select_known(&mut Link::new(chan), &expected)
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
                let id = self.record_review(actor, &cert, req.certificate_id, &review)?;
                (id, review)
            }
        };
        if let Some(reader) = &req.reader {
            let station = self.clone();
            let card_review = review.clone();
            let expected = [KnownCard::from(&live)];
            self.readers
                .run(reader, move |chan| {
                    let mut link = Link::new(chan);
                    select_known(&mut link, &expected)?;
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

impl Station {
    /// The review row with its audit and outbox rows, in one transaction.
    fn record_review(
        &self,
        actor: &str,
        cert: &store::CertificateRow,
        certificate_id: i64,
        review: &Review,
    ) -> Result<i64, OpError> {
        let year = review.year;
        Ok(self.store.write(actor, |tx| {
            let id = store::insert_review(tx, certificate_id, review)?;
            tx.audit(
                "review.recorded",
                &cert.certificate.number,
                json!({ "year": year, "result": review.result }),
            )?;
            tx.outbox(&EventBody::ReviewRecorded(ReviewRecorded {
                number: cert.certificate.number.clone(),
                year,
                date: review.date,
                result: review.result,
                remark: review.remark.clone(),
            }))?;
            Ok(id)
        })?)
    }
}

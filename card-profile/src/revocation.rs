//! The verifier's view of the revocation list: a lookup by card serial and by
//! certificate number. The registry's signed list (issue #6) feeds it; the station
//! keeps it locally so that verification works offline.

use crate::keys::Serial;
use crate::verdict::RecordedReview;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub reason: String,
    pub since: NaiveDate,
}

pub trait RevocationLookup {
    fn lookup(&self, serial: &Serial, certificate_number: &str) -> Option<Revocation>;

    /// A suspension (暂停执法) in force for this certificate according to the
    /// verifier's records. A card is often not at hand when its holder is suspended,
    /// so its own EF.STATUS still says active; the verdict must not.
    fn suspension(&self, _certificate_number: &str) -> Option<Revocation> {
        None
    }

    /// The highest EF.STATUS sequence number the verifier has seen (or written) for
    /// this card. A card whose status record is older than that had an old signed
    /// record put back (e.g. "active" over a suspension): the verdict fails.
    fn highest_status_sequence(&self, _serial: &Serial) -> Option<u32> {
        None
    }

    /// Annual reviews of this certificate the verifier's records hold that the card
    /// may not carry yet (recorded at the station without the card at hand). The
    /// field check counts them beside the card's own and says which it counted.
    fn recorded_reviews(&self, _certificate_number: &str) -> Vec<RecordedReview> {
        Vec::new()
    }
}

/// An in-memory revocation list, hashed both ways: a lookup is two hash probes.
#[derive(Debug, Clone, Default)]
pub struct RevocationSet {
    by_serial: HashMap<Serial, Revocation>,
    by_number: HashMap<String, Revocation>,
    /// Suspensions in force, by certificate number (reversible, so not revocations).
    suspended: HashMap<String, Revocation>,
    /// The highest status sequence seen per card.
    status_sequences: HashMap<Serial, u32>,
}

impl RevocationSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn revoke_serial(&mut self, serial: Serial, revocation: Revocation) {
        self.by_serial.insert(serial, revocation);
    }

    pub fn revoke_number(&mut self, number: impl Into<String>, revocation: Revocation) {
        self.by_number.insert(number.into(), revocation);
    }

    pub fn suspend_number(&mut self, number: impl Into<String>, suspension: Revocation) {
        self.suspended.insert(number.into(), suspension);
    }

    /// Notes a status sequence seen for `serial`; the highest one is kept.
    pub fn note_status_sequence(&mut self, serial: Serial, sequence: u32) {
        let seen = self.status_sequences.entry(serial).or_insert(sequence);
        *seen = (*seen).max(sequence);
    }

    /// Revocations held (suspensions are not counted).
    pub fn len(&self) -> usize {
        self.by_serial.len() + self.by_number.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RevocationLookup for RevocationSet {
    fn lookup(&self, serial: &Serial, certificate_number: &str) -> Option<Revocation> {
        self.by_serial
            .get(serial)
            .or_else(|| self.by_number.get(certificate_number))
            .cloned()
    }

    fn suspension(&self, certificate_number: &str) -> Option<Revocation> {
        self.suspended.get(certificate_number).cloned()
    }

    fn highest_status_sequence(&self, serial: &Serial) -> Option<u32> {
        self.status_sequences.get(serial).copied()
    }
}

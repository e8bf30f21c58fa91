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

/// A revocation as the set keeps it: its date and its reason as an index into the
/// set's reasons (a long list repeats a handful of reason codes; one `String` per
/// entry was most of the old set's memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meta {
    since: NaiveDate,
    reason: u32,
}

/// A certificate number in the set: where its bytes are in `number_bytes`.
#[derive(Debug, Clone, Copy)]
struct NumberRow {
    start: u32,
    len: u32,
    meta: Meta,
}

/// An in-memory revocation list: sorted rows, looked up by binary search.
///
/// A station holds the province's whole list (issue #15 measured 1,000,000
/// entries). Each card serial costs 16 bytes (`[u8; 8]` and date and reason
/// index), each certificate number 16 bytes plus its own bytes, kept together in
/// one buffer; reasons are interned (25 bytes per entry measured in ecardd,
/// docs/PERFORMANCE.md). The hashed set this replaced cost ~150 bytes per entry
/// (`HashMap` buckets rounded up to a power of two, and a heap string for every
/// reason and every number). A lookup is ~20 comparisons, once per field check.
///
/// Build a long list with [`RevocationSetBuilder`] (one sort at the end); the
/// `revoke_*` methods insert in place and suit a few entries (tests, one change).
/// Either way a key given twice keeps the last revocation given, as a map would.
#[derive(Debug, Clone, Default)]
pub struct RevocationSet {
    /// Sorted by serial, one row per serial.
    serials: Vec<(Serial, Meta)>,
    /// Sorted by the number's bytes, one row per number.
    numbers: Vec<NumberRow>,
    /// The numbers' bytes, back to back (`NumberRow::start`, `len`).
    number_bytes: String,
    /// Numbers that did not fit `number_bytes`' 32-bit offsets (4 GiB of numbers:
    /// never in practice, but a lookup must not lose one).
    overflow: HashMap<String, Meta>,
    reasons: Reasons,
    /// Suspensions in force, by certificate number (reversible, so not revocations;
    /// a handful at a time).
    suspended: HashMap<String, Revocation>,
    /// The highest status sequence seen per card (one per card the station met).
    status_sequences: HashMap<Serial, u32>,
}

/// Reason texts, each kept once.
#[derive(Debug, Clone, Default)]
struct Reasons {
    texts: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Reasons {
    fn intern(&mut self, reason: &str) -> u32 {
        if let Some(&id) = self.ids.get(reason) {
            return id;
        }
        // More than 4 billion distinct reasons cannot come from a list that fits
        // in memory; saturating keeps this total without a panic.
        let id = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.texts.push(reason.to_owned());
        self.ids.insert(reason.to_owned(), id);
        id
    }

    fn text(&self, id: u32) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.texts.get(i))
            .map_or("", String::as_str)
    }
}

impl RevocationSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn revoke_serial(&mut self, serial: Serial, revocation: Revocation) {
        let meta = self.meta(&revocation.reason, revocation.since);
        match self.serials.binary_search_by(|(s, _)| s.cmp(&serial)) {
            Ok(i) => {
                if let Some(row) = self.serials.get_mut(i) {
                    row.1 = meta;
                }
            }
            Err(i) => self.serials.insert(i, (serial, meta)),
        }
    }

    pub fn revoke_number(&mut self, number: impl Into<String>, revocation: Revocation) {
        let number = number.into();
        let meta = self.meta(&revocation.reason, revocation.since);
        if let Some(m) = self.overflow.get_mut(&number) {
            *m = meta;
            return;
        }
        match self.find_number(&number) {
            Ok(i) => {
                if let Some(row) = self.numbers.get_mut(i) {
                    row.meta = meta;
                }
            }
            Err(i) => match self.push_number_bytes(&number, meta) {
                Some(row) => self.numbers.insert(i, row),
                None => {
                    self.overflow.insert(number, meta);
                }
            },
        }
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
        self.serials.len() + self.numbers.len() + self.overflow.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// About how many bytes the revocations occupy on the heap (rows, number
    /// bytes, reasons; not the allocator's own overhead): what the benches report
    /// beside the process's RSS.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.serials.capacity() * size_of::<(Serial, Meta)>()
            + self.numbers.capacity() * size_of::<NumberRow>()
            + self.number_bytes.capacity()
            + self
                .reasons
                .texts
                .iter()
                .map(|t| 2 * t.capacity())
                .sum::<usize>()
    }

    fn meta(&mut self, reason: &str, since: NaiveDate) -> Meta {
        Meta {
            since,
            reason: self.reasons.intern(reason),
        }
    }

    fn revocation(&self, meta: Meta) -> Revocation {
        Revocation {
            reason: self.reasons.text(meta.reason).to_owned(),
            since: meta.since,
        }
    }

    fn number_text(&self, row: &NumberRow) -> &str {
        let start = row.start as usize;
        self.number_bytes
            .get(start..start + row.len as usize)
            .unwrap_or_default()
    }

    fn find_number(&self, number: &str) -> Result<usize, usize> {
        self.numbers
            .binary_search_by(|row| self.number_text(row).cmp(number))
    }

    /// Appends `number`'s bytes; `None` once they no longer fit 32-bit offsets.
    fn push_number_bytes(&mut self, number: &str, meta: Meta) -> Option<NumberRow> {
        let start = u32::try_from(self.number_bytes.len()).ok()?;
        let len = u32::try_from(number.len()).ok()?;
        start.checked_add(len)?;
        self.number_bytes.push_str(number);
        Some(NumberRow { start, len, meta })
    }
}

impl RevocationLookup for RevocationSet {
    fn lookup(&self, serial: &Serial, certificate_number: &str) -> Option<Revocation> {
        let by_serial = self
            .serials
            .binary_search_by(|(s, _)| s.cmp(serial))
            .ok()
            .and_then(|i| self.serials.get(i))
            .map(|(_, meta)| *meta);
        let meta = by_serial.or_else(|| {
            self.find_number(certificate_number)
                .ok()
                .and_then(|i| self.numbers.get(i))
                .map(|row| row.meta)
                .or_else(|| self.overflow.get(certificate_number).copied())
        })?;
        Some(self.revocation(meta))
    }

    fn suspension(&self, certificate_number: &str) -> Option<Revocation> {
        self.suspended.get(certificate_number).cloned()
    }

    fn highest_status_sequence(&self, serial: &Serial) -> Option<u32> {
        self.status_sequences.get(serial).copied()
    }
}

/// Builds a [`RevocationSet`] from many entries: rows are appended as given and
/// sorted once in [`build`](Self::build), so a list of a million entries is
/// O(n log n) and its rows are allocated once at the size asked for.
#[derive(Debug, Default)]
pub struct RevocationSetBuilder {
    set: RevocationSet,
}

impl RevocationSetBuilder {
    /// Room for this many serial and number entries (a count from the store), so
    /// the rows are not reallocated while growing.
    pub fn with_capacity(serials: usize, numbers: usize) -> Self {
        let mut set = RevocationSet::new();
        set.serials.reserve_exact(serials);
        set.numbers.reserve_exact(numbers);
        Self { set }
    }

    pub fn revoke_serial(&mut self, serial: Serial, reason: &str, since: NaiveDate) {
        let meta = self.set.meta(reason, since);
        self.set.serials.push((serial, meta));
    }

    pub fn revoke_number(&mut self, number: &str, reason: &str, since: NaiveDate) {
        let meta = self.set.meta(reason, since);
        match self.set.push_number_bytes(number, meta) {
            Some(row) => self.set.numbers.push(row),
            None => {
                self.set.overflow.insert(number.to_owned(), meta);
            }
        }
    }

    pub fn suspend_number(&mut self, number: impl Into<String>, suspension: Revocation) {
        self.set.suspend_number(number, suspension);
    }

    pub fn note_status_sequence(&mut self, serial: Serial, sequence: u32) {
        self.set.note_status_sequence(serial, sequence);
    }

    /// Sorts the rows; a key given twice keeps its last revocation.
    pub fn build(self) -> RevocationSet {
        let mut set = self.set;
        // Stable sorts keep the order given among equal keys, so the last of a
        // run is the last given; `dedup_by` hands (later, kept) and drops later.
        set.serials.sort_by_key(|a| a.0);
        set.serials.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = later.1;
            }
            same
        });
        let bytes = std::mem::take(&mut set.number_bytes);
        let text = |row: &NumberRow| {
            let start = row.start as usize;
            bytes
                .get(start..start + row.len as usize)
                .unwrap_or_default()
        };
        set.numbers.sort_by(|a, b| text(a).cmp(text(b)));
        set.numbers.dedup_by(|later, kept| {
            let same = text(later) == text(kept);
            if same {
                kept.meta = later.meta;
            }
            same
        });
        set.number_bytes = bytes;
        set.serials.shrink_to_fit();
        set.numbers.shrink_to_fit();
        set.number_bytes.shrink_to_fit();
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).unwrap_or_default()
    }

    fn rev(reason: &str, d: u32) -> Revocation {
        Revocation {
            reason: reason.into(),
            since: day(d),
        }
    }

    #[test]
    fn a_serial_or_a_number_on_the_list_is_found_and_nothing_else() {
        let mut b = RevocationSetBuilder::with_capacity(2, 2);
        b.revoke_serial([9; 8], "cancelled", day(3));
        b.revoke_serial([1; 8], "card_voided.verification_failed", day(4));
        b.revoke_number("川A020001", "cancelled", day(5));
        b.revoke_number("川A010001", "注销", day(6));
        let set = b.build();
        assert_eq!(set.len(), 4);
        assert_eq!(
            set.lookup(&[1; 8], "other"),
            Some(rev("card_voided.verification_failed", 4))
        );
        assert_eq!(set.lookup(&[2; 8], "川A010001"), Some(rev("注销", 6)));
        assert_eq!(
            set.lookup(&[2; 8], "川A01000"),
            None,
            "a prefix is not the number"
        );
        assert_eq!(set.lookup(&[2; 8], "川A0100011"), None);
        assert_eq!(set.lookup(&[2; 8], ""), None);
        // The serial is asked first: a card revoked by serial says so.
        assert_eq!(set.lookup(&[9; 8], "川A010001"), Some(rev("cancelled", 3)));
    }

    #[test]
    fn a_key_given_twice_keeps_the_last_revocation() {
        let mut b = RevocationSetBuilder::default();
        b.revoke_serial([7; 8], "first", day(1));
        b.revoke_number("川A1", "first", day(1));
        b.revoke_serial([7; 8], "second", day(2));
        b.revoke_number("川A1", "second", day(2));
        let mut set = b.build();
        assert_eq!(set.len(), 2);
        assert_eq!(set.lookup(&[7; 8], ""), Some(rev("second", 2)));
        assert_eq!(set.lookup(&[0; 8], "川A1"), Some(rev("second", 2)));
        set.revoke_serial([7; 8], rev("third", 3));
        set.revoke_number("川A1", rev("third", 3));
        assert_eq!(set.len(), 2);
        assert_eq!(set.lookup(&[7; 8], ""), Some(rev("third", 3)));
        assert_eq!(set.lookup(&[0; 8], "川A1"), Some(rev("third", 3)));
    }

    #[test]
    fn suspensions_and_sequences_are_not_revocations() {
        let mut set = RevocationSet::new();
        set.suspend_number("川A1", rev("立案调查", 1));
        set.note_status_sequence([3; 8], 5);
        set.note_status_sequence([3; 8], 2);
        assert!(set.is_empty());
        assert_eq!(set.lookup(&[3; 8], "川A1"), None);
        assert_eq!(set.suspension("川A1"), Some(rev("立案调查", 1)));
        assert_eq!(set.highest_status_sequence(&[3; 8]), Some(5));
    }

    #[derive(Debug, Clone)]
    enum Entry {
        Serial([u8; 8], u8, u32),
        Number(String, u8, u32),
    }

    fn entry() -> impl Strategy<Value = Entry> {
        // Few distinct keys and reasons, so repeats and shared reasons are common.
        let serial = (0u8..6).prop_map(|b| [b, 0, 0, 0, 0, 0, 0, b]);
        let number = "[川A0-9]{0,4}";
        prop_oneof![
            (serial, 0u8..3, 1u32..28).prop_map(|(s, r, d)| Entry::Serial(s, r, d)),
            (number, 0u8..3, 1u32..28).prop_map(|(n, r, d)| Entry::Number(n, r, d)),
        ]
    }

    proptest! {
        /// Built in one go or entry by entry, the set answers as a map that keeps
        /// the last revocation per key.
        #[test]
        fn the_set_answers_as_a_map_would(entries in proptest::collection::vec(entry(), 0..40),
                                         probes in proptest::collection::vec(entry(), 0..20)) {
            let mut serials = HashMap::new();
            let mut numbers = HashMap::new();
            let mut built = RevocationSetBuilder::default();
            let mut inserted = RevocationSet::new();
            for e in &entries {
                match e {
                    Entry::Serial(s, r, d) => {
                        let r = format!("r{r}");
                        built.revoke_serial(*s, &r, day(*d));
                        inserted.revoke_serial(*s, rev(&r, *d));
                        serials.insert(*s, rev(&r, *d));
                    }
                    Entry::Number(n, r, d) => {
                        let r = format!("r{r}");
                        built.revoke_number(n, &r, day(*d));
                        inserted.revoke_number(n.clone(), rev(&r, *d));
                        numbers.insert(n.clone(), rev(&r, *d));
                    }
                }
            }
            let built = built.build();
            prop_assert_eq!(built.len(), serials.len() + numbers.len());
            prop_assert_eq!(inserted.len(), serials.len() + numbers.len());
            for p in probes.iter().chain(&entries) {
                let (s, n) = match p {
                    Entry::Serial(s, ..) => (*s, String::new()),
                    Entry::Number(n, ..) => ([0xFF; 8], n.clone()),
                };
                let want = serials.get(&s).or_else(|| numbers.get(&n)).cloned();
                prop_assert_eq!(built.lookup(&s, &n), want.clone());
                prop_assert_eq!(inserted.lookup(&s, &n), want);
            }
        }
    }
}

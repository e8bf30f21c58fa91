//! A compact lookup over a verified revocation list: sorted vectors of fixed-size
//! keys searched by binary search (a million serials take ~12 MB and a lookup is
//! ~20 comparisons), with reasons interned so a million entries do not carry a
//! million strings. Implements `card_profile::revocation::RevocationLookup`, so the
//! verifier can use it directly.

use crate::revocation::{EntryKind, ListKind, RevocationEntry, RevocationList};
use crate::ProtocolError;
use card_profile::keys::Serial;
use card_profile::revocation::{Revocation, RevocationLookup};
use chrono::NaiveDate;
use std::collections::HashMap;

/// Numbers up to this many bytes are kept inline (Sichuan numbers are ≤ 12 bytes);
/// longer ones go to a small map.
const NUMBER_KEY_LEN: usize = 24;
type NumberKey = [u8; NUMBER_KEY_LEN];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meta {
    since: NaiveDate,
    reason: u32,
}

#[derive(Debug, Clone, Default)]
pub struct RevocationIndex {
    number: u64,
    issued_at: String,
    serials: Vec<(Serial, Meta)>,
    numbers: Vec<(NumberKey, Meta)>,
    long_numbers: HashMap<String, Meta>,
    reasons: Vec<String>,
    reason_ids: HashMap<String, u32>,
}

fn serial_key(hex_serial: &str) -> Option<Serial> {
    let mut out = Serial::default();
    hex::decode_to_slice(hex_serial, &mut out).ok()?;
    Some(out)
}

fn number_key(number: &str) -> Option<NumberKey> {
    let b = number.as_bytes();
    // Numbers never contain NUL (check_number refuses control characters), so
    // zero padding cannot make two different numbers equal.
    if b.len() > NUMBER_KEY_LEN {
        return None;
    }
    let mut k = [0u8; NUMBER_KEY_LEN];
    k[..b.len()].copy_from_slice(b);
    Some(k)
}

impl RevocationIndex {
    /// An empty index at list number 0 (a station that never synced).
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the index from a verified full list.
    pub fn from_full(list: &RevocationList) -> Result<Self, ProtocolError> {
        if list.kind != ListKind::Full {
            return Err(ProtocolError::ListKind { expected: "full" });
        }
        let mut idx = Self::new();
        idx.merge(&list.entries);
        idx.number = list.number;
        idx.issued_at = list.issued_at.clone();
        Ok(idx)
    }

    /// Applies a verified delta whose base is this index's number; returns how many
    /// keys were new. A delta for another base is refused (fetch the full list).
    pub fn apply_delta(&mut self, delta: &RevocationList) -> Result<usize, ProtocolError> {
        let base = match (delta.kind, delta.base) {
            (ListKind::Delta, Some(b)) => b,
            _ => return Err(ProtocolError::ListKind { expected: "delta" }),
        };
        if base != self.number {
            return Err(ProtocolError::DeltaBase {
                base,
                have: self.number,
            });
        }
        let before = self.len();
        self.merge(&delta.entries);
        self.number = delta.number;
        self.issued_at = delta.issued_at.clone();
        Ok(self.len() - before)
    }

    /// Merges entries: sort the new keys, then one linear merge with the old ones
    /// (O(n + k log k)); an already revoked key keeps its first date and reason.
    fn merge(&mut self, entries: &[RevocationEntry]) {
        let mut serials = Vec::new();
        let mut numbers = Vec::new();
        for e in entries {
            let meta = Meta {
                since: e.since,
                reason: self.intern(&e.reason),
            };
            match e.kind {
                EntryKind::Serial => {
                    if let Some(k) = serial_key(&e.value) {
                        serials.push((k, meta));
                    }
                }
                EntryKind::Number => match number_key(&e.value) {
                    Some(k) => numbers.push((k, meta)),
                    None => {
                        self.long_numbers.entry(e.value.clone()).or_insert(meta);
                    }
                },
            }
        }
        self.serials = merge_sorted(std::mem::take(&mut self.serials), serials);
        self.numbers = merge_sorted(std::mem::take(&mut self.numbers), numbers);
    }

    fn intern(&mut self, reason: &str) -> u32 {
        if let Some(id) = self.reason_ids.get(reason) {
            return *id;
        }
        let id = self.reasons.len() as u32;
        self.reasons.push(reason.to_owned());
        self.reason_ids.insert(reason.to_owned(), id);
        id
    }

    fn revocation(&self, meta: Meta) -> Revocation {
        Revocation {
            reason: self
                .reasons
                .get(meta.reason as usize)
                .cloned()
                .unwrap_or_default(),
            since: meta.since,
        }
    }

    pub fn is_serial_revoked(&self, serial: &Serial) -> bool {
        self.serials
            .binary_search_by(|(k, _)| k.cmp(serial))
            .is_ok()
    }

    pub fn is_number_revoked(&self, number: &str) -> bool {
        match number_key(number) {
            Some(k) => self.numbers.binary_search_by(|(n, _)| n.cmp(&k)).is_ok(),
            None => self.long_numbers.contains_key(number),
        }
    }

    /// The list number this index reflects (0: never loaded).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// When the registry signed the list this index reflects.
    pub fn issued_at(&self) -> &str {
        &self.issued_at
    }

    pub fn len(&self) -> usize {
        self.serials.len() + self.numbers.len() + self.long_numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn merge_sorted<K: Ord + Copy>(old: Vec<(K, Meta)>, mut new: Vec<(K, Meta)>) -> Vec<(K, Meta)> {
    // Stable sort + dedup keeps the first occurrence of a key within the delta.
    new.sort_by_key(|e| e.0);
    new.dedup_by(|b, a| a.0 == b.0);
    let mut out = Vec::with_capacity(old.len() + new.len());
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < new.len() {
        match old[i].0.cmp(&new[j].0) {
            std::cmp::Ordering::Less => {
                out.push(old[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(new[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(old[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&old[i..]);
    out.extend_from_slice(&new[j..]);
    out
}

impl RevocationLookup for RevocationIndex {
    fn lookup(&self, serial: &Serial, certificate_number: &str) -> Option<Revocation> {
        if let Ok(i) = self.serials.binary_search_by(|(k, _)| k.cmp(serial)) {
            return self.serials.get(i).map(|(_, m)| self.revocation(*m));
        }
        let meta = match number_key(certificate_number) {
            Some(k) => self
                .numbers
                .binary_search_by(|(n, _)| n.cmp(&k))
                .ok()
                .and_then(|i| self.numbers.get(i))
                .map(|(_, m)| *m),
            None => self.long_numbers.get(certificate_number).copied(),
        };
        meta.map(|m| self.revocation(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
    }

    fn e(kind: EntryKind, value: String, added_in: u64) -> RevocationEntry {
        RevocationEntry {
            kind,
            value,
            reason: "注销".into(),
            since: day(),
            added_in,
        }
    }

    #[test]
    fn full_then_delta() {
        let full = RevocationList::full(
            1,
            "t1",
            vec![
                e(EntryKind::Serial, "00112233AABBCCDD".into(), 1),
                e(EntryKind::Number, "川X010001".into(), 1),
            ],
        );
        let mut idx = RevocationIndex::from_full(&full).expect("full");
        assert!(idx.is_serial_revoked(&[0x00, 0x11, 0x22, 0x33, 0xAA, 0xBB, 0xCC, 0xDD]));
        assert!(idx.is_number_revoked("川X010001"));
        assert!(!idx.is_number_revoked("川X010002"));
        let long = "X".repeat(40);
        let delta = RevocationList::delta(
            1,
            2,
            "t2",
            vec![
                e(EntryKind::Number, "川X010002".into(), 2),
                e(EntryKind::Number, long.clone(), 2),
            ],
        );
        assert_eq!(idx.apply_delta(&delta), Ok(2));
        assert!(idx.is_number_revoked("川X010002"));
        assert!(idx.is_number_revoked(&long));
        assert_eq!(idx.number(), 2);
        // The same delta again no longer fits.
        assert_eq!(
            idx.apply_delta(&delta),
            Err(ProtocolError::DeltaBase { base: 1, have: 2 })
        );
        let r = idx.lookup(&[0; 8], "川X010002").expect("revoked");
        assert_eq!(r.reason, "注销");
    }

    proptest! {
        #[test]
        fn index_agrees_with_a_hash_set(
            a in proptest::collection::vec(any::<[u8; 8]>(), 0..60),
            b in proptest::collection::vec(any::<[u8; 8]>(), 0..60),
            probe in proptest::collection::vec(any::<[u8; 8]>(), 0..20),
        ) {
            let full = RevocationList::full(1, "t", a.iter().map(|s| e(EntryKind::Serial, hex::encode_upper(s), 1)).collect());
            let delta = RevocationList::delta(1, 2, "t", b.iter().map(|s| e(EntryKind::Serial, hex::encode_upper(s), 2)).collect());
            let mut idx = RevocationIndex::from_full(&full).expect("full");
            idx.apply_delta(&delta).expect("delta");
            let set: HashSet<[u8; 8]> = a.iter().chain(b.iter()).copied().collect();
            prop_assert_eq!(idx.len(), set.len());
            for s in a.iter().chain(b.iter()).chain(probe.iter()) {
                prop_assert_eq!(idx.is_serial_revoked(s), set.contains(s));
            }
        }
    }
}

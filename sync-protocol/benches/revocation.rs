//! Revocation-list benchmarks (docs/PERFORMANCE.md, "Registry and sync"):
//! a lookup in a 1,000,000-entry list (target < 1 µs) and a 10,000-entry signed
//! delta verified, parsed and applied to it (target < 1 s).
//!
//! `cargo bench -p ecard-sync-protocol --bench revocation`
#![allow(clippy::unwrap_used)]

use card_profile::revocation::RevocationLookup;
use chrono::NaiveDate;
use ecard_sync_protocol::index::RevocationIndex;
use ecard_sync_protocol::revocation::{EntryKind, RevocationEntry, RevocationList};
use ecard_sync_protocol::SigningKey;
use std::hint::black_box;
use std::time::Instant;

/// A cheap deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn entry(kind: EntryKind, value: String, added_in: u64) -> RevocationEntry {
    RevocationEntry {
        kind,
        value,
        reason: ["注销", "遗失作废", "换证"][(added_in % 3) as usize].into(),
        since: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        added_in,
    }
}

fn main() {
    const N: usize = 1_000_000;
    const DELTA: usize = 10_000;
    const LOOKUPS: usize = 2_000_000;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    // 900k serials + 100k certificate numbers, like a province after years of use.
    let mut serials = Vec::with_capacity(N);
    let mut entries = Vec::with_capacity(N);
    for i in 0..N {
        if i % 10 == 0 {
            entries.push(entry(
                EntryKind::Number,
                format!("川X{:02}{:02}{:04}", i % 97, i % 23, i % 9999),
                1,
            ));
        } else {
            let s = rng.next().to_be_bytes();
            serials.push(s);
            entries.push(entry(EntryKind::Serial, hex::encode_upper(s), 1));
        }
    }
    let full = RevocationList::full(1, "2026-11-23T00:00:00Z", entries);
    let t = Instant::now();
    let mut index = RevocationIndex::from_full(&full).unwrap();
    println!(
        "build index from {N}-entry list: {:.0} ms ({} keys)",
        t.elapsed().as_secs_f64() * 1e3,
        index.len()
    );
    drop(full);

    // Lookups: half present, half absent, in random order, through the verifier's trait.
    let probes: Vec<[u8; 8]> = (0..LOOKUPS)
        .map(|i| {
            if i % 2 == 0 {
                serials[(rng.next() % serials.len() as u64) as usize]
            } else {
                rng.next().to_be_bytes()
            }
        })
        .collect();
    let t = Instant::now();
    let mut hits = 0usize;
    for p in &probes {
        if black_box(&index)
            .lookup(black_box(p), black_box("川X99990001"))
            .is_some()
        {
            hits += 1;
        }
    }
    let per = t.elapsed().as_secs_f64() * 1e9 / LOOKUPS as f64;
    println!("lookup (serial + number) in {N}-entry list: {per:.0} ns per lookup over {LOOKUPS} lookups ({hits} hits)");
    let t = Instant::now();
    let mut hits = 0usize;
    for p in &probes {
        if black_box(&index).is_serial_revoked(black_box(p)) {
            hits += 1;
        }
    }
    let per = t.elapsed().as_secs_f64() * 1e9 / LOOKUPS as f64;
    println!("is_serial_revoked in {N}-entry list: {per:.0} ns per lookup ({hits} hits)");

    // A signed 10,000-entry delta: verify the signature, parse, merge.
    let key = SigningKey::generate().unwrap();
    let delta_entries = (0..DELTA)
        .map(|_| {
            entry(
                EntryKind::Serial,
                hex::encode_upper(rng.next().to_be_bytes()),
                2,
            )
        })
        .collect();
    let signed = RevocationList::delta(1, 2, "2026-11-24T00:00:00Z", delta_entries)
        .sign(&key)
        .unwrap();
    let wire = serde_json::to_vec(&signed).unwrap();
    let t = Instant::now();
    let decoded = ecard_sync_protocol::revocation::SignedRevocationList::decode(&wire).unwrap();
    let delta = decoded.verify(&key.public_key()).unwrap();
    let t_verify = t.elapsed();
    let added = index.apply_delta(&delta).unwrap();
    let total = t.elapsed();
    println!(
        "{DELTA}-entry delta ({} KiB) to the {N}-entry list: decode+verify+parse {:.1} ms, merge {:.1} ms, total {:.1} ms ({added} added)",
        wire.len() / 1024,
        t_verify.as_secs_f64() * 1e3,
        (total - t_verify).as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3
    );
}

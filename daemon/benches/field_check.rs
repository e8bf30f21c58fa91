//! A field check at a station that holds a long revocation list: the first check
//! after the list changed (the in-memory set is rebuilt from SQLite) and the checks
//! after it (the set is reused). In process, simulated reader, release build:
//!
//!     cargo bench -p ecardd --bench field_check -- [entries] [runs]
//!
//! Defaults: 100,000 entries (half serials, half numbers), 20 runs.
#![allow(clippy::unwrap_used)]

use ecardd::demo;
use ecardd::store;
use std::time::{Duration, Instant};

const READER: &str = demo::READERS[0];

fn stats(name: &str, runs: &[Duration]) {
    let ms: Vec<f64> = runs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    let max = ms.iter().cloned().fold(0.0, f64::max);
    println!(
        "{name}: mean {mean:.2} ms, max {max:.2} ms ({} runs)",
        ms.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let entries: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    // The bench's one clock (the system's unless ECARD_TODAY moves it).
    let clock = ecard_clock::Clock::from_env().unwrap();
    let today = clock.today();
    let d = demo::build(clock).unwrap();
    d.sim.insert_blank(READER).unwrap();
    d.station
        .issue("bench", d.approved[0], READER)
        .await
        .unwrap();

    let add = |from: u64, count: u64| {
        d.station
            .store
            .write("bench", |tx| {
                for i in from..from + count {
                    if i % 2 == 0 {
                        let serial = format!("{:016X}", 0xB000_0000_0000_0000u64 + i);
                        store::insert_revocation(
                            tx,
                            Some(&serial),
                            None,
                            "bench",
                            today,
                            "registry",
                        )?;
                    } else {
                        let number: ecard_sync_protocol::events::CertificateNumber =
                            format!("川Z{:08}", i)
                                .parse()
                                .expect("a well-formed number");
                        store::insert_revocation(
                            tx,
                            None,
                            Some(&number),
                            "bench",
                            today,
                            "registry",
                        )?;
                    }
                }
                Ok(())
            })
            .unwrap()
    };
    let t = Instant::now();
    add(0, entries);
    println!(
        "{entries} revocations stored in {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    let mut first = Vec::new();
    let mut cached = Vec::new();
    for run in 0..runs {
        // One more entry: the list generation moves, the next check rebuilds.
        add(entries + run as u64, 1);
        let t = Instant::now();
        let v = d.station.verify(READER).await.unwrap();
        first.push(t.elapsed());
        assert_eq!(ecardd::labels::standing_zh(v.verdict.standing), "有效");
        let t = Instant::now();
        d.station.verify(READER).await.unwrap();
        cached.push(t.elapsed());
    }
    let set = d.station.revocations().unwrap();
    println!(
        "the in-memory set: {} revocations, ~{:.1} MiB on the heap ({:.1} bytes each)",
        set.len(),
        set.heap_bytes() as f64 / (1024.0 * 1024.0),
        set.heap_bytes() as f64 / set.len().max(1) as f64
    );
    println!(
        "field check with {entries} revocations, simulated reader (card I/O ~1 ms in process):"
    );
    stats("  first check after the list changed (set rebuilt)", &first);
    stats("  next check (set reused)", &cached);
}

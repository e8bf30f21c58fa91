//! Personalization and verification through the real PC/SC stack (pcscd + vpcd +
//! ecard-sim), with what the same bytes would cost on a real reader.
//!
//!     cargo build --release -p card-sim && cargo run --release -p hardware-tests --bin bench-pcsc [-- ROUNDS [SUITE...]]
//!
//! SUITE is `p256` (the default) or `sm` (SM2/SM3/SM4, #17), or `piv`: the P-256
//! suite on a PIV card as sold (`ecard-sim --piv`, #13), issued with
//! `sequences::issue` (which reads the card back: its figures include one full
//! verification). Several run one after the other in the same process, so their
//! figures come from one run.
//!
//! For each transport mode it prints APDUs, bytes each way, the fewest APDUs that
//! could carry those bytes, the measured time per operation through pcscd, and the
//! time the bytes alone would take at 115.2 kbit/s (ISO 7816 T=1 after PPS, 11 etu
//! per byte) and 424 kbit/s (ISO 14443, 8 bits per byte, framing ignored).

use card_profile::channel::{Link, Traffic};
use card_profile::demo;
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, VerifyContext};
use card_profile::suite::Suite;
use card_profile::transport::CardChannel;
use card_profile::verdict::Standing;
use hardware_tests::{PcscHarness, SimSpec};
use std::time::{Duration, Instant};

struct Sample {
    traffic: Traffic,
    time: Duration,
}

fn report(label: &str, max_data: usize, max_ne: usize, samples: &[Sample]) {
    let n = samples.len() as u32;
    let t = samples[0].traffic;
    let mut times: Vec<Duration> = samples.iter().map(|s| s.time).collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / n;
    let median = times[times.len() / 2];
    // Fewest APDUs that could carry these bytes: every command carries at most
    // max_data bytes of data (+ header), every response at most max_ne (+ SW).
    let min_apdus = t
        .bytes_sent
        .div_ceil(max_data + 7)
        .max(t.bytes_received.div_ceil(max_ne + 2));
    let bytes = (t.bytes_sent + t.bytes_received) as f64;
    let contact_ms = bytes * 11.0 / 115_200.0 * 1000.0;
    let contactless_ms = bytes * 8.0 / 424_000.0 * 1000.0;
    println!(
        "{label:<34} apdus {:>3}  sent {:>6} B  received {:>6} B  min apdus {:>3}  \
         pcscd mean {:>7.1} ms median {:>7.1} ms  @115.2k {:>7.1} ms  @424k {:>6.1} ms",
        t.apdus,
        t.bytes_sent,
        t.bytes_received,
        min_apdus,
        mean.as_secs_f64() * 1000.0,
        median.as_secs_f64() * 1000.0,
        contact_ms,
        contactless_ms
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The harness finds ecard-sim beside test executables; a bench binary sits one
    // level higher, next to ecard-sim itself (build it: cargo build --release -p card-sim).
    if std::env::var_os("ECARD_SIM_BIN").is_none() {
        if let Some(sim) = std::env::current_exe()?
            .parent()
            .map(|d| d.join("ecard-sim"))
        {
            std::env::set_var("ECARD_SIM_BIN", sim);
        }
    }
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let words: Vec<String> = std::env::args().skip(2).collect();
    let piv = words.iter().any(|w| w == "piv");
    let suites: Vec<Suite> = words
        .iter()
        .filter(|w| *w != "piv")
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let suites = if suites.is_empty() && !piv {
        vec![Suite::P256]
    } else {
        suites
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).ok_or("date")?;
    let data =
        demo::officers(chrono::NaiveDate::from_ymd_opt(2026, 1, 5).ok_or("date")?).swap_remove(0);
    let dir = tempfile::tempdir()?;
    let mut harness = PcscHarness::start()?;
    println!("rounds: {rounds}; photo {} B", data.photo_jpeg.len());

    for suite in suites {
        let pki = demo::pki_in(suite, today)?;
        let master = hex::decode(match suite {
            Suite::P256 => demo::DEMO_MASTER_KEY_HEX,
            Suite::Sm => demo::DEMO_SM_MASTER_KEY_HEX,
        })?;
        for (mode, short_only) in [("extended length", false), ("short APDUs + chaining", true)] {
            let (max_data, max_ne) = if short_only {
                (255, 256)
            } else {
                (65_535, 65_536)
            };
            let mut perso = Vec::new();
            let mut verdict_first = Vec::new();
            let mut verify_full = Vec::new();
            for i in 0..rounds {
                let mut spec =
                    SimSpec::new(dir.path().join(format!("{}-{mode}-{i}.json", suite.code())))
                        .serial((0xB000 + i as u64).to_be_bytes())
                        .master_key(master.clone())
                        .suite(suite);
                if short_only {
                    spec = spec.short_only();
                }
                let sim = harness.start_card(0, spec)?;
                let mut channel = harness.connect(0)?;
                let (traffic, time) = channel.transaction(|c: &mut dyn CardChannel| {
                    let mut link = Link::new(c);
                    let start = Instant::now();
                    let issued =
                        sequences::personalize(&mut link, &data, &pki.master, &pki.signer, today);
                    (issued.map(|i| i.traffic), start.elapsed())
                })?;
                perso.push(Sample {
                    traffic: traffic?,
                    time,
                });
                for _ in 0..2 {
                    let none = RevocationSet::new();
                    let ctx = VerifyContext::new(&pki.trust, today, &none);
                    let (first, full) = verify_once(&mut channel, &ctx)?;
                    verdict_first.push(first);
                    verify_full.push(full);
                }
                drop(channel);
                sim.remove()?;
            }
            println!("--- {} / {mode}", suite.code());
            report("personalize", max_data, max_ne, &perso);
            report(
                "verify: verdict (before photo)",
                max_data,
                max_ne,
                &verdict_first,
            );
            report("verify: with photo", max_data, max_ne, &verify_full);
        }
    }
    if piv {
        bench_piv(&mut harness, dir.path(), rounds, &data, today)?;
    }
    Ok(())
}

/// One verification in one PC/SC transaction: the verdict before the photo, then
/// with it (either family; both must be 有效).
fn verify_once(
    channel: &mut card_pcsc::PcscChannel,
    ctx: &VerifyContext<'_>,
) -> Result<(Sample, Sample), Box<dyn std::error::Error>> {
    Ok(channel.transaction(|c: &mut dyn CardChannel| {
        let mut link = Link::new(c);
        let start = Instant::now();
        let (mut card, pending) = sequences::verify_without_photo(&mut link, ctx)?;
        let standing = pending.verdict.standing;
        let first = Sample {
            traffic: card.link().traffic(),
            time: start.elapsed(),
        };
        let (verdict, _) = pending.fetch(&mut card)?;
        let full = Sample {
            traffic: link.traffic(),
            time: start.elapsed(),
        };
        assert_eq!(standing, Standing::Valid);
        assert_eq!(verdict.standing, Standing::Valid);
        Ok::<_, sequences::CardError>((first, full))
    })??)
}

/// The PIV family: a card as sold, issued (factory key → the bureau's, CHUID, 9E
/// key and certificate, ecard's objects, read back), then verified twice. The
/// photo is behind the holder's PIN on a PIV card, so "with photo" is the one
/// GET DATA that the card refuses.
fn bench_piv(
    harness: &mut PcscHarness,
    dir: &std::path::Path,
    rounds: usize,
    data: &sequences::IssueData,
    today: chrono::NaiveDate,
) -> Result<(), Box<dyn std::error::Error>> {
    let pki = demo::pki(today)?;
    for (mode, short_only) in [("extended length", false), ("short APDUs + chaining", true)] {
        let (max_data, max_ne) = if short_only {
            (255, 256)
        } else {
            (65_535, 65_536)
        };
        let mut issue = Vec::new();
        let mut verdict_first = Vec::new();
        let mut verify_full = Vec::new();
        for i in 0..rounds {
            let mut spec = SimSpec::piv(
                dir.join(format!("piv-{mode}-{i}.json")),
                (0xC000 + i as u64).to_be_bytes(),
            );
            if short_only {
                spec = spec.short_only();
            }
            let sim = harness.start_card(0, spec)?;
            let mut channel = harness.connect(0)?;
            let none = RevocationSet::new();
            let ctx = VerifyContext::new(&pki.trust, today, &none);
            let (traffic, time) = channel.transaction(|c: &mut dyn CardChannel| {
                let mut link = Link::new(c);
                let start = Instant::now();
                let job = sequences::IssueJob {
                    data,
                    master: &pki.master,
                    signer: &pki.signer,
                    today,
                    previous_serial: None,
                    verify: &ctx,
                };
                let issued = sequences::issue(&mut link, &job, |_| Ok::<(), ()>(()));
                let elapsed = start.elapsed();
                (
                    issued.map(|i| (link.traffic(), i.verdict.standing)),
                    elapsed,
                )
            })?;
            let (traffic, standing) = traffic.map_err(|e| format!("PIV issue: {e:?}"))?;
            assert_eq!(standing, Standing::Valid);
            issue.push(Sample { traffic, time });
            for _ in 0..2 {
                let (first, full) = verify_once(&mut channel, &ctx)?;
                verdict_first.push(first);
                verify_full.push(full);
            }
            drop(channel);
            sim.remove()?;
        }
        println!("--- piv / {mode}");
        report("issue (incl. read-back verify)", max_data, max_ne, &issue);
        report(
            "verify: verdict (before photo)",
            max_data,
            max_ne,
            &verdict_first,
        );
        report(
            "verify: + photo (refused, PIN)",
            max_data,
            max_ne,
            &verify_full,
        );
    }
    Ok(())
}

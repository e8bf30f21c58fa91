//! Print-and-encode (issue #16, docs/CARD-FACE.md): a batch at a card printer's
//! built-in encoder through real parts — pcscd + vpcd + ecard-sim as the encoder,
//! the test's own cupsd with a cups-pdf queue as the printer.
//!
//! Encode first; the first card loses contact in the middle of its chip write (the
//! sim's tear). That card is spoiled: its serial is on the void list, the batch
//! reports it as 废卡, and its certificate goes onto the next blank card. Only the
//! issued cards' faces come out of the printer, each with a seal naming its card.

mod common;

use common::*;
use ecard_test_support::cups::{read_back, CupsServer};
use ecardd::ops::{PrintingChange, StationConfig};
use ecardd::store::{self, JobState, PrintOrder, PrinterPairing};
use hardware_tests::harness::VPCD_READERS;
use hardware_tests::{PcscHarness, SimProcess};
use std::time::{Duration, Instant};

/// The torn card loses power at this APDU: after the station recorded its serial
/// (select, FCI, mutual authentication come first), during personalisation.
const TEAR_AT: u32 = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_whose_chip_write_fails_is_spoiled_and_only_issued_cards_are_printed() {
    print_and_encode_with_a_torn_card(PrintOrder::EncodeFirst).await;
}

/// Print first: the torn card's face was printed before its chip was written; the
/// batch records that face as spoiled with the card. Three faces come out, and the
/// one naming the torn card's serial is the spoiled job's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn print_first_records_the_face_of_a_spoiled_card_as_spoiled() {
    print_and_encode_with_a_torn_card(PrintOrder::PrintFirst).await;
}

async fn print_and_encode_with_a_torn_card(order: PrintOrder) {
    let Some(cups) = CupsServer::start() else {
        return;
    };
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let (station, certs) = station_with(
        &dir,
        StationConfig {
            cups_server: Some(cups.address()),
            ..StationConfig::default()
        },
    );
    let certs = &certs[..2];
    let reader = VPCD_READERS[0];
    station
        .set_printing(
            "admin",
            &PrintingChange {
                queue: Some(cups.queue().to_owned()),
                pairings: vec![PrinterPairing {
                    reader: reader.to_owned(),
                    queue: cups.queue().to_owned(),
                    order,
                }],
            },
        )
        .expect("pair the reader with the printer");

    let torn_serial = format!("{:016X}", 0xE100u64);
    let mut next_serial = 0xE101u64;
    let mut current = torn_serial.clone();
    let mut card: Option<SimProcess> = Some(
        harness
            .start_card(0, blank(&dir, "torn", 0xE100).tear_at(TEAR_AT))
            .expect("card"),
    );
    wait_reader(&station, reader, true);
    let batch = station
        .start_print_encode_batch("issuer", "打印批次", certs, &[reader.to_owned()])
        .expect("batch");

    // The printer's side: a card the station is finished with (verified, or spoiled)
    // leaves, the next blank one comes to the encoder.
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut used = vec![torn_serial.clone()];
    loop {
        let p = station.batch_progress(batch).expect("progress");
        if p.done == certs.len() {
            break;
        }
        assert!(Instant::now() < deadline, "batch stuck: {p:?}");
        let finished = station
            .store
            .read(|c| store::jobs(c, Some(batch), &[]))
            .expect("jobs")
            .iter()
            .any(|j| {
                j.card_serial.as_deref() == Some(current.as_str())
                    && (j.state == JobState::Verified || j.spoiled)
            });
        if finished {
            if let Some(c) = card.take() {
                // The torn sim has already gone; removing it again only confirms.
                let _ = c.remove();
            }
            let serial = next_serial;
            next_serial += 1;
            current = format!("{serial:016X}");
            used.push(current.clone());
            card = Some(
                harness
                    .start_card(0, blank(&dir, &format!("b{serial:X}"), serial))
                    .expect("blank card"),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(card);
    // The last card's face is handed to CUPS just after its job is recorded verified.
    let faces = match order {
        PrintOrder::EncodeFirst => 2,
        PrintOrder::PrintFirst => 3,
    };
    let printed = cups.wait_printed(faces, Duration::from_secs(60));
    let deadline = Instant::now() + Duration::from_secs(30);
    while station
        .store
        .read(|c| store::jobs(c, Some(batch), &[JobState::Verified]))
        .expect("jobs")
        .iter()
        .any(|j| j.face_print.is_none() && j.error.is_none())
    {
        assert!(Instant::now() < deadline, "face print not recorded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let p = station.batch_progress(batch).expect("progress");
    assert_eq!((p.done, p.spoiled, p.failed), (2, 1, 0), "{p:?}");
    assert!(p.print_encode);
    let summary = station
        .store
        .read(|c| store::batch_summaries(c, 10))
        .expect("batches")
        .into_iter()
        .find(|b| b.batch_id == batch)
        .expect("the batch is listed");
    assert_eq!(
        (summary.done, summary.spoiled, summary.failed, summary.open),
        (2, 1, 0, 0)
    );
    assert!(summary.print_encode);
    let jobs = station
        .store
        .read(|c| store::jobs(c, Some(batch), &[]))
        .expect("jobs");
    let spoiled: Vec<_> = jobs.iter().filter(|j| j.spoiled).collect();
    assert_eq!(spoiled.len(), 1);
    let spoiled = spoiled[0];
    assert_eq!(spoiled.card_serial.as_deref(), Some(torn_serial.as_str()));
    assert_eq!(spoiled.state, JobState::Failed);
    assert_eq!(spoiled.error.as_deref(), Some("card_removed"));
    match order {
        PrintOrder::EncodeFirst => assert_eq!(
            spoiled.face_print, None,
            "encode first: a spoiled card is never printed"
        ),
        PrintOrder::PrintFirst => assert!(
            spoiled.face_print.is_some(),
            "print first: the spoiled card's face was printed and is recorded"
        ),
    }

    // Its serial is void; its certificate was issued on the next card.
    let reason: String = station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT reason FROM revocations WHERE serial = ?1",
                [&torn_serial],
                |r| r.get(0),
            )?)
        })
        .expect("the spoiled card is on the void list");
    assert_eq!(reason, ecardd::labels::VOID_WRITE_FAILED);
    let issued: Vec<_> = jobs
        .iter()
        .filter(|j| j.state == JobState::Verified)
        .collect();
    assert_eq!(issued.len(), 2);
    let again = issued
        .iter()
        .find(|j| j.certificate_id == spoiled.certificate_id)
        .expect("the spoiled card's certificate was issued again");
    assert_ne!(again.card_serial, spoiled.card_serial);
    for j in &issued {
        assert!(j.face_print.is_some(), "face printed for job {}", j.id);
        let cert = station
            .store
            .read(|c| store::certificate(c, j.certificate_id))
            .expect("certificate");
        assert_eq!(cert.state, store::CertificateState::Issued);
    }
    let cards: i64 = station
        .store
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM cards", [], |r| r.get(0))?))
        .expect("count");
    assert_eq!(cards, 2, "the spoiled card is no card of anyone");

    // The printer gave out the issued cards' faces (and, printing first, the
    // spoiled card's, recorded as spoiled above).
    assert_eq!(printed.len(), faces, "{printed:?}");
    let mut on_faces = Vec::new();
    for pdf in &printed {
        let (pages, w, h) = read_back::pages_and_size(pdf);
        assert_eq!(pages, 2);
        assert!(
            (w - 242.65).abs() < 1.0 && (h - 153.07).abs() < 1.0,
            "{w} x {h}"
        );
        let seal = read_back::qr(pdf, 2).expect("QR on the printed back");
        let check = station.check_seal(&seal);
        assert_eq!(check.verdict, "genuine", "{check:?}");
        let facts = check.printed.expect("printed facts");
        // The spoiled card's face (print first) still bears a genuine seal; the
        // station says its card is void.
        assert_eq!(check.card_voided, facts.card_serial == torn_serial);
        assert!(read_back::text(pdf).contains(&facts.name));
        on_faces.push(facts.card_serial);
    }
    on_faces.sort();
    let mut issued_serials: Vec<String> = issued
        .iter()
        .map(|j| j.card_serial.clone().expect("serial"))
        .collect();
    issued_serials.sort();
    if order == PrintOrder::PrintFirst {
        issued_serials.push(torn_serial.clone());
        issued_serials.sort();
    }
    assert_eq!(on_faces, issued_serials);
    assert_eq!(
        on_faces.contains(&torn_serial),
        order == PrintOrder::PrintFirst
    );
    assert_eq!(
        station
            .store
            .verify_audit_chain()
            .expect("audit")
            .first_broken,
        None
    );
}

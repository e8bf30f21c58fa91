//! EF.STATUS sequence numbers (issue 11): a station remembers the highest sequence it
//! has seen per card; a card showing an older signed status record (rolled back from
//! "suspended" to "active") fails verification, and the station writes only numbers
//! above what it has seen.
#![allow(clippy::unwrap_used)]

use card_profile::demo;
use card_profile::profile::FileId;
use card_profile::records::StatusRecord;
use card_profile::sod::SignedObject;
use card_profile::verdict::{Finding, Standing};
use card_sim::SimCard;
use ecard_clock::Clock;
use ecardd::ops::{Station, StationConfig, StationKeys, StatusRequest};
use ecardd::readers::sim::SimReaders;
use ecardd::readers::Readers;
use ecardd::store::{self, Store};
use std::sync::Arc;

const R: &str = "读卡器 1";

struct Fixture {
    station: Station,
    sim: Arc<SimReaders>,
    certs: Vec<i64>,
    _dir: tempfile::TempDir,
}

/// A station trusting `trust`; with `keys` it is the issuing station and holds the
/// demo officers' approved certificates, without it only verifies (an inspector's
/// station that has none of the records).
fn station(trust: &card_profile::pki::TrustList, keys: Option<StationKeys>) -> Fixture {
    let with_certificates = keys.is_some();
    let dir = tempfile::tempdir().unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let store = Arc::new(Store::open(&dir.path().join("t.db"), Clock::frozen_on(today)).unwrap());
    // A revocation list of today, as the first sync leaves: without one every
    // field check is 无法确认 (ecard_domain::field_check).
    ecard_test_support::revocation_list_of(&store, today);
    let master = card_profile::keys::MasterKey::from_hex(demo::DEMO_MASTER_KEY_HEX).unwrap();
    let sim = Arc::new(SimReaders::new(&[R], 10, master, 0x100));
    let officers = demo::officers(chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
    let certs = if with_certificates {
        ecard_test_support::approve(&store, &officers[..])
    } else {
        Vec::new()
    };
    let readers = Readers::new(sim.clone());
    let station = match keys {
        Some(keys) => Station::new(
            store,
            readers,
            keys,
            trust.clone(),
            StationConfig::default(),
        ),
        None => Station::without_keys(store, readers, trust.clone(), StationConfig::default()),
    };
    Fixture {
        station,
        sim,
        certs,
        _dir: dir,
    }
}

/// An issuing station and an inspector's station under the same trust list.
fn pair() -> (Fixture, Fixture) {
    let pki = demo::pki(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()).unwrap();
    let inspector = station(&pki.trust, None);
    let trust = pki.trust.clone();
    let keys = StationKeys {
        master: pki.master,
        signer: pki.signer,
    };
    (station(&trust, Some(keys)), inspector)
}

/// Takes the card out of `from`'s reader.
fn take(from: &Fixture) -> SimCard {
    let serial = from.sim.eject(R).unwrap().unwrap();
    from.sim.take_from_tray(&serial).unwrap()
}

/// The same chip with an older EF.STATUS put back (a card restored, or written by
/// someone holding the management key).
fn with_status(card: &SimCard, status: &[u8]) -> SimCard {
    let mut state = card.persistent().clone();
    state.files.insert(FileId::Status, status.to_vec());
    SimCard::from_state(state, card.options())
}

fn sequence_on(card: &SimCard) -> u32 {
    let signed = SignedObject::parse(
        card.file(FileId::Status),
        card_profile::profile::tags::STATUS,
        card_profile::profile::tags::STATUS_CONTENT,
    )
    .unwrap();
    StatusRecord::from_content(signed.content_tlv().unwrap())
        .unwrap()
        .sequence
}

#[tokio::test]
async fn an_older_status_put_back_fails_at_a_station_that_saw_a_newer_one() {
    let (issuing, inspector) = pair();
    issuing.sim.insert_blank(R).unwrap();
    issuing
        .station
        .issue("issuer", issuing.certs[0], R)
        .await
        .unwrap();
    let card = take(&issuing);
    let active = card.file(FileId::Status).to_vec();
    assert_eq!(sequence_on(&card), 1);
    issuing.sim.insert_card(R, card).unwrap();
    // Suspended with the card at hand: EF.STATUS sequence 2.
    let suspend = StatusRequest::Suspend {
        reason: "立案调查".into(),
    };
    issuing
        .station
        .change_status("issuer", issuing.certs[0], &suspend, Some(R))
        .await
        .unwrap();

    // An inspector's station, which has no records of the suspension, sees it on
    // the card, and remembers sequence 2.
    inspector.sim.insert_card(R, take(&issuing)).unwrap();
    let seen = inspector.station.verify(R).await.unwrap().verdict;
    assert_eq!(seen.standing, Standing::Suspended, "{:#?}", seen.checks);

    // The old "active" record (sequence 1, validly signed) put back on the same chip:
    // refused, not valid.
    let rolled_back = with_status(&take(&inspector), &active);
    inspector.sim.insert_card(R, rolled_back).unwrap();
    let verdict = inspector.station.verify(R).await.unwrap().verdict;
    assert_eq!(verdict.standing, Standing::Invalid, "{:#?}", verdict.checks);
    assert!(verdict
        .failures()
        .any(|(_, f)| *f == Finding::StatusRolledBack { seen: 2, found: 1 }));

    // The issuing station writes the lift above what it has seen (2), not above the
    // card's own rolled-back 1: a verifier that saw 2 accepts the new record.
    issuing.sim.insert_card(R, take(&inspector)).unwrap();
    let lift = StatusRequest::Lift {
        reason: "调查结束".into(),
    };
    let out = issuing
        .station
        .change_status("issuer", issuing.certs[0], &lift, Some(R))
        .await
        .unwrap();
    assert!(out.written_to.is_some(), "{out:?}");
    let card = take(&issuing);
    assert_eq!(sequence_on(&card), 3);
    inspector.sim.insert_card(R, card).unwrap();
    assert_eq!(
        inspector.station.verify(R).await.unwrap().verdict.standing,
        Standing::Valid
    );
}

/// A status record whose signature does not check is never remembered: a forged
/// high number must not lock the genuine card out.
#[tokio::test]
async fn an_untrusted_status_record_is_not_remembered() {
    let (issuing, inspector) = pair();
    issuing.sim.insert_blank(R).unwrap();
    issuing
        .station
        .issue("issuer", issuing.certs[1], R)
        .await
        .unwrap();
    let card = take(&issuing);
    let serial = hex::encode_upper(card.serial());
    let genuine = card.file(FileId::Status).to_vec();
    let mut forged = genuine.clone();
    // Flip a byte of the signature (the last bytes of the object).
    let last = forged.len() - 1;
    forged[last] ^= 0x01;
    inspector
        .sim
        .insert_card(R, with_status(&card, &forged))
        .unwrap();
    let verdict = inspector.station.verify(R).await.unwrap().verdict;
    assert_eq!(verdict.standing, Standing::Invalid);
    assert_eq!(verdict.trusted_status_sequence(), None);
    let held = inspector
        .station
        .store
        .read(|c| store::status_sequence(c, &serial))
        .unwrap();
    assert_eq!(held, None);
}

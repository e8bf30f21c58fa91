//! The in-process reader: trace, counters and "tear at APDU k".

// Test helpers outside #[test] fns panic on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use card_profile::apdu::{Command, Ins};
use card_profile::profile::{FileId, LifeCycle};
use card_profile::transport::{CardChannel, TransportError};
use card_sim::{SimCard, SimChannel, SimOptions};
use common::*;

fn send(ch: &mut SimChannel, apdu: &str) -> Result<String, TransportError> {
    ch.transmit(&hex::decode(apdu.replace(' ', "")).unwrap())
        .map(hex::encode_upper)
}

fn auth(ch: &mut SimChannel) {
    let resp = ch.transmit(&hex::decode("0084000010").unwrap()).unwrap();
    let challenge: [u8; 16] = resp[..16].try_into().unwrap();
    let crypt = master().derive(&SERIAL).cryptogram(&SERIAL, &challenge);
    let cmd = Command::new(Ins::ExternalAuthenticate)
        .p2(1)
        .data(crypt.to_vec());
    assert_eq!(
        ch.transmit(&cmd.encode(false).unwrap()).unwrap(),
        [0x90, 0x00]
    );
}

#[test]
fn trace_and_counters_record_every_apdu() {
    let mut ch = SimChannel::new(card(SimOptions::default()));
    assert!(send(&mut ch, "00A4040C 07 F04543415244 01").unwrap() == "9000");
    assert!(send(&mut ch, "00B08100 00").unwrap().ends_with("9000"));
    let c = ch.counters();
    assert_eq!(c.apdus, 2);
    assert_eq!(c.bytes_sent, 12 + 5);
    assert_eq!(c.bytes_received, 2 + 20);
    assert_eq!(
        ch.trace()[0],
        ("00A4040C07F0454341524401".into(), "9000".into())
    );
    assert!(ch
        .trace_text()
        .starts_with("> 00A4040C07F0454341524401\n< 9000\n"));
}

#[test]
fn torn_update_binary_leaves_half_the_data_and_the_card_gone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    let mut sim = card(SimOptions::default());
    sim.attach_state_file(&path).unwrap();
    let mut ch = SimChannel::new(sim);
    // APDUs 0..=2: select, get challenge, external authenticate; 3 tears.
    ch.tear_at(3);
    send(&mut ch, "00A4040C 07 F04543415244 01").unwrap();
    auth(&mut ch);
    let holder = vec![0x61, 0x06, 1, 2, 3, 4, 5, 6];
    let cmd = Command::new(Ins::UpdateBinary)
        .p1(0x82)
        .data(holder.clone());
    assert_eq!(
        ch.transmit(&cmd.encode(false).unwrap()),
        Err(TransportError::CardRemoved)
    );
    assert_eq!(ch.card().file(FileId::Holder), &holder[..4]);
    assert_eq!(ch.card().life_cycle(), LifeCycle::Personalizing);
    // Gone until reinserted.
    assert_eq!(
        send(&mut ch, "00A4040C 07 F04543415244 01"),
        Err(TransportError::CardRemoved)
    );
    assert_eq!(ch.counters().apdus, 4);
    // The torn state was saved.
    let saved = SimCard::load(&path, SimOptions::default()).unwrap();
    assert_eq!(saved.file(FileId::Holder), &holder[..4]);
    assert_eq!(saved.life_cycle(), LifeCycle::Personalizing);

    ch.reinsert();
    // Fresh power-up: no selection, no session.
    assert_eq!(send(&mut ch, "00D68200 01 61").unwrap(), "6985");
    send(&mut ch, "00A4040C 07 F04543415244 01").unwrap();
    assert_eq!(send(&mut ch, "00D68200 01 61").unwrap(), "6982");
    // A torn card can be wiped back to blank.
    auth(&mut ch);
    assert_eq!(send(&mut ch, "80EE0000").unwrap(), "9000");
    assert_eq!(ch.card().life_cycle(), LifeCycle::Blank);
}

#[test]
fn torn_append_record_keeps_half_a_record() {
    let mut sim = card(SimOptions::default());
    personalize(&mut sim);
    let mut ch = SimChannel::new(sim);
    ch.tear_at(0);
    assert_eq!(
        send(&mut ch, "00E20030 04 64020102"),
        Err(TransportError::CardRemoved)
    );
    assert_eq!(ch.card().records(), [vec![0x64, 0x02]]);
}

#[test]
fn torn_commands_other_than_writes_change_nothing() {
    let mut sim = card(SimOptions::default());
    personalize(&mut sim);
    let mut ch = SimChannel::new(sim);
    ch.tear_at(0);
    assert_eq!(send(&mut ch, "00440000"), Err(TransportError::CardRemoved));
    assert_eq!(ch.card().life_cycle(), LifeCycle::Personalizing);
    ch.reinsert();
    // Power-up cleared the session, so activation now needs the key again.
    send(&mut ch, "00A4040C 07 F04543415244 01").unwrap();
    assert_eq!(send(&mut ch, "00440000").unwrap(), "6982");
}

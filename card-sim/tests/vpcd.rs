//! The vpcd wire protocol against a fake vpcd (a TcpListener in the test), both for
//! the library loop and for the `ecard-sim` binary.

// Test helpers outside #[test] fns panic on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use card_sim::vpcd::{self, Ending};
use card_sim::{atr::atr, Silence, SilencePlan, SimOptions, TearPlan};
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The fake vpcd's side of the framing.
fn send(s: &mut TcpStream, payload: &[u8]) {
    let mut frame = (payload.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    s.write_all(&frame).unwrap();
}

fn recv(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut header = [0u8; 2];
    s.read_exact(&mut header).ok()?;
    let mut payload = vec![0u8; u16::from_be_bytes(header) as usize];
    s.read_exact(&mut payload).ok()?;
    Some(payload)
}

const SELECT_FCI: &str = "00A4040007F045434152440100";

fn fake_vpcd() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    (listener, addr)
}

#[test]
fn power_on_atr_and_select_are_framed() {
    let (listener, addr) = fake_vpcd();
    let client = std::thread::spawn(move || {
        let mut card = card(SimOptions::default());
        let mut stream = vpcd::connect(&addr).unwrap();
        let ending = vpcd::serve(
            &mut card,
            &mut stream,
            &mut TearPlan::never(),
            &mut SilencePlan::never(),
        )
        .unwrap();
        (ending, card)
    });
    let (mut vpcd, _) = listener.accept().unwrap();
    vpcd.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    send(&mut vpcd, &[0x01]);
    send(&mut vpcd, &[0x04]);
    assert_eq!(recv(&mut vpcd).unwrap(), atr(&SimOptions::default()));
    send(&mut vpcd, &hex::decode(SELECT_FCI).unwrap());
    let resp = recv(&mut vpcd).unwrap();
    assert_eq!(&resp[..2], [0x6F, 0x22]);
    assert_eq!(&resp[resp.len() - 2..], [0x90, 0x00]);
    // Reset drops the selection: the next READ BINARY is refused.
    send(&mut vpcd, &[0x02]);
    send(&mut vpcd, &hex::decode("00B0810000").unwrap());
    assert_eq!(recv(&mut vpcd).unwrap(), [0x69, 0x85]);
    drop(vpcd);
    let (ending, _card) = client.join().unwrap();
    assert_eq!(ending, Ending::Closed);
}

#[test]
fn torn_apdu_gets_no_reply_and_the_card_leaves() {
    let (listener, addr) = fake_vpcd();
    let client = std::thread::spawn(move || {
        let mut card = card(SimOptions::default());
        let mut stream = vpcd::connect(&addr).unwrap();
        vpcd::serve(
            &mut card,
            &mut stream,
            &mut TearPlan::at(1),
            &mut SilencePlan::never(),
        )
        .unwrap()
    });
    let (mut vpcd, _) = listener.accept().unwrap();
    vpcd.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    send(&mut vpcd, &[0x01]);
    send(&mut vpcd, &hex::decode(SELECT_FCI).unwrap());
    assert!(recv(&mut vpcd).is_some());
    send(&mut vpcd, &hex::decode("00B0810000").unwrap());
    assert_eq!(client.join().unwrap(), Ending::Torn);
    assert_eq!(recv(&mut vpcd), None);
}

/// A silent card keeps the connection (it is still in the reader) but answers no
/// command from APDU k on: `Mute` sends nothing, `Empty` a 0-byte frame. The ATR is
/// still served.
#[test]
fn a_silent_card_stays_connected_and_answers_no_command_from_k_on() {
    for how in [Silence::Mute, Silence::Empty] {
        let (listener, addr) = fake_vpcd();
        let client = std::thread::spawn(move || {
            let mut card = card(SimOptions::default());
            let mut stream = vpcd::connect(&addr).unwrap();
            vpcd::serve(
                &mut card,
                &mut stream,
                &mut TearPlan::never(),
                &mut SilencePlan::from(1, how),
            )
            .unwrap()
        });
        let (mut vpcd, _) = listener.accept().unwrap();
        vpcd.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        send(&mut vpcd, &[0x01]);
        send(&mut vpcd, &hex::decode(SELECT_FCI).unwrap());
        assert!(recv(&mut vpcd).is_some_and(|r| r.ends_with(&[0x90, 0x00])));
        for _ in 0..2 {
            send(&mut vpcd, &hex::decode("00B0810000").unwrap());
            match how {
                Silence::Mute => assert_eq!(recv(&mut vpcd), None, "{how:?}"),
                Silence::Empty => assert_eq!(recv(&mut vpcd), Some(vec![]), "{how:?}"),
            }
        }
        send(&mut vpcd, &[0x04]);
        assert_eq!(
            recv(&mut vpcd).unwrap(),
            atr(&SimOptions::default()),
            "{how:?}"
        );
        drop(vpcd);
        assert_eq!(client.join().unwrap(), Ending::Closed);
    }
}

fn ecard_sim(addr: &str, state: &std::path::Path, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_ecard-sim"))
        .args(["--vpcd", addr, "--state"])
        .arg(state)
        .args(["--serial", "0102030405060708"])
        .args(["--master-key", &hex::encode(MASTER)])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn binary_serves_vpcd_until_it_closes() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card.json");
    let (listener, addr) = fake_vpcd();
    let child = ecard_sim(&addr, &state, &["--short-only"]);
    let (mut vpcd, _) = listener.accept().unwrap();
    vpcd.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    send(&mut vpcd, &[0x01]);
    send(&mut vpcd, &[0x04]);
    let atr_bytes = recv(&mut vpcd).unwrap();
    assert_eq!(
        atr_bytes[8] & 0x40,
        0,
        "short-only card announces no extended length"
    );
    send(&mut vpcd, &hex::decode(SELECT_FCI).unwrap());
    assert!(recv(&mut vpcd).unwrap().ends_with(&[0x90, 0x00]));
    drop(vpcd);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("ecard-sim: serial 0102030405060708 connected to"),
        "{stderr}"
    );
    assert!(!stderr.contains(&hex::encode(MASTER)));
    assert!(state.exists());
}

#[test]
fn binary_tear_saves_state_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card.json");
    let (listener, addr) = fake_vpcd();
    let child = ecard_sim(&addr, &state, &["--tear-at", "3"]);
    let (mut vpcd, _) = listener.accept().unwrap();
    vpcd.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    send(&mut vpcd, &[0x01]);
    send(&mut vpcd, &hex::decode(SELECT_FCI).unwrap());
    recv(&mut vpcd).unwrap();
    send(&mut vpcd, &hex::decode("0084000010").unwrap());
    let challenge: [u8; 16] = recv(&mut vpcd).unwrap()[..16].try_into().unwrap();
    let crypt = master().derive(&SERIAL).cryptogram(&SERIAL, &challenge);
    send(
        &mut vpcd,
        &[&hex::decode("0082000110").unwrap()[..], &crypt].concat(),
    );
    assert_eq!(recv(&mut vpcd).unwrap(), [0x90, 0x00]);
    send(
        &mut vpcd,
        &hex::decode("00D6820004 61020102".replace(' ', "")).unwrap(),
    );
    assert_eq!(recv(&mut vpcd), None, "no reply: the card was pulled out");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let card = card_sim::SimCard::load(&state, SimOptions::default()).unwrap();
    assert_eq!(
        card.file(card_profile::profile::FileId::Holder),
        [0x61, 0x02]
    );
}

#[test]
fn binary_exits_0_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card.json");
    let (listener, addr) = fake_vpcd();
    let child = ecard_sim(&addr, &state, &[]);
    let (mut vpcd, _) = listener.accept().unwrap();
    vpcd.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Once the ATR comes back the signal handler is installed.
    send(&mut vpcd, &[0x04]);
    recv(&mut vpcd).unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(recv(&mut vpcd), None);
}

#[test]
fn binary_needs_serial_and_key_for_a_new_card() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ecard-sim"))
        .args(["--vpcd", "127.0.0.1:1", "--wait", "0", "--state"])
        .arg(dir.path().join("new.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--serial and --master-key"));
}

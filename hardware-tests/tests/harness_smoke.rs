//! The harness itself, end to end: pcscd up, both vpcd readers, a card in each slot,
//! SELECT through `PcscChannel`, removal seen as an error, and nothing left running.
//!
//! `mini_card` is a throwaway vpcd emulator (always available); the `ecard_sim_*`
//! test runs the real `ecard-sim` once card-sim declares that binary.

use std::time::Duration;

use card_profile::apdu::{Command, Ins, Response};
use card_profile::profile::AID;
use card_profile::status::Status;
use card_profile::transport::{CardChannel, TransportError};
use hardware_tests::harness::{pid_alive, vpcd_listening, SimBuildError, VPCD_READERS};
use hardware_tests::{HarnessError, PcscChannel, PcscHarness, SimSpec};

fn select_aid() -> Vec<u8> {
    Command::new(Ins::Select)
        .p1(0x04)
        .p2(0x00)
        .data(AID.to_vec())
        .ne(256)
        .encode(false)
        .expect("SELECT encodes short")
}

fn assert_select_ok(channel: &mut PcscChannel) {
    let raw = channel.transmit(&select_aid()).expect("SELECT transmits");
    let response = Response::parse(&raw).expect("response has a status word");
    assert_eq!(
        response.status,
        Status::Success,
        "SELECT answered {raw:02X?}"
    );
}

fn assert_removed(channel: &mut PcscChannel) {
    match channel.transmit(&select_aid()) {
        Err(TransportError::CardRemoved | TransportError::NoCard) => {}
        other => panic!("transmit after removal must fail as removal, got {other:?}"),
    }
}

#[test]
fn mini_card_select_and_removal_through_pcscd() {
    let harness = PcscHarness::start().expect("harness starts");
    let readers = harness.readers().expect("readers listed");
    for want in VPCD_READERS {
        assert!(
            readers.iter().any(|r| r == want),
            "{want} missing: {readers:?}"
        );
    }
    assert!(vpcd_listening(35963) && vpcd_listening(35964));
    let pcscd_pid = harness.pcscd_pid();

    let card0 = mini_card::MiniCard::insert(&harness, 0);
    let card1 = mini_card::MiniCard::insert(&harness, 1);

    let mut ch0 = harness.connect(0).expect("connect slot 0");
    let mut ch1 = harness.connect(1).expect("connect slot 1");
    assert_select_ok(&mut ch0);
    assert_select_ok(&mut ch1);
    assert_eq!(ch0.atr().expect("atr"), mini_card::ATR);

    // The exclusive section runs a sequence and hands back the closure's result.
    let sws = ch1
        .transaction(|card| {
            (0..3)
                .map(|_| {
                    card.transmit(&select_aid())
                        .map(|r| r[r.len() - 2..].to_vec())
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .expect("transaction begins")
        .expect("sequence runs");
    assert_eq!(sws, vec![vec![0x90, 0x00]; 3]);

    card0.remove();
    harness.wait_card_absent(0).expect("slot 0 empties");
    assert_removed(&mut ch0);
    // Slot 1 is unaffected by slot 0's removal.
    assert_select_ok(&mut ch1);
    card1.remove();
    assert_removed(&mut ch1);

    drop(ch0);
    drop(ch1);
    drop(harness);
    if let Some(pid) = pcscd_pid {
        assert!(!pid_alive(pid), "pcscd {pid} survived the harness");
    }
}

#[test]
fn ecard_sim_select_and_removal_through_pcscd() {
    let mut harness = PcscHarness::start().expect("harness starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = |n: u8| {
        SimSpec::new(dir.path().join(format!("card{n}.json")))
            .serial([n; 8])
            .master_key(vec![0x11; 16])
    };
    let sim0 = match harness.start_card(0, spec(0)) {
        Ok(sim) => sim,
        Err(HarnessError::SimBuild(SimBuildError::NotDeclared)) => {
            println!("skipped: card-sim declares no ecard-sim binary yet");
            return;
        }
        Err(e) => panic!("ecard-sim in slot 0: {e}"),
    };
    let sim1 = harness.start_card(1, spec(1)).expect("ecard-sim in slot 1");
    let pids = [harness.pcscd_pid(), Some(sim0.pid()), Some(sim1.pid())];

    let mut ch0 = harness.connect(0).expect("connect slot 0");
    let mut ch1 = harness.connect(1).expect("connect slot 1");
    assert_select_ok(&mut ch0);
    assert_select_ok(&mut ch1);

    sim0.remove().expect("card 0 pulled out");
    assert_removed(&mut ch0);
    assert_select_ok(&mut ch1);

    drop(ch0);
    drop(ch1);
    // sim1 is still owned by the test here: the harness must stop it anyway.
    drop(harness);
    drop(sim0);
    drop(sim1);
    for pid in pids.into_iter().flatten() {
        assert!(!pid_alive(pid), "process {pid} survived the harness");
    }
}

#[test]
fn restarted_pcscd_serves_cards_again() {
    let mut harness = PcscHarness::start().expect("harness starts");
    let Some(old_pid) = harness.pcscd_pid() else {
        println!("skipped: pcscd was already running, the harness must not restart it");
        assert!(matches!(
            harness.restart_pcscd(),
            Err(HarnessError::NotOwner)
        ));
        return;
    };
    let card = mini_card::MiniCard::insert(&harness, 0);

    harness.restart_pcscd().expect("pcscd restarts");
    assert!(!pid_alive(old_pid), "old pcscd {old_pid} still running");
    // The emulator's vpcd connection died with the old pcscd.
    drop(card);
    let _card = mini_card::MiniCard::insert(&harness, 0);
    assert_select_ok(&mut harness.connect(0).expect("connect after restart"));
}

#[test]
fn sim_that_dies_at_start_fails_fast_with_its_log() {
    let mut harness = PcscHarness::start().expect("harness starts");
    let err = harness
        .start_card_with(
            std::path::Path::new("/bin/false"),
            1,
            SimSpec::new("/nonexistent"),
        )
        .expect_err("a sim that exits cannot produce a card");
    assert!(
        matches!(err, HarnessError::SimExited { slot: 1, .. }),
        "{err}"
    );
}

#[test]
fn occupied_slot_is_reported_not_overwritten() {
    let mut harness = PcscHarness::start().expect("harness starts");
    let _card = mini_card::MiniCard::insert(&harness, 1);
    let err = harness
        .start_card_with(
            std::path::Path::new("/bin/false"),
            1,
            SimSpec::new("/nonexistent"),
        )
        .expect_err("slot 1 is taken");
    assert!(matches!(err, HarnessError::SlotBusy { slot: 1 }), "{err}");
}

#[test]
fn sim_spec_builds_the_documented_command_line() {
    let args = SimSpec::new("/tmp/s.json")
        .serial([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08])
        .master_key(vec![0xAB; 16])
        .short_only()
        .t0()
        .tear_at(7)
        .args("127.0.0.1:35963");
    assert_eq!(
        args.join(" "),
        format!(
            "--vpcd 127.0.0.1:35963 --state /tmp/s.json --serial 0102030405060708 \
             --master-key {} --short-only --t0 --tear-at 7",
            "AB".repeat(16)
        )
    );
}

/// A throwaway vpcd card: answers every APDU with 90 00. Its own thread, its own
/// socket; `remove` closes the socket, which vpcd sees as the card pulled out.
mod mini_card {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpStream};
    use std::thread::{self, JoinHandle};

    use super::{Duration, PcscHarness};

    pub const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

    pub struct MiniCard {
        stream: TcpStream,
        thread: Option<JoinHandle<()>>,
    }

    impl MiniCard {
        /// Plugs the card into `slot` once pcscd has seen the slot empty: a card that
        /// connects before pcscd noticed the previous one leave is never reported.
        pub fn insert(harness: &PcscHarness, slot: u8) -> Self {
            harness.wait_slot_free(slot).expect("slot empties");
            let card = Self::connect(slot);
            harness.wait_card_present(slot).expect("card appears");
            card
        }

        fn connect(slot: u8) -> Self {
            let port = 35963 + u16::from(slot);
            let stream = TcpStream::connect(("127.0.0.1", port)).expect("vpcd accepts");
            // vpcd writes length and payload separately: without NODELAY every APDU
            // waits for a delayed ACK (PCSC.md).
            stream.set_nodelay(true).expect("nodelay");
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .expect("timeout");
            let io = stream.try_clone().expect("clone");
            let thread = thread::spawn(move || serve(io));
            Self {
                stream,
                thread: Some(thread),
            }
        }

        pub fn remove(mut self) {
            self.close();
        }

        fn close(&mut self) {
            let _ = self.stream.shutdown(Shutdown::Both);
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }

    impl Drop for MiniCard {
        fn drop(&mut self) {
            self.close();
        }
    }

    fn serve(mut s: TcpStream) {
        loop {
            let mut len = [0u8; 2];
            if s.read_exact(&mut len).is_err() {
                return;
            }
            let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
            if s.read_exact(&mut msg).is_err() {
                return;
            }
            let reply: Option<&[u8]> = match msg.as_slice() {
                [0x00] | [0x01] | [0x02] => None,
                [0x04] => Some(&ATR),
                [_] => None,
                _ => Some(&[0x90, 0x00]),
            };
            if let Some(r) = reply {
                let mut framed = (r.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(r);
                if s.write_all(&framed).is_err() {
                    return;
                }
            }
        }
    }
}

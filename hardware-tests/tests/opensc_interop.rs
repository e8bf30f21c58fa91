//! Interop with a host stack we did not write: OpenSC's `opensc-tool` selects the
//! application on a card personalized by ecard and reads its files through pcscd; the
//! bytes must be exactly what ecard wrote. An UPDATE BINARY it sends without the
//! management key must be refused.

mod common;

use card_profile::apdu::{Command, Ins};
use card_profile::profile::{FileId, AID};
use common::*;
use hardware_tests::PcscHarness;
use std::process::Command as Process;

fn hex_spaced(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn apdu(cmd: &Command) -> String {
    hex_spaced(&cmd.encode(false).expect("short APDU"))
}

/// One response from opensc-tool's output: (SW, data). opensc-tool prints
/// `Received (SW1=0x90, SW2=0x00)` and then the data as hex-dump lines
/// (`XX XX … ` then an ASCII column), which is what this parses.
fn responses(output: &str) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut lines = output.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.trim().strip_prefix("Received (SW1=0x") else {
            continue;
        };
        let sw1 = u8::from_str_radix(&rest[..2], 16).expect("sw1");
        let sw2_at = rest.find("SW2=0x").expect("sw2") + 6;
        let sw2 = u8::from_str_radix(&rest[sw2_at..sw2_at + 2], 16).expect("sw2");
        let mut data = Vec::new();
        while let Some(next) = lines.peek() {
            if next.starts_with("Sending") || next.starts_with("Received") || next.trim().is_empty()
            {
                break;
            }
            // Each dump line holds up to 16 hex pairs separated by single spaces,
            // followed by the ASCII rendering; take pairs while they are pairs.
            let line = lines.next().expect("peeked");
            for token in line.split(' ').take(16) {
                if token.len() == 2 && token.chars().all(|c| c.is_ascii_hexdigit()) {
                    data.push(u8::from_str_radix(token, 16).expect("hex"));
                } else {
                    break;
                }
            }
        }
        out.push((u16::from_be_bytes([sw1, sw2]), data));
    }
    out
}

#[test]
fn opensc_tool_reads_what_ecard_wrote_and_cannot_write_without_the_key() {
    if Process::new("opensc-tool")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: opensc-tool not installed (package opensc)");
        return;
    }
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let data = officer(2);
    let _card = harness
        .start_card(0, blank(&dir, "interop", 0x9001))
        .expect("card");
    personalize(&harness, 0, &pki, &data).expect("personalize");

    let select = Command::new(Ins::Select)
        .p1(0x04)
        .p2(0x0C)
        .data(AID.to_vec());
    let read = |f: FileId| Command::new(Ins::ReadBinary).p1(0x80 | f.sfi()).ne(256);
    let write = Command::new(Ins::UpdateBinary)
        .p1(0x80 | FileId::Holder.sfi())
        .data(vec![0x61, 0x00]);
    let output = Process::new("opensc-tool")
        .args(["--reader", "Virtual PCD 00 00"])
        .args(["-s", &apdu(&select)])
        .args(["-s", &apdu(&read(FileId::Holder))])
        .args(["-s", &apdu(&read(FileId::Cert))])
        .args(["-s", &apdu(&write)])
        .output()
        .expect("run opensc-tool");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "opensc-tool failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let got = responses(&stdout);
    assert_eq!(got.len(), 4, "{stdout}");
    assert_eq!(got[0].0, 0x9000, "SELECT: {stdout}");
    assert_eq!(
        got[1],
        (0x9000, data.holder.to_tlv()),
        "EF.HOLDER as OpenSC read it"
    );
    assert_eq!(
        got[2],
        (0x9000, data.certificate.to_tlv()),
        "EF.CERT as OpenSC read it"
    );
    // No write session: security status not satisfied.
    assert_eq!(got[3].0, 0x6982, "UPDATE BINARY without the key: {stdout}");

    // And the card is unchanged: it still verifies.
    let (verdict, _) = verify(&harness, 0, &pki).expect("verify");
    assert_eq!(verdict.standing, card_profile::verdict::Standing::Valid);
}

//! The PIV card (`ecard-sim --piv`) through pcscd + vpcd, checked by programs that
//! are not ours: yubico-piv-tool 2.2 sets it up and reads it; OpenSC 0.23 lists,
//! reads and signs with it without a PIN; openssl verifies what it signed.
//! No OPENSC_DRIVER and no opensc.conf: OpenSC picks its PIV driver from the ATR.
//!
//! Each test puts a fresh card into slot 0. A missing tool fails the test
//! (scripts/install-test-deps.sh installs them all).

use card_sim::piv::objects::{CERT_9E, CHUID};
use card_sim::{CardState, SimCard, SimOptions};
use hardware_tests::harness::VPCD_READERS;
use hardware_tests::piv_tools::{
    self, setup_with_yubico_piv_tool, yubico_piv_tool, Tool, YkCard, YkSetup, DEFAULT_MGM_KEY_HEX,
};
use hardware_tests::{PcscHarness, SimProcess, SimSpec};
use std::path::{Path, PathBuf};

const READER: &str = VPCD_READERS[0];
/// F8 answers the last four bytes: 0x0012D687 = 1234567.
const SERIAL: [u8; 8] = [0, 0, 0, 0, 0x00, 0x12, 0xD6, 0x87];
const NEW_MGM_KEY: &str = "0F0E0D0C0B0A09080706050403020100F0E1D2C3B4A59687";

/// The test command installs every tool (scripts/install-test-deps.sh): a missing
/// one fails the test rather than letting it pass without checking anything.
fn require_tools(tools: &[&str]) {
    let absent: Vec<_> = tools.iter().filter(|t| !piv_tools::installed(t)).collect();
    assert!(
        absent.is_empty(),
        "{absent:?} not installed (scripts/install-test-deps.sh)"
    );
}

/// A blank PIV card in slot 0, its state file in `dir`.
fn blank_piv(harness: &mut PcscHarness, dir: &Path) -> (SimProcess, PathBuf) {
    let state = dir.join("piv.json");
    let sim = harness
        .start_card(0, SimSpec::piv(&state, SERIAL))
        .expect("PIV card in slot 0");
    (sim, state)
}

fn card_state(path: &Path) -> card_sim::PivState {
    match SimCard::load(path, SimOptions::default())
        .expect("state file")
        .card_state()
    {
        CardState::Piv(state) => state,
        CardState::Native(_) => panic!("a PIV card"),
    }
}

fn set_up(dir: &Path, new_key: Option<&str>) -> YkCard {
    let mut setup = YkSetup::new(READER);
    setup.new_mgm_key_hex = new_key.map(str::to_owned);
    setup_with_yubico_piv_tool(&setup, dir).expect("yubico-piv-tool sets the card up")
}

/// The value after `label\t` on its line of yubico-piv-tool's status output.
fn status_field<'a>(status: &'a str, label: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(label)?.strip_prefix(":\t"))
}

#[test]
fn yubico_piv_tool_status_lists_a_blank_card() {
    require_tools(&["yubico-piv-tool"]);
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let _card = blank_piv(&mut harness, dir.path());
    let run = yubico_piv_tool(dir.path(), "Virtual", None)
        .args(["-a", "status"])
        .ok()
        .expect("status");
    let out = run.stdout;
    assert_eq!(status_field(&out, "Version"), Some("5.0.0"), "{out}");
    assert_eq!(
        status_field(&out, "Serial Number"),
        Some("1234567"),
        "{out}"
    );
    assert_eq!(
        status_field(&out, "CHUID"),
        Some("No data available"),
        "{out}"
    );
    assert_eq!(
        status_field(&out, "CCC"),
        Some("No data available"),
        "{out}"
    );
    assert_eq!(status_field(&out, "PIN tries left"), Some("3"), "{out}");
    assert!(!out.contains("Slot "), "no certificates yet: {out}");
}

#[test]
fn a_card_set_up_by_yubico_piv_tool_shows_its_9e_certificate_and_chuid() {
    require_tools(&["yubico-piv-tool", "openssl"]);
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let (_card, state) = blank_piv(&mut harness, dir.path());
    let yk = set_up(dir.path(), None);

    // What the card holds is what the tool wrote: the certificate in 70/71/FE form,
    // a key in 9E, a CHUID from ykpiv's template (FASC-N D4 E7 39 DA …).
    let piv = card_state(&state);
    let cert_object = piv.objects.get(&CERT_9E).expect("5FC101 written");
    assert_eq!(&cert_object[..2], &[0x70, 0x82]);
    assert_eq!(
        &cert_object[4..4 + yk.cert_der.len()],
        yk.cert_der.as_slice()
    );
    assert!(piv.keys.contains_key(&0x9E));
    let chuid = piv.objects.get(&CHUID).expect("CHUID written").clone();
    assert_eq!(&chuid[..6], &[0x30, 0x19, 0xD4, 0xE7, 0x39, 0xDA]);
    assert_eq!(piv.pin.tries_left(), 3, "no PIN was needed");

    let out = yubico_piv_tool(dir.path(), READER, None)
        .args(["-a", "status"])
        .ok()
        .expect("status")
        .stdout;
    assert_eq!(
        status_field(&out, "CHUID"),
        Some(hex::encode(&chuid).as_str()),
        "{out}"
    );
    assert!(
        status_field(&out, "CCC").is_some_and(|c| c.starts_with("f015a000000116ff02")),
        "{out}"
    );
    assert!(out.contains("Slot 9e:"), "{out}");
    assert_eq!(status_field(&out, "\tAlgorithm"), Some("ECCP256"), "{out}");
    assert_eq!(
        status_field(&out, "\tSubject DN"),
        Some("CN=yubico-piv-tool test"),
        "{out}"
    );
    assert_eq!(
        status_field(&out, "\tIssuer DN"),
        Some("CN=ecard test root"),
        "{out}"
    );

    let read = yubico_piv_tool(dir.path(), READER, None)
        .args(["-a", "read-object", "--id", "0x5fc102"])
        .ok()
        .expect("read-object");
    assert_eq!(read.stdout.trim(), hex::encode(&chuid));

    // 9E signs without a PIN.
    let test = yubico_piv_tool(dir.path(), READER, None)
        .args(["-a", "test-signature", "-s", "9e", "-i", "9e.pem"])
        .ok()
        .expect("test-signature");
    assert!(
        test.text().contains("Successful ECDSA verification"),
        "{}",
        test.text()
    );
    assert_eq!(card_state(&state).pin.tries_left(), 3);
}

#[test]
fn set_mgm_key_replaces_the_9b_key_and_the_old_one_is_refused() {
    require_tools(&["yubico-piv-tool", "openssl"]);
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let (_card, state) = blank_piv(&mut harness, dir.path());
    let yk = set_up(dir.path(), Some(NEW_MGM_KEY));
    assert_eq!(yk.mgm_key_hex, NEW_MGM_KEY);
    assert_eq!(
        hex::encode_upper(card_state(&state).admin_key.expose()),
        NEW_MGM_KEY
    );
    let before = card_state(&state);
    let old = yubico_piv_tool(dir.path(), READER, Some(DEFAULT_MGM_KEY_HEX))
        .args(["-a", "set-chuid"])
        .run()
        .expect("run");
    assert!(
        !old.success,
        "the factory key no longer works: {}",
        old.text()
    );
    assert!(
        old.text().contains("Failed authentication"),
        "{}",
        old.text()
    );
    assert_eq!(card_state(&state), before, "nothing written");
    let new = yubico_piv_tool(dir.path(), READER, Some(NEW_MGM_KEY))
        .args(["-a", "set-chuid"])
        .ok()
        .expect("the new key works");
    assert!(
        new.text().contains("Successfully set new CHUID"),
        "{}",
        new.text()
    );
    assert_ne!(
        card_state(&state).objects.get(&CHUID),
        before.objects.get(&CHUID)
    );
}

#[test]
fn opensc_lists_and_reads_back_the_imported_9e_certificate() {
    require_tools(&["yubico-piv-tool", "openssl", "pkcs15-tool", "opensc-tool"]);
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let _card = blank_piv(&mut harness, dir.path());
    let yk = set_up(dir.path(), None);

    // The PIV driver, chosen from the ATR alone.
    let name = Tool::new("opensc-tool", dir.path())
        .args(["-r", READER, "-n"])
        .ok()
        .expect("opensc-tool -n");
    assert_eq!(name.stdout.trim(), "Personal Identity Verification Card");
    let atr = Tool::new("opensc-tool", dir.path())
        .args(["-r", READER, "-a"])
        .ok()
        .expect("opensc-tool -a");
    assert_eq!(
        atr.stdout.trim(),
        "3b:8f:80:01:80:73:96:21:c0:f9:a0:00:00:03:08:00:00:10:00:c8"
    );

    let list = Tool::new("pkcs15-tool", dir.path())
        .args(["--reader", READER, "--list-certificates"])
        .ok()
        .expect("list-certificates");
    let out = list.stdout;
    assert!(
        out.contains("X.509 Certificate [Certificate for Card Authentication]"),
        "{out}"
    );
    assert!(out.contains("ID             : 04"), "{out}");
    assert_eq!(
        out.matches("X.509 Certificate [").count(),
        1,
        "only 9E: {out}"
    );

    Tool::new("pkcs15-tool", dir.path())
        .args([
            "--reader",
            READER,
            "--read-certificate",
            "04",
            "-o",
            "read.pem",
        ])
        .ok()
        .expect("read-certificate");
    Tool::new("openssl", dir.path())
        .args([
            "x509", "-in", "read.pem", "-outform", "DER", "-out", "read.der",
        ])
        .ok()
        .expect("PEM from OpenSC");
    let read = std::fs::read(dir.path().join("read.der")).expect("read.der");
    assert_eq!(
        read, yk.cert_der,
        "OpenSC reads what yubico-piv-tool imported"
    );
}

#[test]
fn opensc_signs_with_9e_without_a_pin_and_openssl_verifies() {
    require_tools(&["yubico-piv-tool", "openssl", "pkcs15-crypt"]);
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let (_card, state) = blank_piv(&mut harness, dir.path());
    let yk = set_up(dir.path(), None);
    let d = dir.path();
    let challenge: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ 0x5A).collect();
    std::fs::write(d.join("data"), &challenge).expect("data");
    let openssl = |args: &[&str]| {
        Tool::new("openssl", d)
            .args(args.iter().copied())
            .run()
            .expect("openssl")
    };
    assert!(openssl(&["dgst", "-sha256", "-binary", "-out", "sha256.bin", "data"]).success);
    let sign = Tool::new("pkcs15-crypt", d)
        .args([
            "--reader",
            READER,
            "--sign",
            "--key",
            "04",
            "-i",
            "sha256.bin",
            "-o",
            "sig.der",
            "-f",
            "openssl",
        ])
        .ok()
        .expect("pkcs15-crypt signs without asking for a PIN");
    assert!(!sign.text().contains("PIN"), "{}", sign.text());
    assert!(openssl(&["x509", "-in", "9e.pem", "-pubkey", "-noout", "-out", "pub.pem"]).success);
    let verify = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        "pub.pem",
        "-signature",
        "sig.der",
        "data",
    ]);
    assert!(verify.success, "{}", verify.text());
    assert_eq!(verify.stdout.trim(), "Verified OK");
    // The same signature over other data does not verify.
    std::fs::write(d.join("other"), b"not the challenge").expect("other");
    let wrong = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        "pub.pem",
        "-signature",
        "sig.der",
        "other",
    ]);
    assert!(!wrong.success, "{}", wrong.text());
    // And the certificate chains to the root that issued it.
    let chain = openssl(&["verify", "-CAfile", "root.pem", "9e.pem"]);
    assert_eq!(chain.stdout.trim(), "9e.pem: OK", "{}", chain.text());
    assert_eq!(card_state(&state).pin.tries_left(), 3, "no PIN was tried");
    assert!(yk.public_key_pem.exists());
}

#[test]
fn piv_tool_authenticates_with_9b_writes_an_object_and_yubico_piv_tool_reads_it() {
    require_tools(&["piv-tool", "yubico-piv-tool"]);
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let (_card, state) = blank_piv(&mut harness, dir.path());
    let d = dir.path();
    std::fs::write(
        d.join("mgm.bin"),
        hex::decode(DEFAULT_MGM_KEY_HEX).expect("hex"),
    )
    .expect("key");
    std::fs::write(d.join("wrong.bin"), [0x55u8; 24]).expect("key");

    let name = Tool::new("piv-tool", d)
        .args(["-r", READER, "-n"])
        .ok()
        .expect("piv-tool -n");
    assert!(
        name.stdout.contains("Personal Identity Verification Card"),
        "{}",
        name.text()
    );

    // Mutual authentication (-A M:9B:03) with the right key, then a CHUID written
    // as the whole 53 TLV (-O 3000 is the CHUID's container ID).
    let chuid_value = [
        0x30, 0x19, 0xD4, 0xE7, 0x39, 0xDA, 0x73, 0x9C, 0xED, 0x39, 0xCE, 0x73, 0x9D, 0x83, 0x68,
        0x58, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0xC8, 0x42, 0x10, 0xC3, 0xEB, 0x35, 0x08, b'2',
        b'0', b'3', b'0', b'0', b'1', b'0', b'1', 0xFE, 0x00,
    ];
    let mut object = vec![0x53, chuid_value.len() as u8];
    object.extend_from_slice(&chuid_value);
    std::fs::write(d.join("chuid.bin"), &object).expect("chuid");
    let write = Tool::new("piv-tool", d)
        .args([
            "-r",
            READER,
            "-A",
            "M:9B:03",
            "-O",
            "3000",
            "-i",
            "chuid.bin",
        ])
        .env("PIV_EXT_AUTH_KEY", d.join("mgm.bin").display().to_string())
        .run()
        .expect("piv-tool");
    // piv-tool 0.23 exits with the number of bytes written by `-O` (its main()
    // returns sc_write_binary's count as the exit status), so success is that count.
    assert_eq!(write.code, Some(object.len() as i32), "{}", write.text());
    assert!(!write.text().contains("failed"), "{}", write.text());
    assert_eq!(
        card_state(&state).objects.get(&CHUID).map(Vec::as_slice),
        Some(&chuid_value[..])
    );
    let read = yubico_piv_tool(d, READER, None)
        .args(["-a", "read-object", "--id", "0x5fc102"])
        .ok()
        .expect("read-object");
    assert_eq!(read.stdout.trim(), hex::encode(chuid_value));

    // A wrong key: refused, nothing written.
    let before = card_state(&state);
    let wrong = Tool::new("piv-tool", d)
        .args([
            "-r",
            READER,
            "-A",
            "M:9B:03",
            "-O",
            "3000",
            "-i",
            "chuid.bin",
        ])
        .env(
            "PIV_EXT_AUTH_KEY",
            d.join("wrong.bin").display().to_string(),
        )
        .run()
        .expect("piv-tool");
    assert!(
        wrong.text().contains("admin_mode failed"),
        "{}",
        wrong.text()
    );
    assert_eq!(card_state(&state), before);
}

//! Hex APDUs fed to an in-memory card, each test one behaviour of docs/PROFILE.md §2
//! (in the manner of Nitrokey opcard-rs tests/command_response.rs).

// Test helpers outside #[test] fns panic on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use card_profile::apdu::{Command, Ins};
use card_profile::chip_auth;
use card_profile::profile::{FileId, LifeCycle};
use card_sim::SimOptions;
use common::*;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

const SERIAL_HEX: &str = "0102030405060708";

#[test]
fn select_by_aid_returns_the_fci() {
    let mut card = card(SimOptions::default());
    let resp = tx(&mut card, "00A40400 07 F04543415244 01 00");
    // 6F { 84 AID, 8A 01, A5 { 80 01 01, 81 01 03, 82 08 serial, 83 02 FFFF } }
    let expected = format!(
        "6F22 8407F04543415244 01 8A0101 A514 800101 810103 8208{SERIAL_HEX} 8302FFFF 9000"
    )
    .replace(' ', "");
    assert_eq!(resp, expected);
    assert_eq!(tx(&mut card, "00A4040C 07 F04543415244 01"), "9000");
    assert_eq!(tx(&mut card, "00A40400 07 F04543415244 02 00"), "6A82");
    assert_eq!(tx(&mut card, "00A40401 07 F04543415244 01 00"), "6A86");
}

#[test]
fn commands_before_select_are_refused() {
    let mut card = card(SimOptions::default());
    assert_eq!(tx(&mut card, "00B08100 00"), "6985");
    assert_eq!(tx(&mut card, "0084000010"), "6985");
    assert_eq!(tx(&mut card, "00A4020C 02 0101"), "6985");
    assert_eq!(tx(&mut card, "10D68300 02 0102"), "6985");
}

#[test]
fn unknown_class_instruction_and_bad_lengths() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    assert_eq!(tx(&mut card, "A0B08100 00"), "6E00");
    assert_eq!(tx(&mut card, "80B08100 00"), "6E00");
    assert_eq!(tx(&mut card, "00EE0000"), "6E00");
    assert_eq!(tx(&mut card, "0012000000"), "6D00");
    assert_eq!(tx(&mut card, "00B081 "), "6700");
    assert_eq!(tx(&mut card, "00D68200 03 0102"), "6700");
}

#[test]
fn ef_ver_is_written_at_manufacture() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    let resp = tx(&mut card, "00B08100 00");
    assert_eq!(
        resp,
        format!("6010800101810103 8208{SERIAL_HEX} 9000").replace(' ', "")
    );
    // The same file by FID and current-EF offset, and past its end.
    assert_eq!(tx(&mut card, "00A4020C 02 0101"), "9000");
    assert_eq!(tx(&mut card, "00B0000F 03"), "0607089000");
    assert_eq!(tx(&mut card, "00B00012 00"), "9000");
    assert_eq!(tx(&mut card, "00B00013 00"), "6B00");
    assert_eq!(tx(&mut card, "00A4020C 02 0199"), "6A82");
}

#[test]
fn read_binary_without_current_ef_is_not_allowed() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    assert_eq!(tx(&mut card, "00B00000 00"), "6986");
    assert_eq!(tx(&mut card, "00B09F00 00"), "6A82");
    // EF.REVIEWS has records, not bytes.
    assert_eq!(tx(&mut card, "00B08600 00"), "6986");
}

#[test]
fn writes_without_the_management_key_are_refused() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    assert_eq!(tx(&mut card, "00D68200 03 610100"), "6982");
    assert_eq!(tx(&mut card, "00E20030 03 640100"), "6982");
    assert_eq!(tx(&mut card, "00478081 00"), "6982");
    assert_eq!(tx(&mut card, "00440000"), "6982");
    assert_eq!(tx(&mut card, "00E60000"), "6982");
    assert_eq!(tx(&mut card, "80EE0000"), "6982");
    assert_eq!(card.life_cycle(), LifeCycle::Blank);
}

#[test]
fn external_authenticate_opens_a_write_session() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    authenticate(&mut card);
    assert_eq!(tx(&mut card, "00D68200 03 610100"), "9000");
    assert_eq!(card.file(FileId::Holder), [0x61, 0x01, 0x00]);
    // The first write leaves "blank" for good.
    assert_eq!(card.life_cycle(), LifeCycle::Personalizing);
    // EF.VER is never writable.
    assert_eq!(tx(&mut card, "00D68100 01 00"), "6985");
    // Capacity of EF.HOLDER is 512.
    let cmd = Command::new(Ins::UpdateBinary)
        .p1(0x82)
        .p2(0xFF)
        .data(vec![0; 258]);
    assert_eq!(
        hex::encode_upper(card.process(&cmd.encode(true).unwrap())),
        "6A84"
    );
    // Selecting the application again ends the session.
    select(&mut card);
    assert_eq!(tx(&mut card, "00D68200 01 61"), "6982");
}

#[test]
fn external_authenticate_without_challenge_is_6984() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    assert_eq!(
        tx(&mut card, &format!("00820001 10 {}", "00".repeat(16))),
        "6984"
    );
    assert_eq!(
        tx(&mut card, &format!("00820002 10 {}", "00".repeat(16))),
        "6A88"
    );
}

#[test]
fn challenge_is_single_use() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    let resp = card.process(&hex::decode("0084000010").unwrap());
    let challenge: [u8; 16] = resp[..16].try_into().unwrap();
    let crypt = master().derive(&SERIAL).cryptogram(&SERIAL, &challenge);
    let apdu = [&hex::decode("0082000110").unwrap()[..], &crypt].concat();
    assert_eq!(hex::encode_upper(card.process(&apdu)), "9000");
    assert_eq!(hex::encode_upper(card.process(&apdu)), "6984");
    // A fresh challenge replaces the old one.
    let a = tx(&mut card, "0084000010");
    let b = tx(&mut card, "0084000010");
    assert_ne!(a, b);
}

#[test]
fn wrong_cryptograms_count_down_and_block() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    for left in (0..10).rev() {
        assert!(tx(&mut card, "0084000010").ends_with("9000"));
        let resp = tx(&mut card, &format!("00820001 10 {}", "00".repeat(16)));
        assert_eq!(resp, format!("63C{left:X}"));
    }
    assert_eq!(card.tries_left(), 0);
    tx(&mut card, "0084000010");
    assert_eq!(
        tx(&mut card, &format!("00820001 10 {}", "00".repeat(16))),
        "6983"
    );
    // Blocked for good: even the right cryptogram is refused.
    let resp = card.process(&hex::decode("0084000010").unwrap());
    let challenge: [u8; 16] = resp[..16].try_into().unwrap();
    let crypt = master().derive(&SERIAL).cryptogram(&SERIAL, &challenge);
    let apdu = [&hex::decode("0082000110").unwrap()[..], &crypt].concat();
    assert_eq!(hex::encode_upper(card.process(&apdu)), "6983");
}

#[test]
fn a_correct_cryptogram_resets_the_try_counter() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    tx(&mut card, "0084000010");
    assert_eq!(
        tx(&mut card, &format!("00820001 10 {}", "00".repeat(16))),
        "63C9"
    );
    authenticate(&mut card);
    assert_eq!(card.tries_left(), 10);
}

#[test]
fn generated_chip_key_signs_internal_authenticate() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    assert_eq!(tx(&mut card, "00478181 00"), "6A88");
    authenticate(&mut card);
    let resp = card.process(&hex::decode("0047808100").unwrap());
    assert_eq!(&resp[resp.len() - 2..], [0x90, 0x00]);
    assert_eq!(&resp[..5], [0x7F, 0x49, 0x43, 0x86, 0x41]);
    let point = resp[5..70].to_vec();
    assert_eq!(point[0], 0x04);
    assert_eq!(card.life_cycle(), LifeCycle::Personalizing);
    // P1=81 reads the same point back, without the key.
    select(&mut card);
    assert_eq!(card.process(&hex::decode("0047818100").unwrap()), resp);

    let challenge = [0x5Au8; 32];
    let cmd = Command::new(Ins::InternalAuthenticate)
        .p2(0x81)
        .data(challenge.to_vec())
        .ne(256);
    let sig = card.process(&cmd.encode(false).unwrap());
    assert_eq!(sig.len(), 66);
    assert_eq!(&sig[64..], [0x90, 0x00]);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(&chip_auth::message(&challenge), &sig[..64])
        .expect("chip signature verifies against the generated point");
    // Challenge size is 16..=64.
    assert_eq!(
        tx(&mut card, &format!("00880081 0F {} 00", "00".repeat(15))),
        "6700"
    );
    assert_eq!(
        tx(&mut card, &format!("00880081 41 {} 00", "00".repeat(65))),
        "6700"
    );
}

#[test]
fn internal_authenticate_needs_a_key() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    assert_eq!(
        tx(&mut card, &format!("00880081 20 {} 00", "00".repeat(32))),
        "6985"
    );
}

#[test]
fn activation_is_refused_while_files_are_missing() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    authenticate(&mut card);
    // Blank card: not personalizing yet.
    assert_eq!(tx(&mut card, "00440000"), "6985");
    assert!(tx(&mut card, "00478081 00").ends_with("9000"));
    for sfi in [2u8, 3, 4, 5] {
        assert_eq!(tx(&mut card, "00440000"), "6985");
        assert_eq!(
            write_file(&mut card, sfi, &[0x60 + sfi, 0x01, 0x00]),
            "9000"
        );
    }
    assert_eq!(tx(&mut card, "00440000"), "6985");
    assert_eq!(write_file(&mut card, 7, &[0x65, 0x01, 0x00]), "9000");
    assert_eq!(tx(&mut card, "00440000"), "9000");
    assert_eq!(card.life_cycle(), LifeCycle::Activated);
}

#[test]
fn activated_card_keeps_its_data_read_only() {
    let mut card = card(SimOptions::default());
    personalize(&mut card);
    assert_eq!(tx(&mut card, "00440000"), "9000");
    for sfi in [2u8, 3, 4, 5] {
        assert_eq!(write_file(&mut card, sfi, &[0x00]), "6985");
    }
    assert_eq!(tx(&mut card, "00478081 00"), "6985");
    assert_eq!(tx(&mut card, "00440000"), "6985");
    // EF.STATUS stays writable with the key.
    assert_eq!(write_file(&mut card, 7, &[0x65, 0x01, 0x01]), "9000");
    // Still readable, and the FCI says 05.
    assert_eq!(tx(&mut card, "00B08200 00"), "6202AA029000");
    assert!(tx(&mut card, "00A40400 07 F04543415244 01 00").contains("8A0105"));
}

#[test]
fn reviews_are_appended_and_read_by_number() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    authenticate(&mut card);
    // Blank: REVIEWS accepts appends only from LCS 03.
    assert_eq!(tx(&mut card, "00E20030 03 640101"), "6985");
    personalize(&mut card);
    assert_eq!(tx(&mut card, "00E20030 03 640101"), "9000");
    assert_eq!(tx(&mut card, "00440000"), "9000");
    assert_eq!(tx(&mut card, "00E20030 03 640102"), "9000");
    assert_eq!(tx(&mut card, "00B20134 00"), "6401019000");
    assert_eq!(tx(&mut card, "00B20234 00"), "6401029000");
    assert_eq!(tx(&mut card, "00B20334 00"), "6A83");
    assert_eq!(tx(&mut card, "00B20034 00"), "6A86");
    // Wrong file structure, and record size limits.
    assert_eq!(tx(&mut card, "00B20114 00"), "6986");
    let big = Command::new(Ins::AppendRecord)
        .p2(0x30)
        .data(vec![0x64; 641]);
    assert_eq!(
        hex::encode_upper(card.process(&big.encode(true).unwrap())),
        "6700"
    );
    for n in 3..=16 {
        assert_eq!(tx(&mut card, &format!("00E20030 03 6401{n:02X}")), "9000");
    }
    assert_eq!(tx(&mut card, "00E20030 03 640111"), "6A84");
    assert_eq!(card.records().len(), 16);
}

#[test]
fn terminated_application_is_readable_but_dead() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    authenticate(&mut card);
    // Nothing to terminate on a blank card.
    assert_eq!(tx(&mut card, "00E60000"), "6985");
    personalize(&mut card);
    assert_eq!(tx(&mut card, "00440000"), "9000");
    assert_eq!(tx(&mut card, "00E60000"), "9000");
    assert_eq!(card.life_cycle(), LifeCycle::Terminated);

    let resp = tx(&mut card, "00A40400 07 F04543415244 01 00");
    assert!(resp.ends_with("6285"), "{resp}");
    assert!(resp.contains("8A010C"));
    assert_eq!(tx(&mut card, "00A4040C 07 F04543415244 01"), "6285");
    assert_eq!(tx(&mut card, "00B08200 00"), "6202AA029000");
    assert_eq!(
        tx(&mut card, &format!("00880081 20 {} 00", "00".repeat(32))),
        "6985"
    );
    authenticate(&mut card);
    assert_eq!(write_file(&mut card, 7, &[0x65, 0x01, 0x02]), "6985");
    assert_eq!(tx(&mut card, "00E20030 03 640101"), "6985");
    assert_eq!(tx(&mut card, "80EE0000"), "6985");
    assert_eq!(tx(&mut card, "00E60000"), "6985");
}

#[test]
fn wipe_returns_an_unactivated_card_to_blank() {
    let mut card = card(SimOptions::default());
    personalize(&mut card);
    assert_eq!(tx(&mut card, "00E20030 03 640101"), "9000");
    let ver = card.file(FileId::Ver).to_vec();
    assert_eq!(tx(&mut card, "80EE0000"), "9000");
    assert_eq!(card.life_cycle(), LifeCycle::Blank);
    assert_eq!(card.file(FileId::Ver), ver);
    assert!(card.file(FileId::Holder).is_empty());
    assert!(card.records().is_empty());
    assert!(!card.has_chip_key());
    assert_eq!(tx(&mut card, "00478181 00"), "6A88");
}

#[test]
fn wipe_is_refused_after_activation() {
    let mut card = card(SimOptions::default());
    personalize(&mut card);
    assert_eq!(tx(&mut card, "00440000"), "9000");
    assert_eq!(tx(&mut card, "80EE0000"), "6985");
    assert_eq!(card.life_cycle(), LifeCycle::Activated);
}

#[test]
fn chained_update_binary_executes_once_on_the_last_link() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    authenticate(&mut card);
    let data: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
    let mut links = data.chunks(255).peekable();
    while let Some(chunk) = links.next() {
        let mut cmd = Command::new(Ins::UpdateBinary)
            .p1(0x83)
            .data(chunk.to_vec());
        if links.peek().is_some() {
            cmd.cla |= 0x10;
        }
        assert_eq!(
            hex::encode_upper(card.process(&cmd.encode(false).unwrap())),
            "9000"
        );
        // Nothing is written before the last link.
        let written = card.file(FileId::Photo).len();
        assert!(written == 0 || written == 600);
    }
    assert_eq!(card.file(FileId::Photo), data);
}

#[test]
fn a_link_with_another_header_aborts_the_chain() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    authenticate(&mut card);
    assert_eq!(tx(&mut card, "10D68300 02 0102"), "9000");
    assert_eq!(tx(&mut card, "00D68400 02 0304"), "6883");
    assert!(card.file(FileId::Photo).is_empty());
    assert!(card.file(FileId::Cert).is_empty());

    let mut plain = common::card(SimOptions {
        command_chaining: false,
        ..SimOptions::default()
    });
    select(&mut plain);
    assert_eq!(tx(&mut plain, "10D68300 02 0102"), "6884");
}

#[test]
fn short_only_card_refuses_extended_apdus() {
    let mut card = card(SimOptions {
        extended_length: false,
        ..SimOptions::default()
    });
    let fci = tx(&mut card, "00A40400 07 F04543415244 01 00");
    assert!(fci.contains("810102"), "{fci}");
    assert!(fci.contains("830200FF"), "{fci}");
    assert_eq!(tx(&mut card, "00B08100 000000"), "6700");
    assert_eq!(tx(&mut card, "00B08100 000100"), "6700");
    assert!(tx(&mut card, "00B08100 00").ends_with("9000"));

    let mut ext = common::card(SimOptions::default());
    select(&mut ext);
    assert!(tx(&mut ext, "00B08100 000000").starts_with("6010"));
}

#[test]
fn whole_photo_goes_in_one_extended_write_and_one_read() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    authenticate(&mut card);
    let photo = vec![0xA5; 9000];
    assert_eq!(write_file(&mut card, 3, &photo), "9000");
    let resp = card.process(&hex::decode("00B08300000000").unwrap());
    assert_eq!(resp.len(), 9002);
    assert_eq!(&resp[..9000], &photo[..]);
}

#[test]
fn t0_case4_response_comes_through_get_response() {
    let mut card = card(SimOptions {
        t0_style: true,
        ..SimOptions::default()
    });
    assert_eq!(tx(&mut card, "00A40400 07 F04543415244 01 00"), "6124");
    let fci = tx(&mut card, "00C00000 24");
    assert!(fci.starts_with("6F22") && fci.ends_with("9000"), "{fci}");
    // Nothing left.
    assert_eq!(tx(&mut card, "00C00000 24"), "6985");
    // Fetched in two parts.
    assert_eq!(tx(&mut card, "00A40400 07 F04543415244 01 00"), "6124");
    assert_eq!(sw(&tx(&mut card, "00C00000 10")), "6114");
    assert_eq!(sw(&tx(&mut card, "00C00000 14")), "9000");
}

#[test]
fn t0_case2_with_wrong_le_gets_6cxx() {
    let mut card = card(SimOptions {
        t0_style: true,
        ..SimOptions::default()
    });
    tx(&mut card, "00A4040C 07 F04543415244 01");
    // EF.VER is 18 bytes.
    assert_eq!(tx(&mut card, "00B08100 00"), "6C12");
    assert!(tx(&mut card, "00B08100 12").starts_with("6010"));
    assert_eq!(tx(&mut card, "0084000000"), "6C10");
    assert_eq!(tx(&mut card, "0084000010").len(), 36);
    // Shorter than available is fine for READ BINARY: the host asked for a part.
    assert_eq!(tx(&mut card, "00B08100 02"), "60109000");
}

#[test]
fn t0_key_generation_is_not_run_twice_on_6cxx() {
    let mut card = card(SimOptions {
        t0_style: true,
        ..SimOptions::default()
    });
    tx(&mut card, "00A4040C 07 F04543415244 01");
    let challenge = card.process(&hex::decode("0084000010").unwrap());
    let challenge: [u8; 16] = challenge[..16].try_into().unwrap();
    let crypt = master().derive(&SERIAL).cryptogram(&SERIAL, &challenge);
    let apdu = [&hex::decode("0082000110").unwrap()[..], &crypt].concat();
    assert_eq!(hex::encode_upper(card.process(&apdu)), "9000");
    assert_eq!(tx(&mut card, "00478081 00"), "6C46");
    assert!(!card.has_chip_key());
    assert!(tx(&mut card, "00478081 46").starts_with("7F4943"));
    assert!(card.has_chip_key());
}

#[test]
fn long_record_comes_through_get_response() {
    let mut card = card(SimOptions::default());
    personalize(&mut card);
    let record: Vec<u8> = (0..640u32).map(|i| (i % 251) as u8).collect();
    let append = Command::new(Ins::AppendRecord)
        .p2(0x30)
        .data(record.clone());
    assert_eq!(
        hex::encode_upper(card.process(&append.encode(true).unwrap())),
        "9000"
    );
    let first = card.process(&hex::decode("00B2013400").unwrap());
    assert_eq!(first.len(), 258);
    assert_eq!(&first[256..], [0x61, 0x00]);
    let second = card.process(&hex::decode("00C0000000").unwrap());
    assert_eq!(&second[256..], [0x61, 0x80]);
    let third = card.process(&hex::decode("00C0000080").unwrap());
    assert_eq!(&third[128..], [0x90, 0x00]);
    let all = [&first[..256], &second[..256], &third[..128]].concat();
    assert_eq!(all, record);
    // An extended Le gets it in one piece.
    let whole = card.process(&hex::decode("00B20134000000").unwrap());
    assert_eq!(&whole[..640], &record[..]);
    // Any other command drops what was pending.
    card.process(&hex::decode("00B2013400").unwrap());
    tx(&mut card, "00B08100 00");
    assert_eq!(tx(&mut card, "00C00000 00"), "6985");
}

#[test]
fn power_cycle_ends_selection_and_session() {
    let mut card = card(SimOptions::default());
    select(&mut card);
    authenticate(&mut card);
    card.power_cycle();
    assert_eq!(tx(&mut card, "00B08100 00"), "6985");
    select(&mut card);
    assert_eq!(tx(&mut card, "00D68200 01 61"), "6982");
}

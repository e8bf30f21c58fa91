//! The PIV card, command by command, as hex APDUs in memory: status words, access
//! rules, chaining, GET RESPONSE, the 9B flows, keys, and that a refused command
//! changes nothing. Expected bytes are from SP 800-73-4 and ../shared/PIV.md.

#![allow(clippy::unwrap_used)]

mod piv_common;

use card_sim::piv::objects::{
    CCC, CERT_9E, CHUID, FACIAL_IMAGE, FINGERPRINTS, IRIS, PRINTED_INFO, TOTAL_BUDGET,
    YUBIKEY_OBJECT_MAX,
};
use card_sim::piv::{AdminAlg, AdminKey};
use card_sim::{Family, SimOptions};
use piv_common::*;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};

const SELECT_PIV_FULL: &str = "00A4040009 A00000030800001000 00";
const SELECT_PIV_YKPIV: &str = "00A4040005 A000000308";

#[test]
fn select_by_any_prefix_of_five_or_more_bytes_answers_the_apt() {
    let mut card = piv();
    assert_eq!(card.family(), Family::Piv);
    for select in [
        SELECT_PIV_FULL,
        SELECT_PIV_YKPIV,
        "00A404000B A0000003080000100001 00",
    ] {
        let resp = tx(&mut card, select);
        assert_eq!(sw(&resp), "9000", "{select}");
        let apt = data(&resp);
        assert_eq!(apt[0], 0x61);
        let hex = hex::encode_upper(&apt);
        assert!(hex.contains("4F06000010000100"), "PIX under 61/4F: {hex}");
        assert!(hex.contains("79074F05A000000308"), "authority: {hex}");
        assert!(hex.contains("AC"), "algorithms: {hex}");
        assert!(hex.ends_with("060100"), "AC ends with 06 00: {hex}");
        // ykpiv reads the SELECT answer into 255 bytes.
        assert!(apt.len() < 253);
    }
    assert_eq!(tx(&mut card, "00A4040C05 A000000308"), "9000");
    assert_eq!(
        tx(&mut card, "00A4040004 A0000003"),
        "6A82",
        "4 bytes is too short"
    );
    assert_eq!(tx(&mut card, "00A4040005 A000000309"), "6A82");
}

#[test]
fn select_of_the_native_aid_is_6a82_and_keeps_pin_and_admin_state() {
    let mut card = piv();
    verify_pin(&mut card);
    admin(&mut card);
    assert_eq!(tx(&mut card, "00A4040C07 F0454341524401"), "6A82");
    assert_eq!(tx(&mut card, "00A4040007 F0454341524401 00"), "6A82");
    assert_eq!(tx(&mut card, "00A4000C02 3F00"), "6A82");
    assert_eq!(tx(&mut card, "0020008000"), "9000", "PIN still verified");
    assert_eq!(
        put_object(&mut card, CHUID, &[0x30, 0x01, 0x00]),
        "9000",
        "9B still authenticated"
    );
    // Re-selecting PIV keeps them too.
    assert_eq!(sw(&tx(&mut card, SELECT_PIV_FULL)), "9000");
    assert_eq!(tx(&mut card, "00200080"), "9000");
    assert_eq!(put_object(&mut card, CHUID, &[0x30, 0x01, 0x01]), "9000");
}

#[test]
fn a_fresh_card_is_factory_blank_and_selected_from_power_up() {
    let mut card = piv();
    // No SELECT: PIV is the default application.
    assert_eq!(tx(&mut card, "00CB3FFF 05 5C035FC102 00"), "6A82");
    assert_eq!(
        tx(&mut card, "00CB3FFF 03 5C017E 00"),
        "7E124F0BA0000003080000100001005F2F02400090 00".replace(' ', ""),
        "discovery: AID and PIN policy 40 00"
    );
    assert_eq!(tx(&mut card, "0020008000"), "63C3");
    assert_eq!(tx(&mut card, "00FD000000"), "0500009000");
    assert_eq!(tx(&mut card, "00F8000000"), "0012D6879000");
    let p = card.piv().unwrap();
    assert!(p.is_blank());
    assert_eq!(p.admin_key(), &AdminKey::factory());
    assert_eq!((p.pin_tries_left(), p.puk_tries_left()), (3, 3));
    assert_eq!(card.life_cycle(), card_profile::profile::LifeCycle::Blank);
}

#[test]
fn pin_protected_objects_answer_6982_before_the_pin_even_when_empty() {
    let mut card = piv();
    for tag in [FINGERPRINTS, FACIAL_IMAGE, PRINTED_INFO, IRIS] {
        assert_eq!(get_object(&mut card, tag).1, "6982", "{tag:X}");
    }
    for tag in [CHUID, CCC, CERT_9E, 0x5F_C110, 0x5F_FF00] {
        assert_eq!(get_object(&mut card, tag).1, "6A82", "{tag:X}");
    }
    verify_pin(&mut card);
    for tag in [FINGERPRINTS, FACIAL_IMAGE, PRINTED_INFO, IRIS] {
        assert_eq!(
            get_object(&mut card, tag).1,
            "6A82",
            "{tag:X} after the PIN"
        );
    }
    admin(&mut card);
    assert_eq!(put_object(&mut card, FACIAL_IMAGE, b"jpeg"), "9000");
    assert_eq!(
        get_object(&mut card, FACIAL_IMAGE),
        (b"\x53\x04jpeg".to_vec(), "9000".into())
    );
    // Logging out (P1=FF) closes it again.
    assert_eq!(tx(&mut card, "0020FF80"), "9000");
    assert_eq!(get_object(&mut card, FACIAL_IMAGE).1, "6982");
    // Power loss too.
    verify_pin(&mut card);
    card.power_cycle();
    assert_eq!(get_object(&mut card, FACIAL_IMAGE).1, "6982");
}

#[test]
fn get_data_refuses_what_is_not_an_object() {
    let mut card = piv();
    assert_eq!(
        tx(&mut card, "00CB3FFF 05 5C035FC104 00"),
        "6A80",
        "5FC104 is not in 73-4"
    );
    assert_eq!(tx(&mut card, "00CB3FFF 05 5C035FFE00 00"), "6A80");
    assert_eq!(tx(&mut card, "00CB3FFE 05 5C035FC102 00"), "6A86");
    assert_eq!(tx(&mut card, "00CB3FFF 05 5D035FC102 00"), "6A80");
    assert_eq!(
        tx(&mut card, "00CB3FFF 06 5C035FC10200 00"),
        "6A80",
        "trailing byte"
    );
    assert_eq!(tx(&mut card, "00CB3FFF 04 5C045FC102"), "6A80", "truncated");
    assert_eq!(
        tx(&mut card, "00CB3FFF 06 5C045FC10201 00"),
        "6A80",
        "four-byte tag"
    );
}

#[test]
fn put_data_needs_9b_and_53_00_deletes() {
    let mut card = piv();
    let before = card.card_state();
    assert_eq!(put_object(&mut card, CHUID, b"\x30\x01\x00"), "6982");
    verify_pin(&mut card);
    assert_eq!(
        put_object(&mut card, CHUID, b"\x30\x01\x00"),
        "6982",
        "the PIN is not 9B"
    );
    assert_eq!(card.card_state(), before);
    admin(&mut card);
    assert_eq!(put_object(&mut card, CHUID, b"\x30\x01\x00"), "9000");
    assert_eq!(
        get_object(&mut card, CHUID),
        (b"\x53\x03\x30\x01\x00".to_vec(), "9000".into())
    );
    assert_eq!(
        card.piv().unwrap().object(CHUID),
        Some(&b"\x30\x01\x00"[..])
    );
    assert_eq!(put_object(&mut card, CHUID, b""), "9000");
    assert_eq!(get_object(&mut card, CHUID).1, "6A82");
    assert_eq!(card.piv().unwrap().object(CHUID), None);
    // Discovery in its own form, and back to the default when emptied.
    assert_eq!(tx(&mut card, "00DB3FFF 06 7E044F020102"), "9000");
    assert_eq!(tx(&mut card, "00CB3FFF 03 5C017E 00"), "7E044F0201029000");
    assert_eq!(tx(&mut card, "00DB3FFF 02 7E00"), "9000");
    assert!(tx(&mut card, "00CB3FFF 03 5C017E 00").starts_with("7E12"));
    // Malformed or unknown: 6A80.
    assert_eq!(tx(&mut card, "00DB3FFF 07 5C035FC102 5301"), "6A80");
    assert_eq!(tx(&mut card, "00DB3FFF 07 5C035FC104 5300"), "6A80");
    assert_eq!(tx(&mut card, "00DB3FFF 07 5C035FC102 7E00"), "6A80");
    assert_eq!(tx(&mut card, "00DB3FFF 05 5C035FC102"), "6A80");
}

#[test]
fn big_objects_are_written_chained_and_read_through_get_response() {
    let mut card = piv();
    admin(&mut card);
    let cert: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    assert_eq!(put_object(&mut card, CERT_9E, &cert), "9000");
    let (got, last) = get_object(&mut card, CERT_9E);
    assert_eq!(last, "9000");
    assert_eq!(
        got,
        card_profile::tlv::encode(card_profile::tlv::Tag(0x53), &cert)
    );

    // ykpiv's way: no Le at all reads 256 bytes at a time.
    let resp = card.process(&apdu(
        0,
        0xCB,
        0x3F,
        0xFF,
        &[0x5C, 0x03, 0x5F, 0xC1, 0x01],
        None,
    ));
    assert_eq!(resp.len(), 258);
    assert_eq!(&resp[256..], &[0x61, 0x00]);
    // GET RESPONSE honours Le.
    let resp = tx(&mut card, "00C0000010");
    assert_eq!(data(&resp).len(), 16);
    assert_eq!(sw(&resp), "6100");

    // OpenSC's way: Le=08 for the header, then a new GET DATA drops the leftovers.
    let resp = card.process(&apdu(
        0,
        0xCB,
        0x3F,
        0xFF,
        &[0x5C, 0x03, 0x5F, 0xC1, 0x01],
        Some(8),
    ));
    assert_eq!(&resp[..4], &[0x53, 0x82, 0x0B, 0xB8]);
    assert_eq!(&resp[8..], &[0x61, 0x00]);
    assert_eq!(tx(&mut card, "0020008000"), "63C3");
    assert_eq!(
        tx(&mut card, "00C0000000"),
        "6985",
        "leftovers were dropped"
    );
    assert_eq!(tx(&mut card, "00C0010000"), "6A86");
}

#[test]
fn a_broken_chain_is_6883_and_writes_nothing() {
    let mut card = piv();
    admin(&mut card);
    let first = apdu(
        0x10,
        0xDB,
        0x3F,
        0xFF,
        &[0x5C, 0x03, 0x5F, 0xC1, 0x02, 0x53, 0x82, 0x01, 0x00],
        None,
    );
    assert_eq!(hex::encode_upper(card.process(&first)), "9000");
    assert_eq!(tx(&mut card, "00CB3FFF 05 5C035FC102 00"), "6883");
    assert_eq!(card.piv().unwrap().object(CHUID), None);
    // A chain is RAM: lost at power-off.
    assert_eq!(hex::encode_upper(card.process(&first)), "9000");
    card.power_cycle();
    let last = apdu(0x00, 0xDB, 0x3F, 0xFF, &[0u8; 255], None);
    assert_eq!(
        hex::encode_upper(card.process(&last)),
        "6982",
        "no chain and no 9B"
    );
}

#[test]
fn objects_have_a_size_limit_and_the_card_a_budget() {
    let mut card = piv();
    admin(&mut card);
    let before = card.card_state();
    assert_eq!(
        put_object(&mut card, CHUID, &vec![1; YUBIKEY_OBJECT_MAX + 1]),
        "6A84"
    );
    assert_eq!(card.card_state(), before, "a refused write changes nothing");
    assert_eq!(
        put_object(&mut card, CHUID, &vec![1; YUBIKEY_OBJECT_MAX]),
        "9000"
    );
    assert_eq!(
        put_object(&mut card, FACIAL_IMAGE, &vec![2; 12_710]),
        "9000"
    );
    assert_eq!(
        put_object(&mut card, FACIAL_IMAGE, &vec![2; 12_711]),
        "6A84"
    );
    // Fill the vendor range up to the budget.
    let used = YUBIKEY_OBJECT_MAX + 12_710;
    let mut left = TOTAL_BUDGET - used;
    let mut tag = 0x5F_FF00;
    while left > 0 {
        let n = left.min(YUBIKEY_OBJECT_MAX);
        assert_eq!(put_object(&mut card, tag, &vec![3; n]), "9000");
        left -= n;
        tag += 1;
    }
    let full = card.card_state();
    assert_eq!(put_object(&mut card, tag, &[4]), "6A84", "budget spent");
    assert_eq!(card.card_state(), full);
    // Replacing an object counts its old size as free.
    assert_eq!(
        put_object(&mut card, CHUID, &vec![5; YUBIKEY_OBJECT_MAX]),
        "9000"
    );
    assert_eq!(put_object(&mut card, CHUID, &[]), "9000");
    assert_eq!(put_object(&mut card, tag, &[4]), "9000");
}

#[test]
fn verify_counts_down_blocks_and_the_puk_resets() {
    let mut card = piv();
    assert_eq!(tx(&mut card, "00200080"), "63C3", "status without Le");
    assert_eq!(tx(&mut card, "00200080 08 313233343537FFFF"), "63C2");
    assert_eq!(tx(&mut card, "0020008000"), "63C2");
    verify_pin(&mut card);
    assert_eq!(tx(&mut card, "0020008000"), "9000", "verified");
    assert_eq!(
        tx(&mut card, "00200080 08 313233343537FFFF"),
        "63C2",
        "a fresh count after success"
    );
    assert_eq!(
        tx(&mut card, "0020008000"),
        "63C2",
        "a failed VERIFY ends the verification"
    );
    assert_eq!(tx(&mut card, "00200080 08 313233343537FFFF"), "63C1");
    assert_eq!(tx(&mut card, "00200080 08 313233343537FFFF"), "63C0");
    assert_eq!(
        tx(&mut card, "00200080 08 313233343536FFFF"),
        "6983",
        "blocked: even the right PIN"
    );
    assert_eq!(tx(&mut card, "0020008000"), "6983");
    assert_eq!(
        tx(&mut card, "00240080 10 313233343536FFFF 393939393939FFFF"),
        "6983"
    );
    // Wrong length, global PIN, bad parameters.
    assert_eq!(tx(&mut card, "00200080 06 313233343536"), "6700");
    assert_eq!(tx(&mut card, "00200000 08 313233343536FFFF"), "6A88");
    assert_eq!(tx(&mut card, "00200081 08 3132333435363738"), "6A86");
    // RESET RETRY COUNTER: a bad new PIN changes nothing, not even the PUK count.
    assert_eq!(
        tx(&mut card, "002C0080 10 3132333435363738 31323334FFFFFFFF"),
        "6A80"
    );
    assert_eq!(card.piv().unwrap().puk_tries_left(), 3);
    assert_eq!(
        tx(&mut card, "002C0080 10 3132333435363739 363534333231FFFF"),
        "63C2"
    );
    assert_eq!(
        tx(&mut card, "002C0080 10 3132333435363738 363534333231FFFF"),
        "9000"
    );
    assert_eq!(
        card.piv().unwrap().puk_tries_left(),
        3,
        "the PUK count is reset too"
    );
    assert_eq!(tx(&mut card, "0020008000"), "63C3");
    assert_eq!(tx(&mut card, "00200080 08 363534333231FFFF"), "9000");
}

#[test]
fn change_reference_data_changes_pin_and_puk() {
    let mut card = piv();
    let before = card.card_state();
    assert_eq!(
        tx(&mut card, "00240080 10 313233343536FFFF 3132FFFFFFFFFFFF"),
        "6A80",
        "new PIN too short"
    );
    assert_eq!(
        tx(&mut card, "00240080 10 313233343536FFFF 41424344454647FF"),
        "6A80",
        "PIN is digits"
    );
    assert_eq!(tx(&mut card, "00240080 08 313233343536FFFF"), "6700");
    assert_eq!(card.card_state(), before);
    assert_eq!(
        tx(&mut card, "00240080 10 393939393939FFFF 3837363534333231"),
        "63C2"
    );
    assert_eq!(
        tx(&mut card, "00240080 10 313233343536FFFF 3837363534333231"),
        "9000"
    );
    assert_eq!(
        tx(&mut card, "0020008000"),
        "9000",
        "changing the PIN verifies it"
    );
    assert_eq!(tx(&mut card, "00200080 08 3837363534333231"), "9000");
    // The PUK may hold letters.
    assert_eq!(
        tx(&mut card, "00240081 10 3132333435363738 6162636465666768"),
        "9000"
    );
    assert_eq!(
        tx(&mut card, "002C0080 10 6162636465666768 313233343536FFFF"),
        "9000"
    );
    // Three wrong PUKs block it.
    for left in ["63C2", "63C1", "63C0"] {
        assert_eq!(
            tx(&mut card, "00240081 10 3132333435363738 3132333435363738"),
            left
        );
    }
    assert_eq!(
        tx(&mut card, "002C0080 10 6162636465666768 313233343536FFFF"),
        "6983"
    );
}

fn all_admin_keys() -> Vec<AdminKey> {
    vec![
        AdminKey::factory(),
        AdminKey::new(AdminAlg::Aes128, &[0x11; 16]).unwrap(),
        AdminKey::new(AdminAlg::Aes192, &[0x22; 24]).unwrap(),
        AdminKey::new(AdminAlg::Aes256, &[0x33; 32]).unwrap(),
    ]
}

#[test]
fn mutual_authentication_works_with_every_algorithm_and_fails_with_a_wrong_key() {
    for key in all_admin_keys() {
        let mut card = piv_with(key.clone());
        // The witness has the exact layout ykpiv copies: 7C L 80 L <one block>.
        let resp = tx(
            &mut card,
            &format!("0087{:02X}9B 04 7C028000", key.alg().id()),
        );
        let block = key.alg().block_len();
        assert_eq!(
            data(&resp)[..4],
            [0x7C, (block + 2) as u8, 0x80, block as u8]
        );
        assert_eq!(data(&resp).len(), block + 4);

        let mut card = piv_with(key.clone());
        let mut wrong = key.expose().to_vec();
        wrong[0] ^= 1;
        let wrong = AdminKey::new(key.alg(), &wrong).unwrap();
        let state = card.card_state();
        // A flipped low bit of a 3DES byte is a parity bit: the same key. Flip another.
        let wrong = if key.alg() == AdminAlg::TripleDes {
            let mut w = key.expose().to_vec();
            w[0] ^= 0x80;
            AdminKey::new(key.alg(), &w).unwrap()
        } else {
            wrong
        };
        assert_eq!(mutual_auth(&mut card, &wrong), "6982", "{:?}", key.alg());
        assert_eq!(put_object(&mut card, CHUID, b"x"), "6982");
        assert_eq!(card.card_state(), state);
        assert_eq!(mutual_auth(&mut card, &key), "9000", "{:?}", key.alg());
        assert_eq!(put_object(&mut card, CHUID, b"x"), "9000");
        // A failed attempt ends the authentication.
        assert_eq!(mutual_auth(&mut card, &wrong), "6982");
        assert_eq!(put_object(&mut card, CHUID, b"y"), "6982");
    }
}

#[test]
fn mutual_authentication_rules() {
    let key = AdminKey::factory();
    let mut card = piv();
    // Wrong algorithm in P1.
    assert_eq!(tx(&mut card, "0087089B 04 7C028000"), "6A86");
    // Step 2 without step 1.
    assert_eq!(
        tx(
            &mut card,
            "0087039B 16 7C14 80080102030405060708 81080102030405060708"
        ),
        "6982"
    );
    // Step 1, another command, then step 2: the witness is gone.
    let resp = tx(&mut card, "0087039B 04 7C028000");
    let plain = key
        .decrypt_block(&template_part(&data(&resp), 0x80))
        .unwrap();
    assert_eq!(tx(&mut card, "0020008000"), "63C3");
    let step2 = format!(
        "0087039B 16 7C14 8008{} 81080102030405060708",
        hex::encode(&plain)
    );
    assert_eq!(tx(&mut card, &step2), "6982");
    // The 73-4 example's form: 82 00 asks for the response.
    let resp = tx(&mut card, "0087039B 04 7C028000");
    let plain = key
        .decrypt_block(&template_part(&data(&resp), 0x80))
        .unwrap();
    let resp = tx(
        &mut card,
        &format!(
            "0087039B 18 7C16 8008{} 81080102030405060708 8200",
            hex::encode(&plain)
        ),
    );
    assert_eq!(sw(&resp), "9000");
    assert_eq!(
        key.decrypt_block(&template_part(&data(&resp), 0x82))
            .unwrap(),
        hex::decode("0102030405060708").unwrap()
    );
    // A challenge that is not one block, and junk.
    let resp = tx(&mut card, "0087039B 04 7C028000");
    let plain = key
        .decrypt_block(&template_part(&data(&resp), 0x80))
        .unwrap();
    assert_eq!(
        tx(
            &mut card,
            &format!(
                "0087039B 15 7C13 8008{} 810701020304050607",
                hex::encode(&plain)
            )
        ),
        "6A80"
    );
    assert_eq!(tx(&mut card, "0087039B 04 7D028000"), "6A80");
    assert_eq!(
        tx(&mut card, "0087039B 06 7C0480008000"),
        "6A80",
        "duplicate tag"
    );
}

#[test]
fn external_authentication_and_the_empty_challenge_request() {
    for key in all_admin_keys() {
        let mut card = piv_with(key.clone());
        let alg = key.alg().id();
        let resp = tx(&mut card, &format!("0087{alg:02X}9B 04 7C028100"));
        assert_eq!(sw(&resp), "9000");
        let challenge = template_part(&data(&resp), 0x81);
        assert_eq!(challenge.len(), key.alg().block_len());
        let good = key.encrypt_block(&challenge).unwrap();
        let n = good.len();
        // A wrong answer first: refused, and the challenge is used up.
        let mut bad = good.clone();
        bad[0] ^= 0xFF;
        let send = |c: &mut card_sim::SimCard, v: &[u8]| {
            tx(
                c,
                &format!(
                    "0087{alg:02X}9B {:02X} 7C{:02X}82{:02X}{}",
                    n + 4,
                    n + 2,
                    n,
                    hex::encode(v)
                ),
            )
        };
        assert_eq!(send(&mut card, &bad), "6982");
        assert_eq!(
            send(&mut card, &good),
            "6982",
            "no challenge pending any more"
        );
        let resp = tx(&mut card, &format!("0087{alg:02X}9B 04 7C028100"));
        let challenge = template_part(&data(&resp), 0x81);
        assert_eq!(
            send(&mut card, &key.encrypt_block(&challenge).unwrap()),
            "9000"
        );
        assert_eq!(put_object(&mut card, CHUID, b"x"), "9000");
    }
    // OpenSC asks a 3DES card for random bytes with P1=00.
    let mut card = piv();
    assert_eq!(sw(&tx(&mut card, "0087009B 04 7C028100")), "9000");
    let mut aes = piv_with(AdminKey::new(AdminAlg::Aes128, &[1; 16]).unwrap());
    assert_eq!(tx(&mut aes, "0087009B 04 7C028100"), "6A86");
}

#[test]
fn generate_needs_9b_and_answers_the_fixed_layout() {
    let mut card = piv();
    assert_eq!(tx(&mut card, "0047009E 05 AC03800111"), "6982");
    admin(&mut card);
    let resp = tx(&mut card, "0047009E 05 AC03800111");
    assert_eq!(sw(&resp), "9000");
    let reply = data(&resp);
    assert_eq!(reply[..5], [0x7F, 0x49, 0x43, 0x86, 0x41]);
    assert_eq!(reply[5], 0x04);
    assert_eq!(reply.len(), 5 + 65);
    assert_eq!(card.piv().unwrap().public_key(0x9E).unwrap(), reply[5..]);
    // Unsupported algorithms, YubiKey policies, bad slots.
    let before = card.card_state();
    assert_eq!(tx(&mut card, "0047009E 05 AC03800107"), "6A80", "RSA 2048");
    assert_eq!(tx(&mut card, "0047009E 05 AC03800114"), "6A80", "P-384");
    assert_eq!(
        tx(&mut card, "0047009E 08 AC06800111AA0101"),
        "6A80",
        "PIN policy"
    );
    assert_eq!(tx(&mut card, "0047009B 05 AC03800111"), "6A86");
    assert_eq!(tx(&mut card, "0047019E 05 AC03800111"), "6A86");
    assert_eq!(card.card_state(), before);
    // Every slot takes a key; a new one replaces the old.
    for slot in ["9A", "9C", "9D", "82", "95"] {
        assert_eq!(
            sw(&tx(&mut card, &format!("004700{slot} 05 AC03800111"))),
            "9000",
            "{slot}"
        );
    }
    let old = card.piv().unwrap().public_key(0x9E).unwrap();
    assert_eq!(sw(&tx(&mut card, "0047009E 05 AC03800111")), "9000");
    assert_ne!(card.piv().unwrap().public_key(0x9E).unwrap(), old);
}

fn sign_apdu(slot: u8, digest: &[u8]) -> Vec<u8> {
    let mut body = vec![
        0x7C,
        (digest.len() + 4) as u8,
        0x82,
        0x00,
        0x81,
        digest.len() as u8,
    ];
    body.extend_from_slice(digest);
    apdu(0, 0x87, 0x11, slot, &body, Some(0))
}

fn signature(resp: &[u8]) -> Vec<u8> {
    assert_eq!(
        &resp[resp.len() - 2..],
        &[0x90, 0x00],
        "{}",
        hex::encode(resp)
    );
    template_part(&resp[..resp.len() - 2], 0x82)
}

#[test]
fn slot_keys_sign_under_their_access_rules_and_ring_verifies() {
    let mut card = piv();
    admin(&mut card);
    for slot in ["9A", "9C", "9D", "9E"] {
        assert_eq!(
            sw(&tx(&mut card, &format!("004700{slot} 05 AC03800111"))),
            "9000"
        );
    }
    card.power_cycle();
    let message = b"a fresh challenge from the verifier";
    let digest = ring::digest::digest(&ring::digest::SHA256, message);
    let verify = |card: &card_sim::SimCard, slot: u8, sig: &[u8]| {
        let public = card.piv().unwrap().public_key(slot).unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &public)
            .verify(message, sig)
            .unwrap_or_else(|_| panic!("slot {slot:X} signature verifies"));
    };
    // 9E: always, no PIN. The reply is 7C L 82 L <DER>, 82 first.
    let resp = card.process(&sign_apdu(0x9E, digest.as_ref()));
    assert_eq!(resp[0], 0x7C);
    assert_eq!(resp[2], 0x82);
    verify(&card, 0x9E, &signature(&resp));
    // 9A and 9D need the PIN; 9C needs it right before.
    for slot in [0x9A, 0x9C, 0x9D] {
        assert_eq!(
            card.process(&sign_apdu(slot, digest.as_ref())),
            [0x69, 0x82],
            "{slot:X}"
        );
    }
    verify_pin(&mut card);
    for slot in [0x9A, 0x9D] {
        let sig = signature(&card.process(&sign_apdu(slot, digest.as_ref())));
        verify(&card, slot, &sig);
    }
    assert_eq!(
        card.process(&sign_apdu(0x9C, digest.as_ref())),
        [0x69, 0x82],
        "not right after VERIFY"
    );
    verify_pin(&mut card);
    let sig = signature(&card.process(&sign_apdu(0x9C, digest.as_ref())));
    verify(&card, 0x9C, &sig);
    assert_eq!(
        card.process(&sign_apdu(0x9C, digest.as_ref())),
        [0x69, 0x82],
        "once per VERIFY"
    );
    // Wrong digest length, wrong algorithm, empty slot, bad template.
    assert_eq!(card.process(&sign_apdu(0x9E, &[1; 20])), [0x6A, 0x80]);
    assert_eq!(tx(&mut card, "0087079E 08 7C06820081020102"), "6A86");
    assert_eq!(
        card.process(&sign_apdu(0x82, digest.as_ref())),
        [0x6A, 0x88]
    );
    assert_eq!(
        tx(&mut card, "0087119E 06 7C0481020102 00"),
        "6A80",
        "no 82"
    );
}

#[test]
fn ecdh_with_the_key_management_key() {
    let mut card = piv();
    admin(&mut card);
    assert_eq!(sw(&tx(&mut card, "0047009D 05 AC03800111")), "9000");
    let peer = card_sim::piv::keys::SlotKey::generate(&ring::rand::SystemRandom::new()).unwrap();
    let point = peer.public_point();
    let mut body = vec![0x7C, 0x45, 0x82, 0x00, 0x85, 0x41];
    body.extend_from_slice(&point);
    let cmd = apdu(0, 0x87, 0x11, 0x9D, &body, Some(0));
    assert_eq!(card.process(&cmd), [0x69, 0x82], "9D needs the PIN");
    verify_pin(&mut card);
    let resp = card.process(&cmd);
    let shared = signature(&resp);
    assert_eq!(
        shared,
        peer.agree(&card.piv().unwrap().public_key(0x9D).unwrap())
            .unwrap()
    );
}

#[test]
fn set_management_key_is_yubikey_ff_and_needs_9b() {
    let mut card = piv();
    let new = AdminKey::new(AdminAlg::Aes128, &[0x42; 16]).unwrap();
    let set = format!("00FFFFFF 13 089B10{}", "42".repeat(16));
    assert_eq!(tx(&mut card, &set), "6982");
    admin(&mut card);
    assert_eq!(
        tx(&mut card, &format!("00FFFFFF 13 089B18{}", "42".repeat(16))),
        "6700"
    );
    assert_eq!(
        tx(&mut card, &format!("00FFFFFF 13 099B10{}", "42".repeat(16))),
        "6A80"
    );
    assert_eq!(
        tx(&mut card, &format!("00FFFFFF 13 089A10{}", "42".repeat(16))),
        "6A80"
    );
    assert_eq!(
        tx(&mut card, &format!("00FFFFFF 0F 089B0C{}", "42".repeat(12))),
        "6A80"
    );
    assert_eq!(
        tx(&mut card, &format!("00FF00FF 13 089B10{}", "42".repeat(16))),
        "6A86"
    );
    assert_eq!(card.piv().unwrap().admin_key(), &AdminKey::factory());
    assert_eq!(tx(&mut card, &set), "9000");
    assert_eq!(put_object(&mut card, CHUID, b"still admin"), "9000");
    assert_eq!(card.piv().unwrap().admin_key(), &new);
    card.power_cycle();
    assert_eq!(
        mutual_auth(&mut card, &AdminKey::factory()),
        "6A86",
        "3DES is gone"
    );
    assert_eq!(mutual_auth(&mut card, &new), "9000");
    // Back to 3DES, with touch (FE): accepted, nothing to touch.
    let des = AdminKey::new(AdminAlg::TripleDes, &[0x0F; 24]).unwrap();
    assert_eq!(
        tx(&mut card, &format!("00FFFFFE 1B 039B18{}", "0F".repeat(24))),
        "9000"
    );
    assert_eq!(mutual_auth(&mut card, &des), "9000");
}

#[test]
fn unknown_instructions_and_classes() {
    let mut card = piv();
    assert_eq!(tx(&mut card, "00B0000000"), "6D00", "no READ BINARY on PIV");
    assert_eq!(tx(&mut card, "00FB000000"), "6D00", "no YubiKey reset");
    assert_eq!(tx(&mut card, "80CB3FFF 05 5C035FC102 00"), "6E00");
    assert_eq!(tx(&mut card, "00"), "6700");
    assert_eq!(tx(&mut card, "00CB3F"), "6700");
    assert_eq!(tx(&mut card, "00CB3FFF 05 5C035F"), "6700");
}

#[test]
fn volatile_state_is_lost_on_power_cycle_and_persistent_state_is_not() {
    let mut card = piv();
    admin(&mut card);
    verify_pin(&mut card);
    assert_eq!(sw(&tx(&mut card, "0047009E 05 AC03800111")), "9000");
    assert_eq!(put_object(&mut card, CHUID, b"chuid"), "9000");
    assert_eq!(tx(&mut card, "00200080 08 393939393939FFFF"), "63C2");
    let state = card.card_state();
    card.power_cycle();
    assert_eq!(card.card_state(), state);
    assert_eq!(
        tx(&mut card, "0020008000"),
        "63C2",
        "PIN no longer verified; count kept"
    );
    assert_eq!(
        put_object(&mut card, CHUID, b"x"),
        "6982",
        "9B no longer authenticated"
    );
    assert_eq!(get_object(&mut card, CHUID).0, b"\x53\x05chuid");
}

#[test]
fn refused_commands_change_nothing() {
    let mut card = piv();
    admin(&mut card);
    assert_eq!(sw(&tx(&mut card, "0047009E 05 AC03800111")), "9000");
    assert_eq!(put_object(&mut card, CHUID, b"chuid"), "9000");
    card.power_cycle();
    let before = card.card_state();
    for apdu in [
        "00DB3FFF 0A 5C035FC102 5303414243",
        "0047009E 05 AC03800111",
        "00FFFFFF 1B 039B18 010203040506070801020304050607080102030405060708",
        "00240080 10 313233343536FFFF 31FFFFFFFFFFFFFF",
        "002C0080 10 3132333435363738 3132FFFFFFFFFFFF",
        "0087119E 06 7C0482008100",
        "0087039B 16 7C14 80080102030405060708 81080102030405060708",
        "00A4040007 F0454341524401",
        "00CB3FFF 05 5C035FC108 00",
    ] {
        let resp = tx(&mut card, apdu);
        assert_ne!(sw(&resp), "9000", "{apdu}");
        assert_eq!(card.card_state(), before, "{apdu}");
    }
}

#[test]
fn the_state_file_keeps_a_piv_card_across_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("piv.json");
    let mut card = piv();
    card.attach_state_file(&path).unwrap();
    admin(&mut card);
    assert_eq!(sw(&tx(&mut card, "0047009E 05 AC03800111")), "9000");
    assert_eq!(
        put_object(&mut card, CERT_9E, b"\x70\x01\x00\x71\x01\x00\xFE\x00"),
        "9000"
    );
    assert_eq!(
        tx(&mut card, &format!("00FFFFFF 13 089B10{}", "42".repeat(16))),
        "9000"
    );
    assert_eq!(tx(&mut card, "00200080 08 393939393939FFFF"), "63C2");
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["family"], "piv");
    assert_eq!(json["admin_alg"], "aes128");
    assert_eq!(json["pin_tries_left"], 2);
    assert_eq!(
        json["objects"]["5FC101"],
        "70010071010 0FE00".replace(' ', "")
    );
    assert_eq!(json["keys"]["9E"]["alg"], "11");

    let mut loaded = card_sim::SimCard::load(&path, SimOptions::default()).unwrap();
    assert_eq!(loaded.card_state(), card.card_state());
    assert_eq!(loaded.family(), Family::Piv);
    assert_eq!(
        loaded.life_cycle(),
        card_profile::profile::LifeCycle::Activated
    );
    // The reloaded card signs with the same key.
    let digest = [7u8; 32];
    let sig = signature(&loaded.process(&sign_apdu(0x9E, &digest)));
    assert!(!sig.is_empty());
    // A native-only reader of the file says what it is.
    assert!(matches!(
        card_sim::Persistent::load(&path),
        Err(card_sim::StateError::Family { .. })
    ));
}

#[test]
fn a_tampered_object_loads_and_a_malformed_file_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("piv.json");
    let mut card = piv();
    card.attach_state_file(&path).unwrap();
    admin(&mut card);
    assert_eq!(put_object(&mut card, CHUID, b"genuine"), "9000");
    let text = std::fs::read_to_string(&path).unwrap();
    let tampered = text.replace(
        &hex::encode_upper(b"genuine"),
        &hex::encode_upper(b"forgery"),
    );
    std::fs::write(&path, &tampered).unwrap();
    let loaded = card_sim::SimCard::load(&path, SimOptions::default()).unwrap();
    assert_eq!(loaded.piv().unwrap().object(CHUID), Some(&b"forgery"[..]));

    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let bad = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut j = json.clone();
        f(&mut j);
        card_sim::CardState::from_json(&j.to_string())
    };
    assert!(
        bad(&|j| j["objects"]["5FC104"] = "00".into()).is_err(),
        "no such object"
    );
    assert!(
        bad(&|j| j["objects"]["5FC102"] = "00".repeat(3053).into()).is_err(),
        "too big"
    );
    assert!(bad(&|j| j["admin_key"] = "0102".into()).is_err());
    assert!(bad(&|j| j["pin"] = "31323334FFFFFFFF".into()).is_err());
    assert!(bad(&|j| j["pin_tries_left"] = 4.into()).is_err());
    assert!(
        bad(&|j| j["keys"] = serde_json::json!({"9B": {"alg": "11", "scalar": "01"}})).is_err()
    );
    assert!(bad(
        &|j| j["keys"] = serde_json::json!({"9E": {"alg": "11", "scalar": "00".repeat(32)}})
    )
    .is_err());
    assert!(bad(&|j| j["surprise"] = 1.into()).is_err());
    assert!(bad(&|_| {}).is_ok());
}

//! Shared fixtures of the PIV card tests: a factory-blank card, hex APDUs, and the
//! host side of the 9B flows written from SP 800-73-4 Part 2 Appendix A.
#![allow(dead_code, clippy::unwrap_used)]

use card_profile::tlv;
use card_sim::piv::AdminKey;
use card_sim::{PivSetup, SimCard, SimOptions};

pub const SERIAL: [u8; 8] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0xD6, 0x87];

pub fn piv() -> SimCard {
    SimCard::blank_piv(PivSetup::factory(SERIAL), SimOptions::default())
}

pub fn piv_with(admin_key: AdminKey) -> SimCard {
    SimCard::blank_piv(
        PivSetup {
            serial: SERIAL,
            admin_key,
        },
        SimOptions::default(),
    )
}

/// Sends a hex APDU (spaces allowed) and returns the response as upper-case hex.
pub fn tx(card: &mut SimCard, apdu: &str) -> String {
    let bytes = hex::decode(apdu.replace(' ', "")).expect("test APDU is hex");
    hex::encode_upper(card.process(&bytes))
}

pub fn sw(resp: &str) -> &str {
    &resp[resp.len() - 4..]
}

pub fn data(resp: &str) -> Vec<u8> {
    hex::decode(&resp[..resp.len() - 4]).unwrap()
}

/// A short APDU `CLA INS P1 P2 [Lc data] [Le]`.
pub fn apdu(cla: u8, ins: u8, p1: u8, p2: u8, data: &[u8], le: Option<u8>) -> Vec<u8> {
    let mut out = vec![cla, ins, p1, p2];
    if !data.is_empty() {
        out.push(data.len() as u8);
        out.extend_from_slice(data);
    }
    out.extend(le);
    out
}

/// The value of `tag` inside a `7C` template.
pub fn template_part(template: &[u8], tag: u32) -> Vec<u8> {
    let outer = tlv::parse_exact(template).unwrap();
    assert_eq!(outer.tag, tlv::Tag(0x7C));
    tlv::parse_all(outer.value)
        .unwrap()
        .into_iter()
        .find(|t| t.tag == tlv::Tag(tag))
        .unwrap_or_else(|| panic!("no tag {tag:X} in {}", hex::encode(template)))
        .value
        .to_vec()
}

/// Mutual authentication with `key`, as ykpiv does it; returns the final SW.
pub fn mutual_auth(card: &mut SimCard, key: &AdminKey) -> String {
    let alg = key.alg().id();
    let resp = card.process(&apdu(0, 0x87, alg, 0x9B, &[0x7C, 0x02, 0x80, 0x00], None));
    let resp = hex::encode_upper(resp);
    if sw(&resp) != "9000" {
        return sw(&resp).to_owned();
    }
    let witness = template_part(&data(&resp), 0x80);
    let plain = key.decrypt_block(&witness).unwrap();
    let challenge = vec![0x5A; key.alg().block_len()];
    let n = plain.len() as u8;
    let mut body = vec![0x80, n];
    body.extend_from_slice(&plain);
    body.extend_from_slice(&[0x81, n]);
    body.extend_from_slice(&challenge);
    let mut template = vec![0x7C, body.len() as u8];
    template.extend_from_slice(&body);
    let resp = hex::encode_upper(card.process(&apdu(0, 0x87, alg, 0x9B, &template, None)));
    if sw(&resp) == "9000" {
        let answer = template_part(&data(&resp), 0x82);
        assert_eq!(
            key.decrypt_block(&answer).unwrap(),
            challenge,
            "the card proves it holds the key"
        );
    }
    sw(&resp).to_owned()
}

pub fn admin(card: &mut SimCard) {
    assert_eq!(mutual_auth(card, &AdminKey::factory()), "9000");
}

pub fn verify_pin(card: &mut SimCard) {
    assert_eq!(tx(card, "00200080 08 313233343536FFFF"), "9000");
}

/// PUT DATA of `value` into `tag` (3 bytes), chained in 255-byte links as ykpiv
/// does; returns the SW of the last link.
pub fn put_object(card: &mut SimCard, tag: u32, value: &[u8]) -> String {
    let mut body = vec![0x5C, 0x03];
    body.extend_from_slice(&tag.to_be_bytes()[1..]);
    body.extend_from_slice(&tlv::encode(tlv::Tag(0x53), value));
    send_chained(card, 0xDB, 0x3F, 0xFF, &body)
}

pub fn send_chained(card: &mut SimCard, ins: u8, p1: u8, p2: u8, body: &[u8]) -> String {
    let chunks: Vec<&[u8]> = body.chunks(255).collect();
    let mut last = String::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let cla = if i + 1 < chunks.len() { 0x10 } else { 0x00 };
        last = hex::encode_upper(card.process(&apdu(cla, ins, p1, p2, chunk, None)));
        if i + 1 < chunks.len() {
            assert_eq!(last, "9000", "link {i}");
        }
    }
    sw(&last).to_owned()
}

/// GET DATA of `tag` (3 bytes), following 61xx with GET RESPONSE; returns the
/// whole response data and the final SW.
pub fn get_object(card: &mut SimCard, tag: u32) -> (Vec<u8>, String) {
    let mut body = vec![0x5C, 0x03];
    body.extend_from_slice(&tag.to_be_bytes()[1..]);
    let mut resp = hex::encode_upper(card.process(&apdu(0, 0xCB, 0x3F, 0xFF, &body, Some(0))));
    let mut out = data(&resp);
    while sw(&resp).starts_with("61") {
        resp = tx(card, "00C0000000");
        out.extend(data(&resp));
    }
    (out, sw(&resp).to_owned())
}

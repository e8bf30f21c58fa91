//! Shared fixtures: a card made from a fixed test master key, and hex APDU helpers.
#![allow(dead_code, clippy::unwrap_used)]

use card_profile::apdu::Command;
use card_profile::keys::MasterKey;
use card_profile::profile::CHALLENGE_LEN;
use card_sim::{SimCard, SimOptions};

/// Test-only master key (not used anywhere else).
pub const MASTER: [u8; 16] = [0x11; 16];
pub const SERIAL: [u8; 8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];

pub fn master() -> MasterKey {
    MasterKey::from_bytes(&MASTER).unwrap()
}

pub fn card(options: SimOptions) -> SimCard {
    SimCard::from_master_key(SERIAL, &master(), options)
}

/// Sends a hex APDU (spaces allowed) and returns the response as upper-case hex.
pub fn tx(card: &mut SimCard, apdu: &str) -> String {
    let bytes = hex::decode(apdu.replace(' ', "")).expect("test APDU is hex");
    hex::encode_upper(card.process(&bytes))
}

pub fn tx_bytes(card: &mut SimCard, apdu: &[u8]) -> Vec<u8> {
    card.process(apdu)
}

/// Status word of a hex response.
pub fn sw(resp: &str) -> &str {
    &resp[resp.len() - 4..]
}

pub fn select(card: &mut SimCard) {
    // P2=0C: no FCI, so this works in T=0 style too.
    let resp = tx(card, "00A4040C 07 F04543415244 01");
    assert!(resp == "9000" || resp == "6285", "{resp}");
}

/// GET CHALLENGE + EXTERNAL AUTHENTICATE with the right cryptogram.
pub fn authenticate(card: &mut SimCard) {
    let resp = card.process(&hex::decode("0084000010").unwrap());
    assert_eq!(resp.len(), CHALLENGE_LEN + 2, "{}", hex::encode(&resp));
    let challenge: [u8; CHALLENGE_LEN] = resp[..CHALLENGE_LEN].try_into().unwrap();
    let crypt = master().derive(&SERIAL).cryptogram(&SERIAL, &challenge);
    let cmd = Command::new(card_profile::apdu::Ins::ExternalAuthenticate)
        .p2(0x01)
        .data(crypt.to_vec());
    let resp = card.process(&cmd.encode(false).unwrap());
    assert_eq!(hex::encode_upper(resp), "9000");
}

/// UPDATE BINARY by SFI at offset 0, extended when needed.
pub fn write_file(card: &mut SimCard, sfi: u8, data: &[u8]) -> String {
    let cmd = Command::new(card_profile::apdu::Ins::UpdateBinary)
        .p1(0x80 | sfi)
        .data(data.to_vec());
    hex::encode_upper(card.process(&cmd.encode(true).unwrap()))
}

/// Selects, authenticates, generates the chip key and fills every file that
/// activation needs (contents are placeholders: the card does not parse them).
pub fn personalize(card: &mut SimCard) {
    select(card);
    authenticate(card);
    // Le = exact length (70), which a T=0-style card insists on.
    assert!(tx(card, "00478081 46").ends_with("9000"));
    for sfi in [2u8, 3, 4, 5, 7] {
        let data = vec![0x60 + sfi, 0x02, 0xAA, sfi];
        assert_eq!(write_file(card, sfi, &data), "9000");
    }
}

//! Opt-in runs against a physical reader and card (`ECARD_HW_READER`, README.md).
//! Without the variable these tests print a skip line and pass: CI has no reader.

use card_profile::apdu::{Command, Ins, Response};
use card_profile::profile::AID;
use card_profile::status::Status;
use hardware_tests::PcscHarness;

#[test]
fn physical_card_selects_the_ecard_application() {
    let Some(mut card) = PcscHarness::physical().expect("physical reader usable") else {
        println!("skipped: ECARD_HW_READER not set");
        return;
    };
    let select = Command::new(Ins::Select)
        .p1(0x04)
        .p2(0x00)
        .data(AID.to_vec())
        .ne(256)
        .encode(false)
        .expect("SELECT encodes short");
    let raw = card
        .channel
        .transaction(|ch| ch.transmit(&select))
        .expect("transaction begins")
        .expect("SELECT transmits");
    let response = Response::parse(&raw).expect("response has a status word");
    assert_eq!(
        response.status,
        Status::Success,
        "{}: SELECT of the ecard AID answered {raw:02X?}; is the application installed?",
        card.reader
    );
}

//! Whatever arrives, the PIV card answers with a status word, never panics, and
//! changes its persistent state only through an authorised write: objects, keys
//! and the 9B key only after 9B authentication; PIN and PUK values never by chance;
//! retry counters only by VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER.

#![allow(clippy::unwrap_used)]

mod piv_common;

use card_sim::{CardState, PivState, SimCard, SimOptions};
use piv_common::*;
use proptest::prelude::*;

/// PIV instructions (and a few others), so random APDUs reach the handlers.
const INS: [u8; 15] = [
    0xA4, 0xCB, 0xDB, 0x20, 0x24, 0x2C, 0x87, 0x47, 0xC0, 0xFD, 0xF8, 0xFF, 0xB0, 0xFB, 0x12,
];

fn options() -> impl Strategy<Value = SimOptions> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(e, t, c)| SimOptions {
        extended_length: e,
        t0_style: t,
        command_chaining: c,
    })
}

fn command() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![0x00u8, 0x10, 0x80]),
        prop::sample::select(INS.to_vec()),
        prop::sample::select(vec![0x00u8, 0x03, 0x04, 0x11, 0x3F, 0xFF, 0x7C]),
        prop::sample::select(vec![0x00u8, 0x80, 0x81, 0x9A, 0x9B, 0x9C, 0x9E, 0xFF]),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(cla, ins, p1, p2, body)| [&[cla, ins, p1, p2][..], &body].concat())
}

fn piv_state(card: &SimCard) -> PivState {
    match card.card_state() {
        CardState::Piv(state) => state,
        CardState::Native(_) => panic!("a PIV card"),
    }
}

/// A card with a key and an object, so there is something to destroy, powered up
/// with `options`.
fn personalised(options: SimOptions) -> SimCard {
    let mut card = piv();
    admin(&mut card);
    let resp = card.process(&apdu(
        0,
        0x47,
        0,
        0x9E,
        &[0xAC, 0x03, 0x80, 0x01, 0x11],
        None,
    ));
    assert!(resp.ends_with(&[0x90, 0x00]));
    assert_eq!(put_object(&mut card, 0x5F_C102, b"chuid"), "9000");
    SimCard::from_piv_state(piv_state(&card), options)
}

fn check_unchanged_but_counters(
    before: &PivState,
    after: &PivState,
    ins: u8,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(&before.objects, &after.objects);
    prop_assert_eq!(&before.keys, &after.keys);
    prop_assert_eq!(&before.admin_key, &after.admin_key);
    prop_assert_eq!(before.serial, after.serial);
    // A changed PIN or PUK value needs the old one, which random bytes lack.
    prop_assert!(before.pin.same_value(&after.pin));
    prop_assert!(before.puk.same_value(&after.puk));
    if !matches!(ins, 0x20 | 0x24 | 0x2C) {
        prop_assert_eq!(before, after);
    }
    Ok(())
}

proptest! {
    #[test]
    fn random_bytes_never_panic_nor_change_the_card(
        options in options(),
        apdus in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..8),
    ) {
        let mut card = personalised(options);
        let before = piv_state(&card);
        for apdu in apdus {
            let resp = card.process(&apdu);
            prop_assert!(resp.len() >= 2);
            let ins = apdu.get(1).copied().unwrap_or(0);
            check_unchanged_but_counters(&before, &piv_state(&card), ins)?;
        }
    }

    #[test]
    fn random_commands_without_9b_never_change_objects_or_keys(
        options in options(),
        pin_first in any::<bool>(),
        cmds in prop::collection::vec(command(), 1..12),
    ) {
        let mut card = personalised(options);
        if pin_first {
            // Short Le-less VERIFY works under every option.
            prop_assert_eq!(tx(&mut card, "00200080 08 313233343536FFFF"), "9000");
        }
        let mut previous = piv_state(&card);
        for cmd in cmds {
            let resp = card.process(&cmd);
            prop_assert!(resp.len() >= 2);
            let now = piv_state(&card);
            check_unchanged_but_counters(&previous, &now, cmd[1])?;
            previous = now;
        }
    }
}

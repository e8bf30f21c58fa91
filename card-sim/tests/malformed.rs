//! Whatever bytes arrive, the card answers with a status word and never panics.

// Test helpers outside #[test] fns panic on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use card_sim::SimOptions;
use common::*;
use proptest::prelude::*;

/// Instruction bytes of the profile, so random APDUs reach the handlers.
const INS: [u8; 14] = [
    0xA4, 0xB0, 0xD6, 0xB2, 0xE2, 0x84, 0x82, 0x88, 0x47, 0xC0, 0x44, 0xE6, 0xEE, 0x12,
];

fn options() -> impl Strategy<Value = SimOptions> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(e, t, c)| SimOptions {
        extended_length: e,
        t0_style: t,
        command_chaining: c,
    })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(options in options(), apdus in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..8)) {
        let mut card = card(options);
        for apdu in apdus {
            let resp = card.process(&apdu);
            prop_assert!(resp.len() >= 2);
        }
    }

    #[test]
    fn random_commands_on_an_open_card_never_panic(
        options in options(),
        cmds in prop::collection::vec(
            (prop::sample::select(vec![0x00u8, 0x10, 0x80, 0x90]), prop::sample::select(INS.to_vec()),
             any::<u8>(), any::<u8>(), prop::collection::vec(any::<u8>(), 0..700)),
            1..12),
    ) {
        let mut card = card(options);
        personalize(&mut card);
        for (cla, ins, p1, p2, body) in cmds {
            let apdu = [&[cla, ins, p1, p2][..], &body].concat();
            let resp = card.process(&apdu);
            prop_assert!(resp.len() >= 2);
        }
    }
}

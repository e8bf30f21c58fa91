#![allow(clippy::unwrap_used)]
//! A hostile PIV card: whatever it answers after SELECT, the host never panics,
//! never loops, and never calls it 有效 (the PIV reading path: GET DATA answers,
//! the CHUID, ecard's objects, the 9E certificate, GENERAL AUTHENTICATE).

use card_profile::channel::Link;
use card_profile::demo;
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, VerifyContext};
use card_profile::transport::{CardChannel, TransportError};
use card_profile::verdict::Standing;
use chrono::NaiveDate;
use proptest::prelude::*;

/// Answers 6A82 to the ecard AID, 9000 to PIV, then the scripted answers in turn
/// (each gets 90 00 appended when `ok`), and 6A82 once they run out.
struct Scripted {
    answers: Vec<(Vec<u8>, bool)>,
    sent: usize,
}

impl CardChannel for Scripted {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent += 1;
        if self.sent > 200 {
            // A host that keeps asking is a bug this test must see.
            return Err(TransportError::CardRemoved);
        }
        if command.len() > 5 && command[1] == 0xA4 && command[5] == 0xF0 {
            return Ok(vec![0x6A, 0x82]);
        }
        if command.len() > 5 && command[1] == 0xA4 {
            return Ok(vec![0x90, 0x00]);
        }
        Ok(match self.answers.get(self.sent.saturating_sub(3)) {
            Some((bytes, true)) => [bytes.as_slice(), &[0x90, 0x00]].concat(),
            Some((bytes, false)) => bytes.clone(),
            None => vec![0x6A, 0x82],
        })
    }
}

fn answer() -> impl Strategy<Value = (Vec<u8>, bool)> {
    prop_oneof![
        // Well-formed 53-wrapped values of random content.
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|v| {
            let mut out = vec![0x53];
            card_profile::tlv::encode_len(v.len(), &mut out);
            out.extend(v);
            (out, true)
        }),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|v| (v, true)),
        proptest::collection::vec(any::<u8>(), 0..4).prop_map(|v| (v, false)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn any_answers_give_an_error_or_a_verdict_that_is_not_valid(
        answers in proptest::collection::vec(answer(), 0..12)
    ) {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let pki = demo::pki(today).unwrap();
        let mut link = Link::new(Scripted { answers, sent: 0 });
        let none = RevocationSet::new();
        let ctx = VerifyContext::new(&pki.trust, today, &none);
        if let Ok((verdict, _)) = sequences::verify(&mut link, &ctx) {
            prop_assert_ne!(verdict.standing, Standing::Valid);
        }
        prop_assert!(link.channel_mut().sent <= 40, "{} APDUs", link.channel_mut().sent);
    }
}

//! The X.509 / CMS parsers read what a hostile card returns (5FC101, the CHUID's
//! 3E): on any bytes they return, never panic; and no change to a valid encoding
//! makes it verify while saying something else. The same properties run under
//! cargo-fuzz (card-profile/fuzz, target `x509`).

use card_profile::pki::{DocumentSigner, PublicKey, RootKey, SigningKey};
use card_profile::x509::{
    card_auth_certificate, certificate_issued_by, chuid_signature, root_certificate,
    signer_certificate, CardAuthCertificate, CardAuthSubject, ChuidSignature, MAX_DER_LEN,
};
use chrono::NaiveDate;
use proptest::prelude::*;
use std::sync::OnceLock;

struct Fixture {
    root_key: PublicKey,
    signer_key: PublicKey,
    signer_x509: Vec<u8>,
    card: Vec<u8>,
    card_parsed: CardAuthCertificate,
    content: Vec<u8>,
    cms: Vec<u8>,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

/// One chain for every case: keys are generated once.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = RootKey {
            name: "根".into(),
            key: SigningKey::generate().expect("key"),
            valid_from: d(2024, 1, 1),
            valid_until: d(2044, 1, 1),
        };
        let key = SigningKey::generate().expect("key");
        let cert = root
            .issue_signer("局", &key.public_key(), d(2025, 1, 1), d(2030, 1, 1))
            .expect("signer");
        let signer = DocumentSigner::new(key, cert).expect("pair");
        let signer_x509 = signer_certificate(&root, &signer.certificate).expect("x509");
        assert!(root_certificate(&root).is_ok());
        let chip = SigningKey::generate().expect("chip").public_key();
        let card = card_auth_certificate(
            &signer,
            &signer_x509,
            &CardAuthSubject {
                certificate_number: "A1".into(),
                guid: [7; 16],
            },
            &chip,
            d(2026, 1, 1),
            d(2030, 1, 1),
        )
        .expect("card");
        let content = b"\x30\x19FASCN-FASCN-FASCN-FASCN-F\x34\x10GUIDGUIDGUIDGUID".to_vec();
        let cms = chuid_signature(&signer, &signer_x509, &content).expect("cms");
        Fixture {
            root_key: root.key.public_key(),
            signer_key: signer.key.public_key(),
            card_parsed: CardAuthCertificate::parse(&card).expect("parse"),
            signer_x509,
            card,
            content,
            cms,
        }
    })
}

/// A few byte changes (position taken modulo the length), then maybe a cut.
fn mutate(base: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut v = base.to_vec();
    for (pos, byte) in edits {
        if !v.is_empty() {
            let i = pos % v.len();
            v[i] = *byte;
        }
    }
    if let Some(c) = cut {
        v.truncate(c % (v.len() + 1));
    }
    v
}

/// The certified facts of a card certificate (everything but the bytes).
fn facts(c: &CardAuthCertificate) -> impl PartialEq + std::fmt::Debug {
    (
        c.chip_key,
        c.certificate_number.clone(),
        c.guid,
        c.san_uuid,
        c.issuer_key_id.clone(),
        c.card_auth_usage,
        c.valid_from,
        c.valid_until,
        c.issuer_der.clone(),
        c.subject_der.clone(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..700)) {
        let f = fixture();
        let _ = CardAuthCertificate::parse(&bytes);
        let _ = certificate_issued_by(&bytes, &f.root_key);
        prop_assert!(ChuidSignature::verify(&bytes, &f.content).is_err());
    }

    #[test]
    fn parsers_never_panic_on_der_shaped_bytes(
        tag in prop::sample::select(vec![0x30u8, 0x31, 0xA0, 0x02, 0x06]),
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        // A plausible header in front of noise reaches further into the decoders.
        let mut bytes = vec![tag];
        if body.len() < 128 {
            bytes.push(body.len() as u8);
        } else {
            bytes.extend([0x82, (body.len() >> 8) as u8, body.len() as u8]);
        }
        bytes.extend(&body);
        let f = fixture();
        let _ = CardAuthCertificate::parse(&bytes);
        prop_assert!(ChuidSignature::verify(&bytes, &f.content).is_err());
    }

    #[test]
    fn a_changed_card_certificate_never_verifies_as_something_else(
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in prop::option::of(any::<usize>()),
    ) {
        let f = fixture();
        let bytes = mutate(&f.card, &edits, cut);
        if let Ok(c) = CardAuthCertificate::parse(&bytes) {
            if c.verify_issued_by(&f.signer_key) {
                prop_assert_eq!(facts(&c), facts(&f.card_parsed));
            }
        }
        if certificate_issued_by(&bytes, &f.signer_key) {
            let c = CardAuthCertificate::parse(&bytes);
            prop_assert!(c.is_ok_and(|c| facts(&c) == facts(&f.card_parsed)));
        }
    }

    #[test]
    fn a_changed_chuid_signature_never_verifies_for_another_signer_or_content(
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in prop::option::of(any::<usize>()),
    ) {
        let f = fixture();
        let bytes = mutate(&f.cms, &edits, cut);
        if let Ok(who) = ChuidSignature::verify(&bytes, &f.content) {
            prop_assert_eq!(who.public_key, f.signer_key);
        }
        prop_assert!(ChuidSignature::verify(&bytes, b"another content").is_err());
    }
}

#[test]
fn the_fixture_verifies_unchanged_and_oversized_input_is_refused() {
    let f = fixture();
    assert!(f.card_parsed.verify_issued_by(&f.signer_key));
    assert!(certificate_issued_by(&f.signer_x509, &f.root_key));
    assert!(ChuidSignature::verify(&f.cms, &f.content).is_ok());
    let mut big = f.card.clone();
    big.resize(MAX_DER_LEN + 1, 0);
    assert!(CardAuthCertificate::parse(&big).is_err());
}

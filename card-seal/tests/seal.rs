//! The seal end to end: issue → QR modules → pixels → a QR decoder that is not ours
//! (rqrr) → check; and every way a seal can be wrong gives its own verdict.

use card_profile::pki::{key_id, DocumentSigner, RevokedSigner, RootKey, SigningKey, TrustList};
use card_seal::{check, issue, qr_modules, Forgery, SealPayload, Unconfirmed, Validity, Verdict};
use chrono::NaiveDate;
use ecard_domain::codes::CertificateKind;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

struct Pki {
    root: RootKey,
    signer: DocumentSigner,
}

fn pki(root_name: &str) -> Pki {
    let root = RootKey {
        name: root_name.into(),
        key: SigningKey::generate().expect("root key"),
        valid_from: d(2020, 1, 1),
        valid_until: d(2045, 1, 1),
    };
    let key = SigningKey::generate().expect("signer key");
    let cert = root
        .issue_signer(
            "成都市司法局",
            &key.public_key(),
            d(2024, 1, 1),
            d(2034, 1, 1),
        )
        .expect("signer cert");
    let signer = DocumentSigner::new(key, cert).expect("signer");
    Pki { root, signer }
}

fn payload(unit: &str) -> SealPayload {
    SealPayload {
        number: "51010020260001".into(),
        name: "欧阳明华".into(),
        unit: unit.into(),
        kind: CertificateKind::Enforcement,
        valid_from: d(2026, 3, 2),
        valid_until: d(2031, 3, 1),
        issued_on: d(2026, 3, 9),
        card_serial: [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80],
        photo_hash: SealPayload::photo_hash_of(b"\xff\xd8 a photo \xff\xd9"),
    }
}

/// A 25-character unit name, the longest that fits beside a four-character name
/// (docs/SEAL.md §5): longer than most (四川省成都市武侯区市场监督管理局 is 16).
const LONG_UNIT: &str = "四川省成都市高新技术产业开发区综合行政执法局一大队";

fn trust(p: &Pki) -> TrustList {
    TrustList::new(vec![p.root.anchor()])
}

/// Draws the code at 4 px per module with a quiet zone and reads it back with rqrr.
fn scan(text: &str) -> String {
    let (width, dark) = qr_modules(text).expect("fits");
    let scale = 4;
    let quiet = 4;
    let side = (width + 2 * quiet) * scale;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let inside = (quiet..quiet + width).contains(&mx) && (quiet..quiet + width).contains(&my);
        if inside && dark[(my - quiet) * width + (mx - quiet)] {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    let (meta, content) = grids[0].decode().expect("rqrr decodes the code");
    assert!(meta.version.0 <= 10, "version {}", meta.version.0);
    content
}

#[test]
fn a_long_unit_name_fits_version_10_and_scans_back_genuine() {
    let p = pki("四川省司法厅");
    let text = issue(&payload(LONG_UNIT), &p.signer).expect("issue");
    assert!(text.starts_with("EC1:"));
    assert!(text.len() <= 311, "{} characters", text.len());
    let scanned = scan(&text);
    assert_eq!(scanned, text);
    match check(
        &scanned,
        &trust(&p),
        std::slice::from_ref(&p.signer.certificate),
        d(2027, 5, 1),
    ) {
        Verdict::Genuine {
            payload: got,
            signer,
            validity,
        } => {
            assert_eq!(got, payload(LONG_UNIT));
            assert_eq!(signer, "成都市司法局");
            assert_eq!(validity, Validity::Valid);
        }
        other => panic!("expected genuine, got {other:?}"),
    }
}

#[test]
fn a_unit_name_that_cannot_fit_is_refused_at_issue() {
    let p = pki("四川省司法厅");
    let unit = format!("{LONG_UNIT}二");
    assert!(matches!(
        issue(&payload(&unit), &p.signer),
        Err(card_seal::IssueError::TooLarge)
    ));
}

#[test]
fn printed_dates_are_judged_on_the_day_of_the_check() {
    let p = pki("四川省司法厅");
    let text = issue(&payload("成都市武侯区司法局"), &p.signer).expect("issue");
    let signers = [p.signer.certificate.clone()];
    let at = |day| match check(&text, &trust(&p), &signers, day) {
        Verdict::Genuine { validity, .. } => validity,
        other => panic!("{other:?}"),
    };
    assert_eq!(at(d(2026, 3, 1)), Validity::NotYetValid);
    assert_eq!(at(d(2026, 3, 2)), Validity::Valid);
    assert_eq!(at(d(2031, 3, 1)), Validity::Valid);
    assert_eq!(at(d(2031, 3, 2)), Validity::Expired);
}

#[test]
fn a_changed_name_under_the_old_signature_is_forged() {
    let p = pki("四川省司法厅");
    let genuine = issue(&payload("成都市武侯区司法局"), &p.signer).expect("issue");
    // Re-sign a changed payload with another key, then put the genuine signer's kid
    // in front: the signature fails under the signer it names.
    let impostor = pki("四川省司法厅");
    let mut changed = payload("成都市武侯区司法局");
    changed.name = "张三".into();
    let forged_text = issue(&changed, &impostor.signer).expect("issue");
    let genuine_kid = &key_id(&p.signer.certificate.public_key)[..4];
    let impostor_kid = &key_id(&impostor.signer.certificate.public_key)[..4];
    let raw = base45_decode(&forged_text);
    let pos = raw
        .windows(4)
        .position(|w| w == impostor_kid)
        .expect("kid in the header");
    let mut spliced = raw.clone();
    spliced[pos..pos + 4].copy_from_slice(genuine_kid);
    let spliced_text = format!("EC1:{}", base45_encode(&spliced));

    let signers = [p.signer.certificate.clone()];
    assert_eq!(
        check(&spliced_text, &trust(&p), &signers, d(2027, 1, 1)),
        Verdict::Forged(Forgery::BadSignature)
    );
    // Under its own kid the impostor is a signer this checker does not know.
    assert!(matches!(
        check(&forged_text, &trust(&p), &signers, d(2027, 1, 1)),
        Verdict::Unconfirmed(Unconfirmed::UnknownSigner(_))
    ));
    assert!(matches!(
        check(&genuine, &trust(&p), &signers, d(2027, 1, 1)),
        Verdict::Genuine { .. }
    ));
}

#[test]
fn a_signer_of_another_province_is_unconfirmed_and_a_revoked_one_forged() {
    let p = pki("四川省司法厅");
    let other = pki("广西壮族自治区司法厅");
    let text = issue(&payload("南宁市司法局"), &other.signer).expect("issue");
    // The checker was given the other signer's certificate but not its root.
    let signers = [
        p.signer.certificate.clone(),
        other.signer.certificate.clone(),
    ];
    assert_eq!(
        check(&text, &trust(&p), &signers, d(2027, 1, 1)),
        Verdict::Unconfirmed(Unconfirmed::UnknownRoot)
    );

    let own = issue(&payload("成都市武侯区司法局"), &p.signer).expect("issue");
    let mut revoked = trust(&p);
    revoked.revoked_signers.push(RevokedSigner {
        key_id: key_id(&p.signer.certificate.public_key),
        revoked_on: d(2026, 3, 1),
        reason: "密钥泄露".into(),
    });
    assert!(matches!(
        check(&own, &revoked, &signers, d(2027, 1, 1)),
        Verdict::Forged(Forgery::Chain(_))
    ));
}

#[test]
fn other_qr_codes_are_not_seals() {
    let p = pki("四川省司法厅");
    let signers = [p.signer.certificate.clone()];
    for text in ["https://example.org/", "HC1:NCFOXN", ""] {
        assert_eq!(
            check(text, &trust(&p), &signers, d(2027, 1, 1)),
            Verdict::NotASeal
        );
    }
    assert!(matches!(
        check("EC1:ab", &trust(&p), &signers, d(2027, 1, 1)),
        Verdict::Forged(Forgery::Base45(_))
    ));
}

fn base45_decode(text: &str) -> Vec<u8> {
    card_seal::base45::decode(text.strip_prefix("EC1:").expect("prefix")).expect("base45")
}

fn base45_encode(bytes: &[u8]) -> String {
    card_seal::base45::encode(bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// One changed byte anywhere in the seal never leaves it genuine.
    #[test]
    fn any_changed_byte_is_never_genuine(at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let p = pki_once();
        let raw = base45_decode(&SEAL.with(|s| s.clone()));
        let i = at.index(raw.len());
        let mut changed = raw.clone();
        changed[i] ^= flip;
        let text = format!("EC1:{}", base45_encode(&changed));
        let verdict = check(&text, &trust(p), std::slice::from_ref(&p.signer.certificate), d(2027, 1, 1));
        prop_assert!(!matches!(verdict, Verdict::Genuine { .. }), "byte {} → {:?}", i, verdict);
    }

    /// Arbitrary text after the prefix gives a verdict, never a panic.
    #[test]
    fn arbitrary_text_never_panics(body in "[0-9A-Z $%*+\\-./:]{0,420}") {
        let p = pki_once();
        let verdict = check(&format!("EC1:{body}"), &trust(p), std::slice::from_ref(&p.signer.certificate), d(2027, 1, 1));
        let refused = !matches!(verdict, Verdict::Genuine { .. } | Verdict::NotASeal);
        prop_assert!(refused, "{:?}", verdict);
        // The registry's look-up of the signer by kid takes the same text.
        let _ = card_seal::named_kid(&format!("EC1:{body}"));
    }
}

fn pki_once() -> &'static Pki {
    static PKI: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
    PKI.get_or_init(|| pki("四川省司法厅"))
}

thread_local! {
    static SEAL: String = issue(&payload(LONG_UNIT), &pki_once().signer).expect("issue");
}

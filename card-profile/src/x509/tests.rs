//! Each builder against its parser: what is built reads back, verifies under the
//! right key only, and stops verifying when a byte changes.

use super::*;
use crate::pki::{self, DocumentSigner, RootKey, SigningKey, Suite};
use chrono::NaiveDate;
use der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use x509_cert::Certificate;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

fn root_in(suite: Suite) -> RootKey {
    RootKey {
        name: "四川省司法厅".into(),
        key: SigningKey::generate_in(suite).expect("key"),
        valid_from: d(2024, 1, 1),
        valid_until: d(2044, 12, 31),
    }
}

fn signer_of(root: &RootKey) -> DocumentSigner {
    let key = SigningKey::generate_in(root.key.suite()).expect("key");
    let cert = root
        .issue_signer(
            "成都市司法局",
            &key.public_key(),
            d(2025, 1, 1),
            d(2030, 12, 31),
        )
        .expect("signer");
    DocumentSigner::new(key, cert).expect("pair")
}

fn chip_key() -> pki::PublicKey {
    SigningKey::generate().expect("chip").public_key()
}

const GUID: [u8; 16] = [
    0x3f, 0x2a, 0x91, 0x00, 0x7c, 0x4e, 0x4b, 0x11, 0x9a, 0x55, 0x01, 0x02, 0xfe, 0xdc, 0xba, 0x98,
];

fn subject() -> CardAuthSubject {
    CardAuthSubject {
        certificate_number: "川执2026000123".into(),
        guid: GUID,
    }
}

struct Chain {
    root: RootKey,
    signer: DocumentSigner,
    root_x509: Vec<u8>,
    signer_x509: Vec<u8>,
}

fn chain() -> Chain {
    let root = root_in(Suite::P256);
    let signer = signer_of(&root);
    let root_x509 = root_certificate(&root).expect("root x509");
    let signer_x509 = signer_certificate(&root, &signer.certificate).expect("signer x509");
    Chain {
        root,
        signer,
        root_x509,
        signer_x509,
    }
}

#[test]
fn the_root_certificate_is_self_signed_and_a_critical_ca() {
    let c = chain();
    let key = c.root.key.public_key();
    assert!(certificate_issued_by(&c.root_x509, &key));
    assert!(!certificate_issued_by(&c.root_x509, &chip_key()));
    let cert = Certificate::from_der(&c.root_x509).expect("decode");
    let tbs = &cert.tbs_certificate;
    assert_eq!(tbs.subject, tbs.issuer);
    assert_eq!(
        names::display(&tbs.subject),
        "C=CN, O=四川省司法厅, CN=四川省司法厅"
    );
    // The serial is the key id read as an unsigned integer: the INTEGER's bytes
    // carry a leading 00 when the id's first bit is set, and lose the id's own
    // leading zero bytes.
    let unsigned = |b: &[u8]| {
        b.iter()
            .copied()
            .skip_while(|x| *x == 0)
            .collect::<Vec<u8>>()
    };
    assert_eq!(
        unsigned(tbs.serial_number.as_bytes()),
        unsigned(&pki::key_id(&key))
    );
    assert!(tbs.serial_number.as_bytes()[0] < 0x80, "positive");
    let (critical, bc) = tbs.get::<BasicConstraints>().expect("ok").expect("present");
    assert!(critical && bc.ca && bc.path_len_constraint.is_none());
    let (critical, ku) = tbs.get::<KeyUsage>().expect("ok").expect("present");
    assert!(critical && ku.key_cert_sign() && ku.crl_sign() && !ku.digital_signature());
    let (_, ski) = tbs
        .get::<SubjectKeyIdentifier>()
        .expect("ok")
        .expect("present");
    assert_eq!(ski.0.as_bytes(), pki::key_id(&key));
    assert_eq!(
        tbs.validity.not_before.to_der().expect("der"),
        b"\x17\x0d240101000000Z"
    );
    assert_eq!(
        tbs.validity.not_after.to_der().expect("der"),
        b"\x17\x0d441231235959Z"
    );
}

#[test]
fn the_signer_certificate_is_issued_by_its_root_only() {
    let c = chain();
    assert!(certificate_issued_by(
        &c.signer_x509,
        &c.root.key.public_key()
    ));
    assert!(!certificate_issued_by(
        &c.signer_x509,
        &c.signer.key.public_key()
    ));
    let other = root_in(Suite::P256);
    assert!(!certificate_issued_by(
        &c.signer_x509,
        &other.key.public_key()
    ));
    // The root refuses to wrap a 7F21 certificate another root issued.
    assert_eq!(
        signer_certificate(&other, &c.signer.certificate),
        Err(X509Error::NotIssuedBy)
    );
    let cert = Certificate::from_der(&c.signer_x509).expect("decode");
    let tbs = &cert.tbs_certificate;
    assert_eq!(
        names::display(&tbs.subject),
        "C=CN, O=四川省司法厅, CN=成都市司法局"
    );
    let (_, bc) = tbs.get::<BasicConstraints>().expect("ok").expect("present");
    assert_eq!((bc.ca, bc.path_len_constraint), (true, Some(0)));
    let (_, ku) = tbs.get::<KeyUsage>().expect("ok").expect("present");
    assert!(ku.key_cert_sign() && ku.digital_signature());
}

#[test]
fn a_card_certificate_reads_back_what_was_certified() {
    let c = chain();
    let chip = chip_key();
    let der = card_auth_certificate(
        &c.signer,
        &c.signer_x509,
        &subject(),
        &chip,
        d(2026, 3, 1),
        d(2031, 2, 28),
    )
    .expect("card x509");
    let cert = CardAuthCertificate::parse(&der).expect("parse");
    assert_eq!(cert.chip_key, chip);
    assert_eq!(cert.certificate_number.as_deref(), Some("川执2026000123"));
    assert_eq!(cert.guid, Some(GUID));
    assert_eq!(cert.san_uuid, Some(GUID));
    assert_eq!(
        cert.issuer_key_id.as_deref(),
        Some(&pki::key_id(&c.signer.key.public_key())[..])
    );
    assert!(cert.card_auth_usage);
    assert_eq!(
        (cert.valid_from, cert.valid_until),
        (d(2026, 3, 1), d(2031, 2, 28))
    );
    assert_eq!(cert.issuer, "C=CN, O=四川省司法厅, CN=成都市司法局");
    assert_eq!(
        cert.subject,
        "CN=川执2026000123, serialNumber=3F2A91007C4E4B119A550102FEDCBA98"
    );
    assert_eq!(cert.der(), der.as_slice());
    // The issuer name is the signer certificate's subject, byte for byte.
    let signer = Certificate::from_der(&c.signer_x509).expect("decode");
    assert_eq!(
        cert.issuer_der,
        signer.tbs_certificate.subject.to_der().expect("der")
    );
    assert!(cert.verify_issued_by(&c.signer.key.public_key()));
    assert!(!cert.verify_issued_by(&c.root.key.public_key()));
    assert!(!cert.verify_issued_by(&chip));
    // Serial: 16 bytes, positive, the same for the same inputs.
    let parsed = Certificate::from_der(&der).expect("decode");
    let serial = parsed.tbs_certificate.serial_number.as_bytes().to_vec();
    assert_eq!(serial.len(), 16);
    assert_eq!(serial[0] & 0xC0, 0x40);
    let again = card_auth_certificate(
        &c.signer,
        &c.signer_x509,
        &subject(),
        &chip,
        d(2026, 3, 1),
        d(2031, 2, 28),
    )
    .expect("again");
    let again = Certificate::from_der(&again).expect("decode");
    assert_eq!(again.tbs_certificate, parsed.tbs_certificate);
}

#[test]
fn a_changed_byte_in_the_signed_part_breaks_the_card_certificate() {
    let c = chain();
    let chip = chip_key();
    let der = card_auth_certificate(
        &c.signer,
        &c.signer_x509,
        &subject(),
        &chip,
        d(2026, 3, 1),
        d(2031, 2, 28),
    )
    .expect("card x509");
    // The GUID in the subject, changed in one hex digit, still parses.
    let needle = b"3F2A91007C4E4B119A550102FEDCBA98";
    let pos = der
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("guid in subject");
    let mut tampered = der.clone();
    tampered[pos] = b'4';
    let cert = CardAuthCertificate::parse(&tampered).expect("still parses");
    assert_ne!(cert.guid, Some(GUID));
    assert!(!cert.verify_issued_by(&c.signer.key.public_key()));
    // And the last byte of the signature.
    let mut tampered = der.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    if let Ok(cert) = CardAuthCertificate::parse(&tampered) {
        assert!(!cert.verify_issued_by(&c.signer.key.public_key()));
    }
}

#[test]
fn validity_is_checked_by_day_with_both_end_days_included() {
    let c = chain();
    let der = card_auth_certificate(
        &c.signer,
        &c.signer_x509,
        &subject(),
        &chip_key(),
        d(2026, 3, 1),
        d(2031, 2, 28),
    )
    .expect("card x509");
    let cert = CardAuthCertificate::parse(&der).expect("parse");
    assert_eq!(cert.check_validity(d(2026, 3, 1)), Ok(()));
    assert_eq!(cert.check_validity(d(2031, 2, 28)), Ok(()));
    assert_eq!(
        cert.check_validity(d(2026, 2, 28)),
        Err(X509Error::NotYetValid {
            from: d(2026, 3, 1),
            on: d(2026, 2, 28)
        })
    );
    assert_eq!(
        cert.check_validity(d(2031, 3, 1)),
        Err(X509Error::Expired {
            until: d(2031, 2, 28),
            on: d(2031, 3, 1)
        })
    );
    assert!(card_auth_certificate(
        &c.signer,
        &c.signer_x509,
        &subject(),
        &chip_key(),
        d(2031, 3, 1),
        d(2026, 3, 1),
    )
    .is_err());
}

#[test]
fn keys_of_the_sm_suite_are_refused_with_a_typed_error() {
    let sm_root = root_in(Suite::Sm);
    assert_eq!(root_certificate(&sm_root), Err(X509Error::UnsupportedSuite));
    let sm_signer = signer_of(&sm_root);
    assert_eq!(
        signer_certificate(&sm_root, &sm_signer.certificate),
        Err(X509Error::UnsupportedSuite)
    );
    let c = chain();
    assert_eq!(
        card_auth_certificate(
            &sm_signer,
            &c.signer_x509,
            &subject(),
            &chip_key(),
            d(2026, 3, 1),
            d(2031, 2, 28)
        ),
        Err(X509Error::UnsupportedSuite)
    );
    assert_eq!(
        chuid_signature(&sm_signer, &c.signer_x509, b"chuid"),
        Err(X509Error::UnsupportedSuite)
    );
    // An SM2 point as the chip key.
    let sm_point = SigningKey::generate_in(Suite::Sm).expect("sm").public_key();
    assert_eq!(
        card_auth_certificate(
            &c.signer,
            &c.signer_x509,
            &subject(),
            &sm_point,
            d(2026, 3, 1),
            d(2031, 2, 28)
        ),
        Err(X509Error::UnsupportedSuite)
    );
}

#[test]
fn a_signer_x509_of_another_key_is_refused() {
    let c = chain();
    let other = signer_of(&c.root);
    assert_eq!(
        card_auth_certificate(
            &other,
            &c.signer_x509,
            &subject(),
            &chip_key(),
            d(2026, 3, 1),
            d(2031, 2, 28)
        ),
        Err(X509Error::WrongKey)
    );
    assert_eq!(
        chuid_signature(&other, &c.signer_x509, b"chuid"),
        Err(X509Error::WrongKey)
    );
    // The root's certificate is not the signer's either.
    assert_eq!(
        chuid_signature(&c.signer, &c.root_x509, b"chuid"),
        Err(X509Error::WrongKey)
    );
}

/// A CHUID content as the PIV side cuts it: FASC-N, GUID, expiry.
fn chuid_content() -> Vec<u8> {
    let mut v = vec![0x30, 0x19];
    v.extend([0xD4; 25]);
    v.extend([0x34, 0x10]);
    v.extend(GUID);
    v.extend([0x35, 0x08]);
    v.extend(b"20310228");
    v
}

#[test]
fn a_chuid_signature_verifies_and_names_its_signer() {
    let c = chain();
    let content = chuid_content();
    let cms = chuid_signature(&c.signer, &c.signer_x509, &content).expect("cms");
    let who = ChuidSignature::verify(&cms, &content).expect("verifies");
    assert_eq!(who.public_key, c.signer.key.public_key());
    assert_eq!(who.certificate_der, c.signer_x509);
    assert_eq!(who.subject_cn.as_deref(), Some("成都市司法局"));
    // The caller's next step: the carried certificate chains to the root.
    assert!(certificate_issued_by(
        &who.certificate_der,
        &c.root.key.public_key()
    ));
}

#[test]
fn a_chuid_signature_over_other_content_is_a_digest_mismatch() {
    let c = chain();
    let content = chuid_content();
    let cms = chuid_signature(&c.signer, &c.signer_x509, &content).expect("cms");
    let mut other = content.clone();
    other[30] ^= 1;
    assert_eq!(
        ChuidSignature::verify(&cms, &other),
        Err(X509Error::DigestMismatch)
    );
    assert_eq!(
        ChuidSignature::verify(&cms, b""),
        Err(X509Error::DigestMismatch)
    );
}

#[test]
fn a_changed_signed_attribute_or_signature_fails() {
    let c = chain();
    let content = chuid_content();
    let cms = chuid_signature(&c.signer, &c.signer_x509, &content).expect("cms");
    // pivSigner-DN carries the signer's CN as UTF-8; change one byte of it (it is
    // also in the certificate, so take the last occurrence: the attribute comes
    // after the certificate set).
    let needle = "成都市司法局".as_bytes();
    let pos = cms
        .windows(needle.len())
        .rposition(|w| w == needle)
        .expect("signer DN");
    let mut tampered = cms.clone();
    tampered[pos + needle.len() - 1] ^= 1;
    assert_eq!(
        ChuidSignature::verify(&tampered, &content),
        Err(X509Error::BadSignature)
    );
    // The signature is the last element: flip its last byte.
    let mut tampered = cms.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(ChuidSignature::verify(&tampered, &content).is_err());
}

#[test]
fn a_cms_that_is_not_a_chuid_signature_is_malformed() {
    let c = chain();
    let cms = chuid_signature(&c.signer, &c.signer_x509, b"x").expect("cms");
    // Too large, truncated, trailing garbage.
    assert!(ChuidSignature::verify(&vec![0x30; MAX_DER_LEN + 1], b"x").is_err());
    assert!(ChuidSignature::verify(&cms[..cms.len() - 1], b"x").is_err());
    let mut long = cms.clone();
    long.push(0);
    assert!(ChuidSignature::verify(&long, b"x").is_err());
    // Another eContentType (…3.6.2 in place of …3.6.1, same length): the first
    // occurrence of the OID is encapContentInfo's, the second the signed attribute's.
    let piv = oids::PIV_CHUID_SECURITY_OBJECT.to_der().expect("der");
    let pos = cms
        .windows(piv.len())
        .position(|w| w == piv.as_slice())
        .expect("eContentType");
    let mut other_type = cms.clone();
    other_type[pos + piv.len() - 1] = 2;
    assert_eq!(
        ChuidSignature::verify(&other_type, b"x"),
        Err(X509Error::Malformed(
            "eContentType is not id-PIV-CHUIDSecurityObject"
        ))
    );
    // A certificate is not a CMS object.
    assert!(matches!(
        ChuidSignature::verify(&c.signer_x509, b"x"),
        Err(X509Error::Der(_) | X509Error::Malformed(_))
    ));
}

//! The PIV chain checked by a program that is not ours (#13, docs/PROFILE-PIV.md
//! §3 and §7): OpenSSL verifies the 9E card certificate up to the province root,
//! shows the PIV extensions, and verifies the CHUID's CMS signature; in the other
//! direction ecard's parsers read what OpenSSL makes (a CMS signature, foreign
//! certificates as `yubico-piv-tool selfsign` would put on a card).

use card_profile::pki::{DocumentSigner, RootKey, SigningKey};
use card_profile::x509::{
    self, card_auth_certificate, chuid_signature, root_certificate, signer_certificate,
    CardAuthCertificate, CardAuthSubject, ChuidSignature, X509Error,
};
use chrono::{Days, NaiveDate, Utc};
use std::path::Path;
use std::process::{Command, Output};

fn openssl(args: &[&str], dir: &Path) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (scripts/install-test-deps.sh installs it)")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "openssl failed: {}", text(&out));
    text(&out)
}

/// Writes `der` as `name.der` and `name.pem` (OpenSSL converts it, so the PEM is
/// OpenSSL's reading of the DER).
fn write_cert(dir: &Path, name: &str, der: &[u8]) {
    let der_name = format!("{name}.der");
    std::fs::write(dir.join(&der_name), der).expect("write");
    ok(openssl(
        &[
            "x509",
            "-inform",
            "DER",
            "-in",
            &der_name,
            "-out",
            &format!("{name}.pem"),
        ],
        dir,
    ));
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn days_from_today(days: i64) -> NaiveDate {
    if days >= 0 {
        today() + Days::new(days as u64)
    } else {
        today() - Days::new(days.unsigned_abs())
    }
}

struct Chain {
    root: RootKey,
    signer: DocumentSigner,
    signer_x509: Vec<u8>,
}

/// A root valid from a year ago for 20 years, a signer from a month ago for 5: the
/// dates around today, since `openssl verify` checks validity at the current time.
fn make_chain(dir: &Path) -> Chain {
    let root = RootKey {
        name: "四川省司法厅".into(),
        key: SigningKey::generate().expect("root key"),
        valid_from: days_from_today(-365),
        valid_until: days_from_today(365 * 20),
    };
    let key = SigningKey::generate().expect("signer key");
    let cert = root
        .issue_signer(
            "成都市司法局",
            &key.public_key(),
            days_from_today(-30),
            days_from_today(365 * 5),
        )
        .expect("signer");
    let signer = DocumentSigner::new(key, cert).expect("pair");
    let root_x509 = root_certificate(&root).expect("root x509");
    let signer_x509 = signer_certificate(&root, &signer.certificate).expect("signer x509");
    write_cert(dir, "root", &root_x509);
    write_cert(dir, "signer", &signer_x509);
    Chain {
        root,
        signer,
        signer_x509,
    }
}

const GUID: [u8; 16] = [
    0x3f, 0x2a, 0x91, 0x00, 0x7c, 0x4e, 0x4b, 0x11, 0x9a, 0x55, 0x01, 0x02, 0xfe, 0xdc, 0xba, 0x98,
];

fn card_cert(chain: &Chain, chip: &[u8; 65]) -> Vec<u8> {
    card_auth_certificate(
        &chain.signer,
        &chain.signer_x509,
        &CardAuthSubject {
            certificate_number: "川执2026000123".into(),
            guid: GUID,
        },
        chip,
        today(),
        days_from_today(365 * 4),
    )
    .expect("card x509")
}

#[test]
fn openssl_verifies_the_card_certificate_up_to_the_root() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let chain = make_chain(d);
    let chip = SigningKey::generate().expect("chip").public_key();
    write_cert(d, "card", &card_cert(&chain, &chip));
    for extra in [&[][..], &["-x509_strict"][..], &["-purpose", "any"][..]] {
        let mut args = vec!["verify", "-CAfile", "root.pem", "-untrusted", "signer.pem"];
        args.extend_from_slice(extra);
        args.push("card.pem");
        let out = ok(openssl(&args, d));
        assert_eq!(out.trim(), "card.pem: OK", "{extra:?}");
    }
    // The signer's certificate alone chains to the root too.
    let out = ok(openssl(
        &[
            "verify",
            "-x509_strict",
            "-CAfile",
            "root.pem",
            "signer.pem",
        ],
        d,
    ));
    assert_eq!(out.trim(), "signer.pem: OK");

    // A card certificate from another province's signer does not chain to this root.
    let other_dir = tempfile::tempdir().expect("tmp");
    let other = make_chain(other_dir.path());
    write_cert(d, "foreign", &card_cert(&other, &chip));
    let out = openssl(
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "signer.pem",
            "foreign.pem",
        ],
        d,
    );
    assert!(!out.status.success(), "{}", text(&out));
    // Nor does the card certificate without its signer.
    let out = openssl(&["verify", "-CAfile", "root.pem", "card.pem"], d);
    assert!(!out.status.success(), "{}", text(&out));
    drop(chain.root);
}

#[test]
fn openssl_shows_the_piv_extensions_names_and_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let chain = make_chain(d);
    let chip = SigningKey::generate().expect("chip").public_key();
    write_cert(d, "card", &card_cert(&chain, &chip));
    let out = ok(openssl(
        &[
            "x509",
            "-noout",
            "-ext",
            "extendedKeyUsage,subjectAltName,keyUsage",
            "-in",
            "card.pem",
        ],
        d,
    ));
    assert!(out.contains("2.16.840.1.101.3.6.8"), "{out}");
    assert!(
        out.contains("URI:urn:uuid:3f2a9100-7c4e-4b11-9a55-0102fedcba98"),
        "{out}"
    );
    assert!(out.contains("Digital Signature"), "{out}");
    let out = ok(openssl(
        &[
            "x509",
            "-noout",
            "-subject",
            "-issuer",
            "-nameopt",
            "RFC2253,-esc_msb",
            "-in",
            "card.pem",
        ],
        d,
    ));
    assert!(
        out.contains("subject=serialNumber=3F2A91007C4E4B119A550102FEDCBA98,CN=川执2026000123"),
        "{out}"
    );
    assert!(
        out.contains("issuer=CN=成都市司法局,O=四川省司法厅,C=CN"),
        "{out}"
    );
    // The public key OpenSSL reads is the chip key.
    let out = openssl(&["x509", "-noout", "-pubkey", "-in", "card.pem"], d);
    std::fs::write(d.join("chip.pem"), &out.stdout).expect("write");
    let der = openssl(&["pkey", "-pubin", "-in", "chip.pem", "-outform", "DER"], d);
    assert!(der.status.success(), "{}", text(&der));
    assert_eq!(&der.stdout[der.stdout.len() - 65..], &chip[..]);
}

/// The CHUID content the PIV side signs: FASC-N, GUID, expiry (the 3E and FE
/// elements are not signed).
fn chuid_content() -> Vec<u8> {
    let mut v = vec![0x30, 0x19];
    v.extend([
        0xD4, 0xE7, 0x39, 0xDA, 0x73, 0x9C, 0xED, 0x39, 0xCE, 0x73, 0x9D, 0x83, 0x68,
    ]);
    v.extend([
        0x58, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0xC8, 0x42, 0x10, 0xC3, 0xEB,
    ]);
    v.extend([0x34, 0x10]);
    v.extend(GUID);
    v.extend([0x35, 0x08]);
    v.extend(b"20301231");
    v
}

#[test]
fn openssl_verifies_the_chuid_signature_and_refuses_changed_content() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let chain = make_chain(d);
    let content = chuid_content();
    let cms = chuid_signature(&chain.signer, &chain.signer_x509, &content).expect("cms");
    std::fs::write(d.join("chuid.p7s"), &cms).expect("write");
    std::fs::write(d.join("tbs.bin"), &content).expect("write");
    let verify = |content_file: &str| {
        openssl(
            &[
                "cms",
                "-verify",
                "-inform",
                "DER",
                "-in",
                "chuid.p7s",
                "-content",
                content_file,
                "-binary",
                "-CAfile",
                "root.pem",
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ],
            d,
        )
    };
    let out = verify("tbs.bin");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Verification successful"),
        "{}",
        text(&out)
    );
    let mut changed = content.clone();
    changed[40] ^= 1;
    std::fs::write(d.join("changed.bin"), &changed).expect("write");
    let out = verify("changed.bin");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("Verification successful"));

    // OpenSSL reads the layout PROFILE-PIV.md §7 promises.
    let out = ok(openssl(
        &[
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            "chuid.p7s",
        ],
        d,
    ));
    for expected in [
        "eContentType: undefined (2.16.840.1.101.3.6.1)",
        "eContent: <ABSENT>",
        "d.issuerAndSerialNumber:",
        "object: contentType (1.2.840.113549.1.9.3)",
        "object: messageDigest (1.2.840.113549.1.9.4)",
        "object: undefined (2.16.840.1.101.3.6.5)",
        "algorithm: ecdsa-with-SHA256 (1.2.840.10045.4.3.2)",
        "algorithm: sha256 (2.16.840.1.101.3.4.2.1)",
    ] {
        assert!(out.contains(expected), "{expected} not in {out}");
    }
}

/// PKCS#8 DER → PEM private key file, through OpenSSL.
fn write_key(dir: &Path, name: &str, pkcs8: &[u8]) {
    std::fs::write(dir.join(format!("{name}.der")), pkcs8).expect("write");
    ok(openssl(
        &[
            "pkey",
            "-inform",
            "DER",
            "-in",
            &format!("{name}.der"),
            "-out",
            &format!("{name}.key"),
        ],
        dir,
    ));
}

#[test]
fn ecard_verifies_a_chuid_signature_made_by_openssl() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let chain = make_chain(d);
    write_key(d, "signer", chain.signer.key.pkcs8());
    let content = chuid_content();
    std::fs::write(d.join("tbs.bin"), &content).expect("write");
    // OpenSSL adds its own signed attributes (signingTime, S/MIME capabilities) and
    // sorts them its way: the check runs over the bytes as received.
    ok(openssl(
        &[
            "cms",
            "-sign",
            "-binary",
            "-in",
            "tbs.bin",
            "-signer",
            "signer.pem",
            "-inkey",
            "signer.key",
            "-md",
            "sha256",
            "-econtent_type",
            "2.16.840.1.101.3.6.1",
            "-outform",
            "DER",
            "-out",
            "openssl.p7s",
        ],
        d,
    ));
    let cms = std::fs::read(d.join("openssl.p7s")).expect("read");
    let who = ChuidSignature::verify(&cms, &content).expect("ecard accepts OpenSSL's CMS");
    assert_eq!(who.public_key, chain.signer.key.public_key());
    assert_eq!(who.certificate_der, chain.signer_x509);
    assert_eq!(who.subject_cn.as_deref(), Some("成都市司法局"));
    assert!(x509::certificate_issued_by(
        &who.certificate_der,
        &chain.root.key.public_key()
    ));
    assert_eq!(
        ChuidSignature::verify(&cms, b"other content"),
        Err(X509Error::DigestMismatch)
    );
    // Signed as plain id-data, it is not a CHUID signature.
    ok(openssl(
        &[
            "cms",
            "-sign",
            "-binary",
            "-in",
            "tbs.bin",
            "-signer",
            "signer.pem",
            "-inkey",
            "signer.key",
            "-md",
            "sha256",
            "-outform",
            "DER",
            "-out",
            "data.p7s",
        ],
        d,
    ));
    let data = std::fs::read(d.join("data.p7s")).expect("read");
    assert!(matches!(
        ChuidSignature::verify(&data, &content),
        Err(X509Error::Malformed(_))
    ));
}

#[test]
fn certificates_made_by_openssl_for_a_9e_key_parse_and_do_not_verify_under_ecard() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let chain = make_chain(d);
    // What `yubico-piv-tool -a selfsign` leaves on a token: a self-signed P-256
    // certificate with a plain CN and no ecard fields.
    ok(openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ec.key",
            "-subj",
            "/CN=yubico",
            "-days",
            "30",
            "-outform",
            "DER",
            "-out",
            "ec.der",
        ],
        d,
    ));
    let der = std::fs::read(d.join("ec.der")).expect("read");
    let cert = CardAuthCertificate::parse(&der).expect("a P-256 certificate parses");
    assert_eq!(cert.certificate_number.as_deref(), Some("yubico"));
    assert_eq!(cert.guid, None);
    assert!(!cert.card_auth_usage);
    assert!(!cert.verify_issued_by(&chain.signer.key.public_key()));
    assert!(cert.verify_issued_by(&cert.chip_key), "self-signed");
    // An RSA 9E certificate is not an ecard card's.
    ok(openssl(
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-subj",
            "/CN=rsa", "-days", "30", "-outform", "DER", "-out", "rsa.der",
        ],
        d,
    ));
    let der = std::fs::read(d.join("rsa.der")).expect("read");
    assert_eq!(CardAuthCertificate::parse(&der), Err(X509Error::NotP256Key));
}

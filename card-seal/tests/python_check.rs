//! A checker that is not ours: tests/independent_check.py, written from docs/SEAL.md
//! and docs/PROFILE.md §4 alone with Debian's python3-cryptography and
//! python3-cbor2 (installed by scripts/install-test-deps.sh), must agree with
//! `card_seal::check` on genuine, changed, re-signed and expired seals.

use std::io::Write;
use std::process::{Command, Stdio};

use card_profile::pki::{key_id, DocumentSigner, RootKey, SigningKey, TrustList};
use card_seal::{check, issue, SealPayload, Validity, Verdict};
use chrono::NaiveDate;
use ecard_domain::codes::CertificateKind;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

fn python(
    root: &RootKey,
    signer: &DocumentSigner,
    today: NaiveDate,
    text: &str,
) -> serde_json::Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/independent_check.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(hex::encode(root.key.public_key()))
        .arg(hex::encode(&signer.certificate.raw))
        .arg(today.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 (scripts/install-test-deps.sh installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write seal");
    let out = child.wait_with_output().expect("python checker");
    assert!(
        out.status.success(),
        "independent checker failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

fn pki() -> (RootKey, DocumentSigner) {
    let root = RootKey {
        name: "四川省司法厅".into(),
        key: SigningKey::generate().expect("root"),
        valid_from: d(2020, 1, 1),
        valid_until: d(2045, 1, 1),
    };
    let key = SigningKey::generate().expect("signer");
    let cert = root
        .issue_signer(
            "成都市司法局",
            &key.public_key(),
            d(2024, 1, 1),
            d(2034, 1, 1),
        )
        .expect("cert");
    (root, DocumentSigner::new(key, cert).expect("signer"))
}

fn payload() -> SealPayload {
    SealPayload {
        number: "川A0100012".into(),
        name: "李四".into(),
        unit: "成都市武侯区市场监督管理局".into(),
        kind: CertificateKind::Entrusted,
        valid_from: d(2026, 4, 1),
        valid_until: d(2031, 3, 31),
        issued_on: d(2026, 4, 8),
        card_serial: [1, 2, 3, 4, 5, 6, 7, 8],
        photo_hash: SealPayload::photo_hash_of(b"photo"),
    }
}

#[test]
fn the_independent_checker_agrees_on_genuine_changed_and_expired_seals() {
    let (root, signer) = pki();
    let trust = TrustList::new(vec![root.anchor()]);
    let signers = [signer.certificate.clone()];
    let text = issue(&payload(), &signer).expect("issue");

    let ours = check(&text, &trust, &signers, d(2027, 1, 1));
    let theirs = python(&root, &signer, d(2027, 1, 1), &text);
    assert!(matches!(
        ours,
        Verdict::Genuine {
            validity: Validity::Valid,
            ..
        }
    ));
    assert_eq!(theirs["verdict"], "genuine", "{theirs}");
    assert_eq!(theirs["validity"], "valid");
    assert_eq!(theirs["name"], "李四");
    assert_eq!(theirs["unit"], "成都市武侯区市场监督管理局");
    assert_eq!(theirs["number"], "川A0100012");
    assert_eq!(theirs["kind"], 2);
    assert_eq!(theirs["valid_until"], "2031-03-31");
    assert_eq!(theirs["photo_hash"], hex::encode(payload().photo_hash));

    let expired = python(&root, &signer, d(2031, 4, 1), &text);
    assert_eq!(expired["validity"], "expired");
    assert!(matches!(
        check(&text, &trust, &signers, d(2031, 4, 1)),
        Verdict::Genuine {
            validity: Validity::Expired,
            ..
        }
    ));

    // Every single-character change of the text: never genuine to either checker,
    // and both say forged wherever ours does.
    let alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut forged_both = 0;
    for (i, c) in text.char_indices().skip(4).step_by(9) {
        let replacement = alphabet
            .chars()
            .find(|&r| r != c)
            .expect("another character");
        let mut changed = text.clone();
        changed.replace_range(i..i + 1, &replacement.to_string());
        let ours = check(&changed, &trust, &signers, d(2027, 1, 1));
        let theirs = python(&root, &signer, d(2027, 1, 1), &changed);
        assert!(
            !matches!(ours, Verdict::Genuine { .. }),
            "ours genuine at {i}"
        );
        assert_ne!(
            theirs["verdict"], "genuine",
            "theirs genuine at {i}: {theirs}"
        );
        if ours.code() == "forged" {
            assert_eq!(
                theirs["verdict"], "forged",
                "at {i}: ours {ours:?}, theirs {theirs}"
            );
            forged_both += 1;
        }
    }
    assert!(forged_both > 10, "{forged_both} changes forged to both");

    // Re-signed by a key the checkers do not know: neither says genuine.
    let (_, impostor) = pki();
    let resigned = issue(&payload(), &impostor).expect("issue");
    assert_ne!(
        key_id(&impostor.certificate.public_key),
        key_id(&signer.certificate.public_key)
    );
    assert_eq!(
        python(&root, &signer, d(2027, 1, 1), &resigned)["verdict"],
        "unconfirmed"
    );
    assert_eq!(
        check(&resigned, &trust, &signers, d(2027, 1, 1)).code(),
        "unconfirmed"
    );
}

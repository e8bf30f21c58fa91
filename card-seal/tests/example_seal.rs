//! docs/SEAL-EXAMPLE.md is a seal a second implementation can be checked against:
//! its text must verify under the keys the document gives, and say what the example
//! card says.

use card_profile::demo::example;
use card_profile::pki::{key_id, SignerCertificate, TrustAnchor, TrustList};
use card_seal::{check, SealPayload, Validity, Verdict};
use chrono::NaiveDate;

fn cell(doc: &str, row_starts: &str) -> String {
    let line = doc
        .lines()
        .find(|l| l.starts_with(row_starts))
        .unwrap_or_else(|| panic!("row {row_starts:?} in the document"));
    line.rsplit('`').nth(1).expect("a `value` cell").to_string()
}

#[test]
fn the_documented_seal_verifies_and_says_what_the_example_card_says() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/SEAL-EXAMPLE.md"
    ))
    .expect("docs/SEAL-EXAMPLE.md");
    let root_key: [u8; 65] = hex::decode(cell(&doc, "| root public key"))
        .expect("hex")
        .try_into()
        .expect("65 bytes");
    let signer = SignerCertificate::from_tlv(
        &hex::decode(cell(&doc, "| document signer certificate")).expect("hex"),
    )
    .expect("signer certificate");
    let text = doc
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the seal's text block");
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
    let trust = TrustList::new(vec![TrustAnchor {
        name: "演示省司法厅".into(),
        key_id: key_id(&root_key),
        public_key: root_key,
        valid_from: d(2024, 1, 1),
        valid_until: d(2044, 1, 1),
        suite: card_profile::suite::Suite::P256,
    }]);
    let data = example::issue_data();
    match check(text, &trust, &[signer], example::verified_on()) {
        Verdict::Genuine {
            payload, validity, ..
        } => {
            assert_eq!(validity, Validity::Valid);
            assert_eq!(payload.number, data.certificate.number.as_str());
            assert_eq!(payload.name, data.holder.name);
            assert_eq!(payload.unit, data.certificate.unit);
            assert_eq!(payload.valid_until, data.certificate.valid_until);
            assert_eq!(payload.card_serial, example::SERIAL);
            assert_eq!(
                payload.photo_hash,
                SealPayload::photo_hash_of(example::PHOTO_JPEG)
            );
        }
        other => panic!("the documented seal is {other:?}"),
    }
    // The whole payload row is the payload's own encoding.
    let whole = doc
        .lines()
        .find(|l| l.starts_with("Whole payload"))
        .and_then(|l| l.split('`').nth(1))
        .expect("whole payload line");
    let payload = SealPayload::from_cbor(&hex::decode(whole).expect("hex")).expect("payload");
    assert_eq!(payload.name, "张三");
}

/// The hex in the first cell of each table row between `from` and `to` in `doc`.
fn first_cells(doc: &str, from: &str, to: &str) -> String {
    let section = doc
        .split(from)
        .nth(1)
        .and_then(|rest| rest.split(to).next())
        .unwrap_or_else(|| panic!("section {from:?} in the document"));
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cell = l.split('|').nth(1).unwrap_or_default();
            cell.split('`')
                .skip(1)
                .step_by(2)
                .collect::<Vec<_>>()
                .concat()
        })
        .collect()
}

/// docs/PROFILE.md §10 specifies the QR payload byte by byte: its tables, read
/// cell by cell, are the example card's payload and the COSE_Sign1 of the seal in
/// docs/SEAL-EXAMPLE.md, and its example text is that seal's.
#[test]
fn the_profiles_byte_tables_are_the_example_seal() {
    let profile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROFILE.md"))
            .expect("docs/PROFILE.md");
    let example_doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/SEAL-EXAMPLE.md"
    ))
    .expect("docs/SEAL-EXAMPLE.md");
    let data = example::issue_data();
    let payload = SealPayload {
        number: data.certificate.number.to_string(),
        name: data.holder.name.clone(),
        unit: data.certificate.unit.clone(),
        kind: data.certificate.kind,
        valid_from: data.certificate.valid_from,
        valid_until: data.certificate.valid_until,
        issued_on: data.certificate.issue_date,
        card_serial: example::SERIAL,
        photo_hash: SealPayload::photo_hash_of(&data.photo_jpeg),
    }
    .to_cbor();
    let payload_hex = hex::encode(&payload);
    assert_eq!(
        first_cells(&profile, "### 10.2", "### 10.3"),
        payload_hex,
        "PROFILE.md §10.2 is not the example card's payload"
    );
    let text_of = |doc: &str| {
        doc.split("```text\nEC1:")
            .nth(1)
            .and_then(|rest| rest.split("\n```").next())
            .map(|t| format!("EC1:{t}"))
            .expect("an EC1: text block")
    };
    let text = text_of(&profile);
    assert_eq!(
        text,
        text_of(&example_doc),
        "PROFILE.md §10.3's example text is not docs/SEAL-EXAMPLE.md's (copy it after regenerating)"
    );
    let cose = card_seal::base45::decode(&text["EC1:".len()..]).expect("base45");
    let cose_hex = hex::encode(&cose);
    assert_eq!(cose_hex.matches(&payload_hex).count(), 1);
    assert_eq!(
        first_cells(&profile, "### 10.3", "The signature is over"),
        cose_hex.replace(&payload_hex, ""),
        "PROFILE.md §10.3 is not the example seal's COSE_Sign1"
    );
}

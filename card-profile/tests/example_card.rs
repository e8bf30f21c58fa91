//! docs/PROFILE-EXAMPLE.md is what a card vendor and a second verifier build from: this
//! test holds it to the code. Every unsigned object is re-encoded from the example's
//! inputs (`demo::example`) and must equal the document's bytes; the key derivation
//! and cryptograms are recomputed; every hash and signature is checked; and the card,
//! loaded into the software card from the document's state, verifies as valid.

use card_profile::channel::Link;
use card_profile::chip_auth;
use card_profile::demo::example::{self, SERIAL};
use card_profile::keys::MasterKey;
use card_profile::pki::{self, TrustList};
use card_profile::profile::{tags, FileId};
use card_profile::records::{self, StatusRecord};
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, VerifyContext};
use card_profile::sod::{SecurityObject, SignedObject};
use card_profile::verdict::{Outcome, Standing};
use card_sim::{Persistent, SimCard, SimChannel, SimOptions};

fn document() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROFILE-EXAMPLE.md");
    std::fs::read_to_string(path).expect("docs/PROFILE-EXAMPLE.md exists")
}

/// The body of the fenced block whose info string is `info`.
fn block(doc: &str, info: &str) -> String {
    let fence = format!("```{info}\n");
    let start = doc
        .find(&fence)
        .unwrap_or_else(|| panic!("no ```{info} block"))
        + fence.len();
    let len = doc[start..].find("\n```").expect("block is closed");
    doc[start..start + len].to_string()
}

fn hex_block(doc: &str, name: &str) -> Vec<u8> {
    hex::decode(block(doc, &format!("hex {name}")).trim()).expect("hex block")
}

/// The backticked value in the table row whose first cell starts with `label`.
fn row(doc: &str, label: &str) -> String {
    let line = doc
        .lines()
        .find(|l| l.starts_with(&format!("| {label}")))
        .unwrap_or_else(|| panic!("no row {label}"));
    let cell = line.trim_end_matches('|').trim_end();
    let end = cell.rfind('`').expect("value in backticks");
    let start = cell[..end].rfind('`').expect("value in backticks") + 1;
    cell[start..end].to_string()
}

fn row_hex(doc: &str, label: &str) -> Vec<u8> {
    hex::decode(row(doc, label)).expect("hex value")
}

fn trust(doc: &str) -> TrustList {
    let section = &doc[doc.find("## Trust list").expect("trust list section")..];
    serde_json::from_str(&block(section, "json")).expect("trust list JSON")
}

#[test]
fn unsigned_objects_are_what_the_code_encodes() {
    let doc = document();
    let data = example::issue_data();
    assert_eq!(hex_block(&doc, "EF.HOLDER"), data.holder.to_tlv());
    assert_eq!(hex_block(&doc, "EF.CERT"), data.certificate.to_tlv());
    assert_eq!(
        hex_block(&doc, "EF.PHOTO"),
        records::photo_to_tlv(&data.photo_jpeg)
    );
    let blank = SimCard::from_master_key(
        SERIAL,
        &MasterKey::from_hex(example::MASTER_KEY_HEX).unwrap(),
        SimOptions::default(),
    );
    assert_eq!(hex_block(&doc, "EF.VER"), blank.file(FileId::Ver));
}

#[test]
fn signed_objects_carry_the_inputs_and_verify() {
    let doc = document();
    let trust = trust(&doc);
    let files: Vec<(FileId, Vec<u8>)> = [FileId::Ver, FileId::Holder, FileId::Cert, FileId::Photo]
        .into_iter()
        .map(|f| (f, hex_block(&doc, f.name())))
        .collect();

    let sod = SecurityObject::parse(&hex_block(&doc, "EF.SOD")).expect("EF.SOD parses");
    assert_eq!(sod.serial, SERIAL);
    assert_eq!(sod.signed_on, example::personalized_on());
    assert_eq!(
        sod.chip_key.to_vec(),
        row_hex(&doc, "chip public key (EF.SOD tag 82)")
    );
    // The hash entries, in the documented order, over each file's whole TLV object.
    let order: Vec<FileId> = sod.hashes.iter().map(|(f, _)| *f).collect();
    assert_eq!(
        order,
        vec![FileId::Ver, FileId::Holder, FileId::Cert, FileId::Photo]
    );
    for (file, bytes) in &files {
        assert_eq!(sod.hash_of(*file), Some(&pki::sha256(bytes)), "{file:?}");
    }
    assert!(sod.signed.signature_valid());
    trust
        .check_signer(&sod.signed.signer, sod.signed_on)
        .expect("the signer chains to the documented root");
    // The signature covers tag 78 with its tag and length.
    assert_eq!(sod.signed.content[0], 0x78);

    let status = SignedObject::parse(
        &hex_block(&doc, "EF.STATUS"),
        tags::STATUS,
        tags::STATUS_CONTENT,
    )
    .expect("EF.STATUS parses");
    assert!(status.signature_valid());
    let record = StatusRecord::from_content(status.content_tlv().unwrap()).unwrap();
    let change = example::status_change();
    let expected = StatusRecord {
        state: change.state,
        reason: change.reason,
        date: change.date,
        sequence: 2,
        serial: SERIAL,
    };
    assert_eq!(record, expected);
    assert_eq!(status.content, expected.content_tlv());

    let review_raw = hex_block(&doc, "EF.REVIEWS#1");
    let review = SignedObject::parse(&review_raw, tags::REVIEW, tags::REVIEW_CONTENT)
        .expect("the review record parses");
    assert!(review.signature_valid());
    assert_eq!(review.content, example::review().content_tlv());
}

#[test]
fn management_key_and_cryptograms_match_the_vectors() {
    let doc = document();
    let master = MasterKey::from_hex(&row(&doc, "bureau master key")).unwrap();
    assert_eq!(
        master.check_value().to_lowercase(),
        row(&doc, "master key check value")
    );
    let k_card = master.derive(&SERIAL);
    assert_eq!(k_card.expose().to_vec(), row_hex(&doc, "K_card"));
    let card_challenge: [u8; 16] = row_hex(&doc, "card challenge").try_into().unwrap();
    let host_challenge: [u8; 16] = row_hex(&doc, "host challenge").try_into().unwrap();
    let host = k_card.cryptogram(&SERIAL, &card_challenge);
    assert_eq!(host.to_vec(), row_hex(&doc, "host cryptogram"));
    assert_eq!(
        k_card
            .card_cryptogram(&SERIAL, &host_challenge, &card_challenge)
            .to_vec(),
        row_hex(&doc, "card cryptogram")
    );
    let mut apdu = vec![0x00, 0x82, 0x00, 0x01, 0x20];
    apdu.extend_from_slice(&host);
    apdu.extend_from_slice(&host_challenge);
    apdu.push(0x10);
    assert_eq!(apdu, row_hex(&doc, "EXTERNAL AUTHENTICATE APDU"));
}

#[test]
fn chip_signature_vector_verifies_under_the_chip_key() {
    let doc = document();
    let challenge = row_hex(&doc, "challenge (INTERNAL AUTHENTICATE data)");
    let signature = row_hex(&doc, "one signature r‖s");
    assert_eq!(signature.len(), 64, "r and s, 32 bytes each, left-padded");
    let key = row_hex(&doc, "chip public key (EF.SOD tag 82)");
    assert!(pki::verify_signature(
        &key,
        &chip_auth::message(&challenge),
        &signature
    ));
}

#[test]
fn the_documented_card_verifies_as_valid() {
    let doc = document();
    let state = Persistent::from_json(&block(&doc, "json card-state")).expect("card state");
    // The state is the card the files describe, keyed with K_card of the vectors.
    for file in [
        FileId::Ver,
        FileId::Holder,
        FileId::Photo,
        FileId::Cert,
        FileId::Sod,
        FileId::Status,
    ] {
        assert_eq!(
            state.files.get(&file).cloned().unwrap_or_default(),
            hex_block(&doc, file.name()),
            "{file:?}"
        );
    }
    assert_eq!(state.records, vec![hex_block(&doc, "EF.REVIEWS#1")]);
    assert_eq!(
        state.management_key.expose().to_vec(),
        row_hex(&doc, "K_card")
    );

    let trust = trust(&doc);
    let none = RevocationSet::new();
    let ctx = VerifyContext::new(&trust, example::verified_on(), &none);
    let mut link = Link::new(SimChannel::new(SimCard::from_state(
        state,
        SimOptions::default(),
    )));
    let (verdict, photo) = sequences::verify(&mut link, &ctx).expect("verification runs");
    let failures: Vec<_> = verdict
        .checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failed { .. }))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(verdict.standing, Standing::Valid);
    let data = example::issue_data();
    assert_eq!(verdict.holder, Some(data.holder));
    assert_eq!(verdict.certificate, Some(data.certificate));
    assert_eq!(verdict.reviews, vec![example::review()]);
    assert_eq!(photo, Some(data.photo_jpeg));
}

#[test]
fn the_documented_card_with_one_byte_changed_is_invalid() {
    // The verification above is only worth something if a wrong card fails it.
    let doc = document();
    let mut state = Persistent::from_json(&block(&doc, "json card-state")).unwrap();
    let holder = state
        .files
        .get_mut(&FileId::Holder)
        .expect("EF.HOLDER in the documented state");
    let last = holder.len() - 1;
    holder[last] ^= 0x01;
    let trust = trust(&doc);
    let none = RevocationSet::new();
    let ctx = VerifyContext::new(&trust, example::verified_on(), &none);
    let mut link = Link::new(SimChannel::new(SimCard::from_state(
        state,
        SimOptions::default(),
    )));
    let (verdict, _) = sequences::verify(&mut link, &ctx).unwrap();
    assert_eq!(verdict.standing, Standing::Invalid);
}

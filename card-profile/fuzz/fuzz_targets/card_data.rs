//! Every parser of bytes that come from a card: TLV, each file's template, the FCI,
//! the security object, signed records and signer certificates. None may panic, and
//! a TLV that parses must re-encode to the same bytes (strict = one encoding).
#![no_main]

use card_profile::profile::tags;
use card_profile::records::{photo_from_tlv, Certificate, Holder};
use card_profile::sequences::CardInfo;
use card_profile::sod::{SecurityObject, SignedObject};
use card_profile::tlv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(items) = tlv::parse_all(data) {
        let mut out = Vec::new();
        for t in &items {
            tlv::encode_into(t.tag, t.value, &mut out);
        }
        assert_eq!(out, data);
    }
    let _ = tlv::object_len_from_header(data);
    let _ = Holder::from_tlv(data);
    let _ = Certificate::from_tlv(data);
    let _ = photo_from_tlv(data);
    let _ = CardInfo::parse_fci(data);
    let _ = SecurityObject::parse(data);
    let _ = SignedObject::parse(data, tags::STATUS, tags::STATUS_CONTENT);
    let _ = SignedObject::parse(data, tags::REVIEW, tags::REVIEW_CONTENT);
    let _ = card_profile::pki::SignerCertificate::from_tlv(data);
});

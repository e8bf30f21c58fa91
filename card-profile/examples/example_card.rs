//! Writes docs/PROFILE-EXAMPLE.md: one complete example card (every file in hex, each
//! object dissected), its keys and the test vectors of PROFILE.md §5 and §6.
//!
//!     cargo run -p card-profile --example example_card > docs/PROFILE-EXAMPLE.md
//!
//! Keys and signatures are fresh on every run (ECDSA signatures are randomised), so a
//! run rewrites the whole document; `card-profile/tests/example_card.rs` checks that
//! whatever document is committed is a card this code writes and accepts.

use card_profile::channel::Link;
use card_profile::demo::example::{self, SERIAL};
use card_profile::keys::MasterKey;
use card_profile::pki::{DocumentSigner, RootKey, SigningKey, TrustList};
use card_profile::profile::FileId;
use card_profile::sequences::{self, Card};
use card_profile::tlv::{self, Tag};
use card_sim::{SimCard, SimChannel, SimOptions};
use chrono::NaiveDate;
use std::fmt::Write as _;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("fixed date")
}

/// An indented dissection of a TLV object: constructed tags open a level, primitive
/// values show as text when they are printable UTF-8 and as hex otherwise.
fn dissect(bytes: &[u8], depth: usize, out: &mut String) {
    let Ok(items) = tlv::parse_all(bytes) else {
        let _ = writeln!(
            out,
            "{}(not TLV) {}",
            "  ".repeat(depth),
            hex::encode_upper(bytes)
        );
        return;
    };
    for item in items {
        let header = &item.raw[..item.raw.len() - item.value.len()];
        let pad = "  ".repeat(depth);
        if item.tag.is_constructed() && item.tag != Tag(0x7F49) {
            let _ = writeln!(out, "{pad}{}", hex::encode_upper(header));
            dissect(item.value, depth + 1, out);
        } else {
            let text = std::str::from_utf8(item.value)
                .ok()
                .filter(|s| !s.is_empty() && s.chars().all(|c| !c.is_control()))
                .map(|s| format!("  \"{s}\""))
                .unwrap_or_default();
            let value = if item.value.len() > 48 {
                format!(
                    "{}…{} ({} bytes)",
                    hex::encode_upper(&item.value[..16]),
                    hex::encode_upper(&item.value[item.value.len() - 8..]),
                    item.value.len()
                )
            } else {
                hex::encode_upper(item.value)
            };
            let _ = writeln!(out, "{pad}{} {value}{text}", hex::encode_upper(header));
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let today = example::personalized_on();
    let master = MasterKey::from_hex(example::MASTER_KEY_HEX).map_err(|e| format!("{e:?}"))?;
    let root = RootKey {
        name: "演示省司法厅根证书".into(),
        key: SigningKey::generate()?,
        valid_from: d(2024, 1, 1),
        valid_until: d(2044, 1, 1),
    };
    let signer_key = SigningKey::generate()?;
    let cert = root.issue_signer(
        "演示市司法局",
        &signer_key.public_key(),
        d(2025, 1, 1),
        d(2035, 1, 1),
    )?;
    let signer = DocumentSigner::new(signer_key, cert)?;
    let trust = TrustList::new(vec![root.anchor()]);

    let card = SimCard::from_master_key(SERIAL, &master, SimOptions::default());
    let mut link = Link::new(SimChannel::new(card));
    let issued =
        sequences::personalize(&mut link, &example::issue_data(), &master, &signer, today)?;
    let review = example::review();
    sequences::append_review(&mut link, &review, &master, &signer)?;
    let change = example::status_change();
    sequences::set_status(&mut link, &change, &master, &signer)?;
    let chip_challenge = hex::decode(example::CHIP_CHALLENGE_HEX)?;
    let chip_signature = Card::select(&mut link)?.internal_authenticate(&chip_challenge)?;
    let sim = link.into_inner().into_card();
    let state = sim.persistent();

    let k_card = master.derive(&SERIAL);
    let card_challenge: [u8; 16] = hex::decode(example::CARD_CHALLENGE_HEX)?
        .try_into()
        .map_err(|_| "len")?;
    let host_challenge: [u8; 16] = hex::decode(example::HOST_CHALLENGE_HEX)?
        .try_into()
        .map_err(|_| "len")?;
    let host_cryptogram = k_card.cryptogram(&SERIAL, &card_challenge);
    let card_cryptogram = k_card.card_cryptogram(&SERIAL, &host_challenge, &card_challenge);

    let mut doc = String::new();
    let _ = writeln!(
        doc,
        "# Example card (profile version 1)\n\n\
         One complete card as ecard writes it, for a card vendor and for anyone writing\n\
         another verifier from docs/PROFILE.md: every file in hex, each object\n\
         dissected, the keys, and the test vectors of PROFILE.md §5 and §6.\n\
         `card-profile/tests/example_card.rs` checks this document against the code: it\n\
         re-encodes every unsigned object from the values below and compares the bytes,\n\
         recomputes K_card and both cryptograms, checks every signature and hash, and\n\
         verifies the card (loaded into the software card from the state below) on\n\
         2026-03-20 with the trust list below: standing `valid`.\n\n\
         Regenerate with `cargo run -p card-profile --example example_card >\n\
         docs/PROFILE-EXAMPLE.md` (keys and ECDSA signatures differ on every run; the\n\
         test accepts any run). Example keys are public: never use them on a real card.\n"
    );
    let _ = writeln!(
        doc,
        "## Inputs\n\n\
         | item | value |\n| --- | --- |\n\
         | card serial | `{}` |\n\
         | bureau master key (16 bytes) | `{}` |\n\
         | personalized on | 2025-06-02 (EF.SOD signing date) |\n\
         | review record | year 2025, done 2026-03-10, passed, by 演示市司法局 |\n\
         | status record | active, 2026-03-10, sequence 2 (personalization wrote 1) |\n\
         | holder | 张三, male, 汉族, born 1985-06-15, ID 110105198506151236 |\n\
         | certificate | 川X010099, kind 1, 演示市市场监督管理局, posts 01,02, 市场监管, 演示市, issuer 演示市司法局, issued/valid from 2025-06-02, valid until 2030-05-27 |\n\
         | photo | a 16×20 JPEG, {} bytes |\n",
        hex::encode_upper(SERIAL),
        example::MASTER_KEY_HEX,
        example::PHOTO_JPEG.len()
    );
    let _ = writeln!(
        doc,
        "## Trust list\n\nThe verifier's trust list (JSON as ecardd stores it, §4):\n\n\
         ```json\n{}\n```\n",
        serde_json::to_string_pretty(&trust)?
    );
    let _ = writeln!(
        doc,
        "## Management key and EXTERNAL AUTHENTICATE (§5)\n\n\
         | item | hex |\n| --- | --- |\n\
         | master key check value (KCV: AES of a zero block, first 3 bytes) | `{}` |\n\
         | K_card = HKDF-SHA256(master, salt \"ecard-mgmt-v1\", info = serial)[0..16] | `{}` |\n\
         | card challenge (GET CHALLENGE) | `{}` |\n\
         | host challenge | `{}` |\n\
         | host cryptogram = AES-CMAC(K_card, \"ECARD-EXTAUTH\" ‖ serial ‖ card challenge) | `{}` |\n\
         | card cryptogram = AES-CMAC(K_card, \"ECARD-CARDAUTH\" ‖ serial ‖ host challenge ‖ card challenge) | `{}` |\n\
         | EXTERNAL AUTHENTICATE APDU | `0082000120{}{}10` |\n",
        master.check_value().to_lowercase(),
        hex::encode(k_card.expose()),
        example::CARD_CHALLENGE_HEX,
        example::HOST_CHALLENGE_HEX,
        hex::encode(host_cryptogram),
        hex::encode(card_cryptogram),
        hex::encode_upper(host_cryptogram),
        example::HOST_CHALLENGE_HEX.to_uppercase(),
    );
    let _ = writeln!(
        doc,
        "## Chip authentication (§6)\n\n\
         | item | hex |\n| --- | --- |\n\
         | challenge (INTERNAL AUTHENTICATE data) | `{}` |\n\
         | one signature r‖s over \"ECARD-CHIPAUTH\" ‖ challenge (randomised; any valid one is right) | `{}` |\n\
         | chip public key (EF.SOD tag 82) | `{}` |\n",
        example::CHIP_CHALLENGE_HEX,
        hex::encode(chip_signature),
        hex::encode(issued.chip_key),
    );
    let _ = writeln!(doc, "## Files\n");
    for file in [
        FileId::Ver,
        FileId::Holder,
        FileId::Photo,
        FileId::Cert,
        FileId::Sod,
        FileId::Status,
    ] {
        let bytes = sim.file(file);
        let mut dump = String::new();
        dissect(bytes, 0, &mut dump);
        let _ = writeln!(
            doc,
            "### {} ({} bytes)\n\n```hex {}\n{}\n```\n\n```\n{}```\n",
            file.name(),
            bytes.len(),
            file.name(),
            hex::encode_upper(bytes),
            dump
        );
    }
    for (i, record) in sim.records().iter().enumerate() {
        let mut dump = String::new();
        dissect(record, 0, &mut dump);
        let _ = writeln!(
            doc,
            "### EF.REVIEWS record {} ({} bytes)\n\n```hex EF.REVIEWS#{}\n{}\n```\n\n```\n{}```\n",
            i + 1,
            record.len(),
            i + 1,
            hex::encode_upper(record),
            dump
        );
    }
    let _ = writeln!(
        doc,
        "## The card as the software card keeps it\n\n\
         `ecard-sim --state FILE` loads this (card-sim/src/state.rs); it holds the chip's\n\
         private key in clear, as only an example may.\n\n```json card-state\n{}\n```",
        state.to_json()
    );
    print!("{doc}");
    Ok(())
}

//! Sample officers, a demo PKI and a demo portrait, for `ecardd demo`, the tests and
//! the benchmarks. Nothing here is used on a production station. The ID numbers
//! carry correct GB 11643 check digits (computed, and checked by the domain crate's
//! tests); the portrait is synthetic (assets/README.md).

use crate::keys::MasterKey;
use crate::pki::{DocumentSigner, PkiError, RootKey, SigningKey, TrustList};
use crate::records::{Certificate, CertificateKind, Gender, Holder};
use crate::sequences::IssueData;
use crate::suite::Suite;
use chrono::{Datelike, Months, NaiveDate};

/// The synthetic chip portrait (JPEG, under 8 KiB).
pub const PORTRAIT_JPEG: &[u8] = include_bytes!("../assets/demo-portrait.jpg");

/// The demo bureau master key. Public, so only ever for demo cards.
pub const DEMO_MASTER_KEY_HEX: &str =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// The demo SM-suite master key (SM4 has one 16-byte key size). Public, demo only.
pub const DEMO_SM_MASTER_KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f";

/// A root, a document signer certified by it, the master key and the trust list.
pub struct DemoPki {
    pub root: RootKey,
    pub signer: DocumentSigner,
    pub master: MasterKey,
    pub trust: TrustList,
}

/// Generates fresh demo keys valid around `today`, in the P-256 suite.
pub fn pki(today: NaiveDate) -> Result<DemoPki, PkiError> {
    pki_in(Suite::P256, today)
}

/// Generates fresh demo keys valid around `today`, in `suite`.
pub fn pki_in(suite: Suite, today: NaiveDate) -> Result<DemoPki, PkiError> {
    let years = |n: u32| Months::new(12 * n);
    let root = RootKey {
        name: "演示省司法厅根证书".into(),
        key: SigningKey::generate_in(suite)?,
        valid_from: today - years(5),
        valid_until: today + years(20),
    };
    let key = SigningKey::generate_in(suite)?;
    let cert = root.issue_signer(
        "演示市司法局",
        &key.public_key(),
        today - years(1),
        today + years(10),
    )?;
    let signer = DocumentSigner::new(key, cert)?;
    // PIV cards need the signer as X.509 too (P-256 only, as the PIV family is).
    let signer = match suite {
        Suite::P256 => {
            let der = crate::x509::signer_certificate(&root, &signer.certificate)
                .map_err(|_| PkiError::BadPublicKey)?;
            signer.with_x509(der)
        }
        Suite::Sm => signer,
    };
    let trust = TrustList::new(vec![root.anchor()]);
    let master = match suite {
        Suite::P256 => MasterKey::from_hex(DEMO_MASTER_KEY_HEX),
        Suite::Sm => MasterKey::from_hex(DEMO_SM_MASTER_KEY_HEX).and_then(|m| m.in_suite(suite)),
    }
    .map_err(|_| PkiError::BadPrivateKey)?;
    Ok(DemoPki {
        root,
        signer,
        master,
        trust,
    })
}

struct Sample {
    name: &'static str,
    id: &'static str,
    ethnicity: &'static str,
    number: &'static str,
    unit: &'static str,
    kind: CertificateKind,
}

const SAMPLES: [Sample; 5] = [
    Sample {
        name: "李明",
        id: "510102198002292719",
        ethnicity: "汉族",
        number: "川X010001",
        unit: "演示市市场监督管理局",
        kind: CertificateKind::Enforcement,
    },
    Sample {
        name: "王芳",
        id: "510703199207153628",
        ethnicity: "彝族",
        number: "川X010002",
        unit: "演示市市场监督管理局",
        kind: CertificateKind::Enforcement,
    },
    Sample {
        name: "张伟",
        id: "511321197511030051",
        ethnicity: "汉族",
        number: "川X06210001",
        unit: "演示县农业农村局",
        kind: CertificateKind::Entrusted,
    },
    Sample {
        name: "赵静",
        id: "510104198803084242",
        ethnicity: "藏族",
        number: "川X06210002",
        unit: "演示县综合行政执法大队",
        kind: CertificateKind::Enforcement,
    },
    Sample {
        name: "陈刚",
        id: "110105198506151236",
        ethnicity: "回族",
        number: "川X020001",
        unit: "演示市司法局",
        kind: CertificateKind::Supervision,
    },
];

/// Five approved sample officers, issued on `issued` and valid five years.
pub fn officers(issued: NaiveDate) -> Vec<IssueData> {
    SAMPLES
        .iter()
        .map(|s| {
            let birth = NaiveDate::parse_from_str(&s.id[6..14], "%Y%m%d").unwrap_or(NaiveDate::MIN);
            let gender_digit = s.id.as_bytes()[16];
            let entrusted = s.kind == CertificateKind::Entrusted;
            IssueData {
                holder: Holder {
                    name: s.name.into(),
                    gender: if gender_digit % 2 == 1 {
                        Gender::Male
                    } else {
                        Gender::Female
                    },
                    ethnicity: s.ethnicity.into(),
                    birth_date: birth,
                    id_number: s.id.into(),
                },
                certificate: Certificate {
                    number: s.number.parse().expect("the demo numbers are well-formed"),
                    kind: s.kind,
                    unit: s.unit.into(),
                    entrusting_authority: entrusted.then(|| "演示县人民政府".into()),
                    entrusting_nature: entrusted.then(|| "行政机关".into()),
                    posts: "01,02".into(),
                    category: "综合执法".into(),
                    area: "演示市".into(),
                    issuer: "演示市司法局".into(),
                    issue_date: issued,
                    valid_from: issued,
                    valid_until: issued
                        .with_year(issued.year() + 5)
                        .unwrap_or(issued + Months::new(60))
                        .pred_opt()
                        .unwrap_or(issued),
                },
                photo_jpeg: PORTRAIT_JPEG.to_vec(),
            }
        })
        .collect()
}

/// The example card of docs/PROFILE-EXAMPLE.md: its fixed inputs, in one place for
/// the program that writes the document (`examples/example_card.rs`) and the test
/// that checks the document against the code (`tests/example_card.rs`).
pub mod example {
    use crate::keys::Serial;
    use crate::records::{
        CardState, Certificate, CertificateKind, Gender, Holder, Review, ReviewResult,
    };
    use crate::sequences::{IssueData, StatusChange};
    use chrono::NaiveDate;

    pub const SERIAL: Serial = [0x45, 0x43, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A];
    /// A public key for a public example: never on a real card.
    pub const MASTER_KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f";
    pub const CARD_CHALLENGE_HEX: &str = "00112233445566778899aabbccddeeff";
    pub const HOST_CHALLENGE_HEX: &str = "f0e1d2c3b4a5968778695a4b3c2d1e0f";
    pub const CHIP_CHALLENGE_HEX: &str =
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    pub const PHOTO_JPEG: &[u8] = include_bytes!("../assets/example-photo.jpg");

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
    }

    /// The day the card was personalized (EF.SOD's signing date).
    pub fn personalized_on() -> NaiveDate {
        d(2025, 6, 2)
    }

    /// The day the test verifies the card on.
    pub fn verified_on() -> NaiveDate {
        d(2026, 3, 20)
    }

    pub fn issue_data() -> IssueData {
        IssueData {
            holder: Holder {
                name: "张三".into(),
                gender: Gender::Male,
                ethnicity: "汉族".into(),
                birth_date: d(1985, 6, 15),
                id_number: "110105198506151236".into(),
            },
            certificate: Certificate {
                number: "川X010099".parse().expect("a well-formed number"),
                kind: CertificateKind::Enforcement,
                unit: "演示市市场监督管理局".into(),
                entrusting_authority: None,
                entrusting_nature: None,
                posts: "01,02".into(),
                category: "市场监管".into(),
                area: "演示市".into(),
                issuer: "演示市司法局".into(),
                issue_date: personalized_on(),
                valid_from: personalized_on(),
                valid_until: d(2030, 5, 27),
            },
            photo_jpeg: PHOTO_JPEG.to_vec(),
        }
    }

    /// The one review record on the example card (the review of 2025, done in March 2026).
    pub fn review() -> Review {
        Review {
            year: 2025,
            date: d(2026, 3, 10),
            result: ReviewResult::Passed,
            reviewer: "演示市司法局".into(),
            serial: SERIAL,
            remark: None,
        }
    }

    /// The status written after personalization (sequence 2).
    pub fn status_change() -> StatusChange {
        StatusChange {
            state: CardState::Active,
            reason: String::new(),
            date: d(2026, 3, 10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_officers_have_consistent_birth_dates_and_genders() {
        let list = officers(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
        assert_eq!(list.len(), 5);
        assert_eq!(
            list[0].holder.birth_date,
            NaiveDate::from_ymd_opt(1980, 2, 29).unwrap()
        );
        assert_eq!(list[1].holder.gender, Gender::Female);
        assert_eq!(
            list[0].certificate.valid_until,
            NaiveDate::from_ymd_opt(2031, 1, 4).unwrap()
        );
        assert!(PORTRAIT_JPEG.starts_with(&[0xFF, 0xD8]) && PORTRAIT_JPEG.len() <= 8 * 1024);
    }
}

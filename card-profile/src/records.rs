//! The card's data records as Rust types, with their JSON (serde) and TLV encodings.
//! Layouts are in docs/PROFILE.md §3.

use crate::date;
use crate::keys::Serial;
use crate::profile::tags;
use crate::tlv::{self, Builder, Fields, TlvError};
use chrono::NaiveDate;
use ecard_domain::numbering::CertificateNumber;
use serde::{Deserialize, Serialize};

/// The domain's one Gender and CertificateKind: the card writes their codes.
pub use ecard_domain::citizen_id::Gender;
pub use ecard_domain::codes::CertificateKind;

/// EF.HOLDER: who the certificate belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub name: String,
    pub gender: Gender,
    pub ethnicity: String,
    pub birth_date: NaiveDate,
    pub id_number: String,
}

impl Holder {
    pub fn to_tlv(&self) -> Vec<u8> {
        Builder::new()
            .field(tags::HOLDER_NAME, self.name.as_bytes())
            .field(tags::HOLDER_GENDER, &[self.gender.code()])
            .field(tags::HOLDER_ETHNICITY, self.ethnicity.as_bytes())
            .field(tags::HOLDER_BIRTH_DATE, &date::encode(self.birth_date))
            .field(tags::HOLDER_ID_NUMBER, self.id_number.as_bytes())
            .wrap(tags::HOLDER)
    }

    pub fn from_tlv(bytes: &[u8]) -> Result<Self, TlvError> {
        let f = Fields::of(
            tlv::parse_exact(bytes)?,
            tags::HOLDER,
            &[
                tags::HOLDER_NAME,
                tags::HOLDER_GENDER,
                tags::HOLDER_ETHNICITY,
                tags::HOLDER_BIRTH_DATE,
                tags::HOLDER_ID_NUMBER,
            ],
        )?;
        Ok(Self {
            name: f.text(tags::HOLDER_NAME)?,
            gender: Gender::from_code(f.byte(tags::HOLDER_GENDER)?).ok_or(TlvError::BadValue {
                tag: tags::HOLDER_GENDER,
                reason: "gender code is not 1 or 2",
            })?,
            ethnicity: f.text(tags::HOLDER_ETHNICITY)?,
            birth_date: f.date(tags::HOLDER_BIRTH_DATE)?,
            id_number: f.text(tags::HOLDER_ID_NUMBER)?,
        })
    }
}

/// EF.CERT: the certificate itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// Parsed at the boundary (the card's bytes, JSON): never a bare string.
    pub number: CertificateNumber,
    pub kind: CertificateKind,
    pub unit: String,
    /// 委托机关 and its nature: only for entrusted certificates.
    pub entrusting_authority: Option<String>,
    pub entrusting_nature: Option<String>,
    /// Post codes, e.g. "01,02".
    pub posts: String,
    pub category: String,
    pub area: String,
    pub issuer: String,
    pub issue_date: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

impl Certificate {
    pub fn to_tlv(&self) -> Vec<u8> {
        Builder::new()
            .field(tags::CERT_NUMBER, self.number.as_bytes())
            .field(tags::CERT_KIND, &[self.kind.code()])
            .field(tags::CERT_UNIT, self.unit.as_bytes())
            .field_opt(
                tags::CERT_ENTRUSTING_AUTHORITY,
                self.entrusting_authority.as_deref().map(str::as_bytes),
            )
            .field_opt(
                tags::CERT_ENTRUSTING_NATURE,
                self.entrusting_nature.as_deref().map(str::as_bytes),
            )
            .field(tags::CERT_POST, self.posts.as_bytes())
            .field(tags::CERT_CATEGORY, self.category.as_bytes())
            .field(tags::CERT_AREA, self.area.as_bytes())
            .field(tags::CERT_ISSUER, self.issuer.as_bytes())
            .field(tags::CERT_ISSUE_DATE, &date::encode(self.issue_date))
            .field(tags::CERT_VALID_FROM, &date::encode(self.valid_from))
            .field(tags::CERT_VALID_UNTIL, &date::encode(self.valid_until))
            .wrap(tags::CERT)
    }

    pub fn from_tlv(bytes: &[u8]) -> Result<Self, TlvError> {
        let f = Fields::of(
            tlv::parse_exact(bytes)?,
            tags::CERT,
            &[
                tags::CERT_NUMBER,
                tags::CERT_KIND,
                tags::CERT_UNIT,
                tags::CERT_ENTRUSTING_AUTHORITY,
                tags::CERT_ENTRUSTING_NATURE,
                tags::CERT_POST,
                tags::CERT_CATEGORY,
                tags::CERT_AREA,
                tags::CERT_ISSUER,
                tags::CERT_ISSUE_DATE,
                tags::CERT_VALID_FROM,
                tags::CERT_VALID_UNTIL,
            ],
        )?;
        Ok(Self {
            number: {
                let text = f.text(tags::CERT_NUMBER)?;
                // The number itself must pass, not a trimmed copy.
                match CertificateNumber::parse(&text) {
                    Ok(n) if n.as_str() == text => n,
                    _ => {
                        return Err(TlvError::BadValue {
                            tag: tags::CERT_NUMBER,
                            reason: "not a certificate number",
                        })
                    }
                }
            },
            kind: CertificateKind::from_code(f.byte(tags::CERT_KIND)?).ok_or(
                TlvError::BadValue {
                    tag: tags::CERT_KIND,
                    reason: "unknown certificate kind",
                },
            )?,
            unit: f.text(tags::CERT_UNIT)?,
            entrusting_authority: f.text_opt(tags::CERT_ENTRUSTING_AUTHORITY)?,
            entrusting_nature: f.text_opt(tags::CERT_ENTRUSTING_NATURE)?,
            posts: f.text(tags::CERT_POST)?,
            category: f.text(tags::CERT_CATEGORY)?,
            area: f.text(tags::CERT_AREA)?,
            issuer: f.text(tags::CERT_ISSUER)?,
            issue_date: f.date(tags::CERT_ISSUE_DATE)?,
            valid_from: f.date(tags::CERT_VALID_FROM)?,
            valid_until: f.date(tags::CERT_VALID_UNTIL)?,
        })
    }
}

/// EF.PHOTO: the chip photo (a downscaled JPEG).
pub fn photo_to_tlv(jpeg: &[u8]) -> Vec<u8> {
    Builder::new()
        .field(tags::PHOTO_JPEG, jpeg)
        .wrap(tags::PHOTO)
}

pub fn photo_from_tlv(bytes: &[u8]) -> Result<Vec<u8>, TlvError> {
    let f = Fields::of(tlv::parse_exact(bytes)?, tags::PHOTO, &[tags::PHOTO_JPEG])?;
    Ok(f.bytes(tags::PHOTO_JPEG)?.to_vec())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewResult {
    /// 合格
    Passed,
    /// 不合格
    Failed,
}

/// One annual review (年审) as recorded on the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The year the review covers (DOMAIN.md): the review done by 31 March 2027
    /// has year 2026 (`ecard_domain::validity::review_deadline`).
    pub year: u16,
    pub date: NaiveDate,
    pub result: ReviewResult,
    pub reviewer: String,
    #[serde(with = "hex_serial")]
    pub serial: Serial,
    pub remark: Option<String>,
}

impl Review {
    /// The content template (tag 79): what the signature covers.
    pub fn content_tlv(&self) -> Vec<u8> {
        Builder::new()
            .field(tags::REVIEW_YEAR, format!("{:04}", self.year).as_bytes())
            .field(tags::REVIEW_DATE, &date::encode(self.date))
            .field(
                tags::REVIEW_RESULT,
                &[match self.result {
                    ReviewResult::Passed => 1,
                    ReviewResult::Failed => 2,
                }],
            )
            .field(tags::REVIEW_REVIEWER, self.reviewer.as_bytes())
            .field(tags::REVIEW_SERIAL, &self.serial)
            .field_opt(
                tags::REVIEW_REMARK,
                self.remark.as_deref().map(str::as_bytes),
            )
            .wrap(tags::REVIEW_CONTENT)
    }

    pub fn from_content(tlv: tlv::Tlv<'_>) -> Result<Self, TlvError> {
        let f = Fields::of(
            tlv,
            tags::REVIEW_CONTENT,
            &[
                tags::REVIEW_YEAR,
                tags::REVIEW_DATE,
                tags::REVIEW_RESULT,
                tags::REVIEW_REVIEWER,
                tags::REVIEW_SERIAL,
                tags::REVIEW_REMARK,
            ],
        )?;
        let year_text = f.text(tags::REVIEW_YEAR)?;
        let year = match year_text.as_bytes() {
            [a, b, c, d] if [a, b, c, d].iter().all(|x| x.is_ascii_digit()) => {
                year_text.parse().ok()
            }
            _ => None,
        }
        .ok_or(TlvError::BadValue {
            tag: tags::REVIEW_YEAR,
            reason: "not a 4-digit year",
        })?;
        let result = match f.byte(tags::REVIEW_RESULT)? {
            1 => ReviewResult::Passed,
            2 => ReviewResult::Failed,
            _ => {
                return Err(TlvError::BadValue {
                    tag: tags::REVIEW_RESULT,
                    reason: "unknown review result",
                })
            }
        };
        Ok(Self {
            year,
            date: f.date(tags::REVIEW_DATE)?,
            result,
            reviewer: f.text(tags::REVIEW_REVIEWER)?,
            serial: f.fixed(tags::REVIEW_SERIAL)?,
            remark: f.text_opt(tags::REVIEW_REMARK)?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardState {
    Active,
    /// 暂停执法: reversible.
    Suspended,
    /// 注销 or 声明作废: final.
    Revoked,
}

/// The sequence number of the status record a card is personalized with; every
/// later record is numbered above it.
pub const FIRST_STATUS_SEQUENCE: u32 = 1;

/// Whether a verifier gains anything by remembering `sequence` for a serial: no
/// genuine record is numbered below the first, so remembering the first protects
/// nothing (and would write a row for every card ever seen).
pub fn status_sequence_worth_keeping(sequence: u32) -> bool {
    sequence > FIRST_STATUS_SEQUENCE
}

/// EF.STATUS content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRecord {
    pub state: CardState,
    pub reason: String,
    pub date: NaiveDate,
    /// Increases with each status change of the card, so an old record is recognisable.
    pub sequence: u32,
    #[serde(with = "hex_serial")]
    pub serial: Serial,
}

impl StatusRecord {
    pub fn content_tlv(&self) -> Vec<u8> {
        Builder::new()
            .field(
                tags::STATUS_STATE,
                &[match self.state {
                    CardState::Active => 1,
                    CardState::Suspended => 2,
                    CardState::Revoked => 3,
                }],
            )
            .field(tags::STATUS_REASON, self.reason.as_bytes())
            .field(tags::STATUS_DATE, &date::encode(self.date))
            .field(tags::STATUS_SEQUENCE, &self.sequence.to_be_bytes())
            .field(tags::STATUS_SERIAL, &self.serial)
            .wrap(tags::STATUS_CONTENT)
    }

    pub fn from_content(tlv: tlv::Tlv<'_>) -> Result<Self, TlvError> {
        let f = Fields::of(
            tlv,
            tags::STATUS_CONTENT,
            &[
                tags::STATUS_STATE,
                tags::STATUS_REASON,
                tags::STATUS_DATE,
                tags::STATUS_SEQUENCE,
                tags::STATUS_SERIAL,
            ],
        )?;
        let state = match f.byte(tags::STATUS_STATE)? {
            1 => CardState::Active,
            2 => CardState::Suspended,
            3 => CardState::Revoked,
            _ => {
                return Err(TlvError::BadValue {
                    tag: tags::STATUS_STATE,
                    reason: "unknown card state",
                })
            }
        };
        Ok(Self {
            state,
            reason: f.text(tags::STATUS_REASON)?,
            date: f.date(tags::STATUS_DATE)?,
            sequence: f.u32(tags::STATUS_SEQUENCE)?,
            serial: f.fixed(tags::STATUS_SERIAL)?,
        })
    }
}

/// Serde helper: serials as 16 hex digits in JSON.
pub mod hex_serial {
    use crate::keys::Serial;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(serial: &Serial, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(serial))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Serial, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(serde::de::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| serde::de::Error::custom("serial must be 8 bytes"))
    }
}

#[cfg(test)]
pub(crate) mod samples {
    use super::*;

    pub fn holder() -> Holder {
        Holder {
            name: "张三".into(),
            gender: Gender::Male,
            ethnicity: "汉族".into(),
            birth_date: NaiveDate::from_ymd_opt(1985, 6, 15).unwrap(),
            // 11010519850615123 + computed GB 11643 check digit.
            id_number: "110105198506151236".into(),
        }
    }

    pub fn certificate() -> Certificate {
        Certificate {
            number: "川X010099".parse().expect("number"),
            kind: CertificateKind::Entrusted,
            unit: "某市市场监督管理局".into(),
            entrusting_authority: Some("某市人民政府".into()),
            entrusting_nature: Some("行政机关".into()),
            posts: "01,02".into(),
            category: "市场监管".into(),
            area: "某市".into(),
            issuer: "某市司法局".into(),
            issue_date: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            valid_from: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            valid_until: NaiveDate::from_ymd_opt(2030, 2, 28).unwrap(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn holder_and_certificate_round_trip_through_tlv_and_json() {
        let h = samples::holder();
        assert_eq!(Holder::from_tlv(&h.to_tlv()).unwrap(), h);
        let c = samples::certificate();
        assert_eq!(Certificate::from_tlv(&c.to_tlv()).unwrap(), c);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Certificate>(&json).unwrap(), c);
    }

    /// The card's number is parsed as it is read (`CertificateNumber`), from the
    /// card's bytes and from JSON alike: one with whitespace or control characters
    /// in it is no certificate, not a string to check later.
    #[test]
    fn a_malformed_number_on_the_card_or_in_json_is_refused_as_it_is_read() {
        let c = samples::certificate();
        let good = c.to_tlv();
        let find = |hay: &[u8], needle: &[u8]| {
            hay.windows(needle.len()).position(|w| w == needle).unwrap()
        };
        for bad in ["川X 10099", "川X\t10099", "川X01009 "] {
            assert_eq!(bad.len(), c.number.len());
            let mut bytes = good.clone();
            let at = find(&bytes, c.number.as_bytes());
            bytes[at..at + bad.len()].copy_from_slice(bad.as_bytes());
            assert!(
                matches!(
                    Certificate::from_tlv(&bytes),
                    Err(TlvError::BadValue {
                        tag: tags::CERT_NUMBER,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        let json = serde_json::to_string(&c)
            .unwrap()
            .replace("川X010099", "川X 10099");
        assert!(serde_json::from_str::<Certificate>(&json).is_err());
    }

    #[test]
    fn review_and_status_round_trip() {
        let r = Review {
            year: 2026,
            date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            result: ReviewResult::Passed,
            reviewer: "某市司法局".into(),
            serial: [1, 2, 3, 4, 5, 6, 7, 8],
            remark: None,
        };
        let enc = r.content_tlv();
        assert_eq!(
            Review::from_content(tlv::parse_exact(&enc).unwrap()).unwrap(),
            r
        );
        let s = StatusRecord {
            state: CardState::Suspended,
            reason: "暂停执法".into(),
            date: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
            sequence: 2,
            serial: [8; 8],
        };
        let enc = s.content_tlv();
        assert_eq!(
            StatusRecord::from_content(tlv::parse_exact(&enc).unwrap()).unwrap(),
            s
        );
        assert!(serde_json::to_string(&s)
            .unwrap()
            .contains("\"0808080808080808\""));
    }

    #[test]
    fn wrong_template_or_bad_field_is_rejected() {
        let h = samples::holder().to_tlv();
        assert!(Certificate::from_tlv(&h).is_err());
        let mut bad = samples::holder();
        bad.id_number = "x".into();
        let mut enc = bad.to_tlv();
        // Gender byte 1 → 7.
        let pos = enc
            .windows(3)
            .position(|w| w == [0x81, 0x01, 0x01])
            .unwrap();
        enc[pos + 2] = 7;
        assert!(Holder::from_tlv(&enc).is_err());
    }

    proptest! {
        #[test]
        fn holder_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = Holder::from_tlv(&bytes);
            let _ = Certificate::from_tlv(&bytes);
        }

        #[test]
        fn holder_round_trips_any_text(name in "\\PC{1,20}", eth in "\\PC{2,5}", id in "[0-9]{17}[0-9X]") {
            let mut h = samples::holder();
            h.name = name; h.ethnicity = eth; h.id_number = id;
            prop_assert_eq!(Holder::from_tlv(&h.to_tlv()).unwrap(), h);
        }
    }
}

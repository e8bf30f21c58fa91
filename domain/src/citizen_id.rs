//! 公民身份号码 (resident identity number, GB 11643-1999).
//!
//! An 18-character number: 6-digit address code, 8-digit birth date (YYYYMMDD),
//! 3-digit sequence code whose last digit gives the gender (odd = male), and a
//! check character computed with ISO 7064 MOD 11-2.
//!
//! Decisions (see docs/DOMAIN-RULES.md):
//! - A lowercase `x` check character is accepted and normalised to `X`; the
//!   normalised form is what [`CitizenId::as_str`] returns and what is stored.
//! - Surrounding whitespace is trimmed; inner whitespace is a bad character.
//! - The address code is not checked against the administrative-division table
//!   (it changes every year and old IDs keep their old codes).
//! - The birth date must be a real calendar date and not after "today", which the
//!   caller passes in (no clock is read here).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Weights of the first 17 digits (ISO 7064 MOD 11-2 as used by GB 11643).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each value of the weighted sum modulo 11.
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Why a citizen ID was refused. `Display` is the Chinese message for users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CitizenIdError {
    #[error("公民身份号码应为{expected}位，实际为{actual}位")]
    Length { expected: usize, actual: usize },
    #[error("公民身份号码第{position}位字符“{ch}”无效：前17位只能是数字，第18位只能是数字或X")]
    BadCharacter { position: usize, ch: char },
    #[error("公民身份号码中的出生日期“{digits}”不是有效日期")]
    BadBirthDate { digits: String },
    #[error("公民身份号码中的出生日期{date}晚于当前日期")]
    FutureBirthDate { date: NaiveDate },
    #[error("公民身份号码校验位错误：第18位应为“{expected}”，实际为“{actual}”，请核对号码")]
    Checksum { expected: char, actual: char },
}

/// Gender, always derived from the ID (never typed by hand). One type for the roster,
/// the card (EF.HOLDER) and the records; the capitalised spellings are what roster rows
/// stored before this was unified say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    #[serde(alias = "Male")]
    Male,
    #[serde(alias = "Female")]
    Female,
}

impl Gender {
    /// GB/T 2261.1 code (as written on the card).
    pub const fn code(self) -> u8 {
        match self {
            Gender::Male => 1,
            Gender::Female => 2,
        }
    }

    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Gender::Male),
            2 => Some(Gender::Female),
            _ => None,
        }
    }

    /// The label used on forms: 男 / 女.
    pub fn label_zh(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
        }
    }

    /// Parses 男 / 女 (surrounding whitespace ignored).
    pub fn from_label_zh(s: &str) -> Option<Gender> {
        match s.trim() {
            "男" => Some(Gender::Male),
            "女" => Some(Gender::Female),
            _ => None,
        }
    }
}

/// A validated 18-character citizen ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CitizenId {
    number: String,
    birth_date: NaiveDate,
    gender: Gender,
}

impl CitizenId {
    /// Parses and validates `input` as of `today` (birth date must not be later).
    pub fn parse(input: &str, today: NaiveDate) -> Result<CitizenId, CitizenIdError> {
        let id = Self::parse_unchecked_date(input)?;
        if id.birth_date > today {
            return Err(CitizenIdError::FutureBirthDate {
                date: id.birth_date,
            });
        }
        Ok(id)
    }

    /// Format, birth-date and checksum validation without the "not in the future"
    /// check; used when deserialising stored records.
    fn parse_unchecked_date(input: &str) -> Result<CitizenId, CitizenIdError> {
        let s = input.trim();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(CitizenIdError::Length {
                expected: 18,
                actual: chars.len(),
            });
        }
        let mut number = String::with_capacity(18);
        for (i, &c) in chars.iter().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && (c == 'X' || c == 'x'));
            if !ok {
                return Err(CitizenIdError::BadCharacter {
                    position: i + 1,
                    ch: c,
                });
            }
            number.push(c.to_ascii_uppercase());
        }
        let digits = &number[6..14];
        let birth_date = parse_yyyymmdd(digits).ok_or_else(|| CitizenIdError::BadBirthDate {
            digits: digits.to_string(),
        })?;
        let expected = check_char(&number[..17]);
        let actual = chars[17].to_ascii_uppercase();
        if expected != actual {
            return Err(CitizenIdError::Checksum { expected, actual });
        }
        let gender_digit = number.as_bytes()[16] - b'0';
        let gender = if gender_digit % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        };
        Ok(CitizenId {
            number,
            birth_date,
            gender,
        })
    }

    /// The normalised number (upper-case X).
    pub fn as_str(&self) -> &str {
        &self.number
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    pub fn gender(&self) -> Gender {
        self.gender
    }
}

impl std::fmt::Display for CitizenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.number)
    }
}

impl TryFrom<String> for CitizenId {
    type Error = CitizenIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CitizenId::parse_unchecked_date(&s)
    }
}

impl From<CitizenId> for String {
    fn from(id: CitizenId) -> String {
        id.number
    }
}

fn parse_yyyymmdd(digits: &str) -> Option<NaiveDate> {
    let y: i32 = digits.get(0..4)?.parse().ok()?;
    let m: u32 = digits.get(4..6)?.parse().ok()?;
    let d: u32 = digits.get(6..8)?.parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The MOD 11-2 check character of 17 ASCII digits (caller guarantees digits).
fn check_char(first17: &str) -> char {
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Appends the correct check character to 17 digits.
///
/// Only the characters are checked here (not the embedded date), so tests and
/// demos can build any number they need and then run it through [`CitizenId::parse`].
pub fn with_check_digit(first17: &str) -> Result<String, CitizenIdError> {
    let chars: Vec<char> = first17.chars().collect();
    if chars.len() != 17 {
        return Err(CitizenIdError::Length {
            expected: 17,
            actual: chars.len(),
        });
    }
    if let Some((i, &c)) = chars.iter().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(CitizenIdError::BadCharacter {
            position: i + 1,
            ch: c,
        });
    }
    let mut s = first17.to_string();
    s.push(check_char(first17));
    Ok(s)
}

/// Builds the first 17 digits from an address code, a birth date and a
/// sequence code (3 digits; odd last digit = male). Test and demo helper.
pub fn first17(address: &str, birth: NaiveDate, sequence: u16) -> String {
    format!(
        "{address:0>6.6}{:04}{:02}{:02}{:03}",
        birth.year(),
        birth.month(),
        birth.day(),
        sequence % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).expect("date")
    }

    fn make(address: &str, y: i32, m: u32, d: u32, seq: u16) -> String {
        let birth = NaiveDate::from_ymd_opt(y, m, d).expect("date");
        with_check_digit(&first17(address, birth, seq)).expect("17 digits")
    }

    #[test]
    fn computed_id_validates_with_birth_date_and_gender() {
        let s = make("110105", 1985, 7, 9, 123);
        let id = CitizenId::parse(&s, today()).expect("valid");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1985, 7, 9).expect("d")
        );
        assert_eq!(id.gender(), Gender::Male);
        let f = make("110105", 1985, 7, 9, 122);
        assert_eq!(
            CitizenId::parse(&f, today()).expect("valid").gender(),
            Gender::Female
        );
    }

    #[test]
    fn known_mod11_check_value() {
        // Worked by hand: 11010519491231002 -> weighted sum 167, 167 % 11 = 2 -> 'X'.
        assert_eq!(
            with_check_digit("11010519491231002").expect("ok"),
            "11010519491231002X"
        );
    }

    #[test]
    fn x_check_digit_upper_and_lower_case_accepted_and_normalised() {
        // Search sequence codes until the check character is X.
        let s = (0..1000u16)
            .map(|q| make("510100", 1990, 3, 15, q))
            .find(|s| s.ends_with('X'))
            .expect("some sequence gives X");
        let upper = CitizenId::parse(&s, today()).expect("X accepted");
        let lower = CitizenId::parse(&s.to_lowercase(), today()).expect("x accepted");
        assert_eq!(upper, lower);
        assert!(lower.as_str().ends_with('X'));
    }

    #[test]
    fn feb_29_in_leap_year_is_valid_in_other_years_not() {
        let ok = make("510100", 1988, 2, 29, 11);
        assert!(CitizenId::parse(&ok, today()).is_ok());
        let ok2000 = make("510100", 2000, 2, 29, 11);
        assert!(CitizenId::parse(&ok2000, today()).is_ok());
        for bad17 in [
            "51010019890229011",
            "51010019000229011",
            "51010019900230011",
        ] {
            let s = with_check_digit(bad17).expect("digits");
            assert!(
                matches!(
                    CitizenId::parse(&s, today()),
                    Err(CitizenIdError::BadBirthDate { .. })
                ),
                "{s}"
            );
        }
    }

    #[test]
    fn month_13_and_day_00_are_bad_dates() {
        for bad17 in ["51010019901301011", "51010019900100011"] {
            let s = with_check_digit(bad17).expect("digits");
            assert!(matches!(
                CitizenId::parse(&s, today()),
                Err(CitizenIdError::BadBirthDate { .. })
            ));
        }
    }

    #[test]
    fn future_birth_date_rejected() {
        let s = make("510100", 2026, 6, 2, 11);
        assert!(matches!(
            CitizenId::parse(&s, today()),
            Err(CitizenIdError::FutureBirthDate { .. })
        ));
        let born_today = make("510100", 2026, 6, 1, 11);
        assert!(CitizenId::parse(&born_today, today()).is_ok());
    }

    #[test]
    fn guide_sample_ids_fail_checksum_with_expected_char() {
        // Printed in seeds 000/001 (Guangxi) and 003 (Fujian).
        for (s, expected) in [("452122197502156642", '8'), ("820102198906169620", '8')] {
            match CitizenId::parse(s, today()) {
                Err(CitizenIdError::Checksum {
                    expected: e,
                    actual,
                }) => {
                    assert_eq!(actual, s.chars().last().expect("non-empty"));
                    assert_ne!(e, actual);
                    assert_eq!(e, expected);
                    let msg = CitizenIdError::Checksum {
                        expected: e,
                        actual,
                    }
                    .to_string();
                    assert!(msg.contains("校验位"));
                }
                other => panic!("{s}: expected checksum error, got {other:?}"),
            }
        }
    }

    #[test]
    fn length_and_character_errors() {
        assert_eq!(
            CitizenId::parse("12345", today()),
            Err(CitizenIdError::Length {
                expected: 18,
                actual: 5
            })
        );
        assert_eq!(
            CitizenId::parse("51010019900101001Y", today()),
            Err(CitizenIdError::BadCharacter {
                position: 18,
                ch: 'Y'
            })
        );
        assert_eq!(
            CitizenId::parse("5101001990010X0011", today()),
            Err(CitizenIdError::BadCharacter {
                position: 14,
                ch: 'X'
            })
        );
        // Full-width digits are not ASCII digits.
        assert!(matches!(
            CitizenId::parse("５10100199001010011", today()),
            Err(CitizenIdError::BadCharacter { position: 1, .. })
        ));
        assert!(with_check_digit("1234").is_err());
        assert!(with_check_digit("1234567890123456a").is_err());
    }

    #[test]
    fn surrounding_whitespace_trimmed() {
        let s = make("510100", 1970, 1, 1, 1);
        assert!(CitizenId::parse(&format!("  {s}\t"), today()).is_ok());
    }

    #[test]
    fn serde_round_trip_revalidates() {
        let s = make("510100", 1970, 1, 1, 1);
        let id = CitizenId::parse(&s, today()).expect("valid");
        let json = serde_json::to_string(&id).expect("ser");
        assert_eq!(json, format!("\"{s}\""));
        let back: CitizenId = serde_json::from_str(&json).expect("de");
        assert_eq!(back, id);
        assert!(serde_json::from_str::<CitizenId>("\"452122197502156642\"").is_err());
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn arb_first17() -> impl Strategy<Value = String> {
            (100000u32..=999999, 0i64..(365 * 100), 0u16..1000).prop_map(|(addr, days, seq)| {
                let birth =
                    NaiveDate::from_ymd_opt(1926, 1, 1).expect("d") + chrono::Duration::days(days);
                first17(&addr.to_string(), birth, seq)
            })
        }

        proptest! {
            #[test]
            fn generated_ids_always_validate(f in arb_first17()) {
                let s = with_check_digit(&f).expect("digits");
                let id = CitizenId::parse(&s, today());
                prop_assert!(id.is_ok(), "{s}: {id:?}");
            }

            #[test]
            fn any_single_digit_change_is_rejected(
                f in arb_first17(), pos in 0usize..18, delta in 1u8..10
            ) {
                let s = with_check_digit(&f).expect("digits");
                let mut b: Vec<char> = s.chars().collect();
                if pos == 17 {
                    // Replace the check char by a different one of the 11 possible.
                    let i = CHECK_CHARS.iter().position(|&c| c == b[17]).expect("check char");
                    b[17] = CHECK_CHARS[(i + delta as usize) % 11];
                } else {
                    let d = b[pos] as u8 - b'0';
                    b[pos] = char::from(b'0' + (d + delta) % 10);
                }
                let changed: String = b.into_iter().collect();
                prop_assert!(CitizenId::parse(&changed, today()).is_err(), "{changed}");
            }
        }
    }
}

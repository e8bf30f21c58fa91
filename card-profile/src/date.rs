//! Dates on the card: 8 ASCII digits `YYYYMMDD`.

use crate::tlv::{Fields, Tag, TlvError};
use chrono::NaiveDate;

pub fn encode(date: NaiveDate) -> [u8; 8] {
    let text = date.format("%Y%m%d").to_string();
    let mut out = [b'0'; 8];
    // Years 0..=9999 always format to 8 ASCII bytes; anything else is kept at zeros
    // and then fails to decode, never silently.
    if text.len() == 8 {
        out.copy_from_slice(text.as_bytes());
    }
    out
}

pub fn decode(tag: Tag, bytes: &[u8]) -> Result<NaiveDate, TlvError> {
    let bad = TlvError::BadValue {
        tag,
        reason: "not a YYYYMMDD date",
    };
    if bytes.len() != 8 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(bad);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| bad.clone())?;
    NaiveDate::parse_from_str(text, "%Y%m%d").map_err(|_| bad)
}

impl Fields<'_> {
    pub fn date(&self, tag: Tag) -> Result<NaiveDate, TlvError> {
        decode(tag, self.bytes(tag)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_impossible_dates() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(&encode(d), b"20240229");
        assert_eq!(decode(Tag(0x80), b"20240229").unwrap(), d);
        assert!(decode(Tag(0x80), b"20230229").is_err());
        assert!(decode(Tag(0x80), b"2024-2-9").is_err());
        assert!(decode(Tag(0x80), b"+2024022").is_err());
    }
}

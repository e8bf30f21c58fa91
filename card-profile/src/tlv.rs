//! Strict BER-TLV (ISO 7816-4 §5.2 / ISO 8825-1 subset): the one place TLV is spoken.
//!
//! Strict means: tags of at most three bytes in their shortest form, definite lengths
//! in their shortest form up to three length bytes (< 16 MiB), and no truncation or
//! trailing bytes where one object is expected. Anything else is an error, because a
//! lenient parser of card data is how a tampered card gets a second reading.

use thiserror::Error;

/// A BER-TLV tag, stored as its encoded bytes packed big-endian (`0x5F37`, `0x7F21`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub u32);

impl Tag {
    /// Constructed tags (bit 6 of the first byte) hold further TLV objects.
    pub fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }

    fn first_byte(self) -> u8 {
        let bytes = self.0.to_be_bytes();
        bytes.iter().copied().find(|b| *b != 0).unwrap_or(0)
    }

    pub fn encode_into(self, out: &mut Vec<u8>) {
        let bytes = self.0.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count().min(3);
        out.extend_from_slice(&bytes[skip..]);
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02X}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlvError {
    #[error("TLV truncated at offset {0}")]
    Truncated(usize),
    #[error("tag at offset {0} is not in its shortest form or longer than 3 bytes")]
    BadTag(usize),
    #[error("length at offset {0} is indefinite, not minimal or longer than 3 bytes")]
    BadLength(usize),
    #[error("{0} trailing bytes after the TLV object")]
    TrailingBytes(usize),
    #[error("expected tag {expected}, found {found}")]
    UnexpectedTag { expected: Tag, found: Tag },
    #[error("tag {0} is primitive where a constructed object is required")]
    NotConstructed(Tag),
    #[error("tag {tag} appears twice in {parent}")]
    Duplicate { parent: Tag, tag: Tag },
    #[error("required tag {tag} missing in {parent}")]
    Missing { parent: Tag, tag: Tag },
    #[error("tag {tag} is not allowed in {parent}")]
    Unknown { parent: Tag, tag: Tag },
    #[error("value of tag {tag} is invalid: {reason}")]
    BadValue { tag: Tag, reason: &'static str },
}

/// One decoded TLV object borrowing its value from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: Tag,
    pub value: &'a [u8],
    /// The whole encoding (tag, length and value): what a hash or signature covers.
    pub raw: &'a [u8],
}

/// Largest length accepted: three length bytes.
pub const MAX_LEN: usize = 0xFF_FFFF;

fn read_tag(input: &[u8], at: usize) -> Result<(Tag, usize), TlvError> {
    let first = *input.get(at).ok_or(TlvError::Truncated(at))?;
    if first == 0x00 || first == 0xFF {
        // 00 and FF are padding bytes in ISO 7816-4, never tags.
        return Err(TlvError::BadTag(at));
    }
    if first & 0x1F != 0x1F {
        return Ok((Tag(first as u32), 1));
    }
    let mut value = first as u32;
    let mut len = 1;
    loop {
        let b = *input.get(at + len).ok_or(TlvError::Truncated(at + len))?;
        // Shortest form: a two-byte tag's second byte is >= 0x1F; no leading 0x80.
        if len == 1 && (b < 0x1F || b == 0x80) {
            return Err(TlvError::BadTag(at));
        }
        value = (value << 8) | b as u32;
        len += 1;
        if b & 0x80 == 0 {
            return Ok((Tag(value), len));
        }
        if len == 3 {
            return Err(TlvError::BadTag(at));
        }
    }
}

fn read_len(input: &[u8], at: usize) -> Result<(usize, usize), TlvError> {
    let first = *input.get(at).ok_or(TlvError::Truncated(at))?;
    if first < 0x80 {
        return Ok((first as usize, 1));
    }
    let n = (first & 0x7F) as usize;
    if n == 0 || n > 3 {
        return Err(TlvError::BadLength(at));
    }
    let bytes = input
        .get(at + 1..at + 1 + n)
        .ok_or(TlvError::Truncated(at + 1))?;
    let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
    let minimal = match n {
        1 => len >= 0x80,
        2 => len >= 0x100,
        _ => len >= 0x1_0000,
    };
    if !minimal {
        return Err(TlvError::BadLength(at));
    }
    Ok((len, 1 + n))
}

/// Decodes the object at the start of `input`, returning it and the rest.
pub fn parse_one(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), TlvError> {
    parse_at(input, 0).map(|(tlv, end)| (tlv, &input[end..]))
}

fn parse_at(input: &[u8], start: usize) -> Result<(Tlv<'_>, usize), TlvError> {
    let (tag, tag_len) = read_tag(input, start)?;
    let (len, len_len) = read_len(input, start + tag_len)?;
    let value_start = start + tag_len + len_len;
    let end = value_start
        .checked_add(len)
        .filter(|end| *end <= input.len())
        .ok_or(TlvError::Truncated(value_start))?;
    Ok((
        Tlv {
            tag,
            value: &input[value_start..end],
            raw: &input[start..end],
        },
        end,
    ))
}

/// Decodes exactly one object: trailing bytes are an error.
pub fn parse_exact(input: &[u8]) -> Result<Tlv<'_>, TlvError> {
    let (tlv, rest) = parse_one(input)?;
    if !rest.is_empty() {
        return Err(TlvError::TrailingBytes(rest.len()));
    }
    Ok(tlv)
}

/// Decodes a sequence of objects filling `input` exactly.
pub fn parse_all(input: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < input.len() {
        let (tlv, end) = parse_at(input, at)?;
        out.push(tlv);
        at = end;
    }
    Ok(out)
}

/// Length of the TLV object whose header starts `input`, from its header alone;
/// `Ok(None)` when the header itself is not complete yet. Used to read a file of
/// unknown length with as few READ BINARY commands as possible.
pub fn object_len_from_header(input: &[u8]) -> Result<Option<usize>, TlvError> {
    let tag_len = match read_tag(input, 0) {
        Ok((_, n)) => n,
        Err(TlvError::Truncated(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    match read_len(input, tag_len) {
        Ok((len, len_len)) => Ok(Some(tag_len + len_len + len)),
        Err(TlvError::Truncated(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn encode_len(len: usize, out: &mut Vec<u8>) {
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, len as u8]),
        0x100..=0xFFFF => {
            out.push(0x82);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x83);
            out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
        }
    }
}

/// Encodes one object. Values longer than [`MAX_LEN`] are a programming error on
/// our side (no card file comes near it), so the caller guarantees the bound.
pub fn encode(tag: Tag, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    encode_into(tag, value, &mut out);
    out
}

pub fn encode_into(tag: Tag, value: &[u8], out: &mut Vec<u8>) {
    debug_assert!(value.len() <= MAX_LEN);
    tag.encode_into(out);
    encode_len(value.len(), out);
    out.extend_from_slice(value);
}

/// Builds the value of a constructed object field by field.
#[derive(Debug, Default, Clone)]
pub struct Builder {
    buf: Vec<u8>,
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn field(mut self, tag: Tag, value: &[u8]) -> Self {
        encode_into(tag, value, &mut self.buf);
        self
    }

    pub fn field_opt(self, tag: Tag, value: Option<&[u8]>) -> Self {
        match value {
            Some(v) => self.field(tag, v),
            None => self,
        }
    }

    /// Appends an already encoded object (a nested template, a certificate).
    pub fn raw(mut self, encoded: &[u8]) -> Self {
        self.buf.extend_from_slice(encoded);
        self
    }

    pub fn wrap(self, tag: Tag) -> Vec<u8> {
        encode(tag, &self.buf)
    }

    /// The fields as they are, without a template around them (a PIV data object's
    /// value is a sequence of objects).
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// The children of a constructed object, checked against the tags its template allows.
#[derive(Debug)]
pub struct Fields<'a> {
    parent: Tag,
    items: Vec<Tlv<'a>>,
}

impl<'a> Fields<'a> {
    /// Parses `tlv` (which must carry `expected`) and rejects unknown or repeated tags.
    pub fn of(tlv: Tlv<'a>, expected: Tag, allowed: &[Tag]) -> Result<Self, TlvError> {
        if tlv.tag != expected {
            return Err(TlvError::UnexpectedTag {
                expected,
                found: tlv.tag,
            });
        }
        if !expected.is_constructed() {
            return Err(TlvError::NotConstructed(expected));
        }
        let items = parse_all(tlv.value)?;
        for (i, item) in items.iter().enumerate() {
            if !allowed.contains(&item.tag) {
                return Err(TlvError::Unknown {
                    parent: expected,
                    tag: item.tag,
                });
            }
            if items[..i].iter().any(|o| o.tag == item.tag) {
                return Err(TlvError::Duplicate {
                    parent: expected,
                    tag: item.tag,
                });
            }
        }
        Ok(Self {
            parent: expected,
            items,
        })
    }

    pub fn optional(&self, tag: Tag) -> Option<Tlv<'a>> {
        self.items.iter().copied().find(|t| t.tag == tag)
    }

    pub fn required(&self, tag: Tag) -> Result<Tlv<'a>, TlvError> {
        self.optional(tag).ok_or(TlvError::Missing {
            parent: self.parent,
            tag,
        })
    }

    pub fn bytes(&self, tag: Tag) -> Result<&'a [u8], TlvError> {
        self.required(tag).map(|t| t.value)
    }

    pub fn text(&self, tag: Tag) -> Result<String, TlvError> {
        utf8(tag, self.bytes(tag)?)
    }

    pub fn text_opt(&self, tag: Tag) -> Result<Option<String>, TlvError> {
        self.optional(tag).map(|t| utf8(tag, t.value)).transpose()
    }

    pub fn byte(&self, tag: Tag) -> Result<u8, TlvError> {
        match self.bytes(tag)? {
            [b] => Ok(*b),
            _ => Err(TlvError::BadValue {
                tag,
                reason: "expected one byte",
            }),
        }
    }

    pub fn fixed<const N: usize>(&self, tag: Tag) -> Result<[u8; N], TlvError> {
        self.bytes(tag)?.try_into().map_err(|_| TlvError::BadValue {
            tag,
            reason: "wrong fixed length",
        })
    }

    pub fn u32(&self, tag: Tag) -> Result<u32, TlvError> {
        self.fixed::<4>(tag).map(u32::from_be_bytes)
    }
}

fn utf8(tag: Tag, bytes: &[u8]) -> Result<String, TlvError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| TlvError::BadValue {
        tag,
        reason: "not UTF-8",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_multibyte_tags_and_long_lengths() {
        let value = vec![0xAB; 300];
        let enc = encode(Tag(0x5F37), &value);
        assert_eq!(&enc[..5], &[0x5F, 0x37, 0x82, 0x01, 0x2C]);
        let tlv = parse_exact(&enc).unwrap();
        assert_eq!(tlv.tag, Tag(0x5F37));
        assert_eq!(tlv.value, &value[..]);
        assert_eq!(tlv.raw, &enc[..]);
    }

    #[test]
    fn rejects_truncation_overlong_lengths_and_trailing_bytes() {
        assert_eq!(
            parse_exact(&[0x80, 0x03, 1, 2]),
            Err(TlvError::Truncated(2))
        );
        // 0x81 0x05 is a non-minimal encoding of length 5.
        assert_eq!(
            parse_exact(&[0x80, 0x81, 0x05, 1, 2, 3, 4, 5]),
            Err(TlvError::BadLength(1))
        );
        // Indefinite length.
        assert_eq!(
            parse_exact(&[0xA0, 0x80, 0, 0]),
            Err(TlvError::BadLength(1))
        );
        // Four length bytes.
        assert_eq!(
            parse_exact(&[0x80, 0x84, 0, 0, 0, 1, 0]),
            Err(TlvError::BadLength(1))
        );
        assert_eq!(
            parse_exact(&[0x80, 0x01, 1, 0x00]),
            Err(TlvError::TrailingBytes(1))
        );
        // Two-byte tag whose second byte would fit in one byte.
        assert_eq!(parse_exact(&[0x5F, 0x10, 0x00]), Err(TlvError::BadTag(0)));
        // Four-byte tag.
        assert_eq!(
            parse_exact(&[0x5F, 0x81, 0x81, 0x01, 0x00]),
            Err(TlvError::BadTag(0))
        );
        assert_eq!(parse_exact(&[0x00]), Err(TlvError::BadTag(0)));
        assert_eq!(parse_exact(&[]), Err(TlvError::Truncated(0)));
    }

    #[test]
    fn fields_reject_unknown_and_duplicate_children() {
        let dup = Builder::new()
            .field(Tag(0x80), b"a")
            .field(Tag(0x80), b"b")
            .wrap(Tag(0x61));
        let tlv = parse_exact(&dup).unwrap();
        assert!(matches!(
            Fields::of(tlv, Tag(0x61), &[Tag(0x80)]),
            Err(TlvError::Duplicate { .. })
        ));
        let unk = Builder::new().field(Tag(0x81), b"a").wrap(Tag(0x61));
        let tlv = parse_exact(&unk).unwrap();
        assert!(matches!(
            Fields::of(tlv, Tag(0x61), &[Tag(0x80)]),
            Err(TlvError::Unknown { .. })
        ));
    }

    #[test]
    fn header_length_is_known_before_the_value_arrives() {
        let enc = encode(Tag(0x62), &[7u8; 1000]);
        assert_eq!(object_len_from_header(&enc[..2]), Ok(None));
        assert_eq!(object_len_from_header(&enc[..4]), Ok(Some(1004)));
    }

    fn tag_strategy() -> impl Strategy<Value = Tag> {
        prop_oneof![
            (0x01u32..=0xFE)
                .prop_filter("low tag", |t| t & 0x1F != 0x1F)
                .prop_map(Tag),
            (
                0x1Fu32..=0x7F,
                prop::sample::select(vec![0x1Fu32, 0x5F, 0x7F, 0x9F, 0xBF, 0xDF])
            )
                .prop_map(|(second, first)| Tag((first << 8) | second)),
            (
                0x81u32..=0xFF,
                0x00u32..=0x7F,
                prop::sample::select(vec![0x5Fu32, 0x7F])
            )
                .prop_map(|(second, third, first)| Tag((first << 16) | (second << 8) | third)),
        ]
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(tag in tag_strategy(), value in prop::collection::vec(any::<u8>(), 0..70_000)) {
            let enc = encode(tag, &value);
            let tlv = parse_exact(&enc).unwrap();
            prop_assert_eq!(tlv.tag, tag);
            prop_assert_eq!(tlv.value, &value[..]);
            prop_assert_eq!(object_len_from_header(&enc).unwrap(), Some(enc.len()));
        }

        #[test]
        fn any_truncation_is_rejected(tag in tag_strategy(), value in prop::collection::vec(any::<u8>(), 0..600), cut in any::<prop::sample::Index>()) {
            let enc = encode(tag, &value);
            let cut = cut.index(enc.len());
            prop_assert!(parse_exact(&enc[..cut]).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_reencode_identically(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(items) = parse_all(&bytes) {
                let mut out = Vec::new();
                for t in items { encode_into(t.tag, t.value, &mut out); }
                prop_assert_eq!(out, bytes);
            }
        }
    }
}

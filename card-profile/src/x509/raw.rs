//! The exact bytes a signature covers. `der` decodes a SET OF by sorting it, so
//! re-encoding a decoded structure need not give back the bytes that were signed;
//! the signed parts (a certificate's TBSCertificate, a SignerInfo's signedAttrs) are
//! therefore cut out of the input as they came, with `der`'s reader, and only then
//! decoded for their meaning.

use super::{X509Error, MAX_DER_LEN};
use der::{AnyRef, Decode, Reader, SliceReader, Tag, Tagged};

/// One TLV: its tag, all its bytes, and its value's bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawTlv<'a> {
    pub tag: Tag,
    pub raw: &'a [u8],
    pub value: &'a [u8],
}

fn at(len: der::Length) -> Result<usize, X509Error> {
    usize::try_from(len).map_err(|_| X509Error::Malformed("length out of range"))
}

/// The consecutive TLVs that make up `bytes`, at most `max` of them.
pub(super) fn tlvs(bytes: &[u8], max: usize) -> Result<Vec<RawTlv<'_>>, X509Error> {
    let mut reader = SliceReader::new(bytes)?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        if out.len() == max {
            return Err(X509Error::Malformed("too many elements"));
        }
        let start = at(reader.position())?;
        let any = AnyRef::decode(&mut reader)?;
        let end = at(reader.position())?;
        let raw = bytes
            .get(start..end)
            .ok_or(X509Error::Malformed("length out of range"))?;
        out.push(RawTlv {
            tag: any.tag(),
            raw,
            value: any.value(),
        });
    }
    Ok(out)
}

/// The one TLV that `bytes` is, with nothing after it; refuses input longer than
/// [`MAX_DER_LEN`] before reading it.
pub(super) fn single(bytes: &[u8]) -> Result<RawTlv<'_>, X509Error> {
    if bytes.len() > MAX_DER_LEN {
        return Err(X509Error::Malformed("object too large"));
    }
    match tlvs(bytes, 1)?.as_slice() {
        [one] => Ok(*one),
        _ => Err(X509Error::Malformed("empty input")),
    }
}

/// The contents of a SEQUENCE `bytes`, split into its elements.
pub(super) fn sequence(bytes: &[u8], max: usize) -> Result<Vec<RawTlv<'_>>, X509Error> {
    let outer = single(bytes)?;
    if outer.tag != Tag::Sequence {
        return Err(X509Error::Malformed("not a SEQUENCE"));
    }
    tlvs(outer.value, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_splits_into_its_exact_elements() {
        let bytes = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xAA];
        let parts = sequence(&bytes, 4).expect("sequence");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].raw, &[0x02, 0x01, 0x05]);
        assert_eq!(parts[1].tag, Tag::OctetString);
        assert_eq!(parts[1].value, &[0xAA]);
        assert!(sequence(&bytes, 1).is_err());
        // Trailing bytes, a truncated length and a non-minimal length are refused.
        assert!(single(&[0x30, 0x00, 0x00]).is_err());
        assert!(single(&[0x30, 0x05, 0x00]).is_err());
        assert!(single(&[0x30, 0x81, 0x01, 0x00]).is_err());
        assert!(single(&[]).is_err());
    }
}

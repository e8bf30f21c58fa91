//! CBOR in and out through ciborium, with the two rules a checker of hostile input
//! needs: a bounded input, and exactly one item with nothing after it.

use ciborium::value::Value;

/// No seal comes near this; a longer input is refused before decoding.
pub const MAX_CBOR: usize = 512;

#[derive(Debug)]
pub struct CborError;

pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing a Value into a Vec cannot fail: the writer is infallible and a Value
    // is always serializable.
    ciborium::ser::into_writer(value, &mut out).expect("CBOR into a Vec");
    out
}

pub fn from_slice(bytes: &[u8]) -> Result<Value, CborError> {
    if bytes.len() > MAX_CBOR {
        return Err(CborError);
    }
    let mut cursor = std::io::Cursor::new(bytes);
    let value: Value = ciborium::de::from_reader(&mut cursor).map_err(|_| CborError)?;
    if usize::try_from(cursor.position()).ok() != Some(bytes.len()) {
        return Err(CborError);
    }
    Ok(value)
}

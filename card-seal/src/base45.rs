//! Base45 (RFC 9285): bytes as text in the QR code's alphanumeric alphabet, so that
//! a QR code stores 5.5 bits per character instead of 8 (the EU digital COVID
//! certificate's choice, for the same reason).

use thiserror::Error;

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Base45Error {
    #[error("character {0:?} is not in the base45 alphabet")]
    BadCharacter(char),
    #[error("a group of base45 characters encodes a value too large for its bytes")]
    Overflow,
    #[error("base45 text cannot be one character longer than a whole group")]
    BadLength,
}

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    for pair in bytes.chunks(2) {
        let (mut n, digits) = match pair {
            [a, b] => (usize::from(*a) * 256 + usize::from(*b), 3),
            [a] => (usize::from(*a), 2),
            _ => unreachable!("chunks(2) yields one or two bytes"),
        };
        for _ in 0..digits {
            out.push(char::from(ALPHABET[n % 45]));
            n /= 45;
        }
    }
    out
}

pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let values = text
        .chars()
        .map(|c| {
            u8::try_from(c)
                .ok()
                .and_then(|b| ALPHABET.iter().position(|&a| a == b))
                .ok_or(Base45Error::BadCharacter(c))
        })
        .collect::<Result<Vec<usize>, _>>()?;
    let mut out = Vec::with_capacity(values.len() / 3 * 2 + 1);
    for group in values.chunks(3) {
        match group {
            [c, d, e] => {
                let n = c + d * 45 + e * 45 * 45;
                let pair = u16::try_from(n).map_err(|_| Base45Error::Overflow)?;
                out.extend_from_slice(&pair.to_be_bytes());
            }
            [c, d] => {
                let n = c + d * 45;
                out.push(u8::try_from(n).map_err(|_| Base45Error::Overflow)?);
            }
            _ => return Err(Base45Error::BadLength),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
    }

    #[test]
    fn malformed_text_is_refused() {
        assert_eq!(decode("GGW"), Err(Base45Error::Overflow));
        assert_eq!(decode("A"), Err(Base45Error::BadLength));
        assert_eq!(decode("ab"), Err(Base45Error::BadCharacter('a')));
        assert_eq!(decode("证件"), Err(Base45Error::BadCharacter('证')));
        assert_eq!(decode("::"), Err(Base45Error::Overflow));
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = encode(&bytes);
            prop_assert!(text.bytes().all(|b| ALPHABET.contains(&b)));
            prop_assert_eq!(decode(&text).unwrap(), bytes);
        }

        #[test]
        fn any_text_decodes_or_fails_cleanly(text in "[0-9A-Z $%*+\\-./:a-z]{0,40}") {
            if let Ok(bytes) = decode(&text) {
                prop_assert_eq!(encode(&bytes), text);
            }
        }
    }
}

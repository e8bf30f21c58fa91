//! The Answer-To-Reset the card gives through vpcd (ISO 7816-3 §8, ISO 7816-4 §8.1.1).
//!
//! ```text
//! 3B          TS   direct convention
//! 8K          T0   TD1 follows; K historical bytes
//! 80          TD1  TD2 follows; T=0 offered
//! 01          TD2  T=1 offered (so a TCK follows)
//! 80          category indicator: compact-TLV historical bytes
//! 73 s d c    card capabilities (compact-TLV tag 7, length 3):
//!             s = selection by full DF name, by FID, by SFI, record numbers
//!             d = data coding (1-byte data units)
//!             c = command chaining (80) | extended Lc/Le (40) as the card supports
//! TCK         XOR of T0 through the last historical byte
//! ```

use crate::SimOptions;

const TS_DIRECT: u8 = 0x3B;
/// Y1 = 8: only TD1 is present.
const T0_TD1_ONLY: u8 = 0x80;
/// TD1: TD2 follows, protocol T=0.
const TD1: u8 = 0x80;
/// TD2: no further interface bytes, protocol T=1.
const TD2: u8 = 0x01;
/// Historical bytes in compact-TLV form (ISO 7816-4 §8.1.1.1).
const CATEGORY_COMPACT_TLV: u8 = 0x80;
/// Compact-TLV tag 7 (card capabilities), length 3.
const CARD_CAPABILITIES: u8 = 0x73;
/// First software function table: DF selection by full name (80), by file identifier
/// (10), short EF identifier (04), record number (02).
const SELECTION_METHODS: u8 = 0x96;
/// Second table: data units of one byte, write behaviour proprietary (UPDATE).
const DATA_CODING: u8 = 0x21;
/// Third table bits.
const CHAINING: u8 = 0x80;
const EXTENDED_LENGTH: u8 = 0x40;

/// The ATR for a card with these options.
pub fn atr(options: &SimOptions) -> Vec<u8> {
    let mut third = 0;
    if options.command_chaining {
        third |= CHAINING;
    }
    if options.extended_length {
        third |= EXTENDED_LENGTH;
    }
    let historical = [
        CATEGORY_COMPACT_TLV,
        CARD_CAPABILITIES,
        SELECTION_METHODS,
        DATA_CODING,
        third,
    ];
    let mut out = vec![TS_DIRECT, T0_TD1_ONLY | historical.len() as u8, TD1, TD2];
    out.extend_from_slice(&historical);
    let tck = out[1..].iter().fold(0, |acc, b| acc ^ b);
    out.push(tck);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atr_structure_and_checksum() {
        for (ext, chain) in [(true, true), (false, true), (true, false), (false, false)] {
            let atr = atr(&SimOptions {
                extended_length: ext,
                command_chaining: chain,
                t0_style: false,
            });
            assert_eq!(atr[0], 0x3B);
            assert_eq!(atr[1] & 0xF0, 0x80, "only TD1 follows T0");
            let k = (atr[1] & 0x0F) as usize;
            assert_eq!(&atr[2..4], &[0x80, 0x01]);
            // TS, T0, TD1, TD2, K historical bytes, TCK.
            assert_eq!(atr.len(), 4 + k + 1);
            let hist = &atr[4..4 + k];
            assert_eq!(&hist[..2], &[0x80, 0x73]);
            assert_eq!(hist[4] & 0x40 != 0, ext);
            assert_eq!(hist[4] & 0x80 != 0, chain);
            // XOR of T0 through TCK is zero.
            assert_eq!(atr[1..].iter().fold(0, |a, b| a ^ b), 0);
        }
        assert_eq!(
            hex::encode_upper(atr(&SimOptions::default())),
            "3B85800180739621C080"
        );
    }
}

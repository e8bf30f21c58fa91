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
//!
//! A PIV card adds compact-TLV tag F (application identifier) with the 9-byte PIV
//! AID prefix, `F9 A0 00 00 03 08 00 00 10 00`: OpenSC's PIV driver then knows the
//! card by its ATR (type PIV_II_HIST, card-piv.c `piv_match_card_continued`)
//! without a configured driver, and both T=0 and T=1 are offered (ykpiv connects
//! with T=1 only).

use crate::state::Family;
use crate::{SimCard, SimOptions};

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

/// Compact-TLV header of an application identifier of 9 bytes.
const APPLICATION_ID_9: u8 = 0xF9;
/// The PIV AID as OpenSC matches it in the ATR (its `piv_aids` long form).
const PIV_AID_PREFIX: [u8; 9] = [0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00];

/// The ATR of `card`: by its application and options.
pub fn atr_of(card: &SimCard) -> Vec<u8> {
    match card.family() {
        Family::Native => atr(&card.options()),
        Family::Piv => piv_atr(&card.options()),
    }
}

/// The ATR of a native card with these options.
pub fn atr(options: &SimOptions) -> Vec<u8> {
    build(options, &[])
}

/// The ATR of a PIV card with these options.
pub fn piv_atr(options: &SimOptions) -> Vec<u8> {
    let mut aid = vec![APPLICATION_ID_9];
    aid.extend_from_slice(&PIV_AID_PREFIX);
    build(options, &aid)
}

/// TS, T0, TD1, TD2, the historical bytes (capabilities, then `extra`), TCK.
fn build(options: &SimOptions, extra: &[u8]) -> Vec<u8> {
    let mut third = 0;
    if options.command_chaining {
        third |= CHAINING;
    }
    if options.extended_length {
        third |= EXTENDED_LENGTH;
    }
    let mut historical = vec![
        CATEGORY_COMPACT_TLV,
        CARD_CAPABILITIES,
        SELECTION_METHODS,
        DATA_CODING,
        third,
    ];
    historical.extend_from_slice(extra);
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

    #[test]
    fn piv_atr_names_the_piv_aid_and_offers_t1() {
        let atr = piv_atr(&SimOptions::default());
        assert_eq!(
            hex::encode_upper(&atr),
            "3B8F800180739621C0F9A00000030800001000C8"
        );
        assert_eq!(atr[1] & 0x0F, 15, "the most historical bytes there can be");
        assert_eq!(atr[3] & 0x0F, 1, "TD2: T=1");
        assert_eq!(atr[1..].iter().fold(0, |a, b| a ^ b), 0);
    }
}

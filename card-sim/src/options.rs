//! [`SimOptions`]: how a software card behaves at the transport level, whichever
//! application it runs (the ATR and both applets read them).

use card_profile::apdu::EXTENDED_MAX_DATA;
use card_profile::profile::capability;

/// How the card behaves at the transport level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimOptions {
    /// Accept extended Lc/Le. When off, extended APDUs get `6700` and the FCI announces
    /// a 255-byte data field.
    pub extended_length: bool,
    /// Behave like a T=0 card: case-4 responses are announced with `61xx` and fetched
    /// with GET RESPONSE; a case-2 command with the wrong short Le gets `6Cxx`.
    pub t0_style: bool,
    /// Accept command chaining (CLA bit 10); when off, chained links get `6884`.
    pub command_chaining: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            extended_length: true,
            t0_style: false,
            command_chaining: true,
        }
    }
}

impl SimOptions {
    /// The capability byte of the FCI (and of EF.VER at manufacture).
    pub fn capabilities(&self) -> u8 {
        let mut caps = 0;
        if self.extended_length {
            caps |= capability::EXTENDED_LENGTH;
        }
        if self.command_chaining {
            caps |= capability::COMMAND_CHAINING;
        }
        caps
    }

    /// Largest data field accepted in one APDU (FCI tag A5/83).
    pub fn max_command_data(&self) -> u16 {
        if self.extended_length {
            EXTENDED_MAX_DATA as u16
        } else {
            255
        }
    }
}

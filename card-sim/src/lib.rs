//! A software card, run in-process through [`SimChannel`] (a
//! [`card_profile::transport::CardChannel`]) or behind vpcd as the `ecard-sim`
//! binary, so pcscd sees a reader with a card in it. It runs one of two
//! applications: the native ecard profile (docs/PROFILE.md) or PIV (SP 800-73-4).
//!
//! - [`SimCard`] (in `sim`): the card, whichever application it runs, and its state file.
//! - `card`: the native application; [`piv`]: the PIV application.
//! - `transport`: command chaining and GET RESPONSE, shared by both.
//! - [`state`]: persistent state as a JSON file (tests tamper with it on purpose).
//! - [`fault`] + [`channel`]: the in-process reader, with "tear at APDU k".
//! - [`atr`] + [`vpcd`]: the vsmartcard vpcd wire protocol.

#![forbid(unsafe_code)]

pub mod atr;
mod card;
pub mod channel;
pub mod fault;
mod options;
pub mod piv;
mod sim;
pub mod state;
mod transport;
pub mod vpcd;

pub use channel::{Counters, SimChannel};
pub use fault::{Silence, SilencePlan, TearPlan};
pub use options::SimOptions;
pub use piv::{AdminAlg, AdminKey, PivCard, PivSetup, PivState};
pub use sim::SimCard;
pub use state::{CardState, Family, Persistent, StateError};

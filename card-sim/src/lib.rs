//! A software ecard: the card side of docs/PROFILE.md, run in-process through
//! [`SimChannel`] (a [`card_profile::transport::CardChannel`]) or behind vpcd as the
//! `ecard-sim` binary, so pcscd sees a reader with a card in it.
//!
//! - [`card`]: the card itself ([`SimCard`]), volatile and persistent state apart.
//! - [`state`]: persistent state as a JSON file (tests tamper with it on purpose).
//! - [`fault`] + [`channel`]: the in-process reader, with "tear at APDU k".
//! - [`atr`] + [`vpcd`]: the vsmartcard vpcd wire protocol.

#![forbid(unsafe_code)]

pub mod atr;
pub mod card;
pub mod channel;
pub mod fault;
pub mod state;
pub mod vpcd;

pub use card::{SimCard, SimOptions};
pub use channel::{Counters, SimChannel};
pub use fault::{Silence, SilencePlan, TearPlan};
pub use state::{Persistent, StateError};

//! The PC/SC channel lives in the `card-pcsc` crate (shared with ecardd); re-exported
//! here so the harness and tests keep their paths.

pub use card_pcsc::channel::*;

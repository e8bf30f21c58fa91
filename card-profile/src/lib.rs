//! The ecard card profile: data model, byte format, crypto and command sequences.
//!
//! Invariant: this crate does no I/O. It talks to a card only through the
//! [`transport::CardChannel`] trait that callers implement (PC/SC, the software card).

pub mod apdu;
pub mod channel;
pub mod chip_auth;
pub mod date;
pub mod demo;
pub mod keys;
pub mod piv;
pub mod pki;
pub mod profile;
pub mod records;
pub mod revocation;
pub mod sequences;
pub mod sod;
pub mod status;
pub mod suite;
pub mod tlv;
pub mod transport;
pub mod verdict;
pub mod x509;

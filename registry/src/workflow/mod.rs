//! The application workflow: the decisions, apart from the storage they are kept in.
//!
//! - [`rules`]: the pure transition rules (who reviews, which state follows).
//! - [`service`]: the orchestrations over storage, each one transaction. The
//!   service calls [`crate::storage`]; storage reaches back only through the
//!   [`crate::storage::IngestHooks`] port it defines.

pub mod materials;
pub mod rules;

pub use rules::*;
mod follow_up;
pub mod service;

//! The application workflow: the decisions, apart from the storage they are kept in.
//!
//! - [`rules`]: the pure transition rules (who reviews, which state follows).

pub mod rules;

pub use rules::*;

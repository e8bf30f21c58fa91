//! ecardd, the station daemon. Module map in docs/ARCHITECTURE.md.

pub mod api;
pub mod auth;
#[cfg(feature = "demo")]
pub mod demo;
pub mod doctor;
pub mod keyring;
pub mod keystore;
pub mod labels;
pub mod master_handover;
pub mod ops;
pub mod printing;
pub mod readers;
pub mod server;
pub mod store;
pub mod sync;

//! The PC/SC backend of ecard (as openpgp-card's card-backend-pcsc is to its card
//! crate): a [`CardChannel`](card_profile::transport::CardChannel) over pcsc-lite,
//! reader listing and presence waits. The only crate that calls `pcsc`; the daemon's
//! reader manager and the hardware tests both use it.

pub mod channel;
pub mod deadline;

pub use channel::{establish, list_readers, map_pcsc_error, wait_presence, PcscChannel, Presence};
pub use deadline::{run_on_reader, run_with_deadline, Ran, Serve};
pub use pcsc;

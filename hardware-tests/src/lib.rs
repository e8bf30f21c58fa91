//! End-to-end tests through the real PC/SC stack: pcscd + vpcd + `ecard-sim`, or a
//! physical reader when `ECARD_HW_READER` is set. See README.md.
//!
//! - [`pcsc_channel`]: `CardChannel` over PC/SC; the only module that calls `pcsc`.
//! - [`harness`]: one `PcscHarness` per test — lock, pcscd, sims, channels.
//! - [`memory`]: where a process's resident memory is (smaps), for the benches.
//! - [`piv_tools`]: yubico-piv-tool, OpenSC and openssl against a PIV card.

pub mod harness;
pub mod memory;
pub mod pcsc_channel;
pub mod piv_tools;

pub use harness::{HarnessError, PcscHarness, PhysicalCard, SimProcess, SimSpec};
pub use pcsc_channel::PcscChannel;

//! The command sequences of the PIV family (docs/PROFILE-PIV.md): issuing onto a
//! PIV card, its reviews, status changes and termination, and what the verification
//! checks on it beyond what both families share.

mod card;
mod evidence;
mod issue;
mod maintenance;

pub use card::{bureau_keys, factory_keys, PivAdmin, PivCard};
pub(crate) use evidence::evidence;
pub(crate) use issue::issue;
pub(crate) use maintenance::{append_review_record, terminate, wipe, write_status};

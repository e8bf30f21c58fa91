//! ecard domain rules, as code with no I/O: functions over bytes, strings and dates.
//!
//! Every error type's `Display` is the Simplified Chinese message shown to users
//! (the API puts it in `message`); code, docs and logs are English.
//! Decisions where the official guides are silent: `docs/DOMAIN-RULES.md`.

pub mod citizen_id;
pub mod codes;
pub mod deadlines;
pub mod eligibility;
pub mod field_check;
pub mod file_limits;
pub mod forms;
pub mod numbering;
pub mod photo;
pub mod province;
pub mod roster;
pub mod validity;

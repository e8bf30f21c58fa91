//! What stands in front of a login and a cookie-authenticated page, shared by the
//! station's web UI (`ecardd`) and the registry's pages (`ecard-registry`):
//! - [`login_guard`]: the growing delay after failed logins, the bound on password
//!   hashes running at once;
//! - [`hosts`]: the `Host` names a server answers to (against DNS rebinding);
//! - [`password`]: argon2id password hashes.

pub mod hosts;
pub mod login_guard;
pub mod password;

//! ecard's reference central registry (issue #6, docs/SYNC.md).
//!
//! - [`storage`]: everything persistent, behind one type (SQLite today): SQL, row
//!   mapping, transactions; no workflow decisions.
//! - [`api`]: the HTTP surface: `/sync/v1/*` for stations (signed requests),
//!   `/api/v1/*` for registry operators (bearer tokens), `/api/v1/admin/*` for the admin.
//! - [`workflow`]: `rules` (pure transitions) and `service` (the orchestrations that
//!   call storage: filing, deciding, numbering, station rows); [`form`]: the
//!   application form, pure.
//! - [`keys`]: the registry's signing key and the admin token on disk.
//! - [`web`]: the reviewers' Chinese pages (session login, queue, decisions,
//!   unit pages, province admin, statistics), docs/REGISTRY.md.
//! - [`server`]: binds and serves (TLS, [`tls`]: the certificate stations pin).
//!
//! The HTTP client a station uses lives in `ecard_sync_protocol::client` (feature
//! `client`): stations do not link this crate.

pub mod api;
pub mod doctor;
pub mod form;
pub mod keys;
pub mod server;
pub mod storage;
pub mod tls;
pub mod web;
pub mod workflow;

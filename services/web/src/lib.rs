//! Casetrack's web kit: what every service's pages and API stand on, knowing routes and permissions, not
//! referrals or cases.
//!
//! - [`service`]: what a service crate hands to `serve` (its routes with their permissions, projections, reactors,
//!   jobs) and the shared [`service::Context`] (the log, the audit log, the read-model database, the vault);
//! - [`routes`]: routes that state their permission, and the look-ups services give the guard;
//! - [`principal`]: the signed-in user of the request, the actor commands are stamped with;
//! - [`access`]: the guard every request passes (sessions, CSRF, the audit trail, break-glass);
//! - [`error`]: errors as people and client programs see them;
//! - [`serve`]: serving any set of services on one listener;
//! - [`accounts`]: accounts with argon2id passwords and sign-in limits; [`sessions`]: server-side sessions;
//!   [`grants`]: break-glass grants;
//! - [`http`]: errors, the common routes (`/healthz`, `/readyz`, `/metrics`, `/api/openapi.json`), serving;
//! - [`pages`]: the page kit (layout, GOV.UK-style components, form errors, the safe-contact panel) for
//!   server-rendered pages;
//! - [`paging`]: page sizes and cursors of every API list (keyset paging);
//! - [`spreadsheet`]: text cells of every CSV and workbook, neutralised against formula injection;
//! - [`rate_limit`]: per-address limits for public forms;
//! - [`config`]: the platform's settings (data folder, backends, sessions); [`telemetry`]: tracing and metrics.
//!
//! The event store (`casetrack-eventstore`), the vault (`casetrack-vault`) and what the two pathways share
//! (`casetrack-casework`) are crates of their own.

pub mod access;
mod account;
pub mod accounts;
pub mod config;
pub mod error;
pub mod grants;
pub mod http;
pub mod pages;
pub mod paging;
pub mod principal;
pub mod rate_limit;
pub mod routes;
pub mod serve;
pub mod service;
pub mod sessions;
pub mod spreadsheet;
pub mod telemetry;

pub use service::{Context, Service};

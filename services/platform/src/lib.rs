//! Casetrack's platform: what every service stands on.
//!
//! - [`access`]: permissions of routes, the signed-in principal, the guard (sessions, CSRF, audit trail);
//! - [`accounts`]: accounts with argon2id passwords, server-side sessions, sign-in limits, break-glass grants;
//! - [`log`]: the event log, one interface ([`log::EventLog`]) over NATS JetStream and an embedded SQLite file;
//! - [`db`]: the read-model database (PostgreSQL or SQLite through sqlx) and migrations;
//! - [`projection`]: the projection runner (rows and checkpoint in one transaction, batches, rebuild) and
//!   wait-for-position;
//! - [`reactor`]: event-to-command handlers with ids derived from the causing event;
//! - [`contact`]: the attempt rule, time-of-day bands and safe-contact checks shared by every service;
//! - [`command`]: pure aggregates (`decide`/`apply`) and the handler that loads, decides and appends;
//! - [`vault`]: per-person data keys, sealing of personal fields, erasure, the blind index;
//! - [`catalogue`]: the specialist services defined in configuration (`config/services.toml`);
//! - [`clock`]: working days in England and Wales (bank holidays as reference data) for the Victims' Code;
//! - [`codes`]: enum values as the codes read models store and forms send;
//! - [`config`]: the one settings struct; [`telemetry`]: tracing and Prometheus metrics;
//! - [`http`]: errors, the common routes (`/healthz`, `/readyz`, `/metrics`, `/api/openapi.json`), serving;
//! - [`pages`]: the page kit (layout, GOV.UK-style components, form errors) for server-rendered pages;
//! - [`rate_limit`]: per-address limits for public forms;
//! - [`service`]: what a service crate hands to `serve` and the shared [`service::Context`];
//! - [`spreadsheet`]: text cells of every CSV and workbook, neutralised against formula injection;
//! - [`testkit`]: fresh databases and streams for tests against the real servers.

pub mod access;
pub mod accounts;
pub mod config;
pub mod http;
pub mod pages;
pub mod rate_limit;
pub mod service;
pub mod spreadsheet;
pub mod telemetry;

pub use casetrack_casework::{catalogue, contact};
pub use casetrack_eventstore::{codes, command, db, log, projection, reactor, testkit};
pub use casetrack_vault as vault;

/// The command clock and the Victims' Code's working days, under their old name while the services move over.
pub mod clock {
    pub use casetrack_casework::victims_code::*;
    pub use casetrack_eventstore::clock::{at, now};
}
pub use service::{Context, Service};

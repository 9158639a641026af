//! Casetrack's event store: what every context's commands and read models stand on, knowing no context.
//!
//! Nothing here names a referral, a case or a person: events arrive as envelopes ([`casetrack_proto::Envelope`])
//! and a projection asks a [`projection::Batch`] for its own context's event type. Each context brings its events,
//! aggregates and projections; this crate runs them.
//!
//! - [`log`]: the event log, one interface ([`log::EventLog`]) over NATS JetStream and an embedded SQLite file;
//!   both pass one conformance suite (`tests/log_conformance.rs`);
//! - [`command`]: pure aggregates (`decide`/`apply`) and the handler that loads, decides and appends;
//! - [`clock`]: the time commands are given at (the present, or a fixed time for `casetrack demo`);
//! - [`db`]: the read-model database (PostgreSQL or SQLite through sqlx), its migrations and row writing;
//! - [`projection`]: the projection runner (rows and checkpoint in one transaction, batches, rebuild) and
//!   wait-for-position;
//! - [`reactor`]: event-to-command handlers with ids derived from the causing event;
//! - [`codes`]: enum values as the codes read models store and forms send;
//! - [`testkit`]: fresh databases and streams for tests against the real servers.
//!
//! The read-model database's own migrations (`migrations/`) hold the tables the platform crates share:
//! projection checkpoints, the vault's keys, and accounts and sessions. They keep the one history
//! (`_migrations_platform`) they were first applied under, so existing databases carry on unchanged.

pub mod clock;
pub mod codes;
pub mod command;
pub mod db;
pub mod log;
pub mod projection;
pub mod reactor;
pub mod testkit;

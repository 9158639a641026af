//! Casetrack's event contracts.
//!
//! Everything that crosses a service boundary is defined here and nowhere else:
//!
//! - [`ids`]: typed identifiers (`PersonId`, `ReferralId`, `CaseId`, ...) and the value types that go with them;
//! - [`envelope`]: the [`Envelope`] every event travels in (event id, type and schema version, aggregate
//!   and version, domain and recorded time, actor, correlation and causation), and the [`StreamId`] naming an
//!   aggregate instance in the log;
//! - [`contract`]: the [`EventContract`] trait that turns a context's event enum into envelope payloads and back,
//!   and the [`contract!`] macro that writes it;
//! - [`contact`]: value types of working a referral or case (channels, safety, time bands, consent, outcomes);
//! - [`profile`]: a victim's characteristics as codes (age band, gender, ethnicity and census group, disability);
//! - one module per context: [`people`], [`hub`], [`specialist`], and [`audit`] (the audit trail's own stream);
//! - [`catalogue`]: every event version of every context, used to generate `proto/schemas/` and to check that
//!   `proto/fixtures/` holds a recorded example of each.
//!
//! Rules that hold for every event (see `docs/adr/0002-event-contracts.md`):
//! events are past tense, never change shape once released (a new shape is a new schema version with an upcaster),
//! and carry personal data only inside a [`Sealed`] value encrypted with the person's key.

pub mod audit;
pub mod catalogue;
pub mod contact;
pub mod contract;
pub mod envelope;
pub mod hub;
pub mod ids;
pub mod people;
pub mod profile;
pub mod specialist;

pub use contract::{DecodeError, EventContract, EventVersion};
pub use envelope::{Actor, Envelope, Payload, Role, StreamId, StreamIdError};
pub use ids::*;

/// The JSON Schema of the envelope itself (payload left open).
pub fn envelope_schema() -> schemars::Schema {
    schemars::schema_for!(Envelope)
}

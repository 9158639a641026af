//! What the hub and the specialist services share about working with one victim, so that a rule is written once
//! and both pathways keep it the same way.
//!
//! - [`contact`]: the contact-attempt rule (attempts in distinct times of day before "unable to contact"), time-of-day
//!   bands and the safe-contact checks;
//! - [`catalogue`]: the specialist services defined in configuration (`config/services.toml`), each with its kind
//!   and its own attempt rule;
//! - [`occurred`]: when a fact on a record happened (domain time) and the rules that keep it from running
//!   backwards: never in the future, never before the record began, no closure before the last fact, a reason
//!   beyond the back-dating window;
//! - [`history`]: what bringing a record's history in answers (written, already there, or the fact refused);
//! - [`measures`]: closure with outcome measures (an answer names a measure of the list in force);
//! - [`victims_code`]: working days in England and Wales (bank holidays as reference data) and the Code's deadlines.

pub mod catalogue;
pub mod contact;
pub mod history;
pub mod measures;
pub mod occurred;
#[cfg(feature = "testing")]
pub mod testing;
pub mod victims_code;

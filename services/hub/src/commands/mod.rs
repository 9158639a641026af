//! The hub's commands: one file per command or small group. Each holds the request type (what the JSON api
//! deserialises and the pages build from their forms), the parsing of that request into values (`crate::values`),
//! the look-ups the decision needs (the time, the attempt rule, the outcome measures in force, the catalogue), and
//! the call to the `Referral` aggregate through [`handler`]. Time comes from `casetrack_eventstore::clock::now()`,
//! taken here and nowhere in the adapters, so `casetrack demo` can give commands at the times it chooses.
//!
//! - [`handler`]: running one decision on one referral ([`handler::Written`] says where it was written, and
//!   whether it was a late entry);
//! - [`when`]: when a command's fact happened ([`when::WhenRequest`], `occurred_at` and `late_reason`), which
//!   every command that records something from the world takes; absent, it happened now;
//! - [`receive`]: receiving a referral for a registered person;
//! - [`contact`]: contact attempts, unable to contact, returned to the referrer, outreach letters and emails;
//! - [`support`]: support accepted or declined, needs assessed, support sessions;
//! - [`close`]: closure with the victim's answers to the outcome measures in force;
//! - [`onward`]: consent to refer on, and onward referral to a specialist service;
//! - [`police_report`]: a self-referred victim's later police report;
//! - [`allocate`]: allocation to a hub officer;
//! - [`safe_contact`]: the victim's safe-contact rules and a sealed caution;
//! - [`duplicate`]: deciding whether the referral's person and another record are the same person;
//! - [`direct`]: a referral taken from the victim (an inbound call, or the public self-referral form);
//! - [`police_feed`]: reading and validating the police feed CSV, row by row (pure);
//! - [`intake`]: importing the police feed (idempotent: a second import creates nothing);
//! - [`history`]: a referral's history brought in from another case system (`casetrack import history`), checked
//!   whole in memory before any of it is written.

pub mod allocate;
pub mod close;
pub mod contact;
pub mod direct;
pub mod duplicate;
pub mod handler;
pub mod history;
pub mod intake;
pub mod onward;
pub mod police_feed;
pub mod police_report;
#[cfg(test)]
mod properties;
pub mod receive;
pub mod safe_contact;
pub mod support;
pub mod when;

//! Every question the hub answers from what is stored: the SQL of the read models lives here (and in
//! `crate::projections`, which writes them), and nowhere else. The JSON api and the pages both read through these.
//!
//! - [`queues`]: hub officers' work queues (new referrals, next attempt, Victims' Code clock, open cases);
//! - [`referral`]: one referral: its detail for the JSON api, its history from the log (the state the decisions
//!   use, and the timeline), and the read model's facts (the closed loop, the repeat-victim flag).

pub mod queues;
pub mod referral;

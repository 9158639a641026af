//! The reporting read models, built from every context's events:
//!
//! - [`pathway`]: `reporting.pathway`, activity (daily counts per service and figure);
//! - [`cohort`]: `reporting.cohort`, where the referrals received in a period are now, by dimension;
//! - [`common`]: what both read off an event (the case it is about, the day it happened).
//!
//! Their SQL lives here; the queries that read their tables live in `crate::views`.

pub mod cohort;
pub mod common;
pub mod pathway;

//! Every query the reporting service answers, over its own read models (`crate::projections`):
//!
//! - [`report`]: the figures of a period per service, as the API, the report command, the exports and the
//!   dashboard show them, and their publication with small numbers suppressed;
//! - [`caseload`]: the caseload of a period (open at its start and end, cases supported: carried in and new);
//! - [`nationalities`]: how many nationalities a period's victims hold;
//! - [`units`]: the referrals or cases behind one figure (the dashboard's drill-down).

pub mod caseload;
pub mod nationalities;
pub mod report;
mod spans;
pub mod units;

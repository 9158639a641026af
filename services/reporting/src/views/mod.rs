//! Every query the reporting service answers, over its own read models (`crate::projections`):
//!
//! - [`report`]: the figures of a period per service, as the API, the report command, the exports and the
//!   dashboard show them, and their publication with small numbers suppressed;
//! - [`units`]: the referrals or cases behind one figure (the dashboard's drill-down).

pub mod report;
pub mod units;

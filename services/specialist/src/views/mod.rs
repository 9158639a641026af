//! Every question the specialist services answer from what is recorded (all the crate's SQL but the projection's):
//!
//! - [`cases`]: the `specialist_cases` read model: caseloads, one case, the repeat-MARAC look-up;
//! - [`history`]: one case as its own events tell it (the case page's state and timeline), read from the log.

pub mod cases;
pub mod history;

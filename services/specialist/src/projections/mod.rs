//! The specialist services' read models, each writing its rows and its checkpoint in one transaction:
//!
//! - [`cases`]: `specialist.cases.<service>`, one projection per service over the shared `specialist_cases` table.

pub mod cases;

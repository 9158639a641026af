//! The hub's read models, and the migrations that make their tables. A projection writes its rows and its
//! checkpoint in one transaction, and gives the same rows when rebuilt from position zero.
//!
//! - [`referrals`]: `hub.referrals`: the hub's referrals, their contact attempts, the outcome of each onward
//!   referral (the closed loop), the facts the work queues sort and filter on, and the repeat-victim flag.

pub mod referrals;

/// The tables of the hub's read models.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

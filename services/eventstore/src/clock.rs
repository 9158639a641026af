//! The clock commands are given at: the present, or a fixed time inside [`at`] (how `casetrack demo` gives a year
//! of commands through the same code at the times they would have been given).

use chrono::{DateTime, Utc};

tokio::task_local! {
    static NOW: DateTime<Utc>;
}

/// The time a command is given at: the present, except inside [`at`]. Command handlers take their time from here
/// (never from `Utc::now()` directly), so that `casetrack demo` can give a year of commands through the same code
/// at the times they would have been given.
pub fn now() -> DateTime<Utc> {
    NOW.try_with(|at| *at).unwrap_or_else(|_| Utc::now())
}

/// Runs `work` with [`now`] answering `when`.
pub async fn at<F: std::future::Future>(when: DateTime<Utc>, work: F) -> F::Output {
    NOW.scope(when, work).await
}

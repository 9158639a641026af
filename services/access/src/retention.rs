//! Retention: people whose every referral and case ended longer ago than the retention period (or who were
//! registered that long ago and never referred) are erased, by a scheduled job or `casetrack admin retention`,
//! which can first report who is due without erasing anyone (`--dry-run`).
//!
//! A person with any referral or case still open is never due, however old. Who is registered, and how their
//! records stand, comes from access's own read model (`access.records`), brought up to the log's head first.

use std::time::Duration;

use casetrack_eventstore::command::{CommandError, CommandMeta};
use casetrack_people::interface as people;
use casetrack_proto::people::ErasureReason;
use casetrack_proto::{Actor, PersonId};
use casetrack_web::Context;
use chrono::{DateTime, Months, Utc};
use tokio_util::sync::CancellationToken;

/// One person due for erasure, and when their last record ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Due {
    pub person_id: PersonId,
    /// The end of their last referral or case (or their registration, when they had none), RFC 3339.
    pub last_activity: String,
}

/// What a run found and did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Everything before this (RFC 3339) is past the retention period.
    pub cut_off: String,
    pub due: Vec<Due>,
    /// How many were erased (0 on a dry run).
    pub erased: usize,
}

/// The people due at `now` for a period of `months`.
pub async fn due(ctx: &Context, months: u32, now: DateTime<Utc>) -> anyhow::Result<(String, Vec<Due>)> {
    let cut_off = now
        .checked_sub_months(Months::new(months))
        .ok_or_else(|| anyhow::anyhow!("the retention period reaches before the calendar"))?
        .to_rfc3339();
    // Read models lag the log a little: the run first brings its own up to the log's head.
    crate::records::catch_up(ctx).await?;
    let mut due = Vec::new();
    for person in crate::records::activity(&ctx.db).await? {
        if person.open > 0 {
            continue;
        }
        let last = person.last_ended.unwrap_or(person.registered_at);
        if last < cut_off {
            due.push(Due { person_id: PersonId(person.person_id.parse()?), last_activity: last });
        }
    }
    Ok((cut_off, due))
}

/// Finds who is due and, unless `dry_run`, erases them (reason: retention; actor: Casetrack itself).
pub async fn run(ctx: &Context, months: u32, now: DateTime<Utc>, dry_run: bool) -> anyhow::Result<Report> {
    let (cut_off, due) = due(ctx, months, now).await?;
    let mut report = Report { cut_off, due, erased: 0 };
    if dry_run {
        return Ok(report);
    }
    for person in &report.due {
        let meta = CommandMeta::new(Actor::system(), casetrack_eventstore::clock::now());
        let result = people::erase(ctx, person.person_id, ErasureReason::Retention, &meta).await;
        let records = [("person_id".to_owned(), person.person_id.to_string())].into();
        casetrack_web::access::record_offline(ctx, "retention", records, Some(person.person_id), result.is_ok())
            .await?;
        match result {
            Ok(_) => report.erased += 1,
            // Erased meanwhile (by a person, or another process's run): nothing left to do.
            Err(CommandError::Rejected(_)) => {}
            Err(error) => return Err(anyhow::anyhow!("erasing {} failed: {error}", person.person_id)),
        }
    }
    Ok(report)
}

/// Runs the job once a day while the service runs (the first run an hour after start).
pub async fn schedule(ctx: Context, months: u32, stop: CancellationToken) {
    let mut wait = Duration::from_secs(60 * 60);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        match run(&ctx, months, casetrack_eventstore::clock::now(), false).await {
            Ok(report) => tracing::info!(due = report.due.len(), erased = report.erased, "retention run"),
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "retention run failed; it runs again tomorrow")
            }
        }
        wait = Duration::from_secs(24 * 60 * 60);
    }
}

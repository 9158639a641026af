//! Never stale in silence: how far the figures' read models are behind the log, bringing them up to its head
//! (`casetrack report` and the exports do so before they count), and what the dashboard says while they lag.
//!
//! The figures are counted by two projections (`reporting.pathway`, `reporting.cohort`); a figure is only as fresh as
//! the one further behind. Lag is counted in log positions (one per recorded command), which is what
//! `casetrack admin projections` shows.

use std::sync::Arc;
use std::time::Duration;

use casetrack_eventstore::log::Position;
use casetrack_eventstore::projection::{Projection, ProjectionRunner, load_checkpoint};
use casetrack_web::Context;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;

use crate::projections::{cohort, pathway};

/// The projections every figure is counted by.
pub fn projections() -> Vec<Arc<dyn Projection>> {
    vec![Arc::new(pathway::Pathway), Arc::new(cohort::Cohort)]
}

/// How far the figures are behind the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freshness {
    /// The log's head.
    pub head: u64,
    /// The position every figure has counted up to (the least of the projections' checkpoints).
    pub counted: u64,
}

impl Freshness {
    /// Events (log positions) still to count.
    pub fn behind(&self) -> u64 {
        self.head.saturating_sub(self.counted)
    }
}

/// Reads the log's head and the projections' checkpoints.
pub async fn freshness(ctx: &Context) -> anyhow::Result<Freshness> {
    let head = ctx.log.head().await?.0;
    let mut counted = head;
    for projection in projections() {
        counted = counted.min(load_checkpoint(&ctx.db, projection.name()).await?.0);
    }
    Ok(Freshness { head, counted })
}

/// Waits (a second or two at most) until the figures' projections have counted the same events, so one report never
/// mixes two moments of the log: the activity counting a closure that the cohort has yet to see, say. They read the
/// same log, each at its own pace; the one behind is given time to reach the one ahead as it was when asked. After
/// that the report counts anyway (the dashboard says when figures lag).
pub async fn in_step(ctx: &Context) {
    let statuses: Vec<_> = projections().iter().map(|projection| ctx.projections.status(projection.name())).collect();
    let Some(ahead) = statuses.iter().map(|status| status.position()).max() else { return };
    for status in statuses {
        status.wait_for(ahead, IN_STEP_LIMIT).await;
    }
}

/// How long a report waits for its projections to count the same events.
const IN_STEP_LIMIT: Duration = Duration::from_secs(2);

/// When the last event counted was recorded (`None` before the first, or if the log cannot say in time).
pub async fn counted_up_to(ctx: &Context, counted: u64) -> Option<DateTime<Utc>> {
    if counted == 0 {
        return None;
    }
    let read = async {
        let mut commits = ctx.log.subscribe(Position(counted - 1)).await.ok()?;
        let commit = commits.next().await?.ok()?;
        commit.events.iter().map(|event| event.recorded_at).max()
    };
    tokio::time::timeout(Duration::from_secs(2), read).await.ok().flatten()
}

/// Brings every figure's projection up to the log's head as it is now, calling `progress(counted, head)` about
/// every second while it works. Returns the position reached.
pub async fn catch_up(ctx: &Context, progress: impl Fn(u64, u64) + Send) -> anyhow::Result<u64> {
    let head = ctx.log.head().await?.0;
    let runners: Vec<ProjectionRunner> = projections()
        .into_iter()
        .map(|projection| ProjectionRunner::new(ctx.db.clone(), ctx.log.clone(), projection, &ctx.projections))
        .collect();
    let statuses: Vec<_> = runners.iter().map(ProjectionRunner::status).collect();
    let work = futures::future::try_join_all(runners.iter().map(ProjectionRunner::catch_up));
    tokio::pin!(work);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tokio::select! {
            done = &mut work => {
                let reached = done?.into_iter().map(|p| p.0).min().unwrap_or(head);
                progress(reached, head);
                return Ok(reached);
            }
            _ = tick.tick() => {
                let counted = statuses.iter().map(|s| s.position().0).min().unwrap_or(0);
                progress(counted.min(head), head);
            }
        }
    }
}

/// What the dashboard says while figures lag: "Figures up to 4 December 2026 at 18:02, 1,283 events still to count."
pub fn lag_sentence(freshness: &Freshness, up_to: Option<DateTime<Utc>>) -> Option<String> {
    if freshness.behind() == 0 {
        return None;
    }
    let when = match up_to {
        Some(at) => {
            let local = at.with_timezone(&chrono_tz::Europe::London);
            format!("Figures up to {}", local.format("%-d %B %Y at %H:%M"))
        }
        None if freshness.counted == 0 => "No figures counted yet".to_owned(),
        None => "Figures not yet up to date".to_owned(),
    };
    let n = freshness.behind();
    let events = if n == 1 { "event" } else { "events" };
    Some(format!(
        "{when}, {} {events} still to count. They are being counted now: refresh in a minute for the rest.",
        crate::labels::thousands(n)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_says_how_far_behind_the_figures_are() {
        let up_to_date = Freshness { head: 1283, counted: 1283 };
        assert_eq!(lag_sentence(&up_to_date, None), None);
        let behind = Freshness { head: 1283, counted: 0 };
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 7, 1, 17, 5, 0).unwrap();
        assert_eq!(
            lag_sentence(&behind, Some(at)).unwrap(),
            "Figures up to 1 July 2026 at 18:05, 1,283 events still to count. They are being counted now: refresh in \
             a minute for the rest."
        );
        let one = Freshness { head: 10, counted: 9 };
        assert!(lag_sentence(&one, None).unwrap().starts_with("Figures not yet up to date, 1 event still to count."));
    }
}

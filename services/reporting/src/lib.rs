//! Outcome reporting: pathway figures derived from events only. It consumes every event and never commands.
//!
//! - [`pathway`]: the `reporting.pathway` projection (activity: daily counts per service and figure);
//! - [`cohort`]: the `reporting.cohort` projection (where the referrals received in a period are now, by
//!   dimension);
//! - [`api`]: `GET /api/reporting/summary`;
//! - [`pages`]: the figures page for commissioners and managers (small numbers suppressed);
//! - [`periods`]: months, financial-year quarters and financial years by name;
//! - [`suppression`]: small-number suppression, with secondary suppression audited so that no small count can
//!   be worked out (for what commissioners see and what is published).
//!
//! Every figure has its counting rule in `docs/metrics.md`.

pub mod api;
pub mod cohort;
pub mod export;
pub mod pages;
pub mod pathway;
pub mod periods;
pub mod report;
pub mod suppression;

use std::sync::Arc;

use casetrack_platform::{Context, Service};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The small-number threshold when none is set: counts from 1 to 4 are shown as "<5".
pub const DEFAULT_THRESHOLD: u64 = 5;

pub fn service(ctx: &Context) -> Service {
    service_with(ctx, DEFAULT_THRESHOLD)
}

/// The service with a small-number threshold of its own (`--suppression-threshold`).
pub fn service_with(ctx: &Context, threshold: u64) -> Service {
    let mut service = Service::new("reporting").with_routes(api::router(ctx.clone(), threshold));
    service.openapi = api::openapi();
    service.migrations = Some(&MIGRATIONS);
    service.projections.push(Arc::new(pathway::Pathway));
    service.projections.push(Arc::new(cohort::Cohort));
    service
}

pub async fn run(ctx: Context, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let service = service(&ctx);
    casetrack_platform::service::serve(ctx, listener, vec![service], shutdown).await
}

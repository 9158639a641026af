//! Outcome reporting: pathway figures derived from events only. It consumes every event and never commands.
//!
//! - [`projections`]: the read models, `reporting.pathway` (activity: daily counts per service and figure) and
//!   `reporting.cohort` (where the referrals received in a period are now, by dimension);
//! - [`views`]: every query over them (the figures of a period, the referrals behind a figure);
//! - [`params`]: what the API and the pages ask for figures by (period, service, breakdown);
//! - [`api`]: `GET /api/reporting/summary`;
//! - [`pages`]: the figures pages for commissioners and managers (small numbers suppressed);
//! - [`export`]: a report as text, CSV or a workbook;
//! - [`freshness`]: how far the figures are behind the log, and bringing them up to date before a report;
//! - [`labels`]: what each figure is called, in plain words, and the order figures are shown in;
//! - [`periods`]: months, financial-year quarters and financial years by name;
//! - [`returns`]: the funder's quarterly return, a sheet per service;
//! - [`suppression`]: small-number suppression, with secondary suppression audited so that no small count can
//!   be worked out (for what commissioners see and what is published).
//!
//! `api` and `pages` never import each other: [`service_with`] merges their routes. Reporting reads only its own
//! tables, built from the log (docs/adr/0008-services-meet-only-through-the-log.md). Every figure has its counting
//! rule in `docs/metrics.md`.

pub mod api;
pub mod export;
pub mod freshness;
pub mod labels;
pub mod pages;
pub mod params;
pub mod periods;
pub mod projections;
pub mod returns;
pub mod suppression;
pub mod views;

/// The projections and the figures by the paths they had before the crate was laid out in rooms.
pub use projections::{cohort, pathway};
pub use views::report;

use casetrack_web::{Context, Service};
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
    // Victims' Code deadlines count working days: say so when the year ahead's bank holidays are not known yet.
    let today = casetrack_eventstore::clock::now().date_naive();
    if let Some(warning) = casetrack_casework::victims_code::coverage_warning(today) {
        tracing::warn!(%warning, "bank holidays missing");
    }
    let pages = pages::routes(pages::FiguresState { ctx: ctx.clone(), threshold });
    let mut service = Service::new("reporting").with_routes(api::router(ctx.clone(), threshold).merge(pages));
    service.openapi = api::openapi();
    service.migrations = Some(&MIGRATIONS);
    service.projections.extend(freshness::projections());
    service
}

pub async fn run(ctx: Context, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let service = service(&ctx);
    casetrack_web::serve::serve(ctx, listener, vec![service], shutdown).await
}

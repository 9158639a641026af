//! Outcome reporting: pathway figures derived from events only. It consumes every event and never commands.
//!
//! - [`pathway`]: the `reporting.pathway` projection (monthly counts per service and figure);
//! - [`api`]: `GET /api/reporting/summary`.
//!
//! Every figure has its counting rule in `docs/metrics.md`.

pub mod api;
pub mod pathway;

use std::sync::Arc;

use casetrack_platform::{Context, Service};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub fn service(ctx: &Context) -> Service {
    let mut service = Service::new("reporting");
    service.router = api::router(ctx.clone());
    service.openapi = api::openapi();
    service.migrations = Some(&MIGRATIONS);
    service.projections.push(Arc::new(pathway::Pathway));
    service
}

pub async fn run(ctx: Context, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let service = service(&ctx);
    casetrack_platform::service::serve(ctx, listener, vec![service], shutdown).await
}

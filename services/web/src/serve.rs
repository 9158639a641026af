//! Serving any set of services on one listener: their migrations first, then their projections, reactors and jobs
//! beside the HTTP server, with the common routes and the guard over everything.

use anyhow::Context as _;
use axum::Router;
use casetrack_eventstore::projection::ProjectionRunner;
use casetrack_eventstore::reactor::ReactorRunner;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::service::{Context, Service};

/// Applies every service's migrations (the schema must exist before anything reads it).
pub async fn migrate(ctx: &Context, services: &[Service]) -> anyhow::Result<()> {
    for service in services {
        if let Some(migrations) = service.migrations {
            ctx.db.migrate(service.name, migrations).await?;
        }
    }
    Ok(())
}

/// Serves `services` on `listener` until `shutdown`, with their projections and reactors running beside, plus
/// the common routes. Returns after a graceful shutdown: in-flight requests finish, runners stop between batches.
pub async fn serve(
    ctx: Context,
    listener: TcpListener,
    services: Vec<Service>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Install the metrics recorder before anything records.
    crate::telemetry::metrics_handle();
    // The migrations apart from their services, so that no `&Service` (which is not `Sync`: its jobs run once) is
    // held across an await and this future can be spawned.
    let migrations: Vec<_> = services.iter().filter_map(|s| s.migrations.map(|m| (s.name, m))).collect();
    for (name, migrations) in migrations {
        ctx.db.migrate(name, migrations).await?;
    }
    let runners = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut app = Router::new();
    let mut rules = Vec::new();
    let mut lookups = Vec::new();
    let mut areas = Vec::new();
    let mut openapi = crate::http::base_openapi();
    let names: Vec<&str> = services.iter().map(|s| s.name).collect();
    for service in services {
        for projection in service.projections {
            let log = ctx.log_of(projection.as_ref()).clone();
            let runner = ProjectionRunner::new(ctx.db.clone(), log, projection, &ctx.projections);
            tasks.spawn(runner.run(runners.clone()));
        }
        for reactor in service.reactors {
            let runner = ReactorRunner::new(ctx.db.clone(), ctx.log.clone(), reactor, &ctx.projections);
            tasks.spawn(runner.run(runners.clone()));
        }
        for job in service.jobs {
            tasks.spawn(job(runners.clone()));
        }
        crate::http::merge_service(&mut openapi, service.openapi, service.name);
        app = app.merge(service.router);
        rules.extend(service.rules);
        lookups.extend(service.person_lookups);
        areas.extend(service.record_areas);
    }
    let app = crate::http::with_common_routes(app, rules, lookups, areas, ctx.clone(), openapi);
    tasks.spawn(sweep_sessions(ctx.clone(), runners.clone()));
    let address = listener.local_addr()?;
    tracing::info!(%address, services = ?names, log = ctx.log.kind(), database = ?ctx.db.backend(), "serving");
    // Peer addresses reach the handlers (rate limits on public forms), never the logs.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await;
    runners.cancel();
    while tasks.join_next().await.is_some() {}
    tracing::info!("stopped");
    result.context("the HTTP server failed")
}

/// Deletes expired sessions and old sign-in failures every ten minutes.
async fn sweep_sessions(ctx: Context, stop: CancellationToken) {
    loop {
        if let Err(error) = crate::sessions::sweep(&ctx.db, ctx.sessions).await {
            tracing::warn!(error = %error, "session housekeeping failed; it runs again in ten minutes");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(600)) => {}
        }
    }
}

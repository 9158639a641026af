//! The people service: a person's identity, personal details (sealed with their own key), duplicate matching.
//!
//! - [`person`]: the `Person` aggregate and its pure decisions;
//! - [`api`]: the JSON API (`POST /api/people`);
//! - [`records`]: one person's details and duplicate candidates for other services' pages;
//! - [`export`]: the subject-access export (a `casetrack admin` command for now);
//! - [`directory`]: the `people.directory` projection (who is known, by blind match key; no plaintext).

pub mod api;
pub mod directory;
pub mod export;
pub mod person;
pub mod records;

use std::sync::Arc;

use casetrack_platform::access::PersonLookup;
use casetrack_platform::{Context, Service};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub fn service(ctx: &Context) -> Service {
    let mut service = Service::new("people").with_routes(api::router(ctx.clone()));
    service
        .person_lookups
        .push(PersonLookup { param: "person_id", sql: "SELECT person_id FROM people WHERE person_id = $1" });
    service.openapi = api::openapi();
    service.migrations = Some(&MIGRATIONS);
    service.projections.push(Arc::new(directory::Directory));
    service
}

pub async fn run(ctx: Context, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let service = service(&ctx);
    casetrack_platform::service::serve(ctx, listener, vec![service], shutdown).await
}

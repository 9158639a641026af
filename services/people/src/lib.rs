//! The people service: a person's identity, personal details (sealed with their own key), duplicate matching.
//!
//! Other services reach it only through the log and [`interface`], its one published interface (re-exported
//! here); docs/adr/0008-services-meet-only-through-the-log.md says why.
//!
//! - [`interface`]: the functions other services call (register, read, decide on duplicates, erase, export);
//! - `person`: the `Person` aggregate and its pure decisions;
//! - `api`: the JSON API (`POST /api/people`);
//! - `records`: one person's details and duplicate candidates;
//! - `export`: the subject-access export;
//! - `directory`: the `people.directory` projection (who is known, by blind match key; no plaintext).
//!
//! `person`, `records`, `export` and `api` are still reachable by their old paths, for callers not yet moved to
//! [`interface`]; nothing new should use them.

pub mod interface;

#[doc(hidden)]
pub mod api;
mod directory;
#[doc(hidden)]
pub mod export;
#[doc(hidden)]
pub mod person;
#[doc(hidden)]
pub mod records;

pub use interface::{
    Candidate, DetailsInput, FieldProblem, PersonRecord, PersonRegisteredResponse, PersonRejection, PersonalDetails,
    RegisterPersonRequest, SubjectAccessExport, candidates, decide_duplicate, details, erase, export, parse_details,
    register, register_as_signed_in, register_with_key,
};

use std::sync::Arc;

use casetrack_web::access::PersonLookup;
use casetrack_web::{Context, Service};
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
    casetrack_web::serve::serve(ctx, listener, vec![service], shutdown).await
}

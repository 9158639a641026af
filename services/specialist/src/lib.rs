//! Specialist services: IDVA, ISVA, stalking advocacy, restorative justice, and every service defined in the
//! catalogue (`config/services.toml`). One crate serves any subset; each service has its own intake reactor and
//! case projection, so `serve --services idva` and `serve --services isva` can run as separate processes.
//!
//! - [`case`]: the `Case` aggregate: the common pathway, and DASH and MARAC for IDVA cases;
//! - [`intake`]: the reactor turning the hub's `OnwardReferralMade` into a case (id derived from the event);
//! - [`cases`]: the `specialist.cases.<service>` projections;
//! - [`pages`]: caseload pages, the case page with its actions and timeline, direct referrals;
//! - [`api`]: the JSON API (`/api/specialist/{service}/cases/...`), one service's cases reachable only through
//!   that service's routes.

pub mod api;
pub mod case;
pub mod cases;
pub mod intake;
pub mod pages;

use std::sync::Arc;

use casetrack_platform::access::PersonLookup;
use casetrack_platform::catalogue::ServiceKind;
use casetrack_platform::{Context, Service};
use casetrack_proto::ServiceCode;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub fn service(ctx: &Context, services: &[ServiceCode]) -> Service {
    let mut service = Service::new("specialist").with_routes(api::router(ctx.clone(), services.to_vec()));
    service
        .person_lookups
        .push(PersonLookup { param: "case_id", sql: "SELECT person_id FROM specialist_cases WHERE case_id = $1" });
    service.openapi = api::openapi();
    service.migrations = Some(&MIGRATIONS);
    for code in services {
        let kind = ctx.catalogue.get(code.as_str()).map_or(ServiceKind::General, |definition| definition.kind);
        service.projections.push(Arc::new(cases::Cases::new(code.clone(), kind)));
        service.reactors.push(Arc::new(intake::Intake::new(code.clone())));
    }
    service
}

pub async fn run(ctx: Context, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let codes = ctx.catalogue.codes();
    let service = service(&ctx, &codes);
    casetrack_platform::service::serve(ctx, listener, vec![service], shutdown).await
}

/// A `&'static str` for names built at start-up from configuration (bounded: one per service).
pub(crate) fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

//! Specialist services: IDVA, ISVA, stalking advocacy, restorative justice, and every service defined in the
//! catalogue (`config/services.toml`). One crate serves any subset; each service has its own intake reactor and
//! case projection, so `serve --services idva` and `serve --services isva` can run as separate processes.
//!
//! The rooms, in the order a change usually flows through them:
//!
//! - [`case`]: the `Case` aggregate, pure: its state, `apply`, the rejections, the common pathway's decisions and
//!   their given/when/then tests;
//! - [`kinds`]: what each kind of service adds (`idva`: DASH and MARAC; `isva`: criminal-justice stages;
//!   `stalking`: S-DASH and protection orders; `rj`: the restorative steps): its decisions and their tests, its
//!   commands, its action forms on the case page; and the risk assessment the kinds share;
//! - [`commands`]: one file per command (or small group): request type, parsing, the decision it asks; all given
//!   through one door, `Desk::run`, which dates each command's events when its fact happened (`occurred_at`, or the
//!   date the request carries), refuses time that runs backwards (`case::timed`, the rule both pathways share) and
//!   marks a late entry on the response for the audit trail;
//! - [`views`]: every query the crate answers (the `specialist_cases` read model; a case's own events);
//! - [`projections`]: the `specialist.cases.<service>` read models;
//! - [`intake`]: the reactor turning the hub's `OnwardReferralMade` into a case (id derived from the event);
//! - [`api`]: the JSON API (`/api/specialist/{service}/cases/...`, and `.../new-victim-referrals` for a victim not
//!   registered yet), one service's cases reachable only through that service's routes; [`pages`]: caseload pages, the case page with its actions and timeline, direct
//!   referrals. Both are thin adapters over commands and views, never importing each other; this file merges
//!   their routers, over the state they share ([`state::Desk`]);
//! - [`forms`]: the HTML form pieces the pages and the kinds' forms share ("When did this happen?" among them).
//!
//! Where to make a change:
//!
//! - a new service of an existing kind, or of kind `general`: configuration only (`config/services.toml`);
//! - a rule of the common pathway: `case/mod.rs` (with a test in `case/tests.rs`);
//! - a rule, command or form of one kind: `kinds/<kind>.rs`;
//! - a new specialist kind: its variant in the catalogue's `ServiceKind` (casework crate), a `kinds/<kind>.rs`
//!   (decisions on `case::accepted_of`, their tests, commands, forms), its arms in `kinds::actions` and
//!   `kinds::perform`, its routes in `api.rs`'s `case_commands!`, its events' state in `case/mod.rs` (`apply`),
//!   its columns in `projections/cases.rs` (a migration) and `views/cases.rs`, its timeline lines in
//!   `pages/timeline.rs`;
//! - a new command on every case: `commands/<command>.rs` (a `CaseCommand`), a line in `case_commands!`, and, for
//!   the case page, its form in `pages/actions.rs` and its arm in `pages/case.rs`;
//! - a new question of the read model: `views/`.

pub mod api;
pub mod case;
pub mod commands;
mod compat;
pub mod forms;
pub mod intake;
pub mod kinds;
pub mod pages;
pub mod projections;
pub mod state;
pub mod views;

use std::sync::Arc;

use casetrack_casework::catalogue::ServiceKind;
use casetrack_casework::occurred::BackDating;
use casetrack_proto::ServiceCode;
use casetrack_web::access::{PersonLookup, RecordArea};
use casetrack_web::{Context, Service};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::state::Desk;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The specialist services `services` on `ctx`, with the default back-dating window.
pub fn service(ctx: &Context, services: &[ServiceCode]) -> Service {
    service_with(ctx, services, BackDating::default())
}

/// The same with the installation's back-dating window (`--back-dating-days`).
pub fn service_with(ctx: &Context, services: &[ServiceCode], back_dating: BackDating) -> Service {
    let desk = Desk::new(ctx.clone(), services.to_vec()).with_back_dating(back_dating);
    let mut service = Service::new("specialist").with_routes(api::routes().merge(pages::routes()).with_state(desk));
    service.person_lookups.push(PersonLookup { param: "case_id", sql: views::cases::PERSON_OF_CASE });
    service.record_areas.push(RecordArea { sql: views::cases::SERVICE_OF_CASE });
    service.openapi = api::openapi();
    service.migrations = Some(&MIGRATIONS);
    for code in services {
        let kind = ctx.catalogue.get(code.as_str()).map_or(ServiceKind::General, |definition| definition.kind);
        service.projections.push(Arc::new(projections::cases::Cases::new(code.clone(), kind)));
        service.reactors.push(Arc::new(intake::Intake::new(code.clone())));
    }
    service
}

pub async fn run(ctx: Context, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let codes = ctx.catalogue.codes();
    let service = service(&ctx, &codes);
    casetrack_web::serve::serve(ctx, listener, vec![service], shutdown).await
}

/// A `&'static str` for names built at start-up from configuration (bounded: one per service).
pub(crate) fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

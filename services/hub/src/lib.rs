//! The Victim and Witness Hub: referrals from intake to onward referral.
//!
//! The rooms, and which file to open for which change:
//!
//! - [`referral`]: the `Referral` aggregate: its states, its pure decisions and their given/when/then tests
//!   (`referral/tests.rs`). A rule about what may happen to a referral, and when, goes here;
//! - [`values`]: the values a request carries, parsed once at the edge (crime reference, caution, consent at
//!   receipt, days not in the future). A rule about what a request may hold goes here;
//! - [`commands`]: one file per command (or small group): its request type, the parsing into values, the look-ups
//!   and the time, and the call to the aggregate. A new command, or a change to what one takes, goes here; so do
//!   the police feed (`commands/police_feed.rs` reads the CSV, `commands/intake.rs` imports it) and referrals
//!   taken from the victim (`commands/direct.rs`);
//! - [`views`]: every question answered from what is stored (the work queues, one referral's detail and history).
//!   A new list or a new column on a page starts here;
//! - [`projections`]: the `hub.referrals` read model and the migrations of its tables. A new fact a view needs is
//!   written here;
//! - [`api`]: the JSON API (`/api/hub/referrals`, `/api/hub/queues`), a thin adapter over commands and views;
//! - [`pages`]: the pages for hub officers and the public self-referral form, a thin adapter over the same;
//! - [`state`]: the [`Hub`] every route holds, and the [`HubSettings`] it is built with;
//! - [`measures`], [`needs`]: reference data (outcome-measure lists by date in force, need categories).
//!
//! Dependencies run one way: the adapters (`api`, `pages`) use `commands` and `views`; those use the aggregate,
//! the values, the reference data and `state`; `api` and `pages` never use each other, and only this file joins
//! their routes.

pub mod api;
pub mod commands;
pub mod measures;
pub mod needs;
pub mod pages;
pub mod projections;
pub mod referral;
pub mod state;
pub mod values;
pub mod views;

/// Kept at the paths `casetrack import` uses: reading and importing the police feed.
pub use commands::{intake, police_feed};
pub use state::{Hub, HubSettings};

use std::sync::Arc;

use casetrack_web::access::{PersonLookup, RecordArea};
use casetrack_web::{Context, Service};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub fn service(ctx: &Context) -> Service {
    service_with(ctx, HubSettings::default())
}

pub fn service_with(ctx: &Context, settings: HubSettings) -> Service {
    let routes = api::routes().merge(pages::routes()).with_state(Hub::new(ctx.clone(), settings));
    let mut service = Service::new("hub").with_routes(routes);
    service
        .person_lookups
        .push(PersonLookup { param: "referral_id", sql: "SELECT person_id FROM hub_referrals WHERE referral_id = $1" });
    service.record_areas.push(RecordArea { sql: "SELECT 'hub' FROM hub_referrals WHERE referral_id = $1" });
    service.openapi = api::openapi();
    service.migrations = Some(&projections::MIGRATIONS);
    service.projections.push(Arc::new(projections::referrals::Referrals));
    service
}

pub async fn run(ctx: Context, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let service = service(&ctx);
    casetrack_web::serve::serve(ctx, listener, vec![service], shutdown).await
}

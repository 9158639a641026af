//! The Victim and Witness Hub: referrals from intake to onward referral.
//!
//! - [`referral`]: the `Referral` aggregate and its pure decisions;
//! - [`intake`]: importing the police feed (idempotent: a second import creates nothing);
//! - [`police_feed`]: reading and validating the police feed CSV, row by row;
//! - [`measures`]: the outcome-measure lists (versioned reference data);
//! - [`api`]: the JSON API (`/api/hub/referrals`, `/api/hub/queues`);
//! - [`pages`]: the pages for hub officers and the public self-referral form;
//! - [`needs`]: need categories (reference data);
//! - [`queues`]: hub officers' work queues;
//! - [`referrals`]: the `hub.referrals` projection, including what specialist services did with onward
//!   referrals (the closed loop).

pub mod api;
pub mod intake;
pub mod measures;
pub mod needs;
pub mod pages;
pub mod police_feed;
pub mod queues;
pub mod referral;
pub mod referrals;

use std::sync::Arc;

use casetrack_platform::access::PersonLookup;
use casetrack_platform::{Context, Service};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub fn service(ctx: &Context) -> Service {
    service_with(ctx, HubSettings::default())
}

pub fn service_with(ctx: &Context, settings: HubSettings) -> Service {
    let mut service = Service::new("hub").with_routes(api::router(ctx.clone(), settings));
    service
        .person_lookups
        .push(PersonLookup { param: "referral_id", sql: "SELECT person_id FROM hub_referrals WHERE referral_id = $1" });
    service.openapi = api::openapi();
    service.migrations = Some(&MIGRATIONS);
    service.projections.push(Arc::new(referrals::Referrals));
    service
}

/// The hub's own settings. The attempt rule is a service setting, not a constant (DOMAIN.md "Attempt rule").
#[derive(Debug, Clone, Copy)]
pub struct HubSettings {
    pub attempt_rule: casetrack_platform::contact::AttemptRule,
    /// Public self-referral form submissions allowed per address per hour.
    pub self_referrals_per_hour: u32,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self { attempt_rule: Default::default(), self_referrals_per_hour: 10 }
    }
}

pub async fn run(ctx: Context, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let service = service(&ctx);
    casetrack_platform::service::serve(ctx, listener, vec![service], shutdown).await
}

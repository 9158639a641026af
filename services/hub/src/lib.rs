//! The Victim and Witness Hub: referrals from intake to onward referral.
//!
//! - [`referral`]: the `Referral` aggregate and its pure decisions;
//! - [`api`]: the JSON API (`/api/hub/referrals`);
//! - [`referrals`]: the `hub.referrals` projection, including what specialist services did with onward
//!   referrals (the closed loop).

pub mod api;
pub mod referral;
pub mod referrals;

use std::sync::Arc;

use casetrack_platform::{Context, Service};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub fn service(ctx: &Context) -> Service {
    let mut service = Service::new("hub");
    service.router = api::router(ctx.clone());
    service.openapi = api::openapi();
    service.migrations = Some(&MIGRATIONS);
    service.projections.push(Arc::new(referrals::Referrals));
    service
}

pub async fn run(ctx: Context, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let service = service(&ctx);
    casetrack_platform::service::serve(ctx, listener, vec![service], shutdown).await
}

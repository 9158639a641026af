//! Access: signing in, accounts, and the audit trail as auditors search it.
//!
//! The guard that checks every request, the sessions and the accounts store are in the platform
//! (`casetrack_web::access`, `casetrack_web::accounts`), because every process needs them. This service
//! serves the pages and API around them:
//!
//! - [`session`]: what every way of signing in shares (the sign-in routes' state, the identity provider's
//!   settings, the safe next path, the response that starts a session);
//! - [`api`]: one's own password through the JSON API (`POST /api/account/password`);
//! - [`oidc`]: sign-in through an OpenID Connect provider (authorisation code with PKCE);
//! - [`pages`]: sign-in and sign-out (pages and API), one's own password, each role's home, the administrator's
//!   accounts (pages and API);
//! - [`records`]: the `access.records` projection (people, and their referrals and cases with when each ended,
//!   built from the log) and its queries;
//! - [`protection`]: a person's subject-access export and erasure (hub managers);
//! - [`retention`]: erasure of people past the retention period (a daily job, and `casetrack admin retention`);
//! - [`trail`]: the `audit.trail` projection of the audit stream, and the auditor's search and CSV export.
//!
//! Access reads no other service's tables: what it needs of people, referrals and cases it keeps itself
//! ([`records`]), and it reaches the people service only through `casetrack_people::interface`
//! (docs/adr/0008-services-meet-only-through-the-log.md).

pub mod api;
pub mod oidc;
pub mod pages;
pub mod protection;
pub mod records;
pub mod retention;
pub mod session;
pub mod trail;

use std::sync::Arc;

use axum::routing::{get, post};
use casetrack_web::access::Permission::{Accounts, Audit, HubManagement, Public, SignedIn};
use casetrack_web::access::Routes;
use casetrack_web::{Context, Service};
use utoipa::OpenApi;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(OpenApi)]
#[openapi(
    paths(pages::api_sign_in, pages::api_sign_out, api::change_password, pages::api_create_account),
    components(schemas(
        api::PasswordChangeRequest,
        pages::SignInRequest,
        pages::SessionResponse,
        pages::NewAccountRequest,
        pages::AccountCreated
    ))
)]
struct AccessApi;

/// The access service's settings.
#[derive(Debug, Clone, Default)]
pub struct AccessSettings {
    /// Months after which the retention job erases people; 0 runs no job.
    pub retention_months: u32,
    /// The identity provider, when sign-in through one is set up.
    pub oidc: Option<Arc<session::OidcConfig>>,
}

pub fn service(ctx: &Context, settings: AccessSettings) -> Service {
    let retention_months = settings.retention_months;
    let sign_in = Routes::new()
        .route("/sign-in", Public, get(pages::sign_in_page).post(pages::sign_in))
        .route("/oidc/start", Public, get(oidc::start))
        .route("/oidc/callback", Public, get(oidc::callback))
        .with_state(session::SignInState { ctx: ctx.clone(), oidc: settings.oidc });
    let routes = Routes::new()
        .route("/", SignedIn, get(pages::home))
        .route("/sign-out", SignedIn, post(pages::sign_out))
        .route("/account/password", SignedIn, get(pages::password_page).post(pages::change_password))
        .route("/admin/accounts", Accounts, get(pages::accounts_list).post(pages::create_account))
        .route("/admin/accounts/{account_id}/{action}", Accounts, post(pages::account_action))
        .route("/audit", Audit, get(trail::audit_page))
        .route("/audit/export.csv", Audit, get(trail::audit_export))
        .person("/people/{person_id}", HubManagement, get(protection::person_page))
        .person("/people/{person_id}/export.json", HubManagement, get(protection::export_download))
        .route("/people/{person_id}/erasure", HubManagement, post(protection::erase))
        .route("/api/session", Public, post(pages::api_sign_in))
        .route("/api/session/end", SignedIn, post(pages::api_sign_out))
        .route("/api/account/password", SignedIn, post(api::change_password))
        .route("/api/admin/accounts", Accounts, post(pages::api_create_account))
        .with_state(ctx.clone())
        .merge(sign_in);
    let mut service = Service::new("access").with_routes(routes);
    service.openapi = AccessApi::openapi();
    service.migrations = Some(&MIGRATIONS);
    service.projections.push(Arc::new(trail::AuditTrail));
    service.projections.push(Arc::new(records::Records));
    if retention_months > 0 {
        let ctx = ctx.clone();
        service.jobs.push(Box::new(move |stop| Box::pin(retention::schedule(ctx, retention_months, stop))));
    }
    service
}

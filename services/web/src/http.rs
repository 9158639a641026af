//! HTTP kit: the error type every route returns, the common routes and the request metrics.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::access::Routes;
use crate::service::Context;
use casetrack_eventstore::log::Position;

/// An error as a person or a client program sees it: a stable code, a message in plain words, and nothing of the
/// cause when the cause is ours (that goes to the log, not the response).
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable rule or failure name.
    pub code: String,
    /// What went wrong, in words a caseworker understands.
    pub message: String,
}

impl ApiError {
    /// The rules said no (422): `code` names the rule.
    pub fn rejected(code: &'static str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::UNPROCESSABLE_ENTITY, code, message: message.into() }
    }

    /// The request conflicts with the record's current state (409).
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::CONFLICT, code, message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, code: "not_found", message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code: "bad_request", message: message.into() }
    }

    /// Our side failed (503): the cause is logged with its chain, the response says only that.
    pub fn unavailable(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        tracing::error!(error = %format!("{error:#}"), "request failed");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: "Casetrack could not complete this just now; nothing was saved. Please try again.".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code.into(), message: self.message } };
        (self.status, Json(body)).into_response()
    }
}

/// How long a query may wait for its read model to reach a position it was given.
pub const WAIT_LIMIT: Duration = Duration::from_secs(5);

/// Waits until projection `name` has applied `position` (when given). A read after a write passes the
/// position the write returned, so a person never saves and then sees the old page.
pub async fn wait_for(ctx: &Context, name: &'static str, position: Option<u64>) -> Result<(), ApiError> {
    let Some(position) = position else { return Ok(()) };
    let status = ctx.projections.status(name);
    if status.wait_for(Position(position), WAIT_LIMIT).await {
        Ok(())
    } else {
        Err(ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "not_yet_visible",
            message: "The change is saved but not yet visible here; refresh in a moment.".into(),
        })
    }
}

/// The OpenAPI document's shell, before services merge their paths in.
pub fn base_openapi() -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{InfoBuilder, OpenApiBuilder};
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Casetrack")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Case and referral tracking for victim services"))
                .build(),
        )
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.insert("ErrorBody".into(), <ErrorBody as utoipa::PartialSchema>::schema());
    components.schemas.insert("ErrorDetail".into(), <ErrorDetail as utoipa::PartialSchema>::schema());
    doc
}

/// The largest request body: an upload of the police feed (about 250,000 rows). Every other body is held to [`BODY_LIMIT`].
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;
/// The largest request body of anything but an upload.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The routes every process serves: `/healthz`, `/readyz`, `/metrics`, `/api/openapi.json`, the page assets and
/// the break-glass form.
pub fn common_routes(ctx: Context, openapi: utoipa::openapi::OpenApi, areas: Vec<crate::access::RecordArea>) -> Routes {
    let areas: std::sync::Arc<[crate::access::RecordArea]> = areas.into();
    use crate::access::Permission::{Casework, Public};
    let openapi = std::sync::Arc::new(openapi);
    Routes::new()
        .route("/healthz", Public, get(|| async { "ok" }))
        .route("/readyz", Public, get(readyz))
        .route("/metrics", Public, get(metrics_route))
        .route("/api/openapi.json", Public, get(move || async move { Json(openapi.as_ref().clone()) }))
        .route(
            "/assets/casetrack.css",
            Public,
            get(|| async { asset("text/css", include_str!("../assets/casetrack.css")) }),
        )
        .route(
            "/assets/quick-exit.js",
            Public,
            get(|| async { asset("text/javascript", include_str!("../assets/quick-exit.js")) }),
        )
        .route(
            "/break-glass",
            Casework,
            axum::routing::post(move |State(ctx): State<Context>, form: crate::pages::FormData| {
                crate::access::break_glass(ctx, areas.clone(), form)
            }),
        )
        .with_state(ctx)
}

/// Adds the common routes to `app`, then the guard (permissions, sessions, CSRF, audit) over every route declared
/// in `rules`, request metrics, security headers and body limits.
pub fn with_common_routes(
    app: Router,
    rules: Vec<crate::access::RouteRule>,
    lookups: Vec<crate::access::PersonLookup>,
    areas: Vec<crate::access::RecordArea>,
    ctx: Context,
    openapi: utoipa::openapi::OpenApi,
) -> Router {
    let (common, common_rules) = common_routes(ctx.clone(), openapi, areas).into_parts();
    let rules = rules.into_iter().chain(common_rules).collect();
    let policy = ctx.sessions;
    let guard = std::sync::Arc::new(crate::access::Guard::new(ctx, rules, lookups, policy));
    app.merge(common)
        .layer(axum::middleware::from_fn_with_state(guard, crate::access::guard))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn(record_request))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
}

#[derive(Serialize)]
struct Readiness {
    ready: bool,
    log: Check,
    database: Check,
    projections: Vec<ProjectionReadiness>,
}

#[derive(Serialize)]
struct Check {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    head: Option<u64>,
}

#[derive(Serialize)]
struct ProjectionReadiness {
    name: &'static str,
    position: u64,
    lag: Option<u64>,
    /// Stopped for good on this (an event it cannot read): not ready until fixed.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
    /// Retrying after this (database or log trouble): still ready, but falling behind.
    #[serde(skip_serializing_if = "Option::is_none")]
    retrying: Option<String>,
}

async fn readyz(State(ctx): State<Context>) -> Response {
    let head = ctx.log.head().await;
    let log = match &head {
        Ok(head) => Check { ok: true, error: None, head: Some(head.0) },
        Err(error) => Check { ok: false, error: Some(error.to_string()), head: None },
    };
    let database = match ctx.db.ping().await {
        Ok(()) => Check { ok: true, error: None, head: None },
        Err(error) => Check { ok: false, error: Some(error.to_string()), head: None },
    };
    let head = head.ok();
    let audit_head = ctx.audit.head().await.ok();
    let projections: Vec<_> = ctx
        .projections
        .all()
        .into_iter()
        .map(|status| ProjectionReadiness {
            name: status.name(),
            position: status.position().0,
            lag: if casetrack_eventstore::projection::reads_audit(status.name()) { audit_head } else { head }
                .map(|head| head.0.saturating_sub(status.position().0)),
            failure: status.failure(),
            retrying: status.retrying(),
        })
        .collect();
    let ready = log.ok && database.ok && projections.iter().all(|p| p.failure.is_none());
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Readiness { ready, log, database, projections })).into_response()
}

async fn metrics_route(State(ctx): State<Context>) -> Response {
    if let (Ok(head), Ok(audit_head)) = (ctx.log.head().await, ctx.audit.head().await) {
        metrics::gauge!("casetrack_log_head_position").set(head.0 as f64);
        for status in ctx.projections.all() {
            let head = if casetrack_eventstore::projection::reads_audit(status.name()) { audit_head } else { head };
            let lag = head.0.saturating_sub(status.position().0);
            metrics::gauge!("casetrack_projection_lag_commits", "projection" => status.name()).set(lag as f64);
        }
    }
    let body = crate::telemetry::metrics_handle().render();
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, content_type), (axum::http::header::CACHE_CONTROL, "public, max-age=3600")],
        body,
    )
        .into_response()
}

/// No inline script or style, no framing, no referrer leaving the site, no content sniffing.
async fn security_headers(request: Request, next: Next) -> Response {
    use axum::http::HeaderValue;
    let tls = crate::access::served_over_tls(request.headers());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if tls {
        headers.insert("strict-transport-security", HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    }
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

async fn record_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    // The matched route template, never the concrete path: paths may carry ids.
    let route =
        request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("casetrack_http_request_duration_seconds", "method" => method, "route" => route, "status" => status)
        .record(started.elapsed().as_secs_f64());
    response
}

impl<R: casetrack_eventstore::command::Rejection> From<casetrack_eventstore::command::CommandError<R>> for ApiError {
    fn from(error: casetrack_eventstore::command::CommandError<R>) -> Self {
        use casetrack_eventstore::command::CommandError;
        match error {
            CommandError::Rejected(rejection) => ApiError::conflict(rejection.code(), rejection.to_string()),
            CommandError::Contended => ApiError::conflict("contended", error.to_string()),
            CommandError::Infrastructure(cause) => ApiError::unavailable(cause),
        }
    }
}

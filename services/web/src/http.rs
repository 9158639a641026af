//! HTTP kit: the error type every route returns, the common routes and the request metrics.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

pub use crate::error::{ApiError, BODY_LIMIT, ErrorBody, ErrorDetail, UPLOAD_LIMIT};
use crate::routes::Routes;
use crate::service::Context;
use casetrack_eventstore::log::Position;

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

/// Declares the optional `Idempotency-Key` header on every command (POST, PUT, PATCH, DELETE) of `doc`.
pub fn document_idempotency(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    let header = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Any text of up to 255 visible characters (a UUID is usual), unique to the command. A command sent \
             again with the same key (after a lost answer) writes nothing twice and answers as the first time, \
             with the ids it made then.",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).max_length(Some(255))))
        .build();
    for item in doc.paths.paths.values_mut() {
        for operation in [&mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten() {
            operation.parameters.get_or_insert_with(Vec::new).push(header.clone());
        }
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

/// The routes every process serves: `/healthz`, `/readyz`, `/metrics`, `/api/openapi.json`, the page assets and
/// the break-glass form.
pub fn common_routes(ctx: Context, openapi: utoipa::openapi::OpenApi, areas: Vec<crate::routes::RecordArea>) -> Routes {
    let areas: std::sync::Arc<[crate::routes::RecordArea]> = areas.into();
    use crate::routes::Permission::{Casework, Public};
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
    rules: Vec<crate::routes::RouteRule>,
    lookups: Vec<crate::routes::PersonLookup>,
    areas: Vec<crate::routes::RecordArea>,
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

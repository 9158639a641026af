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

/// The name of the session cookie as a security scheme of the OpenAPI document.
pub const SESSION_SCHEME: &str = "session";
/// The name of the CSRF header as a security scheme of the OpenAPI document.
pub const CSRF_SCHEME: &str = "csrf";

/// Merges one service's part of the OpenAPI document into `doc`: tagged with the service's name ([`tag_service`]),
/// and with each of its schemas whose name another service already gave to a different schema renamed
/// `<Service><Name>` (two services' `SafeContactRequest` differ), so that no operation points at another
/// service's type.
pub fn merge_service(doc: &mut utoipa::openapi::OpenApi, mut part: utoipa::openapi::OpenApi, service: &str) {
    tag_service(&mut part, service);
    let taken = doc.components.as_ref().and_then(|c| serde_json::to_value(&c.schemas).ok()).unwrap_or_default();
    let Ok(mut value) = serde_json::to_value(&part) else {
        doc.merge(part);
        return;
    };
    let prefix: String = service.chars().take(1).flat_map(char::to_uppercase).chain(service.chars().skip(1)).collect();
    let mut renamed = false;
    // Renaming one schema changes those that point at it, which may then clash in turn: again until none do.
    for _ in 0..8 {
        let clashes: Vec<String> = value
            .pointer("/components/schemas")
            .and_then(serde_json::Value::as_object)
            .map(|schemas| {
                schemas
                    .iter()
                    .filter(|(name, schema)| taken.get(name.as_str()).is_some_and(|other| other != *schema))
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        if clashes.is_empty() {
            break;
        }
        rename_schemas(&mut value, &clashes, &prefix);
        renamed = true;
    }
    if renamed {
        match serde_json::from_value(value) {
            Ok(value) => part = value,
            Err(error) => tracing::warn!(service, %error, "could not rename this service's clashing OpenAPI schemas"),
        }
    }
    doc.merge(part);
}

/// Renames the schemas `names` of an OpenAPI document (as JSON) to `<prefix><name>`, and every reference to them.
fn rename_schemas(value: &mut serde_json::Value, names: &[String], prefix: &str) {
    use serde_json::Value;
    if let Some(schemas) = value.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for name in names {
            if let Some(schema) = schemas.remove(name) {
                schemas.insert(format!("{prefix}{name}"), schema);
            }
        }
    }
    fn walk(value: &mut Value, names: &[String], prefix: &str) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map.iter_mut() {
                    if key == "$ref"
                        && let Value::String(target) = inner
                        && let Some(name) = target.strip_prefix("#/components/schemas/")
                        && names.iter().any(|n| n == name)
                    {
                        *target = format!("#/components/schemas/{prefix}{name}");
                    } else {
                        walk(inner, names, prefix);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, names, prefix)),
            _ => {}
        }
    }
    walk(value, names, prefix);
}

/// Gives every operation of one service's part of the OpenAPI document the service's name as its tag, and an
/// operation id unique across services: `<service>_<handler>` (without the handlers' `api_` and `_route`), so
/// that two services' `allocate` are `hub_allocate` and `specialist_allocate` to a code generator.
pub fn tag_service(doc: &mut utoipa::openapi::OpenApi, service: &str) {
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            operation.tags = Some(vec![service.to_owned()]);
            if let Some(id) = operation.operation_id.as_deref() {
                let handler = id.strip_prefix("api_").unwrap_or(id);
                let handler = handler.strip_suffix("_route").unwrap_or(handler);
                operation.operation_id = Some(format!("{service}_{handler}"));
            }
        }
    }
    let tags = doc.tags.get_or_insert_with(Vec::new);
    if !tags.iter().any(|tag| tag.name == service) {
        let mut tag = utoipa::openapi::tag::Tag::new(service);
        tag.description = service_description(service).map(str::to_owned);
        tags.push(tag);
    }
}

fn service_description(service: &str) -> Option<&'static str> {
    Some(match service {
        "access" => "Signing in and out, one's own password, accounts (administrators)",
        "people" => "Registering people (their details sealed) and deciding on duplicates",
        "hub" => {
            "Victim and Witness Hub referrals: intake (the police feed), contact, support, onward referral, \
                  closure, work queues"
        }
        "specialist" => {
            "Specialist services' cases (IDVA, ISVA, stalking, restorative justice and services defined \
                         in configuration), one set of routes per service"
        }
        "reporting" => "Pathway figures: counts only, never a person",
        _ => return None,
    })
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Finishes the merged OpenAPI document with what the guard adds to every route: the session cookie and the CSRF
/// header as security schemes, each operation's requirement from its route's permission (`rules`; a command
/// needs both, a view the session, a public route neither), the refusals the guard may answer (401, 403, and 400
/// for an `Idempotency-Key` it cannot read) and a body that cannot be read (422) with the error body, and the
/// `Idempotency-Key` header of commands.
pub fn finish_openapi(doc: &mut utoipa::openapi::OpenApi, rules: &[crate::routes::RouteRule]) {
    use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        SESSION_SCHEME.into(),
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::principal::SESSION_COOKIE,
            "The session cookie `POST /api/session` sets. A session ends after 30 minutes without a request or 10 \
             hours after signing in (as configured).",
        ))),
    );
    components.security_schemes.insert(
        CSRF_SCHEME.into(),
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            crate::principal::CSRF_HEADER,
            "The `csrf_token` of `POST /api/session`'s answer, sent on every command (POST) with the session cookie.",
        ))),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let permission = rules.iter().find(|rule| &rule.path == path).map(|rule| rule.permission);
        for (method, operation) in [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ] {
            let Some(operation) = operation.as_mut() else { continue };
            let command = method != "get";
            let responses = &mut operation.responses.responses;
            match permission {
                Some(crate::routes::Permission::Public) => {
                    operation.security = Some(Vec::new());
                }
                // A route the guard does not know is refused to everyone: it is documented as needing a session.
                _ => {
                    let requirement = SecurityRequirement::new(SESSION_SCHEME, Vec::<String>::new());
                    let requirement =
                        if command { requirement.add(CSRF_SCHEME, Vec::<String>::new()) } else { requirement };
                    operation.security = Some(vec![requirement]);
                    responses.entry("401".into()).or_insert_with(|| {
                        error_response("Not signed in, or the session has ended (`signed_out`): sign in again.")
                    });
                    responses.entry("403".into()).or_insert_with(|| {
                        error_response(if command {
                            "The account's role does not include this (`not_permitted`), or the `x-csrf-token` \
                             header is missing or not the session's (`csrf`)."
                        } else {
                            "The account's role does not include this (`not_permitted`)."
                        })
                    });
                }
            }
            if command {
                responses.entry("400".into()).or_insert_with(|| {
                    error_response("The request could not be read, or its `Idempotency-Key` header is not valid.")
                });
            }
            if operation.request_body.is_some() {
                responses.entry("422".into()).or_insert_with(|| {
                    error_response(
                        "The body is not what this operation takes (`unreadable_request`), or a rule said no.",
                    )
                });
            }
        }
    }
    document_idempotency(doc);
}

/// A response whose body is the error body, described in words.
fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
        .build()
        .into()
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
        .route("/assets/casetrack.css", Public, get(crate::pages::assets::stylesheet))
        .route("/assets/casetrack.mjs", Public, get(crate::pages::assets::script))
        .route("/assets/vendor/{file}", Public, get(crate::pages::assets::vendor))
        .route("/assets/images/{file}", Public, get(crate::pages::assets::image))
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
    // The document is finished here, where every route's permission is known.
    let mut openapi = openapi;
    finish_openapi(&mut openapi, &rules);
    let (common, common_rules) = common_routes(ctx.clone(), openapi, areas).into_parts();
    let rules = rules.into_iter().chain(common_rules).collect();
    let policy = ctx.sessions;
    let guard = std::sync::Arc::new(crate::access::Guard::new(ctx, rules, lookups, policy));
    app.merge(common)
        .layer(axum::middleware::from_fn_with_state(guard, crate::access::guard))
        .layer(axum::middleware::from_fn(api_errors_as_json))
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

/// Every refusal under `/api/` answers the error body the OpenAPI document promises, also where the request never
/// reached a handler of ours (a body that is not the JSON asked for, a route or method that does not exist), which
/// the HTTP kit answers in plain text: that text becomes the message.
async fn api_errors_as_json(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !api || json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.map(|b| String::from_utf8_lossy(&b).trim().to_owned());
    let text = text.unwrap_or_default();
    let (code, fallback) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "The request could not be read."),
        StatusCode::NOT_FOUND => ("not_found", "There is no such API route."),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "This API route does not take that method."),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "What was sent is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "Send the body as application/json."),
        StatusCode::UNPROCESSABLE_ENTITY => ("unreadable_request", "The request body is not what this route takes."),
        _ => ("refused", "The request was refused."),
    };
    let message = if text.is_empty() { fallback.to_owned() } else { text };
    let mut answer = ApiError { status, code, message }.into_response();
    // The headers the answer had (an `Allow`, a late-entry mark) stay; its body and length are the new ones.
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    *answer.extensions_mut() = parts.extensions;
    answer
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

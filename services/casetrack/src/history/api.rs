//! Bringing history in through the API: the same file, rules and answers as `casetrack import history`, uploaded
//! by the manager of the area it belongs to.
//!
//! - `POST /api/hub/history`: a hub manager brings in the hub's referrals (rows whose `service` is `hub`);
//! - `POST /api/specialist/{service}/history`: that service's manager brings in its cases.
//!
//! A row of another area is rejected by line (`other_service`), never written. Every fact is written as the manager
//! who uploaded the file, dated when it happened, with the reason "brought in from <name>"; the upload is flagged
//! in the audit trail as a late entry. Uploading the same file again writes nothing new.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse as _, Response};
use axum::routing::post;
use casetrack_web::Context;
use casetrack_web::access::{Permission, Routes};
use casetrack_web::http::{ApiError, ErrorBody};
use casetrack_web::service::Service;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{Rules, plan, write};

#[derive(Clone)]
struct Upload {
    ctx: Context,
    rules: Rules,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Read and check every row against the rules, and write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// The file's name, for the reason each fact is recorded late ("brought in from <name>").
    pub name: Option<String>,
}

/// What an upload did: the counts add up to the rows of the file.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryImported {
    pub dry_run: bool,
    pub rows: usize,
    /// Rows written now (none on a dry run).
    pub imported: usize,
    /// Rows whose record was there already (a file uploaded again), or, on a dry run, rows that would be imported.
    pub already_imported: usize,
    /// Rows not written: the line, the column, the legacy reference and the rule, never the person's details.
    pub rejected: Vec<RejectedRow>,
    /// Rows that could not be saved for a reason of the system's (logged): uploading again completes them.
    pub failed_lines: Vec<u64>,
    /// The log's position after the last fact written: pass it as `wait_for` to read your writes.
    pub position: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRow {
    pub line: u64,
    pub column: String,
    pub reference: String,
    /// The rule's code (`unknown_measure`, `other_service`, `occurred_before_record_began`, ...).
    pub rule: String,
    /// The rule in plain words.
    pub reason: String,
}

/// Brings in the hub's history: a CSV file in the layout of docs/history-import.md (one row per referral), sent as
/// the body (`text/csv`, at most 64 MB). Rows of a specialist service are rejected: their manager uploads them.
#[utoipa::path(post, path = "/api/hub/history", tag = "history", params(HistoryParams),
    request_body(content((String = "text/csv")), description = "the history file"),
    responses((status = 200, body = HistoryImported),
        (status = 422, description = "the file cannot be used as a whole (`history_unusable`: no header row, \
            missing columns) or is empty (`history_missing`)", body = ErrorBody),
        (status = 413, description = "the file is over 64 MB", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn hub_history(
    State(upload): State<Upload>,
    Query(params): Query<HistoryParams>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    bring_in(&upload, "hub", &params, &body).await
}

/// Brings in a specialist service's history: a CSV file in the layout of docs/history-import.md (one row per case,
/// open cases carried in with the day they opened), sent as the body (`text/csv`, at most 64 MB). Rows of another
/// service or of the hub are rejected.
#[utoipa::path(post, path = "/api/specialist/{service}/history", tag = "history",
    params(("service" = String, Path, description = "the service's code: idva, isva, ..."), HistoryParams),
    request_body(content((String = "text/csv")), description = "the history file"),
    responses((status = 200, body = HistoryImported),
        (status = 422, description = "the file cannot be used as a whole (`history_unusable`) or is empty \
            (`history_missing`)", body = ErrorBody),
        (status = 404, description = "no such service", body = ErrorBody),
        (status = 413, description = "the file is over 64 MB", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn service_history(
    State(upload): State<Upload>,
    Path(service): Path<String>,
    Query(params): Query<HistoryParams>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    if upload.rules.catalogue.get(&service).is_none() {
        return Err(ApiError::not_found("no such service"));
    }
    bring_in(&upload, &service, &params, &body).await
}

async fn bring_in(upload: &Upload, area: &str, params: &HistoryParams, body: &[u8]) -> Result<Response, ApiError> {
    if body.is_empty() {
        return Err(ApiError::rejected("history_missing", "send the history file: the body is empty"));
    }
    let now = casetrack_eventstore::clock::now();
    let name = params.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or("an upload");
    // The name goes into events as the late reason: kept short and printable.
    let name: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
    let late_reason = format!("brought in from {name}");
    let plan = plan(body, &upload.rules, now, &late_reason, Some(area))
        .map_err(|error| ApiError::rejected("history_unusable", format!("{error:#}")))?;
    let rows = plan.total();
    let days_late = plan.rows.iter().map(|row| (now - row.received_at).num_days()).max().unwrap_or(0);
    let summary = if params.dry_run {
        let ready = plan.rows.len();
        super::Summary { already_imported: ready, rejected: plan.rejected, ..Default::default() }
    } else {
        let by = casetrack_web::access::acting();
        write(&upload.ctx, &upload.rules, plan, now, &by, None).await.map_err(ApiError::unavailable)?
    };
    let written = summary.imported;
    let answer = HistoryImported {
        dry_run: params.dry_run,
        rows,
        imported: summary.imported,
        already_imported: summary.already_imported,
        rejected: summary
            .rejected
            .into_iter()
            .map(|reject| RejectedRow {
                line: reject.line,
                column: reject.column.to_owned(),
                reference: reject.reference,
                rule: reject.rule.to_owned(),
                reason: reject.message,
            })
            .collect(),
        failed_lines: summary.failed,
        position: summary.position,
    };
    let response = Json(answer).into_response();
    // History is always recorded late: the upload is flagged in the audit trail with its reason.
    Ok(if written > 0 { casetrack_web::access::late_entry(response, days_late, &late_reason) } else { response })
}

#[derive(OpenApi)]
#[openapi(paths(hub_history, service_history), components(schemas(HistoryImported, RejectedRow)))]
struct HistoryApi;

/// The upload routes of the areas this process runs: the hub's when it runs the hub, a specialist service's when
/// it runs any.
pub fn service(ctx: &Context, rules: Rules, hub: bool, specialist: bool) -> Service {
    let limit = || axum::extract::DefaultBodyLimit::max(casetrack_web::http::UPLOAD_LIMIT);
    let mut routes = Routes::new();
    if hub {
        routes = routes.route("/api/hub/history", Permission::HubManagement, post(hub_history).layer(limit()));
    }
    if specialist {
        routes = routes.route(
            "/api/specialist/{service}/history",
            Permission::ServiceManagement,
            post(service_history).layer(limit()),
        );
    }
    let mut service = Service::new("history").with_routes(routes.with_state(Upload { ctx: ctx.clone(), rules }));
    service.openapi = HistoryApi::openapi();
    service
}

//! The reporting JSON API: `GET /api/reporting/summary`. Parameters are read by `params`, figures by `views`.

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::get;
use casetrack_proto::Role;
use casetrack_web::Context;
use casetrack_web::access::{Permission, Routes};
use casetrack_web::http::{ApiError, ErrorBody, wait_for};
use utoipa::OpenApi;

use crate::params::SummaryParams;
use crate::views::report::{
    Breakdown, Caseload, CodeGroup, FirstContact, Outcome, Report, ServiceReport, VictimsCode, publish, report,
};

#[derive(OpenApi)]
#[openapi(
    paths(summary),
    components(schemas(Report, ServiceReport, Breakdown, FirstContact, VictimsCode, CodeGroup, Caseload, Outcome))
)]
struct ReportingApi;

pub fn openapi() -> utoipa::openapi::OpenApi {
    ReportingApi::openapi()
}

pub fn router(ctx: Context, threshold: u64) -> Routes {
    Routes::new().route("/api/reporting/summary", Permission::Figures, get(summary)).with_state((ctx, threshold))
}

/// Pathway figures per service for a period: the cohort funnel, distinct victims, time to first contact, outcome
/// measures and activity counts, optionally broken down by one dimension. Every figure's counting rule is in
/// docs/metrics.md. For a commissioner, small counts (1 to the threshold minus one) are the string "<5", and counts
/// that would give one away are "[c]".
#[utoipa::path(get, path = "/api/reporting/summary", params(SummaryParams),
    responses((status = 200, body = Report), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn summary(
    State((ctx, threshold)): State<(Context, u64)>,
    Query(params): Query<SummaryParams>,
) -> Result<Json<Report>, ApiError> {
    let request = params.request()?;
    wait_for(&ctx, "reporting.pathway", params.wait_for).await?;
    wait_for(&ctx, "reporting.cohort", params.wait_for).await?;
    let report = report(&ctx, &request).await?;
    // A commissioner never sees a small count, nor one that gives a small count away.
    if casetrack_web::access::current().is_some_and(|p| p.account.role == Role::Commissioner) {
        return Ok(Json(publish(report, threshold)));
    }
    Ok(Json(report))
}

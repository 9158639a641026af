//! The reporting JSON API.

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::get;
use casetrack_platform::Context;
use casetrack_platform::access::{Permission, Routes};
use casetrack_platform::http::{ApiError, ErrorBody, wait_for};
use casetrack_proto::Role;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use crate::report::{Breakdown, Caseload, FirstContact, Outcome, Report, Request, ServiceReport, publish, report};

#[derive(OpenApi)]
#[openapi(paths(summary), components(schemas(Report, ServiceReport, Breakdown, FirstContact, Caseload, Outcome)))]
struct ReportingApi;

pub fn openapi() -> utoipa::openapi::OpenApi {
    ReportingApi::openapi()
}

pub fn router(ctx: Context, threshold: u64) -> Routes {
    let state = crate::pages::FiguresState { ctx: ctx.clone(), threshold };
    Routes::new()
        .route("/api/reporting/summary", Permission::Figures, get(summary))
        .with_state((ctx, threshold))
        .merge(crate::pages::routes(state))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct SummaryParams {
    /// First day of the period, YYYY-MM-DD (days in England and Wales).
    #[serde(default)]
    pub from: String,
    /// Last day of the period, YYYY-MM-DD (included).
    #[serde(default)]
    pub to: String,
    /// A named period instead of from and to: `2026-07`, `FY2026-27` or `FY2026-27 Q1`.
    #[serde(default)]
    pub period: String,
    /// Only this service (`hub`, `idva`, ...).
    #[serde(default)]
    pub service: String,
    /// Break the funnel down by one dimension: source, offence, domestic_abuse, age_band, gender, ethnic_group,
    /// bame, disability or repeat_victim.
    #[serde(default)]
    pub by: String,
    /// Wait (up to 5 s) until the figures include this log position.
    pub wait_for: Option<u64>,
}

pub(crate) fn parse_day(value: &str, field: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::rejected("date_invalid", format!("Enter {field} as YYYY-MM-DD, for example 2026-04-01."))
    })
}

impl SummaryParams {
    /// The request these parameters make, or which rule they break.
    pub fn request(&self) -> Result<Request, ApiError> {
        let (from, to) = match self.period.trim() {
            "" => (parse_day(&self.from, "the start date")?, parse_day(&self.to, "the end date")?),
            text => {
                let period =
                    crate::periods::parse(text).map_err(|problem| ApiError::rejected("period_invalid", problem))?;
                (period.from, period.to)
            }
        };
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let request = Request { from, to, service: text(&self.service), by: text(&self.by) };
        request.check()?;
        Ok(request)
    }
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
    if casetrack_platform::access::current().is_some_and(|p| p.account.role == Role::Commissioner) {
        return Ok(Json(publish(report, threshold)));
    }
    Ok(Json(report))
}

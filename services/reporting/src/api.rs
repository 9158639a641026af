//! The reporting JSON API.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::get;
use casetrack_platform::Context;
use casetrack_platform::access::{Permission, Routes};
use casetrack_platform::http::{ApiError, ErrorBody, wait_for};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::pathway::figure;

#[derive(OpenApi)]
#[openapi(paths(summary), components(schemas(Summary, ServiceFigures)))]
struct ReportingApi;

pub fn openapi() -> utoipa::openapi::OpenApi {
    ReportingApi::openapi()
}

pub fn router(ctx: Context, threshold: u64) -> Routes {
    let pages = Routes::new()
        .route("/figures", Permission::Figures, get(crate::pages::figures_page))
        .with_state(crate::pages::FiguresState { ctx: ctx.clone(), threshold });
    Routes::new()
        .route("/api/reporting/summary", Permission::Figures, get(summary))
        .with_state((ctx, threshold))
        .merge(pages)
}

#[derive(Deserialize, IntoParams)]
pub struct SummaryParams {
    /// First day of the period, YYYY-MM-DD (counted by calendar month for now: the month containing it).
    pub from: String,
    /// Last day of the period, YYYY-MM-DD (the month containing it is included).
    pub to: String,
    /// Wait (up to 5 s) until the figures include this log position.
    pub wait_for: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct Summary {
    pub from: String,
    pub to: String,
    pub services: Vec<ServiceFigures>,
}

#[derive(Serialize, ToSchema, Default)]
pub struct ServiceFigures {
    pub service: String,
    pub referrals_received: i64,
    pub contact_attempts: i64,
    pub contacted: i64,
    pub supported: i64,
    pub declined: i64,
    pub unable_to_contact: i64,
    pub no_safe_contact: i64,
    pub closed: i64,
    pub self_referrals: i64,
    pub self_referrals_reported_to_police: i64,
    pub onward_referrals: BTreeMap<String, i64>,
    pub cases_opened: i64,
    pub needs_assessed: i64,
    pub support_sessions: i64,
    pub outreach_sent: i64,
    /// Every other figure of the service (specialist services' figures: docs/metrics.md).
    #[serde(flatten)]
    pub other: BTreeMap<String, i64>,
}

pub(crate) fn parse_day(value: &str, field: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        ApiError::rejected("date_invalid", format!("Enter {field} as YYYY-MM-DD, for example 2026-04-01."))
    })
}

/// Pathway figures per service for a period. Every figure's counting rule is in docs/metrics.md. For a
/// commissioner, counts from 1 to 4 (the threshold in force minus one) are the string "<5".
#[utoipa::path(get, path = "/api/reporting/summary", params(SummaryParams),
    responses((status = 200, body = Summary), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn summary(
    State((ctx, threshold)): State<(Context, u64)>,
    Query(params): Query<SummaryParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let from = parse_day(&params.from, "the start date")?;
    let to = parse_day(&params.to, "the end date")?;
    if from > to {
        return Err(ApiError::rejected("period_reversed", "The start date must be on or before the end date."));
    }
    wait_for(&ctx, "reporting.pathway", params.wait_for).await?;
    let services = figures(&ctx, from, to).await?;
    let mut summary =
        serde_json::to_value(Summary { from: params.from, to: params.to, services }).map_err(ApiError::unavailable)?;
    // A commissioner never sees a small count: it is the string "<5" (for the threshold in force) instead.
    if casetrack_platform::access::current().is_some_and(|p| p.account.role == casetrack_proto::Role::Commissioner) {
        suppress_small(&mut summary, threshold);
    }
    Ok(Json(summary))
}

/// Replaces every count from 1 to threshold - 1 in `value` by "<threshold".
pub fn suppress_small(value: &mut serde_json::Value, threshold: u64) {
    match value {
        serde_json::Value::Number(n)
            if n.as_u64()
                .is_some_and(|n| crate::suppression::one(n, threshold) == crate::suppression::Shown::Small) =>
        {
            *value = serde_json::Value::String(crate::suppression::Shown::Small.text(threshold));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| suppress_small(item, threshold)),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(|field| suppress_small(field, threshold)),
        _ => {}
    }
}

/// The figures per service for the months from `from` to `to` (by calendar month for now).
pub async fn figures(ctx: &Context, from: NaiveDate, to: NaiveDate) -> Result<Vec<ServiceFigures>, ApiError> {
    let rows = sqlx::query(
        "SELECT service, figure, CAST(SUM(value) AS BIGINT) FROM reporting_monthly WHERE month >= $1 AND month <= $2 \
         GROUP BY service, figure ORDER BY service, figure",
    )
    .bind(from.format("%Y-%m").to_string())
    .bind(to.format("%Y-%m").to_string())
    .fetch_all(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?;
    let mut services: BTreeMap<String, ServiceFigures> = BTreeMap::new();
    for row in rows {
        let service: String = row.get(0);
        let name: String = row.get(1);
        let value: i64 = row.get(2);
        let entry = services.entry(service.clone()).or_insert_with(|| ServiceFigures { service, ..Default::default() });
        let slot = match name.as_str() {
            figure::REFERRALS_RECEIVED => &mut entry.referrals_received,
            figure::CONTACT_ATTEMPTS => &mut entry.contact_attempts,
            figure::CONTACTED => &mut entry.contacted,
            figure::SUPPORTED => &mut entry.supported,
            figure::DECLINED => &mut entry.declined,
            figure::UNABLE_TO_CONTACT => &mut entry.unable_to_contact,
            figure::NO_SAFE_CONTACT => &mut entry.no_safe_contact,
            figure::CLOSED => &mut entry.closed,
            figure::SELF_REFERRALS => &mut entry.self_referrals,
            figure::SELF_REFERRALS_REPORTED => &mut entry.self_referrals_reported_to_police,
            figure::CASES_OPENED => &mut entry.cases_opened,
            figure::NEEDS_ASSESSED => &mut entry.needs_assessed,
            figure::SUPPORT_SESSIONS => &mut entry.support_sessions,
            figure::OUTREACH_SENT => &mut entry.outreach_sent,
            other => match other.strip_prefix(figure::ONWARD_PREFIX) {
                Some(target) => entry.onward_referrals.entry(target.to_owned()).or_default(),
                None => entry.other.entry(other.to_owned()).or_default(),
            },
        };
        *slot = value;
    }
    Ok(services.into_values().collect())
}

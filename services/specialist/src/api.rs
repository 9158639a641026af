//! The specialist services' JSON API.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use casetrack_platform::Context;
use casetrack_platform::http::{ApiError, ErrorBody, wait_for};
use casetrack_proto::ServiceCode;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(paths(list_cases), components(schemas(CaseView)))]
struct SpecialistApi;

pub fn openapi() -> utoipa::openapi::OpenApi {
    SpecialistApi::openapi()
}

#[derive(Clone)]
struct State_ {
    ctx: Context,
    services: Vec<ServiceCode>,
}

pub fn router(ctx: Context, services: Vec<ServiceCode>) -> Router {
    Router::new().route("/api/specialist/{service}/cases", get(list_cases)).with_state(State_ { ctx, services })
}

#[derive(Deserialize, IntoParams)]
pub struct ReadParams {
    /// Wait (up to 5 s) until the read model has applied this log position.
    pub wait_for: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct CaseView {
    pub case_id: String,
    pub service: String,
    pub person_id: String,
    pub referral_id: Option<String>,
    pub origin: String,
    pub opened_at: String,
}

/// The cases of one specialist service, newest first.
#[utoipa::path(get, path = "/api/specialist/{service}/cases",
    params(("service" = String, Path, description = "service code, e.g. idva"), ReadParams),
    responses((status = 200, body = [CaseView]), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn list_cases(
    State(state): State<State_>,
    Path(service): Path<String>,
    Query(params): Query<ReadParams>,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    let service = state
        .services
        .iter()
        .find(|code| code.as_str() == service)
        .ok_or_else(|| ApiError::not_found("This service is not run here."))?;
    let projection = format!("specialist.cases.{service}");
    let name = state.ctx.projections.all().into_iter().find(|s| s.name() == projection).map(|s| s.name());
    if let Some(name) = name {
        wait_for(&state.ctx, name, params.wait_for).await?;
    }
    let rows = sqlx::query(
        "SELECT case_id, service, person_id, referral_id, origin, opened_at FROM specialist_cases WHERE service = $1 \
         ORDER BY opened_at DESC, case_id LIMIT 500",
    )
    .bind(service.as_str())
    .fetch_all(state.ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?;
    Ok(Json(
        rows.iter()
            .map(|r| CaseView {
                case_id: r.get(0),
                service: r.get(1),
                person_id: r.get(2),
                referral_id: r.get(3),
                origin: r.get(4),
                opened_at: r.get(5),
            })
            .collect(),
    ))
}

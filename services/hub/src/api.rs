//! The hub's JSON API.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use casetrack_platform::Context;
use casetrack_platform::command::{CommandMeta, execute};
use casetrack_platform::http::{ApiError, ErrorBody, wait_for};
use casetrack_proto::hub::{OffenceCategory, ReferralReceived, ReferralSource};
use casetrack_proto::{Actor, PersonId, ReferralId, Role, ServiceCode};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::referral::{Referral, receive, refer_on};

#[derive(OpenApi)]
#[openapi(
    paths(receive_referral, refer_on_route, get_referral),
    components(schemas(ReceiveReferralRequest, OnwardReferralRequest, Written, ReferralView, OnwardReferralView))
)]
struct HubApi;

pub fn openapi() -> utoipa::openapi::OpenApi {
    HubApi::openapi()
}

pub fn router(ctx: Context) -> Router {
    Router::new()
        .route("/api/hub/referrals", post(receive_referral))
        .route("/api/hub/referrals/{referral_id}", get(get_referral))
        .route("/api/hub/referrals/{referral_id}/onward-referrals", post(refer_on_route))
        .with_state(ctx)
}

fn actor() -> Actor {
    // Until accounts arrive (issue 6), API callers act as a hub officer.
    Actor { user_id: None, role: Role::HubOfficer }
}

#[derive(Deserialize, ToSchema)]
pub struct ReceiveReferralRequest {
    #[schema(value_type = uuid::Uuid)]
    pub person_id: PersonId,
    #[schema(value_type = String, example = "police_feed")]
    pub source: ReferralSource,
    #[schema(value_type = Option<String>, example = "violence_with_injury")]
    pub offence_category: Option<OffenceCategory>,
    pub domestic_abuse: bool,
    pub crime_reference: Option<String>,
    /// YYYY-MM-DD
    pub crime_reported_on: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
pub struct Written {
    #[schema(value_type = uuid::Uuid)]
    pub referral_id: ReferralId,
    /// Log position of the change: pass it as `wait_for` to read your own write.
    pub position: u64,
}

/// Receives a referral for a registered person.
#[utoipa::path(post, path = "/api/hub/referrals", request_body = ReceiveReferralRequest,
    responses((status = 201, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn receive_referral(
    State(ctx): State<Context>,
    Json(request): Json<ReceiveReferralRequest>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let now = chrono::Utc::now();
    let crime_reference = request.crime_reference.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if crime_reference.as_ref().is_some_and(|r| r.len() > 64) {
        return Err(ApiError::rejected(
            "crime_reference_too_long",
            "The crime reference can be at most 64 characters.",
        ));
    }
    if request.crime_reported_on.is_some_and(|d| d > now.date_naive()) {
        return Err(ApiError::rejected(
            "crime_reported_in_future",
            "The date the crime was reported cannot be in the future.",
        ));
    }
    let referral_id = ReferralId::new();
    let received = ReferralReceived {
        referral_id,
        person_id: request.person_id,
        source: request.source,
        offence_category: request.offence_category,
        domestic_abuse: request.domestic_abuse,
        crime_reference,
        crime_reported_on: request.crime_reported_on,
    };
    let meta = CommandMeta::new(actor(), now);
    let executed =
        execute::<Referral, _>(&ctx.log, referral_id.0, &meta, |state| receive(state, received.clone())).await?;
    Ok((StatusCode::CREATED, Json(Written { referral_id, position: executed.position.map_or(0, |p| p.0) })))
}

#[derive(Deserialize, ToSchema)]
pub struct OnwardReferralRequest {
    /// Service code: idva, isva, stalking, rj, or a configured service.
    #[schema(value_type = String, example = "idva")]
    pub service: ServiceCode,
}

/// Refers the victim on to a specialist service; the service opens a case and the hub sees it (closed loop).
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/onward-referrals", request_body = OnwardReferralRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 201, body = Written), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn refer_on_route(
    State(ctx): State<Context>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<OnwardReferralRequest>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let meta = CommandMeta::new(actor(), chrono::Utc::now());
    let executed = execute::<Referral, _>(&ctx.log, referral_id.0, &meta, |state| {
        refer_on(state, referral_id, request.service.clone())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Written { referral_id, position: executed.position.map_or(0, |p| p.0) })))
}

#[derive(Deserialize, IntoParams)]
pub struct ReadParams {
    /// Wait (up to 5 s) until the read model has applied this log position.
    pub wait_for: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ReferralView {
    pub referral_id: String,
    pub person_id: String,
    pub source: String,
    pub offence_category: Option<String>,
    pub domestic_abuse: bool,
    pub crime_reference: Option<String>,
    pub crime_reported_on: Option<String>,
    pub received_at: String,
    pub onward_referrals: Vec<OnwardReferralView>,
}

#[derive(Serialize, ToSchema)]
pub struct OnwardReferralView {
    pub service: String,
    pub referred_at: String,
    /// Set once the specialist service has opened a case.
    pub case_id: Option<String>,
    pub case_opened_at: Option<String>,
}

/// One referral with the outcome of each onward referral.
#[utoipa::path(get, path = "/api/hub/referrals/{referral_id}",
    params(("referral_id" = uuid::Uuid, Path, description = "the referral"), ReadParams),
    responses((status = 200, body = ReferralView), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn get_referral(
    State(ctx): State<Context>,
    Path(referral_id): Path<ReferralId>,
    Query(params): Query<ReadParams>,
) -> Result<Json<ReferralView>, ApiError> {
    wait_for(&ctx, "hub.referrals", params.wait_for).await?;
    let id = referral_id.to_string();
    let row = sqlx::query(
        "SELECT referral_id, person_id, source, offence_category, domestic_abuse, crime_reference, crime_reported_on, received_at \
         FROM hub_referrals WHERE referral_id = $1",
    )
    .bind(&id)
    .fetch_optional(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?
    .ok_or_else(|| ApiError::not_found("There is no such referral."))?;
    let onward = sqlx::query(
        "SELECT service, referred_at, case_id, case_opened_at FROM hub_onward_referrals WHERE referral_id = $1 ORDER BY referred_at, service",
    )
    .bind(&id)
    .fetch_all(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?;
    Ok(Json(ReferralView {
        referral_id: row.get(0),
        person_id: row.get(1),
        source: row.get(2),
        offence_category: row.get(3),
        domestic_abuse: row.get::<i64, _>(4) != 0,
        crime_reference: row.get(5),
        crime_reported_on: row.get(6),
        received_at: row.get(7),
        onward_referrals: onward
            .iter()
            .map(|r| OnwardReferralView {
                service: r.get(0),
                referred_at: r.get(1),
                case_id: r.get(2),
                case_opened_at: r.get(3),
            })
            .collect(),
    }))
}

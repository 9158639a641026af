//! The people JSON API.

use axum::extract::State;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use casetrack_platform::Context;
use casetrack_platform::command::{CommandMeta, execute};
use casetrack_platform::http::wait_for;
use casetrack_platform::http::{ApiError, ErrorBody};
use casetrack_proto::people::DuplicateDecision;
use casetrack_proto::{Actor, PersonId, Role};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::IntoParams;
use utoipa::{OpenApi, ToSchema};

use crate::person::{Person, PersonalDetails, decide_duplicate};

#[derive(OpenApi)]
#[openapi(
    paths(register_person, candidates_route, decide_route),
    components(schemas(RegisterPersonRequest, PersonRegisteredResponse, Candidate, DecisionRequest, Decided))
)]
struct PeopleApi;

pub fn openapi() -> utoipa::openapi::OpenApi {
    PeopleApi::openapi()
}

pub fn router(ctx: Context) -> Router {
    // Erasure and the subject-access export are `casetrack admin` commands until accounts and permissions exist
    // (issue 6): over HTTP, without them, anyone could read or destroy a victim's details.
    Router::new()
        .route("/api/people", post(register_person))
        .route("/api/people/{person_id}/candidates", axum::routing::get(candidates_route))
        .route("/api/people/{person_id}/candidates/{other_person_id}/decision", post(decide_route))
        .with_state(ctx)
}

/// A person's details as entered. Sealed before they reach the log; never logged.
#[derive(Deserialize, ToSchema)]
pub struct RegisterPersonRequest {
    pub forename: String,
    pub surname: String,
    /// YYYY-MM-DD
    pub date_of_birth: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub postcode: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PersonRegisteredResponse {
    #[schema(value_type = uuid::Uuid)]
    pub person_id: PersonId,
    /// Log position of the registration: pass it as `wait_for` to read your own write.
    pub position: u64,
}

fn validate(request: RegisterPersonRequest, today: NaiveDate) -> Result<PersonalDetails, ApiError> {
    let forename = request.forename.trim().to_owned();
    let surname = request.surname.trim().to_owned();
    if forename.is_empty() || surname.is_empty() {
        return Err(ApiError::rejected("name_required", "Enter the person's forename and surname."));
    }
    let date_of_birth = NaiveDate::parse_from_str(request.date_of_birth.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::rejected("date_of_birth_invalid", "Enter the date of birth as YYYY-MM-DD, for example 1987-04-23.")
    })?;
    if date_of_birth > today {
        return Err(ApiError::rejected("date_of_birth_in_future", "The date of birth cannot be in the future."));
    }
    let tidy = |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    Ok(PersonalDetails {
        forename,
        surname,
        date_of_birth,
        phone: tidy(request.phone),
        email: tidy(request.email),
        address_line: None,
        postcode: tidy(request.postcode).map(|p| p.to_uppercase()),
    })
}

/// Registers a person. Their details are sealed with a key of their own before anything is written.
#[utoipa::path(
    post,
    path = "/api/people",
    request_body = RegisterPersonRequest,
    responses(
        (status = 201, description = "registered", body = PersonRegisteredResponse),
        (status = 422, description = "a rule was broken", body = ErrorBody),
        (status = 503, description = "nothing was saved", body = ErrorBody)
    )
)]
pub async fn register_person(
    State(ctx): State<Context>,
    Json(request): Json<RegisterPersonRequest>,
) -> Result<(StatusCode, Json<PersonRegisteredResponse>), ApiError> {
    let now = chrono::Utc::now();
    let details = validate(request, now.date_naive())?;
    let person_id = PersonId::new();
    // Until accounts arrive (issue 6), API callers act as a hub officer.
    let meta = CommandMeta::new(Actor { user_id: None, role: Role::HubOfficer }, now);
    let executed = crate::person::register_sealed(&ctx, person_id, &details, &meta).await?;
    let position = executed.position.map(|p| p.0).unwrap_or(0);
    Ok((StatusCode::CREATED, Json(PersonRegisteredResponse { person_id, position })))
}

/// Another record sharing this person's blind match key (same normalised name and date of birth).
#[derive(Serialize, ToSchema)]
pub struct Candidate {
    pub person_id: String,
    pub registered_at: String,
    /// linked, rejected, or absent while nobody has decided.
    pub decision: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct ReadParams {
    /// Wait (up to 5 s) until the read model has applied this log position.
    pub wait_for: Option<u64>,
}

/// Candidate duplicates of a person, for a person to decide on. Only ids and dates: no personal details.
#[utoipa::path(get, path = "/api/people/{person_id}/candidates",
    params(("person_id" = uuid::Uuid, Path, description = "the person"), ReadParams),
    responses((status = 200, body = [Candidate]), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn candidates_route(
    State(ctx): State<Context>,
    Path(person_id): Path<PersonId>,
    Query(params): Query<ReadParams>,
) -> Result<Json<Vec<Candidate>>, ApiError> {
    wait_for(&ctx, "people.directory", params.wait_for).await?;
    let me = person_id.to_string();
    let known: Option<(Option<String>,)> = sqlx::query_as("SELECT match_key FROM people WHERE person_id = $1")
        .bind(&me)
        .fetch_optional(ctx.db.pool())
        .await
        .map_err(ApiError::unavailable)?;
    let Some((match_key,)) = known else { return Err(ApiError::not_found("There is no such person.")) };
    let Some(match_key) = match_key else { return Ok(Json(Vec::new())) };
    let rows = sqlx::query(
        "SELECT p.person_id, p.registered_at, d.decision FROM people p \
         LEFT JOIN people_duplicate_decisions d ON d.person_id = $1 AND d.other_person_id = p.person_id \
         WHERE p.match_key = $2 AND p.person_id <> $1 AND p.erased_at IS NULL ORDER BY p.registered_at, p.person_id",
    )
    .bind(&me)
    .bind(&match_key)
    .fetch_all(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?;
    Ok(Json(
        rows.iter().map(|r| Candidate { person_id: r.get(0), registered_at: r.get(1), decision: r.get(2) }).collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionRequest {
    /// linked (the same person) or rejected (a different person).
    #[schema(value_type = String, example = "linked")]
    pub decision: DuplicateDecision,
}

#[derive(Serialize, ToSchema)]
pub struct Decided {
    pub position: u64,
}

/// Records whether a candidate is the same person.
#[utoipa::path(post, path = "/api/people/{person_id}/candidates/{other_person_id}/decision", request_body = DecisionRequest,
    params(("person_id" = uuid::Uuid, Path, description = "the person"), ("other_person_id" = uuid::Uuid, Path, description = "the candidate")),
    responses((status = 200, body = Decided), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn decide_route(
    State(ctx): State<Context>,
    Path((person_id, other)): Path<(PersonId, PersonId)>,
    Json(request): Json<DecisionRequest>,
) -> Result<Json<Decided>, ApiError> {
    // A candidate shares the match key and is not erased (looked up here; the decision itself stays pure).
    let shared: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM people a JOIN people b ON a.match_key = b.match_key \
         WHERE a.person_id = $1 AND b.person_id = $2 AND b.erased_at IS NULL",
    )
    .bind(person_id.to_string())
    .bind(other.to_string())
    .fetch_one(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?;
    let meta = CommandMeta::new(Actor { user_id: None, role: Role::HubOfficer }, chrono::Utc::now());
    let executed = execute::<Person, _>(&ctx.log, person_id.0, &meta, |state| {
        decide_duplicate(state, person_id, other, shared > 0, request.decision)
    })
    .await?;
    Ok(Json(Decided { position: executed.position.map_or(0, |p| p.0) }))
}

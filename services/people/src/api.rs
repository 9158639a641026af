//! The people JSON API.

use axum::Json;
use axum::extract::State;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::post;
use casetrack_eventstore::command::CommandMeta;
use casetrack_proto::PersonId;
use casetrack_proto::people::DuplicateDecision;
use casetrack_web::Context;
use casetrack_web::access::{Routes, acting};
use casetrack_web::http::wait_for;
use casetrack_web::http::{ApiError, ErrorBody};
use casetrack_web::paging::{KeyValue, PageParams, Paged};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa::{OpenApi, ToSchema};

use crate::records::Candidate;

#[derive(OpenApi)]
#[openapi(
    paths(register_person, candidates_route, decide_route),
    components(schemas(
        RegisterPersonRequest,
        PersonRegisteredResponse,
        Candidate,
        CandidatePage,
        DecisionRequest,
        Decided
    ))
)]
struct PeopleApi;

pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    PeopleApi::openapi()
}

pub(crate) fn router(ctx: Context) -> Routes {
    use casetrack_web::access::Permission::HubWork;
    Routes::new()
        .route("/api/people", HubWork, post(register_person))
        .person("/api/people/{person_id}/candidates", HubWork, axum::routing::get(candidates_route))
        .route("/api/people/{person_id}/candidates/{other_person_id}/decision", HubWork, post(decide_route))
        .with_state(ctx)
}

/// A person's details as entered. Sealed before they reach the log; never logged.
pub type RegisterPersonRequest = crate::person::DetailsInput;

#[derive(Serialize, ToSchema)]
pub struct PersonRegisteredResponse {
    #[schema(value_type = uuid::Uuid)]
    pub person_id: PersonId,
    /// Log position of the registration: pass it as `wait_for` to read your own write.
    pub position: u64,
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
pub(crate) async fn register_person(
    State(ctx): State<Context>,
    Json(request): Json<RegisterPersonRequest>,
) -> Result<(StatusCode, Json<PersonRegisteredResponse>), ApiError> {
    Ok((StatusCode::CREATED, Json(register(&ctx, &request).await?)))
}

/// Registers a person (their details sealed with a new data key), as the signed-in user.
pub async fn register(ctx: &Context, request: &RegisterPersonRequest) -> Result<PersonRegisteredResponse, ApiError> {
    let now = casetrack_eventstore::clock::now();
    let details = crate::person::parse_details(request, now.date_naive()).map_err(|problems| {
        let first = &problems[0];
        ApiError::rejected(first.code, first.message.clone())
    })?;
    let person_id = PersonId(casetrack_eventstore::command::new_id());
    let meta = CommandMeta::new(acting(), now);
    let executed = crate::person::register_sealed(ctx, person_id, &details, &meta).await?;
    let position = executed.position.map(|p| p.0).unwrap_or(0);
    Ok(PersonRegisteredResponse { person_id, position })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReadParams {
    /// Wait (up to 5 s) until the read model has applied this log position.
    pub wait_for: Option<u64>,
}

/// Candidate duplicates of a person, for a person to decide on, oldest first, a page at a time. Only ids and dates:
/// no personal details.
#[utoipa::path(get, path = "/api/people/{person_id}/candidates",
    params(("person_id" = uuid::Uuid, Path, description = "the person"), ReadParams, PageParams),
    responses((status = 200, body = CandidatePage), (status = 404, body = ErrorBody),
        (status = 422, description = "page_size above 500, or a cursor this list did not give", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(crate) async fn candidates_route(
    State(ctx): State<Context>,
    Path(person_id): Path<PersonId>,
    Query(params): Query<ReadParams>,
    Query(page): Query<PageParams>,
) -> Result<Json<Paged<Candidate>>, ApiError> {
    // A person has few candidates (the same name and date of birth): read whole, paged here.
    let page = page.page("people.candidates")?;
    wait_for(&ctx, "people.directory", params.wait_for).await?;
    match crate::records::candidates(&ctx, person_id).await.map_err(ApiError::unavailable)? {
        Some(candidates) => Ok(Json(page.of_sorted(candidates, |c| {
            vec![KeyValue::from(c.registered_at.as_str()), KeyValue::from(c.person_id.as_str())]
        }))),
        None => Err(ApiError::not_found("There is no such person.")),
    }
}

/// A page of candidates, as [`candidates_route`] answers it (for the OpenAPI document).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct CandidatePage {
    items: Vec<Candidate>,
    /// Pass it as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
    /// How many candidates there are now (every page).
    total: u64,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct DecisionRequest {
    /// linked (the same person) or rejected (a different person).
    #[schema(value_type = String, example = "linked")]
    pub decision: DuplicateDecision,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Decided {
    pub position: u64,
}

/// Records whether a candidate is the same person.
#[utoipa::path(post, path = "/api/people/{person_id}/candidates/{other_person_id}/decision", request_body = DecisionRequest,
    params(("person_id" = uuid::Uuid, Path, description = "the person"), ("other_person_id" = uuid::Uuid, Path, description = "the candidate")),
    responses((status = 200, body = Decided), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn decide_route(
    State(ctx): State<Context>,
    Path((person_id, other)): Path<(PersonId, PersonId)>,
    Json(request): Json<DecisionRequest>,
) -> Result<Json<Decided>, ApiError> {
    let meta = CommandMeta::new(acting(), casetrack_eventstore::clock::now());
    let executed = crate::records::decide(&ctx, person_id, other, request.decision, &meta).await?;
    Ok(Json(Decided { position: executed.position.map_or(0, |p| p.0) }))
}

//! The people JSON API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use casetrack_platform::Context;
use casetrack_platform::command::CommandMeta;
use casetrack_platform::http::{ApiError, ErrorBody};
use casetrack_proto::{Actor, PersonId, Role};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::person::PersonalDetails;

#[derive(OpenApi)]
#[openapi(paths(register_person), components(schemas(RegisterPersonRequest, PersonRegisteredResponse)))]
struct PeopleApi;

pub fn openapi() -> utoipa::openapi::OpenApi {
    PeopleApi::openapi()
}

pub fn router(ctx: Context) -> Router {
    // Erasure and the subject-access export are `casetrack admin` commands until accounts and permissions exist
    // (issue 6): over HTTP, without them, anyone could read or destroy a victim's details.
    Router::new().route("/api/people", post(register_person)).with_state(ctx)
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

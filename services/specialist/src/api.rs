//! The specialist services' JSON API, one set of routes per service: `/api/specialist/{service}/...`: a thin adapter
//! over [`crate::commands`] (and the kinds' commands in [`crate::kinds`]) and [`crate::views`].
//!
//! Every route names its service, and a case is only found through its own service: asking another service's
//! routes for it answers 404, for reading and for every change. (Who may use which service's routes arrives with
//! accounts, issue 6; until then callers act as a caseworker of the service named.)
//!
//! Every command on a case has one route, `POST .../cases/{case_id}/<action>`, answered by one generic handler
//! ([`with_body`], or [`optional_body`] for a command whose request only says when) that gives the command through
//! [`Desk::run`]; the table in [`case_commands!`] lists them with their OpenAPI entries. Every command that records
//! something from the world says when it happened (`occurred_at`, or the date its request carries) and, beyond the
//! back-dating window, why it is recorded late (`late_reason`): such a late entry is marked on the response for
//! the audit trail ([`CaseWritten::mark`]).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use casetrack_proto::CaseId;
use casetrack_web::access::Permission::ServiceWork;
use casetrack_web::access::Routes;
use casetrack_web::http::{ApiError, ErrorBody};
use casetrack_web::paging::{PageParams, Paged};
use serde::de::DeserializeOwned;
use utoipa::OpenApi;

use crate::commands::allocate::CaseworkerRequest;
use crate::commands::casework::{InterventionRequest, NoteRequest, TextRequest};
use crate::commands::close::{CloseAnswer, CloseRequest};
use crate::commands::contact::{AttemptRequest, SafeContactRequest, SupportDeclined, UnableToContact};
use crate::commands::decision::{Accept, Decline, ReasonRequest, Reopen, Withdraw};
use crate::commands::open_direct::{DirectReferralRequest, NewVictimReferralRequest, NewVictimWritten};
use crate::commands::when::WhenRequest;
use crate::commands::{CaseCommand, CaseWritten, DateRequest};
use crate::kinds::RiskRequest;
use crate::kinds::idva::{MaracHearing, MaracReferral};
use crate::kinds::isva::CjsRequest;
use crate::kinds::rj::{OffenderConsentRequest, RjFormRequest, RjInformation, RjOutcomeRequest, SuitabilityRequest};
use crate::kinds::stalking::SpoRequest;
/// Kept here too for callers that name it by its old path (`casetrack demo`).
pub use crate::state::Desk;
use crate::views::cases::{self, CaseView, ListParams, ReadParams};

pub fn openapi() -> utoipa::openapi::OpenApi {
    SpecialistApi::openapi()
}

/// The API's routes (state added by the caller).
pub fn routes() -> Routes<Desk> {
    let routes = Routes::new()
        .person("/api/specialist/{service}/cases", ServiceWork, get(list_cases).post(refer_directly))
        .route("/api/specialist/{service}/new-victim-referrals", ServiceWork, post(refer_new_victim))
        .person("/api/specialist/{service}/cases/{case_id}", ServiceWork, get(get_case));
    case_command_routes(routes)
}

/// The caseload of one service, a page at a time: every case, the unallocated ones, one caseworker's, or those due
/// for review; follow `next_cursor` for the next page.
#[utoipa::path(get, path = "/api/specialist/{service}/cases",
    params(("service" = String, Path, description = "service code, e.g. idva"), ListParams, PageParams),
    responses((status = 200, body = CasePage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "page_size above 500, or a cursor this caseload did not give", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn list_cases(
    State(desk): State<Desk>,
    Path(service): Path<String>,
    Query(params): Query<ListParams>,
    Query(page): Query<PageParams>,
) -> Result<Json<Paged<CaseView>>, ApiError> {
    Ok(Json(cases::caseload_page(&desk, &service, &params, &page).await?))
}

/// A page of a caseload, as [`list_cases`] answers it (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct CasePage {
    items: Vec<CaseView>,
    /// Pass it as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
    /// How many cases the list holds now, with these filters (every page).
    total: u64,
}

/// One case of this service.
#[utoipa::path(get, path = "/api/specialist/{service}/cases/{case_id}",
    params(("service" = String, Path, description = "service code"), ("case_id" = uuid::Uuid, Path, description = "the case"), ReadParams),
    responses((status = 200, body = CaseView), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn get_case(
    State(desk): State<Desk>,
    Path((service, case_id)): Path<(String, CaseId)>,
    Query(params): Query<ReadParams>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(cases::case(&desk, &service, case_id, &params).await?))
}

/// A referral made directly to the service (police, MARAC, partner, self) about a registered person, dated when it
/// was received (`occurred_at`). Refused (422) for a person id nobody is registered under, or an erased person.
#[utoipa::path(post, path = "/api/specialist/{service}/cases", request_body = DirectReferralRequest,
    params(("service" = String, Path, description = "service code")),
    responses((status = 201, body = CaseWritten), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn refer_directly(
    State(desk): State<Desk>,
    Path(service): Path<String>,
    Json(request): Json<DirectReferralRequest>,
) -> Result<Response, ApiError> {
    let written = desk.refer_directly(&service, request).await?;
    Ok(written.mark((StatusCode::CREATED, Json(&written))))
}

/// A referral made directly to the service about a victim not registered yet: registers them (their details sealed,
/// matched against people already registered for a person to decide on duplicates) and opens the case, dated when
/// the referral was received (`occurred_at`). Sending it again with the same `submission_id` creates nothing twice.
#[utoipa::path(post, path = "/api/specialist/{service}/new-victim-referrals", request_body = NewVictimReferralRequest,
    params(("service" = String, Path, description = "service code")),
    responses((status = 201, body = NewVictimWritten), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn refer_new_victim(
    State(desk): State<Desk>,
    Path(service): Path<String>,
    Json(request): Json<NewVictimReferralRequest>,
) -> Result<Response, ApiError> {
    let (person_id, written) = desk.refer_new_victim_request(&service, request).await?;
    let answer = NewVictimWritten { person_id, case_id: written.case_id, position: written.position };
    Ok(written.mark((StatusCode::CREATED, Json(answer))))
}

/// A command on a case whose request is its JSON body.
async fn with_body<C: CaseCommand + DeserializeOwned>(
    State(desk): State<Desk>,
    Path((service, case_id)): Path<(String, CaseId)>,
    Json(command): Json<C>,
) -> Result<Response, ApiError> {
    let written = desk.run(&service, case_id, command).await?;
    Ok(written.mark(Json(&written)))
}

/// A command on a case whose request only says when it happened: sent without a body, it happened now.
async fn optional_body<C: CaseCommand + DeserializeOwned + Default>(
    State(desk): State<Desk>,
    Path((service, case_id)): Path<(String, CaseId)>,
    command: Option<Json<C>>,
) -> Result<Response, ApiError> {
    let command = command.map(|Json(command)| command).unwrap_or_default();
    let written = desk.run(&service, case_id, command).await?;
    Ok(written.mark(Json(&written)))
}

/// The OpenAPI entry of one case command's route (the route itself is answered by a generic handler).
macro_rules! case_command_doc {
    ($(#[$doc:meta])* $name:ident, $path:literal, $request:ty) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, request_body = $request,
            params(("service" = String, Path, description = "service code"), ("case_id" = uuid::Uuid, Path, description = "the case")),
            responses((status = 200, body = CaseWritten), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
                (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
        #[allow(dead_code)]
        fn $name() {}
    };
}

/// The table of case commands: for each, its OpenAPI entry (name, doc, path, request body) and its route (the
/// generic handler for its command); and the API's OpenAPI document, listing them after the other routes.
macro_rules! case_commands {
    ($($(#[$doc:meta])* $name:ident: $path:literal, $request:ty => $handler:expr;)*) => {
        $(case_command_doc!($(#[$doc])* $name, $path, $request);)*

        fn case_command_routes(routes: Routes<Desk>) -> Routes<Desk> {
            routes $(.route($path, ServiceWork, post($handler)))*
        }

        #[derive(OpenApi)]
        #[openapi(
            paths(list_cases, refer_directly, refer_new_victim, get_case, $($name),*),
            components(schemas(
                CaseView,
                CasePage,
                CaseWritten,
                DirectReferralRequest,
                NewVictimReferralRequest,
                NewVictimWritten,
                casetrack_people::DetailsInput,
                WhenRequest,
                ReasonRequest,
                CaseworkerRequest,
                SafeContactRequest,
                AttemptRequest,
                RiskRequest,
                DateRequest,
                TextRequest,
                InterventionRequest,
                NoteRequest,
                CloseRequest,
                CloseAnswer,
                CjsRequest,
                SpoRequest,
                SuitabilityRequest,
                OffenderConsentRequest,
                RjFormRequest,
                RjOutcomeRequest
            ))
        )]
        struct SpecialistApi;
    };
}

case_commands! {
    /// The service takes the referral on (the body, optional, says when).
    accept_route: "/api/specialist/{service}/cases/{case_id}/accept", WhenRequest => optional_body::<Accept>;
    /// The service declines the referral, with the reason (the referrer sees it).
    decline_route: "/api/specialist/{service}/cases/{case_id}/decline", ReasonRequest => with_body::<Decline>;
    /// The referrer withdrew the referral.
    withdraw_route: "/api/specialist/{service}/cases/{case_id}/withdraw", ReasonRequest => with_body::<Withdraw>;
    /// Allocates the case to a caseworker (or re-allocates it).
    allocate_route: "/api/specialist/{service}/cases/{case_id}/allocation", CaseworkerRequest
        => with_body::<CaseworkerRequest>;
    /// Replaces the safe-contact rules with what the victim said.
    safe_contact_route: "/api/specialist/{service}/cases/{case_id}/safe-contact", SafeContactRequest
        => with_body::<SafeContactRequest>;
    /// Records a contact attempt: an unsafe channel, or a call outside the safe times, is refused with the reason.
    attempt_route: "/api/specialist/{service}/cases/{case_id}/contact-attempts", AttemptRequest
        => with_body::<AttemptRequest>;
    /// Unable to contact: refused until the service's attempt rule is met (the body, optional, says when).
    unable_route: "/api/specialist/{service}/cases/{case_id}/unable-to-contact", WhenRequest
        => optional_body::<UnableToContact>;
    /// The victim, once reached, declined support.
    support_declined_route: "/api/specialist/{service}/cases/{case_id}/support-declined", ReasonRequest
        => with_body::<SupportDeclined>;
    /// A risk assessment (DASH, S-DASH or professional), with its review date.
    risk_route: "/api/specialist/{service}/cases/{case_id}/risk-assessments", RiskRequest => with_body::<RiskRequest>;
    /// Refers a high-risk IDVA case to MARAC.
    marac_referral_route: "/api/specialist/{service}/cases/{case_id}/marac-referral", DateRequest
        => with_body::<MaracReferral>;
    /// MARAC heard the case (a repeat within 12 months is flagged).
    marac_hearing_route: "/api/specialist/{service}/cases/{case_id}/marac-hearing", DateRequest
        => with_body::<MaracHearing>;
    /// Records the safety or support plan (kept encrypted).
    plan_route: "/api/specialist/{service}/cases/{case_id}/plan", TextRequest => with_body::<TextRequest>;
    /// Records an intervention against one of the service's needs.
    intervention_route: "/api/specialist/{service}/cases/{case_id}/interventions", InterventionRequest
        => with_body::<InterventionRequest>;
    /// Adds a case note (kept encrypted; restricted notes are marked for review in a subject-access export).
    note_route: "/api/specialist/{service}/cases/{case_id}/notes", NoteRequest => with_body::<NoteRequest>;
    /// Closes the case with a reason and the victim's answers to the service's outcome measures.
    close_route: "/api/specialist/{service}/cases/{case_id}/closure", CloseRequest => with_body::<CloseRequest>;
    /// Opens an ended case again (not one the service declined or the referrer withdrew).
    reopen_route: "/api/specialist/{service}/cases/{case_id}/reopening", ReasonRequest => with_body::<Reopen>;
    /// ISVA: the criminal-justice process reached a stage.
    cjs_route: "/api/specialist/{service}/cases/{case_id}/cjs-stage", CjsRequest => with_body::<CjsRequest>;
    /// Stalking: a Stalking Protection Order applied for, granted or refused.
    spo_route: "/api/specialist/{service}/cases/{case_id}/spo", SpoRequest => with_body::<SpoRequest>;
    /// RJ: the victim was given information about restorative justice (the Victims' Code clock stops).
    rj_information_route: "/api/specialist/{service}/cases/{case_id}/rj/information", DateRequest
        => with_body::<RjInformation>;
    /// RJ: whether restorative justice is suitable and safe here.
    rj_suitability_route: "/api/specialist/{service}/cases/{case_id}/rj/suitability", SuitabilityRequest
        => with_body::<SuitabilityRequest>;
    /// RJ: whether the offender agreed to take part.
    rj_consent_route: "/api/specialist/{service}/cases/{case_id}/rj/offender-consent", OffenderConsentRequest
        => with_body::<OffenderConsentRequest>;
    /// RJ: the form the process takes.
    rj_form_route: "/api/specialist/{service}/cases/{case_id}/rj/form", RjFormRequest => with_body::<RjFormRequest>;
    /// RJ: how the process ended and the victim's satisfaction.
    rj_outcome_route: "/api/specialist/{service}/cases/{case_id}/rj/outcome", RjOutcomeRequest
        => with_body::<RjOutcomeRequest>;
}

//! The hub's JSON API (`/api/hub/referrals`, `/api/hub/queues`): a thin adapter. Each route deserialises its
//! request (the request types live with their commands in `crate::commands`), calls one command or one view, and
//! answers with JSON; the rules are in the commands, the values and the `Referral` aggregate. A command dated
//! beyond the back-dating window marks its answer as a late entry for the audit trail (`Written::mark`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use casetrack_proto::ReferralId;
use casetrack_web::access::Routes;
use casetrack_web::http::{ApiError, ErrorBody};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use crate::commands::allocate::AllocationRequest;
use crate::commands::close::{ClosureAnswer, ClosureRequest};
use crate::commands::contact::{ContactAttemptRequest, OutreachRequest, ReasonRequest};
use crate::commands::handler::Written;
use crate::commands::onward::{ConsentRequest, OnwardReferralRequest};
use crate::commands::police_report::PoliceReportRequest;
use crate::commands::receive::ReceiveReferralRequest;
use crate::commands::safe_contact::SafeContactRequest;
use crate::commands::support::{NeedsRequest, SessionRequest};
use crate::commands::when::WhenRequest;
// `pub`: `casetrack demo` names the hub `casetrack_hub::api::Hub`; `casetrack_hub::Hub` is the same.
pub use crate::state::Hub;
use crate::views;
use crate::views::queues::{Queue, QueueFilter, QueueItem, QueueKind};
use crate::views::referral::{AttemptView, OnwardReferralView, ReferralView};

#[derive(OpenApi)]
#[openapi(
    paths(
        receive_referral,
        get_referral,
        record_attempt_route,
        unable_to_contact_route,
        return_to_referrer_route,
        accept_support_route,
        decline_support_route,
        refer_on_route,
        close_route,
        reported_to_police_route,
        allocate_route,
        safe_contact_route,
        outreach_route,
        consent_route,
        needs_route,
        session_route,
        queue_route
    ),
    components(schemas(
        ReceiveReferralRequest,
        OnwardReferralRequest,
        ContactAttemptRequest,
        ReasonRequest,
        ClosureRequest,
        ClosureAnswer,
        PoliceReportRequest,
        AllocationRequest,
        SafeContactRequest,
        OutreachRequest,
        ConsentRequest,
        NeedsRequest,
        SessionRequest,
        WhenRequest,
        Queue,
        QueueItem,
        Written,
        ReferralView,
        OnwardReferralView,
        AttemptView
    ))
)]
struct HubApi;

pub fn openapi() -> utoipa::openapi::OpenApi {
    HubApi::openapi()
}

/// The JSON api's routes (the state is added by `crate::service_with`, which merges them with the pages').
pub fn routes() -> Routes<Hub> {
    use casetrack_web::access::Permission::HubWork;
    let at = |action: &str| format!("/api/hub/referrals/{{referral_id}}/{action}");
    Routes::new()
        .route("/api/hub/referrals", HubWork, post(receive_referral))
        .person("/api/hub/queues/{queue}", HubWork, get(queue_route))
        .person("/api/hub/referrals/{referral_id}", HubWork, get(get_referral))
        .route(&at("contact-attempts"), HubWork, post(record_attempt_route))
        .route(&at("unable-to-contact"), HubWork, post(unable_to_contact_route))
        .route(&at("return-to-referrer"), HubWork, post(return_to_referrer_route))
        .route(&at("support/accept"), HubWork, post(accept_support_route))
        .route(&at("support/decline"), HubWork, post(decline_support_route))
        .route(&at("onward-referrals"), HubWork, post(refer_on_route))
        .route(&at("closure"), HubWork, post(close_route))
        .route(&at("reported-to-police"), HubWork, post(reported_to_police_route))
        .route(&at("allocation"), HubWork, post(allocate_route))
        .route(&at("safe-contact"), HubWork, post(safe_contact_route))
        .route(&at("outreach"), HubWork, post(outreach_route))
        .route(&at("consent"), HubWork, post(consent_route))
        .route(&at("needs-assessments"), HubWork, post(needs_route))
        .route(&at("support-sessions"), HubWork, post(session_route))
}

/// Receives a referral for a registered person.
#[utoipa::path(post, path = "/api/hub/referrals", request_body = ReceiveReferralRequest,
    responses((status = 201, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn receive_referral(
    State(hub): State<Hub>,
    Json(request): Json<ReceiveReferralRequest>,
) -> Result<Response, ApiError> {
    let written = hub.receive_new(request).await?;
    Ok(written.mark((StatusCode::CREATED, Json(&written))))
}

macro_rules! hub_route {
    ($(#[$doc:meta])* $name:ident, $path:literal, $request:ty, $method:ident) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, request_body = $request,
            params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
            responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
                (status = 503, body = ErrorBody)))]
        pub async fn $name(
            State(hub): State<Hub>,
            Path(referral_id): Path<ReferralId>,
            Json(request): Json<$request>,
        ) -> Result<Response, ApiError> {
            let written = hub.$method(referral_id, request).await?;
            Ok(written.mark(Json(&written)))
        }
    };
}

hub_route!(
    /// Allocates the referral to a hub officer (or re-allocates it).
    allocate_route, "/api/hub/referrals/{referral_id}/allocation", AllocationRequest, allocate
);
hub_route!(
    /// Replaces the safe-contact rules with what the victim said (channels and safe times).
    safe_contact_route, "/api/hub/referrals/{referral_id}/safe-contact", SafeContactRequest, update_safe_contact
);
hub_route!(
    /// Records the victim's consent to passing their details on to another service (or consent overridden).
    consent_route, "/api/hub/referrals/{referral_id}/consent", ConsentRequest, record_consent
);
hub_route!(
    /// Records an outreach letter or email: refused unless that channel is known to be safe.
    outreach_route, "/api/hub/referrals/{referral_id}/outreach", OutreachRequest, send_outreach
);
hub_route!(
    /// Records the contacted victim's needs (a later assessment is a reassessment).
    needs_route, "/api/hub/referrals/{referral_id}/needs-assessments", NeedsRequest, assess_needs
);
hub_route!(
    /// Records one support session.
    session_route, "/api/hub/referrals/{referral_id}/support-sessions", SessionRequest, record_session
);

/// Refers the victim on to a specialist service; the service opens a case and the hub sees it (closed loop).
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/onward-referrals", request_body = OnwardReferralRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 201, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn refer_on_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<OnwardReferralRequest>,
) -> Result<Response, ApiError> {
    let written = hub.refer_on(referral_id, request).await?;
    Ok(written.mark((StatusCode::CREATED, Json(&written))))
}

/// Records one contact attempt. A channel marked unsafe is refused with the reason.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/contact-attempts", request_body = ContactAttemptRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn record_attempt_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<ContactAttemptRequest>,
) -> Result<Response, ApiError> {
    let written = hub.record_attempt(referral_id, request).await?;
    Ok(written.mark(Json(&written)))
}

/// Records that the victim could not be contacted: refused until the hub's attempt rule is met. The body (when it
/// happened) may be left out: it happened now.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/unable-to-contact", request_body = Option<WhenRequest>,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn unable_to_contact_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    request: Option<Json<WhenRequest>>,
) -> Result<Response, ApiError> {
    let request = request.map(|Json(request)| request).unwrap_or_default();
    let written = hub.record_unable_to_contact(referral_id, &request).await?;
    Ok(written.mark(Json(&written)))
}

/// Returns the referral to whoever sent it: no safe or valid way to reach the victim.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/return-to-referrer", request_body = ReasonRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn return_to_referrer_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<ReasonRequest>,
) -> Result<Response, ApiError> {
    let written = hub.return_to_referrer(referral_id, &request).await?;
    Ok(written.mark(Json(&written)))
}

/// The contacted victim accepted support. The body (when it happened) may be left out: it happened now.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/support/accept", request_body = Option<WhenRequest>,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn accept_support_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    request: Option<Json<WhenRequest>>,
) -> Result<Response, ApiError> {
    let request = request.map(|Json(request)| request).unwrap_or_default();
    let written = hub.accept_support(referral_id, &request).await?;
    Ok(written.mark(Json(&written)))
}

/// The contacted victim declined support, for a reason.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/support/decline", request_body = ReasonRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn decline_support_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<ReasonRequest>,
) -> Result<Response, ApiError> {
    let written = hub.decline_support(referral_id, &request).await?;
    Ok(written.mark(Json(&written)))
}

/// Closes the referral with the victim's answers to the outcome measures in force today.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/closure", request_body = ClosureRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn close_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<ClosureRequest>,
) -> Result<Response, ApiError> {
    let written = hub.close(referral_id, request).await?;
    Ok(written.mark(Json(&written)))
}

#[derive(Deserialize, IntoParams)]
pub struct ReadParams {
    /// Wait (up to 5 s) until the read model has applied this log position.
    pub wait_for: Option<u64>,
}

/// One referral with the outcome of each onward referral.
#[utoipa::path(get, path = "/api/hub/referrals/{referral_id}",
    params(("referral_id" = uuid::Uuid, Path, description = "the referral"), ReadParams),
    responses((status = 200, body = ReferralView), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn get_referral(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Query(params): Query<ReadParams>,
) -> Result<Json<ReferralView>, ApiError> {
    Ok(Json(views::referral::detail(hub.context(), referral_id, params.wait_for).await?))
}

/// A self-referred victim has since reported the crime to police.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/reported-to-police", request_body = PoliceReportRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn reported_to_police_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<PoliceReportRequest>,
) -> Result<Response, ApiError> {
    let written = hub.record_police_report(referral_id, request).await?;
    Ok(written.mark(Json(&written)))
}

// The tag is the one utoipa derived when this route lived in `crate::queues`: kept, so the published OpenAPI
// document is unchanged.
/// One page of a work queue.
#[utoipa::path(get, path = "/api/hub/queues/{queue}", tag = "crate::queues",
    params(("queue" = String, Path, description = "new-referrals, next-attempt, victims-code or open-cases"), QueueFilter),
    responses((status = 200, body = Queue), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn queue_route(
    State(hub): State<Hub>,
    Path(queue): Path<String>,
    Query(filter): Query<QueueFilter>,
) -> Result<Json<Queue>, ApiError> {
    let kind = QueueKind::parse(&queue).ok_or_else(|| ApiError::not_found("There is no such work queue."))?;
    Ok(Json(views::queues::load(&hub, kind, &filter).await?))
}

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
use casetrack_web::paging::PageParams;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

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
use crate::views::queues::{QueueFilter, QueueItem, QueueKind, QueuePage};
use crate::views::referral::{AttemptView, OnwardReferralView, ReferralView};

#[derive(OpenApi)]
#[openapi(
    paths(
        receive_referral,
        police_feed_route,
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
        PoliceFeedImported,
        PoliceFeedUpload,
        RefusedRow,
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
        QueuePage,
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
        .route(
            "/api/hub/police-feed",
            HubWork,
            post(police_feed_route).layer(axum::extract::DefaultBodyLimit::max(casetrack_web::http::UPLOAD_LIMIT)),
        )
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
#[into_params(parameter_in = Query)]
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

/// One page of a work queue, in the queue's order; follow `next_cursor` for the next page.
#[utoipa::path(get, path = "/api/hub/queues/{queue}",
    params(("queue" = String, Path, description = "new-referrals, next-attempt, victims-code or open-cases"), QueueFilter,
        PageParams),
    responses((status = 200, body = QueuePage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "page_size above 500, or a cursor this queue did not give", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn queue_route(
    State(hub): State<Hub>,
    Path(queue): Path<String>,
    Query(filter): Query<QueueFilter>,
    Query(page): Query<PageParams>,
) -> Result<Json<QueuePage>, ApiError> {
    let kind = QueueKind::parse(&queue).ok_or_else(|| ApiError::not_found("There is no such work queue."))?;
    Ok(Json(views::queues::load_page(&hub, kind, &filter, &page).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PoliceFeedParams {
    /// `true`: check the file and list its refused rows, importing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// The police feed as a multipart upload (for the OpenAPI document: the handler reads the field itself).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PoliceFeedUpload {
    /// The CSV file.
    #[schema(value_type = String, format = Binary)]
    feed: Vec<u8>,
}

/// What an upload of the police feed did.
#[derive(Serialize, ToSchema)]
pub struct PoliceFeedImported {
    /// Only checked: nothing was imported.
    pub dry_run: bool,
    /// Rows after the header (each line is a row or a refused row).
    pub rows_read: usize,
    /// Rows that passed every check.
    pub valid: usize,
    /// New referrals (each with its victim registered, details sealed).
    pub created: usize,
    /// Rows imported before (the same crime reference and victim): nothing new was written for them.
    pub already_imported: usize,
    /// Rows refused, with their line, column and rule; never the victim's details.
    pub refused: Vec<RefusedRow>,
    /// Lines of valid rows that could not be saved just now: upload the same file again to retry them (nothing is
    /// imported twice).
    pub failed_lines: Vec<u64>,
    /// The referrals created.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub referral_ids: Vec<ReferralId>,
    /// The highest log position written: pass it as `wait_for` to read the new referrals.
    pub position: Option<u64>,
}

/// A row of the feed that was not imported.
#[derive(Serialize, ToSchema)]
pub struct RefusedRow {
    /// The line of the file (the header is line 1).
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// The row's crime reference when it could be read, to find the row.
    pub crime_reference: Option<String>,
    /// The rule the row broke, in plain words.
    pub reason: String,
}

/// Imports the police feed: a CSV file with a header row, as the police send it (columns crime_reference,
/// reported_date, offence_category, domestic_abuse, victim_forename, victim_surname, date_of_birth, gender,
/// ethnicity, disability, phone, email, address_line, postcode, safe_to_phone, safe_to_voicemail, safe_to_text,
/// safe_to_email, safe_to_write, consent_basis, enhanced_rights, and optionally referred_on), sent as the body (`text/csv`) or as the `feed` field of a `multipart/form-data` upload (at
/// most 64 MB). A bad row never stops the good ones; importing the same file again creates nothing new. Referrals
/// are dated by the feed's `referred_on` (those beyond the back-dating window are marked late in the audit trail).
#[utoipa::path(post, path = "/api/hub/police-feed", params(PoliceFeedParams),
    request_body(content((String = "text/csv"), (PoliceFeedUpload = "multipart/form-data")),
        description = "the feed file: the body itself, or the `feed` field of a multipart upload"),
    responses((status = 200, body = PoliceFeedImported),
        (status = 422, description = "the file cannot be used as a whole (`feed_unusable`: no header row, missing \
            columns) or no file was sent (`feed_missing`)", body = ErrorBody),
        (status = 413, description = "the file is over 64 MB", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn police_feed_route(
    State(hub): State<Hub>,
    Query(params): Query<PoliceFeedParams>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    use axum::extract::FromRequest as _;
    use axum::response::IntoResponse as _;
    let multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    let too_large = || ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "too_large",
        message: "The file could not be received: it must be under 64 MB.".into(),
    };
    let file = if multipart {
        let mut form = axum::extract::Multipart::from_request(request, &()).await.map_err(|_| too_large())?;
        let mut file = None;
        while let Some(field) = form.next_field().await.map_err(|_| too_large())? {
            if matches!(field.name(), Some("feed" | "file")) {
                file = Some(field.bytes().await.map_err(|_| too_large())?);
            }
        }
        file.unwrap_or_default()
    } else {
        axum::body::Bytes::from_request(request, &()).await.map_err(|_| too_large())?
    };
    if file.is_empty() {
        return Err(ApiError::rejected("feed_missing", "send the police feed file: the body is empty"));
    }
    let imported =
        crate::commands::intake::import_file(hub.context(), file.as_ref(), params.dry_run, hub.settings().back_dating)
            .await
            .map_err(|error| ApiError::rejected("feed_unusable", error.to_string()))?;
    let summary = imported.imported.unwrap_or_default();
    let answer = PoliceFeedImported {
        dry_run: params.dry_run,
        rows_read: imported.valid + imported.rejects.len(),
        valid: imported.valid,
        created: summary.created,
        already_imported: summary.already_imported,
        refused: imported
            .rejects
            .into_iter()
            .map(|reject| RefusedRow {
                line: reject.line,
                column: reject.column.map(str::to_owned),
                crime_reference: reject.crime_reference,
                reason: reject.message,
            })
            .collect(),
        failed_lines: summary.failed,
        referral_ids: summary.created_ids,
        position: summary.position,
    };
    let response = Json(answer).into_response();
    // Referrals the feed dated beyond the back-dating window: the upload is flagged in the audit trail.
    Ok(match summary.late {
        Some(days) => casetrack_web::access::late_entry(response, days, crate::commands::intake::FEED_DATED),
        None => response,
    })
}

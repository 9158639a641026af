//! The hub's JSON API.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use casetrack_platform::Context;
use casetrack_platform::access::{Routes, acting};
use casetrack_platform::command::{Aggregate, CommandMeta, execute, load};
use casetrack_platform::http::{ApiError, ErrorBody, wait_for};
use casetrack_proto::contact::{AttemptOutcome, ConsentBasis, ContactChannel, OutcomeAnswer, SafeContact, TimeBand};
use casetrack_proto::hub::{
    ContactAttemptRecorded, HubEvent, MeasureAnswer, OffenceCategory, ReferralReceived, ReferralSource,
    ReportedToPolice, SessionMode, SupportSessionRecorded,
};
use casetrack_proto::profile::VictimProfile;
use casetrack_proto::{Actor, PersonId, ReferralId, ServiceCode, StaffName};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::HubSettings;
use crate::referral::{
    Referral, ReferralRejection, accept_support, allocate, assess_needs, close, decline_support, receive,
    record_attempt, record_consent, record_police_report, record_session, record_unable_to_contact, refer_on,
    return_to_referrer, send_outreach, update_safe_contact,
};

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
        crate::queues::queue_route
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
        crate::queues::Queue,
        crate::queues::QueueItem,
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

/// What every hub route holds.
#[derive(Clone)]
pub struct Hub {
    ctx: Context,
    settings: HubSettings,
    public_limit: casetrack_platform::rate_limit::AddressLimit,
}

impl Hub {
    /// The hub's commands on `ctx` (the router builds one; `casetrack demo` too).
    pub fn new(ctx: Context, settings: HubSettings) -> Self {
        let public_limit = casetrack_platform::rate_limit::AddressLimit::per_hour(settings.self_referrals_per_hour);
        Self { ctx, settings, public_limit }
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    pub fn settings(&self) -> HubSettings {
        self.settings
    }

    /// How often one address may use the public self-referral form.
    pub fn public_limit(&self) -> &casetrack_platform::rate_limit::AddressLimit {
        &self.public_limit
    }
}

pub fn router(ctx: Context, settings: HubSettings) -> Routes {
    use casetrack_platform::access::Permission::HubWork;
    let hub = Hub::new(ctx, settings);
    let at = |action: &str| format!("/api/hub/referrals/{{referral_id}}/{action}");
    Routes::new()
        .route("/api/hub/referrals", HubWork, post(receive_referral))
        .person("/api/hub/queues/{queue}", HubWork, get(crate::queues::queue_route))
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
        .merge(crate::pages::routes())
        .with_state(hub)
}

/// A crime reference as typed: trimmed, at most 64 characters.
fn crime_reference(text: &str) -> Result<String, ApiError> {
    let reference = text.trim();
    if reference.chars().count() > 64 {
        return Err(ApiError::rejected(
            "crime_reference_too_long",
            "The crime reference can be at most 64 characters.",
        ));
    }
    Ok(reference.to_owned())
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
    /// Per channel: safe, unsafe or unknown (unknown when left out).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub safe_contact: SafeContact,
    /// opt_out (default), explicit, withheld or overridden.
    #[schema(value_type = Option<String>, example = "opt_out")]
    pub consent: Option<ConsentBasis>,
    /// Required when consent is overridden.
    pub consent_override_reason: Option<String>,
    #[serde(default)]
    pub enhanced_rights: bool,
    /// The victim's characteristics as codes (age band, gender, ethnicity, disability); unknown when left out.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub profile: VictimProfile,
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
    State(hub): State<Hub>,
    Json(request): Json<ReceiveReferralRequest>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    Ok((StatusCode::CREATED, Json(hub.receive(ReferralId::new(), request, acting()).await?)))
}

impl Hub {
    /// Runs one decision on one referral, happening now, and answers with where it was written.
    pub async fn decide(
        &self,
        referral_id: ReferralId,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        self.decide_at(referral_id, casetrack_platform::clock::now(), decide).await
    }

    /// The same, for something that happened at `occurred_at` (a contact attempt recorded after the call).
    pub async fn decide_at(
        &self,
        referral_id: ReferralId,
        occurred_at: chrono::DateTime<chrono::Utc>,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        self.decide_by(acting(), referral_id, occurred_at, decide).await
    }

    async fn decide_by(
        &self,
        actor: Actor,
        referral_id: ReferralId,
        occurred_at: chrono::DateTime<chrono::Utc>,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        self.decide_with(&CommandMeta::new(actor, occurred_at), referral_id, decide).await
    }

    /// With the command's metadata made beforehand (its event ids are known before deciding, for sealing).
    async fn decide_with(
        &self,
        meta: &CommandMeta,
        referral_id: ReferralId,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        let executed = execute::<Referral, _>(&self.ctx.log, referral_id.0, meta, decide).await?;
        Ok(Written { referral_id, position: executed.position.map_or(0, |p| p.0) })
    }

    /// Receives a referral for a registered person under the id given (pages and imports choose it).
    pub async fn receive(
        &self,
        referral_id: ReferralId,
        request: ReceiveReferralRequest,
        by: Actor,
    ) -> Result<Written, ApiError> {
        let now = casetrack_platform::clock::now();
        let crime_reference = match request.crime_reference.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(reference) => Some(crime_reference(reference)?),
            None => None,
        };
        if request.crime_reported_on.is_some_and(|d| d > now.date_naive()) {
            return Err(ApiError::rejected(
                "crime_reported_in_future",
                "The date the crime was reported cannot be in the future.",
            ));
        }
        let consent = request.consent.unwrap_or(ConsentBasis::OptOut);
        let consent_override_reason =
            request.consent_override_reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        if consent == ConsentBasis::Overridden && consent_override_reason.is_none() {
            return Err(ApiError::rejected("override_reason_required", "Give the reason consent was overridden."));
        }
        let received = ReferralReceived {
            referral_id,
            person_id: request.person_id,
            source: request.source,
            offence_category: request.offence_category,
            domestic_abuse: request.domestic_abuse,
            crime_reference,
            crime_reported_on: request.crime_reported_on,
            safe_contact: request.safe_contact,
            consent,
            consent_override_reason,
            enhanced_rights: request.enhanced_rights,
            profile: request.profile,
        };
        self.decide_by(by, referral_id, now, |state| receive(state, received.clone())).await
    }

    /// Refers on to a service of the catalogue that takes referrals from the hub.
    pub async fn refer_on(&self, referral_id: ReferralId, service: ServiceCode) -> Result<Written, ApiError> {
        let takes_hub = self
            .ctx
            .catalogue
            .get(service.as_str())
            .is_some_and(|definition| definition.referral_sources.iter().any(|s| s == "hub"));
        if !takes_hub && service.as_str() != "hub" {
            return Err(ApiError::rejected(
                "unknown_service",
                format!("{service} is not a service the hub can refer to"),
            ));
        }
        self.decide(referral_id, |state| refer_on(state, referral_id, service.clone())).await
    }

    pub async fn record_attempt(
        &self,
        referral_id: ReferralId,
        request: ContactAttemptRequest,
    ) -> Result<Written, ApiError> {
        let time_band =
            casetrack_platform::contact::attempt_band(request.attempted_at, casetrack_platform::clock::now())
                .map_err(|why| ApiError::rejected("attempt_in_future", why))?;
        let attempt = ContactAttemptRecorded {
            referral_id,
            channel: request.channel,
            attempted_at: request.attempted_at,
            time_band,
            outcome: request.outcome,
        };
        // The attempt happened when it was made, not when it was typed in: that is its domain time.
        self.decide_at(referral_id, request.attempted_at, |state| record_attempt(state, attempt.clone())).await
    }

    pub async fn record_unable_to_contact(&self, referral_id: ReferralId) -> Result<Written, ApiError> {
        let rule = self.settings.attempt_rule;
        self.decide(referral_id, |state| record_unable_to_contact(state, referral_id, rule)).await
    }

    /// Closes the referral with the victim's answers to the outcome measures in force today.
    pub async fn close(&self, referral_id: ReferralId, request: ClosureRequest) -> Result<Written, ApiError> {
        let today = casetrack_platform::clock::now().date_naive();
        let set = crate::measures::in_force(today)
            .ok_or_else(|| ApiError::unavailable(anyhow::anyhow!("no outcome-measure list is in force on {today}")))?;
        let mut answers = Vec::with_capacity(request.answers.len());
        for answer in request.answers {
            if !set.measures.iter().any(|m| m.code == answer.measure) {
                let known: Vec<&str> = set.measures.iter().map(|m| m.code.as_str()).collect();
                return Err(ApiError::rejected(
                    "unknown_measure",
                    format!(
                        "{:?} is not an outcome measure of list {}; use one of {}",
                        answer.measure,
                        set.version,
                        known.join(", ")
                    ),
                ));
            }
            answers.push(MeasureAnswer { measure: answer.measure, answer: answer.answer });
        }
        self.decide(referral_id, |state| close(state, referral_id, &set.version, answers.clone())).await
    }

    pub async fn record_police_report(
        &self,
        referral_id: ReferralId,
        request: PoliceReportRequest,
    ) -> Result<Written, ApiError> {
        if request.reported_on > casetrack_platform::clock::now().date_naive() {
            return Err(ApiError::rejected(
                "reported_in_future",
                "The date reported to police cannot be in the future.",
            ));
        }
        let crime_reference = crime_reference(&request.crime_reference)?;
        let report = ReportedToPolice { referral_id, crime_reference, reported_on: request.reported_on };
        self.decide(referral_id, |state| record_police_report(state, report.clone())).await
    }

    pub async fn allocate(&self, referral_id: ReferralId, request: AllocationRequest) -> Result<Written, ApiError> {
        let officer = StaffName::parse(&request.officer).map_err(|why| ApiError::rejected("officer_invalid", why))?;
        self.decide(referral_id, |state| allocate(state, referral_id, officer.clone())).await
    }

    /// Replaces the safe-contact rules; a caution is sealed with the victim's key before anything is written.
    pub async fn update_safe_contact(
        &self,
        referral_id: ReferralId,
        request: SafeContactRequest,
    ) -> Result<Written, ApiError> {
        let caution = request.caution.as_deref().map(str::trim).filter(|c| !c.is_empty());
        if caution.is_some_and(|c| c.chars().count() > 500) {
            return Err(ApiError::rejected("caution_too_long", "A caution can be at most 500 characters."));
        }
        let meta = CommandMeta::new(acting(), casetrack_platform::clock::now());
        let sealed = match caution {
            None => None,
            Some(text) => {
                let stream = <Referral as Aggregate>::stream_id(referral_id.0);
                let (state, _) = load::<Referral>(&self.ctx.log, &stream).await.map_err(ApiError::unavailable)?;
                let Some(person_id) = state.person_id() else {
                    return Err(ApiError::not_found("There is no such referral."));
                };
                let sealed = self.ctx.vault.seal(person_id, meta.event_id(0), &text).await;
                Some(sealed.map_err(ApiError::unavailable)?)
            }
        };
        self.decide_with(&meta, referral_id, |state| {
            update_safe_contact(
                state,
                referral_id,
                request.safe_contact.clone(),
                request.safe_times.clone(),
                sealed.clone(),
            )
        })
        .await
    }

    pub async fn record_consent(&self, referral_id: ReferralId, request: ConsentRequest) -> Result<Written, ApiError> {
        self.decide(referral_id, |state| {
            record_consent(state, referral_id, request.basis, request.override_reason.as_deref())
        })
        .await
    }

    pub async fn send_outreach(&self, referral_id: ReferralId, request: OutreachRequest) -> Result<Written, ApiError> {
        self.decide(referral_id, |state| send_outreach(state, referral_id, request.channel)).await
    }

    pub async fn assess_needs(&self, referral_id: ReferralId, request: NeedsRequest) -> Result<Written, ApiError> {
        crate::needs::validate(&request.needs).map_err(|why| ApiError::rejected("unknown_need", why))?;
        self.decide(referral_id, |state| assess_needs(state, referral_id, request.needs.clone())).await
    }

    pub async fn record_session(&self, referral_id: ReferralId, request: SessionRequest) -> Result<Written, ApiError> {
        if request.held_on > casetrack_platform::clock::now().date_naive() {
            return Err(ApiError::rejected("session_in_future", "A support session cannot be recorded in the future."));
        }
        let session = SupportSessionRecorded {
            referral_id,
            held_on: request.held_on,
            mode: request.mode,
            minutes: request.minutes,
        };
        self.decide(referral_id, |state| record_session(state, session.clone())).await
    }
}

#[derive(Deserialize, ToSchema)]
pub struct AllocationRequest {
    /// The officer's user name, e.g. `a.khan`.
    pub officer: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SafeContactRequest {
    /// Per channel: safe, unsafe or unknown (unknown when left out).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub safe_contact: SafeContact,
    /// Times of day (morning, afternoon, evening, out_of_hours) the victim may be phoned or visited; empty: any.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub safe_times: Vec<TimeBand>,
    /// A caution for whoever contacts the victim (sealed with their key; at most 500 characters).
    pub caution: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct ConsentRequest {
    /// explicit (the victim agreed) or overridden (with the reason).
    #[schema(value_type = String, example = "explicit")]
    pub basis: ConsentBasis,
    pub override_reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct OutreachRequest {
    /// letter or email
    #[schema(value_type = String, example = "letter")]
    pub channel: ContactChannel,
}

#[derive(Deserialize, ToSchema)]
pub struct NeedsRequest {
    /// Need-category codes, e.g. `emotional_support`.
    pub needs: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct SessionRequest {
    /// YYYY-MM-DD
    pub held_on: NaiveDate,
    /// phone, in_person, video or written
    #[schema(value_type = String, example = "phone")]
    pub mode: SessionMode,
    pub minutes: u32,
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
        ) -> Result<Json<Written>, ApiError> {
            Ok(Json(hub.$method(referral_id, request).await?))
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
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<OnwardReferralRequest>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    Ok((StatusCode::CREATED, Json(hub.refer_on(referral_id, request.service).await?)))
}

#[derive(Deserialize, ToSchema)]
pub struct ContactAttemptRequest {
    #[schema(value_type = String, example = "phone")]
    pub channel: ContactChannel,
    /// When the attempt was made (RFC 3339); the time of day is worked out in UK local time.
    pub attempted_at: chrono::DateTime<chrono::Utc>,
    /// reached, no_answer, voicemail_left, wrong_number or unsafe (someone else answered).
    #[schema(value_type = String, example = "no_answer")]
    pub outcome: AttemptOutcome,
}

/// Records one contact attempt. A channel marked unsafe is refused with the reason.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/contact-attempts", request_body = ContactAttemptRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn record_attempt_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<ContactAttemptRequest>,
) -> Result<Json<Written>, ApiError> {
    Ok(Json(hub.record_attempt(referral_id, request).await?))
}

/// Records that the victim could not be contacted: refused until the hub's attempt rule is met.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/unable-to-contact",
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn unable_to_contact_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
) -> Result<Json<Written>, ApiError> {
    Ok(Json(hub.record_unable_to_contact(referral_id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ReasonRequest {
    pub reason: String,
}

/// Returns the referral to whoever sent it: no safe or valid way to reach the victim.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/return-to-referrer", request_body = ReasonRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn return_to_referrer_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<ReasonRequest>,
) -> Result<Json<Written>, ApiError> {
    Ok(Json(hub.decide(referral_id, |state| return_to_referrer(state, referral_id, &request.reason)).await?))
}

/// The contacted victim accepted support.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/support/accept",
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn accept_support_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
) -> Result<Json<Written>, ApiError> {
    Ok(Json(hub.decide(referral_id, |state| accept_support(state, referral_id)).await?))
}

/// The contacted victim declined support, for a reason.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/support/decline", request_body = ReasonRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn decline_support_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<ReasonRequest>,
) -> Result<Json<Written>, ApiError> {
    Ok(Json(hub.decide(referral_id, |state| decline_support(state, referral_id, &request.reason)).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ClosureRequest {
    /// One answer per outcome measure of the list in force (`not_asked` where it was not asked).
    pub answers: Vec<ClosureAnswer>,
}

#[derive(Deserialize, ToSchema)]
pub struct ClosureAnswer {
    /// A measure code of the list in force, e.g. `cope`.
    pub measure: String,
    /// improved, no_change, worse or not_asked.
    #[schema(value_type = String, example = "improved")]
    pub answer: OutcomeAnswer,
}

/// Closes the referral with the victim's answers to the outcome measures in force today.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/closure", request_body = ClosureRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn close_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<ClosureRequest>,
) -> Result<Json<Written>, ApiError> {
    Ok(Json(hub.close(referral_id, request).await?))
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
    /// awaiting_contact, contacted, supported, unable_to_contact, returned_to_referrer, declined, closed, not_worked
    pub status: String,
    pub attempts: Vec<AttemptView>,
    pub onward_referrals: Vec<OnwardReferralView>,
}

#[derive(Serialize, ToSchema)]
pub struct AttemptView {
    pub channel: String,
    pub attempted_at: String,
    pub time_band: String,
    pub outcome: String,
}

#[derive(Serialize, ToSchema)]
pub struct OnwardReferralView {
    pub service: String,
    pub referred_at: String,
    /// Set once the specialist service has opened a case.
    pub case_id: Option<String>,
    pub case_opened_at: Option<String>,
    /// What the service did: received, accepted, engaged, declined_by_service, withdrawn, unable_to_contact,
    /// declined_by_victim, closed or reopened (the closed loop).
    pub case_status: Option<String>,
    pub case_status_at: Option<String>,
    /// Once the case closed: how many of the service's outcome measures improved, of those asked.
    pub case_outcome: Option<String>,
}

/// One referral with the outcome of each onward referral.
#[utoipa::path(get, path = "/api/hub/referrals/{referral_id}",
    params(("referral_id" = uuid::Uuid, Path, description = "the referral"), ReadParams),
    responses((status = 200, body = ReferralView), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn get_referral(
    State(Hub { ctx, .. }): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Query(params): Query<ReadParams>,
) -> Result<Json<ReferralView>, ApiError> {
    wait_for(&ctx, "hub.referrals", params.wait_for).await?;
    let id = referral_id.to_string();
    let row = sqlx::query(
        "SELECT referral_id, person_id, source, offence_category, domestic_abuse, crime_reference, crime_reported_on, received_at, \
         status FROM hub_referrals WHERE referral_id = $1",
    )
    .bind(&id)
    .fetch_optional(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?
    .ok_or_else(|| ApiError::not_found("There is no such referral."))?;
    let onward = sqlx::query(
        "SELECT service, referred_at, case_id, case_opened_at, case_status, case_status_at, case_outcome FROM hub_onward_referrals \
         WHERE referral_id = $1 ORDER BY referred_at, service",
    )
    .bind(&id)
    .fetch_all(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?;
    let attempts = sqlx::query(
        "SELECT channel, attempted_at, time_band, outcome FROM hub_contact_attempts WHERE referral_id = $1 ORDER BY attempt_no",
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
        status: row.get(8),
        attempts: attempts
            .iter()
            .map(|r| AttemptView { channel: r.get(0), attempted_at: r.get(1), time_band: r.get(2), outcome: r.get(3) })
            .collect(),
        onward_referrals: onward
            .iter()
            .map(|r| OnwardReferralView {
                service: r.get(0),
                referred_at: r.get(1),
                case_id: r.get(2),
                case_opened_at: r.get(3),
                case_status: r.get(4),
                case_status_at: r.get(5),
                case_outcome: r.get(6),
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PoliceReportRequest {
    pub crime_reference: String,
    /// YYYY-MM-DD
    pub reported_on: NaiveDate,
}

/// A self-referred victim has since reported the crime to police.
#[utoipa::path(post, path = "/api/hub/referrals/{referral_id}/reported-to-police", request_body = PoliceReportRequest,
    params(("referral_id" = uuid::Uuid, Path, description = "the referral")),
    responses((status = 200, body = Written), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn reported_to_police_route(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Json(request): Json<PoliceReportRequest>,
) -> Result<Json<Written>, ApiError> {
    Ok(Json(hub.record_police_report(referral_id, request).await?))
}

//! The specialist services' JSON API, one set of routes per service: `/api/specialist/{service}/...`.
//!
//! Every route names its service, and a case is only found through its own service: asking another service's
//! routes for it answers 404, for reading and for every change. (Who may use which service's routes arrives with
//! accounts, issue 6; until then callers act as a caseworker of the service named.)

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use casetrack_platform::Context;
use casetrack_platform::access::{Routes, acting};
use casetrack_platform::catalogue::ServiceDefinition;
use casetrack_platform::command::{Aggregate as _, CommandError, CommandMeta, execute, load};
use casetrack_platform::http::{ApiError, ErrorBody, wait_for};
use casetrack_proto::contact::{AttemptOutcome, ContactChannel, OutcomeAnswer, SafeContact, TimeBand};
use casetrack_proto::hub::MeasureAnswer;
use casetrack_proto::profile::{AgeBand, YesNoUnknown};
use casetrack_proto::specialist::{
    CaseContactAttemptRecorded, CaseOpened, CaseOrigin, CjsStage, ClosureReason, HighRiskReason, InterventionRecorded,
    RiskChecklist, RiskLevel, RjForm, RjOutcome, SpecialistEvent, SpoStatus,
};
use casetrack_proto::{CaseId, PersonId, Sealed, ServiceCode, StaffName};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::case::{self, Assessment, Case, CaseRejection};

#[derive(OpenApi)]
#[openapi(
    paths(
        list_cases,
        refer_directly,
        get_case,
        accept_route,
        decline_route,
        withdraw_route,
        allocate_route,
        safe_contact_route,
        attempt_route,
        unable_route,
        support_declined_route,
        risk_route,
        marac_referral_route,
        marac_hearing_route,
        plan_route,
        intervention_route,
        note_route,
        close_route,
        reopen_route,
        cjs_route,
        spo_route,
        rj_information_route,
        rj_suitability_route,
        rj_consent_route,
        rj_form_route,
        rj_outcome_route
    ),
    components(schemas(
        CaseView,
        CaseWritten,
        DirectReferralRequest,
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

pub fn openapi() -> utoipa::openapi::OpenApi {
    SpecialistApi::openapi()
}

/// What every specialist route holds: the context and the services this process runs.
#[derive(Clone)]
pub struct Desk {
    ctx: Context,
    services: Vec<ServiceCode>,
}

impl Desk {
    pub fn new(ctx: Context, services: Vec<ServiceCode>) -> Self {
        Self { ctx, services }
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The definition of a service run by this process, or 404.
    pub fn service(&self, code: &str) -> Result<&ServiceDefinition, ApiError> {
        let here = self.services.iter().any(|s| s.as_str() == code);
        match self.ctx.catalogue.get(code) {
            Some(definition) if here => Ok(definition),
            _ => Err(ApiError::not_found("This service is not run here.")),
        }
    }

    /// Runs one decision on one case of `service`. A case of another service is "no such case", so one
    /// service's routes can neither read nor change another's cases.
    pub async fn decide(
        &self,
        service: &str,
        case_id: CaseId,
        decide: impl Fn(&Case, &ServiceDefinition) -> Result<Vec<SpecialistEvent>, CaseRejection>,
    ) -> Result<CaseWritten, ApiError> {
        let meta = CommandMeta::new(acting(), casetrack_platform::clock::now());
        self.decide_with(&meta, service, case_id, decide).await
    }

    async fn decide_with(
        &self,
        meta: &CommandMeta,
        service: &str,
        case_id: CaseId,
        decide: impl Fn(&Case, &ServiceDefinition) -> Result<Vec<SpecialistEvent>, CaseRejection>,
    ) -> Result<CaseWritten, ApiError> {
        let definition = self.service(service)?;
        let executed = execute::<Case, _>(&self.ctx.log, case_id.0, meta, |state| {
            if !belongs(state, &definition.code) {
                return Err(CaseRejection::NotOpened);
            }
            decide(state, definition)
        })
        .await
        .map_err(not_found_or)?;
        Ok(CaseWritten { case_id, position: executed.position.map_or(0, |p| p.0) })
    }

    /// The person a case of this service is about, or 404 for a case of another service (or none).
    async fn person_of(&self, definition: &ServiceDefinition, case_id: CaseId) -> Result<PersonId, ApiError> {
        let (state, _) =
            load::<Case>(&self.ctx.log, &Case::stream_id(case_id.0)).await.map_err(ApiError::unavailable)?;
        match &state {
            Case::Open(case) | Case::Ended { case, .. } if case.service == definition.code => Ok(case.person_id),
            _ => Err(ApiError::not_found("There is no such case in this service.")),
        }
    }

    /// Seals `text` with the case's person's key for the event `meta` will write (plans and notes), after
    /// checking the case is this service's.
    async fn seal(&self, meta: &CommandMeta, service: &str, case_id: CaseId, text: &str) -> Result<Sealed, ApiError> {
        let definition = self.service(service)?;
        let person = self.person_of(definition, case_id).await?;
        self.ctx.vault.seal(person, meta.event_id(0), &text).await.map_err(ApiError::unavailable)
    }
}

fn belongs(state: &Case, service: &ServiceCode) -> bool {
    match state {
        Case::NotOpened => false,
        Case::Open(case) | Case::Ended { case, .. } => &case.service == service,
    }
}

/// "No such case" is a 404, like any other missing thing; other refusals are the rules saying no.
fn not_found_or(error: CommandError<CaseRejection>) -> ApiError {
    match error {
        CommandError::Rejected(CaseRejection::NotOpened) => {
            ApiError::not_found("There is no such case in this service.")
        }
        other => other.into(),
    }
}

pub fn router(ctx: Context, services: Vec<ServiceCode>) -> Routes {
    use casetrack_platform::access::Permission::ServiceWork;
    let desk = Desk::new(ctx, services);
    let base = "/api/specialist/{service}/cases/{case_id}";
    let at = |action: &str| format!("{base}/{action}");
    Routes::new()
        .person("/api/specialist/{service}/cases", ServiceWork, get(list_cases).post(refer_directly))
        .person(base, ServiceWork, get(get_case))
        .route(&at("accept"), ServiceWork, post(accept_route))
        .route(&at("decline"), ServiceWork, post(decline_route))
        .route(&at("withdraw"), ServiceWork, post(withdraw_route))
        .route(&at("allocation"), ServiceWork, post(allocate_route))
        .route(&at("safe-contact"), ServiceWork, post(safe_contact_route))
        .route(&at("contact-attempts"), ServiceWork, post(attempt_route))
        .route(&at("unable-to-contact"), ServiceWork, post(unable_route))
        .route(&at("support-declined"), ServiceWork, post(support_declined_route))
        .route(&at("risk-assessments"), ServiceWork, post(risk_route))
        .route(&at("marac-referral"), ServiceWork, post(marac_referral_route))
        .route(&at("marac-hearing"), ServiceWork, post(marac_hearing_route))
        .route(&at("plan"), ServiceWork, post(plan_route))
        .route(&at("interventions"), ServiceWork, post(intervention_route))
        .route(&at("notes"), ServiceWork, post(note_route))
        .route(&at("closure"), ServiceWork, post(close_route))
        .route(&at("reopening"), ServiceWork, post(reopen_route))
        .route(&at("cjs-stage"), ServiceWork, post(cjs_route))
        .route(&at("spo"), ServiceWork, post(spo_route))
        .route(&at("rj/information"), ServiceWork, post(rj_information_route))
        .route(&at("rj/suitability"), ServiceWork, post(rj_suitability_route))
        .route(&at("rj/offender-consent"), ServiceWork, post(rj_consent_route))
        .route(&at("rj/form"), ServiceWork, post(rj_form_route))
        .route(&at("rj/outcome"), ServiceWork, post(rj_outcome_route))
        .merge(crate::pages::routes())
        .with_state(desk)
}

#[derive(Serialize, ToSchema)]
pub struct CaseWritten {
    #[schema(value_type = uuid::Uuid)]
    pub case_id: CaseId,
    /// Log position of the change: pass it as `wait_for` to read your own write.
    pub position: u64,
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// all (default), unallocated, mine (with `caseworker`), reviews-due (review date today or earlier)
    pub view: Option<String>,
    /// A caseworker's user name (for `mine`).
    pub caseworker: Option<String>,
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
    /// awaiting_decision, awaiting_contact, engaged, declined_by_service, withdrawn, unable_to_contact,
    /// support_declined, closed
    pub status: String,
    pub caseworker: Option<String>,
    pub attempts: i64,
    pub risk_level: Option<String>,
    /// ISVA: not_reported, reported, under_investigation, charged, trial, verdict or no_further_action.
    pub cjs_stage: Option<String>,
    pub cjs_stage_on: Option<String>,
    /// Stalking: applied, granted or refused.
    pub spo_status: Option<String>,
    pub spo_on: Option<String>,
    /// RJ: the Victims' Code deadline for information about restorative justice, and when it was given.
    pub rj_information_due: Option<String>,
    pub rj_informed_on: Option<String>,
    pub rj_form: Option<String>,
    pub rj_outcome: Option<String>,
    pub rj_satisfaction: Option<i64>,
    pub risk_score: Option<i64>,
    pub review_due: Option<String>,
    pub marac_referred_on: Option<String>,
    pub marac_heard_on: Option<String>,
    pub marac_repeat: bool,
    pub domestic_abuse: bool,
    pub enhanced_rights: bool,
    pub age_band: Option<String>,
    pub closure_reason: Option<String>,
}

const CASE_COLUMNS: &str = "case_id, service, person_id, referral_id, origin, opened_at, status, caseworker, attempts, \
    risk_level, risk_score, review_due, marac_referred_on, marac_heard_on, marac_repeat, domestic_abuse, \
    enhanced_rights, age_band, closure_reason, cjs_stage, cjs_stage_on, spo_status, spo_on, rj_information_due, \
    rj_informed_on, rj_form, rj_outcome, rj_satisfaction";

fn case_view(r: &sqlx::any::AnyRow) -> CaseView {
    CaseView {
        case_id: r.get(0),
        service: r.get(1),
        person_id: r.get(2),
        referral_id: r.get(3),
        origin: r.get(4),
        opened_at: r.get(5),
        status: r.get(6),
        caseworker: r.get(7),
        attempts: r.get(8),
        risk_level: r.get(9),
        risk_score: r.get(10),
        review_due: r.get(11),
        marac_referred_on: r.get(12),
        marac_heard_on: r.get(13),
        marac_repeat: r.get::<i64, _>(14) != 0,
        domestic_abuse: r.get::<i64, _>(15) != 0,
        enhanced_rights: r.get::<i64, _>(16) != 0,
        age_band: r.get(17),
        closure_reason: r.get(18),
        cjs_stage: r.get(19),
        cjs_stage_on: r.get(20),
        spo_status: r.get(21),
        spo_on: r.get(22),
        rj_information_due: r.get(23),
        rj_informed_on: r.get(24),
        rj_form: r.get(25),
        rj_outcome: r.get(26),
        rj_satisfaction: r.get(27),
    }
}

/// Waits for the service's case projection to reach `position`.
async fn wait_for_cases(desk: &Desk, service: &ServiceCode, position: Option<u64>) -> Result<(), ApiError> {
    let projection = format!("specialist.cases.{service}");
    let name = desk.ctx.projections.all().into_iter().find(|s| s.name() == projection).map(|s| s.name());
    match name {
        Some(name) => wait_for(&desk.ctx, name, position).await,
        None => Ok(()),
    }
}

/// The caseload of one service: every case, the unallocated ones, one caseworker's, or those due for review.
#[utoipa::path(get, path = "/api/specialist/{service}/cases",
    params(("service" = String, Path, description = "service code, e.g. idva"), ListParams),
    responses((status = 200, body = [CaseView]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn list_cases(
    State(desk): State<Desk>,
    Path(service): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    Ok(Json(caseload(&desk, &service, &params).await?))
}

/// Reads a caseload (the API and the pages share this).
pub async fn caseload(desk: &Desk, service: &str, params: &ListParams) -> Result<Vec<CaseView>, ApiError> {
    let service = desk.service(service)?.code.clone();
    wait_for_cases(desk, &service, params.wait_for).await?;
    let open = "status IN ('awaiting_decision', 'awaiting_contact', 'engaged')";
    let today = casetrack_platform::clock::now().date_naive().to_string();
    let (condition, bind) = match params.view.as_deref().unwrap_or("all") {
        "all" => ("1 = 1".to_owned(), None),
        "unallocated" => (format!("{open} AND caseworker IS NULL"), None),
        "mine" => {
            let name = params.caseworker.as_deref().unwrap_or_default();
            let name = StaffName::parse(name).map_err(|why| ApiError::bad_request(format!("caseworker: {why}")))?;
            (format!("{open} AND caseworker = $2"), Some(name.to_string()))
        }
        "reviews-due" => (format!("{open} AND review_due IS NOT NULL AND review_due <= $2"), Some(today)),
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown view {other:?}: all, unallocated, mine or reviews-due"
            )));
        }
    };
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM specialist_cases WHERE service = $1 AND {condition} \
         ORDER BY enhanced_rights DESC, opened_at DESC, case_id LIMIT 500"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(service.as_str().to_owned());
    if let Some(bind) = bind {
        query = query.bind(bind);
    }
    let rows = query.fetch_all(desk.ctx.db.pool()).await.map_err(ApiError::unavailable)?;
    Ok(rows.iter().map(case_view).collect())
}

#[derive(Deserialize, IntoParams)]
pub struct ReadParams {
    /// Wait (up to 5 s) until the read model has applied this log position.
    pub wait_for: Option<u64>,
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
    let service = desk.service(&service)?.code.clone();
    wait_for_cases(&desk, &service, params.wait_for).await?;
    let sql = format!("SELECT {CASE_COLUMNS} FROM specialist_cases WHERE case_id = $1 AND service = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(case_id.to_string())
        .bind(service.as_str().to_owned())
        .fetch_optional(desk.ctx.db.pool())
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| ApiError::not_found("There is no such case in this service."))?;
    Ok(Json(case_view(&row)))
}

#[derive(Deserialize, ToSchema)]
pub struct DirectReferralRequest {
    #[schema(value_type = uuid::Uuid)]
    pub person_id: PersonId,
    /// One of the service's referral sources other than `hub` (police, marac, partner, self, ...).
    pub source: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub safe_contact: SafeContact,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub safe_times: Vec<TimeBand>,
    #[serde(default)]
    pub domestic_abuse: bool,
    #[serde(default)]
    pub enhanced_rights: bool,
    /// The victim's date of birth, YYYY-MM-DD, for the age band on the day of referral (under 18 counted apart).
    pub date_of_birth: Option<NaiveDate>,
}

/// A referral made directly to the service (police, MARAC, partner, self).
#[utoipa::path(post, path = "/api/specialist/{service}/cases", request_body = DirectReferralRequest,
    params(("service" = String, Path, description = "service code")),
    responses((status = 201, body = CaseWritten), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn refer_directly(
    State(desk): State<Desk>,
    Path(service): Path<String>,
    Json(request): Json<DirectReferralRequest>,
) -> Result<(StatusCode, Json<CaseWritten>), ApiError> {
    Ok((StatusCode::CREATED, Json(desk.refer_directly(&service, request).await?)))
}

impl Desk {
    /// Opens a case for a referral made directly to `service`.
    pub async fn refer_directly(&self, service: &str, request: DirectReferralRequest) -> Result<CaseWritten, ApiError> {
        let desk = self;
        let definition = desk.service(service)?;
        let source = request.source.trim().to_lowercase();
        if source == "hub" || !definition.referral_sources.contains(&source) {
            let sources: Vec<&str> =
                definition.referral_sources.iter().map(String::as_str).filter(|s| *s != "hub").collect();
            return Err(ApiError::rejected(
                "unknown_source",
                format!("{} takes direct referrals from {}", definition.name, sources.join(", ")),
            ));
        }
        let today = casetrack_platform::clock::now().date_naive();
        if request.date_of_birth.is_some_and(|born| born > today) {
            return Err(ApiError::rejected("date_of_birth_in_future", "The date of birth cannot be in the future."));
        }
        let case_id = CaseId::new();
        let command = CaseOpened {
            case_id,
            service: definition.code.clone(),
            person_id: request.person_id,
            origin: CaseOrigin::Direct { source },
            safe_contact: request.safe_contact,
            safe_times: request.safe_times,
            domestic_abuse: request.domestic_abuse,
            enhanced_rights: request.enhanced_rights,
            age_band: request.date_of_birth.and_then(|born| AgeBand::at(born, today)),
        };
        let meta = CommandMeta::new(acting(), casetrack_platform::clock::now());
        let executed = execute::<Case, _>(&desk.ctx.log, case_id.0, &meta, |state| case::open(state, command.clone()))
            .await
            .map_err(ApiError::from)?;
        Ok(CaseWritten { case_id, position: executed.position.map_or(0, |p| p.0) })
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ReasonRequest {
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CaseworkerRequest {
    /// The caseworker's user name, e.g. `s.jones`.
    pub caseworker: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SafeContactRequest {
    #[serde(default)]
    #[schema(value_type = Object)]
    pub safe_contact: SafeContact,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub safe_times: Vec<TimeBand>,
}

#[derive(Deserialize, ToSchema)]
pub struct AttemptRequest {
    #[schema(value_type = String, example = "phone")]
    pub channel: ContactChannel,
    pub attempted_at: chrono::DateTime<chrono::Utc>,
    #[schema(value_type = String, example = "no_answer")]
    pub outcome: AttemptOutcome,
}

#[derive(Deserialize, ToSchema)]
pub struct RiskRequest {
    /// dash (24 answers), s_dash (11 answers) or professional (no answers).
    #[schema(value_type = String, example = "dash")]
    pub checklist: RiskChecklist,
    /// yes, no or unknown per question, in checklist order.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub answers: Vec<YesNoUnknown>,
    /// standard, medium or high (a DASH score of 14 or more is high whatever is given).
    #[schema(value_type = String, example = "medium")]
    pub level: RiskLevel,
    /// professional_judgement, escalation, repeat: why high when the score alone does not make it so.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub reasons: Vec<HighRiskReason>,
    /// YYYY-MM-DD: when the assessment is next due for review.
    pub review_on: Option<NaiveDate>,
    /// The assessment made before closing the case.
    #[serde(default)]
    pub at_closure: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct DateRequest {
    /// YYYY-MM-DD
    pub on: NaiveDate,
}

#[derive(Deserialize, ToSchema)]
pub struct TextRequest {
    /// The plan in the caseworker's words (kept encrypted).
    pub text: String,
    /// YYYY-MM-DD: when the plan is due for review.
    pub review_on: Option<NaiveDate>,
}

#[derive(Deserialize, ToSchema)]
pub struct InterventionRequest {
    /// One of the service's need-category codes.
    pub need: String,
    pub held_on: NaiveDate,
    pub minutes: u32,
}

#[derive(Deserialize, ToSchema)]
pub struct NoteRequest {
    /// The note (kept encrypted).
    pub text: String,
    /// A note that may be withheld from a subject-access export after review.
    #[serde(default)]
    pub restricted: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct CloseRequest {
    /// support_completed, disengaged_later, transferred_out or moved_away
    #[schema(value_type = String, example = "support_completed")]
    pub reason: ClosureReason,
    pub answers: Vec<CloseAnswer>,
}

#[derive(Deserialize, ToSchema)]
pub struct CloseAnswer {
    pub measure: String,
    #[schema(value_type = String, example = "improved")]
    pub answer: OutcomeAnswer,
}

fn not_future(day: NaiveDate, what: &str) -> Result<(), ApiError> {
    if day > casetrack_platform::clock::now().date_naive() {
        return Err(ApiError::rejected("date_in_future", format!("The {what} cannot be in the future.")));
    }
    Ok(())
}

fn text(value: &str, what: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::rejected("text_required", format!("Write the {what}.")));
    }
    if value.chars().count() > 10_000 {
        return Err(ApiError::rejected("text_too_long", format!("The {what} can be at most 10,000 characters.")));
    }
    Ok(value.to_owned())
}

impl Desk {
    pub async fn accept(&self, service: &str, case_id: CaseId) -> Result<CaseWritten, ApiError> {
        self.decide(service, case_id, |state, _| case::accept(state, case_id)).await
    }

    pub async fn decline(
        &self,
        service: &str,
        case_id: CaseId,
        request: ReasonRequest,
    ) -> Result<CaseWritten, ApiError> {
        self.decide(service, case_id, |state, _| case::decline_referral(state, case_id, &request.reason)).await
    }

    pub async fn withdraw(
        &self,
        service: &str,
        case_id: CaseId,
        request: ReasonRequest,
    ) -> Result<CaseWritten, ApiError> {
        self.decide(service, case_id, |state, _| case::withdraw(state, case_id, &request.reason)).await
    }

    pub async fn allocate(
        &self,
        service: &str,
        case_id: CaseId,
        request: CaseworkerRequest,
    ) -> Result<CaseWritten, ApiError> {
        let worker =
            StaffName::parse(&request.caseworker).map_err(|why| ApiError::rejected("caseworker_invalid", why))?;
        self.decide(service, case_id, |state, _| case::allocate(state, case_id, worker.clone())).await
    }

    pub async fn update_safe_contact(
        &self,
        service: &str,
        case_id: CaseId,
        request: SafeContactRequest,
    ) -> Result<CaseWritten, ApiError> {
        self.decide(service, case_id, |state, _| {
            case::update_safe_contact(state, case_id, request.safe_contact.clone(), request.safe_times.clone())
        })
        .await
    }

    pub async fn record_attempt(
        &self,
        service: &str,
        case_id: CaseId,
        request: AttemptRequest,
    ) -> Result<CaseWritten, ApiError> {
        let time_band =
            casetrack_platform::contact::attempt_band(request.attempted_at, casetrack_platform::clock::now())
                .map_err(|why| ApiError::rejected("attempt_in_future", why))?;
        let attempt = CaseContactAttemptRecorded {
            case_id,
            channel: request.channel,
            attempted_at: request.attempted_at,
            time_band,
            outcome: request.outcome,
        };
        let meta = CommandMeta::new(acting(), request.attempted_at);
        self.decide_with(&meta, service, case_id, |state, _| case::record_attempt(state, attempt.clone())).await
    }

    pub async fn record_unable_to_contact(&self, service: &str, case_id: CaseId) -> Result<CaseWritten, ApiError> {
        self.decide(service, case_id, |state, definition| {
            case::record_unable_to_contact(state, case_id, definition.attempt_rule)
        })
        .await
    }

    pub async fn support_declined(
        &self,
        service: &str,
        case_id: CaseId,
        request: ReasonRequest,
    ) -> Result<CaseWritten, ApiError> {
        self.decide(service, case_id, |state, _| case::support_declined(state, case_id, &request.reason)).await
    }

    pub async fn assess_risk(
        &self,
        service: &str,
        case_id: CaseId,
        request: RiskRequest,
    ) -> Result<CaseWritten, ApiError> {
        if request.review_on.is_some_and(|day| day < casetrack_platform::clock::now().date_naive()) {
            return Err(ApiError::rejected("review_in_past", "The review date cannot be in the past."));
        }
        let assessment = Assessment {
            checklist: request.checklist,
            answers: request.answers,
            level: request.level,
            reasons: request.reasons,
            review_on: request.review_on,
            at_closure: request.at_closure,
        };
        self.decide(service, case_id, |state, _| case::assess_risk(state, case_id, assessment.clone())).await
    }

    pub async fn refer_to_marac(
        &self,
        service: &str,
        case_id: CaseId,
        request: DateRequest,
    ) -> Result<CaseWritten, ApiError> {
        not_future(request.on, "date of the MARAC referral")?;
        self.decide(service, case_id, |state, definition| {
            case::refer_to_marac(state, case_id, definition.kind, request.on)
        })
        .await
    }

    /// A repeat MARAC is one where the same person was heard at MARAC in the 12 months before this hearing (this
    /// case or another of the service's, as its read model holds them).
    pub async fn marac_heard(
        &self,
        service: &str,
        case_id: CaseId,
        request: DateRequest,
    ) -> Result<CaseWritten, ApiError> {
        not_future(request.on, "date of the MARAC hearing")?;
        let definition = self.service(service)?;
        let person = self.person_of(definition, case_id).await?;
        let year_before = request.on.checked_sub_months(chrono::Months::new(12)).unwrap_or(request.on);
        let earlier: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM specialist_cases WHERE person_id = $1 AND service = $2 \
             AND marac_heard_on IS NOT NULL AND marac_heard_on >= $3 AND marac_heard_on < $4",
        )
        .bind(person.to_string())
        .bind(definition.code.as_str().to_owned())
        .bind(year_before.to_string())
        .bind(request.on.to_string())
        .fetch_one(self.ctx.db.pool())
        .await
        .map_err(ApiError::unavailable)?;
        self.decide(service, case_id, |state, _| case::marac_heard(state, case_id, request.on, earlier > 0)).await
    }

    pub async fn record_plan(
        &self,
        service: &str,
        case_id: CaseId,
        request: TextRequest,
    ) -> Result<CaseWritten, ApiError> {
        let plan = text(&request.text, "plan")?;
        let meta = CommandMeta::new(acting(), casetrack_platform::clock::now());
        let sealed = self.seal(&meta, service, case_id, &plan).await?;
        self.decide_with(&meta, service, case_id, |state, _| {
            case::record_plan(state, case_id, sealed.clone(), request.review_on)
        })
        .await
    }

    pub async fn record_intervention(
        &self,
        service: &str,
        case_id: CaseId,
        request: InterventionRequest,
    ) -> Result<CaseWritten, ApiError> {
        let definition = self.service(service)?;
        if !definition.need_categories.iter().any(|c| c.code == request.need) {
            let known: Vec<&str> = definition.need_categories.iter().map(|c| c.code.as_str()).collect();
            return Err(ApiError::rejected(
                "unknown_need",
                format!(
                    "{:?} is not a need {} records; use one of {}",
                    request.need,
                    definition.name,
                    known.join(", ")
                ),
            ));
        }
        not_future(request.held_on, "intervention date")?;
        let intervention =
            InterventionRecorded { case_id, need: request.need, held_on: request.held_on, minutes: request.minutes };
        self.decide(service, case_id, |state, _| case::record_intervention(state, intervention.clone())).await
    }

    pub async fn add_note(
        &self,
        service: &str,
        case_id: CaseId,
        request: NoteRequest,
    ) -> Result<CaseWritten, ApiError> {
        let note = text(&request.text, "note")?;
        let meta = CommandMeta::new(acting(), casetrack_platform::clock::now());
        let sealed = self.seal(&meta, service, case_id, &note).await?;
        self.decide_with(&meta, service, case_id, |state, _| {
            case::add_note(state, case_id, sealed.clone(), request.restricted)
        })
        .await
    }

    /// Closes the case with the victim's answers to the service's outcome measures (from the catalogue).
    pub async fn close(&self, service: &str, case_id: CaseId, request: CloseRequest) -> Result<CaseWritten, ApiError> {
        let definition = self.service(service)?;
        let mut answers = Vec::with_capacity(request.answers.len());
        for answer in request.answers {
            if !definition.outcome_measures.iter().any(|m| m.code == answer.measure) {
                let known: Vec<&str> = definition.outcome_measures.iter().map(|m| m.code.as_str()).collect();
                return Err(ApiError::rejected(
                    "unknown_measure",
                    format!(
                        "{:?} is not an outcome measure of {}; use one of {}",
                        answer.measure,
                        definition.name,
                        known.join(", ")
                    ),
                ));
            }
            answers.push(MeasureAnswer { measure: answer.measure, answer: answer.answer });
        }
        self.decide(service, case_id, |state, definition| {
            case::close(state, case_id, definition.kind, request.reason, &definition.measures_version, answers.clone())
        })
        .await
    }

    pub async fn record_cjs_stage(
        &self,
        service: &str,
        case_id: CaseId,
        request: CjsRequest,
    ) -> Result<CaseWritten, ApiError> {
        not_future(request.on, "date of the stage")?;
        self.decide(service, case_id, |state, d| {
            case::record_cjs_stage(state, case_id, d.kind, request.stage, request.on)
        })
        .await
    }

    pub async fn record_spo(
        &self,
        service: &str,
        case_id: CaseId,
        request: SpoRequest,
    ) -> Result<CaseWritten, ApiError> {
        not_future(request.on, "date of the order")?;
        self.decide(service, case_id, |state, d| case::record_spo(state, case_id, d.kind, request.status, request.on))
            .await
    }

    pub async fn rj_information(
        &self,
        service: &str,
        case_id: CaseId,
        request: DateRequest,
    ) -> Result<CaseWritten, ApiError> {
        not_future(request.on, "date the information was given")?;
        self.decide(service, case_id, |state, d| case::rj_information_given(state, case_id, d.kind, request.on)).await
    }

    pub async fn rj_suitability(
        &self,
        service: &str,
        case_id: CaseId,
        request: SuitabilityRequest,
    ) -> Result<CaseWritten, ApiError> {
        self.decide(service, case_id, |state, d| {
            case::rj_suitability(state, case_id, d.kind, request.suitable, &request.reason)
        })
        .await
    }

    pub async fn rj_offender_consent(
        &self,
        service: &str,
        case_id: CaseId,
        request: OffenderConsentRequest,
    ) -> Result<CaseWritten, ApiError> {
        self.decide(service, case_id, |state, d| case::offender_consent(state, case_id, d.kind, request.consents)).await
    }

    pub async fn rj_form(
        &self,
        service: &str,
        case_id: CaseId,
        request: RjFormRequest,
    ) -> Result<CaseWritten, ApiError> {
        self.decide(service, case_id, |state, d| case::rj_form(state, case_id, d.kind, request.form)).await
    }

    pub async fn rj_outcome(
        &self,
        service: &str,
        case_id: CaseId,
        request: RjOutcomeRequest,
    ) -> Result<CaseWritten, ApiError> {
        self.decide(service, case_id, |state, d| {
            case::rj_conclude(state, case_id, d.kind, request.outcome, request.satisfaction)
        })
        .await
    }

    pub async fn reopen(
        &self,
        service: &str,
        case_id: CaseId,
        request: ReasonRequest,
    ) -> Result<CaseWritten, ApiError> {
        self.decide(service, case_id, |state, _| case::reopen(state, case_id, &request.reason)).await
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CjsRequest {
    /// not_reported, reported, under_investigation, charged, trial, verdict or no_further_action
    #[schema(value_type = String, example = "charged")]
    pub stage: CjsStage,
    pub on: NaiveDate,
}

#[derive(Deserialize, ToSchema)]
pub struct SpoRequest {
    /// applied, granted or refused
    #[schema(value_type = String, example = "applied")]
    pub status: SpoStatus,
    pub on: NaiveDate,
}

#[derive(Deserialize, ToSchema)]
pub struct SuitabilityRequest {
    pub suitable: bool,
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
pub struct OffenderConsentRequest {
    pub consents: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct RjFormRequest {
    /// face_to_face_conference, shuttle_mediation or indirect_communication
    #[schema(value_type = String, example = "shuttle_mediation")]
    pub form: RjForm,
}

#[derive(Deserialize, ToSchema)]
pub struct RjOutcomeRequest {
    /// completed, withdrawn_by_victim, withdrawn_by_offender or unsuitable
    #[schema(value_type = String, example = "completed")]
    pub outcome: RjOutcome,
    /// 1 (very dissatisfied) to 5 (very satisfied), when asked.
    pub satisfaction: Option<u8>,
}

/// Writes one POST route per case action: its OpenAPI entry and a thin wrapper over the `Desk` method.
macro_rules! case_route {
    ($(#[$doc:meta])* $name:ident, $path:literal, $method:ident) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path,
            params(("service" = String, Path, description = "service code"), ("case_id" = uuid::Uuid, Path, description = "the case")),
            responses((status = 200, body = CaseWritten), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
                (status = 503, body = ErrorBody)))]
        pub async fn $name(
            State(desk): State<Desk>,
            Path((service, case_id)): Path<(String, CaseId)>,
        ) -> Result<Json<CaseWritten>, ApiError> {
            Ok(Json(desk.$method(&service, case_id).await?))
        }
    };
    ($(#[$doc:meta])* $name:ident, $path:literal, $request:ty, $method:ident) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, request_body = $request,
            params(("service" = String, Path, description = "service code"), ("case_id" = uuid::Uuid, Path, description = "the case")),
            responses((status = 200, body = CaseWritten), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
                (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
        pub async fn $name(
            State(desk): State<Desk>,
            Path((service, case_id)): Path<(String, CaseId)>,
            Json(request): Json<$request>,
        ) -> Result<Json<CaseWritten>, ApiError> {
            Ok(Json(desk.$method(&service, case_id, request).await?))
        }
    };
}

case_route!(
    /// The service takes the referral on.
    accept_route, "/api/specialist/{service}/cases/{case_id}/accept", accept
);
case_route!(
    /// The service declines the referral, with the reason (the referrer sees it).
    decline_route, "/api/specialist/{service}/cases/{case_id}/decline", ReasonRequest, decline
);
case_route!(
    /// The referrer withdrew the referral.
    withdraw_route, "/api/specialist/{service}/cases/{case_id}/withdraw", ReasonRequest, withdraw
);
case_route!(
    /// Allocates the case to a caseworker (or re-allocates it).
    allocate_route, "/api/specialist/{service}/cases/{case_id}/allocation", CaseworkerRequest, allocate
);
case_route!(
    /// Replaces the safe-contact rules with what the victim said.
    safe_contact_route, "/api/specialist/{service}/cases/{case_id}/safe-contact", SafeContactRequest, update_safe_contact
);
case_route!(
    /// Records a contact attempt: an unsafe channel, or a call outside the safe times, is refused with the reason.
    attempt_route, "/api/specialist/{service}/cases/{case_id}/contact-attempts", AttemptRequest, record_attempt
);
case_route!(
    /// Unable to contact: refused until the service's attempt rule is met.
    unable_route, "/api/specialist/{service}/cases/{case_id}/unable-to-contact", record_unable_to_contact
);
case_route!(
    /// The victim, once reached, declined support.
    support_declined_route, "/api/specialist/{service}/cases/{case_id}/support-declined", ReasonRequest, support_declined
);
case_route!(
    /// A risk assessment (DASH, S-DASH or professional), with its review date.
    risk_route, "/api/specialist/{service}/cases/{case_id}/risk-assessments", RiskRequest, assess_risk
);
case_route!(
    /// Refers a high-risk IDVA case to MARAC.
    marac_referral_route, "/api/specialist/{service}/cases/{case_id}/marac-referral", DateRequest, refer_to_marac
);
case_route!(
    /// MARAC heard the case (a repeat within 12 months is flagged).
    marac_hearing_route, "/api/specialist/{service}/cases/{case_id}/marac-hearing", DateRequest, marac_heard
);
case_route!(
    /// Records the safety or support plan (kept encrypted).
    plan_route, "/api/specialist/{service}/cases/{case_id}/plan", TextRequest, record_plan
);
case_route!(
    /// Records an intervention against one of the service's needs.
    intervention_route, "/api/specialist/{service}/cases/{case_id}/interventions", InterventionRequest, record_intervention
);
case_route!(
    /// Adds a case note (kept encrypted; restricted notes are marked for review in a subject-access export).
    note_route, "/api/specialist/{service}/cases/{case_id}/notes", NoteRequest, add_note
);
case_route!(
    /// Closes the case with a reason and the victim's answers to the service's outcome measures.
    close_route, "/api/specialist/{service}/cases/{case_id}/closure", CloseRequest, close
);
case_route!(
    /// ISVA: the criminal-justice process reached a stage.
    cjs_route, "/api/specialist/{service}/cases/{case_id}/cjs-stage", CjsRequest, record_cjs_stage
);
case_route!(
    /// Stalking: a Stalking Protection Order applied for, granted or refused.
    spo_route, "/api/specialist/{service}/cases/{case_id}/spo", SpoRequest, record_spo
);
case_route!(
    /// RJ: the victim was given information about restorative justice (the Victims' Code clock stops).
    rj_information_route, "/api/specialist/{service}/cases/{case_id}/rj/information", DateRequest, rj_information
);
case_route!(
    /// RJ: whether restorative justice is suitable and safe here.
    rj_suitability_route, "/api/specialist/{service}/cases/{case_id}/rj/suitability", SuitabilityRequest, rj_suitability
);
case_route!(
    /// RJ: whether the offender agreed to take part.
    rj_consent_route, "/api/specialist/{service}/cases/{case_id}/rj/offender-consent", OffenderConsentRequest, rj_offender_consent
);
case_route!(
    /// RJ: the form the process takes.
    rj_form_route, "/api/specialist/{service}/cases/{case_id}/rj/form", RjFormRequest, rj_form
);
case_route!(
    /// RJ: how the process ended and the victim's satisfaction.
    rj_outcome_route, "/api/specialist/{service}/cases/{case_id}/rj/outcome", RjOutcomeRequest, rj_outcome
);
case_route!(
    /// Opens an ended case again (not one the service declined or the referrer withdrew).
    reopen_route, "/api/specialist/{service}/cases/{case_id}/reopening", ReasonRequest, reopen
);

//! A referral made directly to a service (police, MARAC, partner, self: any of its referral sources but the hub)
//! opens a case, dated when the referral was received. Either the victim is already registered
//! ([`DirectReferralRequest`]: refused unless their id names someone registered and not erased), or the referral
//! gives the victim's details ([`NewVictimReferral`], from the direct-referral page or its API route,
//! [`NewVictimReferralRequest`]) and the person is registered first, sealed and with the duplicate match key as
//! the hub registers them, every id derived from the submission's id so that sending the same referral twice
//! creates nothing twice.

use std::sync::Mutex;

use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_casework::occurred::{Lateness, RecordTimes, Step, check};
use casetrack_eventstore::command::{CommandError, CommandMeta, execute_timed};
use casetrack_people::interface::standing;
use casetrack_people::interface::{DetailsInput, PersonRejection, PersonalDetails, parse_details, register};
use casetrack_proto::contact::{SafeContact, TimeBand};
use casetrack_proto::hub::OffenceCategory;
use casetrack_proto::profile::{AgeBand, Nationality};
use casetrack_proto::specialist::{CaseOpened, CaseOrigin};
use casetrack_proto::{CaseId, CommandId, PersonId};
use casetrack_web::access::acting;
use casetrack_web::http::ApiError;
use chrono::NaiveDate;
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::when::{Stated, WhenRequest};
use super::{CaseWritten, refusal};
use crate::case::{self, Case, When};
use crate::state::Desk;

#[derive(Deserialize, Serialize, ToSchema)]
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
    /// What the referral is about: violence_with_injury, sexual_offence, stalking_harassment, ... (counted in the
    /// figures by offence, as the hub's referrals are).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "sexual_offence")]
    pub offence_category: Option<OffenceCategory>,
    /// The victim's nationality as they give it: an ISO 3166-1 country code (GB, PL, UA, ...).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "GB")]
    pub nationality: Option<Nationality>,
    /// When the referral was received (`occurred_at`), and why it is recorded late.
    #[serde(flatten)]
    pub when: WhenRequest,
}

/// A direct referral of a victim not registered yet: their details, and the referral's facts.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct NewVictimReferralRequest {
    /// An id the caller makes up for this referral: sending it again with the same id creates nothing twice.
    /// Left out: a new one.
    pub submission_id: Option<Uuid>,
    /// The victim's details: sealed with a key of their own before anything is written, and matched (by a keyed
    /// hash of name and date of birth) against the people already registered, for a person to decide on.
    pub person: DetailsInput,
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
    /// What the referral is about: violence_with_injury, sexual_offence, stalking_harassment, ... (counted in the
    /// figures by offence, as the hub's referrals are).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "sexual_offence")]
    pub offence_category: Option<OffenceCategory>,
    /// The victim's nationality as they give it: an ISO 3166-1 country code (GB, PL, UA, ...).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "GB")]
    pub nationality: Option<Nationality>,
    /// When the referral was received (`occurred_at`), and why it is recorded late.
    #[serde(flatten)]
    pub when: WhenRequest,
}

/// What a direct referral of a new victim wrote: the person registered and the case opened.
#[derive(Serialize, ToSchema)]
pub struct NewVictimWritten {
    #[schema(value_type = uuid::Uuid)]
    pub person_id: PersonId,
    #[schema(value_type = uuid::Uuid)]
    pub case_id: CaseId,
    /// Log position of the case's opening: pass it as `wait_for` to read your own write.
    pub position: u64,
}

/// A direct referral with the victim's details, as the direct-referral page takes it (already checked there).
pub struct NewVictimReferral {
    /// The form's submission id: every id derives from it.
    pub submission: Uuid,
    /// One of the service's direct sources ([`is_direct_source`]).
    pub source: String,
    pub details: PersonalDetails,
    pub safe_contact: SafeContact,
    pub safe_times: Vec<TimeBand>,
    pub domestic_abuse: bool,
    pub enhanced_rights: bool,
    pub offence_category: Option<OffenceCategory>,
    pub nationality: Option<Nationality>,
    /// When the referral was received, and why it is recorded late.
    pub when: WhenRequest,
}

/// Whether `source` may refer to the service directly: one of its referral sources, and not the hub (whose
/// referrals arrive as onward referrals).
pub fn is_direct_source(definition: &ServiceDefinition, source: &str) -> bool {
    source != "hub" && definition.referral_sources.iter().any(|s| s == source)
}

/// Refused (422) when the service's eligibility rule does not take a victim of `age_band` on the day of referral.
fn eligible(definition: &ServiceDefinition, age_band: Option<AgeBand>) -> Result<(), ApiError> {
    match definition.refuses(age_band) {
        None => Ok(()),
        Some(why) => Err(ApiError::rejected("not_eligible", why)),
    }
}

fn unknown_source(definition: &ServiceDefinition) -> ApiError {
    let sources: Vec<&str> = definition.referral_sources.iter().map(String::as_str).filter(|s| *s != "hub").collect();
    ApiError::rejected(
        "unknown_source",
        format!("{} takes direct referrals from {}", definition.name, sources.join(", ")),
    )
}

impl Desk {
    /// Opens a case for a referral made directly to `service` about a registered person: refused (422, nothing
    /// written) when nobody is registered under the id, or the person was erased.
    pub async fn refer_directly(&self, service: &str, request: DirectReferralRequest) -> Result<CaseWritten, ApiError> {
        let definition = self.service(service)?;
        let source = request.source.trim().to_lowercase();
        if !is_direct_source(definition, &source) {
            return Err(unknown_source(definition));
        }
        let now = casetrack_eventstore::clock::now();
        let today = now.date_naive();
        if request.date_of_birth.is_some_and(|born| born > today) {
            return Err(ApiError::rejected("date_of_birth_in_future", "The date of birth cannot be in the future."));
        }
        let when = Stated::Given(&request.when).when(now, self.back_dating())?;
        let person = standing(&self.ctx, request.person_id).await.map_err(ApiError::unavailable)?;
        if let Some(refusal) = person.refusal() {
            return Err(refusal);
        }
        let age_band = request.date_of_birth.and_then(|born| AgeBand::at(born, referral_day(&when)));
        eligible(definition, age_band)?;
        let case_id = CaseId(casetrack_eventstore::command::new_id());
        let command = CaseOpened {
            case_id,
            service: definition.code.clone(),
            person_id: request.person_id,
            origin: CaseOrigin::Direct { source },
            safe_contact: request.safe_contact,
            safe_times: request.safe_times,
            domestic_abuse: request.domestic_abuse,
            enhanced_rights: request.enhanced_rights,
            age_band,
            offence_category: request.offence_category,
            nationality: request.nationality,
        };
        self.open(command, &CommandMeta::new(acting(), when.at), &when).await
    }

    /// Registers the victim and opens the case. Every id derives from the submission's id, so sending the same
    /// referral twice (or again after a failure half-way) creates nothing twice. The person is registered now; the
    /// case opens when the referral was received.
    pub async fn refer_new_victim(
        &self,
        service: &str,
        referral: NewVictimReferral,
    ) -> Result<(PersonId, CaseWritten), ApiError> {
        let definition = self.service(service)?;
        if !is_direct_source(definition, &referral.source) {
            return Err(unknown_source(definition));
        }
        let now = casetrack_eventstore::clock::now();
        let when = Stated::Given(&referral.when).when(now, self.back_dating())?;
        let key = format!("specialist direct {}", referral.submission);
        let derive = |kind: &str| Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{key} {kind}").as_bytes());
        let (person_id, case_id) = (PersonId(derive("person")), CaseId(derive("case")));
        let meta = |kind: &str, at| CommandMeta::repeatable(CommandId(derive(kind)), case_id.0, acting(), at);
        // The time is checked before the person is registered too, so that a refused referral writes nothing (the
        // opening checks it again, as every decision does).
        check(when.at, Step::Begins, RecordTimes::default(), when.now, when.window, when.reason.as_deref())
            .map_err(|rejection| ApiError::rejected(rejection.code(), rejection.to_string()))?;
        let age_band = AgeBand::at(referral.details.date_of_birth, referral_day(&when));
        eligible(definition, age_band)?;
        match register(&self.ctx, person_id, &referral.details, &meta("register", now)).await {
            Ok(_) | Err(CommandError::Rejected(PersonRejection::AlreadyRegistered)) => {}
            Err(error) => return Err(ApiError::from(error)),
        }
        let command = CaseOpened {
            case_id,
            service: definition.code.clone(),
            person_id,
            origin: CaseOrigin::Direct { source: referral.source },
            safe_contact: referral.safe_contact,
            safe_times: referral.safe_times,
            domestic_abuse: referral.domestic_abuse,
            enhanced_rights: referral.enhanced_rights,
            age_band,
            offence_category: referral.offence_category,
            nationality: referral.nationality,
        };
        let written = self.open(command, &meta("open", when.at), &when).await?;
        Ok((person_id, written))
    }

    /// The same from the JSON API: the victim's details as typed, checked as the people service checks them (the
    /// first problem refused, 422).
    pub async fn refer_new_victim_request(
        &self,
        service: &str,
        request: NewVictimReferralRequest,
    ) -> Result<(PersonId, CaseWritten), ApiError> {
        let today = casetrack_eventstore::clock::now().date_naive();
        let details = parse_details(&request.person, today).map_err(|problems| {
            let first = &problems[0];
            ApiError::rejected(first.code, first.message.clone())
        })?;
        let referral = NewVictimReferral {
            submission: request.submission_id.unwrap_or_else(Uuid::new_v4),
            source: request.source.trim().to_lowercase(),
            details,
            safe_contact: request.safe_contact,
            safe_times: request.safe_times,
            domestic_abuse: request.domestic_abuse,
            enhanced_rights: request.enhanced_rights,
            offence_category: request.offence_category,
            nationality: request.nationality,
            when: request.when,
        };
        self.refer_new_victim(service, referral).await
    }

    /// Opens the case at `when` (the opening begins its record: only the future and the back-dating window can
    /// refuse it). Opening an opened case writes nothing.
    async fn open(&self, command: CaseOpened, meta: &CommandMeta, when: &When) -> Result<CaseWritten, ApiError> {
        let case_id = command.case_id;
        let lateness = Mutex::new(Lateness::OnTime);
        let executed = execute_timed::<Case, _>(&self.ctx.log, case_id.0, meta, |state, times| {
            let record = RecordTimes { began: times.first, latest: times.latest };
            let (events, late) = case::timed(case::open(state, command.clone()), record, when)?;
            *lateness.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = late;
            Ok(events)
        })
        .await
        .map_err(refusal)?;
        let lateness = lateness.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(CaseWritten { case_id, position: executed.position.map_or(0, |p| p.0), lateness })
    }
}

/// The day the referral was received, in the UK: the day the victim's age band is taken on.
fn referral_day(when: &When) -> NaiveDate {
    when.at.with_timezone(&London).date_naive()
}

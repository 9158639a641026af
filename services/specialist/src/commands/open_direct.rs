//! A referral made directly to a service (police, MARAC, partner, self: any of its referral sources but the hub)
//! opens a case. Through the API the victim is already registered ([`DirectReferralRequest`]); the direct-referral
//! page gives the victim's details instead ([`NewVictimReferral`]), and the person is registered first, every id
//! derived from the form's submission id so that sending the same form twice creates nothing twice.

use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_eventstore::command::{CommandError, CommandMeta, execute};
use casetrack_people::person::{PersonRejection, PersonalDetails, register_sealed};
use casetrack_platform::access::acting;
use casetrack_platform::http::ApiError;
use casetrack_proto::contact::{SafeContact, TimeBand};
use casetrack_proto::profile::AgeBand;
use casetrack_proto::specialist::{CaseOpened, CaseOrigin};
use casetrack_proto::{CaseId, CommandId, PersonId};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::CaseWritten;
use crate::case::{self, Case};
use crate::state::Desk;

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

/// A direct referral with the victim's details, as the direct-referral page takes it (already checked there).
pub struct NewVictimReferral {
    /// The form's submission id: every id derives from it.
    pub submission: Uuid,
    /// One of the service's direct sources ([`is_direct_source`]).
    pub source: String,
    pub details: PersonalDetails,
    pub safe_contact: SafeContact,
    pub domestic_abuse: bool,
    pub enhanced_rights: bool,
}

/// Whether `source` may refer to the service directly: one of its referral sources, and not the hub (whose
/// referrals arrive as onward referrals).
pub fn is_direct_source(definition: &ServiceDefinition, source: &str) -> bool {
    source != "hub" && definition.referral_sources.iter().any(|s| s == source)
}

fn unknown_source(definition: &ServiceDefinition) -> ApiError {
    let sources: Vec<&str> = definition.referral_sources.iter().map(String::as_str).filter(|s| *s != "hub").collect();
    ApiError::rejected(
        "unknown_source",
        format!("{} takes direct referrals from {}", definition.name, sources.join(", ")),
    )
}

impl Desk {
    /// Opens a case for a referral made directly to `service` about a registered person.
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
        let meta = CommandMeta::new(acting(), now);
        let executed = execute::<Case, _>(&self.ctx.log, case_id.0, &meta, |state| case::open(state, command.clone()))
            .await
            .map_err(ApiError::from)?;
        Ok(CaseWritten { case_id, position: executed.position.map_or(0, |p| p.0) })
    }

    /// Registers the victim and opens the case. Every id derives from the form's submission id, so sending the same
    /// form twice (or again after a failure half-way) creates nothing twice.
    pub async fn refer_new_victim(&self, service: &str, referral: NewVictimReferral) -> Result<CaseWritten, ApiError> {
        let definition = self.service(service)?;
        if !is_direct_source(definition, &referral.source) {
            return Err(unknown_source(definition));
        }
        let key = format!("specialist direct {}", referral.submission);
        let derive = |kind: &str| Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{key} {kind}").as_bytes());
        let (person_id, case_id) = (PersonId(derive("person")), CaseId(derive("case")));
        let now = casetrack_eventstore::clock::now();
        let meta = |kind: &str| CommandMeta::repeatable(CommandId(derive(kind)), case_id.0, acting(), now);
        match register_sealed(&self.ctx, person_id, &referral.details, &meta("register")).await {
            Ok(_) | Err(CommandError::Rejected(PersonRejection::AlreadyRegistered)) => {}
            Err(error) => return Err(ApiError::from(error)),
        }
        let command = CaseOpened {
            case_id,
            service: definition.code.clone(),
            person_id,
            origin: CaseOrigin::Direct { source: referral.source },
            safe_contact: referral.safe_contact,
            safe_times: Vec::new(),
            domestic_abuse: referral.domestic_abuse,
            enhanced_rights: referral.enhanced_rights,
            age_band: AgeBand::at(referral.details.date_of_birth, now.date_naive()),
        };
        let executed =
            execute::<Case, _>(&self.ctx.log, case_id.0, &meta("open"), |state| case::open(state, command.clone()))
                .await
                .map_err(ApiError::from)?;
        Ok(CaseWritten { case_id, position: executed.position.map_or(0, |p| p.0) })
    }
}

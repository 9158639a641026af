//! Receiving a referral for a person already registered (the JSON api, and `casetrack demo`). Referrals taken from
//! the victim are in [`super::direct`], those of the police feed in [`super::intake`].

use casetrack_proto::contact::{ConsentBasis, SafeContact};
use casetrack_proto::hub::{OffenceCategory, ReferralReceived, ReferralSource};
use casetrack_proto::profile::VictimProfile;
use casetrack_proto::{Actor, PersonId, ReferralId};
use casetrack_web::access::acting;
use casetrack_web::http::ApiError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::Written;
use super::when::WhenRequest;
use crate::referral::receive;
use crate::state::Hub;
use crate::values::{ConsentAtReceipt, CrimeReference, InputRejection, not_in_future};

#[derive(Deserialize, Serialize, ToSchema)]
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
    /// When the referral was received (`occurred_at`), and why it is recorded late (`late_reason`).
    #[serde(flatten)]
    pub when: WhenRequest,
}

impl Hub {
    /// Receives a referral for a registered person under the id given, by `by` (the api acts for whoever is signed
    /// in; `casetrack demo` for its officer).
    pub async fn receive(
        &self,
        referral_id: ReferralId,
        request: ReceiveReferralRequest,
        by: Actor,
    ) -> Result<Written, ApiError> {
        let when = self.when(&request.when)?;
        let now = when.now;
        let crime_reference = match &request.crime_reference {
            Some(text) => CrimeReference::parse(text)?.map(CrimeReference::into_inner),
            None => None,
        };
        if let Some(day) = request.crime_reported_on {
            not_in_future(day, now.date_naive(), InputRejection::CrimeReportedInFuture)?;
        }
        let consent = ConsentAtReceipt::parse(request.consent, request.consent_override_reason.as_deref())?;
        // A referral is only for someone registered and not erased: a referral for nobody could never be worked.
        let standing = casetrack_people::interface::standing(self.context(), request.person_id)
            .await
            .map_err(ApiError::unavailable)?;
        if let Some(refusal) = standing.refusal() {
            return Err(refusal);
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
            consent: consent.basis,
            consent_override_reason: consent.override_reason,
            enhanced_rights: request.enhanced_rights,
            profile: request.profile,
        };
        self.decide_by(by, referral_id, &when, |state| receive(state, received.clone())).await
    }

    /// Receives a referral for a registered person, acting for whoever is signed in (the JSON api).
    pub async fn receive_new(&self, request: ReceiveReferralRequest) -> Result<Written, ApiError> {
        self.receive(ReferralId(casetrack_eventstore::command::new_id()), request, acting()).await
    }
}

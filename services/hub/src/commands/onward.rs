//! Passing the victim on to a specialist service: their consent first (an opt-out police referral does not cover
//! it), then the onward referral, only to a service of the catalogue that takes referrals from the hub. The
//! service's reactor opens a case from it, and the case's progress flows back to the hub (the closed loop).

use casetrack_proto::contact::ConsentBasis;
use casetrack_proto::{ReferralId, ServiceCode};
use casetrack_web::http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::Written;
use super::when::WhenRequest;
use crate::referral::{record_consent, refer_on, refer_on_to};
use crate::state::Hub;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ConsentRequest {
    /// explicit (the victim agreed) or overridden (with the reason).
    #[schema(value_type = String, example = "explicit")]
    pub basis: ConsentBasis,
    pub override_reason: Option<String>,
    /// When the victim gave it (`occurred_at`), and why it is recorded late (`late_reason`).
    #[serde(flatten)]
    pub when: WhenRequest,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct OnwardReferralRequest {
    /// Service code: idva, isva, stalking, rj, or a configured service.
    #[schema(value_type = String, example = "idva")]
    pub service: ServiceCode,
    /// When the referral was made (`occurred_at`), and why it is recorded late (`late_reason`).
    #[serde(flatten)]
    pub when: WhenRequest,
}

impl Hub {
    pub async fn record_consent(&self, referral_id: ReferralId, request: ConsentRequest) -> Result<Written, ApiError> {
        let when = self.when(&request.when)?;
        self.decide_when(referral_id, &when, |state| {
            record_consent(state, referral_id, request.basis, request.override_reason.as_deref())
        })
        .await
    }

    /// Refers on to a service of the catalogue that takes referrals from the hub.
    pub async fn refer_on(&self, referral_id: ReferralId, request: OnwardReferralRequest) -> Result<Written, ApiError> {
        let OnwardReferralRequest { service, when } = request;
        if service.as_str() == "hub" {
            let when = self.when(&when)?;
            return self.decide_when(referral_id, &when, |state| refer_on(state, referral_id, service.clone())).await;
        }
        let definition = self
            .context()
            .catalogue
            .get(service.as_str())
            .filter(|definition| definition.referral_sources.iter().any(|s| s == "hub"))
            .cloned()
            .ok_or_else(|| {
                ApiError::rejected("unknown_service", format!("{service} is not a service the hub can refer to"))
            })?;
        let when = self.when(&when)?;
        self.decide_when(referral_id, &when, |state| refer_on_to(state, referral_id, &definition)).await
    }
}

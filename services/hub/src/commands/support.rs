//! Working with a contacted victim: support accepted or declined, their needs assessed (against the hub's need
//! categories), and the support sessions held.

use casetrack_platform::http::ApiError;
use casetrack_proto::ReferralId;
use casetrack_proto::hub::{SessionMode, SupportSessionRecorded};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use super::handler::Written;
use crate::referral::{accept_support, assess_needs, decline_support, record_session};
use crate::state::Hub;
use crate::values::{InputRejection, not_in_future};

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

impl Hub {
    /// The contacted victim accepted support.
    pub async fn accept_support(&self, referral_id: ReferralId) -> Result<Written, ApiError> {
        self.decide(referral_id, |state| accept_support(state, referral_id)).await
    }

    /// The contacted victim declined support, for a reason.
    pub async fn decline_support(&self, referral_id: ReferralId, reason: &str) -> Result<Written, ApiError> {
        self.decide(referral_id, |state| decline_support(state, referral_id, reason)).await
    }

    pub async fn assess_needs(&self, referral_id: ReferralId, request: NeedsRequest) -> Result<Written, ApiError> {
        crate::needs::validate(&request.needs).map_err(|why| ApiError::rejected("unknown_need", why))?;
        self.decide(referral_id, |state| assess_needs(state, referral_id, request.needs.clone())).await
    }

    pub async fn record_session(&self, referral_id: ReferralId, request: SessionRequest) -> Result<Written, ApiError> {
        let today = casetrack_eventstore::clock::now().date_naive();
        not_in_future(request.held_on, today, InputRejection::SessionInFuture)?;
        let session = SupportSessionRecorded {
            referral_id,
            held_on: request.held_on,
            mode: request.mode,
            minutes: request.minutes,
        };
        self.decide(referral_id, |state| record_session(state, session.clone())).await
    }
}

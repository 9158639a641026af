//! Working with a contacted victim: support accepted or declined, their needs assessed (against the hub's need
//! categories), and the support sessions held.

use casetrack_proto::ReferralId;
use casetrack_proto::hub::{SessionMode, SupportSessionRecorded};
use casetrack_web::http::ApiError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::contact::ReasonRequest;
use super::handler::Written;
use super::when::WhenRequest;
use crate::referral::{accept_support, assess_needs, decline_support, record_session};
use crate::state::Hub;
use crate::values::{self, InputRejection, not_in_future};

#[derive(Deserialize, Serialize, ToSchema)]
pub struct NeedsRequest {
    /// Need-category codes, e.g. `emotional_support`.
    pub needs: Vec<String>,
    /// When they were assessed (`occurred_at`), and why it is recorded late (`late_reason`).
    #[serde(flatten)]
    pub when: WhenRequest,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct SessionRequest {
    /// YYYY-MM-DD
    pub held_on: NaiveDate,
    /// phone, in_person, video or written
    #[schema(value_type = String, example = "phone")]
    pub mode: SessionMode,
    pub minutes: u32,
    /// When it was held (`occurred_at`; left out: `held_on`, at 12:00 UK time or now for today), and why it is
    /// recorded late (`late_reason`).
    #[serde(flatten)]
    pub when: WhenRequest,
}

impl Hub {
    /// The contacted victim accepted support.
    pub async fn accept_support(&self, referral_id: ReferralId, request: &WhenRequest) -> Result<Written, ApiError> {
        let when = self.when(request)?;
        self.decide_when(referral_id, &when, |state| accept_support(state, referral_id)).await
    }

    /// The contacted victim declined support, for a reason.
    pub async fn decline_support(&self, referral_id: ReferralId, request: &ReasonRequest) -> Result<Written, ApiError> {
        let when = self.when(&request.when)?;
        self.decide_when(referral_id, &when, |state| decline_support(state, referral_id, &request.reason)).await
    }

    pub async fn assess_needs(&self, referral_id: ReferralId, request: NeedsRequest) -> Result<Written, ApiError> {
        crate::needs::validate(&request.needs).map_err(|why| ApiError::rejected("unknown_need", why))?;
        let when = self.when(&request.when)?;
        self.decide_when(referral_id, &when, |state| assess_needs(state, referral_id, request.needs.clone())).await
    }

    /// Records a support session; it happened on the day it was held unless said otherwise.
    pub async fn record_session(&self, referral_id: ReferralId, request: SessionRequest) -> Result<Written, ApiError> {
        let now = casetrack_eventstore::clock::now();
        let today = now.date_naive();
        not_in_future(request.held_on, today, InputRejection::SessionInFuture)?;
        let when = match request.when.occurred_at {
            Some(_) => self.when(&request.when)?,
            None => self.when_at(values::on_day(request.held_on, now), now, request.when.late_reason.as_deref()),
        };
        let session = SupportSessionRecorded {
            referral_id,
            held_on: request.held_on,
            mode: request.mode,
            minutes: request.minutes,
        };
        self.decide_when(referral_id, &when, |state| record_session(state, session.clone())).await
    }
}

//! Trying to reach the victim: contact attempts, "unable to contact" once the hub's attempt rule is met, outreach
//! letters and emails, and returning the referral to whoever sent it when there is no safe way to reach them.

use casetrack_platform::http::ApiError;
use casetrack_proto::ReferralId;
use casetrack_proto::contact::{AttemptOutcome, ContactChannel};
use casetrack_proto::hub::ContactAttemptRecorded;
use serde::Deserialize;
use utoipa::ToSchema;

use super::handler::Written;
use crate::referral::{record_attempt, record_unable_to_contact, return_to_referrer, send_outreach};
use crate::state::Hub;

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

#[derive(Deserialize, ToSchema)]
pub struct OutreachRequest {
    /// letter or email
    #[schema(value_type = String, example = "letter")]
    pub channel: ContactChannel,
}

#[derive(Deserialize, ToSchema)]
pub struct ReasonRequest {
    pub reason: String,
}

impl Hub {
    pub async fn record_attempt(
        &self,
        referral_id: ReferralId,
        request: ContactAttemptRequest,
    ) -> Result<Written, ApiError> {
        let time_band =
            casetrack_casework::contact::attempt_band(request.attempted_at, casetrack_eventstore::clock::now())
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
        let rule = self.settings().attempt_rule;
        self.decide(referral_id, |state| record_unable_to_contact(state, referral_id, rule)).await
    }

    pub async fn send_outreach(&self, referral_id: ReferralId, request: OutreachRequest) -> Result<Written, ApiError> {
        self.decide(referral_id, |state| send_outreach(state, referral_id, request.channel)).await
    }

    /// Returns the referral to whoever sent it: no safe or valid way to reach the victim.
    pub async fn return_to_referrer(&self, referral_id: ReferralId, reason: &str) -> Result<Written, ApiError> {
        self.decide(referral_id, |state| return_to_referrer(state, referral_id, reason)).await
    }
}

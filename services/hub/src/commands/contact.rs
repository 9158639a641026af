//! Trying to reach the victim: contact attempts, "unable to contact" once the hub's attempt rule is met, outreach
//! letters and emails, and returning the referral to whoever sent it when there is no safe way to reach them.

use casetrack_proto::ReferralId;
use casetrack_proto::contact::{AttemptOutcome, ContactChannel};
use casetrack_proto::hub::ContactAttemptRecorded;
use casetrack_web::http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::Written;
use super::when::WhenRequest;
use crate::referral::{record_attempt, record_unable_to_contact, return_to_referrer, send_outreach};
use crate::state::Hub;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ContactAttemptRequest {
    #[schema(value_type = String, example = "phone")]
    pub channel: ContactChannel,
    /// When the attempt was made (RFC 3339); the time of day is worked out in UK local time.
    pub attempted_at: chrono::DateTime<chrono::Utc>,
    /// reached, no_answer, voicemail_left, wrong_number or unsafe (someone else answered).
    #[schema(value_type = String, example = "no_answer")]
    pub outcome: AttemptOutcome,
    /// Why it is being recorded late: needed only when `attempted_at` (the attempt's domain time) is further back
    /// than the hub's back-dating window (14 days unless set); the command is then flagged in the audit trail.
    pub late_reason: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct OutreachRequest {
    /// letter or email
    #[schema(value_type = String, example = "letter")]
    pub channel: ContactChannel,
    /// When it was sent (`occurred_at`), and why it is recorded late (`late_reason`).
    #[serde(flatten)]
    pub when: WhenRequest,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ReasonRequest {
    pub reason: String,
    /// When it happened (`occurred_at`), and why it is recorded late (`late_reason`).
    #[serde(flatten)]
    pub when: WhenRequest,
}

impl Hub {
    pub async fn record_attempt(
        &self,
        referral_id: ReferralId,
        request: ContactAttemptRequest,
    ) -> Result<Written, ApiError> {
        let now = casetrack_eventstore::clock::now();
        let time_band = casetrack_casework::contact::attempt_band(request.attempted_at, now)
            .map_err(|why| ApiError::rejected("attempt_in_future", why))?;
        let attempt = ContactAttemptRecorded {
            referral_id,
            channel: request.channel,
            attempted_at: request.attempted_at,
            time_band,
            outcome: request.outcome,
        };
        // The attempt happened when it was made, not when it was typed in: that is its domain time.
        let when = self.when_at(request.attempted_at, now, request.late_reason.as_deref());
        self.decide_when(referral_id, &when, |state| record_attempt(state, attempt.clone())).await
    }

    pub async fn record_unable_to_contact(
        &self,
        referral_id: ReferralId,
        request: &WhenRequest,
    ) -> Result<Written, ApiError> {
        let rule = self.settings().attempt_rule;
        let when = self.when(request)?;
        self.decide_when(referral_id, &when, |state| record_unable_to_contact(state, referral_id, rule)).await
    }

    pub async fn send_outreach(&self, referral_id: ReferralId, request: OutreachRequest) -> Result<Written, ApiError> {
        let when = self.when(&request.when)?;
        self.decide_when(referral_id, &when, |state| send_outreach(state, referral_id, request.channel)).await
    }

    /// Returns the referral to whoever sent it: no safe or valid way to reach the victim.
    pub async fn return_to_referrer(
        &self,
        referral_id: ReferralId,
        request: &ReasonRequest,
    ) -> Result<Written, ApiError> {
        let when = self.when(&request.when)?;
        self.decide_when(referral_id, &when, |state| return_to_referrer(state, referral_id, &request.reason)).await
    }
}

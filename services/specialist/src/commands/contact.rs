//! Reaching the victim: the safe-contact rules as they told them (in force from now), a contact attempt (dated when
//! it was made, its time of day from that), unable to contact once the service's attempt rule is met, and support
//! declined (each dated when it happened).

use casetrack_proto::contact::{AttemptOutcome, ContactChannel, SafeContact, TimeBand};
use casetrack_proto::specialist::CaseContactAttemptRecorded;
use casetrack_web::http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::decision::ReasonRequest;
use super::when::{Stated, WhenRequest};
use super::{CaseAt, CaseCommand, Decide, decide};
use crate::case;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct SafeContactRequest {
    #[serde(default)]
    #[schema(value_type = Object)]
    pub safe_contact: SafeContact,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub safe_times: Vec<TimeBand>,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct AttemptRequest {
    #[schema(value_type = String, example = "phone")]
    pub channel: ContactChannel,
    /// When the attempt was made (RFC 3339): when it happened, for the figures and the Victims' Code clocks.
    pub attempted_at: chrono::DateTime<chrono::Utc>,
    #[schema(value_type = String, example = "no_answer")]
    pub outcome: AttemptOutcome,
    /// Why it is being recorded late: needed only when the attempt was made further back than the back-dating
    /// window (14 days unless set); the command is then flagged as a late entry in the audit trail.
    pub late_reason: Option<String>,
}

/// Unable to contact: refused until the service's attempt rule is met (the request, when there is one, says only
/// when).
#[derive(Default, Deserialize, Serialize)]
#[serde(transparent)]
pub struct UnableToContact(pub WhenRequest);

/// The victim, once reached, declined support.
#[derive(Deserialize, Serialize)]
#[serde(transparent)]
pub struct SupportDeclined(pub ReasonRequest);

/// The rules in force from now on: the service's record of what the victim said, not a fact dated in the past.
impl CaseCommand for SafeContactRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Now
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let id = at.id;
        Ok(decide(move |state, _| {
            case::update_safe_contact(state, id, self.safe_contact.clone(), self.safe_times.clone())
        }))
    }
}

impl CaseCommand for AttemptRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::At(self.attempted_at, self.late_reason.as_deref())
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let time_band = casetrack_casework::contact::attempt_band(self.attempted_at, at.now)
            .map_err(|why| ApiError::rejected("attempt_in_future", why))?;
        let attempt = CaseContactAttemptRecorded {
            case_id: at.id,
            channel: self.channel,
            attempted_at: self.attempted_at,
            time_band,
            outcome: self.outcome,
        };
        Ok(decide(move |state, _| case::record_attempt(state, attempt.clone())))
    }
}

impl CaseCommand for UnableToContact {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.0)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let id = at.id;
        Ok(decide(move |state, definition| case::record_unable_to_contact(state, id, definition.attempt_rule)))
    }
}

impl CaseCommand for SupportDeclined {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.0.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let id = at.id;
        Ok(decide(move |state, _| case::support_declined(state, id, &self.0.reason)))
    }
}

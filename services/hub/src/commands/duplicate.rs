//! Deciding, from a referral, whether its person and another record with the same match key are the same person
//! (the people service's decision; linked records count as one victim for the repeat-victim flag).

use casetrack_eventstore::command::CommandMeta;
use casetrack_proto::people::DuplicateDecision;
use casetrack_proto::{PersonId, ReferralId};
use casetrack_web::access::acting;
use casetrack_web::http::ApiError;

use super::handler::Written;
use crate::state::Hub;

impl Hub {
    /// Records whether `other` is the same person as the referral's. The position answered is the people log's.
    pub async fn decide_duplicate(
        &self,
        referral_id: ReferralId,
        other: PersonId,
        decision: DuplicateDecision,
    ) -> Result<Written, ApiError> {
        let person_id = self.person_of(referral_id).await?;
        let meta = CommandMeta::new(acting(), casetrack_eventstore::clock::now());
        let executed = casetrack_people::records::decide(self.context(), person_id, other, decision, &meta).await?;
        Ok(Written::of(referral_id, &executed))
    }
}

//! Replacing the safe-contact rules with what the victim said: the channels, the safe times of day, and a caution
//! for whoever contacts them, sealed with the victim's own key before anything is written.

use casetrack_eventstore::command::CommandMeta;
use casetrack_proto::ReferralId;
use casetrack_proto::contact::{SafeContact, TimeBand};
use casetrack_web::access::acting;
use casetrack_web::http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::Written;
use crate::referral::{When, update_safe_contact};
use crate::state::Hub;
use crate::values::Caution;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct SafeContactRequest {
    /// Per channel: safe, unsafe or unknown (unknown when left out).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub safe_contact: SafeContact,
    /// Times of day (morning, afternoon, evening, out_of_hours) the victim may be phoned or visited; empty: any.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub safe_times: Vec<TimeBand>,
    /// A caution for whoever contacts the victim (sealed with their key; at most 500 characters).
    pub caution: Option<String>,
}

impl Hub {
    /// Replaces the safe-contact rules; a caution is sealed with the victim's key before anything is written.
    pub async fn update_safe_contact(
        &self,
        referral_id: ReferralId,
        request: SafeContactRequest,
    ) -> Result<Written, ApiError> {
        let caution = match &request.caution {
            Some(text) => Caution::parse(text)?,
            None => None,
        };
        // Not a fact from the world: the rules change as they are recorded.
        let when = When::now(casetrack_eventstore::clock::now(), self.settings().back_dating);
        let meta = CommandMeta::new(acting(), when.at);
        let sealed = match caution {
            None => None,
            Some(caution) => {
                let person_id = self.person_of(referral_id).await?;
                let sealed = self.context().vault.seal(person_id, meta.event_id(0), &caution.as_str()).await;
                Some(sealed.map_err(ApiError::unavailable)?)
            }
        };
        self.decide_with(&meta, referral_id, &when, |state| {
            update_safe_contact(
                state,
                referral_id,
                request.safe_contact.clone(),
                request.safe_times.clone(),
                sealed.clone(),
            )
        })
        .await
    }
}

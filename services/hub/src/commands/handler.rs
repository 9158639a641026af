//! The command handler every hub command goes through: load the referral, decide, append with the expected
//! version (retrying a conflict, bounded, in `casetrack_eventstore::command::execute`), and answer with where the
//! events were written, so the caller can read its own write.

use casetrack_eventstore::command::{Aggregate as _, CommandMeta, Executed, execute, load};
use casetrack_platform::access::acting;
use casetrack_platform::http::ApiError;
use casetrack_proto::hub::HubEvent;
use casetrack_proto::{Actor, PersonId, ReferralId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::referral::{Referral, ReferralRejection};
use crate::state::Hub;
use crate::values::InputRejection;

#[derive(Serialize, ToSchema)]
pub struct Written {
    #[schema(value_type = uuid::Uuid)]
    pub referral_id: ReferralId,
    /// Log position of the change: pass it as `wait_for` to read your own write.
    pub position: u64,
}

impl Written {
    /// Where `executed` wrote (0: nothing was written, a retried command already stored).
    pub(crate) fn of(referral_id: ReferralId, executed: &Executed) -> Self {
        Self { referral_id, position: executed.position.map_or(0, |p| p.0) }
    }
}

/// A value refused before any decision answers 422 with its code and words.
impl From<InputRejection> for ApiError {
    fn from(rejection: InputRejection) -> Self {
        ApiError::rejected(rejection.code(), rejection.to_string())
    }
}

impl Hub {
    /// Runs one decision on one referral, happening now, and answers with where it was written.
    pub async fn decide(
        &self,
        referral_id: ReferralId,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        self.decide_at(referral_id, casetrack_eventstore::clock::now(), decide).await
    }

    /// The same, for something that happened at `occurred_at` (a contact attempt recorded after the call).
    pub async fn decide_at(
        &self,
        referral_id: ReferralId,
        occurred_at: DateTime<Utc>,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        self.decide_by(acting(), referral_id, occurred_at, decide).await
    }

    pub(crate) async fn decide_by(
        &self,
        actor: Actor,
        referral_id: ReferralId,
        occurred_at: DateTime<Utc>,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        self.decide_with(&CommandMeta::new(actor, occurred_at), referral_id, decide).await
    }

    /// With the command's metadata made beforehand (its event ids are known before deciding, for sealing).
    pub(crate) async fn decide_with(
        &self,
        meta: &CommandMeta,
        referral_id: ReferralId,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        let executed = execute::<Referral, _>(&self.context().log, referral_id.0, meta, decide).await?;
        Ok(Written::of(referral_id, &executed))
    }

    /// The person a referral is about, from its events (for sealing with their key, or deciding about them).
    pub(crate) async fn person_of(&self, referral_id: ReferralId) -> Result<PersonId, ApiError> {
        let stream = Referral::stream_id(referral_id.0);
        let (state, _) = load::<Referral>(&self.context().log, &stream).await.map_err(ApiError::unavailable)?;
        state.person_id().ok_or_else(|| ApiError::not_found("There is no such referral."))
    }
}

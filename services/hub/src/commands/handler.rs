//! The command handler every hub command goes through: load the referral with when its facts happened, decide,
//! check the time the new fact happened (`crate::referral::timed`), append with the expected version (retrying a
//! conflict, bounded, in `casetrack_eventstore::command::execute_timed`), and answer with where the events were
//! written and whether they were a late entry, so the caller can read its own write and mark the audit trail.

use std::sync::Mutex;

use axum::response::{IntoResponse, Response};
use casetrack_casework::occurred::{Lateness, RecordTimes};
use casetrack_eventstore::command::{
    Aggregate as _, CommandError, CommandMeta, Executed, Rejection as _, execute_timed, load,
};
use casetrack_proto::hub::HubEvent;
use casetrack_proto::{Actor, PersonId, ReferralId};
use casetrack_web::access::acting;
use casetrack_web::http::ApiError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::referral::{Referral, ReferralRejection, When, timed};
use crate::state::Hub;
use crate::values::InputRejection;

#[derive(Serialize, ToSchema)]
pub struct Written {
    #[schema(value_type = uuid::Uuid)]
    pub referral_id: ReferralId,
    /// Log position of the change: pass it as `wait_for` to read your own write.
    pub position: u64,
    /// Whether the fact was dated beyond the back-dating window (with the reason given): not in the answer, but
    /// marked on the response for the audit trail ([`Written::mark`]).
    #[serde(skip)]
    pub lateness: Lateness,
}

impl Written {
    /// Where `executed` wrote (0: nothing was written, a retried command already stored).
    pub(crate) fn of(referral_id: ReferralId, executed: &Executed) -> Self {
        Self { referral_id, position: executed.position.map_or(0, |p| p.0), lateness: Lateness::OnTime }
    }

    /// `response` to this command, marked as a late entry when it was one, so the access guard flags it in the
    /// audit trail. Both adapters answer through here (the JSON api and the pages).
    pub fn mark(&self, response: impl IntoResponse) -> Response {
        match &self.lateness {
            Lateness::OnTime => response.into_response(),
            Lateness::Late { days, reason } => casetrack_web::access::late_entry(response, *days, reason),
        }
    }
}

/// A value refused before any decision answers 422 with its code and words.
impl From<InputRejection> for ApiError {
    fn from(rejection: InputRejection) -> Self {
        ApiError::rejected(rejection.code(), rejection.to_string())
    }
}

/// A refused command as the api answers it: the referral's rules 409, except a time that runs backwards or needs a
/// reason, which is a fault in the request (422), like the values refused before deciding.
pub fn refusal(error: CommandError<ReferralRejection>) -> ApiError {
    match error {
        CommandError::Rejected(rejection @ ReferralRejection::Time(_)) => {
            ApiError::rejected(rejection.code(), rejection.to_string())
        }
        error => ApiError::from(error),
    }
}

impl Hub {
    /// Runs one decision on one referral, happening now, and answers with where it was written.
    pub async fn decide(
        &self,
        referral_id: ReferralId,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        let when = When::now(casetrack_eventstore::clock::now(), self.settings().back_dating);
        self.decide_when(referral_id, &when, decide).await
    }

    /// The same, for something that happened at `when.at` (a contact attempt recorded after the call).
    pub async fn decide_when(
        &self,
        referral_id: ReferralId,
        when: &When,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        self.decide_by(acting(), referral_id, when, decide).await
    }

    pub(crate) async fn decide_by(
        &self,
        actor: Actor,
        referral_id: ReferralId,
        when: &When,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        self.decide_with(&CommandMeta::new(actor, when.at), referral_id, when, decide).await
    }

    /// With the command's metadata made beforehand (its event ids are known before deciding, for sealing). The
    /// events are dated `meta.issued_at`, which is `when.at`.
    pub(crate) async fn decide_with(
        &self,
        meta: &CommandMeta,
        referral_id: ReferralId,
        when: &When,
        decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
    ) -> Result<Written, ApiError> {
        let (executed, lateness) =
            decide_timed(&self.context().log, meta, referral_id, when, decide).await.map_err(refusal)?;
        Ok(Written { lateness, ..Written::of(referral_id, &executed) })
    }

    /// The person a referral is about, from its events (for sealing with their key, or deciding about them).
    pub(crate) async fn person_of(&self, referral_id: ReferralId) -> Result<PersonId, ApiError> {
        let stream = Referral::stream_id(referral_id.0);
        let (state, _) = load::<Referral>(&self.context().log, &stream).await.map_err(ApiError::unavailable)?;
        state.person_id().ok_or_else(|| ApiError::not_found("There is no such referral."))
    }
}

/// Decides on the referral's current state and when its facts happened, and appends: what was written, and
/// whether it was a late entry. (The intake of the police feed and of direct referrals calls this too, with its own
/// metadata; they are not requests of a signed-in person through [`Hub`].)
pub(crate) async fn decide_timed(
    log: &casetrack_eventstore::log::EventLog,
    meta: &CommandMeta,
    referral_id: ReferralId,
    when: &When,
    decide: impl Fn(&Referral) -> Result<Vec<HubEvent>, ReferralRejection>,
) -> Result<(Executed, Lateness), CommandError<ReferralRejection>> {
    // The decision of the last attempt (a lost race is decided again) is the one written.
    let lateness = Mutex::new(Lateness::OnTime);
    let executed = execute_timed::<Referral, _>(log, referral_id.0, meta, |state, times| {
        if let Some(person) = state.person_id() {
            casetrack_web::access::concerns(person);
        }
        let record = RecordTimes { began: times.first, latest: times.latest };
        let (events, late) = timed(decide(state), record, when)?;
        *lateness.lock().expect("not poisoned") = late;
        Ok(events)
    })
    .await?;
    Ok((executed, lateness.into_inner().expect("not poisoned")))
}

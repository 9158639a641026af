//! Closing a case with its reason and the victim's answers to the service's outcome measures: the list (and its
//! version) in force on the day the case closed, from the catalogue.

use casetrack_proto::contact::OutcomeAnswer;
use casetrack_proto::hub::MeasureAnswer;
use casetrack_proto::specialist::ClosureReason;
use casetrack_web::http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::when::{Stated, WhenRequest};
use super::{CaseAt, CaseCommand, Decide, decide};
use crate::case;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct CloseRequest {
    /// support_completed, disengaged_later, transferred_out or moved_away
    #[schema(value_type = String, example = "support_completed")]
    pub reason: ClosureReason,
    pub answers: Vec<CloseAnswer>,
    #[serde(flatten)]
    pub when: WhenRequest,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct CloseAnswer {
    pub measure: String,
    #[schema(value_type = String, example = "improved")]
    pub answer: OutcomeAnswer,
}

impl CaseCommand for CloseRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        // Answered against the list in force on the day the case closed, not today's.
        let version = casetrack_casework::measures::in_force_for(
            at.definition()?,
            at.when.day(),
            self.answers.iter().map(|a| a.measure.as_str()),
        )
        .map_err(|why| ApiError::rejected("unknown_measure", why))?
        .to_owned();
        let answers: Vec<MeasureAnswer> =
            self.answers.into_iter().map(|a| MeasureAnswer { measure: a.measure, answer: a.answer }).collect();
        let (id, reason) = (at.id, self.reason);
        Ok(decide(move |state, definition| case::close(state, id, definition.kind, reason, &version, answers.clone())))
    }
}

//! Closing a case with its reason and the victim's answers to the service's outcome measures (the measures and
//! their version from the catalogue).

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
        let definition = at.definition()?;
        let known: Vec<&str> = definition.outcome_measures.iter().map(|m| m.code.as_str()).collect();
        casetrack_casework::measures::check_answers(
            &known,
            &definition.name,
            self.answers.iter().map(|a| a.measure.as_str()),
        )
        .map_err(|why| ApiError::rejected("unknown_measure", why))?;
        let answers: Vec<MeasureAnswer> =
            self.answers.into_iter().map(|a| MeasureAnswer { measure: a.measure, answer: a.answer }).collect();
        let (id, reason) = (at.id, self.reason);
        Ok(decide(move |state, definition| {
            case::close(state, id, definition.kind, reason, &definition.measures_version, answers.clone())
        }))
    }
}

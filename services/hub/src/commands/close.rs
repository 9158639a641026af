//! Closing a referral with the victim's answers to the outcome measures in force on the day (versioned reference
//! data, `crate::measures`): every answer must name a measure of that list.

use casetrack_proto::ReferralId;
use casetrack_proto::contact::OutcomeAnswer;
use casetrack_proto::hub::MeasureAnswer;
use casetrack_web::http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::Written;
use super::when::WhenRequest;
use crate::measures::MeasureSet;
use crate::referral::close;
use crate::state::Hub;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ClosureRequest {
    /// One answer per outcome measure of the list in force (`not_asked` where it was not asked).
    pub answers: Vec<ClosureAnswer>,
    /// When it was closed (`occurred_at`: not before the last thing that happened on the referral), and why it is
    /// recorded late (`late_reason`).
    #[serde(flatten)]
    pub when: WhenRequest,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ClosureAnswer {
    /// A measure code of the list in force, e.g. `cope`.
    pub measure: String,
    /// improved, no_change, worse or not_asked.
    #[schema(value_type = String, example = "improved")]
    pub answer: OutcomeAnswer,
}

/// The outcome-measure list in force today, by the command's clock (the closure form asks its measures). None in
/// force is a broken installation, not a refusal.
pub fn measures_in_force() -> Result<&'static MeasureSet, ApiError> {
    let today = casetrack_eventstore::clock::now().date_naive();
    crate::measures::in_force(today)
        .ok_or_else(|| ApiError::unavailable(anyhow::anyhow!("no outcome-measure list is in force on {today}")))
}

impl Hub {
    /// Closes the referral with the victim's answers to the outcome measures in force on the day it closed.
    pub async fn close(&self, referral_id: ReferralId, request: ClosureRequest) -> Result<Written, ApiError> {
        let when = self.when(&request.when)?;
        let day = when.day();
        let set = crate::measures::in_force(day).ok_or_else(|| {
            ApiError::rejected(
                "unknown_measure",
                format!(
                    "no outcome-measure list was in force on {}: the hub's lists begin on 1 April 2018",
                    day.format("%-d %B %Y")
                ),
            )
        })?;
        let known: Vec<&str> = set.measures.iter().map(|m| m.code.as_str()).collect();
        casetrack_casework::measures::check_answers(
            &known,
            &format!("list {}", set.version),
            request.answers.iter().map(|a| a.measure.as_str()),
        )
        .map_err(|why| ApiError::rejected("unknown_measure", why))?;
        let answers: Vec<MeasureAnswer> =
            request.answers.into_iter().map(|a| MeasureAnswer { measure: a.measure, answer: a.answer }).collect();
        self.decide_when(referral_id, &when, |state| close(state, referral_id, &set.version, answers.clone())).await
    }
}

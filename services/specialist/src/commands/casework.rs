//! The work with an engaged victim: the safety or support plan and case notes (both kept encrypted with the
//! person's key), and interventions against one of the service's needs.

use casetrack_proto::specialist::InterventionRecorded;
use casetrack_web::http::ApiError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::parse::{CaseText, PastDate};
use super::when::{Stated, WhenRequest};
use super::{CaseAt, CaseCommand, Decide, decide};
use crate::case;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct TextRequest {
    /// The plan in the caseworker's words (kept encrypted).
    pub text: String,
    /// YYYY-MM-DD: when the plan is due for review.
    pub review_on: Option<NaiveDate>,
    #[serde(flatten)]
    pub when: WhenRequest,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct InterventionRequest {
    /// One of the service's need-category codes.
    pub need: String,
    /// YYYY-MM-DD: the day it was held (when it happened, at 12:00 UK local time).
    pub held_on: NaiveDate,
    pub minutes: u32,
    /// Why it is being recorded late: needed only when it was held further back than the back-dating window (14
    /// days unless set); the command is then flagged as a late entry in the audit trail.
    pub late_reason: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct NoteRequest {
    /// The note (kept encrypted).
    pub text: String,
    /// A note that may be withheld from a subject-access export after review.
    #[serde(default)]
    pub restricted: bool,
    #[serde(flatten)]
    pub when: WhenRequest,
}

/// The plan.
impl CaseCommand for TextRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let plan = CaseText::parse(&self.text, "plan")?;
        let sealed = at.seal(plan.as_str()).await?;
        let id = at.id;
        Ok(decide(move |state, _| case::record_plan(state, id, sealed.clone(), self.review_on)))
    }
}

/// An intervention, against one of the service's needs (from the catalogue).
impl CaseCommand for InterventionRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::On(self.held_on, self.late_reason.as_deref())
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let definition = at.definition()?;
        if !definition.need_categories.iter().any(|c| c.code == self.need) {
            let known: Vec<&str> = definition.need_categories.iter().map(|c| c.code.as_str()).collect();
            return Err(ApiError::rejected(
                "unknown_need",
                format!("{:?} is not a need {} records; use one of {}", self.need, definition.name, known.join(", ")),
            ));
        }
        let held_on = PastDate::parse(self.held_on, "intervention date", at.today())?.day();
        let intervention = InterventionRecorded { case_id: at.id, need: self.need, held_on, minutes: self.minutes };
        Ok(decide(move |state, _| case::record_intervention(state, intervention.clone())))
    }
}

impl CaseCommand for NoteRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let note = CaseText::parse(&self.text, "note")?;
        let sealed = at.seal(note.as_str()).await?;
        let id = at.id;
        Ok(decide(move |state, _| case::add_note(state, id, sealed.clone(), self.restricted)))
    }
}

//! ISVA (Independent Sexual Violence Advisor): cases stay open for months while the criminal justice process runs,
//! so an ISVA case records the stages it reaches (reported, charged, trial, verdict...) with their dates, in date
//! order. (Children and young people are counted apart by the age band every case carries.)

use casetrack_casework::catalogue::ServiceKind;
use casetrack_eventstore::codes::code;
use casetrack_proto::CaseId;
use casetrack_proto::specialist::{CjsStage, CjsStageRecorded, SpecialistEvent};
use casetrack_web::http::ApiError;
use casetrack_web::pages::{Failure, FormErrors, radios, text_input, words};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Posted;
use crate::case::{Case, CaseRejection, Decision, accepted_of};
use crate::commands::parse::PastDate;
use crate::commands::when::Stated;
use crate::commands::{CaseAt, CaseCommand, CaseWritten, Decide, decide};
use crate::forms::{ActionForm, DATE_HINT, Dating, choice, date, late_reason, refused_dated};

/// ISVA: the criminal-justice process reached a stage (dates in order; a case may go back a stage, as after a
/// retrial, but never back in time).
pub fn record_cjs_stage(state: &Case, case_id: CaseId, kind: ServiceKind, stage: CjsStage, on: NaiveDate) -> Decision {
    let case = accepted_of(state, kind, ServiceKind::Isva, "only an ISVA case records criminal-justice stages")?;
    if let Some((_, last)) = case.cjs
        && on < last
    {
        return Err(CaseRejection::CjsOutOfOrder(last));
    }
    Ok(vec![SpecialistEvent::CjsStageRecorded(CjsStageRecorded { case_id, stage, on })])
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct CjsRequest {
    /// not_reported, reported, under_investigation, charged, trial, verdict or no_further_action
    #[schema(value_type = String, example = "charged")]
    pub stage: CjsStage,
    /// YYYY-MM-DD: the day it happened (when it is recorded as having happened, at 12:00 UK local time; a day
    /// before the case opened counts on the case from its opening).
    pub on: NaiveDate,
    /// Why it is being recorded late: needed only when the day is further back than the back-dating window (14
    /// days unless set); the command is then flagged as a late entry in the audit trail.
    pub late_reason: Option<String>,
}

impl CaseCommand for CjsRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Outside(self.on, self.late_reason.as_deref())
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let on = PastDate::parse(self.on, "date of the stage", at.today())?.day();
        let (id, stage) = (at.id, self.stage);
        Ok(decide(move |state, definition| record_cjs_stage(state, id, definition.kind, stage, on)))
    }
}

/// The stage form an engaged ISVA case offers.
pub fn actions(errors: &FormErrors, dating: &Dating, f: &ActionForm<'_>) -> Markup {
    let stages: Vec<(String, String)> = [
        CjsStage::NotReported,
        CjsStage::Reported,
        CjsStage::UnderInvestigation,
        CjsStage::Charged,
        CjsStage::Trial,
        CjsStage::Verdict,
        CjsStage::NoFurtherAction,
    ]
    .iter()
    .map(|s| (code(s), words(&code(s))))
    .collect();
    let options: Vec<(&str, &str)> = stages.iter().map(|(c, l)| (c.as_str(), l.as_str())).collect();
    f(
        "cjs",
        "Criminal-justice stage",
        "Save stage",
        html! {
            (radios("cjs-stage", "Stage reached", &options, None, errors))
            (text_input("cjs-date", "On", Some(DATE_HINT), &dating.today_text(), errors))
            (dating.late("cjs", errors))
        },
    )
}

/// Gives the stage posted as `action` `cjs`, or `None` for another action.
pub async fn perform(posted: Posted<'_>) -> Option<Result<CaseWritten, Failure>> {
    let Posted { desk, service, id, action, form } = posted;
    if action != "cjs" {
        return None;
    }
    let request = || -> Result<CjsRequest, Failure> {
        let stage: CjsStage = choice(form, "cjs-stage", "Choose the stage reached")?;
        Ok(CjsRequest { stage, on: date(form, "cjs-date")?, late_reason: late_reason(form, "cjs") })
    };
    Some(match request() {
        Ok(request) => desk.run(service, id, request).await.map_err(refused_dated("cjs", "cjs-date", "cjs-stage")),
        Err(failure) => Err(failure),
    })
}

#[cfg(test)]
mod tests {
    use casetrack_eventstore::command::Rejection as _;

    use super::*;
    use crate::case::OpenCase;
    use crate::case::testkit::*;

    #[test]
    fn isva_stages_are_recorded_in_date_order_and_only_on_isva_cases() {
        let state = given(&accepted_case());
        let isva = ServiceKind::Isva;
        assert_eq!(
            record_cjs_stage(&state, ID, ServiceKind::Idva, CjsStage::Charged, day(5)).unwrap_err().code(),
            "not_for_this_service"
        );
        let mut history = accepted_case();
        then(&mut history, |s| record_cjs_stage(s, ID, isva, CjsStage::Reported, day(5)));
        assert_eq!(
            record_cjs_stage(&given(&history), ID, isva, CjsStage::Charged, day(4)),
            Err(CaseRejection::CjsOutOfOrder(day(5)))
        );
        then(&mut history, |s| record_cjs_stage(s, ID, isva, CjsStage::Charged, day(20)));
        assert!(matches!(given(&history), Case::Open(OpenCase { cjs: Some((CjsStage::Charged, _)), .. })));
    }
}

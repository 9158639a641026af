//! Stalking advocacy (ISAC): risk on S-DASH (11 questions; the assessment itself is shared, in [`crate::kinds`])
//! and Stalking Protection Orders: applied for, then granted or refused, one application at a time.

use casetrack_casework::catalogue::ServiceKind;
use casetrack_proto::CaseId;
use casetrack_proto::specialist::{SpecialistEvent, SpoRecorded, SpoStatus};
use casetrack_web::http::ApiError;
use casetrack_web::pages::{Failure, FormErrors, radios, text_input};
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

/// Questions on the S-DASH checklist.
pub const SDASH_QUESTIONS: usize = 11;

/// Stalking: an order is applied for, then granted or refused.
pub fn record_spo(state: &Case, case_id: CaseId, kind: ServiceKind, status: SpoStatus, on: NaiveDate) -> Decision {
    let case =
        accepted_of(state, kind, ServiceKind::Stalking, "only a stalking case records Stalking Protection Orders")?;
    match (status, case.spo_pending) {
        (SpoStatus::Applied, true) => return Err(CaseRejection::SpoPending),
        (SpoStatus::Granted | SpoStatus::Refused, false) => return Err(CaseRejection::NoSpoApplication),
        _ => {}
    }
    Ok(vec![SpecialistEvent::SpoRecorded(SpoRecorded { case_id, status, on })])
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct SpoRequest {
    /// applied, granted or refused
    #[schema(value_type = String, example = "applied")]
    pub status: SpoStatus,
    /// YYYY-MM-DD: the day it happened (when it is recorded as having happened, at 12:00 UK local time; a day
    /// before the case opened counts on the case from its opening).
    pub on: NaiveDate,
    /// Why it is being recorded late: needed only when the day is further back than the back-dating window (14
    /// days unless set); the command is then flagged as a late entry in the audit trail.
    pub late_reason: Option<String>,
}

impl CaseCommand for SpoRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Outside(self.on, self.late_reason.as_deref())
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let on = PastDate::parse(self.on, "date of the order", at.today())?.day();
        let (id, status) = (at.id, self.status);
        Ok(decide(move |state, definition| record_spo(state, id, definition.kind, status, on)))
    }
}

/// The order form an engaged stalking case offers (after the S-DASH form).
pub fn actions(errors: &FormErrors, dating: &Dating, f: &ActionForm<'_>) -> Markup {
    f(
        "spo",
        "Stalking Protection Order",
        "Save",
        html! {
            (radios("spo-status", "Status", &[("applied", "Applied for"), ("granted", "Granted"), ("refused", "Refused")], None, errors))
            (text_input("spo-date", "On", Some(DATE_HINT), &dating.today_text(), errors))
            (dating.late("spo", errors))
        },
    )
}

/// Gives the order posted as action `spo`, or `None` for another action.
pub async fn perform(posted: Posted<'_>) -> Option<Result<CaseWritten, Failure>> {
    let Posted { desk, service, id, action, form } = posted;
    if action != "spo" {
        return None;
    }
    let request = || -> Result<SpoRequest, Failure> {
        let status: SpoStatus = choice(form, "spo-status", "Choose the order's status")?;
        Ok(SpoRequest { status, on: date(form, "spo-date")?, late_reason: late_reason(form, "spo") })
    };
    Some(match request() {
        Ok(request) => desk.run(service, id, request).await.map_err(refused_dated("spo", "spo-date", "spo-status")),
        Err(failure) => Err(failure),
    })
}

#[cfg(test)]
mod tests {
    use casetrack_eventstore::command::Rejection as _;
    use casetrack_proto::profile::YesNoUnknown;
    use casetrack_proto::specialist::{HighRiskReason, RiskChecklist, RiskLevel};

    use super::*;
    use crate::case::testkit::*;
    use crate::kinds::{Assessment, assess_risk};

    #[test]
    fn a_stalking_protection_order_is_applied_for_then_decided() {
        let stalking = ServiceKind::Stalking;
        let mut history = accepted_case();
        assert_eq!(
            record_spo(&given(&history), ID, stalking, SpoStatus::Granted, day(3)),
            Err(CaseRejection::NoSpoApplication)
        );
        then(&mut history, |s| record_spo(s, ID, stalking, SpoStatus::Applied, day(3)));
        assert_eq!(
            record_spo(&given(&history), ID, stalking, SpoStatus::Applied, day(4)),
            Err(CaseRejection::SpoPending)
        );
        then(&mut history, |s| record_spo(s, ID, stalking, SpoStatus::Granted, day(10)));
        let mut sdash = Assessment {
            checklist: RiskChecklist::SDash,
            answers: vec![YesNoUnknown::Yes; 11],
            level: RiskLevel::High,
            reasons: vec![HighRiskReason::ProfessionalJudgement],
            review_on: None,
            at_closure: false,
        };
        assert!(assess_risk(&given(&history), ID, sdash.clone()).is_ok());
        sdash.answers.pop();
        assert_eq!(assess_risk(&given(&history), ID, sdash).unwrap_err().code(), "wrong_answer_count");
    }
}

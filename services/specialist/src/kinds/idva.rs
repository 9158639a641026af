//! IDVA (Independent Domestic Violence Advisor): high-risk domestic abuse. Risk is scored on DASH (24 questions; 14
//! or more "yes" is high risk, as is a recorded reason: professional judgement, escalation or repeat; the assessment
//! itself is shared, in [`crate::kinds`]); a high-risk case is referred to MARAC and heard there on a date (a repeat
//! when the person was heard in the 12 months before, looked up in the read model). An IDVA case is closed with a
//! final risk assessment (that rule is in [`crate::case::close`], with closing).

use casetrack_casework::catalogue::ServiceKind;
use casetrack_proto::CaseId;
use casetrack_proto::specialist::{MaracHeard, MaracReferred, RiskLevel, SpecialistEvent};
use casetrack_web::http::ApiError;
use casetrack_web::pages::{Failure, FormErrors, text_input};
use chrono::NaiveDate;
use maud::Markup;
use serde::{Deserialize, Serialize};

use super::Posted;
use crate::case::{Case, CaseRejection, Decision, Marac, OpenCase, accepted};
use crate::commands::parse::PastDate;
use crate::commands::when::Stated;
use crate::commands::{CaseAt, CaseCommand, CaseWritten, DateRequest, Decide, decide};
use crate::forms::{ActionForm, DATE_HINT, Dating, date, late_reason, refused_dated};
use crate::views::cases::heard_at_marac_in_year_before;
use maud::html;

/// Questions on the DASH checklist.
pub const DASH_QUESTIONS: usize = 24;
/// "Yes" answers on DASH that make a case high risk on their own.
pub const DASH_HIGH_RISK_SCORE: u32 = 14;

pub fn refer_to_marac(state: &Case, case_id: CaseId, kind: ServiceKind, referred_on: NaiveDate) -> Decision {
    let case = accepted(state)?;
    if kind != ServiceKind::Idva {
        return Err(CaseRejection::NotIdva);
    }
    if case.risk != Some(RiskLevel::High) {
        return Err(CaseRejection::NotHighRisk);
    }
    if matches!(case.marac, Marac::Referred(_)) {
        return Err(CaseRejection::AlreadyReferredToMarac);
    }
    Ok(vec![SpecialistEvent::MaracReferred(MaracReferred { case_id, referred_on })])
}

/// MARAC heard the case; `repeat` says whether the victim was heard in the 12 months before (a look-up).
pub fn marac_heard(state: &Case, case_id: CaseId, heard_on: NaiveDate, repeat: bool) -> Decision {
    let Marac::Referred(referred_on) = accepted(state)?.marac else {
        return Err(CaseRejection::NotReferredToMarac);
    };
    if heard_on < referred_on {
        return Err(CaseRejection::HeardBeforeReferred);
    }
    Ok(vec![SpecialistEvent::MaracHeard(MaracHeard { case_id, heard_on, repeat })])
}

/// Refers a high-risk IDVA case to MARAC.
#[derive(Deserialize, Serialize)]
#[serde(transparent)]
pub struct MaracReferral(pub DateRequest);

/// MARAC heard the case (a repeat within 12 months is flagged).
#[derive(Deserialize, Serialize)]
#[serde(transparent)]
pub struct MaracHearing(pub DateRequest);

impl CaseCommand for MaracReferral {
    fn stated(&self) -> Stated<'_> {
        Stated::Outside(self.0.on, self.0.late_reason.as_deref())
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let on = PastDate::parse(self.0.on, "date of the MARAC referral", at.today())?.day();
        let id = at.id;
        Ok(decide(move |state, definition| refer_to_marac(state, id, definition.kind, on)))
    }
}

/// A repeat MARAC is one where the same person was heard at MARAC in the 12 months before this hearing (this case
/// or another of the service's, as its read model holds them).
impl CaseCommand for MaracHearing {
    fn stated(&self) -> Stated<'_> {
        Stated::Outside(self.0.on, self.0.late_reason.as_deref())
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let on = PastDate::parse(self.0.on, "date of the MARAC hearing", at.today())?.day();
        let definition = at.definition()?;
        let person = at.person().await?;
        let repeat = heard_at_marac_in_year_before(at.desk(), &definition.code, person, on).await?;
        let id = at.id;
        Ok(decide(move |state, _| marac_heard(state, id, on, repeat)))
    }
}

/// The MARAC action an engaged IDVA case offers: the referral, or the hearing once referred.
pub fn actions(open: &OpenCase, errors: &FormErrors, dating: &Dating, f: &ActionForm<'_>) -> Markup {
    let today = dating.today_text();
    match open.marac {
        Marac::Referred(_) => f(
            "marac-heard",
            "MARAC hearing",
            "Record hearing",
            html! {
                (text_input("marac-date", "Date heard", Some(DATE_HINT), &today, errors))
                (dating.late("marac-heard", errors))
            },
        ),
        _ => f(
            "marac-referral",
            "Refer to MARAC",
            "Record referral",
            html! {
                (text_input("marac-date", "Date referred", Some(DATE_HINT), &today, errors))
                (dating.late("marac-referral", errors))
            },
        ),
    }
}

/// Gives the MARAC command posted as `action`, or `None` for another action.
pub async fn perform(posted: Posted<'_>) -> Option<Result<CaseWritten, Failure>> {
    let Posted { desk, service, id, action, form } = posted;
    let on = || date(form, "marac-date").map(|on| DateRequest { on, late_reason: late_reason(form, action) });
    let refused = || refused_dated(action, "marac-date", "marac-date");
    Some(match action {
        "marac-referral" => match on() {
            Ok(on) => desk.run(service, id, MaracReferral(on)).await.map_err(refused()),
            Err(failure) => Err(failure),
        },
        "marac-heard" => match on() {
            Ok(on) => desk.run(service, id, MaracHearing(on)).await.map_err(refused()),
            Err(failure) => Err(failure),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use casetrack_eventstore::command::Rejection as _;
    use casetrack_proto::profile::YesNoUnknown;
    use casetrack_proto::specialist::{ClosureReason, HighRiskReason, RiskChecklist};

    use super::*;
    use crate::case::testkit::*;
    use crate::case::{close, reopen};
    use crate::kinds::assess_risk;
    use crate::kinds::testkit::*;

    #[test]
    fn dash_scores_yes_answers_and_fourteen_makes_high_risk() {
        let state = given(&accepted_case());
        let short = assessment(vec![YesNoUnknown::Yes; 23], RiskLevel::Medium, vec![]);
        assert_eq!(assess_risk(&state, ID, short).unwrap_err().code(), "wrong_answer_count");
        let events = assess_risk(&state, ID, assessment(dash(16), RiskLevel::Medium, vec![])).unwrap();
        let SpecialistEvent::RiskAssessed(assessed) = &events[0] else { unreachable!() };
        assert_eq!((assessed.score, assessed.level), (16, RiskLevel::High));
        assert_eq!(assessed.high_risk_reasons, vec![HighRiskReason::Score]);
        // Below 14: high only with a recorded reason; a reason only with high.
        let high = assessment(dash(9), RiskLevel::High, vec![]);
        assert_eq!(assess_risk(&state, ID, high), Err(CaseRejection::HighRiskReasonNeeded));
        let judged = assessment(dash(9), RiskLevel::High, vec![HighRiskReason::ProfessionalJudgement]);
        assert!(assess_risk(&state, ID, judged).is_ok());
        let odd = assessment(dash(9), RiskLevel::Medium, vec![HighRiskReason::Escalation]);
        assert_eq!(assess_risk(&state, ID, odd), Err(CaseRejection::ReasonWithoutHighRisk));
        let mut professional = assessment(vec![], RiskLevel::Standard, vec![]);
        professional.checklist = RiskChecklist::Professional;
        assert!(assess_risk(&state, ID, professional).is_ok());
    }

    #[test]
    fn only_a_high_risk_idva_case_goes_to_marac_and_is_heard_after_referral() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let mut history = engaged_case();
        assert_eq!(refer_to_marac(&given(&history), ID, ServiceKind::Idva, day(20)), Err(CaseRejection::NotHighRisk));
        then(&mut history, |state| assess_risk(state, ID, assessment(dash(16), RiskLevel::High, vec![])));
        assert_eq!(refer_to_marac(&given(&history), ID, ServiceKind::Isva, day(20)), Err(CaseRejection::NotIdva));
        assert_eq!(marac_heard(&given(&history), ID, day(21), false), Err(CaseRejection::NotReferredToMarac));
        then(&mut history, |state| refer_to_marac(state, ID, ServiceKind::Idva, day(20)));
        assert_eq!(
            refer_to_marac(&given(&history), ID, ServiceKind::Idva, day(20)),
            Err(CaseRejection::AlreadyReferredToMarac)
        );
        assert_eq!(marac_heard(&given(&history), ID, day(19), false), Err(CaseRejection::HeardBeforeReferred));
        then(&mut history, |state| marac_heard(state, ID, day(27), true));
        assert!(matches!(given(&history), Case::Open(OpenCase { marac: Marac::Heard(_), .. })));
    }

    #[test]
    fn an_engaged_idva_case_closes_with_a_closing_risk_assessment_and_can_reopen() {
        let kind = ServiceKind::Idva;
        let close_now = |state: &Case| close(state, ID, kind, ClosureReason::SupportCompleted, "v", answers());
        assert_eq!(close_now(&given(&accepted_case())), Err(CaseRejection::NotEngaged));
        let mut history = engaged_case();
        assert_eq!(close_now(&given(&history)), Err(CaseRejection::ClosingAssessmentNeeded));
        let mut closing = assessment(dash(3), RiskLevel::Standard, vec![]);
        closing.at_closure = true;
        then(&mut history, |state| assess_risk(state, ID, closing));
        assert_eq!(
            close(&given(&history), ID, kind, ClosureReason::SupportCompleted, "v", vec![]),
            Err(CaseRejection::NoAnswers)
        );
        let twice = [answers(), answers()].concat();
        assert_eq!(
            close(&given(&history), ID, kind, ClosureReason::SupportCompleted, "v", twice).unwrap_err().code(),
            "duplicate_measure"
        );
        then(&mut history, close_now);
        assert_eq!(reopen(&given(&engaged_case()), ID, "x"), Err(CaseRejection::StillOpen));
        assert_eq!(reopen(&given(&history), ID, ""), Err(CaseRejection::ReasonRequired));
        then(&mut history, |state| reopen(state, ID, "new incident"));
        // A general service closes without the IDVA rule.
        let general =
            close(&given(&engaged_case()), ID, ServiceKind::General, ClosureReason::MovedAway, "v", answers());
        assert!(general.is_ok());
    }
}

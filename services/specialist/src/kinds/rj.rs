//! Restorative justice (RJ): the victim is given information about restorative justice (the Victims' Code sets a
//! deadline: 5 working days from the referral, 1 under enhanced rights), then suitability and risk are assessed, the
//! offender's consent sought, the form agreed (face-to-face conference, shuttle mediation or indirect communication)
//! and the process concluded: completed (which needs a form), withdrawn by either party, or unsuitable, with the
//! victim's satisfaction. Each step in order; a concluded process takes no more steps.

use casetrack_casework::catalogue::ServiceKind;
use casetrack_casework::victims_code::rj_information_due;
use casetrack_proto::CaseId;
use casetrack_proto::specialist::{
    OffenderConsentRecorded, RjConcluded, RjForm, RjFormAgreed, RjInformationGiven, RjOutcome, RjSuitabilityAssessed,
    SpecialistEvent,
};
use casetrack_web::http::ApiError;
use casetrack_web::pages::{Failure, FormErrors, invalid, long_date, radios, tag, text_input, textarea};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Posted;
use crate::case::{Case, CaseRejection, Decision, OpenCase, RjProgress, accepted_of, reason};
use crate::commands::parse::PastDate;
use crate::commands::when::{Stated, WhenRequest};
use crate::commands::{CaseAt, CaseCommand, CaseWritten, DateRequest, Decide, decide};
use crate::forms::{ActionForm, DATE_HINT, Dating, choice, date, late_reason, read_when, refused_at, refused_dated};

const RJ_ONLY: &str = "only a restorative-justice case records this";

/// RJ: the victim was given information about restorative justice (once).
pub fn rj_information_given(state: &Case, case_id: CaseId, kind: ServiceKind, on: NaiveDate) -> Decision {
    let case = accepted_of(state, kind, ServiceKind::Rj, RJ_ONLY)?;
    if case.rj.informed_on.is_some() {
        return Err(CaseRejection::AlreadyInformed);
    }
    Ok(vec![SpecialistEvent::RjInformationGiven(RjInformationGiven { case_id, on })])
}

/// The RJ case still in progress (informed, not concluded).
fn rj_in_progress(state: &Case, kind: ServiceKind) -> Result<&RjProgress, CaseRejection> {
    let case = accepted_of(state, kind, ServiceKind::Rj, RJ_ONLY)?;
    if case.rj.concluded {
        return Err(CaseRejection::AlreadyConcluded);
    }
    if case.rj.informed_on.is_none() {
        return Err(CaseRejection::NotInformed);
    }
    Ok(&case.rj)
}

pub fn rj_suitability(state: &Case, case_id: CaseId, kind: ServiceKind, suitable: bool, why: &str) -> Decision {
    rj_in_progress(state, kind)?;
    Ok(vec![SpecialistEvent::RjSuitabilityAssessed(RjSuitabilityAssessed { case_id, suitable, reason: reason(why)? })])
}

pub fn offender_consent(state: &Case, case_id: CaseId, kind: ServiceKind, consents: bool) -> Decision {
    if rj_in_progress(state, kind)?.suitable != Some(true) {
        return Err(CaseRejection::NotSuitable);
    }
    Ok(vec![SpecialistEvent::OffenderConsentRecorded(OffenderConsentRecorded { case_id, consents })])
}

pub fn rj_form(state: &Case, case_id: CaseId, kind: ServiceKind, form: RjForm) -> Decision {
    let rj = rj_in_progress(state, kind)?;
    if rj.suitable != Some(true) {
        return Err(CaseRejection::NotSuitable);
    }
    if rj.offender_consents != Some(true) {
        return Err(CaseRejection::NoOffenderConsent);
    }
    Ok(vec![SpecialistEvent::RjFormAgreed(RjFormAgreed { case_id, form })])
}

pub fn rj_conclude(
    state: &Case,
    case_id: CaseId,
    kind: ServiceKind,
    outcome: RjOutcome,
    satisfaction: Option<u8>,
) -> Decision {
    let rj = rj_in_progress(state, kind)?;
    if outcome == RjOutcome::Completed && rj.form.is_none() {
        return Err(CaseRejection::NoForm);
    }
    if satisfaction.is_some_and(|s| !(1..=5).contains(&s)) {
        return Err(CaseRejection::SatisfactionScale);
    }
    Ok(vec![SpecialistEvent::RjConcluded(RjConcluded { case_id, outcome, satisfaction })])
}

/// RJ: the victim was given information about restorative justice (the Victims' Code clock stops).
#[derive(Deserialize, Serialize)]
#[serde(transparent)]
pub struct RjInformation(pub DateRequest);

#[derive(Deserialize, Serialize, ToSchema)]
pub struct SuitabilityRequest {
    pub suitable: bool,
    pub reason: String,
    #[serde(flatten)]
    pub when: WhenRequest,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct OffenderConsentRequest {
    pub consents: bool,
    #[serde(flatten)]
    pub when: WhenRequest,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct RjFormRequest {
    /// face_to_face_conference, shuttle_mediation or indirect_communication
    #[schema(value_type = String, example = "shuttle_mediation")]
    pub form: RjForm,
    #[serde(flatten)]
    pub when: WhenRequest,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct RjOutcomeRequest {
    /// completed, withdrawn_by_victim, withdrawn_by_offender or unsuitable
    #[schema(value_type = String, example = "completed")]
    pub outcome: RjOutcome,
    /// 1 (very dissatisfied) to 5 (very satisfied), when asked.
    pub satisfaction: Option<u8>,
    #[serde(flatten)]
    pub when: WhenRequest,
}

impl CaseCommand for RjInformation {
    fn stated(&self) -> Stated<'_> {
        Stated::On(self.0.on, self.0.late_reason.as_deref())
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let on = PastDate::parse(self.0.on, "date the information was given", at.today())?.day();
        let id = at.id;
        Ok(decide(move |state, definition| rj_information_given(state, id, definition.kind, on)))
    }
}

impl CaseCommand for SuitabilityRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let id = at.id;
        Ok(decide(move |state, d| rj_suitability(state, id, d.kind, self.suitable, &self.reason)))
    }
}

impl CaseCommand for OffenderConsentRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let id = at.id;
        Ok(decide(move |state, d| offender_consent(state, id, d.kind, self.consents)))
    }
}

impl CaseCommand for RjFormRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let id = at.id;
        Ok(decide(move |state, d| rj_form(state, id, d.kind, self.form)))
    }
}

impl CaseCommand for RjOutcomeRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let id = at.id;
        Ok(decide(move |state, d| rj_conclude(state, id, d.kind, self.outcome, self.satisfaction)))
    }
}

/// The Victims' Code line on an RJ case whose victim has not yet been given the information: when it is due (from
/// the day the referral was received), and whether that day has passed.
pub fn information_due(received_on: NaiveDate, enhanced_rights: bool, today: NaiveDate) -> Markup {
    let due = rj_information_due(received_on, enhanced_rights);
    html! {
        p {
            "Victims' Code: information about restorative justice is due by " strong { (long_date(due)) } "."
            @if today > due { " " (tag("Overdue", "red")) }
        }
    }
}

/// The next step an engaged RJ case offers, and its outcome (once the victim has the information).
pub fn actions(open: &OpenCase, errors: &FormErrors, dating: &Dating, f: &ActionForm<'_>) -> Markup {
    let rj = &open.rj;
    let when = |action: &str| dating.when(action, errors);
    html! {
        @if rj.concluded {
            p { "The restorative process has concluded." }
        } @else if rj.informed_on.is_none() {
            (f("rj-information", "Information about restorative justice", "Record", html! {
                (text_input("rj-date", "Given on", Some(DATE_HINT), &dating.today_text(), errors))
                (dating.late("rj-information", errors))
            }))
        } @else {
            @if rj.suitable.is_none() {
                (f("rj-suitability", "Suitability and risk", "Save", html! {
                    (radios("rj-suitable", "Is restorative justice suitable and safe?", &[("yes", "Yes"), ("no", "No")], None, errors))
                    (textarea("rj-reason", "Why?", None, "", errors))
                    (when("rj-suitability"))
                }))
            } @else if rj.suitable == Some(true) && rj.offender_consents.is_none() {
                (f("rj-consent", "The offender's consent", "Save", html! {
                    (radios("rj-consents", "Did the offender agree to take part?", &[("yes", "Yes"), ("no", "No")], None, errors))
                    (when("rj-consent"))
                }))
            } @else if rj.offender_consents == Some(true) && rj.form.is_none() {
                (f("rj-form", "Form agreed", "Save", html! {
                    (radios("rj-form-choice", "Which form?", &[("face_to_face_conference", "Face-to-face conference"),
                        ("shuttle_mediation", "Shuttle mediation"), ("indirect_communication", "Indirect communication (letter or recording)")], None, errors))
                    (when("rj-form"))
                }))
            }
            (f("rj-outcome", "Outcome", "Save outcome", html! {
                (radios("rj-outcome-choice", "How did it end?", &[("completed", "Completed"), ("withdrawn_by_victim", "Withdrawn by the victim"),
                    ("withdrawn_by_offender", "Withdrawn by the offender"), ("unsuitable", "Unsuitable")], None, errors))
                (radios("rj-satisfaction", "The victim's satisfaction", &[("5", "5: very satisfied"), ("4", "4"), ("3", "3"), ("2", "2"),
                    ("1", "1: very dissatisfied"), ("", "Not asked")], None, errors))
                (when("rj-outcome"))
            }))
        }
    }
}

/// Gives the RJ step posted as `action`, or `None` for another action.
pub async fn perform(posted: Posted<'_>) -> Option<Result<CaseWritten, Failure>> {
    let Posted { desk, service, id, action, form } = posted;
    let yes_no = |field: &str, message: &str| match form.get(field) {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(invalid(field, message)),
    };
    let now = casetrack_eventstore::clock::now();
    let when = |action: &str| read_when(form, action, now);
    Some(match action {
        "rj-information" => match date(form, "rj-date") {
            Ok(on) => desk
                .run(service, id, RjInformation(DateRequest { on, late_reason: late_reason(form, action) }))
                .await
                .map_err(refused_dated(action, "rj-date", "rj-date")),
            Err(failure) => Err(failure),
        },
        "rj-suitability" => match yes_no("rj-suitable", "Choose whether restorative justice is suitable") {
            Ok(suitable) => match when(action) {
                Ok(when) => {
                    let request = SuitabilityRequest { suitable, reason: form.get("rj-reason").to_owned(), when };
                    desk.run(service, id, request).await.map_err(refused_at(action, "rj-reason"))
                }
                Err(failure) => Err(failure),
            },
            Err(failure) => Err(failure),
        },
        "rj-consent" => match (yes_no("rj-consents", "Choose whether the offender agreed"), when(action)) {
            (Ok(consents), Ok(when)) => desk
                .run(service, id, OffenderConsentRequest { consents, when })
                .await
                .map_err(refused_at(action, "rj-consents")),
            (Err(failure), _) | (_, Err(failure)) => Err(failure),
        },
        "rj-form" => match (choice::<RjForm>(form, "rj-form-choice", "Choose the form agreed"), when(action)) {
            (Ok(form_taken), Ok(when)) => desk
                .run(service, id, RjFormRequest { form: form_taken, when })
                .await
                .map_err(refused_at(action, "rj-form-choice")),
            (Err(failure), _) | (_, Err(failure)) => Err(failure),
        },
        "rj-outcome" => match (choice::<RjOutcome>(form, "rj-outcome-choice", "Choose how it ended"), when(action)) {
            (Ok(outcome), Ok(when)) => {
                let satisfaction = form.get("rj-satisfaction").parse::<u8>().ok();
                desk.run(service, id, RjOutcomeRequest { outcome, satisfaction, when })
                    .await
                    .map_err(refused_at(action, "rj-outcome-choice"))
            }
            (Err(failure), _) | (_, Err(failure)) => Err(failure),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use casetrack_eventstore::command::Rejection as _;

    use super::*;
    use crate::case::testkit::*;

    #[test]
    fn restorative_justice_goes_from_information_to_a_completed_shuttle_mediation_in_order() {
        let rj = ServiceKind::Rj;
        let mut history = accepted_case();
        assert_eq!(rj_suitability(&given(&history), ID, rj, true, "ok"), Err(CaseRejection::NotInformed));
        then(&mut history, |s| rj_information_given(s, ID, rj, day(2)));
        assert_eq!(rj_information_given(&given(&history), ID, rj, day(3)), Err(CaseRejection::AlreadyInformed));
        assert_eq!(offender_consent(&given(&history), ID, rj, true), Err(CaseRejection::NotSuitable));
        assert_eq!(rj_suitability(&given(&history), ID, rj, true, " "), Err(CaseRejection::ReasonRequired));
        then(&mut history, |s| rj_suitability(s, ID, rj, true, "both prepared"));
        assert_eq!(rj_form(&given(&history), ID, rj, RjForm::ShuttleMediation), Err(CaseRejection::NoOffenderConsent));
        assert_eq!(rj_conclude(&given(&history), ID, rj, RjOutcome::Completed, Some(5)), Err(CaseRejection::NoForm));
        then(&mut history, |s| offender_consent(s, ID, rj, true));
        then(&mut history, |s| rj_form(s, ID, rj, RjForm::ShuttleMediation));
        assert_eq!(
            rj_conclude(&given(&history), ID, rj, RjOutcome::Completed, Some(6)),
            Err(CaseRejection::SatisfactionScale)
        );
        then(&mut history, |s| rj_conclude(s, ID, rj, RjOutcome::Completed, Some(5)));
        assert_eq!(
            rj_conclude(&given(&history), ID, rj, RjOutcome::WithdrawnByVictim, None),
            Err(CaseRejection::AlreadyConcluded)
        );
        // Withdrawal needs no form.
        let mut other = accepted_case();
        then(&mut other, |s| rj_information_given(s, ID, rj, day(2)));
        assert!(rj_conclude(&given(&other), ID, rj, RjOutcome::WithdrawnByOffender, None).is_ok());
        assert_eq!(
            rj_information_given(&given(&accepted_case()), ID, ServiceKind::Idva, day(2)).unwrap_err().code(),
            "not_for_this_service"
        );
    }
}

//! What each kind of specialist service does beyond the common pathway ([`crate::case`]), one room per kind: its
//! rules (pure decisions on the case, with their given/when/then tests), its commands (request types and parsing,
//! given through [`Desk::run`]) and its part of the case page (its action forms, and reading them when posted).
//!
//! - [`idva`]: DASH (24 questions, high risk at 14 "yes"), MARAC referral and hearing (a repeat within 12 months);
//! - [`isva`]: criminal-justice stages with their dates, in date order;
//! - [`stalking`]: S-DASH (11 questions), Stalking Protection Orders applied for, then granted or refused;
//! - [`rj`]: restorative justice from information to suitability, the offender's consent, the form and the outcome.
//!
//! This module holds what the kinds share: the risk assessment (any service may record a professional one; DASH is
//! IDVA's checklist and S-DASH stalking's) and the dispatch from the case page to the kind's forms. A service of kind
//! `general` (defined only in `config/services.toml`) has nothing here: it works the common pathway.

pub mod idva;
pub mod isva;
pub mod rj;
pub mod stalking;

use std::collections::BTreeSet;

use casetrack_casework::catalogue::{ServiceDefinition, ServiceKind};
use casetrack_eventstore::codes::parse;
use casetrack_proto::CaseId;
use casetrack_proto::profile::YesNoUnknown;
use casetrack_proto::specialist::{HighRiskReason, RiskAssessed, RiskChecklist, RiskLevel, SpecialistEvent};
use casetrack_web::http::ApiError;
use casetrack_web::pages::{Failure, FormData, FormErrors, checkboxes, radios, text_input};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::case::{Case, CaseRejection, Decision, OpenCase, accepted};
use crate::commands::parse::review_on;
use crate::commands::when::{Stated, WhenRequest};
use crate::commands::{CaseAt, CaseCommand, CaseWritten, Decide, decide};
use crate::forms::{ActionForm, DATE_HINT, Dating, choice, optional_date, read_when, refused_at};
use crate::state::Desk;
use idva::{DASH_HIGH_RISK_SCORE, DASH_QUESTIONS};
use stalking::SDASH_QUESTIONS;

/// A risk assessment as entered: the level chosen and any high-risk reasons besides the score.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub checklist: RiskChecklist,
    pub answers: Vec<YesNoUnknown>,
    /// The level the caseworker chose; a DASH score of 14 or more makes it high whatever is chosen.
    pub level: RiskLevel,
    /// Professional judgement, escalation or repeat (the score reason is added by the rule).
    pub reasons: Vec<HighRiskReason>,
    pub review_on: Option<NaiveDate>,
    pub at_closure: bool,
}

pub fn assess_risk(state: &Case, case_id: CaseId, assessment: Assessment) -> Decision {
    accepted(state)?;
    let expected = match assessment.checklist {
        RiskChecklist::Dash => Some(("DASH", DASH_QUESTIONS)),
        RiskChecklist::SDash => Some(("S-DASH", SDASH_QUESTIONS)),
        RiskChecklist::Professional => None,
    };
    match expected {
        Some((checklist, expected)) if assessment.answers.len() != expected => {
            return Err(CaseRejection::WrongAnswerCount { checklist, expected });
        }
        None if !assessment.answers.is_empty() => return Err(CaseRejection::AnswersWithoutChecklist),
        _ => {}
    }
    let score = assessment.answers.iter().filter(|a| **a == YesNoUnknown::Yes).count() as u32;
    let mut reasons: BTreeSet<HighRiskReason> =
        assessment.reasons.into_iter().filter(|r| *r != HighRiskReason::Score).collect();
    if assessment.checklist == RiskChecklist::Dash && score >= DASH_HIGH_RISK_SCORE {
        reasons.insert(HighRiskReason::Score);
    }
    let level = if reasons.contains(&HighRiskReason::Score) { RiskLevel::High } else { assessment.level };
    if level == RiskLevel::High && reasons.is_empty() {
        return Err(CaseRejection::HighRiskReasonNeeded);
    }
    if level != RiskLevel::High && !reasons.is_empty() {
        return Err(CaseRejection::ReasonWithoutHighRisk);
    }
    Ok(vec![SpecialistEvent::RiskAssessed(RiskAssessed {
        case_id,
        checklist: assessment.checklist,
        answers: assessment.answers,
        score,
        level,
        high_risk_reasons: reasons.into_iter().collect(),
        review_on: assessment.review_on,
        at_closure: assessment.at_closure,
    })])
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct RiskRequest {
    /// dash (24 answers), s_dash (11 answers) or professional (no answers).
    #[schema(value_type = String, example = "dash")]
    pub checklist: RiskChecklist,
    /// yes, no or unknown per question, in checklist order.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub answers: Vec<YesNoUnknown>,
    /// standard, medium or high (a DASH score of 14 or more is high whatever is given).
    #[schema(value_type = String, example = "medium")]
    pub level: RiskLevel,
    /// professional_judgement, escalation, repeat: why high when the score alone does not make it so.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub reasons: Vec<HighRiskReason>,
    /// YYYY-MM-DD: when the assessment is next due for review.
    pub review_on: Option<NaiveDate>,
    /// The assessment made before closing the case.
    #[serde(default)]
    pub at_closure: bool,
    #[serde(flatten)]
    pub when: WhenRequest,
}

impl CaseCommand for RiskRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let assessment = Assessment {
            checklist: self.checklist,
            answers: self.answers,
            level: self.level,
            reasons: self.reasons,
            review_on: review_on(self.review_on, at.today())?,
            at_closure: self.at_closure,
        };
        let id = at.id;
        Ok(decide(move |state, _| assess_risk(state, id, assessment.clone())))
    }
}

/// The actions only the service's kind offers on an engaged case, in the order the case page shows them.
pub fn actions(
    definition: &ServiceDefinition,
    case_id: CaseId,
    open: &OpenCase,
    errors: &FormErrors,
    dating: &Dating,
) -> Markup {
    let f = |action: &str, title: &str, submit: &str, fields: Markup| {
        crate::forms::action_form(definition, case_id, action, title, submit, fields)
    };
    match definition.kind {
        ServiceKind::Idva => {
            html! { (risk_form("dash", DASH_QUESTIONS, errors, dating, &f)) (idva::actions(open, errors, dating, &f)) }
        }
        ServiceKind::Stalking => {
            html! { (risk_form("s_dash", SDASH_QUESTIONS, errors, dating, &f)) (stalking::actions(errors, dating, &f)) }
        }
        ServiceKind::Isva => isva::actions(errors, dating, &f),
        ServiceKind::Rj => rj::actions(open, errors, dating, &f),
        ServiceKind::General => html! {},
    }
}

const YES_NO_UNKNOWN: [(&str, &str); 3] = [("yes", "Yes"), ("no", "No"), ("unknown", "Not known")];

/// The risk assessment on the service's checklist (`dash` or `s_dash`, with its number of questions).
fn risk_form(checklist: &str, questions: usize, errors: &FormErrors, dating: &Dating, f: &ActionForm<'_>) -> Markup {
    let checklist_answers = |name: &str, questions: usize| {
        html! {
            @for n in 1..=questions {
                div.app-inline-radios { (radios(&format!("{name}-{n}"), &format!("Question {n}"), &YES_NO_UNKNOWN, Some("no"), errors)) }
            }
        }
    };
    f(
        "risk",
        "Risk assessment",
        "Save assessment",
        html! {
            input type="hidden" name="risk-checklist" value=(checklist);
            details { summary { "Checklist answers (" (questions) " questions)" } (checklist_answers("risk-q", questions)) }
            (radios("risk-level", "Risk level", &[("standard", "Standard"), ("medium", "Medium"), ("high", "High")], Some("standard"), errors))
            (checkboxes("risk-reasons", "If high below the score, why?", None, &[("professional_judgement", "Professional judgement", false),
                ("escalation", "Escalation", false), ("repeat", "Repeat", false)], errors))
            (text_input("risk-review", "Review by (optional)", Some(DATE_HINT), "", errors))
            (checkboxes("risk-closure", "Closing assessment", None, &[("yes", "This is the assessment before closing the case", false)], errors))
            (dating.when("risk", errors))
        },
    )
}

/// A form posted to one of a case's actions, as the kinds' `perform` read it.
#[derive(Clone, Copy)]
pub struct Posted<'a> {
    pub desk: &'a Desk,
    pub service: &'a str,
    pub id: CaseId,
    pub action: &'a str,
    pub form: &'a FormData,
}

/// Gives the command a kind's form posted as `action`, or `None` when no kind has such an action.
pub async fn perform(posted: Posted<'_>) -> Option<Result<CaseWritten, Failure>> {
    let Posted { desk, service, id, action, form } = posted;
    if action == "risk" {
        return Some(assess(desk, service, id, form).await);
    }
    if let Some(done) = idva::perform(posted).await {
        return Some(done);
    }
    if let Some(done) = isva::perform(posted).await {
        return Some(done);
    }
    if let Some(done) = stalking::perform(posted).await {
        return Some(done);
    }
    rj::perform(posted).await
}

async fn assess(desk: &Desk, service: &str, id: CaseId, form: &FormData) -> Result<CaseWritten, Failure> {
    let checklist: RiskChecklist = choice(form, "risk-checklist", "Choose the checklist")?;
    let questions = match checklist {
        RiskChecklist::Dash => DASH_QUESTIONS,
        RiskChecklist::SDash => SDASH_QUESTIONS,
        RiskChecklist::Professional => 0,
    };
    let answers: Vec<YesNoUnknown> =
        (1..=questions).map(|n| parse(form.get(&format!("risk-q-{n}"))).unwrap_or(YesNoUnknown::Unknown)).collect();
    let level: RiskLevel = choice(form, "risk-level", "Choose the risk level")?;
    let reasons: Vec<HighRiskReason> = form.all("risk-reasons").iter().filter_map(|r| parse(r)).collect();
    let request = RiskRequest {
        checklist,
        answers,
        level,
        reasons,
        review_on: optional_date(form, "risk-review")?,
        at_closure: form.get("risk-closure") == "yes",
        when: read_when(form, "risk", casetrack_eventstore::clock::now())?,
    };
    desk.run(service, id, request).await.map_err(refused_at("risk", "risk-level"))
}

/// What the kinds' given/when/then tests share besides [`crate::case::testkit`] (tests only).
#[cfg(test)]
pub(crate) mod testkit {
    use casetrack_proto::contact::OutcomeAnswer;
    use casetrack_proto::hub::MeasureAnswer;
    use casetrack_proto::profile::YesNoUnknown;
    use casetrack_proto::specialist::{HighRiskReason, RiskChecklist, RiskLevel};

    use super::Assessment;
    use super::idva::DASH_QUESTIONS;

    /// DASH answers with `yes` "yes" answers, the rest "no".
    pub fn dash(yes: usize) -> Vec<YesNoUnknown> {
        let mut answers = vec![YesNoUnknown::Yes; yes];
        answers.resize(DASH_QUESTIONS, YesNoUnknown::No);
        answers
    }

    pub fn assessment(answers: Vec<YesNoUnknown>, level: RiskLevel, reasons: Vec<HighRiskReason>) -> Assessment {
        Assessment { checklist: RiskChecklist::Dash, answers, level, reasons, review_on: None, at_closure: false }
    }

    pub fn answers() -> Vec<MeasureAnswer> {
        vec![MeasureAnswer { measure: "abuse_ceased_or_reduced".into(), answer: OutcomeAnswer::Improved }]
    }
}

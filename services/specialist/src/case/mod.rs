//! The `Case` aggregate: one specialist service's piece of work with one victim.
//!
//! ```text
//! referral received ──► accepted ──► contact attempts ──► engaged ──► closed (reason, outcome answers) ──► re-opened
//!        │                               │                  └──► declined by the victim
//!        ├──► declined by the service    └──► unable to contact (only once the service's attempt rule is met)
//!        └──► withdrawn by the referrer (any time before an ending)
//! while open: allocation, safe-contact updates, risk assessments with review dates, plan, interventions, notes
//! IDVA: DASH (24 answers, high at 14 "yes" or by a recorded reason), MARAC referral (high risk only) and hearing,
//!       a risk re-assessment before closure
//! ISVA: criminal-justice stages with dates, in date order
//! stalking: S-DASH (11 answers), Stalking Protection Order applied, then granted or refused
//! RJ: information given ─► suitability ─► offender's consent ─► form agreed ─► concluded (completed needs a form;
//!     withdrawn or unsuitable at any point after the information), with the victim's satisfaction
//! ```
//! Decisions are pure: the attempt rule, the service's kind, the time band and any look-up (a repeat MARAC) arrive
//! in the command. So does when each fact happened: [`timed`] (in `occurred.rs`) refuses time that runs backwards,
//! and a date beyond the back-dating window without a reason, for whatever a decision would write. The attempt rule and the safe-contact checks are the hub's own (`platform::contact`).
//!
//! This module holds the state, its fold (`apply`), the rejections and the decisions of the common pathway (closing
//! included, with its one IDVA rule: a risk assessment made at closure); the decisions a kind or a risk checklist
//! shapes (risk assessment, MARAC, criminal-justice stages, orders, restorative justice) are in [`crate::kinds`],
//! built on the guards here ([`accepted`], [`accepted_of`]). Given/when/then tests: `tests.rs`, and beside each
//! kind's decisions.

use std::collections::BTreeSet;

use casetrack_casework::catalogue::ServiceKind;
use casetrack_casework::contact::{AttemptRule, check_channel, check_safe_time};
use casetrack_casework::occurred::TimeRejection;
use casetrack_eventstore::command::{Aggregate, Rejection};
use casetrack_proto::contact::{AttemptOutcome, SafeContact, Safety, TimeBand};
use casetrack_proto::hub::MeasureAnswer;
use casetrack_proto::specialist::{
    CaseAllocated, CaseClosed, CaseContactAttemptRecorded, CaseNoteAdded, CaseOpened, CaseReopened,
    CaseSafeContactUpdated, CaseSupportDeclined, CaseUnableToContactRecorded, CjsStage, ClosureReason,
    InterventionRecorded, PlanRecorded, ReferralAccepted, ReferralDeclinedByService, ReferralWithdrawn, RiskLevel,
    RjForm, SpecialistEvent, SpoStatus,
};
use casetrack_proto::{CaseId, PersonId, Sealed, ServiceCode, StaffName};
use chrono::NaiveDate;

mod occurred;
pub use occurred::{When, settle_day, step, timed};

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod time_tests;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Case {
    #[default]
    NotOpened,
    Open(OpenCase),
    Ended {
        ending: CaseEnding,
        case: OpenCase,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCase {
    pub service: ServiceCode,
    pub person_id: PersonId,
    pub stage: CaseStage,
    pub caseworker: Option<StaffName>,
    pub safe_contact: SafeContact,
    pub safe_times: Vec<TimeBand>,
    pub attempts: Vec<(TimeBand, AttemptOutcome)>,
    pub risk: Option<RiskLevel>,
    pub marac: Marac,
    /// A risk assessment made as part of closing, since the case last (re)opened.
    pub closing_assessment: bool,
    /// ISVA: the latest criminal-justice stage and its date.
    pub cjs: Option<(CjsStage, NaiveDate)>,
    /// Stalking: an order applied for and not yet decided.
    pub spo_pending: bool,
    pub rj: RjProgress,
}

/// How far a restorative-justice case has gone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RjProgress {
    pub informed_on: Option<NaiveDate>,
    pub suitable: Option<bool>,
    pub offender_consents: Option<bool>,
    pub form: Option<RjForm>,
    pub concluded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStage {
    /// Received; the service has not decided whether to take it on.
    AwaitingDecision,
    /// Accepted; the victim has not been reached yet.
    AwaitingContact,
    /// The victim was reached and is working with the service.
    Engaged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marac {
    NotReferred,
    Referred(NaiveDate),
    Heard(NaiveDate),
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEnding {
    DeclinedByService,
    Withdrawn,
    UnableToContact,
    SupportDeclined,
    Closed,
}

impl CaseEnding {
    fn words(self) -> &'static str {
        match self {
            Self::DeclinedByService => "declined by the service",
            Self::Withdrawn => "withdrawn by the referrer",
            Self::UnableToContact => "recorded as unable to contact",
            Self::SupportDeclined => "declined by the victim",
            Self::Closed => "closed",
        }
    }

    /// Work can start again on a case the victim or the service ended; a referral the service declined or the
    /// referrer withdrew is referred again instead.
    fn reopenable(self) -> bool {
        matches!(self, Self::UnableToContact | Self::SupportDeclined | Self::Closed)
    }
}

impl Aggregate for Case {
    type Event = SpecialistEvent;
    const AGGREGATE: &'static str = "case";

    /// An allocation or a change of the safe-contact rules is recorded as it is made: a fact dated earlier (a
    /// closure typed up late) may come before it.
    fn happened(event: &SpecialistEvent) -> bool {
        !matches!(event, SpecialistEvent::CaseAllocated(_) | SpecialistEvent::CaseSafeContactUpdated(_))
    }

    fn apply(self, event: &SpecialistEvent) -> Self {
        let mut case = match (self, event) {
            (Case::NotOpened, SpecialistEvent::CaseOpened(e)) => {
                return Case::Open(OpenCase {
                    service: e.service.clone(),
                    person_id: e.person_id,
                    stage: CaseStage::AwaitingDecision,
                    caseworker: None,
                    safe_contact: e.safe_contact.clone(),
                    safe_times: e.safe_times.clone(),
                    attempts: Vec::new(),
                    risk: None,
                    marac: Marac::NotReferred,
                    closing_assessment: false,
                    cjs: None,
                    spo_pending: false,
                    rj: RjProgress::default(),
                });
            }
            (Case::Ended { mut case, .. }, SpecialistEvent::CaseReopened(_)) => {
                // A new episode: attempts and the closing assessment start again; risk and MARAC history stay.
                case.stage = CaseStage::AwaitingContact;
                case.attempts.clear();
                case.closing_assessment = false;
                return Case::Open(case);
            }
            (Case::Open(case), _) => case,
            (state, _) => return state,
        };
        let end = |ending, case| Case::Ended { ending, case };
        match event {
            SpecialistEvent::CaseOpened(_) | SpecialistEvent::CaseReopened(_) => {}
            SpecialistEvent::ReferralAccepted(_) => case.stage = CaseStage::AwaitingContact,
            SpecialistEvent::ReferralDeclinedByService(_) => return end(CaseEnding::DeclinedByService, case),
            SpecialistEvent::ReferralWithdrawn(_) => return end(CaseEnding::Withdrawn, case),
            SpecialistEvent::CaseAllocated(e) => case.caseworker = Some(e.caseworker.clone()),
            SpecialistEvent::CaseSafeContactUpdated(e) => {
                case.safe_contact = e.safe_contact.clone();
                case.safe_times = e.safe_times.clone();
            }
            SpecialistEvent::CaseContactAttemptRecorded(e) => {
                case.attempts.push((e.time_band, e.outcome));
                if e.outcome.reached() {
                    case.stage = CaseStage::Engaged;
                }
                if e.outcome == AttemptOutcome::Unsafe {
                    case.safe_contact.set(e.channel, Safety::Unsafe);
                }
            }
            SpecialistEvent::CaseUnableToContactRecorded(_) => return end(CaseEnding::UnableToContact, case),
            SpecialistEvent::CaseSupportDeclined(_) => return end(CaseEnding::SupportDeclined, case),
            SpecialistEvent::RiskAssessed(e) => {
                case.risk = Some(e.level);
                case.closing_assessment |= e.at_closure;
            }
            SpecialistEvent::MaracReferred(e) => case.marac = Marac::Referred(e.referred_on),
            SpecialistEvent::MaracHeard(e) => case.marac = Marac::Heard(e.heard_on),
            SpecialistEvent::PlanRecorded(_)
            | SpecialistEvent::InterventionRecorded(_)
            | SpecialistEvent::CaseNoteAdded(_) => {}
            SpecialistEvent::CaseClosed(_) => return end(CaseEnding::Closed, case),
            SpecialistEvent::CjsStageRecorded(e) => case.cjs = Some((e.stage, e.on)),
            SpecialistEvent::SpoRecorded(e) => case.spo_pending = e.status == SpoStatus::Applied,
            SpecialistEvent::RjInformationGiven(e) => case.rj.informed_on = Some(e.on),
            SpecialistEvent::RjSuitabilityAssessed(e) => case.rj.suitable = Some(e.suitable),
            SpecialistEvent::OffenderConsentRecorded(e) => case.rj.offender_consents = Some(e.consents),
            SpecialistEvent::RjFormAgreed(e) => case.rj.form = Some(e.form),
            SpecialistEvent::RjConcluded(_) => case.rj.concluded = true,
        }
        Case::Open(case)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseRejection {
    #[error("there is no such case")]
    NotOpened,
    #[error("this case has ended: it was {}", .0.words())]
    Ended(CaseEnding),
    #[error("the service has already decided on this referral")]
    AlreadyDecided,
    #[error("the service has not accepted this referral yet")]
    NotAccepted,
    #[error("give a reason")]
    ReasonRequired,
    #[error("this case is already allocated to {0}")]
    AlreadyAllocated(StaffName),
    #[error("{0}")]
    ChannelUnsafe(String),
    #[error("{0}")]
    OutsideSafeTimes(String),
    #[error("{0}")]
    AttemptRuleNotMet(String),
    #[error("the victim has already been reached")]
    AlreadyEngaged,
    #[error("the victim has not been reached yet")]
    NotEngaged,
    #[error("the {checklist} checklist has {expected} questions: answer every one (not known where not known)")]
    WrongAnswerCount { checklist: &'static str, expected: usize },
    #[error("a professional assessment has no checklist answers")]
    AnswersWithoutChecklist,
    #[error("say why the risk is high (professional judgement, escalation or repeat) when the score is below 14")]
    HighRiskReasonNeeded,
    #[error("a high-risk reason makes the risk high: record the level as high")]
    ReasonWithoutHighRisk,
    #[error("only an IDVA case goes to MARAC")]
    NotIdva,
    #[error("only a high-risk case is referred to MARAC: assess the risk as high first")]
    NotHighRisk,
    #[error("this case is already waiting to be heard at MARAC")]
    AlreadyReferredToMarac,
    #[error("the case has not been referred to MARAC")]
    NotReferredToMarac,
    #[error("the MARAC hearing cannot be before the referral to it")]
    HeardBeforeReferred,
    #[error("an IDVA case is closed with a final risk assessment: re-assess the risk, marked as at closure, first")]
    ClosingAssessmentNeeded,
    #[error("the outcome measure {0:?} is answered more than once")]
    DuplicateMeasure(String),
    #[error("record the victim's answer to every outcome measure (not asked where it was not asked)")]
    NoAnswers,
    #[error("an intervention lasts between 1 minute and 8 hours")]
    InterventionLength,
    #[error("a referral the service declined or the referrer withdrew is not reopened: refer the victim again")]
    NotReopenable,
    #[error("this case is open")]
    StillOpen,
    #[error("{0}")]
    WrongKind(&'static str),
    #[error("this date is before the last criminal-justice stage was recorded ({0})")]
    CjsOutOfOrder(NaiveDate),
    #[error("an order is already applied for and not yet decided")]
    SpoPending,
    #[error("record the application for a Stalking Protection Order first")]
    NoSpoApplication,
    #[error("the victim has already been given information about restorative justice")]
    AlreadyInformed,
    #[error("give the victim information about restorative justice first")]
    NotInformed,
    #[error("restorative justice has not been found suitable here")]
    NotSuitable,
    #[error("the offender has not agreed to take part")]
    NoOffenderConsent,
    #[error("a completed restorative process needs the form it took: record the form agreed first")]
    NoForm,
    #[error("the restorative process has already concluded")]
    AlreadyConcluded,
    #[error("satisfaction is from 1 (very dissatisfied) to 5 (very satisfied)")]
    SatisfactionScale,
    /// The time given for the fact runs backwards, or is beyond the back-dating window without a reason: a fault
    /// in the request, not a conflict with the case, so it answers 422 (see `commands::refusal`).
    #[error("{0}")]
    Time(TimeRejection),
}

impl Rejection for CaseRejection {
    fn code(&self) -> &'static str {
        match self {
            Self::NotOpened => "case_not_found",
            Self::Ended(_) => "case_ended",
            Self::AlreadyDecided => "already_decided",
            Self::NotAccepted => "not_accepted",
            Self::ReasonRequired => "reason_required",
            Self::AlreadyAllocated(_) => "already_allocated",
            Self::ChannelUnsafe(_) => "channel_unsafe",
            Self::OutsideSafeTimes(_) => "outside_safe_times",
            Self::AttemptRuleNotMet(_) => "attempt_rule_not_met",
            Self::AlreadyEngaged => "already_engaged",
            Self::NotEngaged => "not_engaged",
            Self::WrongAnswerCount { .. } => "wrong_answer_count",
            Self::AnswersWithoutChecklist => "answers_without_checklist",
            Self::HighRiskReasonNeeded => "high_risk_reason_needed",
            Self::ReasonWithoutHighRisk => "reason_without_high_risk",
            Self::NotIdva => "not_idva",
            Self::NotHighRisk => "not_high_risk",
            Self::AlreadyReferredToMarac => "already_referred_to_marac",
            Self::NotReferredToMarac => "not_referred_to_marac",
            Self::HeardBeforeReferred => "heard_before_referred",
            Self::ClosingAssessmentNeeded => "closing_assessment_needed",
            Self::DuplicateMeasure(_) => "duplicate_measure",
            Self::NoAnswers => "no_answers",
            Self::InterventionLength => "intervention_length",
            Self::NotReopenable => "not_reopenable",
            Self::StillOpen => "case_open",
            Self::WrongKind(_) => "not_for_this_service",
            Self::CjsOutOfOrder(_) => "cjs_out_of_order",
            Self::SpoPending => "spo_pending",
            Self::NoSpoApplication => "no_spo_application",
            Self::AlreadyInformed => "rj_already_informed",
            Self::NotInformed => "rj_not_informed",
            Self::NotSuitable => "rj_not_suitable",
            Self::NoOffenderConsent => "rj_no_offender_consent",
            Self::NoForm => "rj_no_form",
            Self::AlreadyConcluded => "rj_concluded",
            Self::SatisfactionScale => "satisfaction_scale",
            Self::Time(rejection) => rejection.code(),
        }
    }
}

/// What a decision returns: the events to append, or the rule that said no.
pub type Decision = Result<Vec<SpecialistEvent>, CaseRejection>;

/// A case that exists and has not ended.
pub(crate) fn open_case(state: &Case) -> Result<&OpenCase, CaseRejection> {
    match state {
        Case::NotOpened => Err(CaseRejection::NotOpened),
        Case::Ended { ending, .. } => Err(CaseRejection::Ended(*ending)),
        Case::Open(case) => Ok(case),
    }
}

/// An open case the service has accepted.
pub(crate) fn accepted(state: &Case) -> Result<&OpenCase, CaseRejection> {
    let case = open_case(state)?;
    if case.stage == CaseStage::AwaitingDecision {
        return Err(CaseRejection::NotAccepted);
    }
    Ok(case)
}

/// A reason in the caseworker's words: required, trimmed.
pub(crate) fn reason(text: &str) -> Result<String, CaseRejection> {
    let text = text.trim();
    if text.is_empty() { Err(CaseRejection::ReasonRequired) } else { Ok(text.to_owned()) }
}

/// An accepted case of the given kind, or why not.
pub(crate) fn accepted_of<'a>(
    state: &'a Case,
    kind: ServiceKind,
    wanted: ServiceKind,
    refusal: &'static str,
) -> Result<&'a OpenCase, CaseRejection> {
    let case = accepted(state)?;
    if kind != wanted {
        return Err(CaseRejection::WrongKind(refusal));
    }
    Ok(case)
}

/// Opens a case. Opening an opened case does nothing: the intake reactor may see the same referral twice.
pub fn open(state: &Case, command: CaseOpened) -> Decision {
    match state {
        Case::NotOpened => Ok(vec![SpecialistEvent::CaseOpened(command)]),
        _ => Ok(vec![]),
    }
}

pub fn accept(state: &Case, case_id: CaseId) -> Decision {
    if open_case(state)?.stage != CaseStage::AwaitingDecision {
        return Err(CaseRejection::AlreadyDecided);
    }
    Ok(vec![SpecialistEvent::ReferralAccepted(ReferralAccepted { case_id })])
}

pub fn decline_referral(state: &Case, case_id: CaseId, why: &str) -> Decision {
    if open_case(state)?.stage != CaseStage::AwaitingDecision {
        return Err(CaseRejection::AlreadyDecided);
    }
    Ok(vec![SpecialistEvent::ReferralDeclinedByService(ReferralDeclinedByService { case_id, reason: reason(why)? })])
}

pub fn withdraw(state: &Case, case_id: CaseId, why: &str) -> Decision {
    open_case(state)?;
    Ok(vec![SpecialistEvent::ReferralWithdrawn(ReferralWithdrawn { case_id, reason: reason(why)? })])
}

pub fn allocate(state: &Case, case_id: CaseId, caseworker: StaffName) -> Decision {
    let case = open_case(state)?;
    if case.caseworker.as_ref() == Some(&caseworker) {
        return Err(CaseRejection::AlreadyAllocated(caseworker));
    }
    Ok(vec![SpecialistEvent::CaseAllocated(CaseAllocated {
        case_id,
        caseworker,
        previous_caseworker: case.caseworker.clone(),
    })])
}

pub fn update_safe_contact(
    state: &Case,
    case_id: CaseId,
    safe_contact: SafeContact,
    mut safe_times: Vec<TimeBand>,
) -> Decision {
    open_case(state)?;
    safe_times.sort();
    safe_times.dedup();
    Ok(vec![SpecialistEvent::CaseSafeContactUpdated(CaseSafeContactUpdated { case_id, safe_contact, safe_times })])
}

/// One contact attempt, under the same safe-contact rules as the hub.
pub fn record_attempt(state: &Case, attempt: CaseContactAttemptRecorded) -> Decision {
    let case = accepted(state)?;
    check_channel(&case.safe_contact, attempt.channel).map_err(CaseRejection::ChannelUnsafe)?;
    check_safe_time(&case.safe_times, attempt.channel, attempt.time_band).map_err(CaseRejection::OutsideSafeTimes)?;
    Ok(vec![SpecialistEvent::CaseContactAttemptRecorded(attempt)])
}

/// Unable to contact, only once the service's attempt rule is met (the hub's rule, the service's setting).
pub fn record_unable_to_contact(state: &Case, case_id: CaseId, rule: AttemptRule) -> Decision {
    let case = accepted(state)?;
    if case.stage == CaseStage::Engaged {
        return Err(CaseRejection::AlreadyEngaged);
    }
    let tally = rule.tally(&case.attempts);
    if !rule.is_met(&tally) {
        return Err(CaseRejection::AttemptRuleNotMet(rule.shortfall(&tally)));
    }
    Ok(vec![SpecialistEvent::CaseUnableToContactRecorded(CaseUnableToContactRecorded {
        case_id,
        attempts: tally.unsuccessful,
        time_bands: tally.bands,
    })])
}

pub fn support_declined(state: &Case, case_id: CaseId, why: &str) -> Decision {
    if accepted(state)?.stage != CaseStage::Engaged {
        return Err(CaseRejection::NotEngaged);
    }
    Ok(vec![SpecialistEvent::CaseSupportDeclined(CaseSupportDeclined { case_id, reason: reason(why)? })])
}

pub fn record_plan(state: &Case, case_id: CaseId, plan: Sealed, review_on: Option<NaiveDate>) -> Decision {
    accepted(state)?;
    Ok(vec![SpecialistEvent::PlanRecorded(PlanRecorded { case_id, plan, review_on })])
}

/// An intervention (need code validated against the service's list by the caller).
pub fn record_intervention(state: &Case, intervention: InterventionRecorded) -> Decision {
    if accepted(state)?.stage != CaseStage::Engaged {
        return Err(CaseRejection::NotEngaged);
    }
    if !(1..=480).contains(&intervention.minutes) {
        return Err(CaseRejection::InterventionLength);
    }
    Ok(vec![SpecialistEvent::InterventionRecorded(intervention)])
}

/// A note may be added to any case that exists, open or ended.
pub fn add_note(state: &Case, case_id: CaseId, note: Sealed, restricted: bool) -> Decision {
    if *state == Case::NotOpened {
        return Err(CaseRejection::NotOpened);
    }
    Ok(vec![SpecialistEvent::CaseNoteAdded(CaseNoteAdded { case_id, note, restricted })])
}

/// Closes an engaged case with the victim's answers (measure codes validated against the service's list by the
/// caller). An IDVA case needs a risk assessment made at closure.
pub fn close(
    state: &Case,
    case_id: CaseId,
    kind: ServiceKind,
    reason: ClosureReason,
    measures_version: &str,
    answers: Vec<MeasureAnswer>,
) -> Decision {
    let case = accepted(state)?;
    if case.stage != CaseStage::Engaged {
        return Err(CaseRejection::NotEngaged);
    }
    if kind == ServiceKind::Idva && !case.closing_assessment {
        return Err(CaseRejection::ClosingAssessmentNeeded);
    }
    if answers.is_empty() {
        return Err(CaseRejection::NoAnswers);
    }
    let mut seen = BTreeSet::new();
    for answer in &answers {
        if !seen.insert(answer.measure.as_str()) {
            return Err(CaseRejection::DuplicateMeasure(answer.measure.clone()));
        }
    }
    Ok(vec![SpecialistEvent::CaseClosed(CaseClosed {
        case_id,
        reason,
        measures_version: measures_version.to_owned(),
        answers,
    })])
}

pub fn reopen(state: &Case, case_id: CaseId, why: &str) -> Decision {
    match state {
        Case::NotOpened => Err(CaseRejection::NotOpened),
        Case::Open(_) => Err(CaseRejection::StillOpen),
        Case::Ended { ending, .. } if !ending.reopenable() => Err(CaseRejection::NotReopenable),
        Case::Ended { .. } => Ok(vec![SpecialistEvent::CaseReopened(CaseReopened { case_id, reason: reason(why)? })]),
    }
}

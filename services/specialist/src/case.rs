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
//! in the command. The attempt rule and the safe-contact checks are the hub's own (`platform::contact`).

use std::collections::BTreeSet;

use casetrack_platform::catalogue::ServiceKind;
use casetrack_platform::command::{Aggregate, Rejection};
use casetrack_platform::contact::{AttemptRule, check_channel, check_safe_time};
use casetrack_proto::contact::{AttemptOutcome, SafeContact, Safety, TimeBand};
use casetrack_proto::hub::MeasureAnswer;
use casetrack_proto::profile::YesNoUnknown;
use casetrack_proto::specialist::{
    CaseAllocated, CaseClosed, CaseContactAttemptRecorded, CaseNoteAdded, CaseOpened, CaseReopened,
    CaseSafeContactUpdated, CaseSupportDeclined, CaseUnableToContactRecorded, CjsStage, CjsStageRecorded,
    ClosureReason, HighRiskReason, InterventionRecorded, MaracHeard, MaracReferred, OffenderConsentRecorded,
    PlanRecorded, ReferralAccepted, ReferralDeclinedByService, ReferralWithdrawn, RiskAssessed, RiskChecklist,
    RiskLevel, RjConcluded, RjForm, RjFormAgreed, RjInformationGiven, RjOutcome, RjSuitabilityAssessed,
    SpecialistEvent, SpoRecorded, SpoStatus,
};
use casetrack_proto::{CaseId, PersonId, Sealed, ServiceCode, StaffName};
use chrono::NaiveDate;

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
        }
    }
}

type Decision = Result<Vec<SpecialistEvent>, CaseRejection>;

fn open_case(state: &Case) -> Result<&OpenCase, CaseRejection> {
    match state {
        Case::NotOpened => Err(CaseRejection::NotOpened),
        Case::Ended { ending, .. } => Err(CaseRejection::Ended(*ending)),
        Case::Open(case) => Ok(case),
    }
}

/// An open case the service has accepted.
fn accepted(state: &Case) -> Result<&OpenCase, CaseRejection> {
    let case = open_case(state)?;
    if case.stage == CaseStage::AwaitingDecision {
        return Err(CaseRejection::NotAccepted);
    }
    Ok(case)
}

fn reason(text: &str) -> Result<String, CaseRejection> {
    let text = text.trim();
    if text.is_empty() { Err(CaseRejection::ReasonRequired) } else { Ok(text.to_owned()) }
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

/// Questions on each checklist.
pub const DASH_QUESTIONS: usize = 24;
pub const SDASH_QUESTIONS: usize = 11;
/// "Yes" answers on DASH that make a case high risk on their own.
pub const DASH_HIGH_RISK_SCORE: u32 = 14;

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

/// An accepted case of the given kind, or why not.
fn accepted_of<'a>(
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

pub fn reopen(state: &Case, case_id: CaseId, why: &str) -> Decision {
    match state {
        Case::NotOpened => Err(CaseRejection::NotOpened),
        Case::Open(_) => Err(CaseRejection::StillOpen),
        Case::Ended { ending, .. } if !ending.reopenable() => Err(CaseRejection::NotReopenable),
        Case::Ended { .. } => Ok(vec![SpecialistEvent::CaseReopened(CaseReopened { case_id, reason: reason(why)? })]),
    }
}

#[cfg(test)]
mod tests {
    use casetrack_proto::contact::{ContactChannel, OutcomeAnswer};
    use casetrack_proto::specialist::CaseOrigin;
    use chrono::Utc;

    use super::*;

    const ID: CaseId = CaseId(uuid::Uuid::from_u128(11));
    use AttemptOutcome::{NoAnswer, Reached};
    use TimeBand::{Afternoon, Evening, Morning};

    fn opened() -> SpecialistEvent {
        let mut safe_contact = SafeContact::default();
        safe_contact.set(ContactChannel::Text, Safety::Unsafe);
        SpecialistEvent::CaseOpened(CaseOpened {
            case_id: ID,
            service: ServiceCode::parse("idva").unwrap(),
            person_id: PersonId(uuid::Uuid::from_u128(12)),
            origin: CaseOrigin::Direct { source: "police".into() },
            safe_contact,
            safe_times: vec![],
            domestic_abuse: true,
            enhanced_rights: false,
            age_band: None,
        })
    }

    fn given(events: &[SpecialistEvent]) -> Case {
        events.iter().fold(Case::default(), |state, e| state.apply(e))
    }

    /// Decides against the history so far and appends what was decided.
    fn then(history: &mut Vec<SpecialistEvent>, decide: impl FnOnce(&Case) -> Decision) {
        let state = given(history);
        history.extend(decide(&state).unwrap());
    }

    fn attempt(channel: ContactChannel, band: TimeBand, outcome: AttemptOutcome) -> CaseContactAttemptRecorded {
        CaseContactAttemptRecorded { case_id: ID, channel, attempted_at: Utc::now(), time_band: band, outcome }
    }

    fn accepted_case() -> Vec<SpecialistEvent> {
        vec![opened(), SpecialistEvent::ReferralAccepted(ReferralAccepted { case_id: ID })]
    }

    fn engaged_case() -> Vec<SpecialistEvent> {
        let mut history = accepted_case();
        history.push(SpecialistEvent::CaseContactAttemptRecorded(attempt(ContactChannel::Phone, Morning, Reached)));
        history
    }

    fn dash(yes: usize) -> Vec<YesNoUnknown> {
        let mut answers = vec![YesNoUnknown::Yes; yes];
        answers.resize(DASH_QUESTIONS, YesNoUnknown::No);
        answers
    }

    fn assessment(answers: Vec<YesNoUnknown>, level: RiskLevel, reasons: Vec<HighRiskReason>) -> Assessment {
        Assessment { checklist: RiskChecklist::Dash, answers, level, reasons, review_on: None, at_closure: false }
    }

    fn answers() -> Vec<MeasureAnswer> {
        vec![MeasureAnswer { measure: "abuse_ceased_or_reduced".into(), answer: OutcomeAnswer::Improved }]
    }

    #[test]
    fn a_case_opens_once_and_a_second_opening_changes_nothing() {
        let SpecialistEvent::CaseOpened(command) = opened() else { unreachable!() };
        let events = open(&Case::NotOpened, command.clone()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(open(&given(&events), command).unwrap(), vec![]);
    }

    #[test]
    fn the_service_accepts_or_declines_a_referral_once_and_the_referrer_may_withdraw_it() {
        let received = given(&[opened()]);
        assert_eq!(decline_referral(&received, ID, " "), Err(CaseRejection::ReasonRequired));
        let declined = given(&[opened(), decline_referral(&received, ID, "not high risk").unwrap().remove(0)]);
        assert_eq!(accept(&declined, ID), Err(CaseRejection::Ended(CaseEnding::DeclinedByService)));
        assert_eq!(reopen(&declined, ID, "changed mind"), Err(CaseRejection::NotReopenable));
        let accepted_state = given(&accepted_case());
        assert_eq!(accept(&accepted_state, ID), Err(CaseRejection::AlreadyDecided));
        assert_eq!(decline_referral(&accepted_state, ID, "no"), Err(CaseRejection::AlreadyDecided));
        let mut history = accepted_case();
        then(&mut history, |state| withdraw(state, ID, "police withdrew it"));
        assert!(matches!(given(&history), Case::Ended { ending: CaseEnding::Withdrawn, .. }));
    }

    #[test]
    fn nothing_is_attempted_before_acceptance_and_the_safe_contact_rules_are_the_hubs() {
        let call = attempt(ContactChannel::Phone, Morning, NoAnswer);
        assert_eq!(record_attempt(&given(&[opened()]), call.clone()), Err(CaseRejection::NotAccepted));
        let refused = record_attempt(&given(&accepted_case()), attempt(ContactChannel::Text, Morning, NoAnswer));
        assert_eq!(refused.unwrap_err().code(), "channel_unsafe");
        let mut history = accepted_case();
        then(&mut history, |state| update_safe_contact(state, ID, SafeContact::default(), vec![Evening]));
        assert_eq!(record_attempt(&given(&history), call).unwrap_err().code(), "outside_safe_times");
    }

    #[test]
    fn unable_to_contact_follows_the_services_attempt_rule() {
        let rule = AttemptRule { attempts: 2, distinct_bands: 2 };
        let mut history = accepted_case();
        then(&mut history, |state| record_attempt(state, attempt(ContactChannel::Phone, Morning, NoAnswer)));
        assert_eq!(record_unable_to_contact(&given(&history), ID, rule).unwrap_err().code(), "attempt_rule_not_met");
        then(&mut history, |state| record_attempt(state, attempt(ContactChannel::Phone, Afternoon, NoAnswer)));
        then(&mut history, |state| record_unable_to_contact(state, ID, rule));
        assert!(matches!(given(&history), Case::Ended { ending: CaseEnding::UnableToContact, .. }));
        // Re-opened: a new episode with its own attempts.
        then(&mut history, |state| reopen(state, ID, "the victim called back"));
        assert_eq!(record_unable_to_contact(&given(&history), ID, rule).unwrap_err().code(), "attempt_rule_not_met");
        assert_eq!(record_unable_to_contact(&given(&engaged_case()), ID, rule), Err(CaseRejection::AlreadyEngaged));
    }

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

    #[test]
    fn interventions_need_an_engaged_victim_and_notes_any_case() {
        let intervention = |minutes| InterventionRecorded {
            case_id: ID,
            need: "safety_planning".into(),
            held_on: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
            minutes,
        };
        assert_eq!(record_intervention(&given(&accepted_case()), intervention(30)), Err(CaseRejection::NotEngaged));
        assert_eq!(
            record_intervention(&given(&engaged_case()), intervention(0)),
            Err(CaseRejection::InterventionLength)
        );
        assert!(record_intervention(&given(&engaged_case()), intervention(30)).is_ok());
        assert_eq!(add_note(&Case::NotOpened, ID, Sealed("v1.x".into()), false), Err(CaseRejection::NotOpened));
        assert!(add_note(&given(&[opened()]), ID, Sealed("v1.x".into()), true).is_ok());
        assert_eq!(support_declined(&given(&accepted_case()), ID, "no"), Err(CaseRejection::NotEngaged));
        assert!(support_declined(&given(&engaged_case()), ID, "has a friend").is_ok());
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

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

    #[test]
    fn allocation_changes_hands_but_not_to_the_same_caseworker() {
        let worker = StaffName::parse("s.jones").unwrap();
        let mut history = vec![opened()];
        then(&mut history, |state| allocate(state, ID, worker.clone()));
        assert_eq!(allocate(&given(&history), ID, worker.clone()), Err(CaseRejection::AlreadyAllocated(worker)));
    }
}

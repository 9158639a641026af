//! The `Referral` aggregate: one request for support for one victim, from receipt to an ending.
//!
//! ```text
//! received ──► contact attempts ──► contacted ──► support accepted ──► closed (outcome answers)
//!    │               │                  └──► declined (reason)
//!    │               └──► unable to contact (only once the service's attempt rule is met)
//!    └──► returned to referrer (no safe or valid route)
//! onward referral to a specialist service: any time while open, once per service, only with the victim's explicit
//! consent (or consent overridden with a reason): an opt-out police referral does not cover passing details on
//! while open: allocation to an officer, safe-contact updates, outreach letters or emails (only on a safe channel)
//! once contacted: needs assessment (and reassessment); once supported: support sessions
//! ```
//! Decisions are pure: the attempt rule, the time band of an attempt and the outcome-measure list in force all
//! arrive in the command. So does when each fact happened: [`timed`] (in `occurred.rs`) refuses time that runs
//! backwards, and a date beyond the back-dating window without a reason, for whatever a decision would write.

use std::collections::BTreeSet;

use casetrack_casework::contact::{AttemptRule, check_channel, check_safe_time};
use casetrack_casework::occurred::TimeRejection;
use casetrack_eventstore::command::{Aggregate, Rejection};
use casetrack_proto::contact::{AttemptOutcome, ConsentBasis, ContactChannel, SafeContact, Safety, TimeBand};
use casetrack_proto::hub::{
    ConsentRecorded, ContactAttemptRecorded, HubEvent, MeasureAnswer, NeedsAssessed, OnwardReferralMade, OutreachSent,
    ReferralAllocated, ReferralClosed, ReferralReceived, ReferralSource, ReportedToPolice, ReturnedToReferrer,
    SafeContactUpdated, SupportAccepted, SupportDeclined, SupportSessionRecorded, UnableToContactRecorded,
};
use casetrack_proto::profile::AgeBand;
use casetrack_proto::{PersonId, ReferralId, Sealed, ServiceCode, StaffName};

mod occurred;
pub use occurred::{When, step, timed};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Referral {
    #[default]
    NotReceived,
    Open(OpenReferral),
    Ended {
        person_id: PersonId,
        ending: Ending,
        /// A self-referral not yet reported to police: the report can still be recorded after the ending.
        awaiting_police_report: bool,
    },
}

impl Referral {
    /// The person the referral is about, once received.
    pub fn person_id(&self) -> Option<PersonId> {
        match self {
            Referral::NotReceived => None,
            Referral::Open(open) => Some(open.person_id),
            Referral::Ended { person_id, .. } => Some(*person_id),
        }
    }

    /// A self-referral not yet reported to police: the report can still be recorded, even after the ending.
    pub fn awaiting_police_report(&self) -> bool {
        match self {
            Referral::NotReceived => false,
            Referral::Open(open) => open.awaiting_police_report,
            Referral::Ended { awaiting_police_report, .. } => *awaiting_police_report,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReferral {
    pub person_id: PersonId,
    pub stage: Stage,
    pub safe_contact: SafeContact,
    /// Times of day the victim may be phoned or visited; empty means any time.
    pub safe_times: Vec<TimeBand>,
    pub consent: ConsentBasis,
    pub officer: Option<StaffName>,
    pub needs_assessed: bool,
    /// Facts of the receipt an onward referral passes on.
    pub domestic_abuse: bool,
    pub enhanced_rights: bool,
    pub age_band: Option<AgeBand>,
    pub attempts: Vec<(TimeBand, AttemptOutcome)>,
    pub referred_to: BTreeSet<ServiceCode>,
    /// A self-referral not yet reported to police.
    pub awaiting_police_report: bool,
}

impl OpenReferral {
    /// Whether the victim's details may go to another service: only with their explicit consent, or consent
    /// overridden with a reason (an opt-out police referral does not cover it).
    pub fn may_refer_on(&self) -> bool {
        matches!(self.consent, ConsentBasis::Explicit | ConsentBasis::Overridden)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    AwaitingContact,
    Contacted,
    Supported,
}

/// How a referral ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    UnableToContact,
    ReturnedToReferrer,
    Declined,
    Closed,
}

impl Ending {
    fn words(self) -> &'static str {
        match self {
            Self::UnableToContact => "recorded as unable to contact",
            Self::ReturnedToReferrer => "returned to the referrer",
            Self::Declined => "declined by the victim",
            Self::Closed => "closed",
        }
    }
}

impl Aggregate for Referral {
    type Event = HubEvent;
    const AGGREGATE: &'static str = "referral";

    /// An allocation or a change of the safe-contact rules is recorded as it is made: a fact dated earlier (a
    /// closure typed up late) may come before it.
    fn happened(event: &HubEvent) -> bool {
        !matches!(event, HubEvent::ReferralAllocated(_) | HubEvent::SafeContactUpdated(_))
    }

    fn apply(self, event: &HubEvent) -> Self {
        let mut open = match (self, event) {
            (Referral::NotReceived, HubEvent::ReferralReceived(e)) => {
                return Referral::Open(OpenReferral {
                    person_id: e.person_id,
                    stage: Stage::AwaitingContact,
                    safe_contact: e.safe_contact.clone(),
                    safe_times: Vec::new(),
                    consent: e.consent,
                    officer: None,
                    needs_assessed: false,
                    domestic_abuse: e.domestic_abuse,
                    enhanced_rights: e.enhanced_rights,
                    age_band: e.profile.age_band,
                    attempts: Vec::new(),
                    referred_to: BTreeSet::new(),
                    awaiting_police_report: e.source == ReferralSource::SelfReferral && e.crime_reference.is_none(),
                });
            }
            (Referral::Ended { person_id, ending, .. }, HubEvent::ReportedToPolice(_)) => {
                return Referral::Ended { person_id, ending, awaiting_police_report: false };
            }
            (Referral::Open(open), _) => open,
            (state, _) => return state,
        };
        let end = |ending| Referral::Ended {
            person_id: open.person_id,
            ending,
            awaiting_police_report: open.awaiting_police_report,
        };
        match event {
            HubEvent::ReferralReceived(_) => {}
            HubEvent::ContactAttemptRecorded(e) => {
                open.attempts.push((e.time_band, e.outcome));
                if e.outcome.reached() && open.stage == Stage::AwaitingContact {
                    open.stage = Stage::Contacted;
                }
                // Someone else answered: that channel is unsafe from now on.
                if e.outcome == AttemptOutcome::Unsafe {
                    open.safe_contact.set(e.channel, Safety::Unsafe);
                }
            }
            HubEvent::SupportAccepted(_) => open.stage = Stage::Supported,
            HubEvent::OnwardReferralMade(e) => {
                open.referred_to.insert(e.target_service.clone());
            }
            HubEvent::UnableToContactRecorded(_) => return end(Ending::UnableToContact),
            HubEvent::ReturnedToReferrer(_) => return end(Ending::ReturnedToReferrer),
            HubEvent::SupportDeclined(_) => return end(Ending::Declined),
            HubEvent::ReferralClosed(_) => return end(Ending::Closed),
            HubEvent::ReportedToPolice(_) => open.awaiting_police_report = false,
            HubEvent::ReferralAllocated(e) => open.officer = Some(e.officer.clone()),
            HubEvent::SafeContactUpdated(e) => {
                open.safe_contact = e.safe_contact.clone();
                open.safe_times = e.safe_times.clone();
            }
            HubEvent::NeedsAssessed(_) => open.needs_assessed = true,
            HubEvent::ConsentRecorded(e) => open.consent = e.basis,
            HubEvent::OutreachSent(_) | HubEvent::SupportSessionRecorded(_) => {}
        }
        Referral::Open(open)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferralRejection {
    #[error("this referral has already been received")]
    AlreadyReceived,
    #[error("there is no such referral")]
    NotReceived,
    #[error("this referral has ended: it was {}", .0.words())]
    Ended(Ending),
    #[error("the victim withheld consent, so this referral is recorded but not worked")]
    ConsentWithheld,
    #[error("{0}")]
    ChannelUnsafe(String),
    #[error("{0}")]
    AttemptRuleNotMet(String),
    #[error("the victim has already been contacted")]
    AlreadyContacted,
    #[error("the victim has not been contacted yet")]
    NotContacted,
    #[error("the victim has already accepted support")]
    AlreadySupported,
    #[error("give a reason")]
    ReasonRequired,
    #[error("this referral has already been referred on to {0}")]
    AlreadyReferredOn(ServiceCode),
    #[error("the hub cannot refer a victim on to itself")]
    ReferToHub,
    /// The service does not take this victim (its eligibility rule, in its words).
    #[error("{0}")]
    NotEligible(String),
    #[error("the outcome measure {0:?} is answered more than once")]
    DuplicateMeasure(String),
    #[error("record the victim's answer to at least one outcome measure (use not asked where it was not asked)")]
    NoAnswers,
    #[error("only a self-referral that was not reported to police can record a later police report")]
    NotAwaitingPoliceReport,
    #[error("enter the crime reference the police gave")]
    CrimeReferenceRequired,
    #[error("this referral is already allocated to {0}")]
    AlreadyAllocated(StaffName),
    #[error("{0}")]
    OutsideSafeTimes(String),
    #[error("outreach goes by letter or email only")]
    NotAnOutreachChannel,
    #[error("{0}")]
    OutreachNotKnownSafe(String),
    #[error("choose at least one need")]
    NoNeeds,
    #[error("the need {0:?} is chosen more than once")]
    DuplicateNeed(String),
    #[error("support sessions are recorded once the victim has accepted support")]
    NotSupported,
    #[error("a support session lasts between 1 minute and 8 hours")]
    SessionLength,
    #[error(
        "the victim has not agreed to their details going to another service: ask them, and record their consent \
         (or why it is overridden) first"
    )]
    ConsentNeeded,
    #[error("record consent as given or overridden; to stop work, record that the victim declined support")]
    ConsentNotRecordable,
    #[error("consent is already recorded as given")]
    ConsentAlreadyGiven,
    /// The time given for the fact runs backwards, or is beyond the back-dating window without a reason: a fault
    /// in the request, not a conflict with the referral, so it answers 422 (see `commands::handler`).
    #[error("{0}")]
    Time(TimeRejection),
}

impl Rejection for ReferralRejection {
    fn code(&self) -> &'static str {
        match self {
            Self::AlreadyReceived => "referral_already_received",
            Self::NotReceived => "referral_not_found",
            Self::Ended(_) => "referral_ended",
            Self::ConsentWithheld => "consent_withheld",
            Self::ChannelUnsafe(_) => "channel_unsafe",
            Self::AttemptRuleNotMet(_) => "attempt_rule_not_met",
            Self::AlreadyContacted => "already_contacted",
            Self::NotContacted => "not_contacted",
            Self::AlreadySupported => "already_supported",
            Self::ReasonRequired => "reason_required",
            Self::AlreadyReferredOn(_) => "already_referred_on",
            Self::ReferToHub => "refer_on_to_hub",
            Self::NotEligible(_) => "not_eligible",
            Self::DuplicateMeasure(_) => "duplicate_measure",
            Self::NoAnswers => "no_answers",
            Self::NotAwaitingPoliceReport => "not_awaiting_police_report",
            Self::CrimeReferenceRequired => "crime_reference_required",
            Self::AlreadyAllocated(_) => "already_allocated",
            Self::OutsideSafeTimes(_) => "outside_safe_times",
            Self::NotAnOutreachChannel => "not_an_outreach_channel",
            Self::OutreachNotKnownSafe(_) => "outreach_not_known_safe",
            Self::NoNeeds => "no_needs",
            Self::DuplicateNeed(_) => "duplicate_need",
            Self::NotSupported => "not_supported",
            Self::SessionLength => "session_length",
            Self::ConsentNeeded => "consent_needed",
            Self::ConsentNotRecordable => "consent_not_recordable",
            Self::ConsentAlreadyGiven => "consent_already_given",
            Self::Time(rejection) => rejection.code(),
        }
    }
}

pub type Decision = Result<Vec<HubEvent>, ReferralRejection>;

/// The open referral a working command acts on, or why there is none. Consent withheld stops all work.
fn workable(state: &Referral) -> Result<&OpenReferral, ReferralRejection> {
    match state {
        Referral::NotReceived => Err(ReferralRejection::NotReceived),
        Referral::Ended { ending, .. } => Err(ReferralRejection::Ended(*ending)),
        Referral::Open(open) if open.consent == ConsentBasis::Withheld => Err(ReferralRejection::ConsentWithheld),
        Referral::Open(open) => Ok(open),
    }
}

fn reason(text: &str) -> Result<String, ReferralRejection> {
    let text = text.trim();
    if text.is_empty() { Err(ReferralRejection::ReasonRequired) } else { Ok(text.to_owned()) }
}

pub fn receive(state: &Referral, command: ReferralReceived) -> Decision {
    match state {
        Referral::NotReceived => Ok(vec![HubEvent::ReferralReceived(command)]),
        _ => Err(ReferralRejection::AlreadyReceived),
    }
}

/// Records one contact attempt. The time band is derived by the caller from the attempt's time.
pub fn record_attempt(state: &Referral, command: ContactAttemptRecorded) -> Decision {
    let open = workable(state)?;
    check_channel(&open.safe_contact, command.channel).map_err(ReferralRejection::ChannelUnsafe)?;
    check_safe_time(&open.safe_times, command.channel, command.time_band)
        .map_err(ReferralRejection::OutsideSafeTimes)?;
    Ok(vec![HubEvent::ContactAttemptRecorded(command)])
}

/// Allocates the referral to a hub officer (or re-allocates it to another).
pub fn allocate(state: &Referral, referral_id: ReferralId, officer: StaffName) -> Decision {
    let open = workable(state)?;
    if open.officer.as_ref() == Some(&officer) {
        return Err(ReferralRejection::AlreadyAllocated(officer));
    }
    Ok(vec![HubEvent::ReferralAllocated(ReferralAllocated {
        referral_id,
        officer,
        previous_officer: open.officer.clone(),
    })])
}

/// Replaces the safe-contact rules with what the victim said (the caution arrives sealed).
pub fn update_safe_contact(
    state: &Referral,
    referral_id: ReferralId,
    safe_contact: SafeContact,
    mut safe_times: Vec<TimeBand>,
    caution: Option<Sealed>,
) -> Decision {
    workable(state)?;
    safe_times.sort();
    safe_times.dedup();
    Ok(vec![HubEvent::SafeContactUpdated(SafeContactUpdated { referral_id, safe_contact, safe_times, caution })])
}

/// Records the victim's consent to passing their details on, or consent overridden with a reason.
pub fn record_consent(
    state: &Referral,
    referral_id: ReferralId,
    basis: ConsentBasis,
    override_reason: Option<&str>,
) -> Decision {
    let open = workable(state)?;
    let override_reason = match basis {
        ConsentBasis::Explicit if open.consent == ConsentBasis::Explicit => {
            return Err(ReferralRejection::ConsentAlreadyGiven);
        }
        ConsentBasis::Explicit => None,
        ConsentBasis::Overridden => Some(reason(override_reason.unwrap_or_default())?),
        ConsentBasis::OptOut | ConsentBasis::Withheld => return Err(ReferralRejection::ConsentNotRecordable),
    };
    Ok(vec![HubEvent::ConsentRecorded(ConsentRecorded { referral_id, basis, override_reason })])
}

/// Records an outreach letter or email. Stricter than an attempt: it goes only where the channel is known to be
/// safe, because a letter read by the wrong person cannot be ended like a call.
pub fn send_outreach(state: &Referral, referral_id: ReferralId, channel: ContactChannel) -> Decision {
    let open = workable(state)?;
    if !matches!(channel, ContactChannel::Letter | ContactChannel::Email) {
        return Err(ReferralRejection::NotAnOutreachChannel);
    }
    check_channel(&open.safe_contact, channel).map_err(ReferralRejection::ChannelUnsafe)?;
    if open.safe_contact.safety(channel) != Safety::Safe {
        return Err(ReferralRejection::OutreachNotKnownSafe(format!(
            "nobody has confirmed that a {} is safe for this victim: ask them, or record it in the safe-contact \
             rules, before sending one",
            channel.label()
        )));
    }
    Ok(vec![HubEvent::OutreachSent(OutreachSent { referral_id, channel })])
}

/// Records the contacted victim's needs (need codes validated against the hub's list by the caller).
pub fn assess_needs(state: &Referral, referral_id: ReferralId, needs: Vec<String>) -> Decision {
    let open = workable(state)?;
    if open.stage == Stage::AwaitingContact {
        return Err(ReferralRejection::NotContacted);
    }
    if needs.is_empty() {
        return Err(ReferralRejection::NoNeeds);
    }
    let mut seen = BTreeSet::new();
    for need in &needs {
        if !seen.insert(need.as_str()) {
            return Err(ReferralRejection::DuplicateNeed(need.clone()));
        }
    }
    Ok(vec![HubEvent::NeedsAssessed(NeedsAssessed { referral_id, needs, reassessment: open.needs_assessed })])
}

/// Records one support session given by the hub.
pub fn record_session(state: &Referral, session: SupportSessionRecorded) -> Decision {
    if workable(state)?.stage != Stage::Supported {
        return Err(ReferralRejection::NotSupported);
    }
    if !(1..=480).contains(&session.minutes) {
        return Err(ReferralRejection::SessionLength);
    }
    Ok(vec![HubEvent::SupportSessionRecorded(session)])
}

pub fn record_unable_to_contact(state: &Referral, referral_id: ReferralId, rule: AttemptRule) -> Decision {
    let open = workable(state)?;
    if open.stage != Stage::AwaitingContact {
        return Err(ReferralRejection::AlreadyContacted);
    }
    let tally = rule.tally(&open.attempts);
    if !rule.is_met(&tally) {
        return Err(ReferralRejection::AttemptRuleNotMet(rule.shortfall(&tally)));
    }
    Ok(vec![HubEvent::UnableToContactRecorded(UnableToContactRecorded {
        referral_id,
        attempts: tally.unsuccessful,
        time_bands: tally.bands,
    })])
}

pub fn return_to_referrer(state: &Referral, referral_id: ReferralId, why: &str) -> Decision {
    let open = workable(state)?;
    if open.stage != Stage::AwaitingContact {
        return Err(ReferralRejection::AlreadyContacted);
    }
    Ok(vec![HubEvent::ReturnedToReferrer(ReturnedToReferrer { referral_id, reason: reason(why)? })])
}

pub fn accept_support(state: &Referral, referral_id: ReferralId) -> Decision {
    match workable(state)?.stage {
        Stage::AwaitingContact => Err(ReferralRejection::NotContacted),
        Stage::Supported => Err(ReferralRejection::AlreadySupported),
        Stage::Contacted => Ok(vec![HubEvent::SupportAccepted(SupportAccepted { referral_id })]),
    }
}

pub fn decline_support(state: &Referral, referral_id: ReferralId, why: &str) -> Decision {
    if workable(state)?.stage == Stage::AwaitingContact {
        return Err(ReferralRejection::NotContacted);
    }
    Ok(vec![HubEvent::SupportDeclined(SupportDeclined { referral_id, reason: reason(why)? })])
}

pub fn refer_on(state: &Referral, referral_id: ReferralId, service: ServiceCode) -> Decision {
    let open = workable(state)?;
    if service.as_str() == "hub" {
        return Err(ReferralRejection::ReferToHub);
    }
    if open.referred_to.contains(&service) {
        return Err(ReferralRejection::AlreadyReferredOn(service));
    }
    if !open.may_refer_on() {
        return Err(ReferralRejection::ConsentNeeded);
    }
    Ok(vec![HubEvent::OnwardReferralMade(OnwardReferralMade {
        referral_id,
        person_id: open.person_id,
        target_service: service,
        safe_contact: open.safe_contact.clone(),
        safe_times: open.safe_times.clone(),
        domestic_abuse: open.domestic_abuse,
        enhanced_rights: open.enhanced_rights,
        age_band: open.age_band,
    })])
}

/// Refers on to a service of the catalogue: as [`refer_on`], once the service's eligibility rule takes the victim
/// (their age band on the day of referral).
pub fn refer_on_to(
    state: &Referral,
    referral_id: ReferralId,
    service: &casetrack_casework::catalogue::ServiceDefinition,
) -> Decision {
    let open = workable(state)?;
    if let Some(why) = service.refuses(open.age_band) {
        return Err(ReferralRejection::NotEligible(why));
    }
    refer_on(state, referral_id, service.code.clone())
}

/// Closes a referral the victim was contacted on, with their answers to the outcome measures in force (validated
/// against that list by the caller).
pub fn close(
    state: &Referral,
    referral_id: ReferralId,
    measures_version: &str,
    answers: Vec<MeasureAnswer>,
) -> Decision {
    if workable(state)?.stage == Stage::AwaitingContact {
        return Err(ReferralRejection::NotContacted);
    }
    if answers.is_empty() {
        return Err(ReferralRejection::NoAnswers);
    }
    let mut seen = BTreeSet::new();
    for answer in &answers {
        if !seen.insert(answer.measure.as_str()) {
            return Err(ReferralRejection::DuplicateMeasure(answer.measure.clone()));
        }
    }
    Ok(vec![HubEvent::ReferralClosed(ReferralClosed {
        referral_id,
        measures_version: measures_version.to_owned(),
        answers,
    })])
}

/// Records that a self-referred victim has since reported the crime to police (counted by commissioners). Allowed
/// after the referral ended too: the report is a fact about the crime, not about the hub's work.
pub fn record_police_report(state: &Referral, report: ReportedToPolice) -> Decision {
    if *state == Referral::NotReceived {
        return Err(ReferralRejection::NotReceived);
    }
    if !state.awaiting_police_report() {
        return Err(ReferralRejection::NotAwaitingPoliceReport);
    }
    if report.crime_reference.trim().is_empty() {
        return Err(ReferralRejection::CrimeReferenceRequired);
    }
    Ok(vec![HubEvent::ReportedToPolice(report)])
}

/// Whether a channel may be used, for showing warnings before any contact action.
pub fn channel_allowed(open: &OpenReferral, channel: ContactChannel) -> bool {
    check_channel(&open.safe_contact, channel).is_ok()
}

#[cfg(test)]
mod tests;

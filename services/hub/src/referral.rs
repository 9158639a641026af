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
//! arrive in the command.

use std::collections::BTreeSet;

use casetrack_platform::command::{Aggregate, Rejection};
use casetrack_platform::contact::{AttemptRule, check_channel, check_safe_time};
use casetrack_proto::contact::{AttemptOutcome, ConsentBasis, ContactChannel, SafeContact, Safety, TimeBand};
use casetrack_proto::hub::{
    ConsentRecorded, ContactAttemptRecorded, HubEvent, MeasureAnswer, NeedsAssessed, OnwardReferralMade, OutreachSent,
    ReferralAllocated, ReferralClosed, ReferralReceived, ReferralSource, ReportedToPolice, ReturnedToReferrer,
    SafeContactUpdated, SupportAccepted, SupportDeclined, SupportSessionRecorded, UnableToContactRecorded,
};
use casetrack_proto::profile::AgeBand;
use casetrack_proto::{PersonId, ReferralId, Sealed, ServiceCode, StaffName};

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
        }
    }
}

type Decision = Result<Vec<HubEvent>, ReferralRejection>;

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
    if !matches!(open.consent, ConsentBasis::Explicit | ConsentBasis::Overridden) {
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
    let awaiting = match state {
        Referral::NotReceived => return Err(ReferralRejection::NotReceived),
        Referral::Open(open) => open.awaiting_police_report,
        Referral::Ended { awaiting_police_report, .. } => *awaiting_police_report,
    };
    if !awaiting {
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
mod tests {
    use casetrack_proto::contact::OutcomeAnswer;
    use chrono::Utc;

    use super::*;

    const ID: ReferralId = ReferralId(uuid::Uuid::from_u128(7));

    fn received(consent: ConsentBasis) -> HubEvent {
        HubEvent::ReferralReceived(receipt(consent))
    }

    fn receipt(consent: ConsentBasis) -> ReferralReceived {
        let mut safe_contact = SafeContact::default();
        safe_contact.set(ContactChannel::Voicemail, Safety::Unsafe);
        ReferralReceived {
            referral_id: ID,
            person_id: PersonId(uuid::Uuid::from_u128(9)),
            source: ReferralSource::PoliceFeed,
            offence_category: None,
            domestic_abuse: true,
            crime_reference: Some("CR/1".into()),
            crime_reported_on: None,
            safe_contact,
            consent,
            consent_override_reason: None,
            enhanced_rights: false,
            profile: Default::default(),
        }
    }

    fn attempt(channel: ContactChannel, band: TimeBand, outcome: AttemptOutcome) -> ContactAttemptRecorded {
        ContactAttemptRecorded { referral_id: ID, channel, attempted_at: Utc::now(), time_band: band, outcome }
    }

    fn attempted(band: TimeBand, outcome: AttemptOutcome) -> HubEvent {
        HubEvent::ContactAttemptRecorded(attempt(ContactChannel::Phone, band, outcome))
    }

    fn given(events: &[HubEvent]) -> Referral {
        events.iter().fold(Referral::default(), |state, e| state.apply(e))
    }

    fn idva() -> ServiceCode {
        ServiceCode::parse("idva").unwrap()
    }

    fn answers() -> Vec<MeasureAnswer> {
        vec![MeasureAnswer { measure: "cope".into(), answer: OutcomeAnswer::Improved }]
    }

    use AttemptOutcome::{NoAnswer, Reached};
    use TimeBand::{Afternoon, Evening, Morning};

    #[test]
    fn a_referral_is_received_once() {
        let events = receive(&given(&[]), receipt(ConsentBasis::OptOut)).unwrap();
        assert!(matches!(given(&events), Referral::Open(OpenReferral { stage: Stage::AwaitingContact, .. })));
        assert_eq!(receive(&given(&events), receipt(ConsentBasis::OptOut)), Err(ReferralRejection::AlreadyReceived));
    }

    #[test]
    fn nothing_is_worked_before_receipt_or_with_consent_withheld() {
        let call = attempt(ContactChannel::Phone, Morning, NoAnswer);
        assert_eq!(record_attempt(&given(&[]), call.clone()), Err(ReferralRejection::NotReceived));
        let withheld = given(&[received(ConsentBasis::Withheld)]);
        assert_eq!(record_attempt(&withheld, call), Err(ReferralRejection::ConsentWithheld));
        assert_eq!(refer_on(&withheld, ID, idva()), Err(ReferralRejection::ConsentWithheld));
    }

    #[test]
    fn an_unsafe_channel_cannot_be_used() {
        let state = given(&[received(ConsentBasis::OptOut)]);
        let refused = record_attempt(&state, attempt(ContactChannel::Voicemail, Morning, NoAnswer)).unwrap_err();
        assert_eq!(refused.code(), "channel_unsafe");
        assert!(refused.to_string().contains("voicemail is marked unsafe"));
    }

    #[test]
    fn someone_else_answering_makes_the_channel_unsafe() {
        let state = given(&[received(ConsentBasis::OptOut), attempted(Morning, AttemptOutcome::Unsafe)]);
        assert_eq!(
            record_attempt(&state, attempt(ContactChannel::Phone, Evening, NoAnswer)).unwrap_err().code(),
            "channel_unsafe"
        );
        assert!(record_attempt(&state, attempt(ContactChannel::Letter, Evening, NoAnswer)).is_ok());
    }

    #[test]
    fn unable_to_contact_only_after_the_attempt_rule_is_met() {
        let rule = AttemptRule::default();
        let mut history =
            vec![received(ConsentBasis::OptOut), attempted(Morning, NoAnswer), attempted(Morning, NoAnswer)];
        let refused = record_unable_to_contact(&given(&history), ID, rule).unwrap_err();
        assert_eq!(refused.code(), "attempt_rule_not_met");
        assert!(refused.to_string().contains("so far 2 in 1"), "{refused}");
        history.push(attempted(Afternoon, NoAnswer));
        assert!(record_unable_to_contact(&given(&history), ID, rule).is_err(), "three attempts but only two bands");
        history.push(attempted(Evening, AttemptOutcome::VoicemailLeft));
        let events = record_unable_to_contact(&given(&history), ID, rule).unwrap();
        assert_eq!(
            events,
            vec![HubEvent::UnableToContactRecorded(UnableToContactRecorded {
                referral_id: ID,
                attempts: 4,
                time_bands: vec![Morning, Afternoon, Evening]
            })]
        );
        history.extend(events);
        assert_eq!(
            record_attempt(&given(&history), attempt(ContactChannel::Phone, Morning, NoAnswer)),
            Err(ReferralRejection::Ended(Ending::UnableToContact))
        );
        // A service may set a looser rule.
        let loose = AttemptRule { attempts: 2, distinct_bands: 1 };
        assert!(record_unable_to_contact(&given(&history[..3]), ID, loose).is_ok());
    }

    #[test]
    fn a_contacted_victim_cannot_be_recorded_unable_to_contact_or_returned() {
        let state = given(&[received(ConsentBasis::OptOut), attempted(Morning, Reached)]);
        assert_eq!(
            record_unable_to_contact(&state, ID, AttemptRule::default()),
            Err(ReferralRejection::AlreadyContacted)
        );
        assert_eq!(return_to_referrer(&state, ID, "no number"), Err(ReferralRejection::AlreadyContacted));
    }

    #[test]
    fn returned_to_referrer_needs_a_reason() {
        let state = given(&[received(ConsentBasis::OptOut)]);
        assert_eq!(return_to_referrer(&state, ID, "  "), Err(ReferralRejection::ReasonRequired));
        assert!(return_to_referrer(&state, ID, "no phone number and letters unsafe").is_ok());
    }

    #[test]
    fn support_is_accepted_or_declined_only_after_contact() {
        let waiting = given(&[received(ConsentBasis::OptOut)]);
        assert_eq!(accept_support(&waiting, ID), Err(ReferralRejection::NotContacted));
        assert_eq!(decline_support(&waiting, ID, "no need"), Err(ReferralRejection::NotContacted));
        let contacted = given(&[received(ConsentBasis::OptOut), attempted(Evening, Reached)]);
        assert_eq!(decline_support(&contacted, ID, ""), Err(ReferralRejection::ReasonRequired));
        let declined = decline_support(&contacted, ID, "has family support").unwrap();
        assert!(matches!(
            given(&[received(ConsentBasis::OptOut), attempted(Evening, Reached), declined[0].clone()]),
            Referral::Ended { ending: Ending::Declined, .. }
        ));
        let accepted = accept_support(&contacted, ID).unwrap();
        let supported = given(&[received(ConsentBasis::OptOut), attempted(Evening, Reached), accepted[0].clone()]);
        assert_eq!(accept_support(&supported, ID), Err(ReferralRejection::AlreadySupported));
    }

    #[test]
    fn an_onward_referral_needs_the_victims_consent_or_a_recorded_override() {
        let mut history = vec![received(ConsentBasis::OptOut)];
        assert_eq!(refer_on(&given(&history), ID, idva()), Err(ReferralRejection::ConsentNeeded));
        assert_eq!(
            record_consent(&given(&history), ID, ConsentBasis::Withheld, None),
            Err(ReferralRejection::ConsentNotRecordable)
        );
        assert_eq!(
            record_consent(&given(&history), ID, ConsentBasis::Overridden, Some(" ")),
            Err(ReferralRejection::ReasonRequired)
        );
        let overridden = record_consent(&given(&history), ID, ConsentBasis::Overridden, Some("risk to life")).unwrap();
        assert!(refer_on(&given(&[history.clone(), overridden].concat()), ID, idva()).is_ok());
        history.extend(record_consent(&given(&history), ID, ConsentBasis::Explicit, None).unwrap());
        assert_eq!(
            record_consent(&given(&history), ID, ConsentBasis::Explicit, None),
            Err(ReferralRejection::ConsentAlreadyGiven)
        );
        assert!(refer_on(&given(&history), ID, idva()).is_ok());
    }

    #[test]
    fn an_onward_referral_is_made_once_per_service_and_never_to_the_hub() {
        let mut history = vec![received(ConsentBasis::Explicit)];
        history.extend(refer_on(&given(&history), ID, idva()).unwrap());
        assert_eq!(refer_on(&given(&history), ID, idva()), Err(ReferralRejection::AlreadyReferredOn(idva())));
        assert!(refer_on(&given(&history), ID, ServiceCode::parse("isva").unwrap()).is_ok());
        assert_eq!(
            refer_on(&given(&history), ID, ServiceCode::parse("hub").unwrap()),
            Err(ReferralRejection::ReferToHub)
        );
    }

    #[test]
    fn a_self_referral_can_record_a_later_police_report_once_even_after_it_ended() {
        let report = ReportedToPolice {
            referral_id: ID,
            crime_reference: "CR/9".into(),
            reported_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        };
        let police = given(&[received(ConsentBasis::OptOut)]);
        assert_eq!(record_police_report(&police, report.clone()), Err(ReferralRejection::NotAwaitingPoliceReport));
        let mut own = receipt(ConsentBasis::Explicit);
        own.source = ReferralSource::SelfReferral;
        own.crime_reference = None;
        let history = vec![
            HubEvent::ReferralReceived(own),
            attempted(Morning, Reached),
            HubEvent::SupportDeclined(SupportDeclined { referral_id: ID, reason: "not now".into() }),
        ];
        let blank = ReportedToPolice { crime_reference: " ".into(), ..report.clone() };
        assert_eq!(record_police_report(&given(&history), blank), Err(ReferralRejection::CrimeReferenceRequired));
        let events = record_police_report(&given(&history), report.clone()).unwrap();
        let after = given(&[history, events].concat());
        assert_eq!(record_police_report(&after, report), Err(ReferralRejection::NotAwaitingPoliceReport));
    }

    fn officer(name: &str) -> StaffName {
        StaffName::parse(name).unwrap()
    }

    #[test]
    fn a_referral_is_allocated_and_reallocated_but_not_twice_to_the_same_officer() {
        let mut history = vec![received(ConsentBasis::OptOut)];
        let first = allocate(&given(&history), ID, officer("a.khan")).unwrap();
        assert!(matches!(&first[..], [HubEvent::ReferralAllocated(ReferralAllocated { previous_officer: None, .. })]));
        history.extend(first);
        assert_eq!(
            allocate(&given(&history), ID, officer("a.khan")),
            Err(ReferralRejection::AlreadyAllocated(officer("a.khan")))
        );
        let moved = allocate(&given(&history), ID, officer("b.jones")).unwrap();
        assert!(matches!(
            &moved[..],
            [HubEvent::ReferralAllocated(ReferralAllocated { previous_officer: Some(p), .. })] if p.as_str() == "a.khan"
        ));
        assert_eq!(
            allocate(&given(&[received(ConsentBasis::Withheld)]), ID, officer("a.khan")),
            Err(ReferralRejection::ConsentWithheld)
        );
    }

    #[test]
    fn updated_safe_contact_rules_replace_the_referrers_and_limit_the_times_to_call() {
        let mut rules = SafeContact::default();
        rules.set(ContactChannel::Phone, Safety::Safe);
        let mut history = vec![received(ConsentBasis::OptOut)];
        history.extend(update_safe_contact(&given(&history), ID, rules, vec![Morning, Morning], None).unwrap());
        // Voicemail was unsafe from the referrer; the victim's own rules leave it unknown, so it may be used now.
        assert!(record_attempt(&given(&history), attempt(ContactChannel::Voicemail, Morning, NoAnswer)).is_ok());
        let refused = record_attempt(&given(&history), attempt(ContactChannel::Phone, Evening, NoAnswer)).unwrap_err();
        assert_eq!(refused.code(), "outside_safe_times");
        assert!(refused.to_string().contains("only be contacted by phone in the morning"), "{refused}");
        // A letter is not answered by the wrong person at the wrong time: safe times do not apply.
        assert!(record_attempt(&given(&history), attempt(ContactChannel::Letter, Evening, NoAnswer)).is_ok());
    }

    #[test]
    fn outreach_goes_only_by_letter_or_email_known_to_be_safe() {
        let state = given(&[received(ConsentBasis::OptOut)]);
        assert_eq!(send_outreach(&state, ID, ContactChannel::Phone), Err(ReferralRejection::NotAnOutreachChannel));
        assert_eq!(send_outreach(&state, ID, ContactChannel::Letter).unwrap_err().code(), "outreach_not_known_safe");
        let mut rules = SafeContact::default();
        rules.set(ContactChannel::Email, Safety::Safe);
        rules.set(ContactChannel::Letter, Safety::Unsafe);
        let history = [
            received(ConsentBasis::OptOut),
            HubEvent::SafeContactUpdated(SafeContactUpdated {
                referral_id: ID,
                safe_contact: rules,
                safe_times: vec![],
                caution: None,
            }),
        ];
        assert_eq!(send_outreach(&given(&history), ID, ContactChannel::Letter).unwrap_err().code(), "channel_unsafe");
        assert_eq!(
            send_outreach(&given(&history), ID, ContactChannel::Email).unwrap(),
            vec![HubEvent::OutreachSent(OutreachSent { referral_id: ID, channel: ContactChannel::Email })]
        );
    }

    #[test]
    fn needs_are_assessed_after_contact_and_a_later_assessment_is_a_reassessment() {
        let needs = || vec!["emotional_support".to_owned()];
        assert_eq!(
            assess_needs(&given(&[received(ConsentBasis::OptOut)]), ID, needs()),
            Err(ReferralRejection::NotContacted)
        );
        let mut history = vec![received(ConsentBasis::OptOut), attempted(Morning, Reached)];
        assert_eq!(assess_needs(&given(&history), ID, vec![]), Err(ReferralRejection::NoNeeds));
        let twice = [needs(), needs()].concat();
        assert_eq!(
            assess_needs(&given(&history), ID, twice),
            Err(ReferralRejection::DuplicateNeed("emotional_support".into()))
        );
        let first = assess_needs(&given(&history), ID, needs()).unwrap();
        assert!(matches!(&first[..], [HubEvent::NeedsAssessed(NeedsAssessed { reassessment: false, .. })]));
        history.extend(first);
        let again = assess_needs(&given(&history), ID, needs()).unwrap();
        assert!(matches!(&again[..], [HubEvent::NeedsAssessed(NeedsAssessed { reassessment: true, .. })]));
    }

    #[test]
    fn support_sessions_need_accepted_support_and_a_sensible_length() {
        let session = |minutes| SupportSessionRecorded {
            referral_id: ID,
            held_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
            mode: casetrack_proto::hub::SessionMode::Phone,
            minutes,
        };
        let contacted = vec![received(ConsentBasis::OptOut), attempted(Morning, Reached)];
        assert_eq!(record_session(&given(&contacted), session(30)), Err(ReferralRejection::NotSupported));
        let supported = [contacted, vec![HubEvent::SupportAccepted(SupportAccepted { referral_id: ID })]].concat();
        assert_eq!(record_session(&given(&supported), session(0)), Err(ReferralRejection::SessionLength));
        assert_eq!(record_session(&given(&supported), session(481)), Err(ReferralRejection::SessionLength));
        assert!(record_session(&given(&supported), session(45)).is_ok());
    }

    #[test]
    fn closure_records_each_measure_once_after_contact() {
        let waiting = given(&[received(ConsentBasis::OptOut)]);
        assert_eq!(close(&waiting, ID, "2026-04", answers()), Err(ReferralRejection::NotContacted));
        let supported = given(&[
            received(ConsentBasis::OptOut),
            attempted(Morning, Reached),
            HubEvent::SupportAccepted(SupportAccepted { referral_id: ID }),
        ]);
        assert_eq!(close(&supported, ID, "2026-04", vec![]), Err(ReferralRejection::NoAnswers));
        let twice = [answers(), answers()].concat();
        assert_eq!(close(&supported, ID, "2026-04", twice), Err(ReferralRejection::DuplicateMeasure("cope".into())));
        let closed = close(&supported, ID, "2026-04", answers()).unwrap();
        let ended = [vec![received(ConsentBasis::OptOut), attempted(Morning, Reached)], closed].concat();
        assert_eq!(refer_on(&given(&ended), ID, idva()), Err(ReferralRejection::Ended(Ending::Closed)));
    }
}

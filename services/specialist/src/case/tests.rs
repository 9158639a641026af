//! Given/when/then tests of the common pathway: given the case's events, when a decision is asked for, then the
//! events it decides or the rule that says no. (The kinds' decisions are tested beside them in `crate::kinds`.)

use casetrack_casework::contact::AttemptRule;
use casetrack_eventstore::command::Rejection as _;
use casetrack_proto::contact::{AttemptOutcome, ContactChannel, SafeContact, TimeBand};
use casetrack_proto::specialist::{InterventionRecorded, SpecialistEvent};
use casetrack_proto::{Sealed, StaffName};
use chrono::NaiveDate;

use super::testkit::*;
use super::*;

use AttemptOutcome::NoAnswer;
use TimeBand::{Afternoon, Evening, Morning};

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
fn interventions_need_an_engaged_victim_and_notes_any_case() {
    let intervention = |minutes| InterventionRecorded {
        case_id: ID,
        need: "safety_planning".into(),
        held_on: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        minutes,
    };
    assert_eq!(record_intervention(&given(&accepted_case()), intervention(30)), Err(CaseRejection::NotEngaged));
    assert_eq!(record_intervention(&given(&engaged_case()), intervention(0)), Err(CaseRejection::InterventionLength));
    assert!(record_intervention(&given(&engaged_case()), intervention(30)).is_ok());
    assert_eq!(add_note(&Case::NotOpened, ID, Sealed("v1.x".into()), false), Err(CaseRejection::NotOpened));
    assert!(add_note(&given(&[opened()]), ID, Sealed("v1.x".into()), true).is_ok());
    assert_eq!(support_declined(&given(&accepted_case()), ID, "no"), Err(CaseRejection::NotEngaged));
    assert!(support_declined(&given(&engaged_case()), ID, "has a friend").is_ok());
}

#[test]
fn allocation_changes_hands_but_not_to_the_same_caseworker() {
    let worker = StaffName::parse("s.jones").unwrap();
    let mut history = vec![opened()];
    then(&mut history, |state| allocate(state, ID, worker.clone()));
    assert_eq!(allocate(&given(&history), ID, worker.clone()), Err(CaseRejection::AlreadyAllocated(worker)));
}

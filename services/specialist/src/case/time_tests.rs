//! Given/when/then tests of domain time on a case: given the case's events and when they happened, when a decision is
//! asked for at a time, then its events with whether they are a late entry, or the time rule that says no.

use casetrack_casework::catalogue::ServiceKind;
use casetrack_casework::occurred::{BackDating, Lateness, RecordTimes, TimeRejection};
use casetrack_eventstore::command::Rejection as _;
use casetrack_proto::Sealed;
use casetrack_proto::specialist::{ClosureReason, SpecialistEvent};
use chrono::{DateTime, TimeZone as _, Utc};

use super::testkit::*;
use super::*;
use crate::kinds::testkit::answers;

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// When the case's facts happened: opened on 2 November 2026, the latest on 20 November.
fn record() -> RecordTimes {
    RecordTimes { began: Some(at(2026, 11, 2, 9)), latest: Some(at(2026, 11, 20, 15)) }
}

/// A fact said to have happened `happened`, recorded on 4 December 2026 at noon under the default window.
fn when(happened: DateTime<Utc>, reason: Option<&str>) -> When {
    When { at: happened, now: at(2026, 12, 4, 12), window: BackDating::default(), reason: reason.map(str::to_owned) }
}

fn close_now(state: &Case) -> Decision {
    close(state, ID, ServiceKind::General, ClosureReason::SupportCompleted, "v", answers())
}

#[test]
fn a_fact_within_the_window_is_written_on_time() {
    let (events, lateness) =
        timed(accept(&given(&[opened()]), ID), record(), &when(at(2026, 11, 30, 10), None)).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(lateness, Lateness::OnTime);
}

#[test]
fn nothing_happens_in_the_future() {
    let refused = timed(accept(&given(&[opened()]), ID), record(), &when(at(2026, 12, 5, 9), None));
    assert_eq!(refused, Err(CaseRejection::Time(TimeRejection::InFuture)));
    assert_eq!(refused.unwrap_err().code(), "occurred_in_future");
    // Not even an opening.
    let SpecialistEvent::CaseOpened(opening) = opened() else { unreachable!() };
    let opening = timed(open(&Case::NotOpened, opening), RecordTimes::default(), &when(at(2026, 12, 6, 9), None));
    assert_eq!(opening.unwrap_err().code(), "occurred_in_future");
}

#[test]
fn nothing_happens_on_a_case_before_it_opened() {
    let refused = timed(accept(&given(&[opened()]), ID), record(), &when(at(2026, 11, 1, 9), Some("late")));
    assert_eq!(refused.unwrap_err().code(), "occurred_before_record_began");
    // A re-opening adds to the case: not before it opened either.
    let mut history = engaged_case();
    then(&mut history, close_now);
    let reopening = timed(reopen(&given(&history), ID, "called back"), record(), &when(at(2026, 10, 1, 9), Some("x")));
    assert_eq!(reopening.unwrap_err().code(), "occurred_before_record_began");
}

#[test]
fn a_case_is_not_closed_before_the_last_thing_that_happened_on_it() {
    let state = given(&engaged_case());
    let refused = timed(close_now(&state), record(), &when(at(2026, 11, 19, 9), Some("typed up late")));
    assert_eq!(
        refused,
        Err(CaseRejection::Time(TimeRejection::ClosedBeforeLatest { latest: "20 November 2026".into() }))
    );
    assert_eq!(refused.unwrap_err().code(), "closed_before_latest");
    // Anything else may still be recorded before the latest fact; a closure after it.
    let note = add_note(&state, ID, Sealed("v1.x".into()), false);
    assert!(timed(note, record(), &when(at(2026, 11, 19, 9), Some("from the visit notes"))).is_ok());
    let (_, lateness) = timed(close_now(&state), record(), &when(at(2026, 11, 21, 9), None)).unwrap();
    assert_eq!(lateness, Lateness::OnTime);
}

#[test]
fn beyond_the_window_a_fact_needs_a_reason() {
    let old = at(2026, 11, 3, 9);
    let refused = timed(support_declined(&given(&engaged_case()), ID, "has a friend"), record(), &when(old, None));
    assert_eq!(refused, Err(CaseRejection::Time(TimeRejection::LateWithoutReason { days: 31, window: 14 })));
    assert_eq!(refused.unwrap_err().code(), "late_entry_needs_reason");
    let blank = timed(accept(&given(&[opened()]), ID), record(), &when(old, Some("  ")));
    assert_eq!(blank.unwrap_err().code(), "late_entry_needs_reason");
}

#[test]
fn beyond_the_window_with_a_reason_the_fact_is_written_as_a_late_entry() {
    let (events, lateness) =
        timed(accept(&given(&[opened()]), ID), record(), &when(at(2026, 11, 3, 9), Some("typed up from paper notes")))
            .unwrap();
    assert!(matches!(events[..], [SpecialistEvent::ReferralAccepted(_)]));
    assert_eq!(lateness, Lateness::Late { days: 31, reason: "typed up from paper notes".into() });
    // History brought in years later opens a case with its own date.
    let SpecialistEvent::CaseOpened(opening) = opened() else { unreachable!() };
    let history = when(at(2019, 6, 3, 11), Some("caseload brought from the old system"));
    let (_, lateness) = timed(open(&Case::NotOpened, opening), RecordTimes::default(), &history).unwrap();
    assert!(matches!(lateness, Lateness::Late { .. }));
}

#[test]
fn a_decision_that_writes_nothing_checks_no_time_and_a_refused_decision_stays_refused() {
    let SpecialistEvent::CaseOpened(opening) = opened() else { unreachable!() };
    let again = timed(open(&given(&[opened()]), opening), record(), &when(at(2030, 1, 1, 9), None));
    assert_eq!(again, Ok((vec![], Lateness::OnTime)));
    let refused = timed(accept(&given(&accepted_case()), ID), record(), &when(at(2030, 1, 1, 9), None));
    assert_eq!(refused, Err(CaseRejection::AlreadyDecided));
}

#[test]
fn the_opening_begins_the_record_the_closure_ends_it_and_the_rest_adds() {
    use casetrack_casework::occurred::Step;
    assert_eq!(step(&opened()), Step::Begins);
    let mut history = engaged_case();
    then(&mut history, close_now);
    assert_eq!(step(history.last().unwrap()), Step::Closes);
    assert_eq!(step(&history[1]), Step::Adds);
}

#[test]
fn a_day_without_a_time_is_settled_after_the_cases_facts_of_that_day_and_anothers_process_from_the_opening() {
    let noon = at(2026, 11, 20, 12);
    // The latest fact came at 15:00 that day: a day-only fact (noon) came after it, at a time not written down.
    assert_eq!(settle_day(noon, record(), false), at(2026, 11, 20, 15));
    // Another day: as given.
    assert_eq!(settle_day(at(2026, 11, 10, 12), record(), false), at(2026, 11, 10, 12));
    // A stage of the criminal-justice process reached before the case opened counts from the opening; a fact of
    // the service's own is left to be refused.
    let reported = at(2026, 10, 12, 11);
    assert_eq!(settle_day(reported, record(), true), at(2026, 11, 2, 9));
    assert_eq!(settle_day(reported, record(), false), reported);
    assert!(
        timed(accept(&given(&[opened()]), ID), record(), &when(settle_day(reported, record(), true), Some("x")))
            .is_ok()
    );
}

//! Given/when/then tests of the `Referral` aggregate: given these events, when this command, then these events
//! or this refusal.

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
    let mut history = vec![received(ConsentBasis::OptOut), attempted(Morning, NoAnswer), attempted(Morning, NoAnswer)];
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
    assert_eq!(record_unable_to_contact(&state, ID, AttemptRule::default()), Err(ReferralRejection::AlreadyContacted));
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
fn a_young_victims_service_takes_only_a_victim_under_18_on_the_day_of_referral() {
    let catalogue = casetrack_casework::catalogue::Catalogue::shipped();
    let young = catalogue.get("young_victims").unwrap();
    let aged = |band: Option<AgeBand>| {
        let mut receipt = receipt(ConsentBasis::Explicit);
        receipt.profile.age_band = band;
        given(&[HubEvent::ReferralReceived(receipt)])
    };
    assert_eq!(
        refer_on_to(&aged(Some(AgeBand::From25To34)), ID, young),
        Err(ReferralRejection::NotEligible(
            "Young victims' service takes victims aged under 18 on the day of referral; this victim was 25 to 34"
                .into()
        ))
    );
    assert!(matches!(refer_on_to(&aged(None), ID, young), Err(ReferralRejection::NotEligible(_))));
    let made = refer_on_to(&aged(Some(AgeBand::Under18)), ID, young).unwrap();
    assert!(matches!(&made[..], [HubEvent::OnwardReferralMade(m)] if m.target_service.as_str() == "young_victims"));
    // A service with no rule takes anyone.
    assert!(refer_on_to(&aged(None), ID, catalogue.get("idva").unwrap()).is_ok());
}

#[test]
fn an_onward_referral_is_made_once_per_service_and_never_to_the_hub() {
    let mut history = vec![received(ConsentBasis::Explicit)];
    history.extend(refer_on(&given(&history), ID, idva()).unwrap());
    assert_eq!(refer_on(&given(&history), ID, idva()), Err(ReferralRejection::AlreadyReferredOn(idva())));
    assert!(refer_on(&given(&history), ID, ServiceCode::parse("isva").unwrap()).is_ok());
    assert_eq!(refer_on(&given(&history), ID, ServiceCode::parse("hub").unwrap()), Err(ReferralRejection::ReferToHub));
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

// When it happened: given events at their times, when a command dated `at`, then its events or the time rule's
// refusal. The clock is 4 December 2026, noon; the back-dating window is 14 days.

mod domain_time {
    use casetrack_casework::occurred::{BackDating, Lateness, RecordTimes, TimeRejection};
    use chrono::{DateTime, TimeZone as _};

    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn now() -> DateTime<Utc> {
        at(2026, 12, 4, 12)
    }

    fn when(at: DateTime<Utc>) -> When {
        When { at, now: now(), window: BackDating::default(), reason: None }
    }

    fn late(at: DateTime<Utc>, reason: &str) -> When {
        When { reason: Some(reason.to_owned()), ..when(at) }
    }

    /// The state the events make, and when the first and the latest of them happened.
    fn given_at(events: &[(HubEvent, DateTime<Utc>)]) -> (Referral, RecordTimes) {
        let state = events.iter().fold(Referral::default(), |state, (e, _)| state.apply(e));
        let record =
            RecordTimes { began: events.first().map(|(_, at)| *at), latest: events.iter().map(|(_, at)| *at).max() };
        (state, record)
    }

    fn received_on(day: u32) -> (HubEvent, DateTime<Utc>) {
        (received(ConsentBasis::OptOut), at(2026, 11, day, 10))
    }

    fn refused(result: Result<(Vec<HubEvent>, Lateness), ReferralRejection>) -> TimeRejection {
        match result {
            Err(ReferralRejection::Time(rejection)) => rejection,
            other => panic!("expected a time rule's refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_fact_in_the_future_is_refused_by_its_rule() {
        let (state, record) = given_at(&[received_on(30)]);
        let tomorrow = at(2026, 12, 5, 9);
        let call = attempt(ContactChannel::Phone, Morning, NoAnswer);
        let refusal = refused(timed(record_attempt(&state, call), record, &when(tomorrow)));
        assert_eq!(refusal, TimeRejection::InFuture);
        let rejection = ReferralRejection::Time(refusal);
        assert_eq!(rejection.code(), "occurred_in_future");
        assert_eq!(rejection.to_string(), "the date and time given are in the future");
    }

    #[test]
    fn nothing_is_recorded_before_the_referral_was_received() {
        let (state, record) = given_at(&[received_on(30)]);
        let before = at(2026, 11, 29, 16);
        let refusal = refused(timed(return_to_referrer(&state, ID, "no number"), record, &when(before)));
        assert_eq!(refusal, TimeRejection::BeforeRecordBegan { began: "30 November 2026".into() });
        assert_eq!(ReferralRejection::Time(refusal).code(), "occurred_before_record_began");
        // The same on the day it was received, after it: accepted.
        assert!(timed(return_to_referrer(&state, ID, "no number"), record, &when(at(2026, 11, 30, 11))).is_ok());
    }

    #[test]
    fn a_contact_attempt_before_the_referral_existed_is_refused() {
        let (state, record) = given_at(&[received_on(30)]);
        // Years before the referral, with a reason for its lateness: still refused, time cannot run backwards.
        let call = attempt(ContactChannel::Phone, Morning, NoAnswer);
        let years_before = late(at(2019, 5, 7, 10), "typed up from paper notes");
        let refusal = refused(timed(record_attempt(&state, call.clone()), record, &years_before));
        assert_eq!(refusal.code(), "occurred_before_record_began");
        let (events, lateness) = timed(record_attempt(&state, call), record, &when(at(2026, 12, 1, 10))).unwrap();
        assert_eq!((events.len(), lateness), (1, Lateness::OnTime));
    }

    #[test]
    fn a_referral_is_not_closed_before_the_last_thing_that_happened_on_it() {
        let (state, record) = given_at(&[
            received_on(20),
            (attempted(Morning, Reached), at(2026, 11, 21, 10)),
            (HubEvent::SupportAccepted(SupportAccepted { referral_id: ID }), at(2026, 11, 25, 14)),
        ]);
        let refusal = refused(timed(close(&state, ID, "2026-04", answers()), record, &when(at(2026, 11, 24, 9))));
        assert_eq!(refusal, TimeRejection::ClosedBeforeLatest { latest: "25 November 2026".into() });
        assert_eq!(ReferralRejection::Time(refusal).code(), "closed_before_latest");
        // Anything else may be recorded before the latest fact: records are written late, and out of order.
        assert!(
            timed(assess_needs(&state, ID, vec!["emotional_support".into()]), record, &when(at(2026, 11, 22, 9)))
                .is_ok()
        );
        let (events, _) = timed(close(&state, ID, "2026-04", answers()), record, &when(at(2026, 11, 26, 9))).unwrap();
        assert!(matches!(&events[..], [HubEvent::ReferralClosed(_)]));
    }

    #[test]
    fn beyond_the_back_dating_window_a_fact_needs_a_reason() {
        let (state, record) = given_at(&[received_on(2)]);
        let three_weeks_ago = at(2026, 11, 13, 10);
        let returned = || return_to_referrer(&state, ID, "no number");
        let refusal = refused(timed(returned(), record, &when(three_weeks_ago)));
        assert_eq!(refusal, TimeRejection::LateWithoutReason { days: 21, window: 14 });
        assert_eq!(ReferralRejection::Time(refusal).code(), "late_entry_needs_reason");
        assert_eq!(refused(timed(returned(), record, &late(three_weeks_ago, "  "))).code(), "late_entry_needs_reason");
        // Within the window, no reason is asked; a wider window is the service's setting.
        assert_eq!(timed(returned(), record, &when(at(2026, 11, 25, 10))).map(|(_, l)| l), Ok(Lateness::OnTime));
        let wider = When { window: BackDating { days: 30 }, ..when(three_weeks_ago) };
        assert_eq!(timed(returned(), record, &wider).map(|(_, l)| l), Ok(Lateness::OnTime));
    }

    #[test]
    fn a_late_entry_with_a_reason_is_accepted_and_marked_late() {
        let (state, record) = given_at(&[received_on(2), (attempted(Morning, Reached), at(2026, 11, 3, 10))]);
        let why = late(at(2026, 11, 13, 10), "typed up from the outreach worker's notes");
        let (events, lateness) = timed(accept_support(&state, ID), record, &why).unwrap();
        assert_eq!(events, vec![HubEvent::SupportAccepted(SupportAccepted { referral_id: ID })]);
        assert_eq!(lateness, Lateness::Late { days: 21, reason: "typed up from the outreach worker's notes".into() });
    }

    #[test]
    fn history_begins_a_referral_years_back_and_its_work_follows_in_its_own_years() {
        let received_2019 = late(at(2019, 5, 7, 11), "brought in from the previous system");
        let (events, lateness) =
            timed(receive(&given(&[]), receipt(ConsentBasis::OptOut)), RecordTimes::default(), &received_2019).unwrap();
        assert!(matches!(lateness, Lateness::Late { .. }));
        let history: Vec<(HubEvent, DateTime<Utc>)> = events.into_iter().map(|e| (e, received_2019.at)).collect();
        let (state, record) = given_at(&history);
        let call = late(at(2019, 5, 8, 10), "brought in from the previous system");
        assert!(timed(record_attempt(&state, attempt(ContactChannel::Phone, Morning, Reached)), record, &call).is_ok());
    }

    #[test]
    fn the_rules_of_the_referral_come_before_its_time() {
        // A second receipt of the same referral is refused as such (the feed's repeatable import relies on it), even
        // when its date would also need a reason.
        let (state, record) = given_at(&[received_on(2)]);
        let old = when(at(2019, 5, 7, 11));
        assert_eq!(
            timed(receive(&state, receipt(ConsentBasis::OptOut)), record, &old),
            Err(ReferralRejection::AlreadyReceived)
        );
        assert_eq!(timed(accept_support(&state, ID), record, &old), Err(ReferralRejection::NotContacted));
        assert_eq!(step(&received(ConsentBasis::OptOut)), casetrack_casework::occurred::Step::Begins);
    }
}

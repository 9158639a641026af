//! The case's timeline: each of its events in words, newest first on the page, with when it happened and, where it
//! was recorded on a later day, when that was ([`when_line`]); sealed plans and notes opened with the person's key
//! for the caseworker ("(erased)" once the person is erased).

use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_eventstore::codes::code;
use casetrack_proto::specialist::{RiskChecklist, SpecialistEvent};
use casetrack_proto::{Envelope, PersonId};
use casetrack_web::pages::{Staff, local_time, long_date, words};
use chrono::{DateTime, Utc};
use chrono_tz::Europe::London;

use crate::state::Desk;

/// When a timeline entry happened, in UK time, and when it was recorded where that is later: "3 Apr 2026, 12:00"
/// recorded within minutes; "3 Apr 2026, 12:00, recorded at 16:00" the same day; "3 April 2026, recorded 6 Apr
/// 2026, 10:00 (3 days later)"; "3 June 2019, recorded on 4 December 2026".
pub(super) fn when_line(occurred_at: DateTime<Utc>, recorded_at: DateTime<Utc>) -> String {
    let (happened, recorded) =
        (occurred_at.with_timezone(&London).date_naive(), recorded_at.with_timezone(&London).date_naive());
    let clock = recorded_at.with_timezone(&London).format("%H:%M");
    if recorded_at - occurred_at < chrono::Duration::minutes(10) {
        return local_time(occurred_at);
    }
    match (recorded - happened).num_days() {
        ..=0 => format!("{}, recorded at {clock}", local_time(occurred_at)),
        1 => format!("{}, recorded the next day at {clock}", local_time(occurred_at)),
        days @ 2..=30 => {
            format!("{}, recorded {} ({days} days later)", long_date(happened), local_time(recorded_at))
        }
        _ => format!("{}, recorded on {}", long_date(happened), long_date(recorded)),
    }
}

/// One timeline entry; sealed plans and notes are opened with the person's key for the caseworker.
pub(super) async fn describe(
    desk: &Desk,
    definition: &ServiceDefinition,
    person: &PersonId,
    envelope: &Envelope,
    event: &SpecialistEvent,
    staff: &Staff,
) -> (String, Option<String>) {
    use SpecialistEvent as E;
    let open = |sealed| async move {
        match desk.context().vault.open::<String>(*person, envelope.id, sealed).await {
            Ok(text) => text,
            Err(_) => "(erased)".to_owned(),
        }
    };
    match event {
        E::CaseOpened(_) => ("Referral received".into(), None),
        E::ReferralAccepted(_) => ("Referral accepted".into(), None),
        E::ReferralDeclinedByService(e) => ("Declined by the service".into(), Some(e.reason.clone())),
        E::ReferralWithdrawn(e) => ("Withdrawn by the referrer".into(), Some(e.reason.clone())),
        E::CaseAllocated(e) => (format!("Allocated to {}", staff.name_of(e.caseworker.as_str())), None),
        E::CaseSafeContactUpdated(_) => ("Safe-contact rules changed".into(), None),
        E::CaseContactAttemptRecorded(e) => (
            format!("Contact attempt by {}: {}", e.channel.label(), words(&code(&e.outcome)).to_lowercase()),
            Some(format!("Made {} ({}).", local_time(e.attempted_at), e.time_band.label())),
        ),
        E::CaseUnableToContactRecorded(e) => {
            ("Recorded as unable to contact".into(), Some(format!("{} attempts.", e.attempts)))
        }
        E::CaseSupportDeclined(e) => ("Support declined by the victim".into(), Some(e.reason.clone())),
        E::RiskAssessed(e) => (
            format!(
                "Risk assessed: {}{}",
                words(&code(&e.level)).to_lowercase(),
                if e.at_closure { " (at closure)" } else { "" }
            ),
            Some(format!(
                "{} score {}{}.",
                match e.checklist {
                    RiskChecklist::Dash => "DASH",
                    RiskChecklist::SDash => "S-DASH",
                    RiskChecklist::Professional => "Professional judgement,",
                },
                e.score,
                e.review_on.map(|d| format!("; review by {}", long_date(d))).unwrap_or_default()
            )),
        ),
        E::MaracReferred(e) => ("Referred to MARAC".into(), Some(long_date(e.referred_on))),
        E::MaracHeard(e) => (
            if e.repeat { "Heard at MARAC (repeat within 12 months)" } else { "Heard at MARAC" }.into(),
            Some(long_date(e.heard_on)),
        ),
        E::PlanRecorded(e) => ("Plan recorded".into(), Some(open(&e.plan).await)),
        E::InterventionRecorded(e) => (
            format!("Intervention: {}", words(&e.need).to_lowercase()),
            Some(format!("{}, {} minutes.", long_date(e.held_on), e.minutes)),
        ),
        E::CaseNoteAdded(e) => {
            (if e.restricted { "Restricted note" } else { "Note" }.into(), Some(open(&e.note).await))
        }
        E::CaseClosed(e) => (
            format!("Closed: {}", words(&code(&e.reason)).to_lowercase()),
            Some(
                e.answers
                    .iter()
                    .map(|a| {
                        let measure = definition.outcome_measures.iter().find(|m| m.code == a.measure);
                        let label = measure.map_or(a.measure.as_str(), |m| m.label.as_str());
                        format!("{label}: {}", words(&code(&a.answer)).to_lowercase())
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        E::CaseReopened(e) => ("Re-opened".into(), Some(e.reason.clone())),
        E::CjsStageRecorded(e) => {
            (format!("Criminal justice: {}", words(&code(&e.stage)).to_lowercase()), Some(long_date(e.on)))
        }
        E::SpoRecorded(e) => (format!("Stalking Protection Order {}", code(&e.status)), Some(long_date(e.on))),
        E::RjInformationGiven(e) => ("Information about restorative justice given".into(), Some(long_date(e.on))),
        E::RjSuitabilityAssessed(e) => (
            if e.suitable { "Restorative justice suitable" } else { "Restorative justice not suitable" }.into(),
            Some(e.reason.clone()),
        ),
        E::OffenderConsentRecorded(e) => (
            if e.consents { "The offender agreed to take part" } else { "The offender did not agree to take part" }
                .into(),
            None,
        ),
        E::RjFormAgreed(e) => (format!("Form agreed: {}", words(&code(&e.form)).to_lowercase()), None),
        E::RjConcluded(e) => (
            format!("Restorative justice {}", words(&code(&e.outcome)).to_lowercase()),
            e.satisfaction.map(|s| format!("Satisfaction {s} of 5.")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn the_timeline_shows_when_it_was_recorded_where_that_was_a_later_day() {
        let at = |y, m, d, h| Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap();
        assert_eq!(when_line(at(2026, 4, 3, 11), at(2026, 4, 3, 11)), "3 Apr 2026, 12:00");
        assert_eq!(when_line(at(2026, 4, 3, 11), at(2026, 4, 3, 15)), "3 Apr 2026, 12:00, recorded at 16:00");
        assert_eq!(
            when_line(at(2026, 4, 3, 11), at(2026, 4, 4, 9)),
            "3 Apr 2026, 12:00, recorded the next day at 10:00"
        );
        assert_eq!(
            when_line(at(2026, 4, 3, 11), at(2026, 4, 6, 9)),
            "3 April 2026, recorded 6 Apr 2026, 10:00 (3 days later)"
        );
        assert_eq!(when_line(at(2019, 6, 3, 11), at(2026, 12, 4, 9)), "3 June 2019, recorded on 4 December 2026");
    }
}

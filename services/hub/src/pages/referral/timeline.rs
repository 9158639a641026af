//! A referral's timeline, newest first: what the specialist services did with its onward referrals (the closed
//! loop, from the read model) and every event of the referral itself, in words, with when and by whom. Where a fact
//! was recorded on a later day than it happened, both show: "3 April 2026, recorded 3 days later".

use casetrack_casework::catalogue::Catalogue;
use casetrack_eventstore::codes::code;
use casetrack_proto::ServiceCode;
use casetrack_proto::contact::{AttemptOutcome, ConsentBasis, ContactChannel, SafeContact, TimeBand};
use casetrack_proto::hub::{HubEvent, ReferralSource};
use casetrack_web::pages::{Staff, local_time, long_date};
use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::pages::parts::{moment, words};
use crate::views::referral::{ReadFacts, ReferralHistory};

pub(super) fn timeline(loaded: &ReferralHistory, facts: &ReadFacts, catalogue: &Catalogue, staff: &Staff) -> Markup {
    html! {
        div.moj-timeline {
            @for onward in facts.onward.iter().rev() {
                @let service = onward.service.to_uppercase();
                @if let (Some(status), Some(at)) = (&onward.case_status, &onward.case_status_at) {
                    @if status != "received" {
                        (item(&format!("{service}: {}", case_status_words(status).0.to_lowercase()),
                            &format!("the {service} service"), &moment(at), None))
                    }
                }
                @if let Some(opened) = &onward.case_opened_at {
                    (item(&format!("{service} opened a case"), &format!("the {service} service"), &moment(opened), None))
                }
            }
            @for (envelope, event) in loaded.history.iter().rev() {
                @let (title, detail) = describe(event, catalogue, loaded.read_at, staff);
                (item(&title, &staff.actor(&envelope.actor), &when(envelope.occurred_at, envelope.recorded_at), detail.as_deref()))
            }
        }
    }
}

/// One entry of an MoJ timeline.
fn item(title: &str, by: &str, when: &str, detail: Option<&str>) -> Markup {
    html! {
        div.moj-timeline__item {
            div.moj-timeline__header {
                h3.moj-timeline__title { (title) }
                " "
                p.moj-timeline__byline { "by " (by) }
            }
            p.moj-timeline__date { (when) }
            @if let Some(detail) = detail { div.moj-timeline__description { (detail) } }
        }
    }
}

/// When a fact happened and, when it was recorded more than a few minutes later, when that was too (UK time).
fn when(occurred_at: DateTime<Utc>, recorded_at: DateTime<Utc>) -> String {
    let day = |at: DateTime<Utc>| at.with_timezone(&chrono_tz::Europe::London).date_naive();
    let clock = |at: DateTime<Utc>| at.with_timezone(&chrono_tz::Europe::London).format("%H:%M").to_string();
    if recorded_at - occurred_at < chrono::Duration::minutes(10) {
        return local_time(occurred_at);
    }
    match (day(recorded_at) - day(occurred_at)).num_days() {
        0 => format!("{}, recorded at {}", local_time(occurred_at), clock(recorded_at)),
        1 => format!("{}, recorded the next day at {}", local_time(occurred_at), clock(recorded_at)),
        // Back-dated by days: the day it happened (its hour is seldom known), and when it was typed up.
        days => format!("{}, recorded {} ({days} days later)", long_date(day(occurred_at)), local_time(recorded_at)),
    }
}

fn describe(event: &HubEvent, catalogue: &Catalogue, now: DateTime<Utc>, staff: &Staff) -> (String, Option<String>) {
    match event {
        HubEvent::ReferralReceived(e) => (
            "Referral received".into(),
            Some(match e.source {
                ReferralSource::PoliceFeed => "From the police feed.".to_owned(),
                ReferralSource::SelfReferral => "The victim referred themselves.".to_owned(),
                ReferralSource::Partner => "From a partner agency.".to_owned(),
            }),
        ),
        HubEvent::ContactAttemptRecorded(e) => (
            format!("Contact attempt by {}: {}", e.channel.label(), outcome_words(e.outcome)),
            Some(format!("Made {} ({}).", local_time(e.attempted_at), e.time_band.label())),
        ),
        HubEvent::UnableToContactRecorded(e) => (
            "Recorded as unable to contact".into(),
            Some(format!(
                "{} unsuccessful attempts in the {}.",
                e.attempts,
                e.time_bands.iter().map(|b| b.label()).collect::<Vec<_>>().join(", ")
            )),
        ),
        HubEvent::ReturnedToReferrer(e) => ("Returned to the referrer".into(), Some(e.reason.clone())),
        HubEvent::SupportAccepted(_) => ("Support accepted".into(), None),
        HubEvent::SupportDeclined(e) => ("Support declined".into(), Some(e.reason.clone())),
        HubEvent::OnwardReferralMade(e) => {
            (format!("Referred on to {}", service_label(&e.target_service, catalogue)), None)
        }
        HubEvent::ReferralClosed(e) => (
            "Closed with outcomes".into(),
            Some(
                e.answers
                    .iter()
                    .map(|a| format!("{}: {}", measure_label(&a.measure, now), words(&code(&a.answer)).to_lowercase()))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        HubEvent::ReportedToPolice(e) => (
            "Reported to police".into(),
            Some(format!("Crime reference {}, reported {}.", e.crime_reference, long_date(e.reported_on))),
        ),
        HubEvent::ReferralAllocated(e) => (
            format!("Allocated to {}", staff.name_of(e.officer.as_str())),
            e.previous_officer.as_ref().map(|p| format!("Previously {}.", staff.name_of(p.as_str()))),
        ),
        HubEvent::SafeContactUpdated(e) => (
            "Safe-contact rules changed".into(),
            Some(format!(
                "{}{}",
                rules_words(&e.safe_contact, &e.safe_times),
                if e.caution.is_some() { " A caution was recorded." } else { "" }
            )),
        ),
        HubEvent::ConsentRecorded(e) => match e.basis {
            ConsentBasis::Overridden => ("Consent overridden".into(), e.override_reason.clone()),
            _ => (
                "Consent given to refer on".into(),
                Some("The victim agreed to their details going to a specialist service.".into()),
            ),
        },
        HubEvent::OutreachSent(e) => (format!("Outreach {} sent", e.channel.label()), None),
        HubEvent::NeedsAssessed(e) => (
            if e.reassessment { "Needs reassessed" } else { "Needs assessed" }.into(),
            Some(e.needs.iter().map(|n| crate::needs::label(n)).collect::<Vec<_>>().join(", ")),
        ),
        HubEvent::SupportSessionRecorded(e) => (
            "Support session".into(),
            Some(format!("{}, {}, {} minutes.", long_date(e.held_on), words(&code(&e.mode)).to_lowercase(), e.minutes)),
        ),
    }
}

fn rules_words(rules: &SafeContact, times: &[TimeBand]) -> String {
    let channels: Vec<String> = ContactChannel::ALL
        .iter()
        .map(|c| format!("{} {}", c.label(), rules.safety(*c).code().replace("unknown", "not known")))
        .collect();
    let times = if times.is_empty() {
        "any time".to_owned()
    } else {
        times.iter().map(|b| b.label()).collect::<Vec<_>>().join(" or ")
    };
    format!("{}; calls and visits: {times}.", channels.join(", "))
}

fn outcome_words(outcome: AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::Reached => "spoke to the victim",
        AttemptOutcome::NoAnswer => "no answer",
        AttemptOutcome::VoicemailLeft => "voicemail left",
        AttemptOutcome::WrongNumber => "wrong number",
        AttemptOutcome::Unsafe => "unsafe, someone else answered",
    }
}

fn service_label(service: &ServiceCode, catalogue: &Catalogue) -> String {
    catalogue.get(service.as_str()).map_or_else(|| service.as_str().to_uppercase(), |s| s.name.clone())
}

/// What the specialist service did with an onward referral, in words and a tag colour.
pub(super) fn case_status_words(status: &str) -> (&'static str, &'static str) {
    match status {
        "received" => ("Case opened", "green"),
        "accepted" => ("Accepted", "green"),
        "engaged" => ("Working with the victim", "green"),
        "declined_by_service" => ("Declined by the service", "orange"),
        "withdrawn" => ("Withdrawn", "grey"),
        "unable_to_contact" => ("Unable to contact", "grey"),
        "declined_by_victim" => ("Declined by the victim", "orange"),
        "closed" => ("Closed", "grey"),
        "reopened" => ("Re-opened", "blue"),
        _ => ("Waiting for the service", "yellow"),
    }
}

fn measure_label(code: &str, now: DateTime<Utc>) -> String {
    crate::measures::in_force(now.date_naive())
        .and_then(|set| set.measures.iter().find(|m| m.code == code))
        .map_or_else(|| code.to_owned(), |m| m.label.clone())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn a_fact_recorded_on_a_later_day_shows_both() {
        let at = |d, h| Utc.with_ymd_and_hms(2026, 4, d, h, 0, 0).unwrap();
        assert_eq!(when(at(3, 9), at(3, 9)), "3 Apr 2026, 10:00");
        assert_eq!(when(at(3, 9), at(3, 17)), "3 Apr 2026, 10:00, recorded at 18:00");
        assert_eq!(when(at(3, 9), at(4, 9)), "3 Apr 2026, 10:00, recorded the next day at 10:00");
        assert_eq!(when(at(3, 9), at(6, 9)), "3 April 2026, recorded 6 Apr 2026, 10:00 (3 days later)");
    }
}

//! One referral: the person's summary, the safe-contact warnings (above every action, so nobody contacts a victim
//! without seeing them), the actions the referral's stage allows, and the timeline of everything that happened.
//!
//! The page reads the referral's own events from the log (the same state the decisions use), so what it shows as
//! allowed is what the rules allow; the read model adds only the closed loop and the repeat-victim flag.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_people::records::{PersonRecord, candidates, details};
use casetrack_platform::codes::{code, parse};
use casetrack_platform::command::{Aggregate as _, CommandMeta};
use casetrack_platform::http::{ApiError, wait_for};
use casetrack_platform::pages::{
    Failure, FormData, FormErrors, checkboxes, failure_page, invalid, local_time, long_date, radios, refused, respond,
    see_other, staff_page, summary_list, tag, text_input, textarea,
};
use casetrack_proto::contact::{
    AttemptOutcome, ConsentBasis, ContactChannel, OutcomeAnswer, SafeContact, Safety, TimeBand,
};
use casetrack_proto::hub::{HubEvent, ReferralReceived, ReferralSource, SessionMode};
use casetrack_proto::people::DuplicateDecision;
use casetrack_proto::{Actor, Envelope, EventContract as _, EventId, PersonId, ReferralId, Sealed, ServiceCode};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone as _, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

use super::{flag, status_tag, words};
use casetrack_platform::catalogue::Catalogue;

use crate::api::{
    AllocationRequest, ClosureAnswer, ClosureRequest, ConsentRequest, ContactAttemptRequest, Hub, NeedsRequest,
    OutreachRequest, PoliceReportRequest, SafeContactRequest, SessionRequest, Written,
};
use crate::referral::{Ending, OpenReferral, Referral, Stage, accept_support, decline_support, return_to_referrer};

#[derive(Deserialize)]
pub struct PageParams {
    pub wait_for: Option<u64>,
}

pub async fn referral_page(
    State(hub): State<Hub>,
    Path(referral_id): Path<ReferralId>,
    Query(params): Query<PageParams>,
) -> Response {
    // The page's own facts come from the log; only the closed loop and the repeat flag come from the read model,
    // so a read model still catching up is not a reason to refuse the page.
    let _ = wait_for(hub.context(), "hub.referrals", params.wait_for).await;
    render(&hub, referral_id, &FormErrors::new(), StatusCode::OK).await
}

/// A referral as read from its events.
struct Loaded {
    state: Referral,
    received: ReferralReceived,
    received_at: DateTime<Utc>,
    history: Vec<(Envelope, HubEvent)>,
    needs: Vec<String>,
    /// The latest caution (sealed) with the id of the event it was sealed in.
    caution: Option<(EventId, Sealed)>,
}

async fn load(hub: &Hub, referral_id: ReferralId) -> Result<Option<Loaded>, ApiError> {
    let envelopes =
        hub.context().log.read_stream(&Referral::stream_id(referral_id.0)).await.map_err(ApiError::unavailable)?;
    let mut state = Referral::default();
    let mut received = None;
    let mut history = Vec::with_capacity(envelopes.len());
    let mut needs = Vec::new();
    let mut caution = None;
    for envelope in envelopes {
        let event = HubEvent::from_data(&envelope.event_type, envelope.schema_version, &envelope.data)
            .map_err(ApiError::unavailable)?;
        state = state.apply(&event);
        match &event {
            HubEvent::ReferralReceived(e) => received = Some((e.clone(), envelope.occurred_at)),
            HubEvent::NeedsAssessed(e) => needs = e.needs.clone(),
            HubEvent::SafeContactUpdated(e) => caution = e.caution.clone().map(|sealed| (envelope.id, sealed)),
            _ => {}
        }
        history.push((envelope, event));
    }
    Ok(received.map(|(received, received_at)| Loaded { state, received, received_at, history, needs, caution }))
}

/// Facts of the read model: the closed loop and the repeat-victim flag.
struct ReadFacts {
    repeat_victim: bool,
    onward: Vec<Onward>,
}

/// One onward referral as the specialist service's events left it.
struct Onward {
    service: String,
    case_opened_at: Option<String>,
    case_status: Option<String>,
    case_status_at: Option<String>,
    case_outcome: Option<String>,
}

async fn read_facts(hub: &Hub, referral_id: ReferralId) -> Result<ReadFacts, ApiError> {
    let pool = hub.context().db.pool();
    let id = referral_id.to_string();
    let repeat: Option<i64> = sqlx::query_scalar("SELECT repeat_victim FROM hub_referrals WHERE referral_id = $1")
        .bind(&id)
        .fetch_optional(pool)
        .await
        .map_err(ApiError::unavailable)?;
    let onward = sqlx::query(
        "SELECT service, case_opened_at, case_status, case_status_at, case_outcome FROM hub_onward_referrals WHERE referral_id = $1 \
         ORDER BY referred_at, service",
    )
    .bind(&id)
    .fetch_all(pool)
    .await
    .map_err(ApiError::unavailable)?
    .iter()
    .map(|row| Onward {
        service: row.get(0),
        case_opened_at: row.get(1),
        case_status: row.get(2),
        case_status_at: row.get(3),
        case_outcome: row.get(4),
    })
    .collect();
    Ok(ReadFacts { repeat_victim: repeat.unwrap_or(0) != 0, onward })
}

async fn render(hub: &Hub, referral_id: ReferralId, errors: &FormErrors, status: StatusCode) -> Response {
    let loaded = match load(hub, referral_id).await {
        Ok(Some(loaded)) => loaded,
        Ok(None) => return failure_page(&ApiError::not_found("There is no such referral.")),
        Err(error) => return failure_page(&error),
    };
    let person_id = loaded.received.person_id;
    let ctx = hub.context();
    let (person, facts, duplicates) = match tokio::try_join!(
        async { details(ctx, person_id).await.map_err(ApiError::unavailable) },
        read_facts(hub, referral_id),
        async { candidates(ctx, person_id).await.map_err(ApiError::unavailable) },
    ) {
        Ok(all) => all,
        Err(error) => return failure_page(&error),
    };
    // The caution opens with the victim's key; once they are erased there is nothing to show.
    let caution = match &loaded.caution {
        None => None,
        Some((event_id, sealed)) => match ctx.vault.open::<String>(person_id, *event_id, sealed).await {
            Ok(text) => Some(text),
            Err(casetrack_platform::vault::VaultError::Erased) => None,
            Err(error) => return failure_page(&ApiError::unavailable(error)),
        },
    };
    let heading = match &person {
        PersonRecord::Known(details) => format!("{} {}", details.forename, details.surname),
        PersonRecord::Erased => "Erased person".to_owned(),
        PersonRecord::Unknown => "Person not found".to_owned(),
    };
    let body = html! {
        (errors.summary())
        span.app-caption { "Referral received " (local_time(loaded.received_at)) }
        h1.app-heading-l { (heading) }
        p {
            (status_tag(&status_code(&loaded.state)))
            " "
            (flag(loaded.received.enhanced_rights, "Enhanced rights", "purple"))
            (flag(loaded.received.domestic_abuse, "Domestic abuse", "red"))
            (flag(facts.repeat_victim, "Repeat victim", "yellow"))
        }
        @if casetrack_platform::access::current().is_some_and(|p| p.account.role == casetrack_proto::Role::HubManager) {
            p.app-body { a.app-link href={ "/people/" (person_id) } { "Data protection requests for this person" } }
        }
        (safety_panel(&loaded, caution.as_deref()))
        div.app-grid {
            div.app-column-two-thirds {
                (actions(referral_id, &loaded, hub, errors, caution.as_deref()))
                h2.app-heading-m #timeline { "Timeline" }
                (timeline(&loaded, &facts, &hub.context().catalogue))
            }
            div.app-column-one-third {
                h2.app-heading-m { "Person" }
                (person_summary(&person, &loaded.received))
                h2.app-heading-m { "Referral" }
                (referral_summary(&loaded, &facts))
                (duplicates_section(referral_id, duplicates.unwrap_or_default(), errors))
            }
        }
    };
    respond(status, staff_page(&heading, body))
}

fn status_code(state: &Referral) -> String {
    match state {
        Referral::NotReceived => "unknown",
        Referral::Open(open) if open.consent == ConsentBasis::Withheld => "not_worked",
        Referral::Open(open) => match open.stage {
            Stage::AwaitingContact => "awaiting_contact",
            Stage::Contacted => "contacted",
            Stage::Supported => "supported",
        },
        Referral::Ended { ending, .. } => match ending {
            Ending::UnableToContact => "unable_to_contact",
            Ending::ReturnedToReferrer => "returned_to_referrer",
            Ending::Declined => "declined",
            Ending::Closed => "closed",
        },
    }
    .to_owned()
}

/// Everything an officer must see before contacting the victim.
fn safety_panel(loaded: &Loaded, caution: Option<&str>) -> Markup {
    let Referral::Open(open) = &loaded.state else { return html! {} };
    if open.consent == ConsentBasis::Withheld {
        return html! {
            div.app-safety-panel {
                h2.app-heading-m { "Consent withheld" }
                p { "The victim withheld consent. This referral is recorded but must not be worked." }
            }
        };
    }
    casetrack_platform::pages::safe_contact_panel(
        &open.safe_contact,
        &open.safe_times,
        loaded.received.domestic_abuse,
        caution,
        "return the referral to the referrer",
    )
}

fn person_summary(person: &PersonRecord, received: &ReferralReceived) -> Markup {
    let profile = &received.profile;
    let codes = [
        ("Age band", profile.age_band.map_or_else(|| "Not known".into(), |band| band.label().to_owned())),
        ("Gender", words(&code(&profile.gender))),
        ("Ethnicity", profile.ethnicity.as_ref().map(|e| e.code().to_owned()).unwrap_or_else(|| "Not given".into())),
        ("Disability", words(&code(&profile.disability))),
    ];
    match person {
        PersonRecord::Known(details) => {
            let optional = |value: &Option<String>| value.clone().unwrap_or_else(|| "Not given".into());
            summary_list(
                [
                    ("Date of birth", html! { (long_date(details.date_of_birth)) }),
                    ("Phone", html! { (optional(&details.phone)) }),
                    ("Email", html! { (optional(&details.email)) }),
                    ("Address", html! { (optional(&details.address_line)) }),
                    ("Postcode", html! { (optional(&details.postcode)) }),
                ]
                .into_iter()
                .chain(codes.iter().map(|(key, value)| (*key, html! { (value) }))),
            )
        }
        PersonRecord::Erased => {
            html! { p { "This person's details were erased. Figures that counted them are unchanged." } }
        }
        PersonRecord::Unknown => html! { p { "The person this referral names is not registered." } },
    }
}

fn referral_summary(loaded: &Loaded, facts: &ReadFacts) -> Markup {
    let received = &loaded.received;
    let Referral::Open(open) = &loaded.state else {
        return summary_list(common_rows(received, loaded, facts));
    };
    summary_list(common_rows(received, loaded, facts).into_iter().chain([(
        "Officer",
        html! { (open.officer.as_ref().map(|o| o.as_str().to_owned()).unwrap_or_else(|| "Unallocated".into())) },
    )]))
}

fn common_rows(received: &ReferralReceived, loaded: &Loaded, facts: &ReadFacts) -> Vec<(&'static str, Markup)> {
    let mut rows = vec![
        ("Source", html! { (words(&code(&received.source))) }),
        (
            "Offence",
            html! { (received.offence_category.as_ref().map(|o| words(&code(o))).unwrap_or_else(|| "Not given".into())) },
        ),
        ("Crime reference", html! { (crime_reference(loaded).unwrap_or_else(|| "Not reported to police".into())) }),
        ("Consent", html! { (words(&code(&received.consent))) }),
    ];
    if !loaded.needs.is_empty() {
        rows.push(("Needs", html! { ul { @for need in &loaded.needs { li { (crate::needs::label(need)) } } } }));
    }
    if !facts.onward.is_empty() {
        rows.push((
            "Referred on",
            html! {
                ul {
                    @for onward in &facts.onward {
                        @let (words, colour) = case_status_words(onward.case_status.as_deref().unwrap_or(""));
                        li {
                            (onward.service.to_uppercase()) ": " (tag(words, colour))
                            @if let Some(outcome) = &onward.case_outcome { br; span.app-hint { (outcome) } }
                        }
                    }
                }
            },
        ));
    }
    rows
}

/// The crime reference, including one recorded after a self-referral.
fn crime_reference(loaded: &Loaded) -> Option<String> {
    loaded.history.iter().rev().find_map(|(_, event)| match event {
        HubEvent::ReportedToPolice(e) => Some(e.crime_reference.clone()),
        HubEvent::ReferralReceived(e) => e.crime_reference.clone(),
        _ => None,
    })
}

fn awaiting_police_report(state: &Referral) -> bool {
    match state {
        Referral::Open(open) => open.awaiting_police_report,
        Referral::Ended { awaiting_police_report, .. } => *awaiting_police_report,
        Referral::NotReceived => false,
    }
}

fn form(referral_id: ReferralId, action: &str, title: &str, submit: &str, fields: Markup) -> Markup {
    html! {
        section.app-action #{ "action-" (action) } {
            h3.app-heading-s { (title) }
            form method="post" action={ "/hub/referrals/" (referral_id) "/" (action) } novalidate {
                (casetrack_platform::access::csrf_field())
                (fields)
                button.app-button type="submit" { (submit) }
            }
        }
    }
}

fn actions(referral_id: ReferralId, loaded: &Loaded, hub: &Hub, errors: &FormErrors, caution: Option<&str>) -> Markup {
    let police_report = awaiting_police_report(&loaded.state);
    let open = match &loaded.state {
        Referral::Open(open) if open.consent != ConsentBasis::Withheld => Some(open),
        _ => None,
    };
    html! {
        h2.app-heading-m { "Actions" }
        @if let Some(open) = open {
            @match open.stage {
                Stage::AwaitingContact => {
                    (attempt_form(referral_id, open, errors))
                    (unable_form(referral_id, open, hub))
                    (outreach_form(referral_id, open, errors))
                    (form(referral_id, "return", "Return to the referrer", "Return to referrer",
                        textarea("return-reason", "Why can the victim not be contacted safely?", None, "", errors)))
                }
                Stage::Contacted => {
                    (needs_form(referral_id, open, errors))
                    @if accept_support(&loaded.state, referral_id).is_ok() {
                        (form(referral_id, "accept", "Support accepted", "Record support accepted", html! {
                            p { "The victim has agreed to support from the hub." }
                        }))
                    }
                    (onward_form(referral_id, open, errors, &hub.context().catalogue))
                    (decline_form(referral_id, &loaded.state, errors))
                    (close_form(referral_id, errors))
                    (attempt_form(referral_id, open, errors))
                }
                Stage::Supported => {
                    (session_form(referral_id, errors))
                    (needs_form(referral_id, open, errors))
                    (onward_form(referral_id, open, errors, &hub.context().catalogue))
                    (close_form(referral_id, errors))
                    (decline_form(referral_id, &loaded.state, errors))
                    (attempt_form(referral_id, open, errors))
                }
            }
            (allocate_form(referral_id, open, errors))
            (safe_contact_form(referral_id, open, errors, caution))
        } @else if !police_report {
            p { "This referral takes no more work." }
        }
        @if police_report {
            (form(referral_id, "police-report", "Reported to police", "Record the police report", html! {
                p.app-hint { "The victim referred themselves without reporting to police and has since reported it." }
                (text_input("police-report-reference", "Crime reference", None, "", errors))
                (text_input("police-report-date", "Date reported", Some("YYYY-MM-DD, for example 2026-11-20"), "", errors))
            }))
        }
    }
}

fn attempt_form(referral_id: ReferralId, open: &OpenReferral, errors: &FormErrors) -> Markup {
    // Unsafe channels are not offered at all: an unsafe channel must be impossible to use by mistake.
    let channels: Vec<(&str, &str)> = ContactChannel::ALL
        .iter()
        .filter(|c| open.safe_contact.safety(**c) != Safety::Unsafe)
        .map(|c| (c.code(), c.label()))
        .collect();
    let now = Utc::now().with_timezone(&chrono_tz::Europe::London);
    let tried: Vec<&str> = open.attempts.iter().map(|(band, _)| band.label()).collect();
    form(
        referral_id,
        "attempt",
        "Record a contact attempt",
        "Save attempt",
        html! {
            @if !tried.is_empty() { p.app-hint { "Tried so far in the: " (tried.join(", ")) "." } }
            (radios("attempt-channel", "How did you try?", &channels, None, errors))
            (text_input("attempt-date", "Date", Some("YYYY-MM-DD"), &now.format("%Y-%m-%d").to_string(), errors))
            (text_input("attempt-time", "Time (UK)", Some("24-hour clock, for example 18:30"), &now.format("%H:%M").to_string(), errors))
            (radios("attempt-outcome", "What happened?", &[
                ("reached", "Spoke to the victim"),
                ("no_answer", "No answer"),
                ("voicemail_left", "Left a voicemail"),
                ("wrong_number", "Wrong number"),
                ("unsafe", "Unsafe: someone else answered, call ended"),
            ], None, errors))
        },
    )
}

fn unable_form(referral_id: ReferralId, open: &OpenReferral, hub: &Hub) -> Markup {
    let rule = hub.settings().attempt_rule;
    let tally = rule.tally(&open.attempts);
    if !rule.is_met(&tally) {
        return html! {
            section.app-action #action-unable {
                h3.app-heading-s { "Unable to contact" }
                p { (casetrack_platform::pages::sentence(&rule.shortfall(&tally))) "." }
            }
        };
    }
    form(
        referral_id,
        "unable",
        "Unable to contact",
        "Record unable to contact",
        html! {
            p { "The attempt rule is met: " (tally.unsuccessful) " unsuccessful attempts at different times of day." }
        },
    )
}

fn outreach_form(referral_id: ReferralId, open: &OpenReferral, errors: &FormErrors) -> Markup {
    let safe: Vec<(&str, &str)> = [ContactChannel::Letter, ContactChannel::Email]
        .into_iter()
        .filter(|c| open.safe_contact.safety(*c) == Safety::Safe)
        .map(|c| (c.code(), c.label()))
        .collect();
    if safe.is_empty() {
        return html! {
            section.app-action #action-outreach {
                h3.app-heading-s { "Outreach letter or email" }
                p { "Neither a letter nor an email is known to be safe for this victim, so none can be sent." }
            }
        };
    }
    form(
        referral_id,
        "outreach",
        "Outreach letter or email",
        "Record it was sent",
        radios("outreach-channel", "Sent by", &safe, None, errors),
    )
}

fn needs_form(referral_id: ReferralId, open: &OpenReferral, errors: &FormErrors) -> Markup {
    let options: Vec<(&str, &str, bool)> =
        crate::needs::categories().iter().map(|c| (c.code.as_str(), c.label.as_str(), false)).collect();
    let title = if open.needs_assessed { "Reassess needs" } else { "Assess needs" };
    form(
        referral_id,
        "needs",
        title,
        "Save needs",
        checkboxes("needs-needs", "What does the victim need?", Some("Select all that apply."), &options, errors),
    )
}

fn decline_form(referral_id: ReferralId, state: &Referral, errors: &FormErrors) -> Markup {
    if decline_support(state, referral_id, "probe").is_err() {
        return html! {};
    }
    form(
        referral_id,
        "decline",
        "Support declined",
        "Record support declined",
        textarea("decline-reason", "Why did the victim decline?", None, "", errors),
    )
}

fn onward_form(referral_id: ReferralId, open: &OpenReferral, errors: &FormErrors, catalogue: &Catalogue) -> Markup {
    let options: Vec<(&str, &str)> = catalogue
        .all()
        .iter()
        .filter(|service| service.referral_sources.iter().any(|s| s == "hub"))
        .filter(|service| !open.referred_to.contains(&service.code))
        .map(|service| (service.code.as_str(), service.name.as_str()))
        .collect();
    if options.is_empty() {
        return html! {};
    }
    if !matches!(open.consent, ConsentBasis::Explicit | ConsentBasis::Overridden) {
        return form(
            referral_id,
            "consent",
            "Consent to refer on",
            "Record consent",
            html! {
                p { "The police referral does not cover passing the victim's details to another service. Ask them first." }
                (radios("consent-basis", "What did the victim say?", &[
                    ("explicit", "They agree to their details going to a specialist service"),
                    ("overridden", "Consent is overridden (for example a risk to life)"),
                ], None, errors))
                (textarea("consent-reason", "If overridden, why?", None, "", errors))
            },
        );
    }
    form(
        referral_id,
        "onward",
        "Refer on to a specialist service",
        "Refer on",
        html! {
            (radios("onward-service", "Which service?", &options, None, errors))
        },
    )
}

fn close_form(referral_id: ReferralId, errors: &FormErrors) -> Markup {
    let Some(set) = crate::measures::in_force(Utc::now().date_naive()) else { return html! {} };
    form(
        referral_id,
        "close",
        "Close with outcomes",
        "Close referral",
        html! {
            p.app-hint { "As a result of support, is the victim… (outcome list " (set.version) ")" }
            @for measure in &set.measures {
                (radios(&format!("close-{}", measure.code), &measure.label, &[
                    ("improved", "Improved"), ("no_change", "No change"), ("worse", "Worse"), ("not_asked", "Not asked"),
                ], None, errors))
            }
        },
    )
}

fn session_form(referral_id: ReferralId, errors: &FormErrors) -> Markup {
    let today = Utc::now().with_timezone(&chrono_tz::Europe::London).format("%Y-%m-%d").to_string();
    form(
        referral_id,
        "session",
        "Record a support session",
        "Save session",
        html! {
            (text_input("session-date", "Date", Some("YYYY-MM-DD"), &today, errors))
            (radios("session-mode", "How was it held?", &[
                ("phone", "Phone"), ("in_person", "In person"), ("video", "Video call"), ("written", "Letter, email or text"),
            ], Some("phone"), errors))
            (text_input("session-minutes", "Length in minutes", None, "", errors))
        },
    )
}

fn allocate_form(referral_id: ReferralId, open: &OpenReferral, errors: &FormErrors) -> Markup {
    let title = if open.officer.is_some() { "Re-allocate" } else { "Allocate to an officer" };
    form(
        referral_id,
        "allocate",
        title,
        "Allocate",
        text_input("allocate-officer", "Officer's user name", Some("For example a.khan"), "", errors),
    )
}

fn safe_contact_form(
    referral_id: ReferralId,
    open: &OpenReferral,
    errors: &FormErrors,
    caution: Option<&str>,
) -> Markup {
    let action = format!("/hub/referrals/{referral_id}/safe-contact");
    casetrack_platform::pages::safe_contact_form(
        &action,
        &open.safe_contact,
        &open.safe_times,
        Some(caution.unwrap_or("")),
        errors,
    )
}

fn duplicates_section(
    referral_id: ReferralId,
    candidates: Vec<casetrack_people::records::Candidate>,
    errors: &FormErrors,
) -> Markup {
    if candidates.is_empty() {
        return html! {};
    }
    html! {
        h2.app-heading-m #duplicate { "Possible duplicates" }
        (errors.inline("duplicate"))
        p.app-hint { "Other records with the same name and date of birth. Decide whether each is the same person: linked records count as one victim, and another referral within 12 months makes this a repeat." }
        @for candidate in candidates {
            div.app-action {
                p { "Registered " (candidate.registered_at.get(..10).unwrap_or(&candidate.registered_at)) " "
                    @match candidate.decision.as_deref() {
                        Some("linked") => (tag("Same person", "green")),
                        Some("rejected") => (tag("Different person", "grey")),
                        _ => (tag("Not decided", "yellow")),
                    }
                }
                form method="post" action={ "/hub/referrals/" (referral_id) "/duplicate" } {
                    (casetrack_platform::access::csrf_field())
                    input type="hidden" name="other" value=(candidate.person_id);
                    button.app-button.app-button--secondary type="submit" name="decision" value="linked" { "Same person" }
                    button.app-button.app-button--secondary type="submit" name="decision" value="rejected" { "Different person" }
                }
            }
        }
    }
}

fn timeline(loaded: &Loaded, facts: &ReadFacts, catalogue: &Catalogue) -> Markup {
    html! {
        ol.app-timeline {
            @for onward in facts.onward.iter().rev() {
                @let service = onward.service.to_uppercase();
                @if let (Some(status), Some(at)) = (&onward.case_status, &onward.case_status_at) {
                    @if status != "received" {
                        li.app-timeline__item {
                            p.app-timeline__title { (service) ": " (case_status_words(status).0.to_lowercase()) }
                            p.app-timeline__meta { (moment(at)) " by the " (service) " service" }
                        }
                    }
                }
                @if let Some(opened) = &onward.case_opened_at {
                    li.app-timeline__item {
                        p.app-timeline__title { (service) " opened a case" }
                        p.app-timeline__meta { (moment(opened)) " by the " (service) " service" }
                    }
                }
            }
            @for (envelope, event) in loaded.history.iter().rev() {
                @let (title, detail) = describe(event, catalogue);
                li.app-timeline__item {
                    p.app-timeline__title { (title) }
                    p.app-timeline__meta { (local_time(envelope.occurred_at)) " by " (who(&envelope.actor)) }
                    @if let Some(detail) = detail { p.app-timeline__detail { (detail) } }
                }
            }
        }
    }
}

fn moment(at: &str) -> String {
    DateTime::parse_from_rfc3339(at).map(|at| local_time(at.with_timezone(&Utc))).unwrap_or_else(|_| at.to_owned())
}

fn who(actor: &Actor) -> String {
    let role = casetrack_platform::accounts::role_label(&actor.role);
    match actor.user_id {
        Some(user) => format!("{role} ({user})"),
        None => role,
    }
}

fn describe(event: &HubEvent, catalogue: &Catalogue) -> (String, Option<String>) {
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
                    .map(|a| format!("{}: {}", measure_label(&a.measure), words(&code(&a.answer)).to_lowercase()))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        HubEvent::ReportedToPolice(e) => (
            "Reported to police".into(),
            Some(format!("Crime reference {}, reported {}.", e.crime_reference, long_date(e.reported_on))),
        ),
        HubEvent::ReferralAllocated(e) => {
            (format!("Allocated to {}", e.officer), e.previous_officer.as_ref().map(|p| format!("Previously {p}.")))
        }
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
fn case_status_words(status: &str) -> (&'static str, &'static str) {
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

fn measure_label(code: &str) -> String {
    crate::measures::in_force(Utc::now().date_naive())
        .and_then(|set| set.measures.iter().find(|m| m.code == code))
        .map_or_else(|| code.to_owned(), |m| m.label.clone())
}

/// One submitted action on the referral page.
pub async fn act(
    State(hub): State<Hub>,
    Path((referral_id, action)): Path<(ReferralId, String)>,
    form: FormData,
) -> Response {
    let outcome = match action.as_str() {
        "attempt" => attempt(&hub, referral_id, &form).await,
        "unable" => hub.record_unable_to_contact(referral_id).await.map_err(refused("action-unable")),
        "return" => {
            let reason = form.get("return-reason").to_owned();
            hub.decide(referral_id, |state| return_to_referrer(state, referral_id, &reason))
                .await
                .map_err(refused("return-reason"))
        }
        "accept" => {
            hub.decide(referral_id, |state| accept_support(state, referral_id)).await.map_err(refused("action-accept"))
        }
        "decline" => {
            let reason = form.get("decline-reason").to_owned();
            hub.decide(referral_id, |state| decline_support(state, referral_id, &reason))
                .await
                .map_err(refused("decline-reason"))
        }
        "onward" => match ServiceCode::parse(form.get("onward-service")) {
            Ok(service) if !form.get("onward-service").is_empty() => {
                hub.refer_on(referral_id, service).await.map_err(refused("onward-service"))
            }
            _ => Err(invalid("onward-service", "Choose the service to refer on to")),
        },
        "close" => close(&hub, referral_id, &form).await,
        "police-report" => police_report(&hub, referral_id, &form).await,
        "allocate" => hub
            .allocate(referral_id, AllocationRequest { officer: form.get("allocate-officer").to_owned() })
            .await
            .map_err(refused("allocate-officer")),
        "safe-contact" => safe_contact(&hub, referral_id, &form).await,
        "consent" => match parse::<ConsentBasis>(form.get("consent-basis")) {
            Some(basis) => {
                let override_reason = Some(form.get("consent-reason").to_owned());
                hub.record_consent(referral_id, ConsentRequest { basis, override_reason })
                    .await
                    .map_err(refused("consent-basis"))
            }
            None => Err(invalid("consent-basis", "Choose what the victim said")),
        },
        "outreach" => match parse::<ContactChannel>(form.get("outreach-channel")) {
            Some(channel) => {
                hub.send_outreach(referral_id, OutreachRequest { channel }).await.map_err(refused("outreach-channel"))
            }
            None => Err(invalid("outreach-channel", "Choose how the outreach was sent")),
        },
        "needs" => hub
            .assess_needs(referral_id, NeedsRequest { needs: form.all("needs-needs") })
            .await
            .map_err(refused("needs-needs")),
        "session" => session(&hub, referral_id, &form).await,
        "duplicate" => duplicate(&hub, referral_id, &form).await,
        _ => return failure_page(&ApiError::not_found("There is no such action.")),
    };
    match outcome {
        Ok(written) => see_other(&format!("/hub/referrals/{referral_id}?wait_for={}#timeline", written.position)),
        Err(Failure::Form(errors)) => render(&hub, referral_id, &errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(Failure::Broken(error)) => failure_page(&error),
    }
}

/// A local date and time (UK) typed on a form, as a moment.
fn local_moment(date: &str, time: &str) -> Option<DateTime<Utc>> {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let time = NaiveTime::parse_from_str(time, "%H:%M").ok()?;
    chrono_tz::Europe::London.from_local_datetime(&date.and_time(time)).earliest().map(|at| at.with_timezone(&Utc))
}

async fn attempt(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let mut errors = FormErrors::new();
    let channel = parse::<ContactChannel>(form.get("attempt-channel"));
    if channel.is_none() {
        errors.add("attempt-channel", "Choose how you tried to contact the victim");
    }
    let at = local_moment(form.get("attempt-date"), form.get("attempt-time"));
    if at.is_none() {
        errors.add(
            "attempt-date",
            "Enter the date as YYYY-MM-DD and the time as HH:MM, for example 2026-11-20 and 18:30",
        );
    }
    let outcome = parse::<AttemptOutcome>(form.get("attempt-outcome"));
    if outcome.is_none() {
        errors.add("attempt-outcome", "Choose what happened");
    }
    let (Some(channel), Some(attempted_at), Some(outcome)) = (channel, at, outcome) else {
        return Err(Failure::Form(errors));
    };
    hub.record_attempt(referral_id, ContactAttemptRequest { channel, attempted_at, outcome })
        .await
        .map_err(refused("attempt-channel"))
}

async fn close(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let set = crate::measures::in_force(Utc::now().date_naive())
        .ok_or_else(|| Failure::Broken(ApiError::unavailable(anyhow::anyhow!("no outcome-measure list in force"))))?;
    let mut errors = FormErrors::new();
    let mut answers = Vec::new();
    for measure in &set.measures {
        let field = format!("close-{}", measure.code);
        match parse::<OutcomeAnswer>(form.get(&field)) {
            Some(answer) => answers.push(ClosureAnswer { measure: measure.code.clone(), answer }),
            None => {
                errors.add(&field, format!("Choose an answer for “{}” (not asked if it was not asked)", measure.label))
            }
        }
    }
    if !errors.is_empty() {
        return Err(Failure::Form(errors));
    }
    hub.close(referral_id, ClosureRequest { answers }).await.map_err(refused("action-close"))
}

async fn police_report(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let mut errors = FormErrors::new();
    let reference = form.get("police-report-reference");
    if reference.is_empty() {
        errors.add("police-report-reference", "Enter the crime reference the police gave");
    }
    let reported_on = NaiveDate::parse_from_str(form.get("police-report-date"), "%Y-%m-%d").ok();
    if reported_on.is_none() {
        errors.add("police-report-date", "Enter the date reported as YYYY-MM-DD, for example 2026-11-20");
    }
    let Some(reported_on) = reported_on.filter(|_| errors.is_empty()) else { return Err(Failure::Form(errors)) };
    hub.record_police_report(referral_id, PoliceReportRequest { crime_reference: reference.to_owned(), reported_on })
        .await
        .map_err(refused("police-report-reference"))
}

async fn safe_contact(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let (safe_contact, safe_times) = casetrack_platform::pages::read_safe_contact(form)?;
    let caution = Some(form.get("safe-caution").to_owned());
    hub.update_safe_contact(referral_id, SafeContactRequest { safe_contact, safe_times, caution })
        .await
        .map_err(refused("safe-phone"))
}

async fn session(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let mut errors = FormErrors::new();
    let held_on = NaiveDate::parse_from_str(form.get("session-date"), "%Y-%m-%d").ok();
    if held_on.is_none() {
        errors.add("session-date", "Enter the date as YYYY-MM-DD, for example 2026-11-20");
    }
    let mode = parse::<SessionMode>(form.get("session-mode"));
    if mode.is_none() {
        errors.add("session-mode", "Choose how the session was held");
    }
    let minutes = form.get("session-minutes").parse::<u32>().ok();
    if minutes.is_none() {
        errors.add("session-minutes", "Enter the length in whole minutes, for example 45");
    }
    let (Some(held_on), Some(mode), Some(minutes)) = (held_on, mode, minutes) else {
        return Err(Failure::Form(errors));
    };
    hub.record_session(referral_id, SessionRequest { held_on, mode, minutes }).await.map_err(refused("session-minutes"))
}

async fn duplicate(hub: &Hub, referral_id: ReferralId, form: &FormData) -> Result<Written, Failure> {
    let loaded = load(hub, referral_id).await.map_err(Failure::Broken)?;
    let Some(loaded) = loaded else { return Err(Failure::Broken(ApiError::not_found("There is no such referral."))) };
    let other = form.get("other").parse::<PersonId>().ok();
    let decision = parse::<DuplicateDecision>(form.get("decision"));
    let (Some(other), Some(decision)) = (other, decision) else {
        return Err(invalid("duplicate", "Choose same person or different person"));
    };
    let meta = CommandMeta::new(casetrack_platform::access::acting(), Utc::now());
    let executed = casetrack_people::records::decide(hub.context(), loaded.received.person_id, other, decision, &meta)
        .await
        .map_err(|error| refused("duplicate")(ApiError::from(error)))?;
    Ok(Written { referral_id, position: executed.position.map_or(0, |p| p.0) })
}

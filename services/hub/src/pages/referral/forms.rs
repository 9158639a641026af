//! The actions a referral's stage allows, each a small form posting to `/hub/referrals/{id}/{action}`
//! ([`super::actions`] reads them back), and the possible duplicates of the referral's person. Unsafe channels are
//! never offered, and a form appears only where the rules would accept it.

use casetrack_casework::catalogue::Catalogue;
use casetrack_platform::pages::{FormErrors, checkboxes, radios, tag, text_input, textarea};
use casetrack_proto::ReferralId;
use casetrack_proto::contact::{ConsentBasis, ContactChannel, Safety};
use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::referral::{OpenReferral, Referral, Stage, accept_support, decline_support};
use crate::state::Hub;
use crate::views::referral::ReferralHistory;

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

pub(super) fn actions(
    referral_id: ReferralId,
    loaded: &ReferralHistory,
    hub: &Hub,
    errors: &FormErrors,
    caution: Option<&str>,
) -> Markup {
    let police_report = loaded.state.awaiting_police_report();
    let open = match &loaded.state {
        Referral::Open(open) if open.consent != ConsentBasis::Withheld => Some(open),
        _ => None,
    };
    html! {
        h2.app-heading-m { "Actions" }
        @if let Some(open) = open {
            @match open.stage {
                Stage::AwaitingContact => {
                    (attempt_form(referral_id, open, errors, loaded.read_at))
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
                    (close_form(referral_id, errors, loaded.read_at))
                    (attempt_form(referral_id, open, errors, loaded.read_at))
                }
                Stage::Supported => {
                    (session_form(referral_id, errors, loaded.read_at))
                    (needs_form(referral_id, open, errors))
                    (onward_form(referral_id, open, errors, &hub.context().catalogue))
                    (close_form(referral_id, errors, loaded.read_at))
                    (decline_form(referral_id, &loaded.state, errors))
                    (attempt_form(referral_id, open, errors, loaded.read_at))
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

fn attempt_form(referral_id: ReferralId, open: &OpenReferral, errors: &FormErrors, now: DateTime<Utc>) -> Markup {
    // Unsafe channels are not offered at all: an unsafe channel must be impossible to use by mistake.
    let channels: Vec<(&str, &str)> = ContactChannel::ALL
        .iter()
        .filter(|c| open.safe_contact.safety(**c) != Safety::Unsafe)
        .map(|c| (c.code(), c.label()))
        .collect();
    let now = now.with_timezone(&chrono_tz::Europe::London);
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
    if !open.may_refer_on() {
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

fn close_form(referral_id: ReferralId, errors: &FormErrors, now: DateTime<Utc>) -> Markup {
    let Some(set) = crate::measures::in_force(now.date_naive()) else { return html! {} };
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

fn session_form(referral_id: ReferralId, errors: &FormErrors, now: DateTime<Utc>) -> Markup {
    let today = now.with_timezone(&chrono_tz::Europe::London).format("%Y-%m-%d").to_string();
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

pub(super) fn duplicates_section(
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

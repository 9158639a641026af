//! The actions a referral's stage allows, each a small form posting to `/hub/referrals/{id}/{action}`
//! ([`super::actions`] reads them back), and the possible duplicates of the referral's person. Unsafe channels are
//! never offered, and a form appears only where the rules would accept it. Every form that records something from
//! the world asks when it happened (`crate::pages::when`); an attempt and a session ask it in their own date fields.

use casetrack_casework::catalogue::Catalogue;
use casetrack_proto::ReferralId;
use casetrack_proto::Role;
use casetrack_proto::contact::{ConsentBasis, ContactChannel, Safety};
use casetrack_web::pages::{FormErrors, Staff, checkboxes, radios, staff_select, tag, text_input, textarea};
use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::pages::when::{reason_field, when_fields};
use crate::referral::{OpenReferral, Referral, Stage, accept_support, decline_support};
use crate::state::Hub;
use crate::views::referral::ReferralHistory;

fn form(
    errors: &FormErrors,
    referral_id: ReferralId,
    action: &str,
    title: &str,
    submit: &str,
    fields: Markup,
) -> Markup {
    casetrack_web::pages::action(
        action,
        title,
        errors.mentions(&format!("{action}-")),
        html! {
            form method="post" action={ "/hub/referrals/" (referral_id) "/" (action) } novalidate {
                (casetrack_web::access::csrf_field())
                (fields)
                button.govuk-button type="submit" { (submit) }
            }
        },
    )
}

/// What a dated form needs to ask when its fact happened: the page's clock, the back-dating window and the errors.
#[derive(Clone, Copy)]
struct Dating<'a> {
    now: DateTime<Utc>,
    window_days: u32,
    errors: &'a FormErrors,
}

impl Dating<'_> {
    /// "When did this happen?" and the reason for a late entry, for the form of `action`.
    fn when(&self, action: &str) -> Markup {
        when_fields(action, self.now, self.window_days, self.errors)
    }

    /// Only the reason, for a form that asks the date in its own fields (an attempt, a session).
    fn reason(&self, action: &str) -> Markup {
        let hint = format!("Needed only for a date more than {} days ago.", self.window_days);
        textarea(&reason_field(action), "Why is this being recorded late?", Some(&hint), "", self.errors)
    }
}

pub(super) fn actions(
    referral_id: ReferralId,
    loaded: &ReferralHistory,
    hub: &Hub,
    errors: &FormErrors,
    caution: Option<&str>,
    staff: &Staff,
) -> Markup {
    let dating = Dating { now: loaded.read_at, window_days: hub.settings().back_dating.days, errors };
    let police_report = loaded.state.awaiting_police_report();
    let open = match &loaded.state {
        Referral::Open(open) if open.consent != ConsentBasis::Withheld => Some(open),
        _ => None,
    };
    html! {
        h2.govuk-heading-m { "Actions for this stage" }
        @if let Some(open) = open {
            @match open.stage {
                Stage::AwaitingContact => {
                    (attempt_form(referral_id, open, dating))
                    (unable_form(referral_id, open, hub, dating))
                    (outreach_form(referral_id, open, dating))
                    (form(errors, referral_id, "return", "Return to the referrer", "Return to referrer", html! {
                        (textarea("return-reason", "Why can the victim not be contacted safely?", None, "", errors))
                        (dating.when("return"))
                    }))
                }
                Stage::Contacted => {
                    (needs_form(referral_id, open, dating))
                    @if accept_support(&loaded.state, referral_id).is_ok() {
                        (form(errors, referral_id, "accept", "Support accepted", "Record support accepted", html! {
                            p { "The victim has agreed to support from the hub." }
                            (dating.when("accept"))
                        }))
                    }
                    (onward_form(referral_id, open, dating, &hub.context().catalogue))
                    (decline_form(referral_id, &loaded.state, dating))
                    (close_form(referral_id, dating))
                    (attempt_form(referral_id, open, dating))
                }
                Stage::Supported => {
                    (session_form(referral_id, dating))
                    (needs_form(referral_id, open, dating))
                    (onward_form(referral_id, open, dating, &hub.context().catalogue))
                    (close_form(referral_id, dating))
                    (decline_form(referral_id, &loaded.state, dating))
                    (attempt_form(referral_id, open, dating))
                }
            }
            (allocate_form(referral_id, open, errors, staff))
            (safe_contact_form(referral_id, open, errors, caution))
        } @else if !police_report {
            p { "This referral takes no more work." }
        }
        @if police_report {
            (form(errors, referral_id, "police-report", "Reported to police", "Record the police report", html! {
                p.govuk-hint { "The victim referred themselves without reporting to police and has since reported it." }
                (text_input("police-report-reference", "Crime reference", None, "", errors))
                (text_input("police-report-date", "Date reported", Some("For example, 20/11/2026"), "", errors))
                (dating.when("police-report"))
            }))
        }
    }
}

fn attempt_form(referral_id: ReferralId, open: &OpenReferral, dating: Dating) -> Markup {
    let (errors, now) = (dating.errors, dating.now);
    // Unsafe channels are not offered at all: an unsafe channel must be impossible to use by mistake.
    let channels: Vec<(&str, &str)> = ContactChannel::ALL
        .iter()
        .filter(|c| open.safe_contact.safety(**c) != Safety::Unsafe)
        .map(|c| (c.code(), c.label()))
        .collect();
    let now = now.with_timezone(&chrono_tz::Europe::London);
    let tried: Vec<&str> = open.attempts.iter().map(|(band, _)| band.label()).collect();
    form(
        errors,
        referral_id,
        "attempt",
        "Record a contact attempt",
        "Save attempt",
        html! {
            @if !tried.is_empty() { p.govuk-hint { "Tried so far in the: " (tried.join(", ")) "." } }
            (radios("attempt-channel", "How did you try?", &channels, None, errors))
            (text_input("attempt-date", "Date", Some("For example, 20/11/2026"), &now.format("%d/%m/%Y").to_string(), errors))
            (text_input("attempt-time", "Time (UK)", Some("24-hour clock, for example 18:30"), &now.format("%H:%M").to_string(), errors))
            (radios("attempt-outcome", "What happened?", &[
                ("reached", "Spoke to the victim"),
                ("no_answer", "No answer"),
                ("voicemail_left", "Left a voicemail"),
                ("wrong_number", "Wrong number"),
                ("unsafe", "Unsafe: someone else answered, call ended"),
            ], None, errors))
            (dating.reason("attempt"))
        },
    )
}

fn unable_form(referral_id: ReferralId, open: &OpenReferral, hub: &Hub, dating: Dating) -> Markup {
    let errors = dating.errors;
    let rule = hub.settings().attempt_rule;
    let tally = rule.tally(&open.attempts);
    if !rule.is_met(&tally) {
        return html! {
            p.govuk-body #action-unable {
                "Unable to contact: not yet. " (casetrack_web::pages::sentence(&rule.shortfall(&tally))) "."
            }
        };
    }
    form(
        errors,
        referral_id,
        "unable",
        "Unable to contact",
        "Record unable to contact",
        html! {
            p { "The attempt rule is met: " (tally.unsuccessful) " unsuccessful attempts at different times of day." }
            (dating.when("unable"))
        },
    )
}

fn outreach_form(referral_id: ReferralId, open: &OpenReferral, dating: Dating) -> Markup {
    let errors = dating.errors;
    let safe: Vec<(&str, &str)> = [ContactChannel::Letter, ContactChannel::Email]
        .into_iter()
        .filter(|c| open.safe_contact.safety(*c) == Safety::Safe)
        .map(|c| (c.code(), c.label()))
        .collect();
    if safe.is_empty() {
        return html! {
            p.govuk-body #action-outreach {
                "Outreach: neither a letter nor an email is known to be safe for this victim, so none can be sent."
            }
        };
    }
    form(
        errors,
        referral_id,
        "outreach",
        "Outreach letter or email",
        "Record it was sent",
        html! {
            (radios("outreach-channel", "Sent by", &safe, None, dating.errors))
            (dating.when("outreach"))
        },
    )
}

fn needs_form(referral_id: ReferralId, open: &OpenReferral, dating: Dating) -> Markup {
    let errors = dating.errors;
    let options: Vec<(&str, &str, bool)> =
        crate::needs::categories().iter().map(|c| (c.code.as_str(), c.label.as_str(), false)).collect();
    let title = if open.needs_assessed { "Reassess needs" } else { "Assess needs" };
    form(
        errors,
        referral_id,
        "needs",
        title,
        "Save needs",
        html! {
            (checkboxes("needs-needs", "What does the victim need?", Some("Select all that apply."), &options, dating.errors))
            (dating.when("needs"))
        },
    )
}

fn decline_form(referral_id: ReferralId, state: &Referral, dating: Dating) -> Markup {
    let errors = dating.errors;
    if decline_support(state, referral_id, "probe").is_err() {
        return html! {};
    }
    form(
        errors,
        referral_id,
        "decline",
        "Support declined",
        "Record support declined",
        html! {
            (textarea("decline-reason", "Why did the victim decline?", None, "", dating.errors))
            (dating.when("decline"))
        },
    )
}

fn onward_form(referral_id: ReferralId, open: &OpenReferral, dating: Dating, catalogue: &Catalogue) -> Markup {
    let errors = dating.errors;
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
            errors,
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
                (dating.when("consent"))
            },
        );
    }
    form(
        errors,
        referral_id,
        "onward",
        "Refer on to a specialist service",
        "Refer on",
        html! {
            (radios("onward-service", "Which service?", &options, None, errors))
            (dating.when("onward"))
        },
    )
}

fn close_form(referral_id: ReferralId, dating: Dating) -> Markup {
    let errors = dating.errors;
    let Some(set) = crate::measures::in_force(dating.now.date_naive()) else { return html! {} };
    form(
        errors,
        referral_id,
        "close",
        "Close with outcomes",
        "Close referral",
        html! {
            p.govuk-hint { "As a result of support, is the victim… (outcome list " (set.version) ")" }
            @for measure in &set.measures {
                (radios(&format!("close-{}", measure.code), &measure.label, &[
                    ("improved", "Improved"), ("no_change", "No change"), ("worse", "Worse"), ("not_asked", "Not asked"),
                ], None, dating.errors))
            }
            (dating.when("close"))
        },
    )
}

fn session_form(referral_id: ReferralId, dating: Dating) -> Markup {
    let errors = dating.errors;
    let today = dating.now.with_timezone(&chrono_tz::Europe::London).format("%d/%m/%Y").to_string();
    form(
        errors,
        referral_id,
        "session",
        "Record a support session",
        "Save session",
        html! {
            (text_input("session-date", "Date", Some("For example, 20/11/2026"), &today, errors))
            (radios("session-mode", "How was it held?", &[
                ("phone", "Phone"), ("in_person", "In person"), ("video", "Video call"), ("written", "Letter, email or text"),
            ], Some("phone"), errors))
            (text_input("session-minutes", "Length in minutes", None, "", errors))
            (dating.reason("session"))
        },
    )
}

fn allocate_form(referral_id: ReferralId, open: &OpenReferral, errors: &FormErrors, staff: &Staff) -> Markup {
    let title = if open.officer.is_some() { "Re-allocate" } else { "Allocate to an officer" };
    let officers = staff.choices(|role| matches!(role, Role::HubOfficer | Role::HubManager));
    let current = open.officer.as_ref().map(|o| o.as_str());
    form(
        errors,
        referral_id,
        "allocate",
        title,
        "Allocate",
        staff_select("allocate-officer", "Officer", &officers, current, errors),
    )
}

fn safe_contact_form(
    referral_id: ReferralId,
    open: &OpenReferral,
    errors: &FormErrors,
    caution: Option<&str>,
) -> Markup {
    let action = format!("/hub/referrals/{referral_id}/safe-contact");
    casetrack_web::pages::safe_contact_form(
        &action,
        &open.safe_contact,
        &open.safe_times,
        Some(caution.unwrap_or("")),
        errors,
    )
}

pub(super) fn duplicates_section(
    referral_id: ReferralId,
    candidates: Vec<casetrack_people::interface::Candidate>,
    errors: &FormErrors,
) -> Markup {
    if candidates.is_empty() {
        return html! {};
    }
    html! {
        h2.govuk-heading-m #duplicate { "Possible duplicates" }
        (errors.inline("duplicate"))
        p.govuk-hint { "Other records with the same name and date of birth. Decide whether each is the same person: linked records count as one victim, and another referral within 12 months makes this a repeat." }
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
                    (casetrack_web::access::csrf_field())
                    input type="hidden" name="other" value=(candidate.person_id);
                    button.govuk-button.govuk-button--secondary type="submit" name="decision" value="linked" { "Same person" }
                    button.govuk-button.govuk-button--secondary type="submit" name="decision" value="rejected" { "Different person" }
                }
            }
        }
    }
}

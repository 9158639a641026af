//! The actions the case page offers, by the case's stage: the decision on the referral; contact attempts and
//! unable to contact; once the victim is engaged, the kind's own actions ([`crate::kinds::actions`]),
//! interventions, the plan, closure and support declined; on every open case the safe-contact rules, allocation,
//! notes and withdrawal; on an ended case re-opening (where allowed) and notes. Each form that records something
//! from the world asks when it happened (or the date of its fact) and, beyond the back-dating window, why it is
//! recorded late ([`Dating`]).

use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_proto::CaseId;
use casetrack_proto::contact::{ContactChannel, Safety};
use casetrack_web::pages::{FormErrors, checkboxes, radios, staff_select, text_input, textarea};
use maud::{Markup, html};

use crate::case::{self, Case, CaseStage};
use crate::forms::{DATE_HINT, Dating, action_disclosure};
use crate::kinds;

pub(super) fn actions(
    definition: &ServiceDefinition,
    case_id: CaseId,
    state: &Case,
    errors: &FormErrors,
    dating: &Dating,
    caseworkers: &[(String, String)],
) -> Markup {
    let f = |action: &str, title: &str, submit: &str, fields: Markup| {
        let open = errors.mentions(&format!("{action}-"));
        action_disclosure(definition, case_id, action, title, submit, open, fields)
    };
    let today = dating.today_text();
    let now = dating.now.with_timezone(&chrono_tz::Europe::London).format("%H:%M").to_string();
    let when = |action: &str| dating.when(action, errors);
    let Case::Open(open) = state else {
        let reopenable = case::reopen(state, case_id, "probe").is_ok();
        return html! {
            @if reopenable {
                (f("reopen", "Re-open the case", "Re-open", html! {
                    (textarea("reopen-reason", "Why is the case re-opened?", None, "", errors)) (when("reopen"))
                }))
            } @else { p { "This case takes no more work." } }
            (f("note", "Add a note", "Save note", note_fields(errors, dating)))
        };
    };
    let channels: Vec<(&str, &str)> = ContactChannel::ALL
        .iter()
        .filter(|c| open.safe_contact.safety(**c) != Safety::Unsafe)
        .map(|c| (c.code(), c.label()))
        .collect();
    html! {
        @match open.stage {
            CaseStage::AwaitingDecision => {
                (f("accept", "Accept the referral", "Accept", html! { p { "The service takes this referral on." } (when("accept")) }))
                (f("decline", "Decline the referral", "Decline", html! {
                    (textarea("decline-reason", "Why does the service decline it?", None, "", errors)) (when("decline"))
                }))
            }
            CaseStage::AwaitingContact | CaseStage::Engaged => {
                (f("attempt", "Record a contact attempt", "Save attempt", html! {
                    (radios("attempt-channel", "How did you try?", &channels, None, errors))
                    (text_input("attempt-date", "Date", Some(DATE_HINT), &today, errors))
                    (text_input("attempt-time", "Time (UK)", Some("24-hour clock"), &now, errors))
                    (radios("attempt-outcome", "What happened?", &[("reached", "Spoke to the victim"), ("no_answer", "No answer"),
                        ("voicemail_left", "Left a voicemail"), ("wrong_number", "Wrong number"), ("unsafe", "Unsafe: someone else answered")], None, errors))
                    (dating.late("attempt", errors))
                }))
                @if open.stage == CaseStage::AwaitingContact {
                    (f("unable", "Unable to contact", "Record unable to contact", html! {
                        p { "Allowed once " (definition.attempt_rule.attempts) " unsuccessful attempts in "
                            (definition.attempt_rule.distinct_bands) " different times of day were made." }
                        (when("unable"))
                    }))
                }
                @if open.stage == CaseStage::Engaged {
                    (kinds::actions(definition, case_id, open, errors, dating))
                    (f("intervention", "Record an intervention", "Save intervention", html! {
                        @let needs: Vec<(&str, &str)> = definition.need_categories.iter().map(|c| (c.code.as_str(), c.label.as_str())).collect();
                        (radios("intervention-need", "Need addressed", &needs, None, errors))
                        (text_input("intervention-date", "Date", Some(DATE_HINT), &today, errors))
                        (text_input("intervention-minutes", "Minutes", None, "", errors))
                        (dating.late("intervention", errors))
                    }))
                    (f("plan", "Safety or support plan", "Save plan", html! {
                        (textarea("plan-text", "Plan", Some("Kept encrypted."), "", errors))
                        (text_input("plan-review", "Review by (optional)", Some(DATE_HINT), "", errors))
                        (when("plan"))
                    }))
                    (f("close", "Close the case", "Close case", html! {
                        (radios("close-reason", "Why is it closing?", &[("support_completed", "Support completed"), ("disengaged_later", "The victim stopped engaging"),
                            ("transferred_out", "Transferred to another service"), ("moved_away", "Moved away")], None, errors))
                        p.govuk-hint { "Outcome measures (" (definition.measures_version) ")" }
                        @for measure in &definition.outcome_measures {
                            (radios(&format!("close-{}", measure.code), &measure.label, &[("improved", "Improved"), ("no_change", "No change"),
                                ("worse", "Worse"), ("not_asked", "Not asked")], None, errors))
                        }
                        (when("close"))
                    }))
                    (f("support-declined", "Support declined by the victim", "Record", html! {
                        (textarea("declined-reason", "Why?", None, "", errors)) (when("support-declined"))
                    }))
                }
            }
        }
        (casetrack_web::pages::safe_contact_form(&format!("/services/{}/cases/{case_id}/safe-contact", definition.code),
            &open.safe_contact, &open.safe_times, None, errors))
        (f("allocate", "Allocate to a caseworker", "Allocate",
            staff_select("allocate-caseworker", "Caseworker", caseworkers, open.caseworker.as_ref().map(|c| c.as_str()), errors)))
        (f("note", "Add a note", "Save note", note_fields(errors, dating)))
        (f("withdraw", "Withdrawn by the referrer", "Record withdrawal", html! {
            (textarea("withdraw-reason", "Why was it withdrawn?", None, "", errors)) (when("withdraw"))
        }))
    }
}

fn note_fields(errors: &FormErrors, dating: &Dating) -> Markup {
    html! {
        (textarea("note-text", "Note", Some("Kept encrypted."), "", errors))
        (checkboxes("note-restricted", "Restricted", None, &[("yes", "May be withheld from a subject-access request after review", false)], errors))
        (dating.when("note", errors))
    }
}

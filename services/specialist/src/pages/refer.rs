//! The direct-referral page: the victim's details, who referred them, the safe ways to contact them, the flags
//! that matter and when the referral was received; saved as one command (register the person, open the case), so
//! sending it twice creates nothing twice.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_eventstore::clock;
use casetrack_people::interface::{DetailsInput, parse_details};
use casetrack_proto::contact::{ContactChannel, SafeContact, Safety};
use casetrack_proto::hub::OffenceCategory;
use casetrack_proto::profile::Nationality;
use casetrack_web::pages::{
    Failure, FormData, FormErrors, checkboxes, failure_page, radios, respond, see_other, staff_page, text_input,
};
use maud::{Markup, html};
use uuid::Uuid;

use crate::commands::open_direct::{NewVictimReferral, is_direct_source};
use crate::forms::{Dating, read_when, refused_at};
use crate::state::Desk;

pub(super) async fn refer_form(State(desk): State<Desk>, Path(service): Path<String>) -> Response {
    let dating = Dating { now: clock::now(), window: desk.back_dating() };
    match desk.service(&service) {
        Ok(definition) => {
            respond(StatusCode::OK, refer_page(definition, None, &FormErrors::new(), Uuid::new_v4(), &dating))
        }
        Err(error) => failure_page(&error),
    }
}

fn refer_page(
    definition: &ServiceDefinition,
    form: Option<&FormData>,
    errors: &FormErrors,
    submission: Uuid,
    dating: &Dating,
) -> Markup {
    let value = |name: &str| form.map_or("", |f| f.get(name)).to_owned();
    let sources: Vec<(&str, &str)> =
        definition.referral_sources.iter().filter(|s| *s != "hub").map(|s| (s.as_str(), s.as_str())).collect();
    let channels: Vec<(&str, &str, bool)> = ContactChannel::ALL.iter().map(|c| (c.code(), c.label(), false)).collect();
    let offences: Vec<(&str, &str)> = OffenceCategory::ALL.iter().map(|o| (o.code(), o.label())).collect();
    let countries: Vec<(&str, &str)> = casetrack_proto::profile::countries().collect();
    staff_page(
        "Direct referral",
        html! {
            (errors.summary())
            span.govuk-caption-m { (definition.name) }
            h1.govuk-heading-l { "Record a direct referral" }
            form method="post" action={ "/services/" (definition.code) "/refer" } novalidate {
                (casetrack_web::access::csrf_field())
                input type="hidden" name="submission" value=(submission);
                (radios("source", "Who referred the victim?", &sources, None, errors))
                (text_input("forename", "First name", None, &value("forename"), errors))
                (text_input("surname", "Last name", None, &value("surname"), errors))
                (text_input("date_of_birth", "Date of birth", Some("For example, 23/04/1987"), &value("date_of_birth"), errors))
                (text_input("phone", "Phone number (optional)", None, &value("phone"), errors))
                (text_input("email", "Email address (optional)", None, &value("email"), errors))
                (checkboxes("safe", "Which ways are safe to contact them?", Some("Anything left unticked will not be used."), &channels, errors))
                (checkboxes("flags", "Flags", None, &[("domestic_abuse", "Domestic abuse", false), ("enhanced_rights", "Enhanced rights (Victims' Code)", false)], errors))
                (choice_select("offence", "What happened? (optional)", &offences, &value("offence"), errors))
                (choice_select("nationality", "Nationality (optional)", &countries, &value("nationality"), errors))
                (dating.when_as_sent("refer", form, errors))
                button.govuk-button type="submit" { "Save referral" }
            }
        },
    )
}

/// Checks the form (every problem shown at once), then registers the victim and opens the case as one command
/// ([`Desk::refer_new_victim`]).
pub(super) async fn refer(State(desk): State<Desk>, Path(service): Path<String>, form: FormData) -> Response {
    let definition = match desk.service(&service) {
        Ok(definition) => definition.clone(),
        Err(error) => return failure_page(&error),
    };
    let submission = form.get("submission").parse::<Uuid>().unwrap_or_else(|_| Uuid::new_v4());
    let mut errors = FormErrors::new();
    let source = form.get("source").to_owned();
    if !is_direct_source(&definition, &source) {
        errors.add("source", "Choose who referred the victim");
    }
    let input = DetailsInput::from_form(&form);
    let person = parse_details(&input, clock::now().date_naive()).map_err(|problems| {
        for problem in problems {
            errors.add(problem.field, problem.message);
        }
    });
    let safe = form.all("safe");
    let mut safe_contact = SafeContact::default();
    for channel in ContactChannel::ALL {
        safe_contact.set(channel, if safe.iter().any(|s| s == channel.code()) { Safety::Safe } else { Safety::Unsafe });
    }
    if safe_contact.no_usable_channel() {
        errors.add("safe", "Choose at least one safe way to contact them");
    }
    let dating = Dating { now: clock::now(), window: desk.back_dating() };
    let when = read_when(&form, "refer", dating.now).map_err(|_| {
        errors.add(
            "refer-when",
            "Enter when the referral was received as a real day, month and year (and time as HH:MM)",
        );
    });
    let (details, when) = match (person, when) {
        (Ok(details), Ok(when)) if errors.is_empty() => (details, when),
        _ => {
            return respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                refer_page(&definition, Some(&form), &errors, submission, &dating),
            );
        }
    };
    let flags = form.all("flags");
    // Both come from the form's own lists: anything else is left out rather than refused.
    let offence_category = OffenceCategory::parse(form.get("offence"));
    let nationality = Nationality::parse(form.get("nationality")).ok();
    let referral = NewVictimReferral {
        submission,
        source,
        details,
        safe_contact,
        safe_times: Vec::new(),
        domestic_abuse: flags.iter().any(|f| f == "domestic_abuse"),
        enhanced_rights: flags.iter().any(|f| f == "enhanced_rights"),
        offence_category,
        nationality,
        when,
    };
    match desk.refer_new_victim(&service, referral).await {
        Ok((_, written)) => written.mark(see_other(&format!(
            "/services/{}/cases/{}?wait_for={}",
            definition.code, written.case_id, written.position
        ))),
        // A refused time (or source) is shown on the form, against the field it is about.
        Err(error) => match refused_at("refer", "source")(error) {
            Failure::Form(errors) => respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                refer_page(&definition, Some(&form), &errors, submission, &dating),
            ),
            Failure::Broken(error) => failure_page(&error),
        },
    }
}

/// A labelled select of `(code, label)` choices, with "Not known" first, keeping what was chosen.
fn choice_select(id: &str, label: &str, choices: &[(&str, &str)], chosen: &str, errors: &FormErrors) -> Markup {
    html! {
        div.govuk-form-group #(id) {
            label.govuk-label for={ (id) "-select" } { (label) }
            (errors.inline(id))
            select.govuk-select id={ (id) "-select" } name=(id) {
                option value="" { "Not known" }
                @for (code, words) in choices {
                    option value=(code) selected[*code == chosen] { (words) }
                }
            }
        }
    }
}

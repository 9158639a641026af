//! Intake pages for hub officers: logging an inbound call from a victim, and uploading the police feed.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_people::person::{DetailsInput, parse_details};
use casetrack_platform::http::ApiError;
use casetrack_platform::pages::{
    FormData, FormErrors, checkboxes, failure_page, radios, respond, see_other, staff_page, summary_list, text_input,
};
use casetrack_proto::contact::{ContactChannel, SafeContact, Safety};
use casetrack_proto::hub::OffenceCategory;
use casetrack_proto::profile::Gender;
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use uuid::Uuid;

use super::OFFENCES;
use crate::api::Hub;
use crate::intake::{DirectReferral, take_direct};
use crate::police_feed;

/// The victim's details and the facts of the referral as typed on the call or public form, validated field by
/// field. Shared with the public self-referral form.
pub fn read_direct(form: &FormData, on_the_phone: bool) -> Result<DirectReferral, FormErrors> {
    let mut errors = FormErrors::new();
    let input = DetailsInput::from_form(form);
    let details = parse_details(&input, Utc::now().date_naive()).map_err(|problems| {
        for problem in &problems {
            errors.add(problem.field, problem.message.clone());
        }
    });
    let offence_category = match form.get("offence") {
        "" => None,
        code => match casetrack_platform::codes::parse::<OffenceCategory>(code) {
            Some(category) => Some(category),
            None => {
                errors.add("offence", "Choose what happened from the list");
                None
            }
        },
    };
    let gender = match form.get("gender") {
        "female" => Gender::Female,
        "male" => Gender::Male,
        "other" => Gender::Other,
        _ => Gender::Unknown,
    };
    let crime_reference = Some(form.get("crime_reference").to_owned()).filter(|r| !r.is_empty());
    if crime_reference.as_ref().is_some_and(|r| r.chars().count() > 64) {
        errors.add("crime_reference", "A crime reference can be at most 64 characters");
    }
    let crime_reported_on = match form.get("reported_on") {
        "" => None,
        text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(day) if day <= Utc::now().date_naive() => Some(day),
            _ => {
                errors.add("reported_on", "Enter the date reported to police as YYYY-MM-DD, in the past");
                None
            }
        },
    };
    // The victim ticks what is safe; what they leave unticked is not to be used.
    let safe = form.all("safe");
    let mut safe_contact = SafeContact::default();
    for channel in ContactChannel::ALL {
        let code = channel.code();
        safe_contact.set(channel, if safe.iter().any(|s| s == code) { Safety::Safe } else { Safety::Unsafe });
    }
    if safe_contact.no_usable_channel() {
        errors.add("safe", "Choose at least one safe way to contact you");
    }
    match details {
        Ok(details) if errors.is_empty() => Ok(DirectReferral {
            details,
            gender,
            offence_category,
            domestic_abuse: form.get("domestic_abuse") == "yes",
            crime_reference,
            crime_reported_on,
            safe_contact,
            enhanced_rights: form.get("enhanced_rights") == "yes",
            on_the_phone,
        }),
        _ => Err(errors),
    }
}

/// The fields both direct forms share. Personal fields are never filled back in (`echo` is false on the public
/// form): a page that failed validation must not show a victim's details to whoever looks next.
pub fn direct_fields(form: Option<&FormData>, errors: &FormErrors, staff: bool) -> Markup {
    let value = |name: &str| if staff { form.map_or("", |f| f.get(name)).to_owned() } else { String::new() };
    let offences: Vec<(&str, &str)> = OFFENCES.to_vec();
    let safe_options: Vec<(&str, &str, bool)> =
        ContactChannel::ALL.iter().map(|c| (c.code(), c.label(), false)).collect();
    html! {
        (text_input("forename", "First name", None, &value("forename"), errors))
        (text_input("surname", "Last name", None, &value("surname"), errors))
        (text_input("date_of_birth", "Date of birth", Some("YYYY-MM-DD, for example 1987-04-23"), &value("date_of_birth"), errors))
        (text_input("phone", "Phone number (optional)", None, &value("phone"), errors))
        (text_input("email", "Email address (optional)", None, &value("email"), errors))
        (text_input("postcode", "Postcode (optional)", None, &value("postcode"), errors))
        (radios("gender", "Gender (optional)", &[("female", "Female"), ("male", "Male"), ("other", "Another gender"), ("unknown", "Prefer not to say")], None, errors))
        (checkboxes("safe", if staff { "Which ways are safe to contact them?" } else { "Which ways are safe to contact you?" },
            Some("Tick only what is safe. We will not use anything you leave unticked."), &safe_options, errors))
        div.app-form-group #offence {
            label.app-label for="offence-select" { "What happened? (optional)" }
            (errors.inline("offence"))
            select.app-select #offence-select name="offence" {
                option value="" { "Choose" }
                @for (code, label) in &offences { option value=(code) { (label) } }
            }
        }
        (checkboxes("domestic_abuse", "Domestic abuse", None, &[("yes", if staff { "This is about domestic abuse" } else { "This is about someone I live with, or a partner or family member" }, false)], errors))
        (text_input("crime_reference", "Police crime reference (optional)", Some("Only if it was reported to police"), &value("crime_reference"), errors))
        (text_input("reported_on", "Date reported to police (optional)", Some("YYYY-MM-DD"), &value("reported_on"), errors))
    }
}

pub async fn call_form() -> Response {
    respond(StatusCode::OK, call_page(None, &FormErrors::new(), Uuid::new_v4()))
}

fn call_page(form: Option<&FormData>, errors: &FormErrors, submission: Uuid) -> Markup {
    staff_page(
        "Log an inbound call",
        html! {
            (errors.summary())
            h1.app-heading-l { "Log an inbound call" }
            p { "A victim has phoned the hub to ask for support. Their referral starts as contacted." }
            form method="post" action="/hub/intake/call" novalidate {
                (casetrack_platform::access::csrf_field())
                input type="hidden" name="submission" value=(submission);
                (direct_fields(form, errors, true))
                (checkboxes("enhanced_rights", "Victims' Code", None, &[("yes", "Entitled to enhanced rights", false)], errors))
                button.app-button type="submit" { "Save referral" }
            }
        },
    )
}

pub async fn log_call(State(hub): State<Hub>, form: FormData) -> Response {
    let submission = form.get("submission").parse::<Uuid>().unwrap_or_else(|_| Uuid::new_v4());
    let direct = match read_direct(&form, true) {
        Ok(direct) => direct,
        Err(errors) => return respond(StatusCode::UNPROCESSABLE_ENTITY, call_page(Some(&form), &errors, submission)),
    };
    match take_direct(hub.context(), submission, direct, casetrack_platform::access::acting(), Utc::now()).await {
        Ok((referral_id, position)) => see_other(&format!("/hub/referrals/{referral_id}?wait_for={position}")),
        Err(error) => failure_page(&ApiError::from(error)),
    }
}

pub async fn upload_form() -> Response {
    respond(StatusCode::OK, upload_page(&FormErrors::new(), None))
}

/// What an upload did, to show under the form.
struct UploadResult {
    dry_run: bool,
    valid: usize,
    rejects: Vec<police_feed::Reject>,
    created: usize,
    already: usize,
    failed: Vec<u64>,
}

fn upload_page(errors: &FormErrors, result: Option<&UploadResult>) -> Markup {
    staff_page(
        "Upload police feed",
        html! {
            (errors.summary())
            h1.app-heading-l { "Upload the police feed" }
            @if let Some(result) = result {
                div.app-banner.app-banner--success[result.failed.is_empty()] role="status" {
                    h2.app-heading-m { @if result.dry_run { "Checked: nothing imported" } @else { "Imported" } }
                    (summary_list([
                        ("Valid rows", html! { (result.valid) }),
                        ("Rejected rows", html! { (result.rejects.len()) }),
                        ("New referrals", html! { @if result.dry_run { "None (a check only)" } @else { (result.created) } }),
                        ("Already imported", html! { (result.already) }),
                        ("Could not be saved", html! { (result.failed.len()) }),
                    ]))
                    @if !result.failed.is_empty() {
                        p { "Rows on lines " (result.failed.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")) " could not be saved. Upload the same file again to retry them: nothing is imported twice." }
                    }
                }
                @if !result.rejects.is_empty() {
                    table.app-table {
                        caption { "Rejected rows" }
                        thead { tr { th scope="col" { "Line" } th scope="col" { "Column" } th scope="col" { "Crime reference" } th scope="col" { "Why" } } }
                        tbody {
                            @for reject in &result.rejects {
                                tr {
                                    td { (reject.line) }
                                    td { (reject.column.unwrap_or("")) }
                                    td { (reject.crime_reference.as_deref().unwrap_or("")) }
                                    td { (casetrack_platform::pages::sentence(&reject.message)) }
                                }
                            }
                        }
                    }
                }
            }
            p { "A CSV file with a header row, as the police send it. A bad row never stops the good ones; it is listed with its line and column. Uploading the same file again creates nothing new." }
            form method="post" action="/hub/intake/upload" enctype="multipart/form-data" novalidate {
                (casetrack_platform::access::csrf_field())
                div.app-form-group.app-form-group--error[errors.message("feed").is_some()] {
                    label.app-label for="feed" { "Police feed file (CSV)" }
                    (errors.inline("feed"))
                    input #feed name="feed" type="file" accept=".csv,text/csv";
                }
                (checkboxes("dry_run", "Check only", None, &[("yes", "Check the file without importing anything", false)], errors))
                button.app-button type="submit" { "Upload" }
            }
        },
    )
}

pub async fn upload(State(hub): State<Hub>, mut multipart: Multipart) -> Response {
    let mut file = None;
    let mut dry_run = false;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("feed") => match field.bytes().await {
                    Ok(bytes) => file = Some(bytes),
                    Err(_) => {
                        return upload_error("The file could not be received. Try again, or check it is under 64 MB.");
                    }
                },
                Some("dry_run") => dry_run = field.text().await.is_ok_and(|v| v == "yes"),
                _ => {}
            },
            Ok(None) => break,
            Err(_) => return upload_error("The file could not be received. Try again, or check it is under 64 MB."),
        }
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else { return upload_error("Choose a CSV file to upload") };
    let received_at = Utc::now();
    let feed = match police_feed::parse(file.as_ref(), received_at.date_naive()) {
        Ok(feed) => feed,
        Err(error) => return upload_error(&casetrack_platform::pages::sentence(&error.to_string())),
    };
    let mut result = UploadResult {
        dry_run,
        valid: feed.rows.len(),
        rejects: feed.rejects,
        created: 0,
        already: 0,
        failed: Vec::new(),
    };
    if !dry_run {
        let summary = crate::intake::import(hub.context(), feed.rows, received_at).await;
        result.created = summary.created;
        result.already = summary.already_imported;
        result.failed = summary.failed;
    }
    respond(StatusCode::OK, upload_page(&FormErrors::new(), Some(&result)))
}

fn upload_error(message: &str) -> Response {
    let mut errors = FormErrors::new();
    errors.add("feed", message);
    respond(StatusCode::UNPROCESSABLE_ENTITY, upload_page(&errors, None))
}

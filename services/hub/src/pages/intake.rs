//! Intake pages for hub officers: logging an inbound call from a victim, and uploading the police feed. The form
//! fields a direct referral shares with the public self-referral form are here ([`direct_fields`]); reading them
//! back is the command's (`commands::direct::read_direct`).

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_proto::contact::ContactChannel;
use casetrack_web::pages::{
    FormData, FormErrors, checkboxes, failure_page, radios, respond, see_other, staff_page, summary_list, text_input,
};
use maud::{Markup, html};
use uuid::Uuid;

use super::parts::OFFENCES;
use crate::commands::direct::{read_direct, take_direct};
use crate::commands::handler::refusal;
use crate::commands::intake::{FEED_DATED, import_file};
use crate::commands::police_feed;
use crate::pages::when::{read_when, time_refusal, when_field, when_fields};
use crate::state::Hub;

/// The fields both direct forms share, filled in with what was sent when the form comes back with a problem, so
/// nobody types it all again. On the public form that answer is the response to the victim's own POST, never stored
/// and never cached (`no-store`), and the quick exit replaces it in the history (ADR 0005).
pub fn direct_fields(form: Option<&FormData>, errors: &FormErrors, staff: bool) -> Markup {
    let value = |name: &str| form.map_or("", |f| f.get(name)).to_owned();
    let ticked = |name: &str, code: &str| form.is_some_and(|f| f.all(name).iter().any(|v| v == code));
    let offences: Vec<(&str, &str)> = OFFENCES.to_vec();
    let safe_options: Vec<(&str, &str, bool)> =
        ContactChannel::ALL.iter().map(|c| (c.code(), c.label(), ticked("safe", c.code()))).collect();
    let gender = value("gender");
    html! {
        (text_input("forename", "First name", None, &value("forename"), errors))
        (text_input("surname", "Last name", None, &value("surname"), errors))
        (text_input("date_of_birth", "Date of birth", Some("For example, 23/04/1987"), &value("date_of_birth"), errors))
        (text_input("phone", "Phone number (optional)", None, &value("phone"), errors))
        (text_input("email", "Email address (optional)", None, &value("email"), errors))
        (text_input("postcode", "Postcode (optional)", None, &value("postcode"), errors))
        (radios("gender", "Gender (optional)", &[("female", "Female"), ("male", "Male"), ("other", "Another gender"), ("unknown", "Prefer not to say")], Some(gender.as_str()).filter(|g| !g.is_empty()), errors))
        (checkboxes("safe", if staff { "Which ways are safe to contact them?" } else { "Which ways are safe to contact you?" },
            Some("Tick only what is safe. We will not use anything you leave unticked."), &safe_options, errors))
        div.govuk-form-group #offence {
            label.govuk-label for="offence-select" { "What happened? (optional)" }
            (errors.inline("offence"))
            select.govuk-select #offence-select name="offence" {
                option value="" { "Choose" }
                @for (code, label) in &offences { option value=(code) selected[value("offence") == *code] { (label) } }
            }
        }
        div.govuk-form-group #nationality {
            label.govuk-label for="nationality-select" { "Nationality (optional)" }
            (errors.inline("nationality"))
            select.govuk-select #nationality-select name="nationality" {
                option value="" { "Not known" }
                @for (code, name) in casetrack_proto::profile::countries() {
                    option value=(code) selected[value("nationality") == code] { (name) }
                }
            }
        }
        (checkboxes("domestic_abuse", "Domestic abuse", None, &[("yes", if staff { "This is about domestic abuse" } else { "This is about someone I live with, or a partner or family member" }, ticked("domestic_abuse", "yes"))], errors))
        (text_input("crime_reference", "Police crime reference (optional)", Some("Only if it was reported to police"), &value("crime_reference"), errors))
        (text_input("reported_on", "Date reported to police (optional)", Some("For example, 20/11/2026"), &value("reported_on"), errors))
    }
}

pub async fn call_form(State(hub): State<Hub>) -> Response {
    respond(StatusCode::OK, call_page(&hub, None, &FormErrors::new(), Uuid::new_v4()))
}

fn call_page(hub: &Hub, form: Option<&FormData>, errors: &FormErrors, submission: Uuid) -> Markup {
    // The clock only gives the date the form starts with; the command takes its own.
    let now = casetrack_eventstore::clock::now();
    staff_page(
        "Log an inbound call",
        html! {
            (errors.summary())
            h1.govuk-heading-l { "Log an inbound call" }
            p { "A victim has phoned the hub to ask for support. Their referral starts as contacted." }
            form method="post" action="/hub/intake/call" novalidate {
                (casetrack_web::access::csrf_field())
                input type="hidden" name="submission" value=(submission);
                (direct_fields(form, errors, true))
                (checkboxes("enhanced_rights", "Victims' Code", None, &[("yes", "Entitled to enhanced rights", false)], errors))
                (when_fields("call", now, hub.settings().back_dating.days, errors))
                button.govuk-button type="submit" { "Save referral" }
            }
        },
    )
}

pub async fn log_call(State(hub): State<Hub>, form: FormData) -> Response {
    let submission = form.get("submission").parse::<Uuid>().unwrap_or_else(|_| Uuid::new_v4());
    let when = read_when("call", &form);
    let invalid = |errors: &FormErrors| {
        respond(StatusCode::UNPROCESSABLE_ENTITY, call_page(&hub, Some(&form), errors, submission))
    };
    let (direct, when) = match (read_direct(&form, true), when) {
        (Ok(direct), Ok(when)) => (direct, when),
        (direct, when) => {
            let mut errors = direct.err().unwrap_or_default();
            if let Err(problems) = when {
                errors.add(&when_field("call"), problems.message(&when_field("call")).unwrap_or_default());
            }
            return invalid(&errors);
        }
    };
    let when = match hub.when(&when) {
        Ok(when) => when,
        Err(error) => return invalid(&FormErrors::refused(&when_field("call"), &error)),
    };
    match take_direct(hub.context(), submission, direct, &when, casetrack_web::access::acting()).await {
        Ok(written) => {
            let (referral_id, position) = (written.referral_id, written.position);
            written.mark(see_other(&format!("/hub/referrals/{referral_id}?wait_for={position}")))
        }
        Err(error) => {
            let error = refusal(error);
            // A time that runs backwards or needs a reason is shown on the form, against its field.
            match time_refusal("call", &error) {
                Some(errors) => invalid(&errors),
                None => failure_page(&error),
            }
        }
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
            h1.govuk-heading-l { "Upload the police feed" }
            @if let Some(result) = result {
                div.govuk-notification-banner.govuk-notification-banner--success[result.failed.is_empty()] role="status"
                    aria-labelledby="upload-result-title" data-module="govuk-notification-banner" {
                    div.govuk-notification-banner__header {
                        h2.govuk-notification-banner__title #upload-result-title { @if result.dry_run { "Checked" } @else { "Imported" } }
                    }
                    div.govuk-notification-banner__content {
                    h3.govuk-notification-banner__heading { @if result.dry_run { "Checked: nothing imported" } @else { "The feed was imported" } }
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
                }
                @if !result.rejects.is_empty() {
                    table.govuk-table {
                        caption.govuk-table__caption.govuk-table__caption--m { "Rejected rows" }
                        thead.govuk-table__head { tr.govuk-table__row { th.govuk-table__header scope="col" { "Line" } th.govuk-table__header scope="col" { "Column" } th.govuk-table__header scope="col" { "Crime reference" } th.govuk-table__header scope="col" { "Why" } } }
                        tbody.govuk-table__body {
                            @for reject in &result.rejects {
                                tr.govuk-table__row {
                                    td.govuk-table__cell { (reject.line) }
                                    td.govuk-table__cell { (reject.column.unwrap_or("")) }
                                    td.govuk-table__cell { (reject.crime_reference.as_deref().unwrap_or("")) }
                                    td.govuk-table__cell { (casetrack_web::pages::sentence(&reject.message)) }
                                }
                            }
                        }
                    }
                }
            }
            p { "A CSV file with a header row, as the police send it. A bad row never stops the good ones; it is listed with its line and column. Uploading the same file again creates nothing new." }
            form method="post" action="/hub/intake/upload" enctype="multipart/form-data" novalidate {
                (casetrack_web::access::csrf_field())
                div.govuk-form-group.govuk-form-group--error[errors.message("feed").is_some()] {
                    label.govuk-label for="feed" { "Police feed file (CSV)" }
                    (errors.inline("feed"))
                    input #feed name="feed" type="file" accept=".csv,text/csv";
                }
                (checkboxes("dry_run", "Check only", None, &[("yes", "Check the file without importing anything", false)], errors))
                button.govuk-button type="submit" { "Upload" }
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
    let imported = match import_file(hub.context(), file.as_ref(), dry_run, hub.settings().back_dating).await {
        Ok(imported) => imported,
        Err(error) => return upload_error(&casetrack_web::pages::sentence(&error.to_string())),
    };
    let summary = imported.imported.unwrap_or_default();
    let late = summary.late;
    let result = UploadResult {
        dry_run,
        valid: imported.valid,
        rejects: imported.rejects,
        created: summary.created,
        already: summary.already_imported,
        failed: summary.failed,
    };
    let response = respond(StatusCode::OK, upload_page(&FormErrors::new(), Some(&result)));
    // Referrals the feed dated beyond the back-dating window: the upload is flagged in the audit trail.
    match late {
        Some(days) => casetrack_web::access::late_entry(response, days, FEED_DATED),
        None => response,
    }
}

fn upload_error(message: &str) -> Response {
    let mut errors = FormErrors::new();
    errors.add("feed", message);
    respond(StatusCode::UNPROCESSABLE_ENTITY, upload_page(&errors, None))
}

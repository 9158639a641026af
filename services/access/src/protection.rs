//! Data protection, for hub managers: a person's subject-access export (everything Casetrack holds about them,
//! sealed values opened, restricted notes marked for review before release) and their erasure.
//!
//! The export finds the person's referrals and cases in access's own read model (`access.records`, built from the
//! log; no other service's tables are read) and reads each one's history from the log, the source of truth. What
//! the people service holds comes through its published interface.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use casetrack_eventstore::command::{CommandError, CommandMeta};
use casetrack_people::interface::{self as people, SubjectAccessExport};
use casetrack_proto::people::ErasureReason;
use casetrack_proto::{Envelope, PersonId, Sealed, StreamId};
use casetrack_vault::VaultError;
use casetrack_web::Context;
use casetrack_web::access::{acting, csrf_field};
use casetrack_web::http::ApiError;
use casetrack_web::pages::{FormData, FormErrors, failure_page, radios, respond, see_other, staff_page, text_input};
use maud::html;
use serde::Serialize;

/// Everything held about one person.
#[derive(Debug, Serialize)]
pub struct FullExport {
    #[serde(flatten)]
    pub person: SubjectAccessExport,
    /// Their hub referrals, each with its whole history.
    pub referrals: Vec<RecordExport>,
    /// Their cases with specialist services, each with its whole history.
    pub cases: Vec<RecordExport>,
    /// What a person must review before the export is released (restricted notes: DOMAIN, "notes that may be
    /// withheld"), as "case <id>: note of <date>".
    pub for_review: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct RecordExport {
    pub id: String,
    /// `hub`, or the specialist service's code.
    pub service: String,
    pub events: Vec<ExportedEvent>,
}

#[derive(Debug, Serialize)]
pub struct ExportedEvent {
    #[serde(rename = "type")]
    pub event_type: String,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor: casetrack_proto::Actor,
    /// The event's recorded data, sealed values replaced by a marker.
    pub data: serde_json::Value,
    /// The sealed value (a caution, a plan, a note), opened; absent once the person is erased.
    pub opened: Option<String>,
    /// A restricted note: marked for review, it may be withheld from the person.
    pub restricted: bool,
}

/// The field holding a sealed text, per event type.
fn sealed_field(event_type: &str) -> Option<&'static str> {
    match event_type {
        "SafeContactUpdated" => Some("caution"),
        "PlanRecorded" => Some("plan"),
        "CaseNoteAdded" => Some("note"),
        _ => None,
    }
}

async fn export_events(
    ctx: &Context,
    person_id: PersonId,
    envelopes: &[Envelope],
    open_sealed: bool,
) -> anyhow::Result<Vec<ExportedEvent>> {
    let mut exported = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        let mut data = envelope.data.to_value()?;
        let mut opened = None;
        if let Some(field) = sealed_field(&envelope.event_type)
            && let Some(value) = data.get_mut(field).filter(|v| !v.is_null())
        {
            let sealed: Sealed = serde_json::from_value(value.take())?;
            *value = serde_json::Value::String("(sealed; opened below)".into());
            if open_sealed {
                opened = match ctx.vault.open::<String>(person_id, envelope.id, &sealed).await {
                    Ok(text) => Some(text),
                    Err(VaultError::Erased) => None,
                    Err(error) => return Err(error.into()),
                };
            }
        }
        let restricted = envelope.event_type == "CaseNoteAdded" && data["restricted"] == serde_json::Value::Bool(true);
        exported.push(ExportedEvent {
            event_type: envelope.event_type.clone(),
            occurred_at: envelope.occurred_at,
            actor: envelope.actor.clone(),
            data,
            opened,
            restricted,
        });
    }
    Ok(exported)
}

/// The whole export; `None` when there is no such person. Without `open_sealed`, cautions, plans and notes stay
/// sealed (`opened` is empty): for a page that shows only what the export holds, not its contents.
pub async fn full_export(ctx: &Context, person_id: PersonId, open_sealed: bool) -> anyhow::Result<Option<FullExport>> {
    let Some(person) = people::export(ctx, person_id).await? else { return Ok(None) };
    let (referrals, cases) = crate::records::of_person(&ctx.db, person_id).await?;
    let erased = person.erased;
    let mut export = FullExport { person, referrals: Vec::new(), cases: Vec::new(), for_review: Vec::new() };
    for referral in referrals {
        let stream = StreamId::new("hub", "referral", referral.id.parse()?)?;
        let mut events = export_events(ctx, person_id, &ctx.log.read_stream(&stream).await?, open_sealed).await?;
        if erased {
            events.iter_mut().for_each(|event| redact(&mut event.data));
        }
        export.referrals.push(RecordExport { id: referral.id, service: "hub".into(), events });
    }
    for case in cases {
        let stream = StreamId::new("specialist", "case", case.id.parse()?)?;
        let mut events = export_events(ctx, person_id, &ctx.log.read_stream(&stream).await?, open_sealed).await?;
        if erased {
            events.iter_mut().for_each(|event| redact(&mut event.data));
        }
        for event in events.iter().filter(|e| e.restricted) {
            export.for_review.push(format!("case {}: restricted note of {}", case.id, event.occurred_at.date_naive()));
        }
        export.cases.push(RecordExport { id: case.id, service: case.service, events });
    }
    Ok(Some(export))
}

/// What stays of an erased person's events in their export: ids, dates, numbers, flags and codes, the facts the
/// figures count. Every other text (a reason typed in, a crime reference, a caution) could identify them, and goes.
fn redact(data: &mut serde_json::Value) {
    match data {
        serde_json::Value::String(text) if !is_code_id_or_date(text) => *text = "(erased)".into(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(redact),
        _ => {}
    }
}

/// A code (`police_feed`, `no_answer`), an id or a date and time: nothing a person typed.
fn is_code_id_or_date(text: &str) -> bool {
    let code = !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    code || uuid::Uuid::parse_str(text).is_ok()
        || chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
        || chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

fn person_id(text: &str) -> Option<PersonId> {
    uuid::Uuid::parse_str(text).ok().map(PersonId)
}

/// `GET /people/{person_id}`: the person's data-protection page.
pub async fn person_page(State(ctx): State<Context>, Path(id): Path<String>) -> Response {
    render(&ctx, &id, &FormErrors::new(), StatusCode::OK).await
}

async fn render(ctx: &Context, id: &str, errors: &FormErrors, status: StatusCode) -> Response {
    let Some(person) = person_id(id) else { return failure_page(&ApiError::not_found("There is no such person.")) };
    let export = match full_export(ctx, person, false).await {
        Ok(Some(export)) => export,
        Ok(None) => return failure_page(&ApiError::not_found("There is no such person.")),
        Err(error) => return failure_page(&ApiError::unavailable(error)),
    };
    respond(
        status,
        staff_page(
            "Data protection",
            html! {
                (errors.summary())
                h1.govuk-heading-l { "Data protection requests" }
                p.govuk-body { "Person " code { (person) } ": "
                    @if export.person.erased { strong { "erased" } ". Their details can never be read again; the figures "
                        "still count what happened." }
                    @else { (export.referrals.len()) " referrals, " (export.cases.len()) " cases with services." }
                }
                h2.govuk-heading-m { "Subject access" }
                p.govuk-body { a.govuk-link href={ "/people/" (person) "/export.json" } { "Download everything held about them (JSON)" } }
                @if !export.for_review.is_empty() {
                    p.govuk-body { (export.for_review.len()) " restricted notes are marked in it for review before release." }
                }
                @if !export.person.erased {
                    h2.govuk-heading-m { "Erasure" }
                    p.govuk-body { "Erasing destroys the person's key: their name, contact details, cautions, plans and "
                        "notes can never be read again, by anyone. It cannot be undone." }
                    form method="post" action={ "/people/" (person) "/erasure" } novalidate {
                        (csrf_field())
                        (radios("reason", "Why", &[("request", "The person asked (right to erasure)"), ("retention", "The retention period has run out")], None, errors))
                        (text_input("confirm", "Type ERASE to confirm", None, "", errors))
                        button.govuk-button.govuk-button--warning type="submit" { "Erase this person" }
                    }
                }
            },
        ),
    )
}

/// `GET /people/{person_id}/export.json`.
pub async fn export_download(State(ctx): State<Context>, Path(id): Path<String>) -> Response {
    let Some(person) = person_id(&id) else { return ApiError::not_found("There is no such person.").into_response() };
    match full_export(&ctx, person, true).await {
        Ok(Some(export)) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"subject-access.json\""),
                (header::CACHE_CONTROL, "no-store"),
            ],
            axum::Json(export),
        )
            .into_response(),
        Ok(None) => ApiError::not_found("There is no such person.").into_response(),
        Err(error) => ApiError::unavailable(error).into_response(),
    }
}

/// `POST /people/{person_id}/erasure`.
pub async fn erase(State(ctx): State<Context>, Path(id): Path<String>, form: FormData) -> Response {
    let Some(person) = person_id(&id) else { return failure_page(&ApiError::not_found("There is no such person.")) };
    let mut errors = FormErrors::new();
    let reason = match form.get("reason") {
        "request" => Some(ErasureReason::Request),
        "retention" => Some(ErasureReason::Retention),
        _ => {
            errors.add("reason", "Choose why the person is erased.");
            None
        }
    };
    if form.get("confirm") != "ERASE" {
        errors.add("confirm", "Type ERASE, in capitals, to confirm.");
    }
    let Some(reason) = reason.filter(|_| errors.is_empty()) else {
        return render(&ctx, &id, &errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let meta = CommandMeta::new(acting(), casetrack_eventstore::clock::now());
    match people::erase(&ctx, person, reason, &meta).await {
        Ok(_) => see_other(&format!("/people/{person}")),
        Err(CommandError::Rejected(rejection)) => {
            let mut errors = FormErrors::new();
            errors.add("confirm", rejection.to_string());
            render(&ctx, &id, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(error) => failure_page(&ApiError::from(error)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_erased_persons_events_keep_codes_ids_and_dates_only() {
        let mut data = serde_json::json!({
            "referral_id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a70",
            "source": "police_feed",
            "crime_reference": "WM/2026/0412",
            "reason": "Moved to her sister's in Leeds",
            "crime_reported_on": "2026-11-02",
            "answers": [{"measure": "cope", "answer": "improved"}],
            "domestic_abuse": true,
        });
        super::redact(&mut data);
        assert_eq!(data["crime_reference"], "(erased)");
        assert_eq!(data["reason"], "(erased)");
        for (field, kept) in [("source", "police_feed"), ("crime_reported_on", "2026-11-02")] {
            assert_eq!(data[field], kept);
        }
        assert_eq!(data["answers"][0]["answer"], "improved");
        assert_eq!(data["domestic_abuse"], true);
    }
}

//! The case page (the case as its own events tell it: status and flags, the safe-contact panel, the actions its
//! stage and kind allow, the timeline with when each thing happened and, where later, when it was recorded, the
//! person and the case) and the actions posted from it: each form read into its command's request (with when its
//! fact happened) and given through [`Desk::run`]; a refusal shows the page again with the rule's words against the
//! field; a late entry is marked on the response for the audit trail.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_casework::catalogue::ServiceKind;
use casetrack_eventstore::clock;
use casetrack_eventstore::codes::{code, parse};
use casetrack_people::interface::{PersonRecord, details};
use casetrack_proto::CaseId;
use casetrack_proto::contact::{AttemptOutcome, ContactChannel, OutcomeAnswer};
use casetrack_proto::specialist::{CaseOrigin, ClosureReason};
use casetrack_web::http::ApiError;
use casetrack_web::pages::{
    Failure, FormData, FormErrors, Staff, failure_page, invalid, long_date, reference, refused, respond,
    safe_contact_panel, see_other, staff_page, summary_list, tag, words,
};
use chrono::{NaiveTime, TimeZone as _, Utc};
use maud::html;

use super::actions::actions;
use super::status_tag;
use super::timeline::{describe, when_line};
use crate::case::{self, Case, CaseStage};
use crate::commands::CaseWritten;
use crate::commands::allocate::CaseworkerRequest;
use crate::commands::casework::{InterventionRequest, NoteRequest, TextRequest};
use crate::commands::close::{CloseAnswer, CloseRequest};
use crate::commands::contact::{AttemptRequest, SafeContactRequest, SupportDeclined, UnableToContact};
use crate::commands::decision::{Accept, Decline, ReasonRequest, Reopen, Withdraw};
use crate::forms::{Dating, choice, date, late_reason, optional_date, read_when, refused_at, refused_dated};
use crate::kinds;
use crate::state::Desk;
use crate::views::history::load;

/// The page reads the case's own events from the log, so it never waits for a read model: a `wait_for` in the
/// address after a save is not needed here.
pub(super) async fn case_page(State(desk): State<Desk>, Path((service, case_id)): Path<(String, CaseId)>) -> Response {
    render(&desk, &service, case_id, &FormErrors::new(), StatusCode::OK).await
}

async fn render(desk: &Desk, service: &str, case_id: CaseId, errors: &FormErrors, status: StatusCode) -> Response {
    let definition = match desk.service(service) {
        Ok(definition) => definition.clone(),
        Err(error) => return failure_page(&error),
    };
    let loaded = match load(desk, &definition, case_id).await {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&error),
    };
    let person = match details(desk.context(), loaded.opened.person_id).await {
        Ok(person) => person,
        Err(error) => return failure_page(&ApiError::unavailable(error)),
    };
    let staff = match Staff::load(&desk.context().db).await {
        Ok(staff) => staff,
        Err(error) => return failure_page(&error),
    };
    let mut timeline = Vec::new();
    for (envelope, event) in loaded.history.iter().rev() {
        let (title, detail) = describe(desk, &definition, &loaded.opened.person_id, envelope, event, &staff).await;
        timeline.push((
            when_line(envelope.occurred_at, envelope.recorded_at),
            title,
            detail,
            staff.actor(&envelope.actor),
        ));
    }
    let service_code = definition.code.to_string();
    let caseworkers = staff.choices(|role| match role {
        casetrack_proto::Role::Caseworker(s) | casetrack_proto::Role::ServiceManager(s) => s.as_str() == service_code,
        _ => false,
    });
    let reference = reference(definition.code.as_str(), case_id.0);
    let heading = match &person {
        PersonRecord::Known(d) => format!("{} {}", d.forename, d.surname),
        PersonRecord::Erased => "Erased person".into(),
        PersonRecord::Unknown => "Person not found".into(),
    };
    let (case_status, open) = match &loaded.state {
        Case::Open(open) => (stage_code(open.stage), Some(open)),
        Case::Ended { ending, .. } => (ending_code(*ending), None),
        Case::NotOpened => ("unknown", None),
    };
    let body = html! {
        (errors.summary())
        span.govuk-caption-m { (definition.name) " case " (reference) }
        h1.govuk-heading-l { (heading) }
        p.govuk-body {
            (status_tag(case_status)) " "
            @if loaded.opened.enhanced_rights { (tag("Enhanced rights", "purple")) " " }
            @if loaded.opened.domestic_abuse { (tag("Domestic abuse", "red")) " " }
            @if let Some(risk) = open.and_then(|o| o.risk) { (tag(&format!("{} risk", words(&code(&risk))), "orange")) }
        }
        @if definition.kind == ServiceKind::Rj && open.is_some_and(|o| o.rj.informed_on.is_none()) {
            (kinds::rj::information_due(loaded.received_on, loaded.opened.enhanced_rights, clock::now().date_naive()))
        }
        div.govuk-grid-row {
            div.govuk-grid-column-two-thirds {
                @if let Some(open) = open {
                    (safe_contact_panel(&open.safe_contact, &open.safe_times, loaded.opened.domestic_abuse, None,
                        "tell the referrer there is no safe way to reach the victim"))
                }
                h2.govuk-heading-m { "Actions for this stage" }
                (actions(&definition, case_id, &loaded.state, errors, &Dating { now: clock::now(), window: desk.back_dating() }, &caseworkers))
                h2.govuk-heading-m #timeline { "Timeline" }
                div.moj-timeline {
                    @for (when, title, detail, by) in &timeline {
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
            }
            div.govuk-grid-column-one-third {
                h2.govuk-heading-m { "Person" }
                @match &person {
                    PersonRecord::Known(d) => (summary_list([
                        ("Date of birth", html! { (long_date(d.date_of_birth)) }),
                        ("Phone", html! { (d.phone.as_deref().unwrap_or("Not given")) }),
                        ("Email", html! { (d.email.as_deref().unwrap_or("Not given")) }),
                        ("Age band at referral", html! { (loaded.opened.age_band.map_or("Not known", |b| b.label())) }),
                    ])),
                    PersonRecord::Erased => p { "This person's details were erased." },
                    PersonRecord::Unknown => p { "The person this case names is not registered." },
                }
                h2.govuk-heading-m { "Case" }
                (summary_list([
                    ("Referred by", html! { @match &loaded.opened.origin {
                        CaseOrigin::Hub { .. } => "The Victim and Witness Hub",
                        CaseOrigin::Direct { source } => (words(source)),
                    } }),
                    ("Caseworker", html! { (caseworker_of(&loaded.state).map_or("Unallocated".to_owned(), |c| staff.name_of(c.as_str()))) }),
                ]))
            }
        }
    };
    // The browser tab names the case, never the victim.
    respond(status, staff_page(&format!("{} case {reference}", definition.name), body))
}

fn caseworker_of(state: &Case) -> Option<&casetrack_proto::StaffName> {
    match state {
        Case::Open(case) | Case::Ended { case, .. } => case.caseworker.as_ref(),
        Case::NotOpened => None,
    }
}

fn stage_code(stage: CaseStage) -> &'static str {
    match stage {
        CaseStage::AwaitingDecision => "awaiting_decision",
        CaseStage::AwaitingContact => "awaiting_contact",
        CaseStage::Engaged => "engaged",
    }
}

fn ending_code(ending: case::CaseEnding) -> &'static str {
    match ending {
        case::CaseEnding::DeclinedByService => "declined_by_service",
        case::CaseEnding::Withdrawn => "withdrawn",
        case::CaseEnding::UnableToContact => "unable_to_contact",
        case::CaseEnding::SupportDeclined => "support_declined",
        case::CaseEnding::Closed => "closed",
    }
}

pub(super) async fn act(
    State(desk): State<Desk>,
    Path((service, case_id, action)): Path<(String, CaseId, String)>,
    form: FormData,
) -> Response {
    let outcome = perform(&desk, &service, case_id, &action, &form).await;
    match outcome {
        Ok(written) => written
            .mark(see_other(&format!("/services/{service}/cases/{case_id}?wait_for={}#timeline", written.position))),
        Err(Failure::Form(errors)) => render(&desk, &service, case_id, &errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(Failure::Broken(error)) => failure_page(&error),
    }
}

async fn perform(
    desk: &Desk,
    service: &str,
    id: CaseId,
    action: &str,
    form: &FormData,
) -> Result<CaseWritten, Failure> {
    let now = clock::now();
    let when = |action: &str| read_when(form, action, now);
    let reason = |action: &str, field: &str| -> Result<ReasonRequest, Failure> {
        Ok(ReasonRequest { reason: form.get(field).to_owned(), when: when(action)? })
    };
    match action {
        "accept" => desk.run(service, id, Accept(when("accept")?)).await.map_err(refused_at("accept", "action-accept")),
        "decline" => desk
            .run(service, id, Decline(reason("decline", "decline-reason")?))
            .await
            .map_err(refused_at("decline", "decline-reason")),
        "withdraw" => desk
            .run(service, id, Withdraw(reason("withdraw", "withdraw-reason")?))
            .await
            .map_err(refused_at("withdraw", "withdraw-reason")),
        "reopen" => desk
            .run(service, id, Reopen(reason("reopen", "reopen-reason")?))
            .await
            .map_err(refused_at("reopen", "reopen-reason")),
        "support-declined" => desk
            .run(service, id, SupportDeclined(reason("support-declined", "declined-reason")?))
            .await
            .map_err(refused_at("support-declined", "declined-reason")),
        "allocate" => desk
            .run(service, id, CaseworkerRequest { caseworker: form.get("allocate-caseworker").to_owned() })
            .await
            .map_err(refused("allocate-caseworker")),
        "attempt" => {
            let channel: ContactChannel =
                choice(form, "attempt-channel", "Choose how you tried to contact the victim")?;
            let outcome: AttemptOutcome = choice(form, "attempt-outcome", "Choose what happened")?;
            let day = date(form, "attempt-date")?;
            let time = NaiveTime::parse_from_str(form.get("attempt-time"), "%H:%M")
                .map_err(|_| invalid("attempt-time", "Enter the time as HH:MM, for example 18:30"))?;
            let attempted_at = chrono_tz::Europe::London
                .from_local_datetime(&day.and_time(time))
                .earliest()
                .map(|at| at.with_timezone(&Utc))
                .ok_or_else(|| invalid("attempt-time", "That time did not happen in the UK (the clocks changed)"))?;
            let late_reason = late_reason(form, "attempt");
            desk.run(service, id, AttemptRequest { channel, attempted_at, outcome, late_reason })
                .await
                .map_err(refused_dated("attempt", "attempt-date", "attempt-channel"))
        }
        "unable" => {
            desk.run(service, id, UnableToContact(when("unable")?)).await.map_err(refused_at("unable", "action-unable"))
        }
        "safe-contact" => {
            let (safe_contact, safe_times) = casetrack_web::pages::read_safe_contact(form)?;
            desk.run(service, id, SafeContactRequest { safe_contact, safe_times }).await.map_err(refused("safe-phone"))
        }
        "intervention" => {
            let held_on = date(form, "intervention-date")?;
            let minutes = form
                .get("intervention-minutes")
                .parse::<u32>()
                .map_err(|_| invalid("intervention-minutes", "Enter the length in whole minutes, for example 45"))?;
            let need = form.get("intervention-need").to_owned();
            let request =
                InterventionRequest { need, held_on, minutes, late_reason: late_reason(form, "intervention") };
            desk.run(service, id, request).await.map_err(refused_dated(
                "intervention",
                "intervention-date",
                "intervention-need",
            ))
        }
        "plan" => {
            let request = TextRequest {
                text: form.get("plan-text").to_owned(),
                review_on: optional_date(form, "plan-review")?,
                when: when("plan")?,
            };
            desk.run(service, id, request).await.map_err(refused_at("plan", "plan-text"))
        }
        "note" => {
            let request = NoteRequest {
                text: form.get("note-text").to_owned(),
                restricted: form.get("note-restricted") == "yes",
                when: when("note")?,
            };
            desk.run(service, id, request).await.map_err(refused_at("note", "note-text"))
        }
        "close" => {
            let definition = desk.service(service).map_err(Failure::Broken)?;
            let reason: ClosureReason = choice(form, "close-reason", "Choose why the case is closing")?;
            let mut errors = FormErrors::new();
            let mut answers = Vec::new();
            for measure in &definition.outcome_measures {
                let field = format!("close-{}", measure.code);
                match parse::<OutcomeAnswer>(form.get(&field)) {
                    Some(answer) => answers.push(CloseAnswer { measure: measure.code.clone(), answer }),
                    None => errors.add(
                        &field,
                        format!("Choose an answer for “{}” (not asked if it was not asked)", measure.label),
                    ),
                }
            }
            if !errors.is_empty() {
                return Err(Failure::Form(errors));
            }
            let request = CloseRequest { reason, answers, when: when("close")? };
            desk.run(service, id, request).await.map_err(refused_at("close", "close-reason"))
        }
        // The risk assessment and the kinds' own actions (MARAC, criminal-justice stages, orders, RJ).
        _ => match kinds::perform(kinds::Posted { desk, service, id, action, form }).await {
            Some(done) => done,
            None => Err(Failure::Broken(ApiError::not_found("There is no such action."))),
        },
    }
}

//! Pages for specialist caseworkers and service managers: each service's caseload (the manager's view of every
//! case, the unallocated referrals, one caseworker's caseload, the reviews due), a page per case with the
//! safe-contact panel above every action, the actions its stage and its service's kind allow, and its timeline;
//! and a page for a referral made directly to the service. Forms post and redirect, or show the same page with an
//! error summary naming the rule, as the hub's pages do (ADR 5).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use casetrack_people::person::{DetailsInput, parse_details};
use casetrack_people::records::{PersonRecord, details};
use casetrack_platform::access::Routes;
use casetrack_platform::catalogue::{ServiceDefinition, ServiceKind};
use casetrack_platform::clock::rj_information_due;
use casetrack_platform::codes::{code, parse};
use casetrack_platform::command::{Aggregate as _, CommandError, CommandMeta, execute};
use casetrack_platform::http::ApiError;
use casetrack_platform::pages::{
    Failure, FormData, FormErrors, checkboxes, failure_page, invalid, local_time, long_date, radios, refused, respond,
    safe_contact_panel, see_other, staff_page, summary_list, tag, text_input, textarea, words,
};
use casetrack_proto::contact::{AttemptOutcome, ContactChannel, OutcomeAnswer, SafeContact, Safety};
use casetrack_proto::profile::YesNoUnknown;
use casetrack_proto::specialist::{
    CaseOpened, CaseOrigin, CjsStage, ClosureReason, HighRiskReason, RiskChecklist, RiskLevel, RjForm, RjOutcome,
    SpecialistEvent, SpoStatus,
};
use casetrack_proto::{CaseId, CommandId, Envelope, EventContract as _, PersonId};
use chrono::{NaiveDate, NaiveTime, TimeZone as _, Utc};
use maud::{Markup, html};
use uuid::Uuid;

use crate::api::{
    AttemptRequest, CaseWritten, CaseworkerRequest, CjsRequest, CloseAnswer, CloseRequest, DateRequest, Desk,
    InterventionRequest, ListParams, NoteRequest, OffenderConsentRequest, ReasonRequest, RiskRequest, RjFormRequest,
    RjOutcomeRequest, SpoRequest, SuitabilityRequest, TextRequest, caseload,
};
use crate::case::{self, Case, CaseStage, DASH_QUESTIONS, SDASH_QUESTIONS};

/// The services' pages (state added by the caller).
pub fn routes() -> Routes<Desk> {
    use casetrack_platform::access::Permission::{Casework, ServiceManagement, ServiceWork};
    Routes::new()
        .route("/services", Casework, get(index))
        .person("/services/{service}", ServiceWork, get(caseload_page))
        .route("/services/{service}/refer", ServiceWork, get(refer_form).post(refer))
        .person("/services/{service}/cases/{case_id}", ServiceWork, get(case_page))
        .route("/services/{service}/cases/{case_id}/{action}", ServiceWork, axum::routing::post(act))
        .route("/services/{service}/break-glass", ServiceManagement, get(break_glass_list))
}

/// The service manager's list of break-glass openings of the service's cases.
async fn break_glass_list(State(desk): State<Desk>, Path(service): Path<String>) -> Response {
    let title = format!("{} cases opened outside a role", service.to_uppercase());
    casetrack_platform::pages::break_glass_page(&desk.context().db, &service, &title).await
}

fn status_tag(status: &str) -> Markup {
    let colour = match status {
        "awaiting_decision" => "yellow",
        "awaiting_contact" => "blue",
        "engaged" => "green",
        "declined_by_service" | "support_declined" => "orange",
        _ => "grey",
    };
    tag(&words(status), colour)
}

async fn index(State(desk): State<Desk>) -> Response {
    let services: Vec<&ServiceDefinition> =
        desk.context().catalogue.all().iter().filter(|s| desk.service(s.code.as_str()).is_ok()).collect();
    respond(
        StatusCode::OK,
        staff_page(
            "Specialist services",
            html! {
                h1.app-heading-l { "Specialist services" }
                @if services.is_empty() { p { "No specialist service runs here." } }
                ul {
                    @for service in services {
                        li { a href={ "/services/" (service.code) } { (service.name) } }
                    }
                }
            },
        ),
    )
}

const VIEWS: [(&str, &str); 4] =
    [("all", "Every case"), ("unallocated", "Unallocated"), ("mine", "My caseload"), ("reviews-due", "Reviews due")];

async fn caseload_page(
    State(desk): State<Desk>,
    Path(service): Path<String>,
    Query(params): Query<ListParams>,
) -> Response {
    let definition = match desk.service(&service) {
        Ok(definition) => definition.clone(),
        Err(error) => return failure_page(&error),
    };
    let view = params.view.clone().unwrap_or_else(|| "all".into());
    let needs_name = view == "mine" && params.caseworker.as_deref().unwrap_or("").trim().is_empty();
    let cases = if needs_name { Ok(Vec::new()) } else { caseload(&desk, &service, &params).await };
    let cases = match cases {
        Ok(cases) => cases,
        Err(error) => return failure_page(&error),
    };
    let body = html! {
        span.app-caption { (definition.name) }
        h1.app-heading-l { "Caseload" }
        p { a.app-button href={ "/services/" (definition.code) "/refer" } { "Record a direct referral" } }
        ul.app-tabs {
            @for (code, label) in VIEWS {
                li { a href={ "/services/" (definition.code) "?view=" (code) } aria-current=[(code == view).then_some("page")] { (label) } }
            }
        }
        @if view == "mine" {
            form.app-filter method="get" action={ "/services/" (definition.code) } {
                input type="hidden" name="view" value="mine";
                div.app-form-group {
                    label.app-label for="caseworker" { "Your user name" }
                    input.app-input #caseworker name="caseworker" type="text" value=(params.caseworker.as_deref().unwrap_or(""));
                }
                button.app-button.app-button--secondary type="submit" { "Show" }
            }
        }
        @if cases.is_empty() {
            p { "No cases here." }
        } @else {
            table.app-table {
                thead { tr {
                    th scope="col" { "Opened" } th scope="col" { "From" } th scope="col" { "Status" }
                    th scope="col" { "Caseworker" } th scope="col" { "Risk" } th scope="col" { "Review due" } th scope="col" { "Flags" }
                } }
                tbody {
                    @for case in &cases {
                        tr {
                            td { a href={ "/services/" (definition.code) "/cases/" (case.case_id) } { (opened(&case.opened_at)) } }
                            td { (words(&case.origin)) }
                            td { (status_tag(&case.status)) }
                            td { (case.caseworker.as_deref().unwrap_or("Unallocated")) }
                            td { (case.risk_level.as_deref().map(words).unwrap_or_default()) }
                            td { (case.review_due.as_deref().unwrap_or("")) }
                            td {
                                @if case.enhanced_rights { (tag("Enhanced rights", "purple")) " " }
                                @if case.domestic_abuse { (tag("Domestic abuse", "red")) " " }
                                @if case.age_band.as_deref() == Some("under_18") { (tag("Under 18", "blue")) }
                            }
                        }
                    }
                }
            }
        }
    };
    respond(StatusCode::OK, staff_page(&format!("{} caseload", definition.name), body))
}

fn opened(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|at| local_time(at.with_timezone(&Utc)))
        .unwrap_or_else(|_| at.to_owned())
}

/// A case as read from its events.
struct Loaded {
    state: Case,
    opened: CaseOpened,
    /// The day the referral was received (the case opened).
    received_on: NaiveDate,
    history: Vec<(Envelope, SpecialistEvent)>,
}

async fn load(desk: &Desk, definition: &ServiceDefinition, case_id: CaseId) -> Result<Loaded, ApiError> {
    let envelopes = desk.context().log.read_stream(&Case::stream_id(case_id.0)).await.map_err(ApiError::unavailable)?;
    let mut state = Case::default();
    let mut opened = None;
    let mut history = Vec::new();
    for envelope in envelopes {
        let event = SpecialistEvent::from_data(&envelope.event_type, envelope.schema_version, &envelope.data)
            .map_err(ApiError::unavailable)?;
        state = state.apply(&event);
        if let SpecialistEvent::CaseOpened(e) = &event {
            opened = Some((e.clone(), envelope.occurred_at.date_naive()));
        }
        history.push((envelope, event));
    }
    // Another service's case is not found here, as on the API.
    match opened {
        Some((opened, received_on)) if opened.service == definition.code => {
            Ok(Loaded { state, opened, received_on, history })
        }
        _ => Err(ApiError::not_found("There is no such case in this service.")),
    }
}

/// The page reads the case's own events from the log, so it never waits for a read model: a `wait_for` in the
/// address after a save is not needed here.
async fn case_page(State(desk): State<Desk>, Path((service, case_id)): Path<(String, CaseId)>) -> Response {
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
    let mut timeline = Vec::new();
    for (envelope, event) in loaded.history.iter().rev() {
        let (title, detail) = describe(desk, &definition, &loaded.opened.person_id, envelope, event).await;
        timeline.push((local_time(envelope.occurred_at), title, detail));
    }
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
        span.app-caption { (definition.name) " case" }
        h1.app-heading-l { (heading) }
        p {
            (status_tag(case_status)) " "
            @if loaded.opened.enhanced_rights { (tag("Enhanced rights", "purple")) " " }
            @if loaded.opened.domestic_abuse { (tag("Domestic abuse", "red")) " " }
            @if let Some(risk) = open.and_then(|o| o.risk) { (tag(&format!("{} risk", words(&code(&risk))), "orange")) }
        }
        @if definition.kind == ServiceKind::Rj && open.is_some_and(|o| o.rj.informed_on.is_none()) {
            @let due = rj_information_due(loaded.received_on, loaded.opened.enhanced_rights);
            p {
                "Victims' Code: information about restorative justice is due by " strong { (long_date(due)) } "."
                @if Utc::now().date_naive() > due { " " (tag("Overdue", "red")) }
            }
        }
        @if let Some(open) = open {
            (safe_contact_panel(&open.safe_contact, &open.safe_times, loaded.opened.domestic_abuse, None,
                "tell the referrer there is no safe way to reach the victim"))
        }
        div.app-grid {
            div.app-column-two-thirds {
                h2.app-heading-m { "Actions" }
                (actions(&definition, case_id, &loaded.state, errors))
                h2.app-heading-m #timeline { "Timeline" }
                ol.app-timeline {
                    @for (when, title, detail) in &timeline {
                        li.app-timeline__item {
                            p.app-timeline__title { (title) }
                            p.app-timeline__meta { (when) }
                            @if let Some(detail) = detail { p.app-timeline__detail { (detail) } }
                        }
                    }
                }
            }
            div.app-column-one-third {
                h2.app-heading-m { "Person" }
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
                h2.app-heading-m { "Case" }
                (summary_list([
                    ("Referred by", html! { @match &loaded.opened.origin {
                        CaseOrigin::Hub { .. } => "The Victim and Witness Hub",
                        CaseOrigin::Direct { source } => (words(source)),
                    } }),
                    ("Caseworker", html! { (caseworker_of(&loaded.state).map_or("Unallocated".to_owned(), |c| c.to_string())) }),
                ]))
            }
        }
    };
    respond(status, staff_page(&heading, body))
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

/// One timeline entry; sealed plans and notes are opened with the person's key for the caseworker.
async fn describe(
    desk: &Desk,
    definition: &ServiceDefinition,
    person: &PersonId,
    envelope: &Envelope,
    event: &SpecialistEvent,
) -> (String, Option<String>) {
    use SpecialistEvent as E;
    let open = |sealed| async move {
        match desk.context().vault.open::<String>(*person, envelope.id, sealed).await {
            Ok(text) => text,
            Err(_) => "(erased)".to_owned(),
        }
    };
    match event {
        E::CaseOpened(_) => ("Referral received".into(), None),
        E::ReferralAccepted(_) => ("Referral accepted".into(), None),
        E::ReferralDeclinedByService(e) => ("Declined by the service".into(), Some(e.reason.clone())),
        E::ReferralWithdrawn(e) => ("Withdrawn by the referrer".into(), Some(e.reason.clone())),
        E::CaseAllocated(e) => (format!("Allocated to {}", e.caseworker), None),
        E::CaseSafeContactUpdated(_) => ("Safe-contact rules changed".into(), None),
        E::CaseContactAttemptRecorded(e) => (
            format!("Contact attempt by {}: {}", e.channel.label(), words(&code(&e.outcome)).to_lowercase()),
            Some(format!("Made {} ({}).", local_time(e.attempted_at), e.time_band.label())),
        ),
        E::CaseUnableToContactRecorded(e) => {
            ("Recorded as unable to contact".into(), Some(format!("{} attempts.", e.attempts)))
        }
        E::CaseSupportDeclined(e) => ("Support declined by the victim".into(), Some(e.reason.clone())),
        E::RiskAssessed(e) => (
            format!(
                "Risk assessed: {}{}",
                words(&code(&e.level)).to_lowercase(),
                if e.at_closure { " (at closure)" } else { "" }
            ),
            Some(format!(
                "{} score {}{}.",
                match e.checklist {
                    RiskChecklist::Dash => "DASH",
                    RiskChecklist::SDash => "S-DASH",
                    RiskChecklist::Professional => "Professional judgement,",
                },
                e.score,
                e.review_on.map(|d| format!("; review by {}", long_date(d))).unwrap_or_default()
            )),
        ),
        E::MaracReferred(e) => ("Referred to MARAC".into(), Some(long_date(e.referred_on))),
        E::MaracHeard(e) => (
            if e.repeat { "Heard at MARAC (repeat within 12 months)" } else { "Heard at MARAC" }.into(),
            Some(long_date(e.heard_on)),
        ),
        E::PlanRecorded(e) => ("Plan recorded".into(), Some(open(&e.plan).await)),
        E::InterventionRecorded(e) => (
            format!("Intervention: {}", words(&e.need).to_lowercase()),
            Some(format!("{}, {} minutes.", long_date(e.held_on), e.minutes)),
        ),
        E::CaseNoteAdded(e) => {
            (if e.restricted { "Restricted note" } else { "Note" }.into(), Some(open(&e.note).await))
        }
        E::CaseClosed(e) => (
            format!("Closed: {}", words(&code(&e.reason)).to_lowercase()),
            Some(
                e.answers
                    .iter()
                    .map(|a| {
                        let measure = definition.outcome_measures.iter().find(|m| m.code == a.measure);
                        let label = measure.map_or(a.measure.as_str(), |m| m.label.as_str());
                        format!("{label}: {}", words(&code(&a.answer)).to_lowercase())
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        E::CaseReopened(e) => ("Re-opened".into(), Some(e.reason.clone())),
        E::CjsStageRecorded(e) => {
            (format!("Criminal justice: {}", words(&code(&e.stage)).to_lowercase()), Some(long_date(e.on)))
        }
        E::SpoRecorded(e) => (format!("Stalking Protection Order {}", code(&e.status)), Some(long_date(e.on))),
        E::RjInformationGiven(e) => ("Information about restorative justice given".into(), Some(long_date(e.on))),
        E::RjSuitabilityAssessed(e) => (
            if e.suitable { "Restorative justice suitable" } else { "Restorative justice not suitable" }.into(),
            Some(e.reason.clone()),
        ),
        E::OffenderConsentRecorded(e) => (
            if e.consents { "The offender agreed to take part" } else { "The offender did not agree to take part" }
                .into(),
            None,
        ),
        E::RjFormAgreed(e) => (format!("Form agreed: {}", words(&code(&e.form)).to_lowercase()), None),
        E::RjConcluded(e) => (
            format!("Restorative justice {}", words(&code(&e.outcome)).to_lowercase()),
            e.satisfaction.map(|s| format!("Satisfaction {s} of 5.")),
        ),
    }
}

fn form(
    definition: &ServiceDefinition,
    case_id: CaseId,
    action: &str,
    title: &str,
    submit: &str,
    fields: Markup,
) -> Markup {
    html! {
        section.app-action #{ "action-" (action) } {
            h3.app-heading-s { (title) }
            form method="post" action={ "/services/" (definition.code) "/cases/" (case_id) "/" (action) } novalidate {
                (casetrack_platform::access::csrf_field())
                (fields)
                button.app-button type="submit" { (submit) }
            }
        }
    }
}

const YES_NO_UNKNOWN: [(&str, &str); 3] = [("yes", "Yes"), ("no", "No"), ("unknown", "Not known")];

fn actions(definition: &ServiceDefinition, case_id: CaseId, state: &Case, errors: &FormErrors) -> Markup {
    let f = |action: &str, title: &str, submit: &str, fields: Markup| {
        form(definition, case_id, action, title, submit, fields)
    };
    let today = Utc::now().with_timezone(&chrono_tz::Europe::London).format("%Y-%m-%d").to_string();
    let now = Utc::now().with_timezone(&chrono_tz::Europe::London).format("%H:%M").to_string();
    let Case::Open(open) = state else {
        let reopenable = case::reopen(state, case_id, "probe").is_ok();
        return html! {
            @if reopenable {
                (f("reopen", "Re-open the case", "Re-open", textarea("reopen-reason", "Why is the case re-opened?", None, "", errors)))
            } @else { p { "This case takes no more work." } }
            (f("note", "Add a note", "Save note", note_fields(errors)))
        };
    };
    let channels: Vec<(&str, &str)> = ContactChannel::ALL
        .iter()
        .filter(|c| open.safe_contact.safety(**c) != Safety::Unsafe)
        .map(|c| (c.code(), c.label()))
        .collect();
    let kind = definition.kind;
    let checklist_answers = |name: &str, questions: usize| {
        html! {
            @for n in 1..=questions {
                div.app-inline-radios { (radios(&format!("{name}-{n}"), &format!("Question {n}"), &YES_NO_UNKNOWN, Some("no"), errors)) }
            }
        }
    };
    html! {
        @match open.stage {
            CaseStage::AwaitingDecision => {
                (f("accept", "Accept the referral", "Accept", html! { p { "The service takes this referral on." } }))
                (f("decline", "Decline the referral", "Decline", textarea("decline-reason", "Why does the service decline it?", None, "", errors)))
            }
            CaseStage::AwaitingContact | CaseStage::Engaged => {
                (f("attempt", "Record a contact attempt", "Save attempt", html! {
                    (radios("attempt-channel", "How did you try?", &channels, None, errors))
                    (text_input("attempt-date", "Date", Some("YYYY-MM-DD"), &today, errors))
                    (text_input("attempt-time", "Time (UK)", Some("24-hour clock"), &now, errors))
                    (radios("attempt-outcome", "What happened?", &[("reached", "Spoke to the victim"), ("no_answer", "No answer"),
                        ("voicemail_left", "Left a voicemail"), ("wrong_number", "Wrong number"), ("unsafe", "Unsafe: someone else answered")], None, errors))
                }))
                @if open.stage == CaseStage::AwaitingContact {
                    (f("unable", "Unable to contact", "Record unable to contact", html! {
                        p { "Allowed once " (definition.attempt_rule.attempts) " unsuccessful attempts in "
                            (definition.attempt_rule.distinct_bands) " different times of day were made." }
                    }))
                }
                @if open.stage == CaseStage::Engaged {
                    @if matches!(kind, ServiceKind::Idva | ServiceKind::Stalking) {
                        @let (checklist, questions) = if kind == ServiceKind::Idva { ("dash", DASH_QUESTIONS) } else { ("s_dash", SDASH_QUESTIONS) };
                        (f("risk", "Risk assessment", "Save assessment", html! {
                            input type="hidden" name="risk-checklist" value=(checklist);
                            details { summary { "Checklist answers (" (questions) " questions)" } (checklist_answers("risk-q", questions)) }
                            (radios("risk-level", "Risk level", &[("standard", "Standard"), ("medium", "Medium"), ("high", "High")], Some("standard"), errors))
                            (checkboxes("risk-reasons", "If high below the score, why?", None, &[("professional_judgement", "Professional judgement", false),
                                ("escalation", "Escalation", false), ("repeat", "Repeat", false)], errors))
                            (text_input("risk-review", "Review by (optional)", Some("YYYY-MM-DD"), "", errors))
                            (checkboxes("risk-closure", "Closing assessment", None, &[("yes", "This is the assessment before closing the case", false)], errors))
                        }))
                    }
                    @if kind == ServiceKind::Idva {
                        @match open.marac {
                            case::Marac::Referred(_) => (f("marac-heard", "MARAC hearing", "Record hearing", text_input("marac-date", "Date heard", Some("YYYY-MM-DD"), &today, errors))),
                            _ => (f("marac-referral", "Refer to MARAC", "Record referral", text_input("marac-date", "Date referred", Some("YYYY-MM-DD"), &today, errors))),
                        }
                    }
                    @if kind == ServiceKind::Isva {
                        @let stages: Vec<(String, String)> = [CjsStage::NotReported, CjsStage::Reported, CjsStage::UnderInvestigation, CjsStage::Charged,
                            CjsStage::Trial, CjsStage::Verdict, CjsStage::NoFurtherAction].iter().map(|s| (code(s), words(&code(s)))).collect();
                        @let options: Vec<(&str, &str)> = stages.iter().map(|(c, l)| (c.as_str(), l.as_str())).collect();
                        (f("cjs", "Criminal-justice stage", "Save stage", html! {
                            (radios("cjs-stage", "Stage reached", &options, None, errors))
                            (text_input("cjs-date", "On", Some("YYYY-MM-DD"), &today, errors))
                        }))
                    }
                    @if kind == ServiceKind::Stalking {
                        (f("spo", "Stalking Protection Order", "Save", html! {
                            (radios("spo-status", "Status", &[("applied", "Applied for"), ("granted", "Granted"), ("refused", "Refused")], None, errors))
                            (text_input("spo-date", "On", Some("YYYY-MM-DD"), &today, errors))
                        }))
                    }
                    @if kind == ServiceKind::Rj { (rj_actions(definition, case_id, open, errors, &today)) }
                    (f("intervention", "Record an intervention", "Save intervention", html! {
                        @let needs: Vec<(&str, &str)> = definition.need_categories.iter().map(|c| (c.code.as_str(), c.label.as_str())).collect();
                        (radios("intervention-need", "Need addressed", &needs, None, errors))
                        (text_input("intervention-date", "Date", Some("YYYY-MM-DD"), &today, errors))
                        (text_input("intervention-minutes", "Minutes", None, "", errors))
                    }))
                    (f("plan", "Safety or support plan", "Save plan", html! {
                        (textarea("plan-text", "Plan", Some("Kept encrypted."), "", errors))
                        (text_input("plan-review", "Review by (optional)", Some("YYYY-MM-DD"), "", errors))
                    }))
                    (f("close", "Close the case", "Close case", html! {
                        (radios("close-reason", "Why is it closing?", &[("support_completed", "Support completed"), ("disengaged_later", "The victim stopped engaging"),
                            ("transferred_out", "Transferred to another service"), ("moved_away", "Moved away")], None, errors))
                        p.app-hint { "Outcome measures (" (definition.measures_version) ")" }
                        @for measure in &definition.outcome_measures {
                            (radios(&format!("close-{}", measure.code), &measure.label, &[("improved", "Improved"), ("no_change", "No change"),
                                ("worse", "Worse"), ("not_asked", "Not asked")], None, errors))
                        }
                    }))
                    (f("support-declined", "Support declined by the victim", "Record", textarea("declined-reason", "Why?", None, "", errors)))
                }
            }
        }
        (casetrack_platform::pages::safe_contact_form(&format!("/services/{}/cases/{case_id}/safe-contact", definition.code),
            &open.safe_contact, &open.safe_times, None, errors))
        (f("allocate", "Allocate to a caseworker", "Allocate", text_input("allocate-caseworker", "Caseworker's user name", None, "", errors)))
        (f("note", "Add a note", "Save note", note_fields(errors)))
        (f("withdraw", "Withdrawn by the referrer", "Record withdrawal", textarea("withdraw-reason", "Why was it withdrawn?", None, "", errors)))
    }
}

fn note_fields(errors: &FormErrors) -> Markup {
    html! {
        (textarea("note-text", "Note", Some("Kept encrypted."), "", errors))
        (checkboxes("note-restricted", "Restricted", None, &[("yes", "May be withheld from a subject-access request after review", false)], errors))
    }
}

fn rj_actions(
    definition: &ServiceDefinition,
    case_id: CaseId,
    open: &case::OpenCase,
    errors: &FormErrors,
    today: &str,
) -> Markup {
    let f = |action: &str, title: &str, submit: &str, fields: Markup| {
        form(definition, case_id, action, title, submit, fields)
    };
    let rj = &open.rj;
    html! {
        @if rj.concluded {
            p { "The restorative process has concluded." }
        } @else if rj.informed_on.is_none() {
            (f("rj-information", "Information about restorative justice", "Record", text_input("rj-date", "Given on", Some("YYYY-MM-DD"), today, errors)))
        } @else {
            @if rj.suitable.is_none() {
                (f("rj-suitability", "Suitability and risk", "Save", html! {
                    (radios("rj-suitable", "Is restorative justice suitable and safe?", &[("yes", "Yes"), ("no", "No")], None, errors))
                    (textarea("rj-reason", "Why?", None, "", errors))
                }))
            } @else if rj.suitable == Some(true) && rj.offender_consents.is_none() {
                (f("rj-consent", "The offender's consent", "Save", radios("rj-consents", "Did the offender agree to take part?", &[("yes", "Yes"), ("no", "No")], None, errors)))
            } @else if rj.offender_consents == Some(true) && rj.form.is_none() {
                (f("rj-form", "Form agreed", "Save", radios("rj-form-choice", "Which form?", &[("face_to_face_conference", "Face-to-face conference"),
                    ("shuttle_mediation", "Shuttle mediation"), ("indirect_communication", "Indirect communication (letter or recording)")], None, errors)))
            }
            (f("rj-outcome", "Outcome", "Save outcome", html! {
                (radios("rj-outcome-choice", "How did it end?", &[("completed", "Completed"), ("withdrawn_by_victim", "Withdrawn by the victim"),
                    ("withdrawn_by_offender", "Withdrawn by the offender"), ("unsuitable", "Unsuitable")], None, errors))
                (radios("rj-satisfaction", "The victim's satisfaction", &[("5", "5: very satisfied"), ("4", "4"), ("3", "3"), ("2", "2"),
                    ("1", "1: very dissatisfied"), ("", "Not asked")], None, errors))
            }))
        }
    }
}

fn date(form: &FormData, field: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(form.get(field), "%Y-%m-%d")
        .map_err(|_| invalid(field, "Enter the date as YYYY-MM-DD, for example 2026-11-20"))
}

fn optional_date(form: &FormData, field: &str) -> Result<Option<NaiveDate>, Failure> {
    if form.get(field).is_empty() { Ok(None) } else { date(form, field).map(Some) }
}

fn choice<T: serde::de::DeserializeOwned>(form: &FormData, field: &str, message: &str) -> Result<T, Failure> {
    parse(form.get(field)).ok_or_else(|| invalid(field, message))
}

async fn act(
    State(desk): State<Desk>,
    Path((service, case_id, action)): Path<(String, CaseId, String)>,
    form: FormData,
) -> Response {
    let outcome = perform(&desk, &service, case_id, &action, &form).await;
    match outcome {
        Ok(written) => {
            see_other(&format!("/services/{service}/cases/{case_id}?wait_for={}#timeline", written.position))
        }
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
    let reason = |field: &str| ReasonRequest { reason: form.get(field).to_owned() };
    match action {
        "accept" => desk.accept(service, id).await.map_err(refused("action-accept")),
        "decline" => desk.decline(service, id, reason("decline-reason")).await.map_err(refused("decline-reason")),
        "withdraw" => desk.withdraw(service, id, reason("withdraw-reason")).await.map_err(refused("withdraw-reason")),
        "reopen" => desk.reopen(service, id, reason("reopen-reason")).await.map_err(refused("reopen-reason")),
        "support-declined" => {
            desk.support_declined(service, id, reason("declined-reason")).await.map_err(refused("declined-reason"))
        }
        "allocate" => desk
            .allocate(service, id, CaseworkerRequest { caseworker: form.get("allocate-caseworker").to_owned() })
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
            desk.record_attempt(service, id, AttemptRequest { channel, attempted_at, outcome })
                .await
                .map_err(refused("attempt-channel"))
        }
        "unable" => desk.record_unable_to_contact(service, id).await.map_err(refused("action-unable")),
        "safe-contact" => {
            let (safe_contact, safe_times) = casetrack_platform::pages::read_safe_contact(form)?;
            desk.update_safe_contact(service, id, crate::api::SafeContactRequest { safe_contact, safe_times })
                .await
                .map_err(refused("safe-phone"))
        }
        "risk" => {
            let checklist: RiskChecklist = choice(form, "risk-checklist", "Choose the checklist")?;
            let questions = match checklist {
                RiskChecklist::Dash => DASH_QUESTIONS,
                RiskChecklist::SDash => SDASH_QUESTIONS,
                RiskChecklist::Professional => 0,
            };
            let answers: Vec<YesNoUnknown> = (1..=questions)
                .map(|n| parse(form.get(&format!("risk-q-{n}"))).unwrap_or(YesNoUnknown::Unknown))
                .collect();
            let level: RiskLevel = choice(form, "risk-level", "Choose the risk level")?;
            let reasons: Vec<HighRiskReason> = form.all("risk-reasons").iter().filter_map(|r| parse(r)).collect();
            let request = RiskRequest {
                checklist,
                answers,
                level,
                reasons,
                review_on: optional_date(form, "risk-review")?,
                at_closure: form.get("risk-closure") == "yes",
            };
            desk.assess_risk(service, id, request).await.map_err(refused("risk-level"))
        }
        "marac-referral" => {
            let on = date(form, "marac-date")?;
            desk.refer_to_marac(service, id, DateRequest { on }).await.map_err(refused("marac-date"))
        }
        "marac-heard" => {
            let on = date(form, "marac-date")?;
            desk.marac_heard(service, id, DateRequest { on }).await.map_err(refused("marac-date"))
        }
        "cjs" => {
            let stage: CjsStage = choice(form, "cjs-stage", "Choose the stage reached")?;
            let on = date(form, "cjs-date")?;
            desk.record_cjs_stage(service, id, CjsRequest { stage, on }).await.map_err(refused("cjs-stage"))
        }
        "spo" => {
            let status: SpoStatus = choice(form, "spo-status", "Choose the order's status")?;
            let on = date(form, "spo-date")?;
            desk.record_spo(service, id, SpoRequest { status, on }).await.map_err(refused("spo-status"))
        }
        "rj-information" => {
            let on = date(form, "rj-date")?;
            desk.rj_information(service, id, DateRequest { on }).await.map_err(refused("rj-date"))
        }
        "rj-suitability" => {
            let suitable = match form.get("rj-suitable") {
                "yes" => true,
                "no" => false,
                _ => return Err(invalid("rj-suitable", "Choose whether restorative justice is suitable")),
            };
            let request = SuitabilityRequest { suitable, reason: form.get("rj-reason").to_owned() };
            desk.rj_suitability(service, id, request).await.map_err(refused("rj-reason"))
        }
        "rj-consent" => {
            let consents = match form.get("rj-consents") {
                "yes" => true,
                "no" => false,
                _ => return Err(invalid("rj-consents", "Choose whether the offender agreed")),
            };
            desk.rj_offender_consent(service, id, OffenderConsentRequest { consents })
                .await
                .map_err(refused("rj-consents"))
        }
        "rj-form" => {
            let form_taken: RjForm = choice(form, "rj-form-choice", "Choose the form agreed")?;
            desk.rj_form(service, id, RjFormRequest { form: form_taken }).await.map_err(refused("rj-form-choice"))
        }
        "rj-outcome" => {
            let outcome: RjOutcome = choice(form, "rj-outcome-choice", "Choose how it ended")?;
            let satisfaction = form.get("rj-satisfaction").parse::<u8>().ok();
            desk.rj_outcome(service, id, RjOutcomeRequest { outcome, satisfaction })
                .await
                .map_err(refused("rj-outcome-choice"))
        }
        "intervention" => {
            let held_on = date(form, "intervention-date")?;
            let minutes = form
                .get("intervention-minutes")
                .parse::<u32>()
                .map_err(|_| invalid("intervention-minutes", "Enter the length in whole minutes, for example 45"))?;
            let request = InterventionRequest { need: form.get("intervention-need").to_owned(), held_on, minutes };
            desk.record_intervention(service, id, request).await.map_err(refused("intervention-need"))
        }
        "plan" => {
            let request =
                TextRequest { text: form.get("plan-text").to_owned(), review_on: optional_date(form, "plan-review")? };
            desk.record_plan(service, id, request).await.map_err(refused("plan-text"))
        }
        "note" => {
            let request = NoteRequest {
                text: form.get("note-text").to_owned(),
                restricted: form.get("note-restricted") == "yes",
            };
            desk.add_note(service, id, request).await.map_err(refused("note-text"))
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
            desk.close(service, id, CloseRequest { reason, answers }).await.map_err(refused("close-reason"))
        }
        _ => Err(Failure::Broken(ApiError::not_found("There is no such action."))),
    }
}

async fn refer_form(State(desk): State<Desk>, Path(service): Path<String>) -> Response {
    match desk.service(&service) {
        Ok(definition) => respond(StatusCode::OK, refer_page(definition, None, &FormErrors::new(), Uuid::new_v4())),
        Err(error) => failure_page(&error),
    }
}

fn refer_page(
    definition: &ServiceDefinition,
    form: Option<&FormData>,
    errors: &FormErrors,
    submission: Uuid,
) -> Markup {
    let value = |name: &str| form.map_or("", |f| f.get(name)).to_owned();
    let sources: Vec<(&str, &str)> =
        definition.referral_sources.iter().filter(|s| *s != "hub").map(|s| (s.as_str(), s.as_str())).collect();
    let channels: Vec<(&str, &str, bool)> = ContactChannel::ALL.iter().map(|c| (c.code(), c.label(), false)).collect();
    staff_page(
        "Direct referral",
        html! {
            (errors.summary())
            span.app-caption { (definition.name) }
            h1.app-heading-l { "Record a direct referral" }
            form method="post" action={ "/services/" (definition.code) "/refer" } novalidate {
                (casetrack_platform::access::csrf_field())
                input type="hidden" name="submission" value=(submission);
                (radios("source", "Who referred the victim?", &sources, None, errors))
                (text_input("forename", "First name", None, &value("forename"), errors))
                (text_input("surname", "Last name", None, &value("surname"), errors))
                (text_input("date_of_birth", "Date of birth", Some("YYYY-MM-DD"), &value("date_of_birth"), errors))
                (text_input("phone", "Phone number (optional)", None, &value("phone"), errors))
                (text_input("email", "Email address (optional)", None, &value("email"), errors))
                (checkboxes("safe", "Which ways are safe to contact them?", Some("Anything left unticked will not be used."), &channels, errors))
                (checkboxes("flags", "Flags", None, &[("domestic_abuse", "Domestic abuse", false), ("enhanced_rights", "Enhanced rights (Victims' Code)", false)], errors))
                button.app-button type="submit" { "Save referral" }
            }
        },
    )
}

/// Registers the victim and opens the case. Every id derives from the form's submission id, so sending the same
/// form twice (or again after a failure half-way) creates nothing twice.
async fn refer(State(desk): State<Desk>, Path(service): Path<String>, form: FormData) -> Response {
    let definition = match desk.service(&service) {
        Ok(definition) => definition.clone(),
        Err(error) => return failure_page(&error),
    };
    let submission = form.get("submission").parse::<Uuid>().unwrap_or_else(|_| Uuid::new_v4());
    let mut errors = FormErrors::new();
    let source = form.get("source").to_owned();
    if source == "hub" || !definition.referral_sources.contains(&source) {
        errors.add("source", "Choose who referred the victim");
    }
    let input = DetailsInput::from_form(&form);
    let today = Utc::now().date_naive();
    let person = parse_details(&input, today).map_err(|problems| {
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
    let details = match person {
        Ok(details) if errors.is_empty() => details,
        _ => {
            return respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                refer_page(&definition, Some(&form), &errors, submission),
            );
        }
    };
    let flags = form.all("flags");
    let key = format!("specialist direct {submission}");
    let derive = |kind: &str| Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{key} {kind}").as_bytes());
    let (person_id, case_id) = (PersonId(derive("person")), CaseId(derive("case")));
    let now = Utc::now();
    let meta = |kind: &str| {
        CommandMeta::repeatable(CommandId(derive(kind)), case_id.0, casetrack_platform::access::acting(), now)
    };
    match casetrack_people::person::register_sealed(desk.context(), person_id, &details, &meta("register")).await {
        Ok(_) | Err(CommandError::Rejected(casetrack_people::person::PersonRejection::AlreadyRegistered)) => {}
        Err(error) => return failure_page(&ApiError::from(error)),
    }
    let command = CaseOpened {
        case_id,
        service: definition.code.clone(),
        person_id,
        origin: CaseOrigin::Direct { source },
        safe_contact,
        safe_times: Vec::new(),
        domestic_abuse: flags.iter().any(|f| f == "domestic_abuse"),
        enhanced_rights: flags.iter().any(|f| f == "enhanced_rights"),
        age_band: casetrack_proto::profile::AgeBand::at(details.date_of_birth, today),
    };
    match execute::<Case, _>(&desk.context().log, case_id.0, &meta("open"), |state| case::open(state, command.clone()))
        .await
    {
        Ok(executed) => see_other(&format!(
            "/services/{}/cases/{case_id}?wait_for={}",
            definition.code,
            executed.position.map_or(0, |p| p.0)
        )),
        Err(error) => failure_page(&ApiError::from(error)),
    }
}

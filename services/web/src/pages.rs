//! Page kit: server-rendered HTML in the GOV.UK and MoJ design-system patterns caseworkers already know (summary
//! lists, tags, timelines, error summaries, a quick exit on public pages). Pages work without JavaScript; the one
//! script (`/assets/quick-exit.js`) only adds the Escape key and a history-free exit to a plain link.
//!
//! Every page response is `Cache-Control: no-store`: a shared office computer must not keep a victim's page in its
//! cache or its back button.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{DOCTYPE, Markup, html};

use crate::error::ApiError;

/// Where the quick exit goes: a neutral, busy page that gives nothing away.
pub const QUICK_EXIT_URL: &str = "https://www.bbc.co.uk/weather";

/// The staff sections in the header navigation.
/// The menu of a role: where its work is.
pub fn staff_nav(role: &casetrack_proto::Role) -> Vec<(String, String)> {
    use casetrack_proto::Role;
    let link = |label: &str, href: String| (label.to_owned(), href);
    let mut nav = Vec::new();
    match role {
        Role::HubOfficer | Role::HubManager => {
            nav.push(link("Work queues", "/hub".into()));
            nav.push(link("Log an inbound call", "/hub/intake/call".into()));
            nav.push(link("Upload police feed", "/hub/intake/upload".into()));
            nav.push(link("Specialist services", "/services".into()));
            if *role == Role::HubManager {
                nav.push(link("Break-glass", "/hub/break-glass".into()));
                nav.push(link("Figures", "/figures".into()));
            }
        }
        Role::Caseworker(service) | Role::ServiceManager(service) => {
            nav.push(link("Caseload", format!("/services/{service}")));
            if matches!(role, Role::ServiceManager(_)) {
                nav.push(link("Break-glass", format!("/services/{service}/break-glass")));
                nav.push(link("Figures", "/figures".into()));
            }
        }
        Role::Commissioner => nav.push(link("Figures", "/figures".into())),
        Role::Auditor => nav.push(link("Audit trail", "/audit".into())),
        Role::Administrator => nav.push(link("Accounts", "/admin/accounts".into())),
        Role::Public | Role::System => {}
    }
    nav
}

/// A page for staff: header with the signed-in user's menu, main content, footer.
pub fn staff_page(title: &str, body: Markup) -> Markup {
    let principal = crate::principal::current();
    document(
        title,
        html! {
            header.app-header {
                div.app-width {
                    a.app-header__name href="/" { "Casetrack" }
                    span.app-header__service { "Victim and Witness Hub" }
                    @if let Some(principal) = &principal {
                        nav aria-label="Menu" {
                            ul.app-nav {
                                @for (label, href) in staff_nav(&principal.account.role) {
                                    li { a href=(href) { (label) } }
                                }
                                li { a href=(crate::principal::PASSWORD_PATH) { "Password" } }
                                li {
                                    form.app-nav__form method="post" action="/sign-out" {
                                        (crate::principal::csrf_field())
                                        button.app-nav__button type="submit" {
                                            "Sign out " (principal.account.display_name)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            div.app-width { main #main-content role="main" { (body) } }
        },
    )
}

/// A public page: no navigation, a quick-exit button at the top that leaves at once.
pub fn public_page(title: &str, body: Markup) -> Markup {
    document(
        title,
        html! {
            div.app-quick-exit {
                a.app-button.app-button--warning #quick-exit href=(QUICK_EXIT_URL) rel="noreferrer" {
                    "Exit this page"
                }
                p.app-hint { "Leave this site quickly. You can also press the Escape key." }
            }
            header.app-header { div.app-width { span.app-header__name { "Victim and Witness Hub" } } }
            div.app-width { main #main-content role="main" { (body) } }
            script src="/assets/quick-exit.js" {}
        },
    )
}

fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex, nofollow";
                title { (title) " – Casetrack" }
                link rel="stylesheet" href="/assets/casetrack.css";
            }
            body {
                a.app-skip-link href="#main-content" { "Skip to main content" }
                (body)
            }
        }
    }
}

/// An HTML response that no cache keeps.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// After a form is saved: see the page again (303, so a refresh does not post twice). Only a path of this site is
/// followed ([`local_path`]); anything else goes to the home page, so no form field can send someone elsewhere.
pub fn see_other(location: &str) -> Response {
    Redirect::to(local_path(location).unwrap_or("/")).into_response()
}

/// `target` when it is a path of this site (`/hub/referrals/...`), never another site's address. Browsers read
/// `//host`, `/\host` and `\\host` alike as another host, and drop tabs and line breaks before they do.
pub fn local_path(target: &str) -> Option<&str> {
    let mut chars = target.chars();
    let local = chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !target.contains('\\')
        && !target.chars().any(char::is_control);
    local.then_some(target)
}

/// A page for a failure that is ours: what happened, that nothing was saved, and no detail of the cause.
pub fn failure_page(error: &ApiError) -> Response {
    let title = match error.status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::TOO_MANY_REQUESTS => "Too many requests",
        _ => "Sorry, there is a problem",
    };
    respond(
        error.status,
        staff_page(
            title,
            html! {
                h1.app-heading-l { (title) }
                p { (error.message) }
            },
        ),
    )
}

/// What was wrong with a submitted form: each message tied to the field it is about, in form order.
#[derive(Debug, Default)]
pub struct FormErrors {
    items: Vec<(String, String)>,
}

impl FormErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// The single message of a refused command, pointing at the field (or form) it is about.
    pub fn refused(field: &str, error: &ApiError) -> Self {
        let mut errors = Self::new();
        errors.add(field, sentence(&error.message));
        errors
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.items.push((field.to_owned(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn message(&self, field: &str) -> Option<&str> {
        self.items.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    /// The error summary at the top of the page: every problem, each a link to its field.
    pub fn summary(&self) -> Markup {
        html! {
            @if !self.items.is_empty() {
                div.app-error-summary role="alert" tabindex="-1" {
                    h2.app-error-summary__title { "There is a problem" }
                    ul {
                        @for (field, message) in &self.items {
                            li { a href={ "#" (field) } { (message) } }
                        }
                    }
                }
            }
        }
    }

    /// The message shown beside one field, when it has one.
    pub fn inline(&self, field: &str) -> Markup {
        html! {
            @if let Some(message) = self.message(field) {
                p.app-error-message #{ (field) "-error" } { span.app-visually-hidden { "Error: " } (message) }
            }
        }
    }
}

/// A rule's message as a sentence: capital first letter, nothing else changed.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A stored code as words: `violence_with_injury` becomes `Violence with injury`.
pub fn words(code: &str) -> String {
    sentence(&code.replace('_', " "))
}

/// A summary list: key and value rows.
pub fn summary_list<'a>(rows: impl IntoIterator<Item = (&'a str, Markup)>) -> Markup {
    html! {
        dl.app-summary-list {
            @for (key, value) in rows {
                div.app-summary-list__row {
                    dt.app-summary-list__key { (key) }
                    dd.app-summary-list__value { (value) }
                }
            }
        }
    }
}

/// A coloured tag: `colour` is one of grey, green, blue, red, yellow, orange, purple.
pub fn tag(text: &str, colour: &str) -> Markup {
    html! { strong class={ "app-tag app-tag--" (colour) } { (text) } }
}

/// A warning with an icon, read out as a warning.
pub fn warning(text: Markup) -> Markup {
    html! {
        div.app-warning-text {
            span.app-warning-text__icon aria-hidden="true" { "!" }
            strong.app-warning-text__text { span.app-visually-hidden { "Warning: " } (text) }
        }
    }
}

/// A text input with its label, hint and error.
pub fn text_input(id: &str, label: &str, hint: Option<&str>, value: &str, errors: &FormErrors) -> Markup {
    input(id, label, hint, ("text", "off"), value, errors)
}

/// A password input (`autocomplete` current-password or new-password, so password managers help).
pub fn password_input(id: &str, label: &str, hint: Option<&str>, autocomplete: &str, errors: &FormErrors) -> Markup {
    input(id, label, hint, ("password", autocomplete), "", errors)
}

fn input(
    id: &str,
    label: &str,
    hint: Option<&str>,
    (kind, autocomplete): (&str, &str),
    value: &str,
    errors: &FormErrors,
) -> Markup {
    let error = errors.message(id).is_some();
    html! {
        div.app-form-group.app-form-group--error[error] {
            label.app-label for=(id) { (label) }
            @if let Some(hint) = hint { div.app-hint #{ (id) "-hint" } { (hint) } }
            (errors.inline(id))
            input.app-input.app-input--error[error] #(id) name=(id) type=(kind) value=(value) autocomplete=(autocomplete)
                aria-describedby=[hint.map(|_| format!("{id}-hint"))];
        }
    }
}

/// A text area with its label and error.
pub fn textarea(id: &str, label: &str, hint: Option<&str>, value: &str, errors: &FormErrors) -> Markup {
    let error = errors.message(id).is_some();
    html! {
        div.app-form-group.app-form-group--error[error] {
            label.app-label for=(id) { (label) }
            @if let Some(hint) = hint { div.app-hint { (hint) } }
            (errors.inline(id))
            textarea.app-textarea #(id) name=(id) rows="3" { (value) }
        }
    }
}

/// One radio group: `(value, label)` options, `checked` naming the one chosen (if any).
pub fn radios(
    name: &str,
    legend: &str,
    options: &[(&str, &str)],
    checked: Option<&str>,
    errors: &FormErrors,
) -> Markup {
    let options: Vec<(&str, &str, bool)> =
        options.iter().map(|(value, label)| (*value, *label, checked == Some(*value))).collect();
    choices("radio", name, legend, None, &options, errors)
}

/// A checkbox group: `(value, label, checked)` options.
pub fn checkboxes(
    name: &str,
    legend: &str,
    hint: Option<&str>,
    options: &[(&str, &str, bool)],
    errors: &FormErrors,
) -> Markup {
    choices("checkbox", name, legend, hint, options, errors)
}

/// A fieldset of radios or checkboxes, with its legend, hint and error.
fn choices(
    kind: &str,
    name: &str,
    legend: &str,
    hint: Option<&str>,
    options: &[(&str, &str, bool)],
    errors: &FormErrors,
) -> Markup {
    let error = errors.message(name).is_some();
    html! {
        div.app-form-group.app-form-group--error[error] #(name) {
            fieldset.app-fieldset {
                legend.app-fieldset__legend { (legend) }
                @if let Some(hint) = hint { div.app-hint { (hint) } }
                (errors.inline(name))
                div class=(if kind == "radio" { "app-radios" } else { "app-checkboxes" }) {
                    @for (value, label, checked) in options {
                        div class=(if kind == "radio" { "app-radios__item" } else { "app-checkboxes__item" }) {
                            input #{ (name) "-" (value) } name=(name) type=(kind) value=(value) checked[*checked];
                            label for={ (name) "-" (value) } { (label) }
                        }
                    }
                }
            }
        }
    }
}

/// A date as people in England write it: 22 November 2026.
pub fn long_date(day: NaiveDate) -> String {
    day.format("%-d %B %Y").to_string()
}

/// A moment in UK local time: 22 Nov 2026, 10:15.
pub fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::London).format("%-d %b %Y, %H:%M").to_string()
}

/// The fields of a submitted form, in order, repeated names kept (checkbox groups).
#[derive(Debug, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of a field, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.trim())
    }

    /// Every value of a field (a checkbox group).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.trim().to_owned()).collect()
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|_| failure_page(&ApiError::bad_request("The form could not be read. Please try again.")))?;
        Ok(Self(fields))
    }
}

/// A CSS class-safe value: codes are already lowercase ASCII; anything else becomes `other`.
pub fn css_code(code: &str) -> &str {
    if code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') { code } else { "other" }
}

/// Everything someone must see before contacting a victim, above every contact action: the caution, the channels
/// not to use (Casetrack refuses them), the safe times, a domestic-abuse warning, what is safe and what is not known.
/// `no_route` says what to do when no channel is usable.
pub fn safe_contact_panel(
    rules: &casetrack_proto::contact::SafeContact,
    safe_times: &[casetrack_proto::contact::TimeBand],
    domestic_abuse: bool,
    caution: Option<&str>,
    no_route: &str,
) -> Markup {
    use casetrack_proto::contact::{ContactChannel, Safety};
    let of = |safety| -> Vec<&str> {
        ContactChannel::ALL.iter().filter(|c| rules.safety(**c) == safety).map(|c| c.label()).collect()
    };
    let (unsafe_channels, unknown, safe) = (of(Safety::Unsafe), of(Safety::Unknown), of(Safety::Safe));
    html! {
        div.app-safety-panel #safe-contact aria-labelledby="safe-contact-title" {
            h2.app-heading-m #safe-contact-title { "Safe contact" }
            @if let Some(caution) = caution {
                (warning(html! { "Caution: " (caution) }))
            }
            @if !unsafe_channels.is_empty() {
                (warning(html! { "Do not use: " (unsafe_channels.join(", ")) ". Casetrack refuses these." }))
            }
            @if !safe_times.is_empty() {
                (warning(html! {
                    "Phone or visit only in the " (safe_times.iter().map(|b| b.label()).collect::<Vec<_>>().join(" or ")) "."
                }))
            }
            @if domestic_abuse {
                (warning(html! { "Domestic abuse: someone else may answer the phone or read messages. If anyone else answers, end the call and record the attempt as unsafe." }))
            }
            @if !safe.is_empty() { p { "Safe: " (safe.join(", ")) "." } }
            @if !unknown.is_empty() { p { "Not known to be safe (check with the victim first): " (unknown.join(", ")) "." } }
            @if rules.no_usable_channel() {
                p { strong { "No channel is safe to use: " (no_route) "." } }
            }
        }
    }
}

/// Why a submitted form did not save.
#[derive(Debug)]
pub enum Failure {
    /// Shown on the form: the rules or the input said no.
    Form(FormErrors),
    /// Not the form's fault: a missing record (404) or our failure (503), shown as its own page.
    Broken(ApiError),
}

/// A refused command shown against `field`; a missing record or an infrastructure failure stays what it is.
pub fn refused(field: &'static str) -> impl FnOnce(ApiError) -> Failure {
    move |error| {
        if error.status.is_client_error() && error.status != StatusCode::NOT_FOUND {
            Failure::Form(FormErrors::refused(field, &error))
        } else {
            Failure::Broken(error)
        }
    }
}

/// One problem with one field.
pub fn invalid(field: &str, message: &str) -> Failure {
    let mut errors = FormErrors::new();
    errors.add(field, message);
    Failure::Form(errors)
}

/// The form that changes the safe-contact rules as the victim told them: each channel safe, unsafe or not known,
/// the safe times of day, and (where `caution` is `Some`) a caution kept encrypted. Posts to `action`.
pub fn safe_contact_form(
    action: &str,
    rules: &casetrack_proto::contact::SafeContact,
    safe_times: &[casetrack_proto::contact::TimeBand],
    caution: Option<&str>,
    errors: &FormErrors,
) -> Markup {
    use casetrack_proto::contact::{ContactChannel, TimeBand};
    let safety_options = [("safe", "Safe"), ("unsafe", "Unsafe"), ("unknown", "Not known")];
    let times: Vec<(&str, &str, bool)> =
        TimeBand::ALL.iter().map(|band| (band.code(), band.label(), safe_times.contains(band))).collect();
    html! {
        section.app-action #action-safe-contact {
            details open[errors.message("safe-times").is_some()] {
                summary { "Change safe-contact rules (as the victim told you)" }
                form method="post" action=(action) novalidate {
                    (crate::principal::csrf_field())
                    @for channel in ContactChannel::ALL {
                        div.app-inline-radios {
                            (radios(&format!("safe-{}", channel.code()), &sentence(channel.label()),
                                &safety_options, Some(rules.safety(channel).code()), errors))
                        }
                    }
                    (checkboxes("safe-times", "Safe times to phone or visit", Some("Leave all unticked if any time is safe."), &times, errors))
                    @if let Some(caution) = caution {
                        (textarea("safe-caution", "Caution for whoever contacts the victim (optional)",
                            Some("For example: if a man answers, say it is the surgery. Kept encrypted. Leave empty to remove."), caution, errors))
                    }
                    button.app-button type="submit" { "Save safe-contact rules" }
                }
            }
        }
    }
}

/// Reads [`safe_contact_form`]: every channel must be answered; times must be from the list.
pub fn read_safe_contact(
    form: &FormData,
) -> Result<(casetrack_proto::contact::SafeContact, Vec<casetrack_proto::contact::TimeBand>), Failure> {
    use casetrack_proto::contact::{ContactChannel, SafeContact, Safety, TimeBand};
    let mut rules = SafeContact::default();
    for channel in ContactChannel::ALL {
        let field = format!("safe-{}", channel.code());
        match casetrack_eventstore::codes::parse::<Safety>(form.get(&field)) {
            Some(safety) => rules.set(channel, safety),
            None => return Err(invalid(&field, &format!("Choose whether {} is safe", channel.label()))),
        }
    }
    let mut safe_times = Vec::new();
    for band in form.all("safe-times") {
        match casetrack_eventstore::codes::parse::<TimeBand>(&band) {
            Some(band) => safe_times.push(band),
            None => return Err(invalid("safe-times", "Choose times of day from the list")),
        }
    }
    Ok((rules, safe_times))
}

/// The manager's list of break-glass grants on an area's records (`hub`, or a service code): who opened which
/// record outside their role, why, and until when.
pub async fn break_glass_page(db: &casetrack_eventstore::db::ReadDb, area: &str, title: &str) -> Response {
    let grants = match crate::grants::grants_for(db, area).await {
        Ok(grants) => grants,
        Err(error) => return failure_page(&ApiError::unavailable(error)),
    };
    let at = |seconds: i64| DateTime::from_timestamp(seconds, 0).map(local_time).unwrap_or_default();
    let link = |record: &str| {
        if area == "hub" { format!("/hub/referrals/{record}") } else { format!("/services/{area}/cases/{record}") }
    };
    respond(
        StatusCode::OK,
        staff_page(
            title,
            html! {
                h1.app-heading-l { (title) }
                p.app-body { "Each opening was given a reason. Every page opened under it is in the audit trail." }
                @if grants.is_empty() {
                    p.app-body { "No record has been opened outside a role." }
                } @else {
                    table.app-table {
                        thead { tr { th { "Who" } th { "Record" } th { "Reason" } th { "Opened" } th { "Until" } } }
                        tbody {
                            @for grant in &grants {
                                tr {
                                    td { (grant.username) }
                                    td { a.app-link href=(link(&grant.record_id)) { (grant.record_id) } }
                                    td { (grant.reason) }
                                    td { (at(grant.granted_at)) }
                                    td { (at(grant.expires_at)) }
                                }
                            }
                        }
                    }
                }
            },
        ),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_paths_of_this_site_are_followed() {
        for local in ["/", "/hub", "/hub/referrals/01234567-89ab-cdef-0123-456789abcdef?tab=timeline"] {
            assert_eq!(super::local_path(local), Some(local));
        }
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example/01234567-89ab-cdef-0123-456789abcdef",
            "\\\\evil.example",
            "/\t/evil.example",
            "/hub\nLocation: https://evil.example",
            "",
            "hub",
        ] {
            assert_eq!(super::local_path(elsewhere), None, "{elsewhere:?}");
        }
    }
}

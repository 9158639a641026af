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

pub mod assets;

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

/// A page for staff: the GOV.UK header and service navigation with the signed-in user's menu, main content.
pub fn staff_page(title: &str, body: Markup) -> Markup {
    let principal = crate::principal::current();
    let nav = principal.as_ref().map(|p| staff_nav(&p.account.role)).unwrap_or_default();
    document(
        title,
        html! {
            (header())
            @if let Some(principal) = &principal {
                section.govuk-service-navigation aria-label="Service information" data-module="govuk-service-navigation" {
                    div.govuk-width-container {
                        div.govuk-service-navigation__container {
                            span.govuk-service-navigation__service-name {
                                a.govuk-service-navigation__link href="/" { "Victim and Witness Hub" }
                            }
                            nav.govuk-service-navigation__wrapper aria-label="Menu" {
                                button.govuk-service-navigation__toggle.govuk-js-service-navigation-toggle type="button"
                                    aria-controls="navigation" hidden { "Menu" }
                                ul.govuk-service-navigation__list #navigation {
                                    @for (label, href) in &nav {
                                        li.govuk-service-navigation__item {
                                            a.govuk-service-navigation__link href=(href) { (label) }
                                        }
                                    }
                                    li.govuk-service-navigation__item {
                                        a.govuk-service-navigation__link href=(crate::principal::PASSWORD_PATH) { "Password" }
                                    }
                                }
                            }
                            div.app-account {
                                span.app-account__name { (principal.account.display_name) }
                                form.app-sign-out method="post" action="/sign-out" {
                                    (crate::principal::csrf_field())
                                    button.app-sign-out__button type="submit" {
                                        "Sign out" span.govuk-visually-hidden { " " (principal.account.display_name) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            div.govuk-width-container { main.govuk-main-wrapper #main-content { (body) } }
        },
    )
}

/// A public page: no navigation, GOV.UK's "Exit this page" at the top (the Escape key too), which leaves at once.
pub fn public_page(title: &str, body: Markup) -> Markup {
    document(
        title,
        html! {
            (header())
            div.govuk-width-container {
                div.govuk-exit-this-page data-module="govuk-exit-this-page" {
                    a.govuk-button.govuk-button--warning.govuk-exit-this-page__button.govuk-js-exit-this-page-button
                        #quick-exit href=(QUICK_EXIT_URL) role="button" draggable="false" rel="nofollow noreferrer" {
                        span.govuk-visually-hidden { "Emergency" } " Exit this page"
                    }
                }
                p.govuk-hint { "Leave this site quickly: this button, or the Escape key." }
                main.govuk-main-wrapper #main-content { (body) }
            }
            script src="/assets/quick-exit.js" {}
        },
    )
}

/// The GOV.UK header, without the crown: Casetrack is not a service on gov.uk.
fn header() -> Markup {
    html! {
        header.govuk-header data-module="govuk-header" {
            div.govuk-header__container.govuk-width-container {
                div.govuk-header__logo {
                    a.govuk-header__homepage-link href="/" {
                        span.govuk-header__product-name { "Casetrack" }
                    }
                }
            }
        }
    }
}

fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html.govuk-template lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover";
                meta name="robots" content="noindex, nofollow";
                title { (title) " – Casetrack" }
                link rel="icon" href="/assets/images/favicon.svg" type="image/svg+xml";
                @for stylesheet in assets::STYLESHEETS { link rel="stylesheet" href=(stylesheet); }
            }
            body.govuk-template__body {
                a.govuk-skip-link href="#main-content" data-module="govuk-skip-link" { "Skip to main content" }
                (body)
                script type="module" src=(assets::SCRIPT) {}
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
                h1.govuk-heading-l { (title) }
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

    /// Whether any problem is about a field whose id starts with `prefix` (a form's fields share its action's
    /// name as their prefix), so that form's disclosure opens.
    pub fn mentions(&self, prefix: &str) -> bool {
        self.items.iter().any(|(field, _)| field.starts_with(prefix))
    }

    pub fn message(&self, field: &str) -> Option<&str> {
        self.items.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    /// The error summary at the top of the page: every problem, each a link to its field.
    pub fn summary(&self) -> Markup {
        html! {
            @if !self.items.is_empty() {
                div.govuk-error-summary data-module="govuk-error-summary" {
                    div role="alert" {
                        h2.govuk-error-summary__title { "There is a problem" }
                        div.govuk-error-summary__body {
                            ul.govuk-list.govuk-error-summary__list {
                                @for (field, message) in &self.items {
                                    li { a href={ "#" (field) } { (message) } }
                                }
                            }
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
                p.govuk-error-message #{ (field) "-error" } { span.govuk-visually-hidden { "Error: " } (message) }
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

/// A number as people write it: 100,000.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A stored code as words: `violence_with_injury` becomes `Violence with injury`.
pub fn words(code: &str) -> String {
    sentence(&code.replace('_', " "))
}

/// A police self-defined ethnicity code (the 18+1 list) as words: `A1` becomes "Asian or Asian British: Indian".
pub fn ethnicity_label(code: &str) -> String {
    let label = match code {
        "W1" => "White: English, Welsh, Scottish, Northern Irish or British",
        "W2" => "White: Irish",
        "W3" => "White: Gypsy or Irish Traveller",
        "W9" => "White: any other White background",
        "M1" => "Mixed: White and Black Caribbean",
        "M2" => "Mixed: White and Black African",
        "M3" => "Mixed: White and Asian",
        "M9" => "Mixed: any other Mixed or multiple background",
        "A1" => "Asian or Asian British: Indian",
        "A2" => "Asian or Asian British: Pakistani",
        "A3" => "Asian or Asian British: Bangladeshi",
        "A4" => "Asian or Asian British: Chinese",
        "A9" => "Asian or Asian British: any other Asian background",
        "B1" => "Black or Black British: Caribbean",
        "B2" => "Black or Black British: African",
        "B9" => "Black or Black British: any other Black background",
        "O1" => "Other ethnic group: Arab",
        "O9" => "Other ethnic group: any other",
        "NS" => "Not stated",
        other => return other.to_owned(),
    };
    label.to_owned()
}

/// A summary list: key and value rows.
pub fn summary_list<'a>(rows: impl IntoIterator<Item = (&'a str, Markup)>) -> Markup {
    html! {
        dl.govuk-summary-list {
            @for (key, value) in rows {
                div.govuk-summary-list__row {
                    dt.govuk-summary-list__key { (key) }
                    dd.govuk-summary-list__value { (value) }
                }
            }
        }
    }
}

/// A coloured GOV.UK tag: `colour` is one of grey, green, turquoise, blue, light-blue, purple, pink, red, orange,
/// yellow.
pub fn tag(text: &str, colour: &str) -> Markup {
    html! { strong class={ "govuk-tag govuk-tag--" (colour) } { (text) } }
}

/// A warning with an icon, read out as a warning.
pub fn warning(text: Markup) -> Markup {
    html! {
        div.govuk-warning-text {
            span.govuk-warning-text__icon aria-hidden="true" { "!" }
            strong.govuk-warning-text__text { span.govuk-visually-hidden { "Warning: " } (text) }
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
        div.govuk-form-group.govuk-form-group--error[error] {
            label.govuk-label for=(id) { (label) }
            @if let Some(hint) = hint { div.govuk-hint #{ (id) "-hint" } { (hint) } }
            (errors.inline(id))
            input.govuk-input.govuk-input--error[error] #(id) name=(id) type=(kind) value=(value) autocomplete=(autocomplete)
                aria-describedby=[hint.map(|_| format!("{id}-hint"))];
        }
    }
}

/// A text area with its label and error.
pub fn textarea(id: &str, label: &str, hint: Option<&str>, value: &str, errors: &FormErrors) -> Markup {
    let error = errors.message(id).is_some();
    html! {
        div.govuk-form-group.govuk-form-group--error[error] {
            label.govuk-label for=(id) { (label) }
            @if let Some(hint) = hint { div.govuk-hint { (hint) } }
            (errors.inline(id))
            textarea.govuk-textarea #(id) name=(id) rows="3" { (value) }
        }
    }
}

/// A text area with GOV.UK's character count: `max` characters, counted down as the person types (the count is
/// the script's; without it the limit is in the hint and the rule still says no).
pub fn character_count(id: &str, label: &str, hint: &str, value: &str, max: usize, errors: &FormErrors) -> Markup {
    let error = errors.message(id).is_some();
    html! {
        div.govuk-form-group.govuk-character-count.govuk-form-group--error[error] data-module="govuk-character-count"
            data-maxlength=(max) {
            label.govuk-label for=(id) { (label) }
            div.govuk-hint #{ (id) "-hint" } { (hint) }
            (errors.inline(id))
            textarea.govuk-textarea.govuk-js-character-count #(id) name=(id) rows="3"
                aria-describedby={ (id) "-info " (id) "-hint" } { (value) }
            div.govuk-hint.govuk-character-count__message #{ (id) "-info" } { "You can enter up to " (max) " characters" }
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
        div.govuk-form-group.govuk-form-group--error[error] #(name) {
            fieldset.govuk-fieldset {
                legend.govuk-fieldset__legend.govuk-fieldset__legend--s { (legend) }
                @if let Some(hint) = hint { div.govuk-hint { (hint) } }
                (errors.inline(name))
                @let block = if kind == "radio" { "govuk-radios" } else { "govuk-checkboxes" };
                div class={ (block) " " (block) "--small" } data-module=(block) {
                    @for (value, label, checked) in options {
                        div class={ (block) "__item" } {
                            input class={ (block) "__input" } #{ (name) "-" (value) } name=(name) type=(kind) value=(value) checked[*checked];
                            label class={ "govuk-label " (block) "__label" } for={ (name) "-" (value) } { (label) }
                        }
                    }
                }
            }
        }
    }
}

/// A date as people type it: `23/04/1987`, `23-4-1987`, `23 4 1987`, `23.04.87` is not taken (a two-digit year is
/// ambiguous), `2026-12-04` (ISO), or `23 April 1987`; None when it is no real date.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(day);
    }
    for format in ["%d %B %Y", "%d %b %Y"] {
        if let Ok(day) = NaiveDate::parse_from_str(text, format) {
            return Some(day);
        }
    }
    let parts: Vec<&str> = text.split(['/', '-', '.', ' ']).filter(|p| !p.is_empty()).collect();
    let [day, month, year] = parts.as_slice() else { return None };
    if year.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
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
            h2.govuk-heading-m #safe-contact-title { "Safe contact" }
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
        (self::action("safe-contact", "Change safe-contact rules (as the victim told you)", errors.mentions("safe-"), html! {
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
                        (character_count("safe-caution", "Caution for whoever contacts the victim (optional)",
                            "For example: if a man answers, say it is the surgery. Kept encrypted. Leave empty to remove.", caution, 500, errors))
                    }
                    button.govuk-button type="submit" { "Save safe-contact rules" }
                }
        }))
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
                h1.govuk-heading-l { (title) }
                p.govuk-body { "Each opening was given a reason. Every page opened under it is in the audit trail." }
                @if grants.is_empty() {
                    p.govuk-body { "No record has been opened outside a role." }
                } @else {
                    table.govuk-table {
                        thead.govuk-table__head { tr.govuk-table__row { th.govuk-table__header scope="col" { "Who" } th.govuk-table__header scope="col" { "Record" } th.govuk-table__header scope="col" { "Reason" } th.govuk-table__header scope="col" { "Opened" } th.govuk-table__header scope="col" { "Until" } } }
                        tbody.govuk-table__body {
                            @for grant in &grants {
                                tr.govuk-table__row {
                                    td.govuk-table__cell { (grant.username) }
                                    td.govuk-table__cell { a.govuk-link href=(link(&grant.record_id)) { (grant.record_id) } }
                                    td.govuk-table__cell { (grant.reason) }
                                    td.govuk-table__cell { (at(grant.granted_at)) }
                                    td.govuk-table__cell { (at(grant.expires_at)) }
                                }
                            }
                        }
                    }
                }
            },
        ),
    )
}

/// One action of a record's stage, closed until opened (a GOV.UK details disclosure), so the page shows who and
/// what first and every action takes one line; it is open when a problem with its form is being shown.
pub fn action(id: &str, title: &str, open: bool, content: Markup) -> Markup {
    html! {
        details.govuk-details.app-action #{ "action-" (id) } open[open] {
            summary.govuk-details__summary { span.govuk-details__summary-text { (title) } }
            div.govuk-details__text { (content) }
        }
    }
}

/// A record's reference as people say it on the phone: the area and the last eight characters of its id (random
/// in a UUIDv7, so records received in the same second still differ), for example `HUB-3F9A1C2B`. Page titles,
/// lists and the audit trail name records by it, never by the victim; [`reference_suffix`] reads it back.
pub fn reference(area: &str, id: uuid::Uuid) -> String {
    let hex = id.simple().to_string();
    format!("{}-{}", area.to_uppercase(), hex[hex.len() - 8..].to_uppercase())
}

/// The id suffix a typed reference names (`hub-3f9a1c2b`, `3F9A1C2B`): eight hex digits, lowercase.
pub fn reference_suffix(typed: &str) -> Option<String> {
    let last = typed.trim().rsplit('-').next()?.to_lowercase();
    (last.len() == 8 && last.bytes().all(|b| b.is_ascii_hexdigit())).then_some(last)
}

/// The staff of this installation by account, so timelines and lists show "Jo Smith (hub officer)" rather than an
/// id, and allocation is a choice from a list, not a typed user name.
#[derive(Debug, Default, Clone)]
pub struct Staff {
    accounts: Vec<crate::accounts::Account>,
}

impl Staff {
    /// Every account (a few hundred at most: read whole, once per page).
    pub async fn load(db: &casetrack_eventstore::db::ReadDb) -> Result<Self, ApiError> {
        let accounts = crate::accounts::list_accounts(db).await.map_err(ApiError::unavailable)?;
        Ok(Self { accounts })
    }

    /// "Jo Smith (hub officer)" for an actor; the role alone for the system or an account no longer known.
    pub fn actor(&self, actor: &casetrack_proto::Actor) -> String {
        // "a hub officer" / "an IDVA caseworker": without the article beside a name.
        let role = crate::accounts::role_label(&actor.role);
        match actor.user_id.and_then(|id| self.accounts.iter().find(|a| a.account_id == id)) {
            Some(account) => {
                let bare = role.strip_prefix("a ").or_else(|| role.strip_prefix("an ")).unwrap_or(&role);
                format!("{} ({bare})", account.display_name)
            }
            None => role,
        }
    }

    /// The display name of a user name (as allocations store it), or the user name when no account has it.
    pub fn name_of(&self, username: &str) -> String {
        self.accounts
            .iter()
            .find(|a| a.username.as_str() == username)
            .map_or_else(|| username.to_owned(), |a| a.display_name.clone())
    }

    /// The display name of an account id given as text, or None.
    pub fn name_of_id(&self, account_id: &str) -> Option<String> {
        self.accounts.iter().find(|a| a.account_id.to_string() == account_id).map(|a| a.display_name.clone())
    }

    /// The enabled accounts whose role passes `keep`, as (user name, display name), by display name.
    pub fn choices(&self, keep: impl Fn(&casetrack_proto::Role) -> bool) -> Vec<(String, String)> {
        let mut choices: Vec<(String, String)> = self
            .accounts
            .iter()
            .filter(|a| !a.disabled && keep(&a.role))
            .map(|a| (a.username.as_str().to_owned(), a.display_name.clone()))
            .collect();
        choices.sort_by(|a, b| a.1.cmp(&b.1));
        choices
    }
}

/// A select of staff to allocate to: (user name, display name) choices, `current` selected.
pub fn staff_select(
    id: &str,
    label: &str,
    choices: &[(String, String)],
    current: Option<&str>,
    errors: &FormErrors,
) -> Markup {
    let error = errors.message(id).is_some();
    html! {
        div.govuk-form-group.govuk-form-group--error[error] {
            label.govuk-label for=(id) { (label) }
            (errors.inline(id))
            select.govuk-select #(id) name=(id) {
                option value="" { "Choose a person" }
                @for (username, name) in choices {
                    option value=(username) selected[current == Some(username.as_str())] { (name) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_reference_is_read_back_from_what_was_typed() {
        let id = uuid::Uuid::parse_str("0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6").unwrap();
        let reference = super::reference("hub", id);
        assert_eq!(reference, "HUB-D3E4F5A6");
        assert_eq!(super::reference_suffix(&reference).as_deref(), Some("d3e4f5a6"));
        assert_eq!(super::reference_suffix(" d3e4f5a6 ").as_deref(), Some("d3e4f5a6"));
        assert_eq!(super::reference_suffix("AB/123/26"), None);
    }

    #[test]
    fn dates_are_read_as_people_type_them() {
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(super::parse_date("23/04/1987"), day(1987, 4, 23));
        assert_eq!(super::parse_date("2026-12-04"), day(2026, 12, 4));
        assert_eq!(super::parse_date(" 4 12 2026 "), day(2026, 12, 4));
        assert_eq!(super::parse_date("23 April 1987"), day(1987, 4, 23));
        assert_eq!(super::parse_date("31/02/2026"), None);
        assert_eq!(super::parse_date("23/04/87"), None);
    }

    #[test]
    fn numbers_are_written_with_thousands_separators() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1204), "1,204");
        assert_eq!(super::thousands(100_000), "100,000");
    }

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

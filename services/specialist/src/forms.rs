//! The HTML pieces the case page's action forms share, whether the pages draw them or a kind draws its own (in
//! [`crate::kinds`]): an action's form, when its fact happened ([`Dating`]: "When did this happen?" and "Why is this
//! being recorded late?"), and reading a posted form's dates, times and choices (a wrong value shown against its
//! field, a refused time against the date it is about).

use axum::http::StatusCode;
use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_casework::occurred::BackDating;
use casetrack_eventstore::codes::parse;
use casetrack_proto::CaseId;
use casetrack_web::http::ApiError;
use casetrack_web::pages::{Failure, FormData, FormErrors, invalid, textarea};
use chrono::{DateTime, Datelike as _, NaiveDate, NaiveTime, Utc};
use chrono_tz::Europe::London;
use maud::{Markup, html};

use crate::commands::when::{WhenRequest, uk_time};

/// The hint of every date typed in one box.
pub const DATE_HINT: &str = "For example, 23/04/2026";

/// One action on the case page: a titled form posting to `/services/{service}/cases/{case_id}/{action}`.
pub fn action_form(
    definition: &ServiceDefinition,
    case_id: CaseId,
    action: &str,
    title: &str,
    submit: &str,
    fields: Markup,
) -> Markup {
    action_disclosure(definition, case_id, action, title, submit, false, fields)
}

/// One action behind a GOV.UK details disclosure, `open` when a problem with its form is being shown.
pub fn action_disclosure(
    definition: &ServiceDefinition,
    case_id: CaseId,
    action: &str,
    title: &str,
    submit: &str,
    open: bool,
    fields: Markup,
) -> Markup {
    casetrack_web::pages::action(
        action,
        title,
        open,
        html! {
            form method="post" action={ "/services/" (definition.code) "/cases/" (case_id) "/" (action) } novalidate {
                (casetrack_web::access::csrf_field())
                (fields)
                button.govuk-button type="submit" { (submit) }
            }
        },
    )
}

/// Draws one action's form (`action`, title, submit label, fields) on the case being shown.
pub type ActionForm<'a> = dyn Fn(&str, &str, &str, Markup) -> Markup + 'a;

/// A day as people in England and Wales write it (23/04/2026, 23-4-2026, 23.04.2026) or as ISO 8601 (2026-04-23).
pub fn parse_day(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
        .filter(|day| day.year_ce().1 >= 1900)
}

pub fn date(form: &FormData, field: &str) -> Result<NaiveDate, Failure> {
    parse_day(form.get(field))
        .ok_or_else(|| invalid(field, "Enter the date as day, month and year, for example 23/04/2026"))
}

pub fn optional_date(form: &FormData, field: &str) -> Result<Option<NaiveDate>, Failure> {
    if form.get(field).is_empty() { Ok(None) } else { date(form, field).map(Some) }
}

/// What the case page's forms need to say when things happened: the clock and the back-dating window.
#[derive(Debug, Clone, Copy)]
pub struct Dating {
    pub now: DateTime<Utc>,
    pub window: BackDating,
}

impl Dating {
    /// Today in the UK.
    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&London).date_naive()
    }

    /// Today as a date box's default value (23/04/2026).
    pub fn today_text(&self) -> String {
        self.today().format("%d/%m/%Y").to_string()
    }

    /// "When did this happen?" (day, month and year, today unless changed, and an optional time) and "Why is this
    /// being recorded late?", for an action whose form records something from the world.
    pub fn when(&self, action: &str, errors: &FormErrors) -> Markup {
        self.when_as_sent(action, None, errors)
    }

    /// The same showing what was sent, when a form comes back with a problem.
    pub fn when_as_sent(&self, action: &str, sent: Option<&FormData>, errors: &FormErrors) -> Markup {
        let today = self.today();
        // The GOV.UK date input: each part as wide as what it holds (the web kit's `app-date-input` styles).
        let part = |name: &str, label: &str, value: String| {
            let id = format!("{action}-when-{name}");
            let value = sent.map_or(value, |form| form.get(&id).to_owned());
            let width = match name {
                "year" => "govuk-input--width-4",
                "time" => "govuk-input--width-5",
                _ => "govuk-input--width-2",
            };
            html! {
                div.govuk-date-input__item {
                    label.govuk-label.govuk-date-input__label for=(id) { (label) }
                    input class={ "govuk-input govuk-date-input__input " (width) } #(id) name=(id) type="text"
                        inputmode="numeric" value=(value) autocomplete="off";
                }
            }
        };
        let group = format!("{action}-when");
        let error = errors.message(&group).is_some();
        html! {
            div.govuk-form-group.govuk-form-group--error[error] #(group) {
                fieldset.govuk-fieldset role="group" aria-describedby={ (group) "-hint" } {
                    legend.govuk-fieldset__legend.govuk-fieldset__legend--s { "When did this happen?" }
                    div.govuk-hint #{ (group) "-hint" } { "For example, 23 4 2026 and 14:30. Leave the time empty if you do not know it." }
                    (errors.inline(&group))
                    div.govuk-date-input {
                        (part("day", "Day", today.format("%-d").to_string()))
                        (part("month", "Month", today.format("%-m").to_string()))
                        (part("year", "Year", today.format("%Y").to_string()))
                        (part("time", "Time (optional)", String::new()))
                    }
                }
            }
            (self.late_as_sent(action, sent, errors))
        }
    }

    /// "Why is this being recorded late?" alone, for an action whose form asks the date of its fact itself.
    pub fn late(&self, action: &str, errors: &FormErrors) -> Markup {
        self.late_as_sent(action, None, errors)
    }

    fn late_as_sent(&self, action: &str, sent: Option<&FormData>, errors: &FormErrors) -> Markup {
        let hint = format!("Needed only if it happened more than {} days ago.", self.window.days);
        let id = format!("{action}-late-reason");
        let value = sent.map_or("", |form| form.get(&id));
        textarea(&id, "Why is this being recorded late?", Some(&hint), value, errors)
    }
}

/// When the fact of the form posted as `action` happened, from its "When did this happen?" fields: the day (and
/// the time, when given) in UK time; today with no time is now, as the form's default means.
pub fn read_when(form: &FormData, action: &str, now: DateTime<Utc>) -> Result<WhenRequest, Failure> {
    let field = |name: &str| form.get(&format!("{action}-when-{name}")).to_owned();
    let group = format!("{action}-when");
    let (day, month, year) = (field("day"), field("month"), field("year"));
    let late_reason = late_reason(form, action);
    if day.is_empty() && month.is_empty() && year.is_empty() {
        return Ok(WhenRequest { occurred_at: None, late_reason });
    }
    // The whole date typed into one box (23/04/2026 or 2026-04-23) is taken as it was meant.
    let typed: Vec<&String> = [&day, &month, &year].into_iter().filter(|part| !part.is_empty()).collect();
    let day = match typed.as_slice() {
        [whole] => casetrack_web::pages::parse_date(whole),
        _ => casetrack_web::pages::parse_date(&format!("{day}/{month}/{year}")),
    }
    .filter(|day| day.year_ce().1 >= 1900)
    .ok_or_else(|| invalid(&group, "Enter when it happened as a real day, month and year, for example 23 4 2026"))?;
    let time = match field("time").as_str() {
        "" => None,
        text => Some(
            NaiveTime::parse_from_str(text, "%H:%M")
                .map_err(|_| invalid(&group, "Enter the time as HH:MM, for example 14:30"))?,
        ),
    };
    let today = now.with_timezone(&London).date_naive();
    let occurred_at = match time {
        None if day == today => None,
        None => Some(day.format("%Y-%m-%d").to_string()),
        Some(time) => Some(uk_time(day, time).to_rfc3339()),
    };
    Ok(WhenRequest { occurred_at, late_reason })
}

/// The reason given for recording the form posted as `action` late, if any.
pub fn late_reason(form: &FormData, action: &str) -> Option<String> {
    Some(form.get(&format!("{action}-late-reason")).to_owned()).filter(|reason| !reason.is_empty())
}

/// A refused command shown on the form posted as `action`, whose "When did this happen?" fields say when: a refused
/// time against those fields (or the late reason it lacks), any other refusal against `field`; a missing record or
/// our failure stays what it is.
pub fn refused_at(action: &str, field: &str) -> impl FnOnce(ApiError) -> Failure + use<> {
    refused_dated(action, &format!("{action}-when"), field)
}

/// The same for a form that asks the date of its fact itself (`date_field`).
pub fn refused_dated(action: &str, date_field: &str, field: &str) -> impl FnOnce(ApiError) -> Failure + use<> {
    let late_field = format!("{action}-late-reason");
    let (date_field, field) = (date_field.to_owned(), field.to_owned());
    move |error| {
        if !error.status.is_client_error() || error.status == StatusCode::NOT_FOUND {
            return Failure::Broken(error);
        }
        let field = match error.code {
            "late_entry_needs_reason" => late_field,
            "occurred_in_future" | "occurred_before_record_began" | "closed_before_latest" => date_field,
            _ => field,
        };
        Failure::Form(FormErrors::refused(&field, &error))
    }
}

pub fn choice<T: serde::de::DeserializeOwned>(form: &FormData, field: &str, message: &str) -> Result<T, Failure> {
    parse(form.get(field)).ok_or_else(|| invalid(field, message))
}

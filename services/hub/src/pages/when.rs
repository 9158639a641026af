//! "When did this happen?" on every form that records something from the world: a GOV.UK date input (day, month,
//! year) with an optional time, and "Why is this being recorded late?"; [`read_when`] reads them back into the
//! command's `WhenRequest`, and [`refused_at`] shows a refused time against the field it is about.
//!
//! The fields of one form share a prefix: `{prefix}-when-day`, `-when-month`, `-when-year`, `-when-time` and
//! `{prefix}-late-reason`. The date starts as today; a time left empty sends the plain date, which the command
//! takes as now for today and 12:00 (UK) for another day (`values::on_day`): the clock stays in the commands.

use axum::http::StatusCode;
use casetrack_web::http::ApiError;
use casetrack_web::pages::{Failure, FormData, FormErrors, textarea};
use chrono::{DateTime, Datelike as _, NaiveDate, NaiveTime, TimeZone as _, Utc};
use maud::{Markup, html};

use crate::commands::when::WhenRequest;

/// The codes of the time rules: refusals shown against the date (or, for the reason, against the reason).
const TIME_CODES: [&str; 4] =
    ["occurred_in_future", "occurred_before_record_began", "closed_before_latest", "occurred_at_invalid"];
const REASON_CODE: &str = "late_entry_needs_reason";

/// The field a form's date is reported against (the error summary links to its group).
pub fn when_field(prefix: &str) -> String {
    format!("{prefix}-when")
}

/// The field a form's late-entry reason is reported against.
pub fn reason_field(prefix: &str) -> String {
    format!("{prefix}-late-reason")
}

/// The date input, its optional time, and the reason for a late entry; `now` in UK time gives the date's start.
pub fn when_fields(prefix: &str, now: DateTime<Utc>, window_days: u32, errors: &FormErrors) -> Markup {
    let today = now.with_timezone(&chrono_tz::Europe::London).date_naive();
    let field = when_field(prefix);
    let error = errors.message(&field).is_some();
    let part = |name: &str, label: &str, value: String, width: &str| {
        let id = format!("{field}-{name}");
        html! {
            div.govuk-date-input__item {
                div.govuk-form-group {
                    label.govuk-label.govuk-date-input__label for=(id) { (label) }
                    input class={ "govuk-input govuk-date-input__input govuk-input--width-" (width) @if error { " govuk-input--error" } }
                        #(id) name=(id) type="text" inputmode="numeric" value=(value);
                }
            }
        }
    };
    let time = format!("{field}-time");
    html! {
        div.govuk-form-group.govuk-form-group--error[error] #(field) {
            fieldset.govuk-fieldset role="group" aria-describedby={ (field) "-hint" } {
                legend.govuk-fieldset__legend.govuk-fieldset__legend--s { "When did this happen?" }
                div.govuk-hint #{ (field) "-hint" } { "For example, 3 4 2026 (or 03/04/2026 in the day box). Leave the time empty if you do not know it." }
                (errors.inline(&field))
                div.govuk-date-input {
                    (part("day", "Day", today.day().to_string(), "2"))
                    (part("month", "Month", today.month().to_string(), "2"))
                    (part("year", "Year", today.year().to_string(), "4"))
                    div.govuk-date-input__item {
                        div.govuk-form-group {
                            label.govuk-label.govuk-date-input__label for=(time) { "Time (optional)" }
                            input.govuk-input.govuk-date-input__input.govuk-input--width-5 #(time) name=(time) type="text"
                                value="" placeholder="HH:MM";
                        }
                    }
                }
            }
        }
        (textarea(&reason_field(prefix), "Why is this being recorded late?",
            Some(&format!("Needed only for a date more than {window_days} days ago.")), "", errors))
    }
}

/// The date, time and reason posted with a form, as the command takes them; every problem against its field.
pub fn read_when(prefix: &str, form: &FormData) -> Result<WhenRequest, FormErrors> {
    let field = when_field(prefix);
    let value = |name: &str| form.get(&format!("{field}-{name}")).trim().to_owned();
    let late_reason = Some(form.get(&reason_field(prefix)).to_owned()).filter(|reason| !reason.trim().is_empty());
    let (day, month, year, time) = (value("day"), value("month"), value("year"), value("time"));
    let mut errors = FormErrors::new();
    if [&day, &month, &year, &time].iter().all(|part| part.is_empty()) {
        return Ok(WhenRequest { occurred_at: None, late_reason });
    }
    // The whole date typed into one field (23/04/2026 or 2026-04-23) is taken as it was meant.
    let typed: Vec<&String> = [&day, &month, &year].into_iter().filter(|part| !part.is_empty()).collect();
    let date: Option<NaiveDate> = match typed.as_slice() {
        [whole] => casetrack_web::pages::parse_date(whole),
        _ => casetrack_web::pages::parse_date(&format!("{day}/{month}/{year}")),
    };
    let Some(date) = date else {
        errors.add(&field, "Enter a real date, with the day, month and year as numbers, for example 3 4 2026");
        return Err(errors);
    };
    let occurred_at = if time.is_empty() {
        Some(date.format("%Y-%m-%d").to_string())
    } else {
        let local = NaiveTime::parse_from_str(&time.replace('.', ":"), "%H:%M")
            .ok()
            .and_then(|time| chrono_tz::Europe::London.from_local_datetime(&date.and_time(time)).earliest());
        match local {
            Some(at) => Some(at.to_rfc3339()),
            None => {
                errors.add(&field, "Enter the time on the 24-hour clock, for example 18:30, or leave it empty");
                return Err(errors);
            }
        }
    };
    Ok(WhenRequest { occurred_at, late_reason })
}

/// A refused command shown against `field`, or (for a time rule) against the form's date or reason; a missing
/// record or an infrastructure failure stays what it is.
pub fn refused_at(prefix: &'static str, field: &'static str) -> impl FnOnce(ApiError) -> Failure {
    move |error| {
        if !error.status.is_client_error() || error.status == StatusCode::NOT_FOUND {
            return Failure::Broken(error);
        }
        match time_refusal(prefix, &error) {
            Some(errors) => Failure::Form(errors),
            None => Failure::Form(FormErrors::refused(field, &error)),
        }
    }
}

/// A refusal by a time rule, against the date of the form of `prefix` (or its reason, when one is needed).
pub fn time_refusal(prefix: &str, error: &ApiError) -> Option<FormErrors> {
    let field = if error.code == REASON_CODE {
        reason_field(prefix)
    } else if TIME_CODES.contains(&error.code) {
        when_field(prefix)
    } else {
        return None;
    };
    Some(FormErrors::refused(&field, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> FormData {
        FormData(fields.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect())
    }

    #[test]
    fn no_date_is_now_a_date_is_its_day_and_a_time_is_uk_time() {
        assert_eq!(read_when("x", &form(&[])).unwrap().occurred_at, None);
        let old =
            form(&[("x-when-day", "7"), ("x-when-month", "05"), ("x-when-year", "2019"), ("x-late-reason", " paper ")]);
        let read = read_when("x", &old).unwrap();
        assert_eq!(read.occurred_at.as_deref(), Some("2019-05-07"));
        assert_eq!(read.late_reason.as_deref().map(str::trim), Some("paper"));
        let timed =
            form(&[("x-when-day", "7"), ("x-when-month", "5"), ("x-when-year", "2019"), ("x-when-time", "18.30")]);
        assert_eq!(read_when("x", &timed).unwrap().occurred_at.as_deref(), Some("2019-05-07T18:30:00+01:00"));
    }

    #[test]
    fn a_date_that_is_not_real_or_a_bad_time_is_shown_against_the_date() {
        let bad = form(&[("x-when-day", "31"), ("x-when-month", "2"), ("x-when-year", "2026")]);
        assert!(read_when("x", &bad).unwrap_err().message("x-when").unwrap().contains("real date"));
        let bad_time =
            form(&[("x-when-day", "7"), ("x-when-month", "5"), ("x-when-year", "2019"), ("x-when-time", "25:00")]);
        assert!(read_when("x", &bad_time).unwrap_err().message("x-when").unwrap().contains("24-hour"));
    }

    #[test]
    fn a_time_rule_is_shown_against_the_date_and_a_missing_reason_against_the_reason() {
        let shown = |code| match refused_at("x", "x-other")(ApiError::rejected(code, "no")) {
            Failure::Form(errors) => {
                ["x-when", "x-late-reason", "x-other"].into_iter().find(|f| errors.message(f).is_some())
            }
            Failure::Broken(_) => None,
        };
        assert_eq!(shown("occurred_before_record_began"), Some("x-when"));
        assert_eq!(shown("late_entry_needs_reason"), Some("x-late-reason"));
        assert_eq!(shown("channel_unsafe"), Some("x-other"));
    }
}

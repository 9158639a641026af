//! The HTML pieces the case page's action forms share, whether the pages draw them or a kind draws its own (in
//! [`crate::kinds`]): an action's form, and reading a posted form's dates and choices (a wrong value shown against
//! its field).

use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_eventstore::codes::parse;
use casetrack_platform::pages::{Failure, FormData, invalid};
use casetrack_proto::CaseId;
use chrono::NaiveDate;
use maud::{Markup, html};

/// One action on the case page: a titled form posting to `/services/{service}/cases/{case_id}/{action}`.
pub fn action_form(
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

/// Draws one action's form (`action`, title, submit label, fields) on the case being shown.
pub type ActionForm<'a> = dyn Fn(&str, &str, &str, Markup) -> Markup + 'a;

pub fn date(form: &FormData, field: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(form.get(field), "%Y-%m-%d")
        .map_err(|_| invalid(field, "Enter the date as YYYY-MM-DD, for example 2026-11-20"))
}

pub fn optional_date(form: &FormData, field: &str) -> Result<Option<NaiveDate>, Failure> {
    if form.get(field).is_empty() { Ok(None) } else { date(form, field).map(Some) }
}

pub fn choice<T: serde::de::DeserializeOwned>(form: &FormData, field: &str, message: &str) -> Result<T, Failure> {
    parse(form.get(field)).ok_or_else(|| invalid(field, message))
}

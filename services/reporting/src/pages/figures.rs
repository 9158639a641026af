//! The figures page: the period, service and breakdown pickers, and each service's figures.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_web::pages::{FormErrors, failure_page, long_date, respond, staff_page, text_input};
use maud::{Markup, html};

use crate::params::SummaryParams;
use crate::projections::cohort::{DIMENSIONS, dimension_label};
use crate::views::report::{Request, code_monthly, monthly};

use super::common::{FiguresState, commissioner, lag_notice, query_of, report_for, request_of};
use super::sections::{OPEN_DEFINITION, SectionContext, comparison, headlines, service_section};

/// `GET /figures?period=|from=&to=&service=&by=`.
pub async fn figures_page(State(state): State<FiguresState>, Query(params): Query<SummaryParams>) -> Response {
    let mut errors = FormErrors::new();
    let request = match request_of(&params) {
        Ok(request) => Some(request),
        Err(error) => {
            let field = match error.code {
                "period_invalid" => "period",
                "dimension_unknown" => "by",
                "period_reversed" => "to",
                _ if params.from.trim().parse::<chrono::NaiveDate>().is_err() => "from",
                _ => "to",
            };
            errors.add(field, error.message);
            None
        }
    };
    let (report, months, last_year, code_months) = match &request {
        Some(request) => {
            let last = a_year_before(request);
            match (
                report_for(&state, request, false).await,
                monthly(&state.ctx, request).await,
                report_for(&state, &last, false).await,
                code_monthly(&state.ctx, request).await,
            ) {
                (Ok(report), Ok(months), Ok(last_year), Ok(code)) => (Some(report), months, Some(last_year), code),
                (Err(error), _, _, _) | (_, Err(error), _, _) | (_, _, Err(error), _) | (_, _, _, Err(error)) => {
                    return failure_page(&error);
                }
            }
        }
        None => (None, BTreeMap::new(), None, BTreeMap::new()),
    };
    let services = crate::report::services(&state.ctx).await.unwrap_or_default();
    let lag = lag_notice(&state).await;
    let names = crate::report::names(&state.ctx);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let from_text = request.as_ref().map_or(params.from.clone(), |r| r.from.to_string());
    let to_text = request.as_ref().map_or(params.to.clone(), |r| r.to.to_string());
    respond(
        status,
        staff_page(
            "Figures",
            html! {
                (errors.summary())
                h1.app-heading-l { "Figures" }
                @if let Some(lag) = &lag {
                    div.app-inset-text role="status" { p.app-body { (lag) } }
                }
                form.app-filter method="get" action="/figures" {
                    (text_input("period", "Named period", Some("2026-07, FY2026-27 or FY2026-27 Q1"), &params.period, &errors))
                    (text_input("from", "Or from (YYYY-MM-DD)", None, &from_text, &errors))
                    (text_input("to", "To (YYYY-MM-DD)", None, &to_text, &errors))
                    (select("service", "Service", &std::iter::once(("", "All services".to_owned()))
                        .chain(services.iter().map(|s| (s.as_str(), crate::labels::service_name(s, &|code: &str| names.get(code).cloned())))).collect::<Vec<_>>(), params.service.trim(), &errors))
                    (select("by", "Break down by", &std::iter::once(("", "Nothing".to_owned()))
                        .chain(DIMENSIONS.iter().map(|d| (*d, dimension_label(d).to_owned()))).collect::<Vec<_>>(), params.by.trim(), &errors))
                    button.app-button type="submit" { "Show" }
                }
                @if let (Some(request), Some(report), Some(last_year)) = (&request, &report, &last_year) {
                    @let today = casetrack_eventstore::clock::now().with_timezone(&chrono_tz::Europe::London).date_naive();
                    @let context = SectionContext { report, request, months: None, code_months: None, suppressed: commissioner(), incomplete_last: request.to >= today };
                    p.app-body {
                        "Figures for " (long_date(request.from)) " to " (long_date(request.to))
                        @if request.to >= today { " (the period is not over: figures so far)" }
                        ", beside the same days a year before. Counts are exact, for your own use"
                        @if commissioner() { "; a breakdown by victims' characteristics hides small numbers, so that nobody can be recognised" }
                        "."
                    }
                    p.app-body {
                        "Download these figures: "
                        a.app-link href={ "/figures/export.xlsx?" (query_of(request)) } { "workbook (XLSX)" } ", "
                        a.app-link href={ "/figures/export.csv?" (query_of(request)) } { "CSV, a row per service" } " or "
                        a.app-link href={ "/figures/export-long.csv?" (query_of(request)) } { "CSV, a row per figure" } ". "
                        "For publication (board papers, the public), with small numbers hidden: "
                        a.app-link href={ "/figures/export.xlsx?" (query_of(request)) "&publish=yes" } { "workbook for publication" } " or "
                        a.app-link href={ "/figures/export.csv?" (query_of(request)) "&publish=yes" } { "CSV for publication" } ". "
                        "The funder's monitoring return for these days, a sheet per service: "
                        a.app-link href={ "/figures/return.xlsx?" (query_of(request)) } { "return (XLSX)" } "."
                    }
                    @if report.services.is_empty() {
                        p.app-body { "Nothing was recorded in this period." }
                    } @else {
                        (headlines(report, last_year))
                    }
                    @if report.services.len() > 1 {
                        (comparison(report))
                    }
                    @if !report.services.is_empty() {
                        h2.app-heading-m { "Each service" }
                        p.app-body { "Open a service to see its figures." }
                    }
                    @for service in &report.services {
                        (service_section(&serde_json::to_value(service).unwrap_or_default(), &SectionContext { months: months.get(&service.service), code_months: code_months.get(&service.service), ..context }))
                    }
                    (definitions())
                }
            },
        ),
    )
}

fn select(id: &str, label: &str, options: &[(&str, String)], chosen: &str, errors: &FormErrors) -> Markup {
    html! {
        div.app-form-group.app-form-group--error[errors.message(id).is_some()] {
            label.app-label for=(id) { (label) }
            (errors.inline(id))
            select.app-select #(id) name=(id) {
                @for (value, text) in options {
                    option value=(value) selected[*value == chosen] { (text) }
                }
            }
        }
    }
}

/// The same days a year before (29 February falling back to the 28th).
fn a_year_before(request: &Request) -> Request {
    let back = |day: chrono::NaiveDate| day.checked_sub_months(chrono::Months::new(12)).unwrap_or(day);
    Request { from: back(request.from), to: back(request.to), ..request.clone() }
}

/// How each figure is counted, in plain words, at the foot of the page.
fn definitions() -> Markup {
    html! {
        details.app-definitions {
            summary { span.app-heading-s { "How each figure is counted" } }
            p.app-body { (OPEN_DEFINITION) }
            p.app-body {
                "Referrals are counted in the period they were received, and followed to where they are now; "
                "activity (calls made, cases closed, sessions) in the period it happened. Dates are when things "
                "happened, not when they were typed in, in England and Wales."
            }
            dl.app-definition-list {
                @for figure in crate::labels::FIGURES {
                    dt { (figure.label) }
                    dd { (figure.rule) }
                }
                @for (prefix, rule) in crate::labels::FAMILIES {
                    dt { (match *prefix { "onward_referrals." => "Referred on", "onward_outcomes." => "What became of referrals passed on", "outcomes." => "Cope-and-recover measures", _ => "Activity in the period" }) }
                    dd { (rule) }
                }
            }
        }
    }
}

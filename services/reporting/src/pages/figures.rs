//! The figures page: the period, service and breakdown pickers, and each service's figures.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_web::pages::{FormErrors, failure_page, long_date, respond, staff_page, text_input};
use maud::{Markup, html};

use crate::params::SummaryParams;
use crate::projections::cohort::{DIMENSIONS, dimension_label};
use crate::views::report::monthly;

use super::common::{FiguresState, commissioner, query_of, report_for, request_of};
use super::sections::{comparison, service_section};

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
    let (report, months) = match &request {
        Some(request) => match (report_for(&state, request).await, monthly(&state.ctx, request).await) {
            (Ok(report), Ok(months)) => (Some(report), months),
            (Err(error), _) | (_, Err(error)) => return failure_page(&error),
        },
        None => (None, BTreeMap::new()),
    };
    let services = crate::report::services(&state.ctx).await.unwrap_or_default();
    // Outcome measures by the labels the services' lists give them.
    let labels: BTreeMap<String, String> = state
        .ctx
        .catalogue
        .codes()
        .iter()
        .filter_map(|code| state.ctx.catalogue.get(code.as_str()))
        .flat_map(|definition| definition.outcome_measures.iter().map(|m| (m.code.clone(), m.label.clone())))
        .collect();
    let published = commissioner();
    let threshold = state.threshold;
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
                form.app-filter method="get" action="/figures" {
                    (text_input("period", "Named period", Some("2026-07, FY2026-27 or FY2026-27 Q1"), &params.period, &errors))
                    (text_input("from", "Or from (YYYY-MM-DD)", None, &from_text, &errors))
                    (text_input("to", "To (YYYY-MM-DD)", None, &to_text, &errors))
                    (select("service", "Service", &std::iter::once(("", "All services".to_owned()))
                        .chain(services.iter().map(|s| (s.as_str(), s.to_uppercase()))).collect::<Vec<_>>(), params.service.trim(), &errors))
                    (select("by", "Break down by", &std::iter::once(("", "Nothing".to_owned()))
                        .chain(DIMENSIONS.iter().map(|d| (*d, dimension_label(d).to_owned()))).collect::<Vec<_>>(), params.by.trim(), &errors))
                    button.app-button type="submit" { "Show" }
                }
                @if let (Some(request), Some(report)) = (&request, &report) {
                    p.app-body {
                        "Referrals received from " (long_date(request.from)) " to " (long_date(request.to))
                        " (days in England and Wales), and where they are now. "
                        @if published {
                            "Counts from 1 to " (threshold - 1) " are shown as “<" (threshold) "”, and a count that would let one be worked out as “[c]”, so that nobody can be recognised. "
                        }
                        "How each figure is counted: the notes sheet of the workbook, and docs/metrics.md."
                    }
                    p.app-body {
                        "Download what is on this page: "
                        a.app-link href={ "/figures/export.csv?" (query_of(request)) } { "CSV" }
                        " or "
                        a.app-link href={ "/figures/export.xlsx?" (query_of(request)) } { "workbook (XLSX)" }
                        "."
                    }
                    @if report.services.is_empty() {
                        p.app-body { "Nothing was recorded in this period." }
                    }
                    @if report.services.len() > 1 {
                        (comparison(report))
                    }
                    @for service in &report.services {
                        (service_section(&serde_json::to_value(service).unwrap_or_default(), months.get(&service.service), published, threshold, request, &labels))
                    }
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

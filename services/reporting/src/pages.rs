//! The figures page: the pathway's headline figures per service for a period, small numbers suppressed. For
//! commissioners (who never see a person), hub managers and service managers. The full dashboard (funnel, trends,
//! comparisons, downloads) is issue 5.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_platform::Context;
use casetrack_platform::pages::{FormErrors, failure_page, long_date, respond, staff_page, text_input};
use chrono::Utc;
use maud::html;
use serde::Deserialize;

use crate::api::{ServiceFigures, figures, parse_day};
use crate::periods::financial_year_of;
use crate::suppression::one;

#[derive(Clone)]
pub struct FiguresState {
    pub ctx: Context,
    /// Counts from 1 to threshold - 1 are shown as "<threshold".
    pub threshold: u64,
}

#[derive(Debug, Default, Deserialize)]
pub struct Period {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// A named period (`2026-07`, `FY2026-27`, `FY2026-27 Q1`), instead of from and to.
    #[serde(default)]
    period: String,
}

/// How one figure is read from a service's figures.
type Read = fn(&ServiceFigures) -> i64;

/// The columns: each figure's label and how to read it from a service's figures (docs/metrics.md has the rules).
const COLUMNS: &[(&str, Read)] = &[
    ("Referrals received", |f| f.referrals_received),
    ("Contacted", |f| f.contacted),
    ("Supported", |f| f.supported),
    ("Declined", |f| f.declined),
    ("Unable to contact", |f| f.unable_to_contact),
    ("No safe contact route", |f| f.no_safe_contact),
    ("Closed", |f| f.closed),
    ("Self-referrals", |f| f.self_referrals),
];

/// `GET /figures?from=YYYY-MM-DD&to=YYYY-MM-DD` (default: this financial year so far).
pub async fn figures_page(State(state): State<FiguresState>, Query(period): Query<Period>) -> Response {
    let today = Utc::now().date_naive();
    let mut errors = FormErrors::new();
    let named = match period.period.trim() {
        "" => None,
        text => crate::periods::parse(text).map_err(|problem| errors.add("period", problem)).ok(),
    };
    let (from_text, to_text) = match named {
        Some(named) => (named.from.to_string(), named.to.to_string()),
        None => (
            if period.from.is_empty() { financial_year_of(today).from.to_string() } else { period.from.clone() },
            if period.to.is_empty() { today.to_string() } else { period.to.clone() },
        ),
    };
    let from = parse_day(&from_text, "the start date").map_err(|e| errors.add("from", e.message)).ok();
    let to = parse_day(&to_text, "the end date").map_err(|e| errors.add("to", e.message)).ok();
    let rows = match (from, to) {
        (Some(from), Some(to)) if from <= to => match figures(&state.ctx, from, to).await {
            Ok(rows) => rows,
            Err(error) => return failure_page(&error),
        },
        (Some(_), Some(_)) => {
            errors.add("to", "The end date must be on or after the start date.");
            Vec::new()
        }
        _ => Vec::new(),
    };
    let threshold = state.threshold;
    let shown = |n: i64| one(u64::try_from(n).unwrap_or_default(), threshold).text(threshold);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    respond(
        status,
        staff_page(
            "Figures",
            html! {
                (errors.summary())
                h1.app-heading-l { "Figures" }
                @if let (Some(from), Some(to)) = (from, to) {
                    p.app-body { "From " (long_date(from)) " to " (long_date(to)) ", by calendar month. Counts from 1 to "
                        (threshold - 1) " are shown as “<" (threshold) "”, so that nobody can be recognised from them. "
                        "How each figure is counted: docs/metrics.md." }
                }
                form.app-filter method="get" action="/figures" {
                    (text_input("period", "Period", Some("2026-07, FY2026-27 or FY2026-27 Q1"), &period.period, &errors))
                    button.app-button type="submit" { "Show" }
                }
                form.app-filter method="get" action="/figures" {
                    (text_input("from", "From (YYYY-MM-DD)", None, &from_text, &errors))
                    (text_input("to", "To (YYYY-MM-DD)", None, &to_text, &errors))
                    button.app-button type="submit" { "Show" }
                }
                @if errors.is_empty() {
                    @if rows.is_empty() {
                        p.app-body { "Nothing was recorded in this period." }
                    } @else {
                        table.app-table {
                            caption.app-visually-hidden { "Figures per service" }
                            thead { tr {
                                th scope="col" { "Service" }
                                @for (label, _) in COLUMNS { th scope="col" { (label) } }
                            } }
                            tbody {
                                @for row in &rows {
                                    tr {
                                        th scope="row" { (row.service.to_uppercase()) }
                                        @for (_, read) in COLUMNS { td { (shown(read(row))) } }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        ),
    )
}

//! The referrals (or cases) behind one figure of the cohort, for staff who work that service's cases.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_web::http::ApiError;
use casetrack_web::pages::{failure_page, long_date, respond, staff_page, words};
use maud::html;

use crate::params::SummaryParams;
use crate::projections::cohort::{dimension_label, stage};

use super::common::{FiguresState, own_service, query_of, request_of};

#[derive(Debug, Default, serde::Deserialize)]
pub struct DrillDown {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    by: String,
    /// The funnel figure: `referrals_received`, a stage (`contacted`, ...) or a state (`open`, ...).
    #[serde(default)]
    figure: String,
    /// The dimension value, with `by`.
    #[serde(default)]
    value: String,
}

/// Most referrals one drill-down lists.
const DRILL_DOWN_LIMIT: i64 = 500;

/// `GET /figures/referrals?from&to&service&figure[&by&value]`: the referrals (or cases) behind one figure of the
/// cohort, for staff who work that service's cases (never a commissioner). Each links to its record, where the
/// view is audited as usual.
pub async fn drill_down(State(state): State<FiguresState>, Query(params): Query<DrillDown>) -> Response {
    let period = SummaryParams {
        from: params.from.clone(),
        to: params.to.clone(),
        period: params.period.clone(),
        service: params.service.clone(),
        by: params.by.clone(),
        wait_for: None,
    };
    let request = match request_of(&period) {
        Ok(request) => request,
        Err(error) => return failure_page(&error),
    };
    let Some(own) = own_service() else {
        return failure_page(&ApiError::not_found("There is no list of referrals for your role."));
    };
    let service = request.service.clone().unwrap_or_else(|| own.clone());
    if service != own {
        let error = ApiError {
            status: StatusCode::FORBIDDEN,
            code: "other_service",
            message: format!("You can list the referrals of your own service ({own}) only."),
        };
        return failure_page(&error);
    }
    let figure = match params.figure.trim() {
        "" | "victims_referred" => stage::RECEIVED.to_owned(),
        figure if crate::report::FUNNEL.contains(&figure) => figure.to_owned(),
        figure => {
            let error = ApiError::rejected("figure_unknown", format!("There is no figure called {figure:?} to list."));
            return failure_page(&error);
        }
    };
    let value = if request.by.is_some() { params.value.trim().to_owned() } else { String::new() };
    let rows = match crate::views::units::behind(&state.ctx, &service, &request, &figure, &value, DRILL_DOWN_LIMIT + 1)
        .await
    {
        Ok(rows) => rows,
        Err(error) => return failure_page(&ApiError::unavailable(error)),
    };
    let more = rows.len() as i64 > DRILL_DOWN_LIMIT;
    let link = |id: &str| {
        if service == "hub" { format!("/hub/referrals/{id}") } else { format!("/services/{service}/cases/{id}") }
    };
    let names = crate::report::names(&state.ctx);
    let service_name = crate::labels::service_name(&service, &|code: &str| names.get(code).cloned());
    let title = format!("{service_name}: {}", crate::labels::label(&figure, &|code: &str| names.get(code).cloned()));
    respond(
        StatusCode::OK,
        staff_page(
            &title,
            html! {
                h1.app-heading-l { (title) }
                p.app-body {
                    "Received from " (long_date(request.from)) " to " (long_date(request.to))
                    @if let Some(by) = &request.by { ", " (dimension_label(by).to_lowercase()) " " (words(&value)) }
                    ". Opening a referral is recorded in the audit trail, as everywhere."
                }
                @if rows.is_empty() {
                    p.app-body { "There are none." }
                } @else {
                    table.app-table tabindex="0" {
                        caption.app-visually-hidden { (title) }
                        thead { tr { th scope="col" { "Referral" } th scope="col" { "Received" } th scope="col" { "Now" } } }
                        tbody {
                            @for (id, day, now) in rows.iter().take(DRILL_DOWN_LIMIT as usize) {
                                tr {
                                    td { a.app-link href=(link(id)) { (id[..8].to_uppercase()) } }
                                    td { (day) }
                                    td { (words(now)) }
                                }
                            }
                        }
                    }
                    @if more {
                        p.app-body { "Only the first " (DRILL_DOWN_LIMIT) " are listed: choose a shorter period or a breakdown." }
                    }
                }
                p.app-body { a.app-link href={ "/figures?" (query_of(&request)) } { "Back to the figures" } }
            },
        ),
    )
}

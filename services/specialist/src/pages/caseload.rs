//! The index of the specialist services run here, and one service's caseload: every case, the unallocated
//! referrals, one caseworker's caseload, the reviews due (read from the service's read model).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_web::pages::{failure_page, local_time, respond, staff_page, tag, words};
use chrono::Utc;
use maud::html;

use super::status_tag;
use crate::state::Desk;
use crate::views::cases::{ListParams, caseload};

pub(super) async fn index(State(desk): State<Desk>) -> Response {
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
pub(super) async fn caseload_page(
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

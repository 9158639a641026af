//! The index of the specialist services run here, and one service's caseload: every case, the unallocated
//! referrals, my caseload (the signed-in caseworker's), the reviews due, each a tab with its count; 50 cases to a
//! page in the caseload's stable order (a cursor, so a page costs the same however deep), by case reference, with
//! staff by name; a search by case reference or by name and date of birth (the blind index, exact match).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_web::pages::{
    Staff, failure_page, local_time, long_date, reference, reference_suffix, respond, staff_page, tag, thousands, words,
};
use casetrack_web::paging::PageParams;
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

use super::status_tag;
use crate::state::Desk;
use crate::views::cases::{CaseView, ListParams, search_cases};

pub(super) async fn index(State(desk): State<Desk>) -> Response {
    let services: Vec<&ServiceDefinition> =
        desk.context().catalogue.all().iter().filter(|s| desk.service(s.code.as_str()).is_ok()).collect();
    respond(
        StatusCode::OK,
        staff_page(
            "Specialist services",
            html! {
                h1.govuk-heading-l { "Specialist services" }
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

/// Cases to a page of the caseload.
const PAGE_SIZE: &str = "50";

/// The caseload's search: a case reference, or a name with a date of birth (through the blind index).
#[derive(Debug, Default, Deserialize)]
pub(super) struct SearchParams {
    q: Option<String>,
    forename: Option<String>,
    surname: Option<String>,
    dob: Option<String>,
    /// The cursor of the page to show (the caseload's stable order); absent for the first page.
    cursor: Option<String>,
}

pub(super) async fn caseload_page(
    desk: State<Desk>,
    service: Path<String>,
    params: Query<ListParams>,
    Query(search): Query<SearchParams>,
) -> Response {
    // A name and a date of birth never travel in a URL (browser history, proxies' logs): they are searched for
    // with a POST ([`caseload_search`]), and ignored here.
    let search = SearchParams { forename: None, surname: None, dob: None, ..search };
    render_caseload(desk, service, params, search).await
}

/// `POST /services/{service}`: the caseload's search (by reference, or by name and date of birth), answered with
/// the page (no redirect, so that the name is never in a URL).
pub(super) async fn caseload_search(
    desk: State<Desk>,
    service: Path<String>,
    params: Query<ListParams>,
    axum::Form(search): axum::Form<SearchParams>,
) -> Response {
    render_caseload(desk, service, params, search).await
}

async fn render_caseload(
    State(desk): State<Desk>,
    Path(service): Path<String>,
    Query(mut params): Query<ListParams>,
    search: SearchParams,
) -> Response {
    let definition = match desk.service(&service) {
        Ok(definition) => definition.clone(),
        Err(error) => return failure_page(&error),
    };
    let me = casetrack_web::access::current().map(|p| p.account.username.as_str().to_owned());
    let view = params.view.clone().unwrap_or_else(|| "all".into());
    if view == "mine" && params.caseworker.as_deref().unwrap_or("").trim().is_empty() {
        params.caseworker = me.clone();
    }
    let staff = match Staff::load(&desk.context().db).await {
        Ok(staff) => staff,
        Err(error) => return failure_page(&error),
    };
    let page = PageParams { page_size: Some(PAGE_SIZE.into()), cursor: search.cursor.clone() };
    let cases = match caseload_page_of(&desk, &service, &params, &page).await {
        Ok(cases) => cases,
        Err(error) => return failure_page(&error),
    };
    // The count on each tab: the same view read for one case, for its total.
    let mut counts = Vec::new();
    for (code, _) in VIEWS {
        let tab = ListParams {
            view: Some(code.into()),
            caseworker: if code == "mine" { me.clone() } else { None },
            wait_for: None,
        };
        let one = PageParams { page_size: Some("1".into()), cursor: None };
        match caseload_page_of(&desk, &service, &tab, &one).await {
            Ok(paged) => counts.push(paged.total),
            Err(error) => return failure_page(&error),
        }
    }
    let (found, problem) = match find(&desk, &service, &search).await {
        Ok(found) => (found, None),
        Err(Err(problem)) => (None, Some(problem)),
        Err(Ok(error)) => return failure_page(&error),
    };
    let base = format!("/services/{}", definition.code);
    let body = html! {
        span.govuk-caption-m { (definition.name) }
        h1.govuk-heading-l { "Caseload" }
        p.govuk-body { a.govuk-button.govuk-button--secondary href={ (base) "/refer" } { "Record a direct referral" } }
        (search_form(&base, &search, problem.as_deref()))
        @if let Some(found) = &found {
            h2.govuk-heading-m #results { "Search results" }
            @if found.is_empty() {
                p.govuk-body { "No case matches. A name is found only with its date of birth, spelt as recorded." }
            } @else {
                (table("Cases found", &definition, found, &staff))
            }
        }
        nav.moj-sub-navigation aria-label="Caseload views" {
            ul.moj-sub-navigation__list {
                @for ((code, label), count) in VIEWS.iter().zip(&counts) {
                    li.moj-sub-navigation__item {
                        a.moj-sub-navigation__link href={ (base) "?view=" (code) } aria-current=[(*code == view).then_some("page")] {
                            (label) " " span.app-count { "(" (thousands(*count)) ")" }
                        }
                    }
                }
            }
        }
        @if cases.items.is_empty() {
            p.govuk-body { "No cases here." }
        } @else {
            p.govuk-body.app-total {
                (thousands(cases.total)) " case" @if cases.total != 1 { "s" } ", " (cases.items.len()) " on this page"
            }
            (table(VIEWS.iter().find(|(c, _)| *c == view).map_or("Cases", |(_, l)| l), &definition, &cases.items, &staff))
            nav.govuk-pagination.govuk-pagination--block aria-label="Pages of this caseload" {
                @if search.cursor.is_some() {
                    div.govuk-pagination__prev {
                        a.govuk-link.govuk-pagination__link href={ (base) "?view=" (view) } rel="prev" {
                            span.govuk-pagination__link-title { "First page" }
                        }
                    }
                }
                @if let Some(next) = &cases.next_cursor {
                    div.govuk-pagination__next {
                        a.govuk-link.govuk-pagination__link href={ (base) "?view=" (view) "&cursor=" (next) } rel="next" {
                            span.govuk-pagination__link-title { "Next" span.govuk-visually-hidden { " page" } }
                        }
                    }
                }
            }
        }
    };
    respond(StatusCode::OK, staff_page(&format!("{} caseload", definition.name), body))
}

async fn caseload_page_of(
    desk: &Desk,
    service: &str,
    params: &ListParams,
    page: &PageParams,
) -> Result<casetrack_web::paging::Paged<CaseView>, casetrack_web::http::ApiError> {
    crate::views::cases::caseload_page(desk, service, params, page).await
}

/// The cases a search names; None when nothing was asked; Err(Err(problem)) for a search that cannot be run.
async fn find(
    desk: &Desk,
    service: &str,
    params: &SearchParams,
) -> Result<Option<Vec<CaseView>>, Result<casetrack_web::http::ApiError, String>> {
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let (q, forename, surname, dob) =
        (text(&params.q), text(&params.forename), text(&params.surname), text(&params.dob));
    let suffix = q.as_deref().and_then(reference_suffix);
    if q.is_some() && suffix.is_none() {
        return Err(Err("Enter a case reference as shown on the case, for example IDVA-3F9A1C2B".into()));
    }
    let mut person_ids = Vec::new();
    match (&forename, &surname, &dob) {
        (None, None, None) => {}
        (Some(forename), Some(surname), Some(dob)) => {
            let Some(dob) = casetrack_web::pages::parse_date(dob) else {
                return Err(Err("Enter the date of birth as a date, for example 23/04/1987".into()));
            };
            person_ids = casetrack_people::interface::matching(desk.context(), forename, surname, dob)
                .await
                .map_err(|e| Ok(casetrack_web::http::ApiError::unavailable(e)))?
                .into_iter()
                .map(|id| id.to_string())
                .collect();
            if person_ids.is_empty() && suffix.is_none() {
                return Ok(Some(Vec::new()));
            }
        }
        _ => return Err(Err("Enter a first name, a last name and a date of birth to find someone by name".into())),
    }
    if suffix.is_none() && person_ids.is_empty() {
        return Ok(None);
    }
    search_cases(desk, service, suffix.as_deref(), &person_ids).await.map(Some).map_err(Ok)
}

fn search_form(base: &str, params: &SearchParams, problem: Option<&str>) -> Markup {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        form method="post" action=(base) role="search" {
            (casetrack_web::access::csrf_field())
            @if let Some(problem) = problem {
                p.govuk-error-message { span.govuk-visually-hidden { "Error: " } (problem) }
            }
            div.app-filter {
                div.govuk-form-group {
                    label.govuk-label for="q" { "Case reference" }
                    input.govuk-input.govuk-input--width-20 #q name="q" type="search" value=(value(&params.q)) autocomplete="off";
                }
                div.govuk-form-group {
                    label.govuk-label for="forename" { "First name" }
                    input.govuk-input.govuk-input--width-10 #forename name="forename" type="text" value=(value(&params.forename)) autocomplete="off";
                }
                div.govuk-form-group {
                    label.govuk-label for="surname" { "Last name" }
                    input.govuk-input.govuk-input--width-10 #surname name="surname" type="text" value=(value(&params.surname)) autocomplete="off";
                }
                div.govuk-form-group {
                    label.govuk-label for="dob" { "Date of birth" }
                    input.govuk-input.govuk-input--width-10 #dob name="dob" type="text" value=(value(&params.dob))
                        autocomplete="off" placeholder="23/04/1987";
                }
                button.govuk-button.govuk-button--secondary type="submit" { "Find" }
            }
        }
    }
}

fn table(caption: &str, definition: &ServiceDefinition, cases: &[CaseView], staff: &Staff) -> Markup {
    html! {
        table.govuk-table {
            caption.govuk-table__caption.govuk-visually-hidden { (caption) }
            thead.govuk-table__head { tr.govuk-table__row {
                th.govuk-table__header scope="col" { "Case" }
                th.govuk-table__header scope="col" { "Opened" }
                th.govuk-table__header scope="col" { "From" }
                th.govuk-table__header scope="col" { "Status" }
                th.govuk-table__header scope="col" { "Caseworker" }
                th.govuk-table__header scope="col" { "Risk" }
                th.govuk-table__header scope="col" { "Review due" }
                th.govuk-table__header scope="col" { "Flags" }
            } }
            tbody.govuk-table__body {
                @for case in cases {
                    @let id = uuid::Uuid::parse_str(&case.case_id).unwrap_or_default();
                    tr.govuk-table__row {
                        td.govuk-table__cell.app-nowrap {
                            a.govuk-link href={ "/services/" (definition.code) "/cases/" (case.case_id) } {
                                (reference(definition.code.as_str(), id))
                            }
                        }
                        td.govuk-table__cell { (opened(&case.opened_at)) }
                        td.govuk-table__cell { (words(&case.origin)) }
                        td.govuk-table__cell { (status_tag(&case.status)) }
                        td.govuk-table__cell { (case.caseworker.as_deref().map(|c| staff.name_of(c)).unwrap_or_else(|| "Unallocated".into())) }
                        td.govuk-table__cell { (case.risk_level.as_deref().map(words).unwrap_or_default()) }
                        td.govuk-table__cell { (case.review_due.as_deref().and_then(|d| d.parse().ok()).map(long_date).unwrap_or_default()) }
                        td.govuk-table__cell {
                            @if case.enhanced_rights { (tag("Enhanced rights", "purple")) " " }
                            @if case.domestic_abuse { (tag("Domestic abuse", "red")) " " }
                            @if case.age_band.as_deref() == Some("under_18") { (tag("Under 18", "blue")) }
                        }
                    }
                }
            }
        }
    }
}

fn opened(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|at| local_time(at.with_timezone(&Utc)))
        .unwrap_or_else(|_| at.to_owned())
}

//! The work queues as pages: one tab per queue with its count, a search (crime or referral reference, or a name
//! and date of birth through the blind index), filters (officer from the hub's staff, "my referrals"), a table of
//! referrals by reference (codes as labels; no victim's name is decrypted for a list), numbered pages in the
//! queue's stable order with the total.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use casetrack_proto::Role;
use casetrack_web::pages::{
    Staff, long_date, reference, reference_suffix, respond, see_other, staff_page, tag, thousands,
};
use maud::{Markup, html};
use serde::Deserialize;

use super::parts::{flag, moment, offence_label, status_tag, words};
use crate::state::Hub;
use crate::views;
use crate::views::queues::{PAGE_SIZE, QueueFilter, QueueItem, QueueKind, Search, counts, load};

pub async fn home() -> Response {
    see_other("/hub/queues/new-referrals")
}

/// What the search box above the queues takes: a crime reference or a referral's reference in one field, or a
/// name with a date of birth (found through the blind index, so only an exact normalised match).
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    pub q: Option<String>,
    pub forename: Option<String>,
    pub surname: Option<String>,
    pub dob: Option<String>,
}

pub async fn queue_page(
    state: State<Hub>,
    queue: Path<String>,
    filter: Query<QueueFilter>,
    Query(search): Query<SearchParams>,
) -> Response {
    // A name and a date of birth never travel in a URL (browser history, proxies' logs): they are searched for
    // with a POST ([`search_by_name`]), and ignored here.
    let search = SearchParams { forename: None, surname: None, dob: None, ..search };
    render_queue(state, queue, filter, search).await
}

/// `POST /hub/search`: the search by name and date of birth, answered with the page (no redirect, so that the
/// name is never in a URL).
pub async fn search_by_name(
    state: State<Hub>,
    filter: Query<QueueFilter>,
    axum::Form(search): axum::Form<SearchParams>,
) -> Response {
    render_queue(state, Path(QueueKind::NewReferrals.slug().to_owned()), filter, search).await
}

async fn render_queue(
    State(hub): State<Hub>,
    Path(queue): Path<String>,
    Query(mut filter): Query<QueueFilter>,
    search: SearchParams,
) -> Response {
    let Some(kind) = QueueKind::parse(&queue) else {
        return casetrack_web::pages::failure_page(&casetrack_web::http::ApiError::not_found(
            "There is no such work queue.",
        ));
    };
    let me = casetrack_web::access::current().map(|p| p.account.username.as_str().to_owned());
    if filter.officer.as_deref() == Some("me") {
        filter.officer = me.clone();
    }
    let ctx = hub.context();
    let staff = match Staff::load(&ctx.db).await {
        Ok(staff) => staff,
        Err(error) => return casetrack_web::pages::failure_page(&error),
    };
    let (found, search_problem) = match find(&hub, &search).await {
        Ok(found) => (found, None),
        Err(Found::Problem(problem)) => (None, Some(problem)),
        Err(Found::Broken(error)) => return casetrack_web::pages::failure_page(&error),
    };
    let (queue, counts) = match tokio::try_join!(load(&hub, kind, &filter), counts(&hub, &filter)) {
        Ok(both) => both,
        Err(error) => return casetrack_web::pages::failure_page(&error),
    };
    let total = counts.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n);
    let first = (u64::from(queue.page) - 1) * PAGE_SIZE as u64;
    let officers = staff.choices(|role| matches!(role, Role::HubOfficer | Role::HubManager));
    let body = html! {
        h1.govuk-heading-l { "Work queues" }
        (search_form(&search, search_problem.as_deref()))
        @if let Some(found) = &found {
            h2.govuk-heading-m #results { "Search results" }
            @if found.is_empty() {
                p.govuk-body { "No referral matches. A name is found only with its date of birth, spelt as recorded." }
            } @else {
                p.govuk-body.app-total { (count_words(found.len() as u64, "referral")) " found." }
                (table("Referrals found", found, &staff))
            }
        }
        nav.moj-sub-navigation aria-label="Work queues" {
            ul.moj-sub-navigation__list {
                @for (each, count) in &counts {
                    li.moj-sub-navigation__item {
                        a.moj-sub-navigation__link href=(page_link(*each, &filter, 1)) aria-current=[(*each == kind).then_some("page")] {
                            (each.title()) " " span.app-count { "(" (thousands(*count)) ")" }
                        }
                    }
                }
            }
        }
        h2.govuk-heading-m { (kind.title()) }
        p.govuk-hint { (explanation(kind)) }
        (filters(kind, &filter, &officers, me.as_deref()))
        @if queue.items.is_empty() {
            p.govuk-body { "Nothing in this queue." }
        } @else {
            p.govuk-body.app-total {
                "Showing " (thousands(first + 1)) " to " (thousands(first + queue.items.len() as u64)) " of "
                (count_words(total, "referral"))
            }
            (table(kind.title(), &queue.items, &staff))
            (pagination(kind, &filter, queue.page, total))
        }
    };
    respond(axum::http::StatusCode::OK, staff_page(kind.title(), body))
}

fn count_words(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", thousands(n), if n == 1 { "" } else { "s" })
}

enum Found {
    Problem(String),
    Broken(casetrack_web::http::ApiError),
}

/// The referrals a search names, or None when nothing was asked.
async fn find(hub: &Hub, params: &SearchParams) -> Result<Option<Vec<QueueItem>>, Found> {
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let (q, forename, surname, dob) =
        (text(&params.q), text(&params.forename), text(&params.surname), text(&params.dob));
    let mut search = Search::default();
    if let Some(q) = &q {
        search.reference_suffix = reference_suffix(q);
        search.crime_reference = Some(q.clone());
    }
    match (&forename, &surname, &dob) {
        (None, None, None) => {}
        (Some(forename), Some(surname), Some(dob)) => {
            let Some(dob) = casetrack_web::pages::parse_date(dob) else {
                return Err(Found::Problem("Enter the date of birth as a date, for example 23/04/1987".into()));
            };
            search.person_ids = casetrack_people::interface::matching(hub.context(), forename, surname, dob)
                .await
                .map_err(|e| Found::Broken(casetrack_web::http::ApiError::unavailable(e)))?
                .into_iter()
                .map(|id| id.to_string())
                .collect();
            if search.person_ids.is_empty() && q.is_none() {
                return Ok(Some(Vec::new()));
            }
        }
        _ => {
            return Err(Found::Problem(
                "Enter a first name, a last name and a date of birth to find someone by name".into(),
            ));
        }
    }
    if q.is_none() && search.person_ids.is_empty() {
        return Ok(None);
    }
    views::queues::search(hub, &search).await.map(Some).map_err(Found::Broken)
}

fn search_form(params: &SearchParams, problem: Option<&str>) -> Markup {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let by_name = params.forename.as_deref().is_some_and(|v| !v.trim().is_empty()) || problem.is_some();
    html! {
        form.app-filter method="get" action="/hub/search" role="search" {
            div.govuk-form-group {
                label.govuk-label for="q" { "Crime or referral reference" }
                input.govuk-input.govuk-input--width-20 #q name="q" type="search" value=(value(&params.q)) autocomplete="off";
            }
            button.govuk-button.govuk-button--secondary type="submit" { "Find" }
        }
        details.govuk-details open[by_name] {
            summary.govuk-details__summary { span.govuk-details__summary-text { "Find by name and date of birth" } }
            div.govuk-details__text {
                form method="post" action="/hub/search" role="search" {
                    (casetrack_web::access::csrf_field())
                    @if let Some(problem) = problem {
                        p.govuk-error-message { span.govuk-visually-hidden { "Error: " } (problem) }
                    }
                    div.app-filter {
                        div.govuk-form-group {
                            label.govuk-label for="forename" { "First name" }
                            input.govuk-input #forename name="forename" type="text" value=(value(&params.forename)) autocomplete="off";
                        }
                        div.govuk-form-group {
                            label.govuk-label for="surname" { "Last name" }
                            input.govuk-input #surname name="surname" type="text" value=(value(&params.surname)) autocomplete="off";
                        }
                        div.govuk-form-group {
                            label.govuk-label for="dob" { "Date of birth" }
                            div.govuk-hint #dob-hint { "For example 23/04/1987" }
                            input.govuk-input.govuk-input--width-10 #dob name="dob" type="text" value=(value(&params.dob))
                                autocomplete="off" aria-describedby="dob-hint";
                        }
                        button.govuk-button.govuk-button--secondary type="submit" { "Find" }
                    }
                }
            }
        }
    }
}

/// `/hub/search`: the search box's answer, shown above the first queue.
pub async fn search_page(state: State<Hub>, filter: Query<QueueFilter>, search: Query<SearchParams>) -> Response {
    queue_page(state, Path(QueueKind::NewReferrals.slug().to_owned()), filter, search).await
}

fn table(caption: &str, items: &[QueueItem], staff: &Staff) -> Markup {
    html! {
        table.govuk-table {
            caption.govuk-table__caption.govuk-visually-hidden { (caption) }
            thead.govuk-table__head {
                tr.govuk-table__row {
                    th.govuk-table__header scope="col" { "Referral" }
                    th.govuk-table__header scope="col" { "Received" }
                    th.govuk-table__header scope="col" { "Crime reference" }
                    th.govuk-table__header scope="col" { "Offence" }
                    th.govuk-table__header scope="col" { "Flags" }
                    th.govuk-table__header scope="col" { "Status" }
                    th.govuk-table__header scope="col" { "Officer" }
                    th.govuk-table__header scope="col" { "Attempts" }
                    th.govuk-table__header scope="col" { "First attempt due" }
                }
            }
            tbody.govuk-table__body {
                @for item in items {
                    @let id = uuid::Uuid::parse_str(&item.referral_id).unwrap_or_default();
                    tr.govuk-table__row {
                        td.govuk-table__cell.app-nowrap {
                            a.govuk-link href={ "/hub/referrals/" (item.referral_id) } { (reference("hub", id)) }
                        }
                        td.govuk-table__cell { (moment(&item.received_at)) }
                        td.govuk-table__cell.app-nowrap { (item.crime_reference.as_deref().unwrap_or("None")) }
                        td.govuk-table__cell {
                            (item.offence_category.as_deref().map(offence_label).unwrap_or_else(|| "Not given".into()))
                            br; span.govuk-hint { (words(&item.source)) }
                        }
                        td.govuk-table__cell {
                            (flag(item.enhanced_rights, "Enhanced rights", "purple"))
                            (flag(item.domestic_abuse, "Domestic abuse", "red"))
                            (flag(item.repeat_victim, "Repeat victim", "yellow"))
                        }
                        td.govuk-table__cell { (status_tag(&item.status)) }
                        td.govuk-table__cell { (item.officer.as_deref().map(|o| staff.name_of(o)).unwrap_or_else(|| "Unallocated".into())) }
                        td.govuk-table__cell {
                            (item.attempts)
                            @if let Some(band) = &item.suggested_band {
                                br; span.govuk-hint { "Next: try the " (words(band).to_lowercase()) }
                            }
                        }
                        td.govuk-table__cell {
                            (item.first_attempt_due.as_deref().and_then(|d| d.parse().ok()).map(long_date).unwrap_or_default())
                            @if item.overdue { " " (tag("Overdue", "red")) }
                        }
                    }
                }
            }
        }
    }
}

/// GOV.UK pagination: previous, numbered pages around this one with the first and last, next.
fn pagination(kind: QueueKind, filter: &QueueFilter, page: u32, total: u64) -> Markup {
    let pages = u32::try_from(total.div_ceil(PAGE_SIZE as u64)).unwrap_or(u32::MAX).max(1);
    if pages == 1 {
        return html! {};
    }
    let mut shown: Vec<u32> =
        [1, page.saturating_sub(1), page, page + 1, pages].into_iter().filter(|p| (1..=pages).contains(p)).collect();
    shown.dedup();
    html! {
        nav.govuk-pagination aria-label="Pages of this queue" {
            @if page > 1 {
                div.govuk-pagination__prev {
                    a.govuk-link.govuk-pagination__link href=(page_link(kind, filter, page - 1)) rel="prev" {
                        span.govuk-pagination__link-title { "Previous" span.govuk-visually-hidden { " page" } }
                    }
                }
            }
            ul.govuk-pagination__list {
                @for (i, p) in shown.iter().enumerate() {
                    @if i > 0 && shown[i - 1] + 1 < *p {
                        li.govuk-pagination__item.govuk-pagination__item--ellipses { "⋯" }
                    }
                    @if *p == page {
                        li.govuk-pagination__item.govuk-pagination__item--current {
                            a.govuk-link.govuk-pagination__link href=(page_link(kind, filter, *p)) aria-label={ "Page " (p) } aria-current="page" { (p) }
                        }
                    } @else {
                        li.govuk-pagination__item {
                            a.govuk-link.govuk-pagination__link href=(page_link(kind, filter, *p)) aria-label={ "Page " (p) } { (p) }
                        }
                    }
                }
            }
            @if page < pages {
                div.govuk-pagination__next {
                    a.govuk-link.govuk-pagination__link href=(page_link(kind, filter, page + 1)) rel="next" {
                        span.govuk-pagination__link-title { "Next" span.govuk-visually-hidden { " page" } }
                    }
                }
            }
        }
    }
}

fn explanation(kind: QueueKind) -> &'static str {
    match kind {
        QueueKind::NewReferrals => "Nobody has tried to contact these victims yet. Enhanced-rights cases come first.",
        QueueKind::NextAttempt => {
            "Tried but not reached yet. Each shows a time of day not yet tried: the attempt rule needs attempts at \
             different times of day before a victim can be recorded as unable to contact."
        }
        QueueKind::VictimsCode => {
            "No attempt yet, soonest Victims' Code deadline first (2 working days from the crime report; England and \
             Wales bank holidays excluded). Enhanced-rights cases come first."
        }
        QueueKind::OpenCases => "Every referral still open, by officer.",
    }
}

fn filters(kind: QueueKind, filter: &QueueFilter, officers: &[(String, String)], me: Option<&str>) -> Markup {
    let yes_no = |name: &str, label: &str, value: &Option<String>| {
        let value = value.as_deref().unwrap_or("");
        html! {
            div.govuk-form-group {
                label.govuk-label for=(name) { (label) }
                select.govuk-select #(name) name=(name) {
                    option value="" selected[value.is_empty()] { "Any" }
                    option value="yes" selected[value == "yes"] { "Yes" }
                    option value="no" selected[value == "no"] { "No" }
                }
            }
        }
    };
    let source = filter.source.as_deref().unwrap_or("");
    html! {
        form.app-filter method="get" action={ "/hub/queues/" (kind.slug()) } {
            @let officer = filter.officer.as_deref().unwrap_or("");
            div.govuk-form-group {
                label.govuk-label for="officer" { "Officer" }
                select.govuk-select #officer name="officer" {
                    option value="" selected[officer.is_empty()] { "Anyone" }
                    option value="unallocated" selected[officer == "unallocated"] { "Unallocated" }
                    @for (username, name) in officers {
                        option value=(username) selected[officer == username] {
                            (name) @if me == Some(username.as_str()) { " (me)" }
                        }
                    }
                }
            }
            (yes_no("domestic_abuse", "Domestic abuse", &filter.domestic_abuse))
            (yes_no("enhanced_rights", "Enhanced rights", &filter.enhanced_rights))
            (yes_no("repeat_victim", "Repeat victim", &filter.repeat_victim))
            div.govuk-form-group {
                label.govuk-label for="source" { "Source" }
                select.govuk-select #source name="source" {
                    option value="" selected[source.is_empty()] { "Any" }
                    @for (code, label) in [("police_feed", "Police feed"), ("self_referral", "Self-referral"), ("partner", "Partner")] {
                        option value=(code) selected[source == code] { (label) }
                    }
                }
            }
            button.govuk-button.govuk-button--secondary type="submit" { "Filter" }
        }
        @if let Some(me) = me {
            p.govuk-body {
                a.govuk-link href=(page_link(kind, &QueueFilter { officer: Some(me.to_owned()), ..QueueFilter::default() }, 1)) { "My referrals" }
                " · "
                a.govuk-link href=(page_link(kind, &QueueFilter::default(), 1)) { "Everyone's" }
            }
        }
    }
}

fn page_link(kind: QueueKind, filter: &QueueFilter, page: u32) -> String {
    let mut link = QueueFilter { page: Some(page), wait_for: None, ..filter.clone() };
    // Blank filters stay out of the link.
    for value in [
        &mut link.officer,
        &mut link.domestic_abuse,
        &mut link.enhanced_rights,
        &mut link.repeat_victim,
        &mut link.source,
    ] {
        if value.as_deref().is_some_and(str::is_empty) {
            *value = None;
        }
    }
    let query = serde_urlencoded::to_string(&link).unwrap_or_default();
    format!("/hub/queues/{}?{query}", kind.slug())
}

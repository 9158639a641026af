//! The work queues as pages: one tab per queue, filters, a table of referrals (codes and references only: no
//! victim's name is decrypted for a list), paging.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use casetrack_web::pages::{respond, see_other, staff_page, tag};
use maud::{Markup, html};

use super::parts::{flag, moment, status_tag, words};
use crate::state::Hub;
use crate::views::queues::{QueueFilter, QueueKind, load};

pub async fn home() -> Response {
    see_other("/hub/queues/new-referrals")
}

pub async fn queue_page(
    State(hub): State<Hub>,
    Path(queue): Path<String>,
    Query(filter): Query<QueueFilter>,
) -> Response {
    let Some(kind) = QueueKind::parse(&queue) else {
        return casetrack_web::pages::failure_page(&casetrack_web::http::ApiError::not_found(
            "There is no such work queue.",
        ));
    };
    let queue = match load(&hub, kind, &filter).await {
        Ok(queue) => queue,
        Err(error) => return casetrack_web::pages::failure_page(&error),
    };
    let body = html! {
        h1.app-heading-l { "Work queues" }
        ul.app-tabs {
            @for each in QueueKind::ALL {
                li {
                    a href={ "/hub/queues/" (each.slug()) } aria-current=[(each == kind).then_some("page")] {
                        (each.title())
                    }
                }
            }
        }
        h2.app-heading-m { (kind.title()) }
        p.app-hint { (explanation(kind)) }
        (filters(kind, &filter))
        @if queue.items.is_empty() {
            p { "Nothing in this queue." }
        } @else {
            table.app-table {
                caption.app-visually-hidden { (kind.title()) }
                thead {
                    tr {
                        th scope="col" { "Received" }
                        th scope="col" { "Crime reference" }
                        th scope="col" { "Offence" }
                        th scope="col" { "Flags" }
                        th scope="col" { "Status" }
                        th scope="col" { "Officer" }
                        th scope="col" { "Attempts" }
                        th scope="col" { "First attempt due" }
                    }
                }
                tbody {
                    @for item in &queue.items {
                        tr {
                            td {
                                a href={ "/hub/referrals/" (item.referral_id) } {
                                    (moment(&item.received_at))
                                    span.app-visually-hidden { ": open referral" }
                                }
                            }
                            td { (item.crime_reference.as_deref().unwrap_or("none")) }
                            td { (item.offence_category.as_deref().map(words).unwrap_or_else(|| "Not given".into())) br; span.app-hint { (words(&item.source)) } }
                            td {
                                (flag(item.enhanced_rights, "Enhanced rights", "purple"))
                                (flag(item.domestic_abuse, "Domestic abuse", "red"))
                                (flag(item.repeat_victim, "Repeat victim", "yellow"))
                            }
                            td { (status_tag(&item.status)) }
                            td { (item.officer.as_deref().unwrap_or("Unallocated")) }
                            td {
                                (item.attempts)
                                @if let Some(band) = &item.suggested_band {
                                    br; span.app-hint { "Next: try the " (words(band).to_lowercase()) }
                                }
                            }
                            td {
                                (item.first_attempt_due.as_deref().unwrap_or(""))
                                @if item.overdue { " " (tag("Overdue", "red")) }
                            }
                        }
                    }
                }
            }
            nav.app-pagination aria-label="Pages" {
                @if queue.page > 1 {
                    a href=(page_link(kind, &filter, queue.page - 1)) { "Previous page" }
                }
                @if queue.more {
                    a href=(page_link(kind, &filter, queue.page + 1)) { "Next page" }
                }
            }
        }
    };
    respond(axum::http::StatusCode::OK, staff_page(kind.title(), body))
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

fn filters(kind: QueueKind, filter: &QueueFilter) -> Markup {
    let yes_no = |name: &str, label: &str, value: &Option<String>| {
        let value = value.as_deref().unwrap_or("");
        html! {
            div.app-form-group {
                label.app-label for=(name) { (label) }
                select.app-select #(name) name=(name) {
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
            div.app-form-group {
                label.app-label for="officer" { "Officer" }
                input.app-input #officer name="officer" type="text" value=(filter.officer.as_deref().unwrap_or(""))
                    placeholder="user name or unallocated";
            }
            (yes_no("domestic_abuse", "Domestic abuse", &filter.domestic_abuse))
            (yes_no("enhanced_rights", "Enhanced rights", &filter.enhanced_rights))
            (yes_no("repeat_victim", "Repeat victim", &filter.repeat_victim))
            div.app-form-group {
                label.app-label for="source" { "Source" }
                select.app-select #source name="source" {
                    option value="" selected[source.is_empty()] { "Any" }
                    @for (code, label) in [("police_feed", "Police feed"), ("self_referral", "Self-referral"), ("partner", "Partner")] {
                        option value=(code) selected[source == code] { (label) }
                    }
                }
            }
            button.app-button.app-button--secondary type="submit" { "Filter" }
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

//! Pages for specialist caseworkers and service managers: each service's caseload (the manager's view of every
//! case, the unallocated referrals, one caseworker's caseload, the reviews due), a page per case with the
//! safe-contact panel above every action, the actions its stage and its service's kind allow, and its timeline;
//! and a page for a referral made directly to the service. Forms post and redirect, or show the same page with an
//! error summary naming the rule, as the hub's pages do (ADR 5).
//!
//! - [`caseload`]: the index of services and a service's caseload;
//! - [`case`]: the case page, and the actions posted from it (each given as its command);
//! - [`actions`]: the action forms the case's stage allows (a kind's own forms come from [`crate::kinds`]);
//! - [`timeline`]: the case's events in words;
//! - [`refer`]: the direct-referral form.

mod actions;
mod case;
mod caseload;
mod refer;
mod timeline;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use casetrack_web::access::Routes;
use casetrack_web::pages::{tag, words};
use maud::Markup;

use crate::state::Desk;

/// The services' pages (state added by the caller).
pub fn routes() -> Routes<Desk> {
    use casetrack_web::access::Permission::{Casework, ServiceManagement, ServiceWork};
    Routes::new()
        .route("/services", Casework, get(caseload::index))
        .person("/services/{service}", ServiceWork, get(caseload::caseload_page).post(caseload::caseload_search))
        .route("/services/{service}/refer", ServiceWork, get(refer::refer_form).post(refer::refer))
        .person("/services/{service}/cases/{case_id}", ServiceWork, get(case::case_page))
        .route("/services/{service}/cases/{case_id}/{action}", ServiceWork, axum::routing::post(case::act))
        .route("/services/{service}/break-glass", ServiceManagement, get(break_glass_list))
}

/// The service manager's list of break-glass openings of the service's cases.
async fn break_glass_list(State(desk): State<Desk>, Path(service): Path<String>) -> Response {
    let title = format!("{} cases opened outside a role", service.to_uppercase());
    casetrack_web::pages::break_glass_page(&desk.context().db, &service, &title).await
}

fn status_tag(status: &str) -> Markup {
    let colour = match status {
        "awaiting_decision" => "yellow",
        "awaiting_contact" => "blue",
        "engaged" => "green",
        "declined_by_service" | "support_declined" => "orange",
        _ => "grey",
    };
    tag(&words(status), colour)
}

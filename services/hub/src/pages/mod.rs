//! Pages for hub officers, and the public self-referral form. Plain HTML forms that work without JavaScript; every
//! form posts, and is answered with a redirect to the page it changed (with `wait_for`, so the officer sees their
//! own change) or with the same page and a GOV.UK-style error summary saying which rule refused it.
//!
//! - [`queues`]: the work queues (`/hub`, `/hub/queues/{queue}`);
//! - [`referral`]: one referral: person summary, safe-contact warnings, the actions of its stage, the timeline;
//! - [`intake`]: logging an inbound call and uploading the police feed;
//! - [`self_referral`]: the public form (no sign-in, quick exit, rate limited, nothing echoed back);
//! - [`parts`]: what several pages show alike (status tags, flags, offence options, times);
//! - [`when`]: "When did this happen?" (a date input, an optional time and the reason for a late entry) on every
//!   form that records something from the world, and reading it back.
//!
//! Like the JSON api, a thin adapter: a page reads its form, calls one command (`crate::commands`) or view
//! (`crate::views`), and renders the answer. This file only lists the routes.

pub mod intake;
pub mod parts;
pub mod queues;
pub mod referral;
pub mod self_referral;
pub mod when;

use axum::routing::get;
use casetrack_web::access::Routes;

use crate::state::Hub;

/// The hub's pages (state added by the caller) and the public self-referral form.
pub fn routes() -> Routes<Hub> {
    use casetrack_web::access::Permission::{HubManagement, HubWork, Public};
    Routes::new()
        .route("/hub", HubWork, get(queues::home))
        .person("/hub/queues/{queue}", HubWork, get(queues::queue_page))
        .person("/hub/search", HubWork, get(queues::search_page).post(queues::search_by_name))
        .person("/hub/referrals/{referral_id}", HubWork, get(referral::page::referral_page))
        .route("/hub/referrals/{referral_id}/{action}", HubWork, axum::routing::post(referral::actions::act))
        .route("/hub/intake/call", HubWork, get(intake::call_form).post(intake::log_call))
        .route(
            "/hub/intake/upload",
            HubWork,
            get(intake::upload_form)
                .post(intake::upload)
                .layer(axum::extract::DefaultBodyLimit::max(casetrack_web::http::UPLOAD_LIMIT)),
        )
        .route("/hub/break-glass", HubManagement, get(break_glass_list))
        .route("/self-referral", Public, get(self_referral::form).post(self_referral::submit))
        .route("/self-referral/thanks", Public, get(self_referral::thanks))
}

/// The hub manager's list of break-glass openings of hub referrals.
async fn break_glass_list(axum::extract::State(hub): axum::extract::State<Hub>) -> axum::response::Response {
    casetrack_web::pages::break_glass_page(&hub.context().db, "hub", "Hub referrals opened outside a role").await
}

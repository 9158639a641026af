//! The public self-referral form: no sign-in, GOV.UK's "Exit this page" on every page, a limit per address. After a
//! problem the form comes back filled in as it was sent (a frightened person must not start again), in the answer to
//! their own POST only: never stored, never cached, never in an address; the thank-you page shows nothing typed
//! (ADR 0005 says how this protects a shared device).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use casetrack_proto::{Actor, Role};
use casetrack_web::http::ApiError;
use casetrack_web::pages::{FormData, FormErrors, checkboxes, public_page, respond, see_other};
use maud::{Markup, html};
use uuid::Uuid;

use super::intake::direct_fields;
use crate::commands::direct::{read_direct, take_direct};
use crate::state::Hub;

pub async fn form() -> Response {
    respond(StatusCode::OK, page(&FormErrors::new(), Uuid::new_v4(), None))
}

fn page(errors: &FormErrors, submission: Uuid, sent: Option<&FormData>) -> Markup {
    public_page(
        "Ask for support",
        html! {
            (errors.summary())
            h1.govuk-heading-l { "Ask for support after a crime" }
            p { "You can ask for support whether or not you have reported the crime to the police. It is free and confidential." }
            p { strong { "If you are in danger now, call 999." } }
            @if !errors.is_empty() {
                p.govuk-body { "What you typed is still here: correct what the box above says and send it again. If someone comes, use “Exit this page”." }
            }
            form method="post" action="/self-referral" novalidate autocomplete="off" {
                input type="hidden" name="submission" value=(submission);
                (direct_fields(sent, errors, false))
                (checkboxes("consent", "Your agreement", None,
                    &[("yes", "I agree that the Victim and Witness Hub keeps these details to contact me about support",
                        sent.is_some_and(|f| f.get("consent") == "yes"))], errors))
                button.govuk-button type="submit" { "Send" }
            }
        },
    )
}

pub async fn submit(State(hub): State<Hub>, parts: Parts, form: FormData) -> Response {
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(peer)| peer.ip());
    if !hub.public_limit().allow(address) {
        return respond(
            StatusCode::TOO_MANY_REQUESTS,
            public_page(
                "Too many requests",
                html! {
                    h1.govuk-heading-l { "Please try again later" }
                    p { "We have received several requests from this connection. Please try again in an hour, or phone the Victim and Witness Hub." }
                    p { strong { "If you are in danger now, call 999." } }
                },
            ),
        );
    }
    let submission = form.get("submission").parse::<Uuid>().unwrap_or_else(|_| Uuid::new_v4());
    let direct = read_direct(&form, false);
    let consent = form.get("consent") == "yes";
    let direct = match direct {
        Ok(direct) if consent => direct,
        result => {
            let mut errors = result.err().unwrap_or_default();
            if !consent {
                errors.add("consent", "Tick the box to agree that we keep your details, so we can contact you");
            }
            return respond(StatusCode::UNPROCESSABLE_ENTITY, page(&errors, submission, Some(&form)));
        }
    };
    let public = Actor { user_id: None, role: Role::Public };
    // The victim asks for support as they send the form: it happens now.
    let when = match hub.when(&Default::default()) {
        Ok(when) => when,
        Err(error) => return casetrack_web::pages::failure_page(&error),
    };
    match take_direct(hub.context(), submission, direct, &when, public).await {
        // The referral's id is not shown or put in the address: the victim needs nothing to keep.
        Ok(_) => see_other("/self-referral/thanks"),
        Err(error) => {
            let error = ApiError::from(error);
            respond(
                error.status,
                public_page(
                    "Sorry, there is a problem",
                    html! {
                        h1.govuk-heading-l { "Sorry, there is a problem" }
                        p { "Your request was not sent. Please try again in a few minutes, or phone the Victim and Witness Hub." }
                    },
                ),
            )
        }
    }
}

pub async fn thanks() -> Response {
    respond(
        StatusCode::OK,
        public_page(
            "Request sent",
            html! {
                div.govuk-panel.govuk-panel--confirmation {
                    h1.govuk-panel__title { "Request sent" }
                    div.govuk-panel__body { "A member of the Victim and Witness Hub will contact you in a way you told us is safe." }
                }
                p { strong { "If you are in danger now, call 999." } }
            },
        ),
    )
}

//! The public self-referral form: no sign-in, a quick exit on every page, a limit per address, and nothing the
//! victim typed ever shown back (not on an error, not on the thank-you page), so nobody looking at the screen or
//! the browser history afterwards learns anything.

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
    respond(StatusCode::OK, page(&FormErrors::new(), Uuid::new_v4()))
}

fn page(errors: &FormErrors, submission: Uuid) -> Markup {
    public_page(
        "Ask for support",
        html! {
            (errors.summary())
            h1.app-heading-l { "Ask for support after a crime" }
            p { "You can ask for support whether or not you have reported the crime to the police. It is free and confidential." }
            p { strong { "If you are in danger now, call 999." } }
            @if !errors.is_empty() {
                p { "For your safety we do not show what you typed again. Please fill in the form once more." }
            }
            form method="post" action="/self-referral" novalidate autocomplete="off" {
                input type="hidden" name="submission" value=(submission);
                (direct_fields(None, errors, false))
                (checkboxes("consent", "Your agreement", None,
                    &[("yes", "I agree that the Victim and Witness Hub keeps these details to contact me about support", false)], errors))
                button.app-button type="submit" { "Send" }
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
                    h1.app-heading-l { "Please try again later" }
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
            return respond(StatusCode::UNPROCESSABLE_ENTITY, page(&errors, submission));
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
                        h1.app-heading-l { "Sorry, there is a problem" }
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
                div.app-banner.app-banner--success {
                    h1.app-heading-l { "Request sent" }
                    p { "Thank you. A member of the Victim and Witness Hub will contact you in a way you told us is safe." }
                }
                p { strong { "If you are in danger now, call 999." } }
            },
        ),
    )
}

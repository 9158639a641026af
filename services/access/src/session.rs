//! What the sign-in routes share, whichever way a person signs in (password pages, API, identity provider): the
//! routes' state, where to go after signing in, and the response that starts a session.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use casetrack_web::Context;
use casetrack_web::access;
use casetrack_web::config::Secret;

/// What the sign-in routes share: the context, and the identity provider when one is set up.
#[derive(Clone)]
pub struct SignInState {
    pub ctx: Context,
    pub oidc: Option<Arc<OidcConfig>>,
}

/// The provider and Casetrack's registration with it.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Where the provider sends people back (`https://casetrack.example/oidc/callback`). Without it, the address
    /// the request came to is used; the provider still accepts only the redirect addresses registered with it.
    pub redirect_url: Option<String>,
}

/// Only a path of this site (`/hub/...`), never another site, is followed after signing in.
pub(crate) fn local_path(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') { next } else { "/" }
}

/// A response that starts a session: the cookie, and where to go next.
pub(crate) fn with_session(mut response: Response, token: &str, headers: &HeaderMap) -> Response {
    if let Ok(cookie) = HeaderValue::from_str(&access::session_cookie(token, headers)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

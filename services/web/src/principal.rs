//! Who is asking: the signed-in user of the request being handled (set by the guard around every handler), the
//! actor a command is stamped with, and the names of the session cookie, the CSRF token and the sign-in pages.

use std::sync::Arc;

use casetrack_proto::Actor;
use maud::{Markup, html};

use crate::accounts::Account;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "casetrack_session";
/// The hidden form field, or the `x-csrf-token` header of API calls, carrying the session's CSRF token.
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Where signed-out visitors of a page are sent.
pub const SIGN_IN_PATH: &str = "/sign-in";
/// The one page a user with a one-time password may use until they choose their own.
pub const PASSWORD_PATH: &str = "/account/password";
/// The signed-in user of the current request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: Account,
    pub csrf: String,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor::user(self.account.account_id, self.account.role.clone())
    }
}

tokio::task_local! {
    /// The signed-in user of the request being handled: the guard sets it around every handler.
    pub(crate) static CURRENT: Option<Arc<Principal>>;
}

/// The signed-in user of the request being handled, if any. The guard sets it around every handler.
pub fn current() -> Option<Arc<Principal>> {
    CURRENT.try_with(Clone::clone).ok().flatten()
}

/// Runs `work` as `account`, as if it were a request of theirs: for work done on a user's behalf outside a request
/// (`casetrack demo` giving its commands as its demo staff).
pub async fn as_account<F: std::future::Future>(account: Account, work: F) -> F::Output {
    let principal = Principal { account, csrf: String::new() };
    CURRENT.scope(Some(Arc::new(principal)), work).await
}

/// The actor of the request being handled: the signed-in user. Commands are stamped from the session, never from
/// what a request says about itself.
///
/// # Panics
/// Outside a signed-in request. Code outside requests (imports, reactors, scheduled jobs) names its actor itself;
/// every route that commands needs a signed-in permission, so a panic here is a bug in a route's declaration.
pub fn acting() -> Actor {
    current().expect("acting() is only called while handling a signed-in request").actor()
}

/// The hidden CSRF field every staff form carries.
pub fn csrf_field() -> Markup {
    let token = current().map(|p| p.csrf.clone()).unwrap_or_default();
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

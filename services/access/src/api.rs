//! The access service's JSON API beyond signing in (which is in [`crate::pages`] beside the sign-in page): one's
//! own password, `POST /api/account/password`, under the same rules as the page at `/account/password`
//! (`casetrack_web::accounts::change_own_password`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use casetrack_web::Context;
use casetrack_web::access::{self, current};
use casetrack_web::accounts::{self, AccountFailure};
use casetrack_web::http::{ApiError, ErrorBody};
use serde::Deserialize;

/// `{"current_password", "new_password"}`: never logged.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    /// At least 12 characters, different from the current one.
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChangeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChangeRequest { .. }")
    }
}

/// Changes the signed-in account's own password: the current one must be right and the new one must follow the
/// password rule. The session it is changed in stays signed in; every other session of the account ends.
#[utoipa::path(post, path = "/api/account/password", request_body = PasswordChangeRequest,
    responses((status = 204, description = "changed; other sessions of the account have ended"),
        (status = 422, description = "the current password is not right, or the new one breaks the password rule \
            (`password_refused`)", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn change_password(
    State(ctx): State<Context>,
    headers: HeaderMap,
    axum::Json(request): axum::Json<PasswordChangeRequest>,
) -> Response {
    let Some(principal) = current() else {
        return ApiError { status: StatusCode::UNAUTHORIZED, code: "signed_out", message: "Sign in first.".into() }
            .into_response();
    };
    let token = access::session_token(&headers).unwrap_or_default();
    match accounts::change_own_password(
        &ctx.db,
        &principal.account,
        &request.current_password,
        &request.new_password,
        &token,
    )
    .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(AccountFailure::Refused(refused)) => {
            ApiError::rejected("password_refused", refused.to_string()).into_response()
        }
        Err(AccountFailure::Database(error)) => ApiError::unavailable(error).into_response(),
    }
}

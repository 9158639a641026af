//! Errors as a person or a client program sees them: "the rules said no" (409/422, in plain words) apart from
//! "the infrastructure failed" (503, its cause logged, never sent), and the limits on what a request may carry.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error as a person or a client program sees it: a stable code, a message in plain words, and nothing of the
/// cause when the cause is ours (that goes to the log, not the response).
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable rule or failure name.
    pub code: String,
    /// What went wrong, in words a caseworker understands.
    pub message: String,
}

impl ApiError {
    /// The rules said no (422): `code` names the rule.
    pub fn rejected(code: &'static str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::UNPROCESSABLE_ENTITY, code, message: message.into() }
    }

    /// The request conflicts with the record's current state (409).
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::CONFLICT, code, message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, code: "not_found", message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code: "bad_request", message: message.into() }
    }

    /// Our side failed (503): the cause is logged with its chain, the response says only that.
    pub fn unavailable(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        tracing::error!(error = %format!("{error:#}"), "request failed");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: "Casetrack could not complete this just now; nothing was saved. Please try again.".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code.into(), message: self.message } };
        (self.status, Json(body)).into_response()
    }
}

/// The largest request body: an upload of the police feed (about 250,000 rows). Every other body is held to [`BODY_LIMIT`].
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;
/// The largest request body of anything but an upload.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

impl<R: casetrack_eventstore::command::Rejection> From<casetrack_eventstore::command::CommandError<R>> for ApiError {
    fn from(error: casetrack_eventstore::command::CommandError<R>) -> Self {
        use casetrack_eventstore::command::CommandError;
        match error {
            CommandError::Rejected(rejection) => ApiError::conflict(rejection.code(), rejection.to_string()),
            CommandError::Contended => ApiError::conflict("contended", error.to_string()),
            CommandError::Infrastructure(cause) => ApiError::unavailable(cause),
        }
    }
}

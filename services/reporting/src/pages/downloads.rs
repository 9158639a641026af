//! The figures on screen as a CSV file or a workbook.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use casetrack_web::http::ApiError;

use crate::params::SummaryParams;
use crate::views::report::Request;

use super::common::{FiguresState, report_for, request_of};

pub(super) async fn export_csv(State(state): State<FiguresState>, Query(params): Query<SummaryParams>) -> Response {
    let request = match request_of(&params) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    match report_for(&state, &request).await {
        Ok(report) => match crate::export::csv(&report) {
            Ok(text) => download(text.into_bytes(), "text/csv; charset=utf-8", &request, "csv"),
            Err(error) => ApiError::unavailable(error).into_response(),
        },
        Err(error) => error.into_response(),
    }
}

pub(super) async fn export_xlsx(State(state): State<FiguresState>, Query(params): Query<SummaryParams>) -> Response {
    let request = match request_of(&params) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    match report_for(&state, &request).await {
        Ok(report) => match crate::export::workbook(&report) {
            Ok(bytes) => {
                download(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &request, "xlsx")
            }
            Err(error) => ApiError::unavailable(error).into_response(),
        },
        Err(error) => error.into_response(),
    }
}

fn download(bytes: Vec<u8>, content_type: &'static str, request: &Request, extension: &str) -> Response {
    let name = format!("casetrack-figures-{}-to-{}.{extension}", request.from, request.to);
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

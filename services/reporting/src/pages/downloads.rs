//! The figures on screen as a CSV file (wide or long) or a workbook, exact for the commissioner's own use or "for
//! publication" (`publish=yes`: small numbers hidden). Every download is of figures that have counted the whole log.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use casetrack_web::http::ApiError;
use serde::Deserialize;

use crate::params::SummaryParams;
use crate::views::report::{Report, Request};

use super::common::{FiguresState, report_for, request_of, up_to_date};

/// A download's parameters: the figures' own, and whether they are for publication.
#[derive(Debug, Default, Deserialize)]
pub struct DownloadParams {
    #[serde(flatten)]
    pub figures: SummaryParams,
    /// `yes`: prepared for publication (small numbers hidden).
    #[serde(default)]
    pub publish: String,
}

impl DownloadParams {
    fn for_publication(&self) -> bool {
        matches!(self.publish.trim(), "yes" | "true" | "1")
    }
}

#[derive(Clone, Copy)]
pub(super) enum Layout {
    Wide,
    Long,
    Workbook,
}

async fn export(state: &FiguresState, params: &DownloadParams, layout: Layout) -> Response {
    let request = match request_of(&params.figures) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    if let Err(error) = up_to_date(state).await {
        return error.into_response();
    }
    let publish = params.for_publication();
    let report: Report = match report_for(state, &request, publish).await {
        Ok(report) => report,
        Err(error) => return error.into_response(),
    };
    let made = match layout {
        Layout::Wide => crate::export::csv(&report).map(String::into_bytes),
        Layout::Long => crate::export::csv_long(&report).map(String::into_bytes),
        Layout::Workbook => crate::export::workbook(&report, publish, state.threshold).map_err(anyhow::Error::from),
    };
    let (content_type, extension, part) = match layout {
        Layout::Wide => ("text/csv; charset=utf-8", "csv", ""),
        Layout::Long => ("text/csv; charset=utf-8", "csv", "-long"),
        Layout::Workbook => ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", ""),
    };
    match made {
        Ok(bytes) => download(
            bytes,
            content_type,
            &request,
            &format!("{part}{}", if publish { "-for-publication" } else { "" }),
            extension,
        ),
        Err(error) => ApiError::unavailable(error).into_response(),
    }
}

pub(super) async fn export_csv(State(state): State<FiguresState>, Query(params): Query<DownloadParams>) -> Response {
    export(&state, &params, Layout::Wide).await
}

pub(super) async fn export_csv_long(
    State(state): State<FiguresState>,
    Query(params): Query<DownloadParams>,
) -> Response {
    export(&state, &params, Layout::Long).await
}

pub(super) async fn export_xlsx(State(state): State<FiguresState>, Query(params): Query<DownloadParams>) -> Response {
    export(&state, &params, Layout::Workbook).await
}

pub(super) fn download(
    bytes: Vec<u8>,
    content_type: &'static str,
    request: &Request,
    part: &str,
    extension: &str,
) -> Response {
    let name = format!("casetrack-figures-{}-to-{}{part}.{extension}", request.from, request.to);
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /figures/return.xlsx?period=FY2026-27 Q1[&publish=yes]`: the funder's return for the period, a sheet per
/// service.
pub(super) async fn return_xlsx(State(state): State<FiguresState>, Query(params): Query<DownloadParams>) -> Response {
    let request = match request_of(&params.figures) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    if let Err(error) = up_to_date(&state).await {
        return error.into_response();
    }
    let publish = params.for_publication();
    let funders = match crate::returns::funders_return(&state.ctx, &request, publish, state.threshold).await {
        Ok(funders) => funders,
        Err(error) => return error.into_response(),
    };
    match crate::returns::workbook(&funders) {
        Ok(bytes) => download(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &request,
            if publish { "-return-for-publication" } else { "-return" },
            "xlsx",
        ),
        Err(error) => ApiError::unavailable(error).into_response(),
    }
}

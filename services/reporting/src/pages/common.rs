//! What every figures page shares: the routes' state, whose service the signed-in user works, and the request and
//! report a page's parameters make.

use casetrack_proto::Role;
use casetrack_web::Context;
use casetrack_web::http::ApiError;

use crate::params::SummaryParams;
use crate::periods::financial_year_of;
use crate::views::report::{Report, Request, for_commissioner, publish, report};

#[derive(Clone)]
pub struct FiguresState {
    pub ctx: Context,
    /// Counts from 1 to threshold - 1 are shown as "<threshold".
    pub threshold: u64,
}

/// The service whose referrals or cases the signed-in user works (hub staff: the hub), if any.
pub(super) fn own_service() -> Option<String> {
    let principal = casetrack_web::access::current()?;
    match &principal.account.role {
        Role::HubOfficer | Role::HubManager => Some("hub".into()),
        Role::Caseworker(service) | Role::ServiceManager(service) => Some(service.as_str().to_owned()),
        _ => None,
    }
}

pub(super) fn commissioner() -> bool {
    casetrack_web::access::current().is_some_and(|p| p.account.role == Role::Commissioner)
}

/// The request the page's parameters make; without dates, this financial year so far.
pub(super) fn request_of(params: &SummaryParams) -> Result<Request, ApiError> {
    let today = casetrack_eventstore::clock::now().date_naive();
    let mut params = SummaryParams { wait_for: None, ..params.clone() };
    if params.period.trim().is_empty() {
        if params.from.trim().is_empty() {
            params.from = financial_year_of(today).from.to_string();
        }
        if params.to.trim().is_empty() {
            params.to = today.to_string();
        }
    }
    params.request()
}

/// The report a signed-in user may see: for publication when asked (small numbers and what would give one away
/// hidden); for a commissioner, exact but for breakdowns by the victims' characteristics; for staff, exact.
pub(super) async fn report_for(
    state: &FiguresState,
    request: &Request,
    for_publication: bool,
) -> Result<Report, ApiError> {
    let report = report(&state.ctx, request).await?;
    Ok(if for_publication {
        publish(report, state.threshold)
    } else if commissioner() {
        for_commissioner(report, state.threshold)
    } else {
        report
    })
}

/// The download's query: the same figures as on screen.
pub(super) fn query_of(request: &Request) -> String {
    let mut query = format!("from={}&to={}", request.from, request.to);
    if let Some(service) = &request.service {
        query.push_str(&format!("&service={service}"));
    }
    if let Some(by) = &request.by {
        query.push_str(&format!("&by={by}"));
    }
    query
}

/// Every export is of figures that have counted the whole log: waits (up to 5 s) for the projections to reach the
/// log's head as it is now, else refuses, saying how far behind the figures are.
pub(super) async fn up_to_date(state: &FiguresState) -> Result<(), ApiError> {
    let head = state.ctx.log.head().await.map_err(ApiError::unavailable)?;
    for projection in crate::freshness::projections() {
        let status = state.ctx.projections.status(projection.name());
        if !status.wait_for(head, std::time::Duration::from_secs(5)).await {
            let freshness = crate::freshness::freshness(&state.ctx).await.map_err(ApiError::unavailable)?;
            return Err(ApiError {
                status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
                code: "figures_behind",
                message: format!(
                    "The figures are still being counted ({} events to go), so a download now would be out of date. \
                     Try again in a minute.",
                    crate::labels::thousands(freshness.behind().max(1))
                ),
            });
        }
    }
    Ok(())
}

/// The sentence the dashboard shows while its figures lag behind the log, if they do.
pub(super) async fn lag_notice(state: &FiguresState) -> Option<String> {
    let freshness = crate::freshness::freshness(&state.ctx).await.ok()?;
    if freshness.behind() == 0 {
        return None;
    }
    let up_to = crate::freshness::counted_up_to(&state.ctx, freshness.counted).await;
    crate::freshness::lag_sentence(&freshness, up_to)
}

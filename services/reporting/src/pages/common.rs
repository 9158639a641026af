//! What every figures page shares: the routes' state, whose service the signed-in user works, and the request and
//! report a page's parameters make.

use casetrack_proto::Role;
use casetrack_web::Context;
use casetrack_web::http::ApiError;

use crate::params::SummaryParams;
use crate::periods::financial_year_of;
use crate::views::report::{Report, Request, publish, report};

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

/// The report a signed-in user may see: published for a commissioner.
pub(super) async fn report_for(state: &FiguresState, request: &Request) -> Result<Report, ApiError> {
    let report = report(&state.ctx, request).await?;
    Ok(if commissioner() { publish(report, state.threshold) } else { report })
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

//! What the API and the pages ask for figures by: a period (dates or a named period), a service and a breakdown,
//! read into a [`Request`].

use casetrack_web::http::ApiError;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::views::report::Request;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// First day of the period, YYYY-MM-DD (days in England and Wales).
    #[serde(default)]
    pub from: String,
    /// Last day of the period, YYYY-MM-DD (included).
    #[serde(default)]
    pub to: String,
    /// A named period instead of from and to: `2026-07`, `FY2026-27` or `FY2026-27 Q1`.
    #[serde(default)]
    pub period: String,
    /// Only this service (`hub`, `idva`, ...).
    #[serde(default)]
    pub service: String,
    /// Break the funnel down by one dimension: source, offence, domestic_abuse, age_band, gender, ethnic_group,
    /// bame, disability or repeat_victim.
    #[serde(default)]
    pub by: String,
    /// Wait (up to 5 s) until the figures include this log position.
    pub wait_for: Option<u64>,
}

pub(crate) fn parse_day(value: &str, field: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::rejected("date_invalid", format!("Enter {field} as YYYY-MM-DD, for example 2026-04-01."))
    })
}

impl SummaryParams {
    /// The request these parameters make, or which rule they break.
    pub fn request(&self) -> Result<Request, ApiError> {
        let (from, to) = match self.period.trim() {
            "" => (parse_day(&self.from, "the start date")?, parse_day(&self.to, "the end date")?),
            text => {
                let period =
                    crate::periods::parse(text).map_err(|problem| ApiError::rejected("period_invalid", problem))?;
                (period.from, period.to)
            }
        };
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let request = Request { from, to, service: text(&self.service), by: text(&self.by) };
        request.check()?;
        Ok(request)
    }
}

//! When a command's fact happened, as a request gives it ([`WhenRequest`]: two optional fields every request that
//! records something from the world carries), and its reading into the aggregate's [`When`] against the command's
//! clock and the hub's back-dating window.

use casetrack_web::http::ApiError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::referral::When;
use crate::state::Hub;
use crate::values;

/// When it happened, and why it is recorded late: part of every request that records something from the world.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct WhenRequest {
    /// When it happened in the world (domain time, what figures and the Victims' Code clocks count by): an RFC 3339
    /// date-time (`2026-04-03T14:30:00+01:00`), or a plain date (`2026-04-03`) where only the day is known, taken as
    /// 12:00 UK local time that day (now, for today). Left out: now. Refused in the future, before the referral was
    /// received, or (for a closure) before the last thing that happened on it.
    #[schema(value_type = Option<String>, example = "2026-04-03")]
    pub occurred_at: Option<String>,
    /// Why it is being recorded late: needed only when `occurred_at` is further back than the hub's back-dating
    /// window (14 days unless set); the command is then flagged as a late entry in the audit trail.
    pub late_reason: Option<String>,
}

impl Hub {
    /// The request's time against the command's clock: when it happened (now when not given), and the reason.
    pub fn when(&self, request: &WhenRequest) -> Result<When, ApiError> {
        let now = casetrack_eventstore::clock::now();
        let at = values::occurred_at(request.occurred_at.as_deref(), now)?;
        Ok(self.when_at(at, now, request.late_reason.as_deref()))
    }

    /// A fact that happened at `at`, recorded `now`, with the reason given for a late entry (if any).
    pub fn when_at(&self, at: DateTime<Utc>, now: DateTime<Utc>, late_reason: Option<&str>) -> When {
        let reason = late_reason.map(str::trim).filter(|reason| !reason.is_empty()).map(str::to_owned);
        When { at, now, window: self.settings().back_dating, reason }
    }
}

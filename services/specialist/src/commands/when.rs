//! When a command's fact happened, as a request states it ([`Stated`]): the two optional fields of a request that
//! records something from the world ([`WhenRequest`]), the date or moment a request carries for its fact itself (a
//! MARAC hearing's day, a contact attempt's time) with a reason for recording it late, or now. [`Stated::when`] reads
//! it into the aggregate's [`When`] against the command's clock and the back-dating window, and [`CaseWritten::mark`]
//! flags a late entry on the response so the access guard writes it to the audit trail.

use axum::response::{IntoResponse, Response};
use casetrack_casework::occurred::{BackDating, Lateness};
use casetrack_web::http::ApiError;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::CaseWritten;
use crate::case::When;

/// When it happened, and why it is recorded late: part of every request on a case that records something from the
/// world and carries no date of its own.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = CaseWhenRequest)]
pub struct WhenRequest {
    /// When it happened in the world (domain time, what figures and the Victims' Code clocks count by): an RFC 3339
    /// date-time (`2026-04-03T14:30:00+01:00`), or a plain date (`2026-04-03`) where only the day is known, taken as
    /// 12:00 UK local time that day (or now, for today before noon). Left out: now. Refused in the future, before
    /// the case opened, or (for a closure) before the last thing that happened on the case.
    #[schema(value_type = Option<String>, example = "2026-04-03")]
    pub occurred_at: Option<String>,
    /// Why it is being recorded late: needed only when it happened further back than the back-dating window (14
    /// days unless set); the command is then flagged as a late entry in the audit trail.
    pub late_reason: Option<String>,
}

/// When a command's fact happened, as its request states it.
#[derive(Debug, Clone, Copy)]
pub enum Stated<'a> {
    /// The request's own `occurred_at` and `late_reason` (absent: now).
    Given(&'a WhenRequest),
    /// A day the request carries for the fact itself (an intervention held, information given), and the late
    /// reason.
    On(NaiveDate, Option<&'a str>),
    /// A day another agency's process reached a point (a criminal-justice stage, a MARAC referral or hearing, a
    /// protection order), and the late reason: it may come before the case opened, and then counts on the case
    /// from its opening (`crate::case::settle_day`).
    Outside(NaiveDate, Option<&'a str>),
    /// A moment the request carries for the fact itself (a contact attempt), and the late reason.
    At(DateTime<Utc>, Option<&'a str>),
    /// Now: the command records a decision of the service's own (an allocation, the safe-contact rules in force).
    Now,
}

impl Stated<'_> {
    /// Whether only the day is known (a date without a time): [`on_day`] takes it as noon, which the door settles
    /// against the case's facts (`crate::case::settle_day`).
    pub fn is_day_only(self) -> bool {
        match self {
            Self::On(..) | Self::Outside(..) => true,
            Self::Given(request) => request
                .occurred_at
                .as_deref()
                .is_some_and(|text| NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").is_ok()),
            Self::At(..) | Self::Now => false,
        }
    }

    /// Whether the fact is another agency's, which may come before the case opened.
    pub fn is_outside(self) -> bool {
        matches!(self, Self::Outside(..))
    }

    /// When the fact happened, against the command's clock `now` and the back-dating `window`.
    pub fn when(self, now: DateTime<Utc>, window: BackDating) -> Result<When, ApiError> {
        let (at, reason) = match self {
            Self::Given(request) => (occurred_at(request.occurred_at.as_deref(), now)?, request.late_reason.as_deref()),
            Self::On(day, reason) | Self::Outside(day, reason) => (on_day(day, now), reason),
            Self::At(at, reason) => (at, reason),
            Self::Now => (now, None),
        };
        let reason = reason.map(str::trim).filter(|reason| !reason.is_empty()).map(str::to_owned);
        Ok(When { at, now, window, reason })
    }
}

/// When something happened, as a request gives it: an RFC 3339 date-time, or a date (`YYYY-MM-DD`) where only the
/// day is known ([`on_day`]). Nothing given means `now` (the command's clock).
pub fn occurred_at(text: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else { return Ok(now) };
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(day) => Ok(on_day(day, now)),
        Err(_) => Err(ApiError::rejected(
            "occurred_at_invalid",
            "Give when it happened as a date and time (for example 2026-04-03T14:30:00+01:00) or a date (2026-04-03).",
        )),
    }
}

/// A day something happened on, where the time is not known: 12:00 UK local time that day, or `now` when that is
/// still to come (today, in the morning), so that a day given as today is never refused as in the future.
pub fn on_day(day: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    let at = uk_time(day, NaiveTime::from_hms_opt(12, 0, 0).expect("a valid time"));
    let today = now.with_timezone(&London).date_naive();
    if day == today && at > now { now } else { at }
}

/// A day and a time of day on the UK's clock (the earlier, at the autumn change; an hour on, at the spring gap).
pub fn uk_time(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = day.and_time(time);
    London
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| London.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest())
        .map_or_else(|| local.and_utc(), |at| at.with_timezone(&Utc))
}

impl CaseWritten {
    /// The adapter's response to this command, flagged as a late entry when the fact was dated beyond the
    /// back-dating window (with the reason given), so the access guard writes that to the audit trail.
    pub fn mark(&self, response: impl IntoResponse) -> Response {
        match &self.lateness {
            Lateness::Late { days, reason } => casetrack_web::access::late_entry(response, *days, reason),
            Lateness::OnTime => response.into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_it_happened_is_a_date_time_or_a_day_at_noon_uk_time_and_now_when_not_given() {
        let now = Utc.with_ymd_and_hms(2026, 7, 10, 9, 0, 0).unwrap();
        assert_eq!(occurred_at(None, now).unwrap(), now);
        assert_eq!(occurred_at(Some(" "), now).unwrap(), now);
        let given = occurred_at(Some("2026-04-03T14:30:00+01:00"), now).unwrap();
        assert_eq!(given, Utc.with_ymd_and_hms(2026, 4, 3, 13, 30, 0).unwrap());
        // 12:00 in London: British Summer Time in June, Greenwich Mean Time in December.
        assert_eq!(occurred_at(Some("2019-06-03"), now).unwrap(), Utc.with_ymd_and_hms(2019, 6, 3, 11, 0, 0).unwrap());
        assert_eq!(occurred_at(Some("2019-12-07"), now).unwrap(), Utc.with_ymd_and_hms(2019, 12, 7, 12, 0, 0).unwrap());
        // Today, before noon: now, not a time still to come; tomorrow stays tomorrow (and is refused later).
        assert_eq!(occurred_at(Some("2026-07-10"), now).unwrap(), now);
        assert!(occurred_at(Some("2026-07-11"), now).unwrap() > now);
        assert_eq!(occurred_at(Some("3/4/2026"), now).unwrap_err().code, "occurred_at_invalid");
    }

    #[test]
    fn a_stated_day_or_moment_is_the_facts_time_and_a_blank_reason_is_none() {
        let now = Utc.with_ymd_and_hms(2026, 7, 10, 15, 0, 0).unwrap();
        let window = BackDating::default();
        let day = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let on = Stated::On(day, Some("  ")).when(now, window).unwrap();
        assert_eq!((on.at, on.reason), (Utc.with_ymd_and_hms(2026, 7, 1, 11, 0, 0).unwrap(), None));
        let request = WhenRequest { occurred_at: None, late_reason: Some(" typed up from notes ".into()) };
        let given = Stated::Given(&request).when(now, window).unwrap();
        assert_eq!((given.at, given.reason.as_deref()), (now, Some("typed up from notes")));
        assert_eq!(Stated::Now.when(now, window).unwrap(), When::now(now, window));
        let day_only = WhenRequest { occurred_at: Some("2026-07-01".into()), late_reason: None };
        assert!(Stated::Given(&day_only).is_day_only() && Stated::On(day, None).is_day_only());
        assert!(!Stated::Given(&request).is_day_only() && !Stated::At(now, None).is_day_only());
    }
}

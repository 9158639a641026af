//! When something on a record happened (domain time), and the rules that keep it from running backwards.
//!
//! Records are written late: a caseworker types up Friday's call on Monday, a MARAC outcome arrives weeks after
//! the meeting, a service brings years of history with it. So every command says when its fact happened, and the
//! figures and the Victims' Code clocks count by that. These rules are the same for a hub referral and a
//! specialist case, so both pathways call [`check`] from their decisions:
//! - nothing happens in the future;
//! - nothing on a record happens before the record began (the referral was received, the case opened);
//! - a record is not closed before the last thing that happened on it;
//! - a date further back than the service's back-dating window needs a reason, and the command is then marked
//!   as a late entry ([`Lateness::Late`]) for the audit trail.

use chrono::{DateTime, Duration, Utc};

/// How far back a caseworker may date a record without giving a reason (a service setting; 14 days unless set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackDating {
    pub days: u32,
}

impl Default for BackDating {
    fn default() -> Self {
        Self { days: 14 }
    }
}

/// When the record the fact belongs to began, and when the latest thing on it happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordTimes {
    pub began: Option<DateTime<Utc>>,
    pub latest: Option<DateTime<Utc>>,
}

/// What a fact does to its record: most add to it; a closure ends it, so nothing on the record may come after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The fact that begins the record (a referral received, a case opened): nothing on it can come before.
    Begins,
    /// Anything else recorded on it.
    Adds,
    /// The record's closure.
    Closes,
}

/// Whether the fact was recorded within the back-dating window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lateness {
    OnTime,
    /// Dated further back than the window allows, with the reason given for it.
    Late {
        days: i64,
        reason: String,
    },
}

/// Why a time was refused, in the words a caseworker reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeRejection {
    #[error("the date and time given are in the future")]
    InFuture,
    #[error("this cannot have happened before the record began on {began}")]
    BeforeRecordBegan { began: String },
    #[error("the record cannot be closed before the last thing that happened on it, on {latest}")]
    ClosedBeforeLatest { latest: String },
    #[error(
        "this happened {days} days ago, more than the {window} days a record may be dated back without a reason: \
         say why it is being recorded late"
    )]
    LateWithoutReason { days: i64, window: u32 },
}

impl TimeRejection {
    /// A stable code naming the rule, for the API and the tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InFuture => "occurred_in_future",
            Self::BeforeRecordBegan { .. } => "occurred_before_record_began",
            Self::ClosedBeforeLatest { .. } => "closed_before_latest",
            Self::LateWithoutReason { .. } => "late_entry_needs_reason",
        }
    }
}

/// When the fact a command records happened, and what it is weighed against: the decision that records it stays
/// pure, and is handed all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    /// When it happened in the world: the event's `occurred_at`.
    pub at: DateTime<Utc>,
    /// When it is being recorded: the command's clock.
    pub now: DateTime<Utc>,
    /// How far back it may be dated without a reason (the service's setting).
    pub window: BackDating,
    /// Why it is being recorded late, when a reason was given.
    pub reason: Option<String>,
}

impl When {
    /// The day it happened in England and Wales (what a period, a list in force or a Victims' Code clock counts).
    pub fn day(&self) -> chrono::NaiveDate {
        self.at.with_timezone(&chrono_tz::Europe::London).date_naive()
    }

    /// Something happening as it is recorded.
    pub fn now(now: DateTime<Utc>, window: BackDating) -> Self {
        Self { at: now, now, window, reason: None }
    }
}

/// The events of `decision` once the time they happened keeps the record's time running forwards (`record`: when
/// its first and latest facts happened), with whether they are a late entry. What the first event does to the
/// record (`step`) says which rules apply; a decision that writes nothing records no time, so nothing is checked.
/// A refused time becomes the pathway's own rejection (`rejected`).
pub fn timed<E, R>(
    decision: Result<Vec<E>, R>,
    step: impl Fn(&E) -> Step,
    record: RecordTimes,
    when: &When,
    rejected: impl FnOnce(TimeRejection) -> R,
) -> Result<(Vec<E>, Lateness), R> {
    let events = decision?;
    let Some(first) = events.first() else { return Ok((events, Lateness::OnTime)) };
    let lateness =
        check(when.at, step(first), record, when.now, when.window, when.reason.as_deref()).map_err(rejected)?;
    Ok((events, lateness))
}

/// A few minutes of leeway for a client's clock running ahead of the server's.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Checks that a fact of `step` on a record with `record` times, said to have happened `at`, keeps time running
/// forwards, as recorded `now` under `window`; `reason` is the reason given for a late entry, if any.
pub fn check(
    at: DateTime<Utc>,
    step: Step,
    record: RecordTimes,
    now: DateTime<Utc>,
    window: BackDating,
    reason: Option<&str>,
) -> Result<Lateness, TimeRejection> {
    if at > now + CLOCK_SKEW {
        return Err(TimeRejection::InFuture);
    }
    if step != Step::Begins
        && let Some(began) = record.began
        && at < began
    {
        return Err(TimeRejection::BeforeRecordBegan { began: long_day(began) });
    }
    if step == Step::Closes
        && let Some(latest) = record.latest
        && at < latest
    {
        return Err(TimeRejection::ClosedBeforeLatest { latest: long_day(latest) });
    }
    let days = (now.date_naive() - at.date_naive()).num_days();
    if days <= i64::from(window.days) {
        return Ok(Lateness::OnTime);
    }
    match reason.map(str::trim).filter(|reason| !reason.is_empty()) {
        Some(reason) => Ok(Lateness::Late { days, reason: reason.to_owned() }),
        None => Err(TimeRejection::LateWithoutReason { days, window: window.days }),
    }
}

/// The day in England and Wales (a receipt at 00:30 BST on 7 May is on 7 May, though still 6 May in UTC).
fn long_day(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::London).format("%-d %B %Y").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn record() -> RecordTimes {
        RecordTimes { began: Some(at(2026, 11, 2, 9)), latest: Some(at(2026, 11, 20, 15)) }
    }

    const NOW: fn() -> DateTime<Utc> = || at(2026, 12, 4, 12);

    #[test]
    fn a_fact_within_the_window_is_on_time() {
        let given = check(at(2026, 11, 27, 10), Step::Adds, record(), NOW(), BackDating::default(), None);
        assert_eq!(given, Ok(Lateness::OnTime));
    }

    #[test]
    fn the_future_is_refused() {
        let given = check(at(2026, 12, 5, 9), Step::Adds, record(), NOW(), BackDating::default(), None);
        assert_eq!(given, Err(TimeRejection::InFuture));
    }

    #[test]
    fn nothing_happens_before_the_record_began() {
        let given = check(at(2026, 11, 1, 9), Step::Adds, record(), NOW(), BackDating { days: 365 }, None);
        assert_eq!(given, Err(TimeRejection::BeforeRecordBegan { began: "2 November 2026".into() }));
        assert_eq!(given.unwrap_err().code(), "occurred_before_record_began");
    }

    #[test]
    fn a_closure_comes_after_the_last_thing_on_the_record() {
        let given = check(at(2026, 11, 19, 9), Step::Closes, record(), NOW(), BackDating { days: 365 }, None);
        assert_eq!(given, Err(TimeRejection::ClosedBeforeLatest { latest: "20 November 2026".into() }));
        let later = check(at(2026, 11, 21, 9), Step::Closes, record(), NOW(), BackDating { days: 365 }, None);
        assert_eq!(later, Ok(Lateness::OnTime));
    }

    #[test]
    fn beyond_the_window_a_reason_is_needed_and_the_entry_is_late() {
        let old = at(2026, 11, 3, 9);
        let refused = check(old, Step::Adds, record(), NOW(), BackDating::default(), Some("  "));
        assert_eq!(refused, Err(TimeRejection::LateWithoutReason { days: 31, window: 14 }));
        let given = check(old, Step::Adds, record(), NOW(), BackDating::default(), Some("typed up from paper notes"));
        assert_eq!(given, Ok(Lateness::Late { days: 31, reason: "typed up from paper notes".into() }));
    }

    #[test]
    fn history_begins_a_record_years_back_with_a_reason() {
        let received = at(2019, 5, 7, 10);
        let given =
            check(received, Step::Begins, RecordTimes::default(), NOW(), BackDating::default(), Some("history"));
        assert!(matches!(given, Ok(Lateness::Late { .. })));
    }
}

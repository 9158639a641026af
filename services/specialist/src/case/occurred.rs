//! When a case's facts happened (domain time). The rule is the one both pathways share,
//! `casetrack_casework::occurred::check`: nothing in the future, nothing before the case opened, no closure before
//! the last thing that happened on it, and a reason for a date beyond the back-dating window.
//!
//! [`timed`] applies it to what a decision would write, so every decision stays pure: the time the fact happened,
//! the clock, the window and the reason arrive as a [`When`], and when the case's facts happened as the
//! `RecordTimes` the command handler loads with its events (`execute_timed`).

use casetrack_casework::occurred::{Lateness, RecordTimes, Step};
use casetrack_proto::specialist::SpecialistEvent;
use chrono::{DateTime, Utc};
use chrono_tz::Europe::London;

use super::{CaseRejection, Decision};

pub use casetrack_casework::occurred::When;

/// What a fact does to the case's record: its opening begins it, its closure ends it (nothing on it may come
/// later), everything else adds to it, a re-opening included. The other endings (declined, withdrawn, unable to
/// contact, support declined) add: facts recorded late may still fall before them.
pub fn step(event: &SpecialistEvent) -> Step {
    match event {
        SpecialistEvent::CaseOpened(_) => Step::Begins,
        SpecialistEvent::CaseClosed(_) => Step::Closes,
        _ => Step::Adds,
    }
}

/// When a fact known only by its day (taken as noon that day) is dated on the case, given when the case's facts
/// happened (`record`):
/// - a fact of another agency's process (a stage of the criminal-justice process, a MARAC referral or hearing, a
///   protection order: `outside`) may have happened before the case opened, but counts on the case from its
///   opening (its own date stays in its event);
/// - on the day of the case's latest fact but before it, it came after, at a time nobody wrote down: it is dated at
///   that fact (a MARAC hearing "today" on a case opened this afternoon is not before the case opened, nor a
///   closure "today" before this morning's call).
pub fn settle_day(at: DateTime<Utc>, record: RecordTimes, outside: bool) -> DateTime<Utc> {
    let mut at = at;
    if outside
        && let Some(began) = record.began
        && at < began
    {
        at = began;
    }
    let uk_day = |at: DateTime<Utc>| at.with_timezone(&London).date_naive();
    match record.latest {
        Some(latest) if latest > at && uk_day(latest) == uk_day(at) => latest,
        _ => at,
    }
}

/// The events of `decision` once the time they happened keeps the record's time running forwards, with whether
/// they are a late entry (`casetrack_casework::occurred::timed`, with this pathway's steps).
pub fn timed(
    decision: Decision,
    record: RecordTimes,
    when: &When,
) -> Result<(Vec<SpecialistEvent>, Lateness), CaseRejection> {
    casetrack_casework::occurred::timed(decision, step, record, when, CaseRejection::Time)
}

//! When a referral's facts happened (domain time). The rule is the one both pathways share,
//! `casetrack_casework::occurred::check`: nothing in the future, nothing before the referral was received, no
//! closure before the last thing that happened on it, and a reason for a date beyond the back-dating window.
//!
//! [`timed`] applies it to what a decision would write, so every decision stays pure: the time the fact happened,
//! the clock, the window and the reason arrive as a [`When`], and when the referral's facts happened as the
//! `RecordTimes` the command handler loads with its events.

use casetrack_casework::occurred::{Lateness, RecordTimes, Step};
use casetrack_proto::hub::HubEvent;

use super::{Decision, ReferralRejection};

pub use casetrack_casework::occurred::When;

/// What a fact does to the referral's record: its receipt begins it, its closure ends it (nothing on it may come
/// later), everything else adds to it. The other endings (unable to contact, returned, declined) add: facts
/// recorded late may still fall before them.
pub fn step(event: &HubEvent) -> Step {
    match event {
        HubEvent::ReferralReceived(_) => Step::Begins,
        HubEvent::ReferralClosed(_) => Step::Closes,
        _ => Step::Adds,
    }
}

/// The events of `decision` once the time they happened keeps the record's time running forwards, with whether
/// they are a late entry (`casetrack_casework::occurred::timed`, with this pathway's steps).
pub fn timed(
    decision: Decision,
    record: RecordTimes,
    when: &When,
) -> Result<(Vec<HubEvent>, Lateness), ReferralRejection> {
    casetrack_casework::occurred::timed(decision, step, record, when, ReferralRejection::Time)
}

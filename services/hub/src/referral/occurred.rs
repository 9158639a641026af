//! When a referral's facts happened (domain time). The rule is the one both pathways share,
//! `casetrack_casework::occurred::check`: nothing in the future, nothing before the referral was received, no
//! closure before the last thing that happened on it, and a reason for a date beyond the back-dating window.
//!
//! [`timed`] applies it to what a decision would write, so every decision stays pure: the time the fact happened,
//! the clock, the window and the reason arrive as a [`When`], and when the referral's facts happened as the
//! `RecordTimes` the command handler loads with its events.

use casetrack_casework::occurred::{BackDating, Lateness, RecordTimes, Step, check};
use casetrack_proto::hub::HubEvent;
use chrono::{DateTime, Utc};

use super::{Decision, ReferralRejection};

/// When the fact a command records happened, and what it is weighed against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    /// When it happened in the world: the event's `occurred_at`.
    pub at: DateTime<Utc>,
    /// When it is being recorded: the command's clock.
    pub now: DateTime<Utc>,
    /// How far back it may be dated without a reason (the hub's setting).
    pub window: BackDating,
    /// Why it is being recorded late, when a reason was given.
    pub reason: Option<String>,
}

impl When {
    /// Something happening as it is recorded.
    pub fn now(now: DateTime<Utc>, window: BackDating) -> Self {
        Self { at: now, now, window, reason: None }
    }
}

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

/// The events of `decision` once the time they happened keeps the referral's time running forwards (`record`:
/// when its first and latest facts happened), with whether they are a late entry. A decision that writes nothing
/// records no time, so nothing is checked.
pub fn timed(
    decision: Decision,
    record: RecordTimes,
    when: &When,
) -> Result<(Vec<HubEvent>, Lateness), ReferralRejection> {
    let events = decision?;
    let Some(first) = events.first() else { return Ok((events, Lateness::OnTime)) };
    let lateness = check(when.at, step(first), record, when.now, when.window, when.reason.as_deref())
        .map_err(ReferralRejection::Time)?;
    Ok((events, lateness))
}

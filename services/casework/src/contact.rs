//! Rules of reaching a victim, shared by the hub and every specialist service (one copy, not one per service):
//! time-of-day bands in England and Wales, the attempt rule, and safe-contact checks.

use casetrack_proto::contact::{AttemptOutcome, ContactChannel, SafeContact, Safety, TimeBand};
use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Europe::London;

/// The time-of-day band of a moment, in England and Wales local time (GMT or BST).
pub fn time_band(at: DateTime<Utc>) -> TimeBand {
    match at.with_timezone(&London).hour() {
        8..=11 => TimeBand::Morning,
        12..=16 => TimeBand::Afternoon,
        17..=20 => TimeBand::Evening,
        _ => TimeBand::OutOfHours,
    }
}

/// The bands the attempt rule asks to be covered.
pub const DAY_BANDS: [TimeBand; 3] = [TimeBand::Morning, TimeBand::Afternoon, TimeBand::Evening];

/// A service's setting: how many unsuccessful attempts, in how many different times of day, before a victim may
/// be recorded as unable to contact. The default is the usual three in three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttemptRule {
    pub attempts: u32,
    pub distinct_bands: u32,
}

impl Default for AttemptRule {
    fn default() -> Self {
        Self { attempts: 3, distinct_bands: 3 }
    }
}

/// Where a victim's attempts stand against the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptTally {
    pub unsuccessful: u32,
    /// Distinct day bands (morning, afternoon, evening) covered by unsuccessful attempts, in that order.
    pub bands: Vec<TimeBand>,
}

impl AttemptRule {
    /// Counts unsuccessful attempts and the day bands they covered.
    pub fn tally<'a>(&self, attempts: impl IntoIterator<Item = &'a (TimeBand, AttemptOutcome)>) -> AttemptTally {
        let mut unsuccessful = 0;
        let mut covered = Vec::new();
        for (band, outcome) in attempts {
            if outcome.reached() {
                continue;
            }
            unsuccessful += 1;
            if DAY_BANDS.contains(band) && !covered.contains(band) {
                covered.push(*band);
            }
        }
        covered.sort();
        AttemptTally { unsuccessful, bands: covered }
    }

    pub fn is_met(&self, tally: &AttemptTally) -> bool {
        tally.unsuccessful >= self.attempts && tally.bands.len() as u32 >= self.distinct_bands
    }

    /// A day band not yet tried, to suggest for the next attempt.
    pub fn next_band(&self, tally: &AttemptTally) -> Option<TimeBand> {
        DAY_BANDS.into_iter().find(|band| !tally.bands.contains(band))
    }

    /// Plain words for a caseworker on what the rule still needs.
    pub fn shortfall(&self, tally: &AttemptTally) -> String {
        format!(
            "{} unsuccessful attempts in {} different times of day (morning, afternoon, evening) are needed before \
             recording unable to contact; so far {} in {}",
            self.attempts,
            self.distinct_bands,
            tally.unsuccessful,
            tally.bands.len()
        )
    }
}

/// The time of day of an attempt made at `at`, or why it cannot be recorded (a few minutes' clock drift allowed).
pub fn attempt_band(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<TimeBand, &'static str> {
    if at > now + chrono::Duration::minutes(5) {
        return Err("A contact attempt cannot be recorded in the future.");
    }
    Ok(time_band(at))
}

/// Refuses a channel marked unsafe. `Unknown` is allowed: the officer checks safety at the start of the contact.
pub fn check_channel(safe_contact: &SafeContact, channel: ContactChannel) -> Result<(), String> {
    match safe_contact.safety(channel) {
        Safety::Unsafe => Err(format!(
            "The victim's {} is marked unsafe to use: choose a channel that is safe, or update the safe-contact rules \
             if the victim has said otherwise",
            channel.label()
        )),
        Safety::Safe | Safety::Unknown => Ok(()),
    }
}

/// Refuses a call, voicemail or visit outside the times the victim said are safe: it could be answered by the
/// wrong person. Written channels are not timed. No safe times means any time.
pub fn check_safe_time(safe_times: &[TimeBand], channel: ContactChannel, band: TimeBand) -> Result<(), String> {
    let timed = matches!(channel, ContactChannel::Phone | ContactChannel::Voicemail | ContactChannel::Visit);
    if !timed || safe_times.is_empty() || safe_times.contains(&band) {
        return Ok(());
    }
    let safe: Vec<&str> = safe_times.iter().map(|b| b.label()).collect();
    Err(format!(
        "the victim may only be contacted by {} in the {}: this attempt was in the {}",
        channel.label(),
        safe.join(" or "),
        band.label()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn bands_follow_local_time_in_summer_and_winter() {
        // 07:30 UTC is 08:30 BST in July (morning) but 07:30 GMT in January (out of hours).
        assert_eq!(time_band(Utc.with_ymd_and_hms(2026, 7, 1, 7, 30, 0).unwrap()), TimeBand::Morning);
        assert_eq!(time_band(Utc.with_ymd_and_hms(2026, 1, 5, 7, 30, 0).unwrap()), TimeBand::OutOfHours);
        assert_eq!(time_band(Utc.with_ymd_and_hms(2026, 1, 5, 12, 0, 0).unwrap()), TimeBand::Afternoon);
        assert_eq!(time_band(Utc.with_ymd_and_hms(2026, 1, 5, 20, 59, 0).unwrap()), TimeBand::Evening);
        assert_eq!(time_band(Utc.with_ymd_and_hms(2026, 1, 5, 21, 0, 0).unwrap()), TimeBand::OutOfHours);
    }

    #[test]
    fn the_rule_needs_enough_attempts_in_enough_bands() {
        let rule = AttemptRule::default();
        let (m, a, e) = (TimeBand::Morning, TimeBand::Afternoon, TimeBand::Evening);
        let miss = AttemptOutcome::NoAnswer;
        let three_mornings = [(m, miss), (m, miss), (m, miss)];
        let tally = rule.tally(&three_mornings);
        assert!(!rule.is_met(&tally));
        assert_eq!(rule.next_band(&tally), Some(a));
        assert!(rule.shortfall(&tally).contains("so far 3 in 1"));
        let spread = [(m, miss), (a, AttemptOutcome::VoicemailLeft), (e, AttemptOutcome::WrongNumber)];
        assert!(rule.is_met(&rule.tally(&spread)));
        // A reached attempt is not an unsuccessful one.
        let reached = [(m, miss), (a, miss), (e, AttemptOutcome::Reached)];
        assert!(!rule.is_met(&rule.tally(&reached)));
        // Out-of-hours attempts count as attempts but cover no day band.
        let late = [(m, miss), (a, miss), (TimeBand::OutOfHours, miss)];
        assert!(!rule.is_met(&rule.tally(&late)));
        // The rule is a service setting.
        let two = AttemptRule { attempts: 2, distinct_bands: 2 };
        assert!(two.is_met(&two.tally(&[(m, miss), (a, miss)])));
    }

    #[test]
    fn an_unsafe_channel_is_refused_with_the_reason() {
        let mut rules = SafeContact::default();
        assert!(check_channel(&rules, ContactChannel::Voicemail).is_ok());
        rules.set(ContactChannel::Voicemail, Safety::Unsafe);
        let refusal = check_channel(&rules, ContactChannel::Voicemail).unwrap_err();
        assert!(refusal.contains("voicemail is marked unsafe"), "{refusal}");
    }
}

//! A referral's history brought in from another case system (`casetrack import history`): its receipt and what
//! became of it, each fact dated when it happened, through the referral's own decisions and time rules.
//!
//! A [`History`] is a referral's facts in the order they happened. [`rehearse`] runs them against an empty
//! referral in memory (pure: nothing is read or written), so a history the rules refuse anywhere is refused whole,
//! before any of it is written, naming the fact and the rule. [`Hub::bring_in`] then writes them, as the system,
//! one command per fact, each dated when it happened with the import's reason for recording it late.
//!
//! Importing twice writes nothing twice: the referral's id and every command id derive from the history's key
//! (the legacy system's reference), and each fact writes exactly one event, so a referral whose stream already
//! holds as many events as its history has facts is already imported; one holding fewer (an import stopped part
//! way) is completed from the first fact missing.

use casetrack_casework::contact::time_band;
use casetrack_casework::occurred::RecordTimes;
use casetrack_eventstore::command::{Aggregate as _, CommandMeta, load};
use casetrack_proto::contact::{AttemptOutcome, ContactChannel};
use casetrack_proto::hub::{ContactAttemptRecorded, MeasureAnswer, ReferralReceived};
use casetrack_proto::{Actor, CommandId, ReferralId};
use casetrack_web::http::ApiError;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::handler::{decide_timed, refusal};
use crate::measures::MeasureSet;
use crate::referral::{
    Decision, Referral, ReferralRejection, When, accept_support, close, decline_support, receive, record_attempt,
    record_unable_to_contact, timed,
};
use crate::state::{Hub, HubSettings};

const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_7472_6163_6b00_0000_0000_0012);

/// One fact of a referral's history.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// The referral was received (its id must be the history's).
    Received(ReferralReceived),
    /// A contact attempt, made when the fact is dated.
    Attempt {
        channel: ContactChannel,
        outcome: AttemptOutcome,
    },
    /// Unable to contact: only once the hub's attempt rule is met by the attempts before it.
    UnableToContact,
    SupportAccepted,
    SupportDeclined {
        reason: String,
    },
    /// Closed with the victim's answers to the outcome measures (checked against the list in force that day).
    Closed {
        answers: Vec<MeasureAnswer>,
    },
}

/// A referral's facts in the order they happened, each with when.
#[derive(Debug, Clone)]
pub struct History {
    pub referral_id: ReferralId,
    /// What the command ids derive from: unique to this referral (the service and the legacy reference).
    pub key: String,
    pub facts: Vec<(DateTime<Utc>, Fact)>,
    /// Why it is recorded so late (history is always beyond the back-dating window).
    pub late_reason: String,
}

pub use casetrack_casework::history::BroughtIn;

/// A fact the rules refused: which one (its index in [`History::facts`]), and the rule.
pub type Refused = casetrack_casework::history::Refused<ApiError>;

/// The referral id for a history key: the same key gives the same referral.
pub fn referral_id(key: &str) -> ReferralId {
    ReferralId(Uuid::new_v5(&NAMESPACE, format!("history referral {key}").as_bytes()))
}

fn command_id(key: &str, fact: usize) -> CommandId {
    CommandId(Uuid::new_v5(&NAMESPACE, format!("history command {key} {fact}").as_bytes()))
}

/// What a fact needs looked up before its decision: for a closure, the outcome-measure list it is judged by, with
/// its answers checked against it (as the live closure command checks them).
fn look_up(at: DateTime<Utc>, fact: &Fact) -> Result<Option<&'static MeasureSet>, ApiError> {
    let Fact::Closed { answers } = fact else { return Ok(None) };
    let set = measures_on(at)?;
    let known: Vec<&str> = set.measures.iter().map(|m| m.code.as_str()).collect();
    casetrack_casework::measures::check_answers(
        &known,
        &format!("list {}", set.version),
        answers.iter().map(|a| a.measure.as_str()),
    )
    .map_err(|why| ApiError::rejected("unknown_measure", why))?;
    Ok(Some(set))
}

/// The decision one fact asks of the referral, as the live command asks it (`measures`: what [`look_up`] found).
fn decide(
    state: &Referral,
    referral_id: ReferralId,
    at: DateTime<Utc>,
    fact: &Fact,
    settings: HubSettings,
    measures: Option<&MeasureSet>,
) -> Decision {
    match fact {
        Fact::Received(received) => receive(state, received.clone()),
        Fact::Attempt { channel, outcome } => record_attempt(
            state,
            ContactAttemptRecorded {
                referral_id,
                channel: *channel,
                attempted_at: at,
                time_band: time_band(at),
                outcome: *outcome,
            },
        ),
        Fact::UnableToContact => record_unable_to_contact(state, referral_id, settings.attempt_rule),
        Fact::SupportAccepted => accept_support(state, referral_id),
        Fact::SupportDeclined { reason } => decline_support(state, referral_id, reason),
        Fact::Closed { answers } => {
            close(state, referral_id, measures.map_or("", |set| set.version.as_str()), answers.clone())
        }
    }
}

/// The outcome-measure list a closure on `at` is judged by: the one in force that day (refused before the first).
fn measures_on(at: DateTime<Utc>) -> Result<&'static MeasureSet, ApiError> {
    let day = at.with_timezone(&chrono_tz::Europe::London).date_naive();
    crate::measures::in_force(day).ok_or_else(|| {
        ApiError::rejected(
            "unknown_measure",
            format!(
                "no outcome-measure list was in force on {}: the hub's lists begin on 1 April 2018",
                day.format("%-d %B %Y")
            ),
        )
    })
}

fn when(history: &History, at: DateTime<Utc>, now: DateTime<Utc>, settings: HubSettings) -> When {
    When { at, now, window: settings.back_dating, reason: Some(history.late_reason.clone()) }
}

/// Runs the history against an empty referral in memory, as recorded `now` under the hub's `settings`: the first
/// fact the rules refuse, if any. Reads and writes nothing.
pub fn rehearse(history: &History, settings: HubSettings, now: DateTime<Utc>) -> Result<(), Refused> {
    let mut state = Referral::default();
    let mut record = RecordTimes::default();
    for (index, (at, fact)) in history.facts.iter().enumerate() {
        let refused = |error| Refused { fact: index, error };
        let measures = look_up(*at, fact).map_err(refused)?;
        let decision = decide(&state, history.referral_id, *at, fact, settings, measures);
        let (events, _) = timed(decision, record, &when(history, *at, now, settings))
            .map_err(|rejection| refused(rejection_error(rejection)))?;
        for event in &events {
            state = state.apply(event);
        }
        record.began = record.began.or(Some(*at));
        record.latest = record.latest.max(Some(*at));
    }
    Ok(())
}

fn rejection_error(rejection: ReferralRejection) -> ApiError {
    refusal(casetrack_eventstore::command::CommandError::Rejected(rejection))
}

impl Hub {
    /// Writes the facts of `history` not yet written, as `by` (the system for the command line, the manager who
    /// uploaded the file through the API), each dated when it happened (recorded `now`).
    /// Rehearse it first: a refusal here stops at that fact, with what came before it written.
    pub async fn bring_in(&self, history: &History, now: DateTime<Utc>, by: &Actor) -> Result<BroughtIn, Refused> {
        let log = &self.context().log;
        let stream = Referral::stream_id(history.referral_id.0);
        let (_, version) =
            load::<Referral>(log, &stream).await.map_err(|e| Refused { fact: 0, error: ApiError::unavailable(e) })?;
        let done = usize::try_from(version).unwrap_or(usize::MAX);
        if done >= history.facts.len() {
            return Ok(BroughtIn::AlreadyThere);
        }
        let settings = self.settings();
        let mut position = 0;
        for (index, (at, fact)) in history.facts.iter().enumerate().skip(done) {
            let refused = |error| Refused { fact: index, error };
            let meta = CommandMeta::repeatable(command_id(&history.key, index), history.referral_id.0, by.clone(), *at);
            let measures = look_up(*at, fact).map_err(refused)?;
            let when = when(history, *at, now, settings);
            let (executed, _) = decide_timed(log, &meta, history.referral_id, &when, |state| {
                decide(state, history.referral_id, *at, fact, settings, measures)
            })
            .await
            .map_err(|error| refused(refusal(error)))?;
            position = position.max(executed.position.map_or(0, |p| p.0));
        }
        Ok(BroughtIn::Written { position, completed: done > 0 })
    }
}

#[cfg(test)]
mod tests {
    use casetrack_proto::PersonId;
    use casetrack_proto::hub::ReferralSource;
    use chrono::TimeZone as _;

    use super::*;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2019, 7, d, h, 0, 0).unwrap()
    }

    fn history(facts: Vec<(DateTime<Utc>, Fact)>) -> History {
        let referral_id = referral_id("hub|vcu-1");
        let received = ReferralReceived {
            referral_id,
            person_id: PersonId(Uuid::nil()),
            source: ReferralSource::PoliceFeed,
            offence_category: None,
            domestic_abuse: false,
            crime_reference: None,
            crime_reported_on: None,
            safe_contact: Default::default(),
            consent: casetrack_proto::contact::ConsentBasis::OptOut,
            consent_override_reason: None,
            enhanced_rights: false,
            profile: Default::default(),
        };
        let mut all = vec![(at(1, 8), Fact::Received(received))];
        all.extend(facts);
        History { referral_id, key: "hub|vcu-1".into(), facts: all, late_reason: "brought in from test.csv".into() }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()
    }

    fn no_answer() -> Fact {
        Fact::Attempt { channel: ContactChannel::Phone, outcome: AttemptOutcome::NoAnswer }
    }

    #[test]
    fn unable_to_contact_after_three_attempts_at_three_times_of_day_is_accepted() {
        let facts = vec![
            (at(2, 9), no_answer()),
            (at(3, 13), no_answer()),
            (at(4, 18), no_answer()),
            (at(5, 10), Fact::UnableToContact),
        ];
        assert!(rehearse(&history(facts), HubSettings::default(), now()).is_ok());
    }

    #[test]
    fn the_refused_fact_and_its_rule_are_named() {
        let short = vec![(at(2, 9), no_answer()), (at(5, 10), Fact::UnableToContact)];
        let refused = rehearse(&history(short), HubSettings::default(), now()).unwrap_err();
        assert_eq!((refused.fact, refused.error.code), (2, "attempt_rule_not_met"));
        let backwards = vec![(at(1, 7), no_answer())];
        let refused = rehearse(&history(backwards), HubSettings::default(), now()).unwrap_err();
        assert_eq!((refused.fact, refused.error.code), (1, "occurred_before_record_began"));
        let unknown = vec![
            (at(2, 9), Fact::Attempt { channel: ContactChannel::Phone, outcome: AttemptOutcome::Reached }),
            (
                at(3, 9),
                Fact::Closed {
                    answers: vec![MeasureAnswer {
                        measure: "happiness".into(),
                        answer: casetrack_proto::contact::OutcomeAnswer::Improved,
                    }],
                },
            ),
        ];
        let refused = rehearse(&history(unknown), HubSettings::default(), now()).unwrap_err();
        assert_eq!((refused.fact, refused.error.code), (2, "unknown_measure"));
    }

    #[test]
    fn history_without_a_late_reason_beyond_the_window_is_refused() {
        let mut history = history(vec![]);
        history.late_reason = " ".into();
        let refused = rehearse(&history, HubSettings::default(), now()).unwrap_err();
        assert_eq!(refused.error.code, "late_entry_needs_reason");
    }
}

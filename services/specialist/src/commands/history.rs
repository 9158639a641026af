//! A case's history brought in from another case system (`casetrack import history`): its opening and what became
//! of it, each fact dated when it happened, through the case's own decisions and time rules.
//!
//! A [`History`] is a case's facts in the order they happened. [`rehearse`] runs them against an empty case in
//! memory (pure: nothing is read or written), so a history the rules refuse anywhere is refused whole, before any
//! of it is written, naming the fact and the rule. [`Desk::bring_in`] then writes them, as the system, one command
//! per fact, each dated when it happened with the import's reason for recording it late.
//!
//! Importing twice writes nothing twice: the case's id and every command id derive from the history's key (the
//! service and the legacy system's reference), and each fact writes exactly one event, so a case whose stream
//! already holds as many events as its history has facts is already imported; one holding fewer (an import
//! stopped part way) is completed from the first fact missing.

use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_casework::contact::time_band;
use casetrack_casework::occurred::RecordTimes;
use casetrack_eventstore::command::{Aggregate as _, CommandError, CommandMeta, execute_timed, load};
use casetrack_proto::contact::{AttemptOutcome, ContactChannel};
use casetrack_proto::hub::MeasureAnswer;
use casetrack_proto::specialist::{
    CaseContactAttemptRecorded, CaseOpened, ClosureReason, HighRiskReason, RiskChecklist, RiskLevel,
};
use casetrack_proto::{Actor, CaseId, CommandId};
use casetrack_web::http::ApiError;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{belongs, refusal};
use crate::case::{self, Case, Decision, When, timed};
use crate::kinds::{Assessment, assess_risk};
use crate::state::Desk;

const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_7472_6163_6b00_0000_0000_0013);

/// One fact of a case's history.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// The referral came in and the case opened (its id and service must be the history's).
    Opened(CaseOpened),
    /// The service took it on.
    Accepted,
    /// A contact attempt, made when the fact is dated.
    Attempt { channel: ContactChannel, outcome: AttemptOutcome },
    /// Unable to contact: only once the service's attempt rule is met by the attempts before it.
    UnableToContact,
    /// The victim, once reached, declined support.
    SupportDeclined { reason: String },
    /// The risk as last assessed before closing (an IDVA case is closed with one), a professional assessment:
    /// history holds no checklist answers.
    ClosingRisk(RiskLevel),
    /// Closed, with the victim's answers to the service's outcome measures.
    Closed { reason: ClosureReason, answers: Vec<MeasureAnswer> },
}

/// A case's facts in the order they happened, each with when.
#[derive(Debug, Clone)]
pub struct History {
    pub case_id: CaseId,
    /// The service's code.
    pub service: String,
    /// What the command ids derive from: unique to this case (the service and the legacy reference).
    pub key: String,
    pub facts: Vec<(DateTime<Utc>, Fact)>,
    /// Why it is recorded so late (history is always beyond the back-dating window).
    pub late_reason: String,
}

pub use casetrack_casework::history::BroughtIn;

/// A fact the rules refused: which one (its index in [`History::facts`]), and the rule.
pub type Refused = casetrack_casework::history::Refused<ApiError>;

/// The case id for a history key: the same key gives the same case.
pub fn case_id(key: &str) -> CaseId {
    CaseId(Uuid::new_v5(&NAMESPACE, format!("history case {key}").as_bytes()))
}

fn command_id(key: &str, fact: usize) -> CommandId {
    CommandId(Uuid::new_v5(&NAMESPACE, format!("history command {key} {fact}").as_bytes()))
}

/// The checks a fact's values pass before its decision, as the live command makes them: a closure's answers name
/// measures of the service's list.
fn check(definition: &ServiceDefinition, at: DateTime<Utc>, fact: &Fact) -> Result<(), ApiError> {
    let Fact::Closed { answers, .. } = fact else { return Ok(()) };
    let day = at.with_timezone(&chrono_tz::Europe::London).date_naive();
    casetrack_casework::measures::in_force_for(definition, day, answers.iter().map(|a| a.measure.as_str()))
        .map_err(|why| ApiError::rejected("unknown_measure", why))?;
    Ok(())
}

/// The version of the service's outcome-measure list in force on the day of `at` (checked by [`check`] first).
fn version_on(definition: &ServiceDefinition, at: DateTime<Utc>) -> &str {
    let day = at.with_timezone(&chrono_tz::Europe::London).date_naive();
    definition.measures_on(day).map_or(definition.measures_version.as_str(), |list| list.version)
}

/// The decision one fact asks of the case, as the live command asks it.
fn decide(state: &Case, definition: &ServiceDefinition, id: CaseId, at: DateTime<Utc>, fact: &Fact) -> Decision {
    match fact {
        Fact::Opened(opened) => case::open(state, opened.clone()),
        Fact::Accepted => case::accept(state, id),
        Fact::Attempt { channel, outcome } => case::record_attempt(
            state,
            CaseContactAttemptRecorded {
                case_id: id,
                channel: *channel,
                attempted_at: at,
                time_band: time_band(at),
                outcome: *outcome,
            },
        ),
        Fact::UnableToContact => case::record_unable_to_contact(state, id, definition.attempt_rule),
        Fact::SupportDeclined { reason } => case::support_declined(state, id, reason),
        Fact::ClosingRisk(level) => assess_risk(
            state,
            id,
            Assessment {
                checklist: RiskChecklist::Professional,
                answers: Vec::new(),
                level: *level,
                // The legacy system recorded the level, not why: high is the service's professional judgement.
                reasons: if *level == RiskLevel::High { vec![HighRiskReason::ProfessionalJudgement] } else { vec![] },
                review_on: None,
                at_closure: true,
            },
        ),
        Fact::Closed { reason, answers } => {
            case::close(state, id, definition.kind, *reason, version_on(definition, at), answers.clone())
        }
    }
}

fn when(
    history: &History,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    desk_window: casetrack_casework::occurred::BackDating,
) -> When {
    When { at, now, window: desk_window, reason: Some(history.late_reason.clone()) }
}

fn rejection_error(rejection: case::CaseRejection) -> ApiError {
    refusal(CommandError::Rejected(rejection))
}

/// Runs the history against an empty case of `definition`'s service in memory, as recorded `now` under the
/// back-dating `window`: the first fact the rules refuse, if any. Reads and writes nothing.
pub fn rehearse(
    history: &History,
    definition: &ServiceDefinition,
    window: casetrack_casework::occurred::BackDating,
    now: DateTime<Utc>,
) -> Result<(), Refused> {
    let mut state = Case::default();
    let mut record = RecordTimes::default();
    for (index, (at, fact)) in history.facts.iter().enumerate() {
        let refused = |error| Refused { fact: index, error };
        check(definition, *at, fact).map_err(refused)?;
        let decision = decide(&state, definition, history.case_id, *at, fact);
        let (events, _) = timed(decision, record, &when(history, *at, now, window))
            .map_err(|rejection| refused(rejection_error(rejection)))?;
        for event in &events {
            state = state.apply(event);
        }
        record.began = record.began.or(Some(*at));
        record.latest = record.latest.max(Some(*at));
    }
    Ok(())
}

impl Desk {
    /// Writes the facts of `history` not yet written, as `by` (the system for the command line, the manager who
    /// uploaded the file through the API), each dated when it happened (recorded `now`).
    /// Rehearse it first: a refusal here stops at that fact, with what came before it written.
    pub async fn bring_in(&self, history: &History, now: DateTime<Utc>, by: &Actor) -> Result<BroughtIn, Refused> {
        let definition = self.service(&history.service).map_err(|error| Refused { fact: 0, error })?;
        let log = &self.ctx.log;
        let stream = Case::stream_id(history.case_id.0);
        let (_, version) =
            load::<Case>(log, &stream).await.map_err(|e| Refused { fact: 0, error: ApiError::unavailable(e) })?;
        let done = usize::try_from(version).unwrap_or(usize::MAX);
        if done >= history.facts.len() {
            return Ok(BroughtIn::AlreadyThere);
        }
        let mut position = 0;
        for (index, (at, fact)) in history.facts.iter().enumerate().skip(done) {
            let refused = |error| Refused { fact: index, error };
            check(definition, *at, fact).map_err(refused)?;
            let meta = CommandMeta::repeatable(command_id(&history.key, index), history.case_id.0, by.clone(), *at);
            let when = when(history, *at, now, self.back_dating());
            let executed = execute_timed::<Case, _>(log, history.case_id.0, &meta, |state, times| {
                // The opening makes the case this service's; every later fact must find it so.
                if !matches!(fact, Fact::Opened(_)) && !belongs(state, &definition.code) {
                    return Err(case::CaseRejection::NotOpened);
                }
                let record = RecordTimes { began: times.first, latest: times.latest };
                let (events, _) = timed(decide(state, definition, history.case_id, *at, fact), record, &when)?;
                Ok(events)
            })
            .await
            .map_err(|error| refused(refusal(error)))?;
            position = position.max(executed.position.map_or(0, |p| p.0));
        }
        Ok(BroughtIn::Written { position, completed: done > 0 })
    }
}

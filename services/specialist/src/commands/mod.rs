//! The commands on a specialist case, one file per command or small group: its request type (the JSON the API
//! takes; the pages build the same from their forms), its parsing into checked values, and the decision it asks of
//! the case. Both adapters give every command through one door, [`Desk::run`]: it takes the time from
//! [`casetrack_eventstore::clock::now`], reads when the command's fact happened ([`CaseCommand::stated`]), lets the
//! command parse its request and do any look-up ([`CaseCommand`]), then decides against the case (only a case of the
//! service named: another service's case is "no such case"), refusing time that runs backwards
//! ([`crate::case::timed`]), and returns what it wrote ([`CaseWritten`], a late entry marked on it).
//!
//! - [`open_direct`]: a referral made directly to the service, for a registered person, or with the person's
//!   details (registered first, as the direct-referral page and its API route do);
//! - [`decision`]: accept or decline the referral, the referrer's withdrawal, re-opening an ended case;
//! - [`allocate`]: allocation to a caseworker;
//! - [`contact`]: safe-contact rules, contact attempts, unable to contact, support declined by the victim;
//! - [`casework`]: the plan, interventions and notes;
//! - [`close`]: closure with the victim's answers to the service's outcome measures;
//! - [`history`]: a case's history brought in from another case system (`casetrack import history`), checked whole
//!   in memory before any of it is written;
//! - [`parse`]: the checks a request's values pass before any case is read (dates, texts);
//! - [`when`]: when a command's fact happened, as a request states it, and the late-entry mark on the response.
//!
//! The risk assessment and the commands only one kind of service takes (MARAC, criminal-justice stages, orders,
//! restorative justice) are beside their rules in [`crate::kinds`], through the same door.

pub mod allocate;
pub mod casework;
pub mod close;
pub mod contact;
pub mod decision;
pub mod history;
pub mod open_direct;
pub mod parse;
#[cfg(test)]
mod properties;
pub mod when;

use std::future::Future;
use std::sync::Mutex;

use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_casework::occurred::{Lateness, RecordTimes};
use casetrack_eventstore::command::{Aggregate as _, CommandError, CommandMeta, execute_timed, load, load_timed};
use casetrack_proto::{CaseId, PersonId, Sealed, ServiceCode};
use casetrack_web::access::acting;
use casetrack_web::http::ApiError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::case::{Case, CaseRejection, Decision, When, settle_day, timed};
use crate::state::Desk;
use when::Stated;

#[derive(Serialize, ToSchema)]
pub struct CaseWritten {
    #[schema(value_type = uuid::Uuid)]
    pub case_id: CaseId,
    /// Log position of the change: pass it as `wait_for` to read your own write.
    pub position: u64,
    /// Whether the fact was dated beyond the back-dating window: not part of the answer, but marked on it for the
    /// audit trail ([`CaseWritten::mark`]).
    #[serde(skip)]
    pub lateness: Lateness,
}

// A request that is only a date (a MARAC referral or hearing, information about restorative justice given). A
// plain comment: a doc comment would change the schema in the OpenAPI document.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct DateRequest {
    /// YYYY-MM-DD: the day it happened (when it is recorded as having happened, at 12:00 UK local time; for a
    /// MARAC referral or hearing, a day before the case opened counts on the case from its opening).
    pub on: NaiveDate,
    /// Why it is being recorded late: needed only when the day is further back than the back-dating window (14
    /// days unless set); the command is then flagged as a late entry in the audit trail.
    pub late_reason: Option<String>,
}

/// The decision a command asks of the case, once its request is parsed: pure, given the case's state and its
/// service's definition.
pub type Decide = Box<dyn Fn(&Case, &ServiceDefinition) -> Decision + Send + Sync>;

/// Boxes a decision (so that every command returns the same type).
pub fn decide(decision: impl Fn(&Case, &ServiceDefinition) -> Decision + Send + Sync + 'static) -> Decide {
    Box::new(decision)
}

/// A command on one case: parses its request (a wrong request is refused, 422, before any case is read) and does
/// any look-up the decision needs, then says what to decide.
pub trait CaseCommand: Send {
    /// When the fact the command records happened, as its request states it (read before [`Self::decision`]).
    fn stated(&self) -> Stated<'_>;

    fn decision(self, at: &mut CaseAt<'_>) -> impl Future<Output = Result<Decide, ApiError>> + Send;
}

/// The case a command is given to, at the time it is given, and what a command may ask before deciding.
pub struct CaseAt<'a> {
    desk: &'a Desk,
    service: &'a str,
    pub id: CaseId,
    /// When the command is given ([`casetrack_eventstore::clock::now`]).
    pub now: DateTime<Utc>,
    /// When its fact happened (`at`: the events' `occurred_at`), and what that is weighed against.
    pub when: When,
    meta: CommandMeta,
}

impl<'a> CaseAt<'a> {
    pub fn desk(&self) -> &'a Desk {
        self.desk
    }

    /// The service's definition, or 404 when this process does not run it.
    pub fn definition(&self) -> Result<&'a ServiceDefinition, ApiError> {
        self.desk.service(self.service)
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }

    /// The person a case of this service is about, or 404 for a case of another service (or none).
    pub async fn person(&self) -> Result<PersonId, ApiError> {
        let definition = self.definition()?;
        let (state, _) =
            load::<Case>(&self.desk.ctx.log, &Case::stream_id(self.id.0)).await.map_err(ApiError::unavailable)?;
        match &state {
            Case::Open(case) | Case::Ended { case, .. } if case.service == definition.code => Ok(case.person_id),
            _ => Err(ApiError::not_found("There is no such case in this service.")),
        }
    }

    /// Seals `text` with the case's person's key for the event this command will write (plans and notes), after
    /// checking the case is this service's.
    pub async fn seal(&self, text: &str) -> Result<Sealed, ApiError> {
        let person = self.person().await?;
        self.desk.ctx.vault.seal(person, self.meta.event_id(0), &text).await.map_err(ApiError::unavailable)
    }
}

impl Desk {
    /// Gives one command to one case of `service`. A case of another service is "no such case", so one service's
    /// routes can neither read nor change another's cases. Its events are dated when the command says its fact
    /// happened; a time that runs backwards, or beyond the back-dating window without a reason, is refused (422).
    pub async fn run<C: CaseCommand>(
        &self,
        service: &str,
        case_id: CaseId,
        command: C,
    ) -> Result<CaseWritten, ApiError> {
        let now = casetrack_eventstore::clock::now();
        let stated = command.stated();
        let mut when = stated.when(now, self.back_dating())?;
        if stated.is_day_only() {
            // Read before deciding; the decision checks the time again against the case as it then is.
            let stream = Case::stream_id(case_id.0);
            let (_, _, times) = load_timed::<Case>(&self.ctx.log, &stream).await.map_err(ApiError::unavailable)?;
            let record = RecordTimes { began: times.first, latest: times.latest };
            when.at = settle_day(when.at, record, stated.is_outside());
        }
        // The events' `occurred_at` is the meta's time; `recorded_at` stays the log's clock.
        let meta = CommandMeta::new(acting(), when.at);
        let mut at = CaseAt { desk: self, service, id: case_id, now, when, meta };
        let decide = command.decision(&mut at).await?;
        let definition = self.service(service)?;
        // The decision may be taken again after losing a race: the last one taken is the one written.
        let lateness = Mutex::new(Lateness::OnTime);
        let executed = execute_timed::<Case, _>(&self.ctx.log, case_id.0, &at.meta, |state, times| {
            let (Case::Open(case) | Case::Ended { case, .. }) = state else { return Err(CaseRejection::NotOpened) };
            if case.service != definition.code {
                return Err(CaseRejection::NotOpened);
            }
            casetrack_web::access::concerns(case.person_id);
            let record = RecordTimes { began: times.first, latest: times.latest };
            let (events, late) = timed(decide(state, definition), record, &at.when)?;
            *lateness.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = late;
            Ok(events)
        })
        .await
        .map_err(refusal)?;
        let lateness = lateness.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(CaseWritten { case_id, position: executed.position.map_or(0, |p| p.0), lateness })
    }
}

fn belongs(state: &Case, service: &ServiceCode) -> bool {
    match state {
        Case::NotOpened => false,
        Case::Open(case) | Case::Ended { case, .. } => &case.service == service,
    }
}

/// What a refused command answers: "no such case" is a 404, like any other missing thing; a time that runs
/// backwards is a fault in the request (422); other refusals are the rules saying no (409).
pub(crate) fn refusal(error: CommandError<CaseRejection>) -> ApiError {
    match error {
        CommandError::Rejected(CaseRejection::NotOpened) => {
            ApiError::not_found("There is no such case in this service.")
        }
        CommandError::Rejected(CaseRejection::Time(rejection)) => {
            ApiError::rejected(rejection.code(), rejection.to_string())
        }
        other => other.into(),
    }
}

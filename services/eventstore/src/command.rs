//! Pure aggregates and the handler that runs a command against one.
//!
//! An aggregate is a state built by [`Aggregate::apply`] from its events; a command is decided by a pure function
//! `decide(&state) -> Result<Vec<Event>, Rejection>`. Everything impure (time, ids, look-ups, sealing personal
//! data) happens before, in the caller, and arrives in the command. [`execute`] loads, decides, appends with the
//! expected version, and on a conflict reloads and decides again (bounded): so a command never acts on stale
//! state and nothing is half-written.

use std::fmt::Display;

use casetrack_proto::{Actor, CommandId, Envelope, EventContract, EventId, StreamId};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::log::{AppendRequest, EventLog, ExpectedVersion, LogError, NewEvent, Position};

/// How many times a command is decided again after losing a race.
const CONFLICT_RETRIES: usize = 3;

pub trait Aggregate: Default + Send + Sync + 'static {
    type Event: EventContract;
    /// The aggregate kind in stream ids: `<context>.<AGGREGATE>.<uuid>`.
    const AGGREGATE: &'static str;

    fn apply(self, event: &Self::Event) -> Self;

    /// Whether `event` is a fact from the world that later facts are weighed against ([`Times::latest`]), or a
    /// change of how the record is handled, recorded as it is made (an allocation, say), which a fact dated earlier
    /// may well precede. Every event is, unless the aggregate says otherwise.
    fn happened(_event: &Self::Event) -> bool {
        true
    }

    fn stream_id(id: Uuid) -> StreamId {
        StreamId::new(Self::Event::CONTEXT, Self::AGGREGATE, id).expect("aggregate names are valid stream tokens")
    }
}

/// Who is asking, when, and the ids that make the command repeatable.
#[derive(Debug, Clone)]
pub struct CommandMeta {
    pub command_id: CommandId,
    pub issued_at: DateTime<Utc>,
    pub actor: Actor,
    pub correlation_id: Uuid,
    /// The command id for a request from a person; the causing event's id for a reactor.
    pub causation_id: Uuid,
}

tokio::task_local! {
    /// The idempotency key of the request being handled, when its client sent one.
    static IDEMPOTENCY: Idempotency;
}

/// One request's idempotency key, and how many ids have been derived from it so far. A request's code runs the
/// same way when it is sent again, so the n-th id it asks for is the same each time.
struct Idempotency {
    key: Uuid,
    derived: std::sync::atomic::AtomicU32,
}

/// Runs one request's `work` under the idempotency key its client gave (`Idempotency-Key`): every command id and
/// every new record's id it makes derive from the key, so a request sent again after a lost answer finds its
/// commands already in the log and writes nothing twice.
pub async fn idempotent<F: std::future::Future>(key: Uuid, work: F) -> F::Output {
    IDEMPOTENCY.scope(Idempotency { key, derived: std::sync::atomic::AtomicU32::new(0) }, work).await
}

/// The next id derived from the request's idempotency key, if it has one.
fn derived(purpose: &str) -> Option<Uuid> {
    IDEMPOTENCY
        .try_with(|idempotency| {
            let n = idempotency.derived.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Uuid::new_v5(&idempotency.key, format!("{purpose} {n}").as_bytes())
        })
        .ok()
}

/// A new record's id: random (UUIDv7), or derived from the request's idempotency key when it has one, so a request
/// sent again names the same record.
pub fn new_id() -> Uuid {
    derived("id").unwrap_or_else(Uuid::now_v7)
}

impl CommandMeta {
    /// A command given by a person now. Under an idempotency key ([`idempotent`]) its id derives from the key.
    pub fn new(actor: Actor, issued_at: DateTime<Utc>) -> Self {
        let command_id = derived("command").map_or_else(CommandId::new, CommandId);
        Self { command_id, issued_at, actor, correlation_id: command_id.0, causation_id: command_id.0 }
    }

    /// Meta for a repeatable command whose id the caller derived (an import row, a form's submission id): sending
    /// it again is stored once. `correlation_id` ties together the commands of one piece of work.
    pub fn repeatable(command_id: CommandId, correlation_id: Uuid, actor: Actor, issued_at: DateTime<Utc>) -> Self {
        Self { command_id, issued_at, actor, correlation_id, causation_id: command_id.0 }
    }

    /// Meta for a command caused by an event: ids derived from it, so handling the event twice issues the same
    /// command twice, which the log stores once.
    pub fn caused_by(event: &Envelope, purpose: &str) -> Self {
        Self {
            command_id: CommandId(event.id.derive(purpose)),
            issued_at: event.occurred_at,
            actor: Actor::system(),
            correlation_id: event.correlation_id,
            causation_id: event.id.0,
        }
    }

    /// The id of the `index`th event this command writes: a UUIDv7 whose time is the command's and whose random
    /// part is derived from the command id. Callers that seal personal data with the event id as associated data
    /// compute it here before deciding; a retried command writes the same ids.
    pub fn event_id(&self, index: usize) -> EventId {
        let digest = Sha256::new()
            .chain_update(self.command_id.0.as_bytes())
            .chain_update((index as u64).to_be_bytes())
            .finalize();
        let millis = self.issued_at.timestamp_millis().max(0) as u64;
        let mut random = [0u8; 10];
        random.copy_from_slice(&digest[..10]);
        EventId(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
    }
}

/// What a command did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Executed {
    /// Where the commit is in the log (None if the decision was to write nothing): wait for it before reading.
    pub position: Option<Position>,
    pub version: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError<R> {
    /// The rules said no: shown to the person.
    #[error("{0}")]
    Rejected(R),
    /// Still losing races after retrying: try again later.
    #[error("the record kept changing while saving; try again")]
    Contended,
    /// The log failed or holds an event this code cannot read.
    #[error(transparent)]
    Infrastructure(anyhow::Error),
}

/// Loads an aggregate's state and version.
/// When the things on one stream happened in the world (domain time, `occurred_at`): the first (a referral's
/// receipt, a case's opening) and the latest fact from the world ([`Aggregate::happened`]). A command is given them so its decision can refuse time that runs
/// backwards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub first: Option<DateTime<Utc>>,
    pub latest: Option<DateTime<Utc>>,
}

impl Times {
    /// Notes one event, in stream order; `happened` as its aggregate says ([`Aggregate::happened`]).
    fn note(&mut self, occurred_at: DateTime<Utc>, happened: bool) {
        self.first.get_or_insert(occurred_at);
        if happened {
            self.latest = Some(self.latest.map_or(occurred_at, |latest| latest.max(occurred_at)));
        }
    }
}

/// Loads an aggregate with [`Times`]: its state, its version and when its events happened.
pub async fn load_timed<A: Aggregate>(log: &EventLog, stream: &StreamId) -> anyhow::Result<(A, u32, Times)> {
    let (state, version, times, _) = load_checked::<A>(log, stream, None).await?;
    Ok((state, version, times))
}

/// [`load_timed`], and whether the stream already holds the events of the command `given` (a person's command,
/// whose events name it as their cause).
async fn load_checked<A: Aggregate>(
    log: &EventLog,
    stream: &StreamId,
    given: Option<Uuid>,
) -> anyhow::Result<(A, u32, Times, bool)> {
    fold_checked(log.read_stream(stream).await?, given)
}

/// The state, version and [`Times`] of `events`, and whether they hold the command `given`.
fn fold_checked<A: Aggregate>(events: Vec<Envelope>, given: Option<Uuid>) -> anyhow::Result<(A, u32, Times, bool)> {
    let version = events.last().map(|e| e.version).unwrap_or(0);
    let done = given.is_some_and(|command| events.iter().any(|event| event.causation_id == command));
    let mut times = Times::default();
    let mut state = A::default();
    for envelope in events {
        let event = A::Event::from_data(&envelope.event_type, envelope.schema_version, &envelope.data)?;
        times.note(envelope.occurred_at, A::happened(&event));
        state = state.apply(&event);
    }
    Ok((state, version, times, done))
}

pub async fn load<A: Aggregate>(log: &EventLog, stream: &StreamId) -> anyhow::Result<(A, u32)> {
    let (state, version, _, _) = load_checked::<A>(log, stream, None).await?;
    Ok((state, version))
}

/// Runs `decide` against the current state of aggregate `id` and appends what it decided.
pub async fn execute<A, R>(
    log: &EventLog,
    id: Uuid,
    meta: &CommandMeta,
    decide: impl Fn(&A) -> Result<Vec<A::Event>, R>,
) -> Result<Executed, CommandError<R>>
where
    A: Aggregate,
    R: Display,
{
    execute_timed(log, id, meta, |state: &A, _| decide(state)).await
}

/// [`execute`] for a decision that also weighs when the stream's events happened ([`Times`]).
pub async fn execute_timed<A, R>(
    log: &EventLog,
    id: Uuid,
    meta: &CommandMeta,
    decide: impl Fn(&A, Times) -> Result<Vec<A::Event>, R>,
) -> Result<Executed, CommandError<R>>
where
    A: Aggregate,
    R: Display,
{
    let stream = A::stream_id(id);
    // A person's command names itself as its events' cause: found in the stream, it was given before (a request
    // sent again after its answer was lost) and is not decided again.
    let given = (meta.causation_id == meta.command_id.0).then_some(meta.command_id.0);
    // The first decision is taken on this process's copy of the stream, with no round trip to the log: an append
    // on a copy that fell behind (another process wrote) is refused as a conflict, like any lost race. A refusal
    // or a decision to write nothing is not checked by an append, so it is taken again on the log's own events
    // before it is answered.
    let mut verified = !log.decides_on_copies();
    let mut conflicts = 0;
    loop {
        let started = std::time::Instant::now();
        let events = if verified { log.read_stream(&stream).await } else { log.read_stream_to_decide(&stream).await };
        let (state, version, times, done) = events
            .map_err(anyhow::Error::from)
            .and_then(|events| fold_checked::<A>(events, given))
            .map_err(CommandError::Infrastructure)?;
        stages::since(stages::Stage::Load, started);
        if done {
            // Events are never taken back: a command found in any copy was stored.
            return Ok(Executed { position: None, version });
        }
        let started = std::time::Instant::now();
        let decided = decide(&state, times);
        stages::since(stages::Stage::Decide, started);
        if !verified && decided.as_ref().map_or(true, Vec::is_empty) {
            verified = true;
            continue;
        }
        let events = decided.map_err(CommandError::Rejected)?;
        if events.is_empty() {
            return Ok(Executed { position: None, version });
        }
        let request = AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::Exact(version),
            command_id: meta.command_id,
            actor: meta.actor.clone(),
            correlation_id: meta.correlation_id,
            causation_id: meta.causation_id,
            events: events
                .iter()
                .enumerate()
                .map(|(index, event)| NewEvent::from_contract(meta.event_id(index), meta.issued_at, event))
                .collect(),
        };
        let started = std::time::Instant::now();
        let appended = log.append(request).await;
        stages::since(stages::Stage::Append, started);
        match appended {
            // Stored before: by this command, which the copy did not hold yet. Decided again on the log's events,
            // as the first decision would have been (a repeated import finds its referral already received).
            Ok(appended) if appended.duplicate && !verified => verified = true,
            Ok(appended) => return Ok(Executed { position: Some(appended.position), version: appended.version }),
            // A decision on a copy that fell behind is not a lost race: it is taken again, on the log's events.
            Err(LogError::Conflict { .. }) if !verified => verified = true,
            Err(LogError::Conflict { .. }) if conflicts < CONFLICT_RETRIES => {
                conflicts += 1;
                verified = true;
            }
            Err(LogError::Conflict { .. }) => return Err(CommandError::Contended),
            Err(error) => return Err(CommandError::Infrastructure(error.into())),
        }
    }
}

/// Where a request's time goes, summed in this process: what `casetrack bench-commands` prints (issue 27). Each
/// stage is two relaxed atomic adds per request, cheap enough to keep on always.
pub mod stages {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    /// A stage of the command path.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Stage {
        /// Resuming the session behind the cookie (the access guard).
        Session,
        /// Loading the aggregate from the log (or the log's cache).
        Load,
        /// The pure decision.
        Decide,
        /// Appending the commit to the log.
        Append,
        /// Writing a new person's data key (registering them), before their sealed details are appended.
        DataKey,
        /// Finding the person the record is about, for the audit entry.
        AuditLookup,
        /// Appending the audit entry to the audit trail's stream.
        Audit,
        /// The whole request inside the server, from the guard to the response.
        Request,
    }

    pub const ALL: [Stage; 8] = [
        Stage::Session,
        Stage::Load,
        Stage::Decide,
        Stage::Append,
        Stage::DataKey,
        Stage::AuditLookup,
        Stage::Audit,
        Stage::Request,
    ];

    impl Stage {
        pub fn name(self) -> &'static str {
            match self {
                Stage::Session => "session check",
                Stage::Load => "load",
                Stage::Decide => "decide",
                Stage::Append => "append",
                Stage::DataKey => "data key",
                Stage::AuditLookup => "audit look-up",
                Stage::Audit => "audit append",
                Stage::Request => "whole request",
            }
        }
    }

    static COUNTS: [AtomicU64; ALL.len()] = [const { AtomicU64::new(0) }; ALL.len()];
    static NANOS: [AtomicU64; ALL.len()] = [const { AtomicU64::new(0) }; ALL.len()];

    /// Adds one pass through `stage` that took `took`.
    pub fn record(stage: Stage, took: Duration) {
        COUNTS[stage as usize].fetch_add(1, Ordering::Relaxed);
        NANOS[stage as usize].fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Adds one pass through `stage` that began at `started`.
    pub fn since(stage: Stage, started: Instant) {
        record(stage, started.elapsed());
    }

    /// Each stage's passes and total time so far.
    pub fn snapshot() -> Vec<(Stage, u64, Duration)> {
        ALL.iter()
            .map(|&stage| {
                let i = stage as usize;
                (stage, COUNTS[i].load(Ordering::Relaxed), Duration::from_nanos(NANOS[i].load(Ordering::Relaxed)))
            })
            .collect()
    }
}

/// A refusal by the rules: a stable code naming the rule, and a message in plain words (its `Display`).
pub trait Rejection: Display {
    fn code(&self) -> &'static str;
}

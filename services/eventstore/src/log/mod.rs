//! The event log: one interface, two backends.
//!
//! - [`jetstream::JetStreamLog`]: NATS JetStream, one stream (`CASETRACK` by default), one subject per aggregate
//!   instance (`<prefix>.<context>.<aggregate>.<uuid>`), one message per commit.
//! - [`sqlite::SqliteLog`]: the embedded default, a SQLite file with one row per event.
//!
//! Both give the same guarantees, checked by one conformance suite (`tests/log_conformance.rs`):
//! a global order of commits ([`Position`]), a dense version per aggregate, atomic multi-event commits,
//! optimistic concurrency ([`LogError::Conflict`] names the expected and actual versions), and idempotent command
//! ids (a retried command is stored once and answers with the original position).
//!
//! Services hold an [`EventLog`] (a cheap clone of an `Arc`) and never know which backend they run on. The
//! `eventually` crate's `EventStore` / `EventSubscriber` / `Subscription` traits are implemented over it in
//! [`eventually_impl`].

pub mod eventually_impl;
pub mod jetstream;
mod shared;
pub mod sqlite;

use std::collections::HashMap;
use std::sync::Arc;

use casetrack_proto::{Actor, CommandId, Envelope, EventContract, EventId, StreamId};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use uuid::Uuid;

/// Position of a commit in the global order of the log: JetStream's stream sequence, or the SQLite log's commit
/// number. `Position(0)` is "before the first commit". Events of one commit share its position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Position(pub u64);

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The version the writer expects the aggregate to be at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The aggregate must have exactly this many events (0: it must not exist yet).
    Exact(u32),
    /// No check: only for streams with a single writer by construction (the audit trail, imports keyed by id).
    Any,
}

/// One event to append, before the log gives it a version and a recording time.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: EventId,
    pub event_type: String,
    pub schema_version: u16,
    pub occurred_at: DateTime<Utc>,
    pub data: casetrack_proto::Payload,
}

impl NewEvent {
    pub fn from_contract<E: EventContract>(id: EventId, occurred_at: DateTime<Utc>, event: &E) -> Self {
        Self {
            id,
            event_type: event.event_type().to_owned(),
            schema_version: event.schema_version(),
            occurred_at,
            data: casetrack_proto::Payload::from_value(&event.to_data()),
        }
    }
}

/// All the events of one command, appended atomically.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    /// Idempotency key: appending twice with the same command id stores the events once.
    pub command_id: CommandId,
    pub actor: Actor,
    pub correlation_id: Uuid,
    pub causation_id: Uuid,
    pub events: Vec<NewEvent>,
}

/// What an append wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Position of the commit: wait for read models to reach it before reading your own write.
    pub position: Position,
    /// Version of the aggregate after the commit.
    pub version: u32,
    /// True when the command id had been stored before and nothing new was written.
    pub duplicate: bool,
}

/// All the events of one commit, in the order they were appended.
#[derive(Debug, Clone)]
pub struct Commit {
    pub position: Position,
    pub events: Vec<Envelope>,
}

/// Every event of a batch of commits, in order, each with its commit's position (what projections iterate).
pub fn events(commits: &[Commit]) -> impl Iterator<Item = (Position, &Envelope)> {
    commits.iter().flat_map(|commit| commit.events.iter().map(move |event| (commit.position, event)))
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Optimistic concurrency: someone else wrote to the aggregate first. Reload and decide again.
    #[error("{stream} is at version {actual}, not the expected {expected}")]
    Conflict { stream: StreamId, expected: u32, actual: u32 },
    /// The request itself is wrong (empty commit, oversized commit).
    #[error("invalid append: {0}")]
    Invalid(String),
    /// A stored commit does not decode: the log is never skipped past silently.
    #[error("the commit at log position {position} cannot be read: {reason}")]
    Corrupt { position: Position, reason: String },
    /// The log could not be reached or failed.
    #[error("event log unavailable: {0}")]
    Unavailable(#[source] anyhow::Error),
}

impl LogError {
    pub fn unavailable(error: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable(error.into())
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}

pub type LogResult<T> = Result<T, LogError>;

/// A live, endless stream of commits after a position, in order.
pub type CommitStream = BoxStream<'static, LogResult<Commit>>;

/// What a log keeps of the streams it wrote or read lately: at most `capacity` of them, letting an arbitrary one go
/// to make room. Crude but bounded: a stream let go costs a read the next time, never a wrong answer.
#[derive(Debug)]
pub(crate) struct Kept<V> {
    streams: HashMap<StreamId, V>,
    capacity: usize,
}

impl<V> Kept<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { streams: HashMap::new(), capacity }
    }

    /// Keeps `value` for `stream`, making room by letting any other stream go.
    pub(crate) fn keep(&mut self, stream: &StreamId, value: V) {
        if self.streams.len() >= self.capacity
            && !self.streams.contains_key(stream)
            && let Some(other) = self.streams.keys().next().cloned()
        {
            self.streams.remove(&other);
        }
        self.streams.insert(stream.clone(), value);
    }

    pub(crate) fn get(&self, stream: &StreamId) -> Option<&V> {
        self.streams.get(stream)
    }

    pub(crate) fn get_mut(&mut self, stream: &StreamId) -> Option<&mut V> {
        self.streams.get_mut(stream)
    }

    pub(crate) fn let_go(&mut self, stream: &StreamId) {
        self.streams.remove(stream);
    }
}

/// The next commit of `commits` if it is already waiting, without waiting for one (`None` when none is).
///
/// Outside tokio's budget: a task may take from a channel only 128 times before tokio makes it yield, answering
/// "not ready" although commits wait. Taken within the budget, a projection far behind the log applied 129 commits a
/// transaction however many waited (a 100,000-row upload cost each of its five read models 1,573 transactions).
pub fn next_waiting(commits: &mut CommitStream) -> Option<LogResult<Commit>> {
    use futures::{FutureExt as _, StreamExt as _};
    tokio::task::unconstrained(commits.next()).now_or_never().flatten()
}

/// What each backend implements. Services use [`EventLog`].
pub trait LogBackend: Send + Sync + 'static {
    /// Short name for health output and metrics labels: `jetstream` or `sqlite`.
    fn kind(&self) -> &'static str;
    fn append(&self, request: AppendRequest) -> BoxFuture<'_, LogResult<Appended>>;
    /// Every event of one aggregate, in version order.
    fn read_stream<'a>(&'a self, stream: &'a StreamId) -> BoxFuture<'a, LogResult<Vec<Envelope>>>;
    /// The events of one aggregate as this process last saw them, to decide a command on: possibly behind the log
    /// when another process wrote since, which the append then refuses (the expected version no longer matches),
    /// so the command is decided again on [`LogBackend::read_stream`]. A backend without a copy of its own reads
    /// the log.
    fn read_stream_to_decide<'a>(&'a self, stream: &'a StreamId) -> BoxFuture<'a, LogResult<Vec<Envelope>>> {
        self.read_stream(stream)
    }
    /// Whether [`LogBackend::read_stream_to_decide`] answers from a copy that may be behind the log.
    fn decides_on_copies(&self) -> bool {
        false
    }
    /// Commits after `after`, in order, live: the stream waits for new commits once it has caught up.
    fn subscribe(&self, after: Position) -> BoxFuture<'_, LogResult<CommitStream>>;
    /// Position of the last commit.
    fn head(&self) -> BoxFuture<'_, LogResult<Position>>;
}

/// The log as services hold it.
#[derive(Clone)]
pub struct EventLog(Arc<dyn LogBackend>);

impl std::fmt::Debug for EventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("EventLog").field(&self.0.kind()).finish()
    }
}

impl EventLog {
    pub fn new(backend: impl LogBackend) -> Self {
        Self(Arc::new(backend))
    }

    pub fn kind(&self) -> &'static str {
        self.0.kind()
    }

    #[tracing::instrument(skip_all, fields(stream = %request.stream, events = request.events.len()))]
    pub async fn append(&self, request: AppendRequest) -> LogResult<Appended> {
        if request.events.is_empty() {
            return Err(LogError::Invalid("a commit needs at least one event".into()));
        }
        let kind = self.0.kind();
        let result = self.0.append(request).await;
        match &result {
            Ok(appended) if !appended.duplicate => {
                metrics::counter!("casetrack_log_appends_total", "backend" => kind).increment(1)
            }
            Ok(_) => metrics::counter!("casetrack_log_duplicate_commands_total", "backend" => kind).increment(1),
            Err(LogError::Conflict { .. }) => {
                metrics::counter!("casetrack_log_conflicts_total", "backend" => kind).increment(1)
            }
            Err(_) => metrics::counter!("casetrack_log_errors_total", "backend" => kind).increment(1),
        }
        result
    }

    pub async fn read_stream(&self, stream: &StreamId) -> LogResult<Vec<Envelope>> {
        self.0.read_stream(stream).await
    }

    /// See [`LogBackend::decides_on_copies`].
    pub fn decides_on_copies(&self) -> bool {
        self.0.decides_on_copies()
    }

    /// See [`LogBackend::read_stream_to_decide`].
    pub async fn read_stream_to_decide(&self, stream: &StreamId) -> LogResult<Vec<Envelope>> {
        self.0.read_stream_to_decide(stream).await
    }

    pub async fn subscribe(&self, after: Position) -> LogResult<CommitStream> {
        self.0.subscribe(after).await
    }

    pub async fn head(&self) -> LogResult<Position> {
        self.0.head().await
    }
}

/// Builds the stored envelopes of a commit: versions follow on from `from_version`.
pub(crate) fn envelopes_for(request: &AppendRequest, from_version: u32, recorded_at: DateTime<Utc>) -> Vec<Envelope> {
    request
        .events
        .iter()
        .enumerate()
        .map(|(index, event)| Envelope {
            id: event.id,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            subject: request.stream.clone(),
            version: from_version + 1 + index as u32,
            occurred_at: event.occurred_at,
            recorded_at,
            actor: request.actor.clone(),
            correlation_id: request.correlation_id,
            causation_id: request.causation_id,
            data: event.data.clone(),
        })
        .collect()
}

/// Version of a stream given its events so far.
pub(crate) fn version_of(events: &[Envelope]) -> u32 {
    events.last().map(|event| event.version).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use futures::StreamExt as _;

    use super::{Commit, CommitStream, Position, next_waiting};

    /// A projection behind the log takes every commit already waiting into its batch (up to its limit), not only
    /// the first 128: tokio makes a task that took 128 items from a channel yield, answering "not ready" although
    /// items wait, and inside that budget a 100,000-row upload cost each read model a transaction per 129 commits.
    #[tokio::test]
    async fn every_waiting_commit_is_taken_not_only_tokios_budget_of_them() {
        let (sender, receiver) = tokio::sync::mpsc::channel(1_000);
        for n in 1..=1_000u64 {
            sender.send(Ok(Commit { position: Position(n), events: Vec::new() })).await.unwrap();
        }
        let mut commits: CommitStream = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|commit| (commit, receiver))
        })
        .boxed();
        let mut taken = Vec::new();
        while let Some(commit) = next_waiting(&mut commits) {
            taken.push(commit.unwrap().position.0);
        }
        assert_eq!(taken, (1..=1_000).collect::<Vec<_>>(), "every waiting commit, in order");
    }
}

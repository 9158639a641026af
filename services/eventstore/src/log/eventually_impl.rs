//! The `eventually` crate's store and subscription traits over [`EventLog`].
//!
//! `eventually` 0.4 counts versions and sequence numbers in `u32`; our positions are `u64` and are narrowed here
//! (a log passes 4 billion commits long after this matters, and the conversion saturates rather than wraps).
//! The richer API ([`EventLog::append`] with command ids and positions) is what services use; this adapter lets
//! generic `eventually` code (its `Repository`, `Transient` subscriptions) run on either backend.

use std::sync::atomic::{AtomicU64, Ordering};

use casetrack_proto::{CommandId, Envelope, StreamId};
use eventually::store::{AppendError, EventStream, Expected, Persisted, Select};
use eventually::subscription::{EventStream as SubscriberStream, SubscriptionStream};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};

use super::{AppendRequest, EventLog, ExpectedVersion, LogError, NewEvent, Position};

impl AppendError for LogError {
    fn is_conflict_error(&self) -> bool {
        self.is_conflict()
    }
}

fn narrow(position: Position) -> u32 {
    u32::try_from(position.0).unwrap_or(u32::MAX)
}

fn persisted(position: Position, envelope: Envelope) -> Persisted<StreamId, Envelope> {
    let (stream, version) = (envelope.subject.clone(), envelope.version);
    Persisted::from(stream, envelope).version(version).sequence_number(narrow(position))
}

/// The events of a stream of commits, each with its commit's position.
fn events_of(
    commits: impl futures::Stream<Item = Result<super::Commit, LogError>> + Send + 'static,
) -> impl futures::Stream<Item = Result<Persisted<StreamId, Envelope>, LogError>> + Send + 'static {
    commits
        .map_ok(|commit| {
            let position = commit.position;
            futures::stream::iter(commit.events.into_iter().map(move |e| Ok(persisted(position, e))))
        })
        .try_flatten()
}

impl eventually::EventStore for EventLog {
    type SourceId = StreamId;
    type Event = Envelope;
    type Error = LogError;

    /// Appends envelopes built elsewhere; actor, correlation and causation come from the first one. The command id
    /// is derived from the first event's id, so retrying the same events is idempotent.
    fn append(
        &mut self,
        source_id: StreamId,
        version: Expected,
        events: Vec<Envelope>,
    ) -> BoxFuture<'_, Result<u32, LogError>> {
        async move {
            let first = events.first().ok_or_else(|| LogError::Invalid("a commit needs at least one event".into()))?;
            let request = AppendRequest {
                stream: source_id,
                expected: match version {
                    Expected::Any => ExpectedVersion::Any,
                    Expected::Exact(version) => ExpectedVersion::Exact(version),
                },
                command_id: CommandId(first.id.derive("eventually-append")),
                actor: first.actor.clone(),
                correlation_id: first.correlation_id,
                causation_id: first.causation_id,
                events: events
                    .iter()
                    .map(|e| NewEvent {
                        id: e.id,
                        event_type: e.event_type.clone(),
                        schema_version: e.schema_version,
                        occurred_at: e.occurred_at,
                        data: e.data.clone(),
                    })
                    .collect(),
            };
            Ok(EventLog::append(self, request).await?.version)
        }
        .boxed()
    }

    fn stream(&self, source_id: StreamId, select: Select) -> BoxFuture<'_, Result<EventStream<'_, Self>, LogError>> {
        async move {
            let from = match select {
                Select::All => 0,
                Select::From(version) => version,
            };
            let events = self.read_stream(&source_id).await?;
            // Within one aggregate the version orders events; the global position is not needed by callers of this
            // method, so the version stands in for it.
            let items = events
                .into_iter()
                .filter(move |e| e.version >= from)
                .map(|e| Ok(persisted(Position(u64::from(e.version)), e)));
            Ok(futures::stream::iter(items).boxed())
        }
        .boxed()
    }

    fn stream_all(&self, select: Select) -> BoxFuture<'_, Result<EventStream<'_, Self>, LogError>> {
        async move {
            let from = match select {
                Select::All => 0,
                Select::From(sequence) => u64::from(sequence),
            };
            let head = self.head().await?;
            let commits = self.subscribe(Position(from.saturating_sub(1))).await?;
            let events =
                events_of(commits.try_take_while(move |commit| futures::future::ready(Ok(commit.position <= head))));
            let done = head.0 < from;
            Ok(if done { futures::stream::empty().boxed() } else { events.boxed() })
        }
        .boxed()
    }

    fn remove(&mut self, source_id: StreamId) -> BoxFuture<'_, Result<(), LogError>> {
        async move {
            Err(LogError::Invalid(format!("{source_id}: the log is append-only; erase personal data by key deletion")))
        }
        .boxed()
    }
}

impl eventually::EventSubscriber for EventLog {
    type SourceId = StreamId;
    type Event = Envelope;
    type Error = LogError;

    /// Every event committed from now on.
    fn subscribe_all(&self) -> BoxFuture<'_, Result<SubscriberStream<'_, Self>, LogError>> {
        async move {
            let head = self.head().await?;
            let commits = self.subscribe(head).await?;
            Ok(events_of(commits).boxed())
        }
        .boxed()
    }
}

/// An `eventually` subscription over the log that resumes after its last checkpoint (kept in memory: projections
/// keep theirs in their own database, see [`crate::projection`]).
pub struct LogSubscription {
    log: EventLog,
    checkpoint: AtomicU64,
}

impl LogSubscription {
    pub fn new(log: EventLog, after: Position) -> Self {
        Self { log, checkpoint: AtomicU64::new(after.0) }
    }
}

impl eventually::Subscription for LogSubscription {
    type SourceId = StreamId;
    type Event = Envelope;
    type Error = LogError;

    fn resume(&self) -> BoxFuture<'_, Result<SubscriptionStream<'_, Self>, LogError>> {
        async move {
            let after = Position(self.checkpoint.load(Ordering::SeqCst));
            let commits = self.log.subscribe(after).await?;
            Ok(events_of(commits).boxed())
        }
        .boxed()
    }

    /// Records that every event up to and including this sequence number has been handled.
    fn checkpoint(&self, version: u32) -> BoxFuture<'_, Result<(), LogError>> {
        self.checkpoint.fetch_max(u64::from(version), Ordering::SeqCst);
        futures::future::ready(Ok(())).boxed()
    }
}

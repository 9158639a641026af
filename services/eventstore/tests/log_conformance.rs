//! One conformance suite, run against both event-log backends: the JetStream log on the real NATS server and the
//! embedded SQLite log. Each test gets a fresh stream or file.

use std::time::Duration;

use casetrack_eventstore::log::{AppendRequest, Commit, EventLog, ExpectedVersion, LogError, NewEvent, Position};
use casetrack_eventstore::testkit::{TempDir, TestStream, grows_past, open_sqlite_log};
use casetrack_proto::{Actor, CommandId, EventId, Payload, StreamId};
use futures::StreamExt;
use uuid::Uuid;

/// Opens the same log again, as a restarted process (or a second process) would.
trait Harness {
    async fn open(&self) -> EventLog;
}

struct Jet(TestStream);
impl Harness for Jet {
    async fn open(&self) -> EventLog {
        self.0.open().await
    }
}

struct Embedded(TempDir);
impl Harness for Embedded {
    async fn open(&self) -> EventLog {
        open_sqlite_log(self.0.path()).await
    }
}

fn stream() -> StreamId {
    StreamId::new("test", "thing", Uuid::now_v7()).unwrap()
}

/// The `n` an [`event`] carries.
fn n_of(envelope: &casetrack_proto::Envelope) -> i64 {
    envelope.data.to_value().unwrap()["n"].as_i64().unwrap()
}

fn event(n: u32) -> NewEvent {
    NewEvent {
        id: EventId::new(),
        event_type: "ThingHappened".into(),
        schema_version: 1,
        occurred_at: chrono::Utc::now(),
        data: Payload::from_value(&serde_json::json!({ "n": n, "padding": "x".repeat(200) })),
    }
}

fn request(stream: &StreamId, expected: u32, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        stream: stream.clone(),
        expected: ExpectedVersion::Exact(expected),
        command_id: CommandId::new(),
        actor: Actor::system(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        events,
    }
}

async fn next_commit(commits: &mut (impl futures::Stream<Item = Result<Commit, LogError>> + Unpin)) -> Commit {
    tokio::time::timeout(Duration::from_secs(10), commits.next())
        .await
        .expect("a commit within 10 s")
        .expect("the subscription stays open")
        .expect("the commit decodes")
}

async fn append_read_and_global_order(h: impl Harness) {
    let log = h.open().await;
    let (a, b) = (stream(), stream());
    let first = log.append(request(&a, 0, vec![event(1), event(2)])).await.unwrap();
    let second = log.append(request(&b, 0, vec![event(3)])).await.unwrap();
    let third = log.append(request(&a, 2, vec![event(4)])).await.unwrap();
    assert_eq!((first.version, second.version, third.version), (2, 1, 3));
    assert!(first.position < second.position && second.position < third.position);
    assert_eq!(log.head().await.unwrap(), third.position);

    let events = log.read_stream(&a).await.unwrap();
    let versions: Vec<u32> = events.iter().map(|e| e.version).collect();
    let ns: Vec<i64> = events.iter().map(n_of).collect();
    assert_eq!((versions, ns), (vec![1, 2, 3], vec![1, 2, 4]));
    assert!(events.iter().all(|e| e.subject == a));

    let mut commits = log.subscribe(Position(0)).await.unwrap();
    let seen = [next_commit(&mut commits).await, next_commit(&mut commits).await, next_commit(&mut commits).await];
    assert_eq!(
        seen.iter().map(|c| c.position).collect::<Vec<_>>(),
        vec![first.position, second.position, third.position]
    );
    assert_eq!(seen[0].events.len(), 2, "a multi-event commit arrives whole");
    assert_eq!(seen[1].events[0].subject, b);
}

async fn racing_writers_one_wins(h: impl Harness) {
    let (one, two) = (h.open().await, h.open().await);
    // Race to create the aggregate, then race on an existing one.
    for expected in [0, 1] {
        let target = stream();
        if expected == 1 {
            one.append(request(&target, 0, vec![event(0)])).await.unwrap();
            two.read_stream(&target).await.unwrap();
        }
        let (left, right) = tokio::join!(
            one.append(request(&target, expected, vec![event(1)])),
            two.append(request(&target, expected, vec![event(2)]))
        );
        let (winner, loser) = match (left, right) {
            (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
            other => panic!("exactly one writer must win, got {other:?}"),
        };
        assert_eq!(winner.version, expected + 1);
        match loser {
            LogError::Conflict { stream: s, expected: e, actual } => {
                assert_eq!((s, e, actual), (target.clone(), expected, expected + 1));
            }
            other => panic!("the loser must get a conflict, got {other:?}"),
        }
        assert_eq!(one.read_stream(&target).await.unwrap().len() as u32, expected + 1);
    }
}

async fn duplicate_command_is_stored_once(h: impl Harness) {
    let log = h.open().await;
    let target = stream();
    let command = request(&target, 0, vec![event(1), event(2)]);
    let first = log.append(command.clone()).await.unwrap();
    let retry = log.append(command.clone()).await.unwrap();
    assert!(!first.duplicate && retry.duplicate);
    assert_eq!((retry.position, retry.version), (first.position, first.version));
    // A retry after the aggregate moved on is still recognised, not refused as a conflict.
    log.append(request(&target, 2, vec![event(3)])).await.unwrap();
    let late = h.open().await.append(command).await.unwrap();
    assert!(late.duplicate);
    assert_eq!(late.position, first.position);
    assert_eq!(log.read_stream(&target).await.unwrap().len(), 3);
}

async fn subscribe_from_a_position_then_live(h: impl Harness) {
    let log = h.open().await;
    let target = stream();
    let mut positions = Vec::new();
    for n in 0..5 {
        positions.push(log.append(request(&target, n, vec![event(n)])).await.unwrap().position);
    }
    let mut commits = log.subscribe(positions[2]).await.unwrap();
    assert_eq!(next_commit(&mut commits).await.position, positions[3]);
    assert_eq!(next_commit(&mut commits).await.position, positions[4]);
    let live = log.append(request(&target, 5, vec![event(5)])).await.unwrap();
    let commit = next_commit(&mut commits).await;
    assert_eq!((commit.position, commit.events[0].version), (live.position, 6));
}

async fn resume_after_restart(h: impl Harness) {
    let target = stream();
    let written = {
        let log = h.open().await;
        log.append(request(&target, 0, vec![event(1)])).await.unwrap();
        log.append(request(&target, 1, vec![event(2)])).await.unwrap()
    };
    let log = h.open().await;
    assert_eq!(log.head().await.unwrap(), written.position);
    assert_eq!(log.read_stream(&target).await.unwrap().len(), 2);
    let next = log.append(request(&target, 2, vec![event(3)])).await.unwrap();
    assert_eq!(next.version, 3);
    assert!(next.position > written.position);
    let err = log.append(request(&target, 2, vec![event(4)])).await.unwrap_err();
    assert!(matches!(err, LogError::Conflict { expected: 2, actual: 3, .. }), "{err:?}");
}

async fn a_stale_reader_sees_other_writers(h: impl Harness) {
    let (one, two) = (h.open().await, h.open().await);
    let target = stream();
    one.append(request(&target, 0, vec![event(1)])).await.unwrap();
    assert_eq!(two.read_stream(&target).await.unwrap().len(), 1);
    one.append(request(&target, 1, vec![event(2)])).await.unwrap();
    // `two` loaded version 1 earlier; it must see version 2 now and append after it.
    assert_eq!(two.read_stream(&target).await.unwrap().len(), 2);
    two.append(request(&target, 2, vec![event(3)])).await.unwrap();
    let events = one.read_stream(&target).await.unwrap();
    assert_eq!(events.iter().map(|e| e.version).collect::<Vec<_>>(), vec![1, 2, 3]);
}

/// A reader sees what another process writes to the same log: while its own process writes nothing (the embedded
/// log asks its file now and then), and interleaved with what its own process writes; each commit once, in order.
async fn a_reader_sees_another_processes_commits(h: impl Harness) {
    let (here, elsewhere) = (h.open().await, h.open().await);
    let mut commits = here.subscribe(here.head().await.unwrap()).await.unwrap();
    let mut written = vec![here.append(request(&stream(), 0, vec![event(0)])).await.unwrap().position];
    let mut seen = vec![next_commit(&mut commits).await.position];
    // Caught up; now only the other process writes, then both by turns, the other last.
    for n in 1..9 {
        let log = if n > 2 && n % 2 == 1 { &here } else { &elsewhere };
        written.push(log.append(request(&stream(), 0, vec![event(n)])).await.unwrap().position);
    }
    for n in 1..9 {
        let commit = next_commit(&mut commits).await;
        assert_eq!(n_of(&commit.events[0]), i64::from(n), "in the log's order");
        seen.push(commit.position);
    }
    assert_eq!(seen, written, "every commit of both processes, once");
}

async fn a_thousand_event_aggregate_loads(h: impl Harness) {
    let target = stream();
    {
        let log = h.open().await;
        for commit in 0..250u32 {
            let events = (0..4).map(|i| event(commit * 4 + i)).collect();
            log.append(request(&target, commit * 4, events)).await.unwrap();
        }
    }
    let cold = h.open().await;
    let events = cold.read_stream(&target).await.unwrap();
    assert_eq!(events.len(), 1000);
    assert!(events.iter().enumerate().all(|(i, e)| e.version == i as u32 + 1 && n_of(e) == i as i64));
}

async fn an_empty_commit_is_refused_and_writes_nothing(h: impl Harness) {
    let log = h.open().await;
    let before = log.head().await.unwrap();
    let err = log.append(request(&stream(), 0, vec![])).await.unwrap_err();
    assert!(matches!(err, LogError::Invalid(_)));
    assert_eq!(log.head().await.unwrap(), before);
}

async fn eventually_traits_work_over_the_log(h: impl Harness) {
    use futures::TryStreamExt;
    let mut log = h.open().await;
    let target = stream();
    log.append(request(&target, 0, vec![event(1), event(2)])).await.unwrap();
    let events: Vec<_> = eventually::EventStore::stream(&log, target.clone(), eventually::store::Select::All)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    let template = log.read_stream(&target).await.unwrap().remove(0);
    let mut more = template.clone();
    more.id = EventId::new();
    let version =
        eventually::EventStore::append(&mut log, target.clone(), eventually::store::Expected::Exact(2), vec![more])
            .await
            .unwrap();
    assert_eq!(version, 3);
    let conflict =
        eventually::EventStore::append(&mut log, target, eventually::store::Expected::Exact(2), vec![template])
            .await
            .unwrap_err();
    assert!(eventually::store::AppendError::is_conflict_error(&conflict));
}

macro_rules! conformance {
    ($backend:ident, $harness:expr) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn append_read_and_global_order() {
                super::append_read_and_global_order($harness).await
            }
            #[tokio::test]
            async fn racing_writers_one_wins() {
                super::racing_writers_one_wins($harness).await
            }
            #[tokio::test]
            async fn duplicate_command_is_stored_once() {
                super::duplicate_command_is_stored_once($harness).await
            }
            #[tokio::test]
            async fn subscribe_from_a_position_then_live() {
                super::subscribe_from_a_position_then_live($harness).await
            }
            #[tokio::test]
            async fn resume_after_restart() {
                super::resume_after_restart($harness).await
            }
            #[tokio::test]
            async fn a_stale_reader_sees_other_writers() {
                super::a_stale_reader_sees_other_writers($harness).await
            }
            #[tokio::test]
            async fn a_reader_sees_another_processes_commits() {
                super::a_reader_sees_another_processes_commits($harness).await
            }
            #[tokio::test]
            async fn a_thousand_event_aggregate_loads() {
                super::a_thousand_event_aggregate_loads($harness).await
            }
            #[tokio::test]
            async fn an_empty_commit_is_refused_and_writes_nothing() {
                super::an_empty_commit_is_refused_and_writes_nothing($harness).await
            }
            #[tokio::test]
            async fn eventually_traits_work_over_the_log() {
                super::eventually_traits_work_over_the_log($harness).await
            }
        }
    };
}

conformance!(jetstream, Jet(TestStream::new()));
conformance!(embedded, Embedded(TempDir::new()));

/// Every commit from the start, as a new reader of `log` gets them.
async fn all_commits(log: &EventLog, count: usize) -> Vec<(Position, Vec<(EventId, u32)>)> {
    let mut commits = log.subscribe(Position(0)).await.unwrap();
    let mut all = Vec::new();
    for _ in 0..count {
        let commit = next_commit(&mut commits).await;
        all.push((commit.position, commit.events.iter().map(|event| (event.id, event.version)).collect()));
    }
    all
}

/// The embedded log's writes reach its file while it goes on writing: a checkpointer copies them out of the
/// write-ahead log, so its writer never waits to (SQLite's writer would, at the end of the commit that took the
/// write-ahead log past 1,000 pages; twenty commits fill a few dozen).
#[tokio::test]
async fn the_embedded_logs_writes_reach_its_file_without_its_writer() {
    let dir = TempDir::new();
    let log = open_sqlite_log(dir.path()).await;
    let file = dir.path().join("events.db");
    let before = std::fs::metadata(&file).expect("the log file").len();
    for n in 0..20 {
        log.append(request(&stream(), 0, vec![event(n)])).await.unwrap();
    }
    assert!(grows_past(&file, before).await, "the commits reached the file ({before} bytes before)");
    assert_eq!(all_commits(&log, 20).await.len(), 20);
}

/// A log file made by an earlier version kept its events in the first layout (`WITHOUT ROWID`, where an envelope
/// of about a kilobyte spilled into an overflow page of its own). Opening it lays it out anew: every event kept, in
/// order, and appends go on from where it stood.
#[tokio::test]
async fn an_embedded_log_in_the_first_layout_is_laid_out_anew_and_loses_nothing() {
    let dir = TempDir::new();
    let (a, b) = (stream(), stream());
    let before = {
        let log = open_sqlite_log(dir.path()).await;
        for n in 0..30u32 {
            let target = if n % 2 == 0 { &a } else { &b };
            log.append(request(target, n / 2 * 2, vec![event(n), event(n + 100)])).await.unwrap();
        }
        all_commits(&log, 30).await
    };
    let url = format!("sqlite://{}", dir.path().join("events.db").display());
    let layout = "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'events'";
    {
        use sqlx::Connection as _;
        let mut file = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE first_layout (position INTEGER NOT NULL, idx INTEGER NOT NULL, stream TEXT NOT NULL, \
                 version INTEGER NOT NULL, envelope TEXT NOT NULL, PRIMARY KEY (position, idx)) WITHOUT ROWID; \
             INSERT INTO first_layout SELECT position, idx, stream, version, envelope FROM events; \
             DROP TABLE events; \
             ALTER TABLE first_layout RENAME TO events; \
             CREATE UNIQUE INDEX events_by_stream ON events (stream, version);",
        )
        .execute(&mut file)
        .await
        .unwrap();
        let declared: String = sqlx::query_scalar(layout).fetch_one(&mut file).await.unwrap();
        assert!(declared.contains("WITHOUT ROWID"), "the test's file is in the first layout: {declared}");
    }

    let log = open_sqlite_log(dir.path()).await;
    {
        use sqlx::Connection as _;
        let mut file = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let declared: String = sqlx::query_scalar(layout).fetch_one(&mut file).await.unwrap();
        assert!(!declared.contains("WITHOUT ROWID"), "laid out by row numbers: {declared}");
    }
    assert_eq!(all_commits(&log, 30).await, before, "every commit, in order, with its events");
    let head = before.last().unwrap().0;
    assert_eq!(log.head().await.unwrap(), head);
    let versions: Vec<u32> = log.read_stream(&a).await.unwrap().iter().map(|event| event.version).collect();
    assert_eq!(versions, (1..=30).collect::<Vec<_>>());
    let next = log.append(request(&a, 30, vec![event(1_000)])).await.unwrap();
    assert_eq!((next.position, next.version), (Position(head.0 + 1), 31));
    let err = log.append(request(&a, 30, vec![event(1_001)])).await.unwrap_err();
    assert!(matches!(err, LogError::Conflict { expected: 30, actual: 31, .. }), "{err:?}");
}

//! The projection runner against the real backends: JetStream + PostgreSQL, and the embedded SQLite log +
//! SQLite read models. A projection killed mid-batch loses nothing and counts nothing twice; a rebuild gives
//! identical rows; an event that does not decode stops the projection with its position on display.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use casetrack_eventstore::db::ReadDb;
use casetrack_eventstore::log::{AppendRequest, EventLog, ExpectedVersion, NewEvent, Position};
use casetrack_eventstore::projection::{
    Batch, Known, Projection, ProjectionError, ProjectionRunner, REBUILD_BATCH_EVENTS, Registry, load_checkpoint,
    rebuild_all,
};
use casetrack_eventstore::testkit::{TempDir, TestStream, append_first, fresh_postgres, fresh_sqlite, open_sqlite_log};
use casetrack_proto::hub::HubEvent;
use casetrack_proto::{Actor, CommandId, EventId, Payload, StreamId};
use sqlx::AnyConnection;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Records every event it sees, one row each, with no uniqueness: a double count shows as a duplicate row.
/// It can be told to fail part-way through its next batches, after writing some of its rows.
struct Counter {
    failures_left: AtomicUsize,
    slow: bool,
}

impl Counter {
    fn new(failures: usize, slow: bool) -> Arc<Self> {
        Arc::new(Self { failures_left: AtomicUsize::new(failures), slow })
    }
}

#[async_trait::async_trait]
impl Projection for Counter {
    fn name(&self) -> &'static str {
        "test.counter"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["test_counted"]
    }

    async fn apply(&self, tx: &mut AnyConnection, batch: &Batch, _known: &mut Known) -> Result<(), ProjectionError> {
        let commits = batch.commits();
        for (index, commit) in commits.iter().enumerate() {
            for event in &commit.events {
                sqlx::query("INSERT INTO test_counted (event_id, position) VALUES ($1, $2)")
                    .bind(event.id.to_string())
                    .bind(commit.position.0 as i64)
                    .execute(&mut *tx)
                    .await?;
            }
            if self.slow {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            // Fail halfway through a batch, with rows already written in the transaction.
            if index == commits.len() / 2
                && commits.len() > 1
                && self.failures_left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
            {
                return Err(ProjectionError::Database(sqlx::Error::Protocol("injected failure mid-batch".into())));
            }
        }
        Ok(())
    }
}

async fn create_counter_table(db: &ReadDb) {
    sqlx::query("CREATE TABLE IF NOT EXISTS test_counted (event_id TEXT NOT NULL, position BIGINT NOT NULL)")
        .execute(db.pool())
        .await
        .unwrap();
}

async fn append_commits(log: &EventLog, commits: usize, per_commit: usize) -> Position {
    let stream = StreamId::new("test", "thing", Uuid::now_v7()).unwrap();
    let mut last = Position(0);
    for n in 0..commits {
        let events = (0..per_commit)
            .map(|_| NewEvent {
                id: EventId::new(),
                event_type: "ThingHappened".into(),
                schema_version: 1,
                occurred_at: chrono::Utc::now(),
                data: Payload::from_value(&serde_json::json!({})),
            })
            .collect();
        last = log
            .append(AppendRequest {
                stream: stream.clone(),
                expected: ExpectedVersion::Exact((n * per_commit) as u32),
                command_id: CommandId::new(),
                actor: Actor::system(),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::now_v7(),
                events,
            })
            .await
            .unwrap()
            .position;
    }
    last
}

async fn counted(db: &ReadDb) -> (i64, i64) {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM test_counted").fetch_one(db.pool()).await.unwrap();
    let distinct: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT event_id) FROM test_counted").fetch_one(db.pool()).await.unwrap();
    (total, distinct)
}

async fn dump(db: &ReadDb) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT event_id, position FROM test_counted ORDER BY event_id").fetch_all(db.pool()).await.unwrap()
}

async fn failures_mid_batch_lose_nothing_and_count_nothing_twice(log: EventLog, db: ReadDb) {
    create_counter_table(&db).await;
    let head = append_commits(&log, 200, 3).await;
    let registry = Registry::default();
    let runner = ProjectionRunner::new(db.clone(), log.clone(), Counter::new(3, false), &registry);
    let status = runner.status();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner.run(shutdown.clone()));
    assert!(status.wait_for(head, Duration::from_secs(30)).await, "the projection never caught up");
    shutdown.cancel();
    task.await.unwrap();
    assert_eq!(counted(&db).await, (600, 600));
    assert!(status.failure().is_none());
}

async fn killed_mid_batch_resumes_exactly_once(log: EventLog, db: ReadDb) {
    create_counter_table(&db).await;
    let registry = Registry::default();
    let mut head = Position(0);
    for round in 0..8u64 {
        head = append_commits(&log, 60, 2).await;
        let runner = ProjectionRunner::new(db.clone(), log.clone(), Counter::new(0, true), &registry);
        let task = tokio::spawn(runner.run(CancellationToken::new()));
        // Kill the task at a different moment each round, usually inside a batch's transaction.
        tokio::time::sleep(Duration::from_millis(5 + 7 * round)).await;
        task.abort();
        let _ = task.await;
    }
    let runner = ProjectionRunner::new(db.clone(), log.clone(), Counter::new(0, false), &registry);
    assert_eq!(runner.catch_up().await.unwrap(), head);
    assert_eq!(counted(&db).await, (960, 960));
}

async fn rebuild_gives_identical_rows(log: EventLog, db: ReadDb) {
    create_counter_table(&db).await;
    let head = append_commits(&log, 50, 4).await;
    let registry = Registry::default();
    let runner = ProjectionRunner::new(db.clone(), log.clone(), Counter::new(0, false), &registry);
    assert_eq!(runner.catch_up().await.unwrap(), head);
    let before = dump(&db).await;
    assert_eq!(runner.rebuild().await.unwrap(), head);
    assert_eq!(dump(&db).await, before);
    assert_eq!(before.len(), 200);
    // `casetrack rebuild`: the log read once for every projection, in large batches, checkpoints moved.
    let projections: Vec<Arc<dyn Projection>> = vec![Counter::new(0, false)];
    let rebuilt = rebuild_all(&db, &log, projections, &registry, REBUILD_BATCH_EVENTS).await.unwrap();
    assert_eq!(rebuilt.iter().map(|r| (r.name, r.position)).collect::<Vec<_>>(), [("test.counter", head)]);
    assert_eq!(dump(&db).await, before);
    assert_eq!(load_checkpoint(&db, "test.counter").await.unwrap(), head);
}

/// A hub projection that must understand hub events.
struct HubReader;

#[async_trait::async_trait]
impl Projection for HubReader {
    fn name(&self) -> &'static str {
        "test.hub_reader"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[]
    }

    async fn apply(&self, _tx: &mut AnyConnection, batch: &Batch, _known: &mut Known) -> Result<(), ProjectionError> {
        // Through the batch's shared decoding, which must report the poison to each projection that asks.
        batch.decoded::<HubEvent>().await?;
        Ok(())
    }
}

async fn an_undecodable_event_stops_the_projection_at_its_position(log: EventLog, db: ReadDb) {
    let good = append_commits(&log, 3, 1).await;
    let not_a_referral = serde_json::json!({"not": "a referral"});
    let bad = append_first(&log, ("hub", "referral"), "ReferralReceived", not_a_referral).await;
    let registry = Registry::default();
    let runner = ProjectionRunner::new(db.clone(), log.clone(), Arc::new(HubReader), &registry);
    let status = runner.status();
    tokio::time::timeout(Duration::from_secs(20), runner.run(CancellationToken::new()))
        .await
        .expect("the runner stops on poison");
    let failure = status.failure().expect("the failure is recorded");
    assert!(failure.contains(&format!("log position {bad}")), "{failure}");
    assert_eq!(status.position(), good, "everything before the bad event was applied, nothing after");
}

macro_rules! suite {
    ($name:ident, $setup:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn failures_mid_batch_lose_nothing_and_count_nothing_twice() {
                let (_keep, log, db) = $setup;
                super::failures_mid_batch_lose_nothing_and_count_nothing_twice(log, db).await
            }
            #[tokio::test]
            async fn killed_mid_batch_resumes_exactly_once() {
                let (_keep, log, db) = $setup;
                super::killed_mid_batch_resumes_exactly_once(log, db).await
            }
            #[tokio::test]
            async fn rebuild_gives_identical_rows() {
                let (_keep, log, db) = $setup;
                super::rebuild_gives_identical_rows(log, db).await
            }
            #[tokio::test]
            async fn an_undecodable_event_stops_the_projection_at_its_position() {
                let (_keep, log, db) = $setup;
                super::an_undecodable_event_stops_the_projection_at_its_position(log, db).await
            }
        }
    };
}

suite!(jetstream_and_postgres, {
    // The stream is deleted when `_keep` is dropped, at the end of the test.
    let stream = TestStream::new();
    let log = stream.open().await;
    (stream, log, fresh_postgres().await)
});
suite!(embedded, {
    let dir = TempDir::new();
    let log = open_sqlite_log(dir.path()).await;
    let db = fresh_sqlite(dir.path()).await;
    (dir, log, db)
});

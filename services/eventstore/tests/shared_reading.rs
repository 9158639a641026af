//! The JetStream log's one reading per process, shared by its subscribers, against a real NATS server: every
//! subscriber sees every commit after its position, in order, once, whether it is among the commits the shared
//! reading holds, starts before them, or falls behind them.

use casetrack_eventstore::log::jetstream::JetStreamLog;
use casetrack_eventstore::log::{Commit, CommitStream, EventLog, LogError, Position};
use casetrack_eventstore::testkit::{TestStream, append_first};
use futures::StreamExt;

async fn append(log: &EventLog) -> Position {
    append_first(log, ("test", "thing"), "ThingHappened", serde_json::json!({})).await
}

async fn take(commits: &mut CommitStream, count: usize) -> Vec<Position> {
    let mut positions = Vec::new();
    for _ in 0..count {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), commits.next())
            .await
            .expect("a commit within 10 s")
            .expect("the subscription goes on");
        let commit: Commit = next.unwrap_or_else(|error: LogError| panic!("reading failed: {error}"));
        positions.push(commit.position);
    }
    positions
}

/// A log whose shared reading holds only three commits, so that subscribers start before and fall behind them.
async fn log_holding_three(stream: &mut TestStream) -> EventLog {
    stream.config.held_commits = 3;
    EventLog::new(JetStreamLog::connect(stream.config.clone()).await.expect("tests need NATS (scripts/test)"))
}

#[tokio::test]
async fn a_subscriber_before_or_behind_the_held_commits_misses_none() {
    let mut stream = TestStream::new();
    let log = log_holding_three(&mut stream).await;
    let mut written = Vec::new();
    for _ in 0..5 {
        written.push(append(&log).await);
    }
    // From the start: before anything the shared reading (begun at the head) holds.
    let mut from_start = log.subscribe(Position(0)).await.unwrap();
    // At the head: among the held commits from the first.
    let mut at_head = log.subscribe(written[4]).await.unwrap();
    assert_eq!(take(&mut from_start, 5).await, written);
    for _ in 0..10 {
        written.push(append(&log).await);
    }
    // Ten written while neither read: both fell behind the three commits held, and catch up on their own.
    assert_eq!(take(&mut at_head, 10).await, written[5..]);
    assert_eq!(take(&mut from_start, 10).await, written[5..]);
    // Then both are among the held commits again, and see the next one there.
    written.push(append(&log).await);
    assert_eq!(take(&mut at_head, 1).await, written[15..]);
    assert_eq!(take(&mut from_start, 1).await, written[15..]);
}

#[tokio::test]
async fn subscribers_of_one_process_share_one_consumer() {
    let stream = TestStream::new();
    let log = stream.open().await;
    let head = append(&log).await;
    let mut subscribers = Vec::new();
    for _ in 0..10 {
        subscribers.push(log.subscribe(head).await.unwrap());
    }
    let mut written = Vec::new();
    for _ in 0..3 {
        written.push(append(&log).await);
    }
    for subscriber in &mut subscribers {
        assert_eq!(take(subscriber, 3).await, written);
    }
    let client = async_nats::connect(casetrack_eventstore::testkit::nats_url()).await.unwrap();
    let mut info = async_nats::jetstream::new(client).get_stream(&stream.config.stream).await.unwrap();
    let consumers = info.info().await.unwrap().state.consumer_count;
    assert_eq!(consumers, 1, "ten subscribers among the held commits read through the one shared consumer");
}

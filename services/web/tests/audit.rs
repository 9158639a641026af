//! The audit trail under concurrency: every entry is written, however many requests of one user are in flight, on
//! both log backends. (One user's entries once shared a stream a day, and on JetStream 13% of them were lost when
//! 32 requests ran at once.)

use std::collections::BTreeMap;

use casetrack_eventstore::log::{EventLog, Position};
use casetrack_eventstore::testkit::{TempDir, TestStream, fresh_sqlite, open_sqlite_log};
use casetrack_proto::audit::{AccessDecision, AccessRecorded};
use casetrack_proto::{Role, UserId};
use casetrack_vault::MasterKey;
use casetrack_web::Context;
use casetrack_web::access::record_access;
use uuid::Uuid;

/// Requests in flight at once, and entries each of them writes one after the other.
const IN_FLIGHT: usize = 64;
const EACH: usize = 10;

fn entry(user: UserId, n: usize) -> AccessRecorded {
    AccessRecorded {
        user_id: Some(user),
        username: Some("hub.officer".into()),
        role: Some(Role::HubOfficer),
        method: "POST".into(),
        route: "/api/people".into(),
        records: BTreeMap::from([("n".to_owned(), n.to_string())]),
        person_id: None,
        address: Some("127.0.0.1".into()),
        decision: AccessDecision::Allowed,
        status: 201,
        break_glass_reason: None,
        late_entry: None,
    }
}

async fn every_entry_of_one_busy_user_is_written(audit: EventLog, ctx: Context) {
    let ctx = ctx.with_audit(audit.clone());
    let user = UserId(Uuid::now_v7());
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|task| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                for n in 0..EACH {
                    record_access(&ctx, entry(user, task * EACH + n)).await.expect("the entry is written");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("no task panics");
    }
    assert_eq!(audit.head().await.unwrap(), Position((IN_FLIGHT * EACH) as u64), "one commit per entry, none lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn jetstream_keeps_every_entry_with_64_in_flight() {
    let stream = TestStream::new();
    let audit = stream.open().await;
    let dir = TempDir::new();
    let db = fresh_sqlite(dir.path()).await;
    let ctx = Context::new(audit.clone(), db, MasterKey::generate());
    every_entry_of_one_busy_user_is_written(audit, ctx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_every_entry_with_64_in_flight() {
    let dir = TempDir::new();
    let audit = open_sqlite_log(dir.path()).await;
    let db = fresh_sqlite(dir.path()).await;
    let ctx = Context::new(audit.clone(), db, MasterKey::generate());
    every_entry_of_one_busy_user_is_written(audit, ctx).await;
}

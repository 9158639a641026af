//! `hub.referrals` against the real backends (a fresh stream and database per test).

use std::sync::Arc;

use casetrack_eventstore::db::ReadDb;
use casetrack_eventstore::log::{AppendRequest, EventLog, ExpectedVersion, NewEvent};
use casetrack_eventstore::projection::{ProjectionRunner, Registry};
use casetrack_eventstore::testkit::{TempDir, TestStream, fresh_postgres, fresh_sqlite, open_sqlite_log};
use casetrack_proto::contact::{ConsentBasis, SafeContact};
use casetrack_proto::hub::{ReferralReceived, ReferralSource};
use casetrack_proto::people::PersonRegistered;
use casetrack_proto::{Actor, CommandId, EventContract, EventId, PersonId, ReferralId, Sealed, StreamId};
use chrono::{DateTime, Duration, Utc};

use super::*;

async fn append<E: EventContract>(log: &EventLog, stream: StreamId, at: DateTime<Utc>, event: E) {
    let request = AppendRequest {
        stream,
        expected: ExpectedVersion::Any,
        command_id: CommandId::new(),
        actor: Actor::system(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        events: vec![NewEvent::from_contract(EventId::new(), at, &event)],
    };
    log.append(request).await.unwrap();
}

async fn receive(log: &EventLog, person_id: PersonId, at: DateTime<Utc>) -> ReferralId {
    let referral_id = ReferralId::new();
    let event = HubEvent::ReferralReceived(ReferralReceived {
        referral_id,
        person_id,
        source: ReferralSource::PoliceFeed,
        offence_category: None,
        domestic_abuse: false,
        crime_reference: Some("CR/1".into()),
        crime_reported_on: None,
        safe_contact: SafeContact::default(),
        consent: ConsentBasis::OptOut,
        consent_override_reason: None,
        enhanced_rights: false,
        profile: Default::default(),
    });
    append(log, StreamId::new("hub", "referral", referral_id.0).unwrap(), at, event).await;
    referral_id
}

/// Nothing makes a person's registration come before the referrals that name them: a live runner whose batch
/// begins the person's stream still finds the person's earlier referrals, and flags the new one a repeat.
async fn a_person_registered_after_their_first_referral_is_still_a_repeat_victim(log: EventLog, db: ReadDb) {
    db.migrate("hub", &crate::projections::MIGRATIONS).await.unwrap();
    let runner = ProjectionRunner::new(db.clone(), log.clone(), Arc::new(Referrals), &Registry::default());
    let (person_id, first_at) = (PersonId::new(), Utc::now() - Duration::days(60));
    let first = receive(&log, person_id, first_at).await;
    runner.catch_up().await.unwrap();
    // One batch: the person's first event, then their second referral, a month after the first.
    let registered = PeopleEvent::PersonRegistered(PersonRegistered {
        person_id,
        details: Sealed("v1.AAAA".into()),
        match_key: "key".into(),
    });
    append(&log, StreamId::new("people", "person", person_id.0).unwrap(), first_at, registered).await;
    let second = receive(&log, person_id, first_at + Duration::days(30)).await;
    runner.catch_up().await.unwrap();
    let sql = "SELECT referral_id, repeat_victim FROM hub_referrals ORDER BY received_at";
    let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(db.pool()).await.unwrap();
    assert_eq!(rows, [(first.to_string(), 0), (second.to_string(), 1)]);
}

#[tokio::test]
async fn a_late_registration_on_nats_and_postgres() {
    let stream = TestStream::new();
    a_person_registered_after_their_first_referral_is_still_a_repeat_victim(
        stream.open().await,
        fresh_postgres().await,
    )
    .await;
}

#[tokio::test]
async fn a_late_registration_on_the_embedded_backends() {
    let dir = TempDir::new();
    let (log, db) = (open_sqlite_log(dir.path()).await, fresh_sqlite(dir.path()).await);
    a_person_registered_after_their_first_referral_is_still_a_repeat_victim(log, db).await;
}

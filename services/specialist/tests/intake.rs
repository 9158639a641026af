//! The intake reactor on both event logs: an onward referral opens exactly one case, however often it is delivered.

use casetrack_eventstore::log::{AppendRequest, EventLog, ExpectedVersion, NewEvent};
use casetrack_eventstore::reactor::Reactor;
use casetrack_eventstore::testkit::{TempDir, TestStream, open_sqlite_log};
use casetrack_proto::contact::{ContactChannel, SafeContact, Safety, TimeBand};
use casetrack_proto::hub::{HubEvent, OnwardReferralMade};
use casetrack_proto::specialist::{CaseOrigin, SpecialistEvent};
use casetrack_proto::{Actor, CaseId, CommandId, EventContract, EventId, PersonId, ReferralId, ServiceCode, StreamId};
use casetrack_specialist::intake::Intake;
use uuid::Uuid;

async fn redelivery_never_opens_a_second_case(log: EventLog, again: EventLog) {
    let referral_id = ReferralId::new();
    let person_id = PersonId::new();
    let mut safe_contact = SafeContact::default();
    safe_contact.set(ContactChannel::Voicemail, Safety::Unsafe);
    let event = HubEvent::OnwardReferralMade(OnwardReferralMade {
        referral_id,
        person_id,
        target_service: ServiceCode::parse("idva").unwrap(),
        safe_contact: safe_contact.clone(),
        safe_times: vec![TimeBand::Morning],
        domestic_abuse: true,
        enhanced_rights: true,
        age_band: None,
    });
    let stream = StreamId::new("hub", "referral", referral_id.0).unwrap();
    log.append(AppendRequest {
        stream: stream.clone(),
        expected: ExpectedVersion::Any,
        command_id: CommandId::new(),
        actor: Actor::system(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        events: vec![NewEvent::from_contract(EventId::new(), chrono::Utc::now(), &event)],
    })
    .await
    .unwrap();
    let envelope = log.read_stream(&stream).await.unwrap().remove(0);

    let idva = Intake::new(ServiceCode::parse("idva").unwrap());
    let isva = Intake::new(ServiceCode::parse("isva").unwrap());
    idva.react(&log, &envelope).await.unwrap();
    idva.react(&log, &envelope).await.unwrap();
    // A second process (another replica, or a restart that lost its checkpoint) delivers it again.
    idva.react(&again, &envelope).await.unwrap();
    isva.react(&log, &envelope).await.unwrap();

    let case_id = CaseId(envelope.id.derive("specialist-case"));
    let events = log.read_stream(&StreamId::new("specialist", "case", case_id.0).unwrap()).await.unwrap();
    assert_eq!(events.len(), 1, "exactly one case event");
    let SpecialistEvent::CaseOpened(opened) =
        SpecialistEvent::from_data(&events[0].event_type, events[0].schema_version, &events[0].data).unwrap()
    else {
        panic!("the case's first event is CaseOpened, not {}", events[0].event_type);
    };
    assert_eq!((opened.service.as_str(), opened.person_id), ("idva", person_id));
    assert_eq!(opened.origin, CaseOrigin::Hub { referral_id, onward_event_id: envelope.id });
    // The case starts with what the hub knew: how to contact the victim safely, and the flags that matter.
    assert_eq!((opened.safe_contact, opened.safe_times), (safe_contact, vec![TimeBand::Morning]));
    assert!(opened.domestic_abuse && opened.enhanced_rights);
    assert_eq!(events[0].causation_id, envelope.id.0, "the case names the event that caused it");
    assert_eq!(events[0].correlation_id, envelope.correlation_id);
}

#[tokio::test]
async fn jetstream() {
    let stream = TestStream::new();
    redelivery_never_opens_a_second_case(stream.open().await, stream.open().await).await
}

#[tokio::test]
async fn embedded() {
    let dir = TempDir::new();
    let log = open_sqlite_log(dir.path()).await;
    redelivery_never_opens_a_second_case(log.clone(), log).await
}

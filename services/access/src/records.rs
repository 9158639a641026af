//! `access.records`: what data protection needs to know of each person, kept by access from the log itself: when
//! they were registered and erased (people's events), and their hub referrals and specialist cases, with when each
//! was opened and ended (the hub's and the services' events). Retention and the subject-access export read these
//! tables and no other service's (docs/adr/0008-services-meet-only-through-the-log.md).
//!
//! A record ends as its own service counts the end: a hub referral at its first ending (unable to contact,
//! returned to the referrer, support declined, closed; a referral never reopens), a case at its latest (declined by
//! the service, withdrawn, unable to contact, support declined, closed), open again when reopened.
//!
//! A batch reads the rows it touches up front, folds its events into them in memory and writes the changed rows
//! back many a statement (the same three steps as `hub.referrals`).

use std::collections::BTreeMap;
use std::sync::Arc;

use casetrack_eventstore::db::{Cell, OnConflict, ReadDb, Rows, fetch_in};
use casetrack_eventstore::projection::{Batch, Known, Projection, ProjectionError, ProjectionRunner, Registry};
use casetrack_proto::hub::HubEvent;
use casetrack_proto::people::PeopleEvent;
use casetrack_proto::specialist::SpecialistEvent;
use casetrack_proto::{Envelope, PersonId};
use casetrack_web::Context;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};
use uuid::Uuid;

pub struct Records;

/// The projection's name: its checkpoint's key.
pub const NAME: &str = "access.records";

/// What a rebuild notes it has stored ([`Known`]): people, and records (referrals and cases).
const PERSON: &str = "person";
const RECORD: &str = "record";

const PEOPLE_COLUMNS: [&str; 3] = ["person_id", "registered_at", "erased_at"];
const RECORD_COLUMNS: [&str; 6] = ["record_id", "kind", "service", "person_id", "opened_at", "ended_at"];

/// The kinds of record, as stored.
const REFERRAL: &str = "referral";
const CASE: &str = "case";

/// A row of `access_people`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Person {
    person_id: String,
    registered_at: String,
    erased_at: Option<String>,
}

impl Person {
    fn read(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            person_id: row.try_get("person_id")?,
            registered_at: row.try_get("registered_at")?,
            erased_at: row.try_get("erased_at")?,
        })
    }

    fn cells(&self) -> Vec<Cell> {
        vec![self.person_id.clone().into(), self.registered_at.clone().into(), self.erased_at.clone().into()]
    }
}

/// A row of `access_records`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    record_id: String,
    kind: String,
    service: String,
    person_id: String,
    opened_at: String,
    ended_at: Option<String>,
}

impl Record {
    fn read(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            record_id: row.try_get("record_id")?,
            kind: row.try_get("kind")?,
            service: row.try_get("service")?,
            person_id: row.try_get("person_id")?,
            opened_at: row.try_get("opened_at")?,
            ended_at: row.try_get("ended_at")?,
        })
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            self.record_id.clone().into(),
            self.kind.clone().into(),
            self.service.clone().into(),
            self.person_id.clone().into(),
            self.opened_at.clone().into(),
            self.ended_at.clone().into(),
        ]
    }
}

/// What one event of a batch does here, if anything.
enum Change {
    Registered(Uuid),
    Erased(Uuid),
    /// A referral or case begins: its kind, service and person.
    Opened(Uuid, &'static str, String, PersonId),
    /// A hub referral ends (the first end stands).
    ReferralEnded(Uuid),
    /// A case ends (the latest end stands).
    CaseEnded(Uuid),
    CaseReopened(Uuid),
}

fn hub_change(envelope: &Envelope, event: &HubEvent) -> Option<Change> {
    let id = envelope.subject.id();
    Some(match event {
        HubEvent::ReferralReceived(e) => Change::Opened(id, REFERRAL, "hub".to_owned(), e.person_id),
        HubEvent::UnableToContactRecorded(_)
        | HubEvent::ReturnedToReferrer(_)
        | HubEvent::SupportDeclined(_)
        | HubEvent::ReferralClosed(_) => Change::ReferralEnded(id),
        _ => return None,
    })
}

fn specialist_change(envelope: &Envelope, event: &SpecialistEvent) -> Option<Change> {
    let id = envelope.subject.id();
    Some(match event {
        SpecialistEvent::CaseOpened(e) => Change::Opened(id, CASE, e.service.as_str().to_owned(), e.person_id),
        SpecialistEvent::ReferralDeclinedByService(_)
        | SpecialistEvent::ReferralWithdrawn(_)
        | SpecialistEvent::CaseUnableToContactRecorded(_)
        | SpecialistEvent::CaseSupportDeclined(_)
        | SpecialistEvent::CaseClosed(_) => Change::CaseEnded(id),
        SpecialistEvent::CaseReopened(_) => Change::CaseReopened(id),
        _ => return None,
    })
}

fn people_change(event: &PeopleEvent) -> Option<Change> {
    match event {
        PeopleEvent::PersonRegistered(e) => Some(Change::Registered(e.person_id.0)),
        PeopleEvent::PersonErased(e) => Some(Change::Erased(e.person_id.0)),
        PeopleEvent::DuplicateDecided(_) => None,
    }
}

/// The rows a batch touches, as its events leave them.
#[derive(Default)]
struct Fold {
    people: BTreeMap<Uuid, Person>,
    records: BTreeMap<Uuid, Record>,
}

impl Fold {
    fn apply(&mut self, change: Change, at: String) {
        match change {
            // The first registration stands.
            Change::Registered(id) => {
                self.people.entry(id).or_insert_with(|| Person {
                    person_id: id.to_string(),
                    registered_at: at,
                    erased_at: None,
                });
            }
            Change::Erased(id) => {
                if let Some(person) = self.people.get_mut(&id) {
                    person.erased_at = Some(at);
                }
            }
            // The first opening stands.
            Change::Opened(id, kind, service, person_id) => {
                self.records.entry(id).or_insert_with(|| Record {
                    record_id: id.to_string(),
                    kind: kind.to_owned(),
                    service,
                    person_id: person_id.to_string(),
                    opened_at: at,
                    ended_at: None,
                });
            }
            Change::ReferralEnded(id) => {
                if let Some(record) = self.records.get_mut(&id) {
                    record.ended_at.get_or_insert(at);
                }
            }
            Change::CaseEnded(id) => {
                if let Some(record) = self.records.get_mut(&id) {
                    record.ended_at = Some(at);
                }
            }
            Change::CaseReopened(id) => {
                if let Some(record) = self.records.get_mut(&id) {
                    record.ended_at = None;
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Projection for Records {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["access_people", "access_records"]
    }

    async fn apply(&self, tx: &mut AnyConnection, batch: &Batch, known: &mut Known) -> Result<(), ProjectionError> {
        let hub = batch.decoded::<HubEvent>().await?;
        let specialist = batch.decoded::<SpecialistEvent>().await?;
        let people = batch.decoded::<PeopleEvent>().await?;
        let mut changes = Vec::new();
        for (((_, envelope), hub), (specialist, people)) in
            batch.events().zip(hub.iter()).zip(specialist.iter().zip(people.iter()))
        {
            let change = match (hub, specialist, people) {
                (Some(event), _, _) => hub_change(envelope, event),
                (_, Some(event), _) => specialist_change(envelope, event),
                (_, _, Some(event)) => people_change(event),
                _ => None,
            };
            if let Some(change) = change {
                changes.push((change, envelope));
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        // Rows are read only under keys that may have some: not those of streams the batch begins (every row here
        // is made by its own stream's first event), nor, in a rebuild, those this run never stored.
        let begun = batch.begun();
        let stored = |kind: &'static str, id: &Uuid| !begun.contains(id) && known.may_have(kind, *id);
        let (mut person_keys, mut record_keys) = (Vec::new(), Vec::new());
        for (change, _) in &changes {
            match change {
                Change::Registered(id) | Change::Erased(id) if stored(PERSON, id) => person_keys.push(id.to_string()),
                Change::Opened(id, ..)
                | Change::ReferralEnded(id)
                | Change::CaseEnded(id)
                | Change::CaseReopened(id)
                    if stored(RECORD, id) =>
                {
                    record_keys.push(id.to_string())
                }
                _ => {}
            }
        }
        let mut fold = Fold::default();
        let select = format!("SELECT {} FROM access_people WHERE person_id IN", PEOPLE_COLUMNS.join(", "));
        for row in fetch_in(tx, &select, &person_keys).await? {
            let person = Person::read(&row)?;
            fold.people.insert(parse_id(&person.person_id)?, person);
        }
        let select = format!("SELECT {} FROM access_records WHERE record_id IN", RECORD_COLUMNS.join(", "));
        for row in fetch_in(tx, &select, &record_keys).await? {
            let record = Record::read(&row)?;
            fold.records.insert(parse_id(&record.record_id)?, record);
        }
        let (people_before, records_before) = (fold.people.clone(), fold.records.clone());
        for (change, envelope) in changes {
            fold.apply(change, envelope.occurred_at.to_rfc3339());
        }
        // Rows not read are new (inserted); the stored ones that changed are replaced.
        let mut rows = Rows::default();
        for (id, person) in &fold.people {
            known.store(PERSON, *id);
            match people_before.get(id) {
                Some(stored) if stored == person => {}
                stored => rows.push(stored.is_none(), person.cells()),
            }
        }
        rows.write(tx, "access_people", &PEOPLE_COLUMNS, OnConflict::Replace(&["person_id"])).await?;
        let mut rows = Rows::default();
        for (id, record) in &fold.records {
            known.store(RECORD, *id);
            match records_before.get(id) {
                Some(stored) if stored == record => {}
                stored => rows.push(stored.is_none(), record.cells()),
            }
        }
        rows.write(tx, "access_records", &RECORD_COLUMNS, OnConflict::Replace(&["record_id"])).await?;
        Ok(())
    }
}

/// An id as stored.
fn parse_id(text: &str) -> sqlx::Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Brings `access.records` up to the log's head, for a reader that must not miss the latest events (the retention
/// run, often a process of its own next to the one that serves). A runner elsewhere may be applying the same
/// batches: the checkpoint decides which of the two writes each one.
pub async fn catch_up(ctx: &Context) -> anyhow::Result<()> {
    let runner = ProjectionRunner::new(ctx.db.clone(), ctx.log.clone(), Arc::new(Records), &Registry::default());
    runner.catch_up().await?;
    Ok(())
}

/// A person not erased, and how their records stand.
#[derive(Debug, Clone)]
pub struct Activity {
    pub person_id: String,
    pub registered_at: String,
    /// The latest end of any of their records (RFC 3339), if any has ended.
    pub last_ended: Option<String>,
    /// How many of their records are still open.
    pub open: i64,
}

/// Every person not erased, by id, with how their records stand.
pub async fn activity(db: &ReadDb) -> sqlx::Result<Vec<Activity>> {
    let rows = sqlx::query(
        "SELECT p.person_id, p.registered_at, \
           (SELECT MAX(r.ended_at) FROM access_records r WHERE r.person_id = p.person_id) AS last_ended, \
           (SELECT COUNT(*) FROM access_records r WHERE r.person_id = p.person_id AND r.ended_at IS NULL) AS open_records \
         FROM access_people p WHERE p.erased_at IS NULL ORDER BY p.person_id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Activity {
                person_id: row.try_get("person_id")?,
                registered_at: row.try_get("registered_at")?,
                last_ended: row.try_get("last_ended")?,
                open: row.try_get("open_records")?,
            })
        })
        .collect()
}

/// One of a person's records: its id and service (`hub` for a referral).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    pub id: String,
    pub service: String,
}

/// A person's hub referrals (`referrals`) and specialist cases, each in the order they were opened.
pub async fn of_person(db: &ReadDb, person_id: PersonId) -> sqlx::Result<(Vec<RecordRef>, Vec<RecordRef>)> {
    let rows = sqlx::query(
        "SELECT record_id, kind, service FROM access_records WHERE person_id = $1 ORDER BY opened_at, record_id",
    )
    .bind(person_id.to_string())
    .fetch_all(db.pool())
    .await?;
    let (mut referrals, mut cases) = (Vec::new(), Vec::new());
    for row in rows {
        let record = RecordRef { id: row.try_get("record_id")?, service: row.try_get("service")? };
        match row.try_get::<String, _>("kind")?.as_str() {
            REFERRAL => referrals.push(record),
            _ => cases.push(record),
        }
    }
    Ok((referrals, cases))
}

#[cfg(test)]
mod tests {
    use casetrack_eventstore::log::{AppendRequest, EventLog, ExpectedVersion, NewEvent};
    use casetrack_eventstore::testkit::{TempDir, TestStream, fresh_postgres, fresh_sqlite, open_sqlite_log};
    use casetrack_proto::contact::ConsentBasis;
    use casetrack_proto::contact::SafeContact;
    use casetrack_proto::hub::{ReferralClosed, ReferralReceived, ReferralSource, UnableToContactRecorded};
    use casetrack_proto::people::{ErasureReason, PersonErased, PersonRegistered};
    use casetrack_proto::specialist::{CaseClosed, CaseOpened, CaseOrigin, CaseReopened, ClosureReason};
    use casetrack_proto::{
        Actor, CaseId, CommandId, EventContract, EventId, ReferralId, Sealed, ServiceCode, StreamId,
    };
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

    async fn register(log: &EventLog, at: DateTime<Utc>) -> PersonId {
        let person_id = PersonId::new();
        let event = PeopleEvent::PersonRegistered(PersonRegistered {
            person_id,
            details: Sealed("v1.AAAA".into()),
            match_key: "k".into(),
        });
        append(log, StreamId::new("people", "person", person_id.0).unwrap(), at, event).await;
        person_id
    }

    async fn hub(log: &EventLog, referral_id: ReferralId, at: DateTime<Utc>, event: HubEvent) {
        append(log, StreamId::new("hub", "referral", referral_id.0).unwrap(), at, event).await;
    }

    async fn case(log: &EventLog, case_id: CaseId, at: DateTime<Utc>, event: SpecialistEvent) {
        append(log, StreamId::new("specialist", "case", case_id.0).unwrap(), at, event).await;
    }

    /// Every row of both tables, in a fixed order.
    async fn rows(db: &ReadDb) -> Vec<Vec<Option<String>>> {
        let mut all = Vec::new();
        for sql in [
            "SELECT person_id, registered_at, erased_at FROM access_people ORDER BY person_id",
            "SELECT record_id, kind, service, person_id, opened_at, ended_at FROM access_records ORDER BY record_id",
        ] {
            for row in sqlx::query(sql).fetch_all(db.pool()).await.unwrap() {
                all.push((0..row.len()).map(|i| row.get::<Option<String>, _>(i)).collect());
            }
        }
        all
    }

    /// A referral ends at its first ending; a case at its latest, and a reopened case is open; an erased person is
    /// nobody's concern any more. Applied event by event, or all at once by a rebuild, the rows are the same.
    async fn records_end_as_their_services_count_the_end(log: EventLog, db: ReadDb) {
        db.migrate("access", &crate::MIGRATIONS).await.unwrap();
        let runner = ProjectionRunner::new(db.clone(), log.clone(), Arc::new(Records), &Registry::default());
        let start = Utc::now() - Duration::days(100);
        let day = |n: i64| start + Duration::days(n);
        let (kept, never, erased) =
            (register(&log, day(0)).await, register(&log, day(0)).await, register(&log, day(0)).await);
        runner.catch_up().await.unwrap();
        let referral_id = ReferralId::new();
        let received = HubEvent::ReferralReceived(ReferralReceived {
            referral_id,
            person_id: kept,
            source: ReferralSource::PoliceFeed,
            offence_category: None,
            domestic_abuse: false,
            crime_reference: None,
            crime_reported_on: None,
            safe_contact: SafeContact::default(),
            consent: ConsentBasis::OptOut,
            consent_override_reason: None,
            enhanced_rights: false,
            profile: Default::default(),
        });
        hub(&log, referral_id, day(1), received).await;
        runner.catch_up().await.unwrap();
        let unable = UnableToContactRecorded { referral_id, attempts: 3, time_bands: Vec::new() };
        hub(&log, referral_id, day(2), HubEvent::UnableToContactRecorded(unable)).await;
        let closed = ReferralClosed { referral_id, measures_version: "v1".into(), answers: Vec::new() };
        hub(&log, referral_id, day(3), HubEvent::ReferralClosed(closed)).await;
        let case_id = CaseId::new();
        let opened = CaseOpened {
            case_id,
            service: ServiceCode::parse("idva").unwrap(),
            person_id: kept,
            origin: CaseOrigin::Direct { source: "police".into() },
            safe_contact: SafeContact::default(),
            safe_times: Vec::new(),
            domestic_abuse: true,
            enhanced_rights: false,
            age_band: None,
            offence_category: None,
            nationality: None,
        };
        case(&log, case_id, day(1), SpecialistEvent::CaseOpened(opened)).await;
        runner.catch_up().await.unwrap();
        let reason = ClosureReason::SupportCompleted;
        let closed = CaseClosed { case_id, reason, measures_version: "v1".into(), answers: Vec::new() };
        case(&log, case_id, day(4), SpecialistEvent::CaseClosed(closed.clone())).await;
        let erasure = PeopleEvent::PersonErased(PersonErased { person_id: erased, reason: ErasureReason::Request });
        append(&log, StreamId::new("people", "person", erased.0).unwrap(), day(5), erasure).await;
        runner.catch_up().await.unwrap();

        let activity_of = |activity: &[Activity], person: PersonId| {
            activity.iter().find(|a| a.person_id == person.to_string()).map(|a| (a.last_ended.clone(), a.open))
        };
        let standing = activity(&db).await.unwrap();
        assert_eq!(standing.len(), 2, "the erased person is left out");
        assert_eq!(activity_of(&standing, kept), Some((Some(day(4).to_rfc3339()), 0)));
        assert_eq!(activity_of(&standing, never), Some((None, 0)));
        assert_eq!(activity_of(&standing, erased), None);
        let (referrals, cases) = of_person(&db, kept).await.unwrap();
        assert_eq!(referrals, [RecordRef { id: referral_id.to_string(), service: "hub".into() }]);
        assert_eq!(cases, [RecordRef { id: case_id.to_string(), service: "idva".into() }]);
        let ended: Option<String> = sqlx::query_scalar("SELECT ended_at FROM access_records WHERE record_id = $1")
            .bind(referral_id.to_string())
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(ended, Some(day(2).to_rfc3339()), "a referral's first end stands");

        // Reopened: open again; closed again: the latest end stands.
        let reopened = CaseReopened { case_id, reason: "came back".into() };
        case(&log, case_id, day(6), SpecialistEvent::CaseReopened(reopened)).await;
        runner.catch_up().await.unwrap();
        assert_eq!(activity_of(&activity(&db).await.unwrap(), kept), Some((Some(day(2).to_rfc3339()), 1)));
        case(&log, case_id, day(7), SpecialistEvent::CaseClosed(closed)).await;
        runner.catch_up().await.unwrap();
        assert_eq!(activity_of(&activity(&db).await.unwrap(), kept), Some((Some(day(7).to_rfc3339()), 0)));

        let live = rows(&db).await;
        runner.rebuild().await.unwrap();
        assert_eq!(rows(&db).await, live, "a rebuild gives the same rows");
    }

    #[tokio::test]
    async fn records_on_nats_and_postgres() {
        let stream = TestStream::new();
        records_end_as_their_services_count_the_end(stream.open().await, fresh_postgres().await).await;
    }

    #[tokio::test]
    async fn records_on_the_embedded_backends() {
        let dir = TempDir::new();
        let (log, db) = (open_sqlite_log(dir.path()).await, fresh_sqlite(dir.path()).await);
        records_end_as_their_services_count_the_end(log, db).await;
    }
}

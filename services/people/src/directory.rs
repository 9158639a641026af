//! `people.directory`: who is known, by blind match key. No plaintext ever reaches this table.

use casetrack_eventstore::db::{Cell, OnConflict, Rows};
use casetrack_eventstore::projection::{Batch, Known, Projection, ProjectionError};
use casetrack_proto::people::{DuplicateDecision, PeopleEvent};
use sqlx::AnyConnection;

pub struct Directory;

#[async_trait::async_trait]
impl Projection for Directory {
    fn name(&self) -> &'static str {
        "people.directory"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["people", "people_duplicate_decisions"]
    }

    async fn apply(&self, tx: &mut AnyConnection, batch: &Batch, _: &mut Known) -> Result<(), ProjectionError> {
        // Registrations, by far the most of the people events, are written many a statement: gathered until
        // the end of the batch or the next other event, so that every event still lands in order.
        let mut registered = Rows::default();
        let decoded = batch.decoded::<PeopleEvent>().await?;
        for ((_, envelope), event) in batch.events().zip(decoded) {
            if let Some(PeopleEvent::PersonRegistered(e)) = event {
                // A registration that begins its person's stream: nothing of theirs can be stored yet.
                registered.push(
                    envelope.version == 1,
                    vec![
                        Cell::from(e.person_id.to_string()),
                        e.match_key.clone().into(),
                        envelope.occurred_at.to_rfc3339().into(),
                    ],
                );
                continue;
            }
            if event.is_some() {
                register(tx, std::mem::take(&mut registered)).await?;
            }
            match event {
                Some(PeopleEvent::PersonRegistered(_)) => unreachable!("gathered above"),
                Some(PeopleEvent::DuplicateDecided(e)) => {
                    let decision = match e.decision {
                        DuplicateDecision::Linked => "linked",
                        DuplicateDecision::Rejected => "rejected",
                    };
                    sqlx::query(
                        "INSERT INTO people_duplicate_decisions (person_id, other_person_id, decision, decided_at) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, other_person_id) \
                             DO UPDATE SET decision = excluded.decision, decided_at = excluded.decided_at",
                    )
                    .bind(e.person_id.to_string())
                    .bind(e.other_person_id.to_string())
                    .bind(decision)
                    .bind(envelope.occurred_at.to_rfc3339())
                    .execute(&mut *tx)
                    .await?;
                }
                Some(PeopleEvent::PersonErased(e)) => {
                    sqlx::query("UPDATE people SET match_key = NULL, erased_at = $1 WHERE person_id = $2")
                        .bind(envelope.occurred_at.to_rfc3339())
                        .bind(e.person_id.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
                None => {}
            }
        }
        register(tx, registered).await?;
        Ok(())
    }
}

/// Writes registrations; a person already known keeps their row.
async fn register(tx: &mut AnyConnection, rows: Rows) -> sqlx::Result<()> {
    let columns = ["person_id", "match_key", "registered_at"];
    rows.write(tx, "people", &columns, OnConflict::Ignore(&["person_id"])).await
}

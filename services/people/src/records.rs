//! Reading one person for the pages of other services (the hub's referral page): their details, opened with their
//! key, and their candidate duplicates with the decisions taken; and taking a duplicate decision.

use casetrack_eventstore::command::{Aggregate as _, CommandError, CommandMeta, Executed, execute};
use casetrack_proto::people::{DuplicateDecision, PeopleEvent};
use casetrack_proto::{EventContract as _, PersonId};
use casetrack_vault::VaultError;
use casetrack_web::Context;
use serde::Serialize;
use sqlx::Row;

use crate::person::{Person, PersonRejection, PersonalDetails, decide_duplicate};

/// What can be shown of a person.
#[derive(Debug)]
pub enum PersonRecord {
    Unknown,
    /// Erased: their details can never be read again.
    Erased,
    Known(PersonalDetails),
}

/// Opens a person's registered details with their key.
pub async fn details(ctx: &Context, person_id: PersonId) -> anyhow::Result<PersonRecord> {
    let envelopes = ctx.log.read_stream(&Person::stream_id(person_id.0)).await?;
    let mut record = PersonRecord::Unknown;
    for envelope in &envelopes {
        match PeopleEvent::from_data(&envelope.event_type, envelope.schema_version, &envelope.data)? {
            PeopleEvent::PersonRegistered(registered) => {
                record = match ctx.vault.open::<PersonalDetails>(person_id, envelope.id, &registered.details).await {
                    Ok(details) => PersonRecord::Known(details),
                    Err(VaultError::Erased) => PersonRecord::Erased,
                    Err(error) => return Err(error.into()),
                }
            }
            PeopleEvent::PersonErased(_) => record = PersonRecord::Erased,
            PeopleEvent::DuplicateDecided(_) => {}
        }
    }
    Ok(record)
}

/// Another record sharing this person's blind match key (same normalised name and date of birth).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    pub person_id: String,
    pub registered_at: String,
    /// linked, rejected, or absent while nobody has decided.
    pub decision: Option<String>,
}

/// Candidate duplicates of a person, oldest first; `None` when the person is not (yet) in the directory.
pub async fn candidates(ctx: &Context, person_id: PersonId) -> sqlx::Result<Option<Vec<Candidate>>> {
    let me = person_id.to_string();
    let known: Option<(Option<String>,)> = sqlx::query_as("SELECT match_key FROM people WHERE person_id = $1")
        .bind(&me)
        .fetch_optional(ctx.db.pool())
        .await?;
    let Some((match_key,)) = known else { return Ok(None) };
    let Some(match_key) = match_key else { return Ok(Some(Vec::new())) };
    let rows = sqlx::query(
        "SELECT p.person_id, p.registered_at, d.decision FROM people p \
         LEFT JOIN people_duplicate_decisions d ON d.person_id = $1 AND d.other_person_id = p.person_id \
         WHERE p.match_key = $2 AND p.person_id <> $1 AND p.erased_at IS NULL ORDER BY p.registered_at, p.person_id",
    )
    .bind(&me)
    .bind(&match_key)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Some(
        rows.iter().map(|r| Candidate { person_id: r.get(0), registered_at: r.get(1), decision: r.get(2) }).collect(),
    ))
}

/// Records whether `other` is the same person as `person_id`. A candidate shares the match key and is not erased
/// (looked up here; the decision itself stays pure).
pub async fn decide(
    ctx: &Context,
    person_id: PersonId,
    other: PersonId,
    decision: DuplicateDecision,
    meta: &CommandMeta,
) -> Result<Executed, CommandError<PersonRejection>> {
    let shared: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM people a JOIN people b ON a.match_key = b.match_key \
         WHERE a.person_id = $1 AND b.person_id = $2 AND b.erased_at IS NULL",
    )
    .bind(person_id.to_string())
    .bind(other.to_string())
    .fetch_one(ctx.db.pool())
    .await
    .map_err(|e| CommandError::Infrastructure(e.into()))?;
    execute::<Person, _>(&ctx.log, person_id.0, meta, |state| {
        decide_duplicate(state, person_id, other, shared > 0, decision)
    })
    .await
}

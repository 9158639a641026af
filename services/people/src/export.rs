//! The subject-access export: everything the people service holds about one person.

use casetrack_eventstore::command::Aggregate as _;
use casetrack_proto::people::PeopleEvent;
use casetrack_proto::{EventContract as _, PersonId};
use casetrack_vault::VaultError;
use casetrack_web::Context;
use serde::Serialize;

use crate::person::{Person, PersonalDetails};

#[derive(Debug, Serialize)]
pub struct SubjectAccessExport {
    pub person_id: PersonId,
    /// True once the person was erased: nothing personal can be produced any more.
    pub erased: bool,
    /// The details as registered (absent once erased).
    pub details: Option<PersonalDetails>,
    /// Every recorded event about the person: what, when, by whom (sealed values left out).
    pub events: Vec<serde_json::Value>,
}

/// Builds the export; `None` when there is no such person.
pub async fn export(ctx: &Context, person_id: PersonId) -> anyhow::Result<Option<SubjectAccessExport>> {
    let envelopes = ctx.log.read_stream(&Person::stream_id(person_id.0)).await?;
    if envelopes.is_empty() {
        return Ok(None);
    }
    let mut export = SubjectAccessExport { person_id, erased: false, details: None, events: Vec::new() };
    for envelope in &envelopes {
        let event = PeopleEvent::from_data(&envelope.event_type, envelope.schema_version, &envelope.data)?;
        export.events.push(serde_json::json!({
            "type": envelope.event_type,
            "occurred_at": envelope.occurred_at,
            "recorded_at": envelope.recorded_at,
            "actor": envelope.actor,
        }));
        match event {
            PeopleEvent::PersonRegistered(registered) => {
                match ctx.vault.open::<PersonalDetails>(person_id, envelope.id, &registered.details).await {
                    Ok(details) => export.details = Some(details),
                    Err(VaultError::Erased) => export.erased = true,
                    Err(error) => return Err(error.into()),
                }
            }
            PeopleEvent::DuplicateDecided(_) => {}
            PeopleEvent::PersonErased(_) => {
                export.erased = true;
                export.details = None;
            }
        }
    }
    Ok(Some(export))
}

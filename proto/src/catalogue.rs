//! Every released event version of every context, in one list.

use crate::contract::{EventContract, EventVersion};

pub fn all() -> Vec<EventVersion> {
    let mut all = Vec::new();
    all.extend(crate::people::PeopleEvent::versions());
    all.extend(crate::hub::HubEvent::versions());
    all.extend(crate::specialist::SpecialistEvent::versions());
    all.extend(crate::audit::AuditEvent::versions());
    all
}

/// Decodes the payload of any event of any context, for tools that do not know the context in advance.
pub fn decode_any(context: &str, event_type: &str, version: u16, data: &crate::Payload) -> Result<(), String> {
    fn check<E: EventContract>(t: &str, v: u16, d: &crate::Payload) -> Result<(), String> {
        E::from_data(t, v, d).map(|_| ()).map_err(|e| e.to_string())
    }
    match context {
        "people" => check::<crate::people::PeopleEvent>(event_type, version, data),
        "hub" => check::<crate::hub::HubEvent>(event_type, version, data),
        "specialist" => check::<crate::specialist::SpecialistEvent>(event_type, version, data),
        "audit" => check::<crate::audit::AuditEvent>(event_type, version, data),
        other => Err(format!("unknown context {other}")),
    }
}

/// Relative path of the schema file of one event version, under `proto/schemas/`.
pub fn schema_path(version: &EventVersion) -> String {
    format!("{}/{}.v{}.json", version.context, version.event_type, version.schema_version)
}

//! One case as its own events tell it, read from the log rather than a read model (so the case page never waits
//! for a projection after a save): its state, how it was opened, the day the referral was received, and every event
//! with its envelope for the timeline.

use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_eventstore::command::Aggregate as _;
use casetrack_proto::specialist::{CaseOpened, SpecialistEvent};
use casetrack_proto::{CaseId, Envelope, EventContract as _};
use casetrack_web::http::ApiError;
use chrono::NaiveDate;

use crate::case::Case;
use crate::state::Desk;

/// A case as read from its events.
pub struct Loaded {
    pub state: Case,
    pub opened: CaseOpened,
    /// The day the referral was received (the case opened).
    pub received_on: NaiveDate,
    pub history: Vec<(Envelope, SpecialistEvent)>,
}

/// The case's events, or 404 for a case of another service (or none), as on the API.
pub async fn load(desk: &Desk, definition: &ServiceDefinition, case_id: CaseId) -> Result<Loaded, ApiError> {
    let envelopes = desk.context().log.read_stream(&Case::stream_id(case_id.0)).await.map_err(ApiError::unavailable)?;
    let mut state = Case::default();
    let mut opened = None;
    let mut history = Vec::new();
    for envelope in envelopes {
        let event = SpecialistEvent::from_data(&envelope.event_type, envelope.schema_version, &envelope.data)
            .map_err(ApiError::unavailable)?;
        state = state.apply(&event);
        if let SpecialistEvent::CaseOpened(e) = &event {
            opened = Some((e.clone(), envelope.occurred_at.date_naive()));
        }
        history.push((envelope, event));
    }
    // Another service's case is not found here, as on the API.
    match opened {
        Some((opened, received_on)) if opened.service == definition.code => {
            Ok(Loaded { state, opened, received_on, history })
        }
        _ => Err(ApiError::not_found("There is no such case in this service.")),
    }
}

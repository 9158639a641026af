//! What the given/when/then tests share (tests only): one IDVA case's opening, a history folded into a state, and
//! the histories most tests start from (accepted; engaged). The kinds add their own (a DASH, an assessment) in `crate::kinds`.

use casetrack_eventstore::command::Aggregate as _;
use casetrack_proto::contact::{AttemptOutcome, ContactChannel, SafeContact, Safety, TimeBand};
use casetrack_proto::specialist::{
    CaseContactAttemptRecorded, CaseOpened, CaseOrigin, ReferralAccepted, SpecialistEvent,
};
use casetrack_proto::{CaseId, PersonId, ServiceCode};
use chrono::{NaiveDate, Utc};

use super::{Case, Decision};

pub const ID: CaseId = CaseId(uuid::Uuid::from_u128(11));

pub fn opened() -> SpecialistEvent {
    let mut safe_contact = SafeContact::default();
    safe_contact.set(ContactChannel::Text, Safety::Unsafe);
    SpecialistEvent::CaseOpened(CaseOpened {
        case_id: ID,
        service: ServiceCode::parse("idva").unwrap(),
        person_id: PersonId(uuid::Uuid::from_u128(12)),
        origin: CaseOrigin::Direct { source: "police".into() },
        safe_contact,
        safe_times: vec![],
        domestic_abuse: true,
        enhanced_rights: false,
        age_band: None,
        offence_category: None,
        nationality: None,
    })
}

pub fn given(events: &[SpecialistEvent]) -> Case {
    events.iter().fold(Case::default(), |state, e| state.apply(e))
}

/// Decides against the history so far and appends what was decided.
pub fn then(history: &mut Vec<SpecialistEvent>, decide: impl FnOnce(&Case) -> Decision) {
    let state = given(history);
    history.extend(decide(&state).unwrap());
}

pub fn attempt(channel: ContactChannel, band: TimeBand, outcome: AttemptOutcome) -> CaseContactAttemptRecorded {
    CaseContactAttemptRecorded { case_id: ID, channel, attempted_at: Utc::now(), time_band: band, outcome }
}

pub fn accepted_case() -> Vec<SpecialistEvent> {
    vec![opened(), SpecialistEvent::ReferralAccepted(ReferralAccepted { case_id: ID })]
}

pub fn engaged_case() -> Vec<SpecialistEvent> {
    let mut history = accepted_case();
    history.push(SpecialistEvent::CaseContactAttemptRecorded(attempt(
        ContactChannel::Phone,
        TimeBand::Morning,
        AttemptOutcome::Reached,
    )));
    history
}

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

//! What both reporting projections read off an event: the case a specialist event is about, and the day in England
//! and Wales a moment falls on.

use casetrack_proto::CaseId;
use casetrack_proto::specialist::SpecialistEvent;
use chrono::{DateTime, NaiveDate, Utc};

/// The id of the case an event is about.
pub fn case_of(event: &SpecialistEvent) -> CaseId {
    use SpecialistEvent as E;
    match event {
        E::CaseOpened(e) => e.case_id,
        E::ReferralAccepted(e) => e.case_id,
        E::ReferralDeclinedByService(e) => e.case_id,
        E::ReferralWithdrawn(e) => e.case_id,
        E::CaseAllocated(e) => e.case_id,
        E::CaseSafeContactUpdated(e) => e.case_id,
        E::CaseContactAttemptRecorded(e) => e.case_id,
        E::CaseUnableToContactRecorded(e) => e.case_id,
        E::CaseSupportDeclined(e) => e.case_id,
        E::RiskAssessed(e) => e.case_id,
        E::MaracReferred(e) => e.case_id,
        E::MaracHeard(e) => e.case_id,
        E::PlanRecorded(e) => e.case_id,
        E::InterventionRecorded(e) => e.case_id,
        E::CaseNoteAdded(e) => e.case_id,
        E::CaseClosed(e) => e.case_id,
        E::CaseReopened(e) => e.case_id,
        E::CjsStageRecorded(e) => e.case_id,
        E::SpoRecorded(e) => e.case_id,
        E::RjInformationGiven(e) => e.case_id,
        E::RjSuitabilityAssessed(e) => e.case_id,
        E::OffenderConsentRecorded(e) => e.case_id,
        E::RjFormAgreed(e) => e.case_id,
        E::RjConcluded(e) => e.case_id,
    }
}

/// The day in England and Wales of a moment.
pub fn day_of(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::London).date_naive()
}

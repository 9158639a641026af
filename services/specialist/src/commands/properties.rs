//! Property tests of every JSON body the specialist services' API reads: whatever JSON a client sends, the body is
//! read or refused (axum answers 422 with serde's reason), never a panic; and whatever is read survives being
//! written and read again unchanged, so the typed journeys in `tests/` send what a client would.

use casetrack_casework::testing::{any_json, read_or_refuse};
use proptest::prelude::*;

use super::DateRequest;
use super::allocate::CaseworkerRequest;
use super::casework::{InterventionRequest, NoteRequest, TextRequest};
use super::close::CloseRequest;
use super::contact::{AttemptRequest, SafeContactRequest, SupportDeclined, UnableToContact};
use super::decision::{Accept, Decline, ReasonRequest, Reopen, Withdraw};
use super::open_direct::{DirectReferralRequest, NewVictimReferralRequest};
use super::when::WhenRequest;
use crate::kinds::RiskRequest;
use crate::kinds::idva::{MaracHearing, MaracReferral};
use crate::kinds::isva::CjsRequest;
use crate::kinds::rj::{OffenderConsentRequest, RjFormRequest, RjInformation, RjOutcomeRequest, SuitabilityRequest};
use crate::kinds::stalking::SpoRequest;

/// The field names and values the bodies use, drawn among any others.
const KEYS: &[&str] = &[
    "person_id",
    "source",
    "occurred_at",
    "late_reason",
    "on",
    "text",
    "answers",
    "level",
    "yes",
    "person",
    "stage",
    "reason",
];
const VALUES: &[&str] = &["2019-06-03", "2026-12-04T10:00:00Z", "standard", "police"];

proptest! {
    #[test]
    fn every_body_is_read_or_refused(value in any_json(KEYS, VALUES)) {
        read_or_refuse::<WhenRequest>(&value)?;
        read_or_refuse::<ReasonRequest>(&value)?;
        read_or_refuse::<Accept>(&value)?;
        read_or_refuse::<Decline>(&value)?;
        read_or_refuse::<Withdraw>(&value)?;
        read_or_refuse::<Reopen>(&value)?;
        read_or_refuse::<CaseworkerRequest>(&value)?;
        read_or_refuse::<SafeContactRequest>(&value)?;
        read_or_refuse::<AttemptRequest>(&value)?;
        read_or_refuse::<UnableToContact>(&value)?;
        read_or_refuse::<SupportDeclined>(&value)?;
        read_or_refuse::<DateRequest>(&value)?;
        read_or_refuse::<TextRequest>(&value)?;
        read_or_refuse::<InterventionRequest>(&value)?;
        read_or_refuse::<NoteRequest>(&value)?;
        read_or_refuse::<CloseRequest>(&value)?;
        read_or_refuse::<DirectReferralRequest>(&value)?;
        read_or_refuse::<NewVictimReferralRequest>(&value)?;
        read_or_refuse::<RiskRequest>(&value)?;
        read_or_refuse::<MaracReferral>(&value)?;
        read_or_refuse::<MaracHearing>(&value)?;
        read_or_refuse::<CjsRequest>(&value)?;
        read_or_refuse::<SpoRequest>(&value)?;
        read_or_refuse::<RjInformation>(&value)?;
        read_or_refuse::<SuitabilityRequest>(&value)?;
        read_or_refuse::<OffenderConsentRequest>(&value)?;
        read_or_refuse::<RjFormRequest>(&value)?;
        read_or_refuse::<RjOutcomeRequest>(&value)?;
    }
}

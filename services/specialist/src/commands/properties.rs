//! Property tests of every JSON body the specialist services' API reads: whatever JSON a client sends, the body is
//! read or refused (axum answers 422 with serde's reason), never a panic; and whatever is read survives being
//! written and read again unchanged, so the typed journeys in `tests/` send what a client would.

use proptest::prelude::*;
use serde_json::Value;

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

/// Any JSON value, a few levels deep, with the field names the bodies use among the keys.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
        prop_oneof![Just("2019-06-03"), Just("2026-12-04T10:00:00Z"), Just("standard"), Just("police")]
            .prop_map(|s| Value::String(s.into())),
    ];
    let keys = prop_oneof![
        "[a-z_]{1,12}",
        prop_oneof![
            Just("person_id"),
            Just("source"),
            Just("occurred_at"),
            Just("late_reason"),
            Just("on"),
            Just("text"),
            Just("answers"),
            Just("level"),
            Just("yes"),
            Just("person"),
            Just("stage"),
            Just("reason"),
        ]
        .prop_map(str::to_owned),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Reads `value` as `T`; what is read is written and read again, the same.
fn read_or_refuse<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Value) -> Result<(), TestCaseError> {
    if let Ok(read) = serde_json::from_value::<T>(value.clone()) {
        let written = serde_json::to_value(&read).expect("a body that was read can be written");
        let again: T = serde_json::from_value(written.clone()).expect("what was written reads again");
        prop_assert_eq!(serde_json::to_value(&again).unwrap(), written);
    }
    Ok(())
}

proptest! {
    #[test]
    fn every_body_is_read_or_refused(value in json()) {
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

//! Property tests of every JSON body the hub's API reads: whatever JSON a client sends, the body is read or
//! refused (axum answers 422 with serde's reason), never a panic; and whatever is read survives being written and
//! read again unchanged, so the typed journeys in `tests/` send what a client would.

use proptest::prelude::*;
use serde_json::Value;

use super::allocate::AllocationRequest;
use super::close::ClosureRequest;
use super::contact::{ContactAttemptRequest, OutreachRequest, ReasonRequest};
use super::onward::{ConsentRequest, OnwardReferralRequest};
use super::police_report::PoliceReportRequest;
use super::receive::ReceiveReferralRequest;
use super::safe_contact::SafeContactRequest;
use super::support::{NeedsRequest, SessionRequest};
use super::when::WhenRequest;

/// Any JSON value: nulls, flags, numbers, text, and arrays and objects of them, a few levels deep, with the field
/// names the bodies use among the keys.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
        prop_oneof![Just("2019-05-07"), Just("2026-12-04T10:00:00Z"), Just("phone"), Just("no_answer")]
            .prop_map(|s| Value::String(s.into())),
    ];
    let keys = prop_oneof![
        "[a-z_]{1,12}",
        prop_oneof![
            Just("person_id"),
            Just("source"),
            Just("occurred_at"),
            Just("late_reason"),
            Just("channel"),
            Just("attempted_at"),
            Just("outcome"),
            Just("answers"),
            Just("service"),
            Just("safe_contact"),
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
        read_or_refuse::<ReceiveReferralRequest>(&value)?;
        read_or_refuse::<ContactAttemptRequest>(&value)?;
        read_or_refuse::<OutreachRequest>(&value)?;
        read_or_refuse::<ReasonRequest>(&value)?;
        read_or_refuse::<ClosureRequest>(&value)?;
        read_or_refuse::<ConsentRequest>(&value)?;
        read_or_refuse::<OnwardReferralRequest>(&value)?;
        read_or_refuse::<PoliceReportRequest>(&value)?;
        read_or_refuse::<SafeContactRequest>(&value)?;
        read_or_refuse::<NeedsRequest>(&value)?;
        read_or_refuse::<SessionRequest>(&value)?;
        read_or_refuse::<AllocationRequest>(&value)?;
        read_or_refuse::<WhenRequest>(&value)?;
    }
}

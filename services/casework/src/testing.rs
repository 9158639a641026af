//! For the services' property tests of their JSON bodies (feature `testing`): any JSON a client could send, and the
//! check every body must pass (read or refused, never a panic; what is read writes and reads again the same).

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

/// Any JSON value, a few levels deep: nulls, flags, numbers, text, arrays and objects, with `keys` (the field names
/// the bodies use) and `values` (dates, codes) among what is drawn.
pub fn any_json(keys: &'static [&'static str], values: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
        proptest::sample::select(values).prop_map(|s| Value::String(s.into())),
    ];
    let key = prop_oneof!["[a-z_]{1,12}", proptest::sample::select(keys).prop_map(str::to_owned)];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Reads `value` as `T`; what is read is written and read again, the same.
pub fn read_or_refuse<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Value) -> Result<(), TestCaseError> {
    if let Ok(read) = serde_json::from_value::<T>(value.clone()) {
        let written = serde_json::to_value(&read).expect("a body that was read can be written");
        let again: T = serde_json::from_value(written.clone()).expect("what was written reads again");
        prop_assert_eq!(serde_json::to_value(&again).expect("written"), written);
    }
    Ok(())
}

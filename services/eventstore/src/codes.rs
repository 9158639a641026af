//! Enum values as stored codes: their serde names (`no_answer`, `police_feed`, `shuttle_mediation`). Read models
//! store them, forms send them, pages turn them back into values.

/// The stored code of an enum value (empty for a value that is not a plain string in JSON).
pub fn code<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The value a code names, if it names one.
pub fn parse<T: serde::de::DeserializeOwned>(code: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}

#[cfg(test)]
mod tests {
    use casetrack_proto::contact::AttemptOutcome;

    #[test]
    fn a_code_is_the_serde_name_and_parses_back() {
        assert_eq!(super::code(&AttemptOutcome::NoAnswer), "no_answer");
        assert_eq!(super::parse::<AttemptOutcome>("no_answer"), Some(AttemptOutcome::NoAnswer));
        assert_eq!(super::parse::<AttemptOutcome>("maybe"), None);
    }
}

//! Need categories as reference data (`reference/need-categories.json`): codes in events, labels on pages.

use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct File {
    categories: Vec<NeedCategory>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NeedCategory {
    pub code: String,
    pub label: String,
}

/// Every need category the hub records, in the order officers see them.
pub fn categories() -> &'static [NeedCategory] {
    static ALL: OnceLock<Vec<NeedCategory>> = OnceLock::new();
    ALL.get_or_init(|| {
        let file: File = serde_json::from_str(include_str!("../reference/need-categories.json"))
            .expect("reference/need-categories.json is valid (checked by a test)");
        file.categories
    })
}

/// The label of a code, or the code itself for one no longer listed.
pub fn label(code: &str) -> &str {
    categories().iter().find(|c| c.code == code).map_or(code, |c| c.label.as_str())
}

/// Checks every code against the list; the error names the first unknown one.
pub fn validate(codes: &[String]) -> Result<(), String> {
    match codes.iter().find(|code| !categories().iter().any(|c| &c.code == *code)) {
        Some(unknown) => Err(format!("{unknown:?} is not a need category the hub records")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_file_parses_with_unique_codes() {
        let codes: std::collections::BTreeSet<&str> = categories().iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes.len(), categories().len());
        assert!(validate(&["housing".into()]).is_ok());
        assert!(validate(&["astrology".into()]).unwrap_err().contains("astrology"));
    }
}

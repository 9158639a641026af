//! Outcome measures as versioned reference data (`reference/outcome-measures.json`), not an enum: the funder sets
//! the list per reporting period.

use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct File {
    versions: Vec<MeasureSet>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MeasureSet {
    pub version: String,
    pub in_force_from: NaiveDate,
    pub measures: Vec<Measure>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Measure {
    pub code: String,
    pub label: String,
}

fn all() -> &'static [MeasureSet] {
    static SETS: OnceLock<Vec<MeasureSet>> = OnceLock::new();
    SETS.get_or_init(|| {
        let file: File = serde_json::from_str(include_str!("../reference/outcome-measures.json"))
            .expect("reference/outcome-measures.json is valid (checked by a test)");
        let mut versions = file.versions;
        versions.sort_by_key(|set| set.in_force_from);
        versions
    })
}

/// The list in force on a day: the latest version whose start is on or before it.
pub fn in_force(day: NaiveDate) -> Option<&'static MeasureSet> {
    all().iter().rev().find(|set| set.in_force_from <= day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_file_parses_and_has_the_cope_and_recover_list() {
        let set = in_force(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()).unwrap();
        assert_eq!(set.version, "2026-04");
        assert_eq!(set.measures.len(), 5);
        // History goes back to 2018: a 2019 closure is answered against the list in force then.
        assert_eq!(in_force(NaiveDate::from_ymd_opt(2019, 6, 1).unwrap()).unwrap().version, "2018-04");
        assert!(in_force(NaiveDate::from_ymd_opt(2018, 3, 31).unwrap()).is_none());
    }
}

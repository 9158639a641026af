//! The committed contracts must match the code: schemas regenerate byte for byte, and every recorded fixture of
//! every event version keeps deserialising.
//!
//! After a deliberate change, `CASETRACK_BLESS=1 cargo test -p casetrack-proto` rewrites `proto/schemas/` and
//! records a fixture for any version that has none. It never rewrites an existing fixture: those are history.

use std::path::{Path, PathBuf};

use casetrack_proto::{Envelope, catalogue, envelope_schema};

fn proto_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn blessing() -> bool {
    std::env::var_os("CASETRACK_BLESS").is_some()
}

fn pretty(schema: &schemars::Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap();
    text.push('\n');
    text
}

fn check_or_write(path: &Path, expected: &str) -> Option<String> {
    let actual = std::fs::read_to_string(path).ok();
    if actual.as_deref() == Some(expected) {
        return None;
    }
    if blessing() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, expected).unwrap();
        return None;
    }
    Some(format!("{} is missing or out of date", path.display()))
}

#[test]
fn committed_schemas_match_the_code() {
    let schemas = proto_dir().join("schemas");
    let mut drift = Vec::new();
    drift.extend(check_or_write(&schemas.join("envelope.json"), &pretty(&envelope_schema())));
    let mut expected_files = vec![schemas.join("envelope.json")];
    for version in catalogue::all() {
        let path = schemas.join(catalogue::schema_path(&version));
        drift.extend(check_or_write(&path, &pretty(&(version.schema)())));
        expected_files.push(path);
    }
    // A schema file with no version in the code means a released version was deleted from the code.
    for entry in walk(&schemas) {
        if !expected_files.contains(&entry) {
            drift.push(format!("{} has no event version in the code", entry.display()));
        }
    }
    assert!(
        drift.is_empty(),
        "event contracts drifted from proto/schemas (run with CASETRACK_BLESS=1 if intended):\n{}",
        drift.join("\n")
    );
}

#[test]
fn every_event_version_has_a_fixture_that_still_deserialises() {
    let fixtures = proto_dir().join("fixtures");
    let mut failures = Vec::new();
    for version in catalogue::all() {
        let path = fixtures.join(catalogue::schema_path(&version));
        let Ok(text) = std::fs::read_to_string(&path) else {
            failures.push(format!("{} is missing: record one example of this version", path.display()));
            continue;
        };
        let envelope: Envelope = match serde_json::from_str(&text) {
            Ok(envelope) => envelope,
            Err(error) => {
                failures.push(format!("{}: envelope does not deserialise: {error}", path.display()));
                continue;
            }
        };
        if envelope.event_type != version.event_type || envelope.schema_version != version.schema_version {
            failures.push(format!("{}: records {} v{}", path.display(), envelope.event_type, envelope.schema_version));
        }
        if let Err(error) = catalogue::decode_any(
            envelope.subject.context(),
            &envelope.event_type,
            envelope.schema_version,
            &envelope.data,
        ) {
            failures.push(format!("{}: {error}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return files };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

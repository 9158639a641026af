//! `casetrack import history` end to end, on both backends: a service's year 2019/20 (the documented example file,
//! `docs/history-import-example.csv`) comes in through the same rules as live work, dated as it happened; a second
//! import writes nothing (the log's head does not move); bad rows are rejected by line, column and rule without the
//! person's details and nothing of them is written; and the financial year's report counts exactly what came in,
//! while the current year's shows none of it; its quarters' caseloads (carried in, new, open at the start and end)
//! are exact, and identical after a rebuild.

mod support;

use std::process::Command;

use casetrack_eventstore::testkit::TempDir;
use chrono::Datelike as _;
use serde_json::Value;
use support::{Server, day_offset, eventually, get, split_backends};

const EXAMPLE: &str = include_str!("../docs/history-import-example.csv");

/// Runs `casetrack` with `args` against the installation; its standard output (it must succeed).
fn casetrack(args: &[&str], data_dir: &std::path::Path, env: &[(&str, String)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_casetrack"));
    command.args(args).arg("--data-dir").arg(data_dir).env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run casetrack");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "casetrack {args:?} failed: {stdout} {}", String::from_utf8_lossy(&output.stderr));
    stdout
}

fn import(file: &std::path::Path, data_dir: &std::path::Path, env: &[(&str, String)]) -> String {
    casetrack(&["import", "history", file.to_str().unwrap()], data_dir, env)
}

fn log_head(data_dir: &std::path::Path, env: &[(&str, String)]) -> u64 {
    let out = casetrack(&["admin", "projections"], data_dir, env);
    let line = out.lines().find_map(|l| l.strip_prefix("log head: ")).unwrap_or_else(|| panic!("{out}"));
    line.trim().parse().unwrap()
}

/// The funnel's figures summed over every service of a report.
fn totals(report: &Value) -> [i64; 7] {
    let figures = ["referrals_received", "contacted", "supported", "declined", "unable_to_contact", "closed", "open"];
    let services = report["services"].as_array().cloned().unwrap_or_default();
    figures.map(|figure| services.iter().map(|s| s[figure].as_i64().unwrap_or(0)).sum())
}

/// Rows the rules or the layout refuse (lines 2 to 7), and one good row (line 8).
fn bad_rows() -> String {
    let header = EXAMPLE.lines().next().unwrap();
    let future = day_offset(3);
    let rows = [
        "nonsense,X-1,Secretname,Hidden,1980-01-01,2019-05-07,police,open,,,,,,,,,,,,".to_owned(),
        format!("hub,X-2,Secretname,Hidden,1980-01-01,{future},police_feed,open,,,,,,,,,,,,"),
        "hub,X-3,Secretname,Hidden,1980-01-01,2019-05-07,police_feed,closed,,,,,,,2019-05-08T10:00,,2019-05-01,,cope=improved,"
            .to_owned(),
        "hub,X-4,,Hidden,1980-01-01,2019-05-07,police_feed,open,,,,,,,,,,,,".to_owned(),
        "hub,X-5,Secretname,Hidden,1980-01-01,2019-05-07,police_feed,finished,,,,,,,,,,,,".to_owned(),
        "hub,X-6,Secretname,Hidden,1980-01-01,2019-05-07,police_feed,closed,,,,,,,2019-05-08T10:00,,2019-06-01,,happiness=improved,"
            .to_owned(),
        "hub,X-7,Goodrow,Person,1980-01-01,2019-09-09,police_feed,open,,,,,,,,,,,,".to_owned(),
    ];
    format!("{header}\n{}\n", rows.join("\n"))
}

async fn history_journey(base: &str, data_dir: &std::path::Path, env: &[(&str, String)]) {
    let example = data_dir.join("example.csv");
    std::fs::write(&example, EXAMPLE).unwrap();
    let rows = EXAMPLE.lines().count() - 1;

    // The dry run checks every row and writes nothing.
    let before = log_head(data_dir, env);
    let dry = casetrack(&["import", "history", example.to_str().unwrap(), "--dry-run"], data_dir, env);
    assert!(dry.contains(&format!("read {rows} rows: {rows} to import or already imported, 0 rejected")), "{dry}");
    assert_eq!(log_head(data_dir, env), before, "a dry run writes nothing");

    let first = import(&example, data_dir, env);
    assert!(
        first.contains(&format!("{rows} imported, 0 already imported, 0 rejected, 0 could not be saved")),
        "{first}"
    );
    let head = log_head(data_dir, env);
    assert!(head > before);
    let again = import(&example, data_dir, env);
    assert!(again.contains(&format!("0 imported, {rows} already imported, 0 rejected")), "{again}");
    assert_eq!(log_head(data_dir, env), head, "a second import writes nothing");
    assert!(!data_dir.join("example.rejects.csv").exists());

    // Bad rows: each rejected by line, column and rule, nothing of them written; the good row goes in.
    let bad = data_dir.join("bad.csv");
    std::fs::write(&bad, bad_rows()).unwrap();
    let out = import(&bad, data_dir, env);
    assert!(out.contains("1 imported, 0 already imported, 6 rejected"), "{out}");
    assert_eq!(log_head(data_dir, env), head + 2, "only the good row's person and referral were written");
    let rejects = std::fs::read_to_string(data_dir.join("bad.rejects.csv")).unwrap();
    let lines: Vec<Vec<String>> = csv::Reader::from_reader(rejects.as_bytes())
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let found: Vec<(&str, &str, &str)> = lines.iter().map(|l| (l[0].as_str(), l[1].as_str(), l[4].as_str())).collect();
    assert_eq!(
        found,
        vec![
            ("2", "service", "unknown_service"),
            ("3", "received_on", "occurred_in_future"),
            ("4", "ended_on", "occurred_before_record_began"),
            ("5", "forename", "name_required"),
            ("6", "outcome", "unknown_outcome"),
            ("7", "outcome_answers", "unknown_measure"),
        ],
        "{rejects}"
    );
    assert!(
        rejects.contains("in the future") && rejects.contains("before the record began on 7 May 2019"),
        "{rejects}"
    );
    assert!(!rejects.contains("Secretname") && !rejects.contains("Hidden") && !rejects.contains("1980"), "{rejects}");

    // The year's figures are exactly what came in: the example's eleven referrals and cases and the good row.
    // [received, contacted, supported, declined, unable to contact, closed, open]
    let expected = [12, 8, 2, 2, 2, 4, 4];
    let year = format!("{base}/api/reporting/summary?from=2019-04-01&to=2020-03-31");
    let report = eventually(year, |report| totals(report) == expected).await;
    let hub = report["services"].as_array().unwrap().iter().find(|s| s["service"] == "hub").unwrap();
    let hub_figures =
        ["referrals_received", "contacted", "supported", "declined", "unable_to_contact", "closed", "open"]
            .map(|figure| hub[figure].as_i64().unwrap());
    assert_eq!(hub_figures, [7, 4, 2, 1, 1, 2, 3], "{hub}");
    // Every closure answered its measures, counted in the year it closed.
    assert_eq!(hub["outcomes"]["cope"]["asked"], 2, "{hub}");

    // The current financial year holds none of it.
    let today: chrono::NaiveDate = day_offset(0).parse().unwrap();
    let begins = if today.month() >= 4 { today.year() } else { today.year() - 1 };
    let (status, current) = get(format!("{base}/api/reporting/summary?from={begins}-04-01&to={}", day_offset(0))).await;
    assert_eq!(status, 200, "{current}");
    assert_eq!(totals(&current), [0; 7], "{current}");
    caseloads(base).await;
}

/// One service's caseload in a report.
fn caseload_of(report: &Value, service: &str) -> Value {
    let services = report["services"].as_array().cloned().unwrap_or_default();
    services.iter().find(|s| s["service"] == service).map(|s| s["caseload"].clone()).unwrap_or_default()
}

/// The caseload figures of a quarter: the cases carried in from the quarters before it and those new in it, each
/// split adults / under-18s, and open at the quarter's start and end (docs/metrics.md, "Caseload").
async fn caseloads(base: &str) {
    // Q2 2019/20 (July to September 2019). The hub: VCU-19-1001 (received 7 May, closed 30 August) carried in;
    // VCU-19-1002 (declined 4 June) ended before the quarter; VCU-19-1003 (1 July, unable to contact 5 July) and the
    // good row X-7 (9 September, open) new. Every one an adult.
    let (status, q2) = get(format!("{base}/api/reporting/summary?from=2019-07-01&to=2019-09-30")).await;
    assert_eq!(status, 200, "{q2}");
    let hub = serde_json::json!({
        "open_at_start": 1, "open_at_start_under_18": 0, "open_at_end": 1, "open_at_end_under_18": 0,
        "supported": 3, "supported_adults": 3, "supported_under_18": 0,
        "carried_in": 1, "carried_in_adults": 1, "carried_in_under_18": 0,
        "new": 2, "new_adults": 2, "new_under_18": 0,
    });
    assert_eq!(caseload_of(&q2, "hub"), hub, "{q2}");
    // IDVA-2001 (15 April to 31 October) carried in and still open; ISVA-3001 (2 September, open) new.
    let idva = caseload_of(&q2, "idva");
    let idva = ["carried_in", "new", "supported", "open_at_start", "open_at_end"].map(|f| idva[f].as_i64());
    assert_eq!(idva, [1, 0, 1, 1, 1].map(Some), "{q2}");
    let isva = caseload_of(&q2, "isva");
    let isva = ["carried_in", "new", "supported", "open_at_start", "open_at_end"].map(|f| isva[f].as_i64());
    assert_eq!(isva, [0, 1, 1, 0, 1].map(Some), "{q2}");

    // Q4 (January to March 2020). The hub: X-7 carried in; VCU-20-1005 (10 February, an adult) and VCU-19-1004
    // (20 March, born 19 August 2002: 17, under 18) new; all three open at the end.
    let (status, q4) = get(format!("{base}/api/reporting/summary?from=2020-01-01&to=2020-03-31")).await;
    assert_eq!(status, 200, "{q4}");
    let hub = serde_json::json!({
        "open_at_start": 1, "open_at_start_under_18": 0, "open_at_end": 3, "open_at_end_under_18": 1,
        "supported": 3, "supported_adults": 2, "supported_under_18": 1,
        "carried_in": 1, "carried_in_adults": 1, "carried_in_under_18": 0,
        "new": 2, "new_adults": 1, "new_under_18": 1,
    });
    assert_eq!(caseload_of(&q4, "hub"), hub, "{q4}");
    let hub_report = q4["services"].as_array().unwrap().iter().find(|s| s["service"] == "hub").unwrap();
    assert_eq!(hub_report["referrals_received"], 2, "new is the referrals received: {q4}");
    // MHN-6001 (4 November to 28 February) carried in, ended in the quarter; RJ-5001 (6 to 8 January) new and
    // ended; ISVA-3001 carried in, still open.
    for (service, expected) in [("mental_health", [1, 0, 1, 1, 0]), ("rj", [0, 1, 1, 0, 0]), ("isva", [1, 0, 1, 1, 1])]
    {
        let caseload = caseload_of(&q4, service);
        let found = ["carried_in", "new", "supported", "open_at_start", "open_at_end"].map(|f| caseload[f].as_i64());
        assert_eq!(found, expected.map(Some), "{service}: {q4}");
    }
}

/// After `casetrack rebuild`, the quarters' reports (carried-in caseloads included) come out byte for byte the same.
fn rebuilt_identical(data_dir: &std::path::Path, env: &[(&str, String)]) {
    let quarters = [
        ["report", "--period", "FY2019-20 Q2", "--format", "json"],
        ["report", "--period", "FY2019-20 Q4", "--format", "json"],
    ];
    let before: Vec<String> = quarters.iter().map(|args| casetrack(args, data_dir, env)).collect();
    assert!(before[1].contains("\"carried_in\": 1"), "{}", before[1]);
    let rebuilt = casetrack(&["rebuild"], data_dir, env);
    assert!(rebuilt.contains("rebuilt reporting.cohort"), "{rebuilt}");
    let after: Vec<String> = quarters.iter().map(|args| casetrack(args, data_dir, env)).collect();
    assert_eq!(after, before, "identical after a rebuild");
}

#[tokio::test]
async fn history_import_on_the_embedded_backends() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    history_journey(&server.base.clone(), data.path(), &[]).await;
    server.stop();
    rebuilt_identical(data.path(), &[]);
}

#[tokio::test]
async fn history_import_on_nats_and_postgres() {
    let (_stream, env) = split_backends().await;
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &env).await;
    history_journey(&server.base.clone(), data.path(), &env).await;
    server.stop();
    rebuilt_identical(data.path(), &env);
}

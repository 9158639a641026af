//! The figures of a known cohort, on both backends: the funnel, distinct victims, repeat victims, time to first
//! contact, outcome measures, breakdowns by dimension, what a commissioner sees of them (small numbers and what
//! would give one away hidden), the dashboard and its downloads. Counting rules: docs/metrics.md.

mod support;

use std::collections::BTreeMap;

use casetrack_eventstore::db::{DbBackend, ReadDb};
use casetrack_eventstore::testkit::TempDir;
use casetrack_hub::commands::close::ClosureRequest;
use casetrack_hub::commands::contact::ContactAttemptRequest;
use casetrack_hub::commands::receive::ReceiveReferralRequest;
use casetrack_hub::commands::when::WhenRequest;
use casetrack_proto::contact::{AttemptOutcome, ContactChannel, OutcomeAnswer};
use casetrack_proto::hub::{OffenceCategory, ReferralSource};
use casetrack_proto::profile::{AgeBand, Ethnicity, Gender, VictimProfile, YesNoUnknown};
use chrono::{Datelike as _, NaiveDate};
use reqwest::Method;
use serde_json::{Value, json};
use support::{Server, api, day_offset, eventually, request, session, split_backends};

/// Receives a referral; returns its id.
async fn receive(base: &str, request: ReceiveReferralRequest) -> String {
    let mut request = request;
    // Received at the start of yesterday, before the attempts made yesterday (time never runs backwards), a minute
    // apart in the order they are given (so a second referral of a person comes after the first).
    static RECEIVED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    if request.when.occurred_at.is_none() {
        let minute = RECEIVED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 60;
        request.when.occurred_at = Some(format!("{}T00:{minute:02}:00Z", day_offset(-1)));
    }
    let (status, referral) = api::receive_referral(base, &request).await;
    assert_eq!(status, 201, "{referral}");
    referral["referral_id"].as_str().unwrap().to_owned()
}

async fn person(base: &str, forename: &str) -> String {
    let (status, person) = api::register_person(base, &api::person(forename, "Cohort", "1985-05-05")).await;
    assert_eq!(status, 201, "{person}");
    person["person_id"].as_str().unwrap().to_owned()
}

/// The text of a page or download, as `role`.
async fn text(url: &str, role: &str) -> (u16, String, Vec<u8>) {
    let base = &url[..url[8..].find('/').map_or(url.len(), |i| i + 8)];
    let session = session(base, role).await;
    let response = reqwest::Client::new().get(url).header("cookie", session.cookie).send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap().to_vec();
    (status, String::from_utf8_lossy(&bytes).into_owned(), bytes)
}

async fn cohort(base: &str) {
    // Seven referrals: Fern twice (a repeat victim), female, White British, police, domestic abuse; five others,
    // male, ethnicity not given, self-referrals.
    let fern = person(base, "Fern").await;
    let police = |person: &str| ReceiveReferralRequest {
        offence_category: Some(OffenceCategory::ViolenceWithInjury),
        crime_reported_on: Some(api::day(&day_offset(-3))),
        profile: VictimProfile {
            gender: Gender::Female,
            ethnicity: Some(Ethnicity::parse("W1").unwrap()),
            age_band: Some(AgeBand::From25To34),
            disability: YesNoUnknown::No,
            nationality: None,
        },
        ..api::referral(person, ReferralSource::PoliceFeed, true)
    };
    let first = receive(base, police(&fern)).await;
    receive(base, police(&fern)).await;
    let mut others = Vec::new();
    for name in ["Gale", "Heath", "Isla", "Jory", "Kit"] {
        let id = person(base, name).await;
        let self_referral = ReceiveReferralRequest {
            offence_category: Some(OffenceCategory::Theft),
            profile: VictimProfile { gender: Gender::Male, ..Default::default() },
            ..api::referral(&id, ReferralSource::SelfReferral, false)
        };
        others.push(receive(base, self_referral).await);
    }
    // Fern's first referral: reached yesterday, supported, closed with the measures answered.
    let yesterday = day_offset(-1);
    let attempt = |time: &str, outcome| ContactAttemptRequest {
        channel: ContactChannel::Phone,
        attempted_at: api::at(&format!("{yesterday}T{time}:00Z")),
        outcome,
        late_reason: None,
    };
    assert_eq!(api::record_attempt(base, &first, &attempt("10:00", AttemptOutcome::Reached)).await.0, 200);
    assert_eq!(api::accept_support(base, &first, &WhenRequest::default()).await.0, 200);
    let answers = ClosureRequest {
        answers: api::hub_answers(&[("cope", OutcomeAnswer::Improved), ("safer", OutcomeAnswer::NoChange)]),
        when: Default::default(),
    };
    let (status, closed) = api::close_referral(base, &first, &answers).await;
    assert_eq!(status, 200, "{closed}");
    // One other tried once without an answer.
    assert_eq!(api::record_attempt(base, &others[0], &attempt("11:00", AttemptOutcome::NoAnswer)).await.0, 200);

    let period = format!("from={}&to={}", day_offset(-7), day_offset(1));
    let summary = format!("{base}/api/reporting/summary?{period}&service=hub&by=gender");
    let report =
        // The cohort and the activity are two projections: read once both have caught up.
        eventually(summary.clone(), |s| {
            let hub = &s["services"][0];
            hub["closed"] == 1 && hub["contact_attempted"] == 2 && hub["activity"]["referrals_received"] == 7
        })
        .await;
    let hub = &report["services"][0];
    let expected = [
        ("referrals_received", 7),
        ("victims_referred", 6),
        ("contact_attempted", 2),
        ("contacted", 1),
        ("supported", 1),
        ("self_referrals", 5),
        ("closed", 1),
        ("open", 6),
        ("declined", 0),
        ("unable_to_contact", 0),
        ("no_safe_contact", 0),
    ];
    for (figure, value) in expected {
        assert_eq!(hub[figure], value, "{figure}: {hub}");
    }
    assert_eq!(hub["activity"]["referrals_received"], 7, "received in the period, as activity too");
    // The caseload: every referral new in the period (received yesterday), none carried in; all open at the end but
    // the closed one; no child among them (all 25 to 34).
    let caseload = json!({
        "open_at_start": 0, "open_at_start_under_18": 0, "open_at_end": 6, "open_at_end_under_18": 0,
        "supported": 7, "supported_adults": 7, "supported_under_18": 0,
        "carried_in": 0, "carried_in_adults": 0, "carried_in_under_18": 0,
        "new": 7, "new_adults": 7, "new_under_18": 0,
    });
    assert_eq!(hub["caseload"], caseload, "all but the closed one open at the end");
    // From today: the seven received yesterday are carried in (the first closed today, so open when the day began).
    let today_on = format!("{base}/api/reporting/summary?from={}&to={}&service=hub", day_offset(0), day_offset(1));
    let (_, from_today) = request(Method::GET, &today_on, Some("hub_manager"), None).await;
    let caseload = json!({
        "open_at_start": 7, "open_at_start_under_18": 0, "open_at_end": 6, "open_at_end_under_18": 0,
        "supported": 7, "supported_adults": 7, "supported_under_18": 0,
        "carried_in": 7, "carried_in_adults": 7, "carried_in_under_18": 0,
        "new": 0, "new_adults": 0, "new_under_18": 0,
    });
    assert_eq!(from_today["services"][0]["caseload"], caseload, "{from_today}");
    // Time to first contact: 2 days after the crime report, within 2 working days or not as the calendar says.
    let reported: NaiveDate = day_offset(-3).parse().unwrap();
    let within =
        yesterday.parse::<NaiveDate>().unwrap() <= casetrack_casework::victims_code::working_days_after(reported, 2);
    let first_contact = &hub["first_contact"];
    assert_eq!(first_contact["attempted"], 2, "{first_contact}");
    assert_eq!(first_contact["within_deadline"].as_i64(), Some(1 + i64::from(within)), "{first_contact}");
    assert_eq!(hub["outcomes"]["cope"], json!({"asked": 1, "improved": 1, "share_improved": 1.0}));
    assert_eq!(hub["outcomes"]["safer"], json!({"asked": 1, "improved": 0, "share_improved": 0.0}));
    let rows = hub["breakdown"].as_array().unwrap();
    let row = |value: &str| rows.iter().find(|r| r["value"] == value).unwrap_or_else(|| panic!("{value}: {hub}"));
    assert_eq!(
        (row("female")["referrals_received"].as_i64(), row("female")["victims_referred"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!((row("male")["referrals_received"].as_i64(), row("male")["open"].as_i64()), (Some(5), Some(5)));

    // Whole financial years count distinct victims from their ties by year: the same six people, Fern once.
    let today: NaiveDate = day_offset(0).parse().unwrap();
    let begins = if today.month() >= 4 { today.year() } else { today.year() - 1 };
    let years = format!("from={}-04-01&to={}-03-31", begins - 1, begins + 1);
    let url = format!("{base}/api/reporting/summary?{years}&service=hub&by=gender");
    let (_, two_years) = request(Method::GET, &url, Some("hub_manager"), None).await;
    let hub = &two_years["services"][0];
    assert_eq!((hub["referrals_received"].as_i64(), hub["victims_referred"].as_i64()), (Some(7), Some(6)), "{hub}");
    assert_eq!(hub["activity"]["referrals_received"], 7, "the same activity from whole months: {hub}");
    let rows = hub["breakdown"].as_array().unwrap();
    let female = rows.iter().find(|r| r["value"] == "female").unwrap();
    assert_eq!((female["referrals_received"].as_i64(), female["victims_referred"].as_i64()), (Some(2), Some(1)));

    // The other dimensions: repeat victims, the BAME roll-up, source.
    let by = |dimension: &str| format!("{base}/api/reporting/summary?{period}&service=hub&by={dimension}");
    let (_, repeat) = request(Method::GET, &by("repeat_victim"), Some("hub_manager"), None).await;
    let rows = repeat["services"][0]["breakdown"].as_array().unwrap().clone();
    let count = |rows: &[Value], value: &str| {
        rows.iter().find(|r| r["value"] == value).map_or(0, |r| r["referrals_received"].as_i64().unwrap())
    };
    assert_eq!((count(&rows, "yes"), count(&rows, "no")), (1, 6), "Fern's second referral is a repeat: {repeat}");
    let (_, bame) = request(Method::GET, &by("bame"), Some("hub_manager"), None).await;
    let rows = bame["services"][0]["breakdown"].as_array().unwrap().clone();
    assert_eq!((count(&rows, "white"), count(&rows, "not_stated"), count(&rows, "bame")), (2, 5, 0), "{bame}");
    let (status, refused) = request(Method::GET, &by("shoe_size"), Some("hub_manager"), None).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (422, Some("dimension_unknown")), "{refused}");

    // A commissioner: female (2) is small, and male (5) with the total (7) would give it away, so one more is hidden.
    let (status, published) = request(Method::GET, &summary, Some("commissioner"), None).await;
    assert_eq!(status, 200, "{published}");
    let hub = &published["services"][0];
    let rows = hub["breakdown"].as_array().unwrap();
    let female = &rows.iter().find(|r| r["value"] == "female").unwrap()["referrals_received"];
    let male = &rows.iter().find(|r| r["value"] == "male").unwrap()["referrals_received"];
    assert_eq!(female, "<5", "{hub}");
    assert!(!(male.is_number() && hub["referrals_received"].is_number()), "2 = 7 - 5 must not be workable: {hub}");
    assert_eq!(hub["supported"], "<5");
    assert_eq!(hub["outcomes"]["cope"]["share_improved"], Value::Null, "a share of a small count is not shown");
    fn small(value: &Value) -> bool {
        match value {
            Value::Number(n) => n.as_u64().is_some_and(|n| (1..5).contains(&n)),
            Value::Array(items) => items.iter().any(small),
            Value::Object(fields) => fields.values().any(small),
            _ => false,
        }
    }
    assert!(!small(&published), "no count from 1 to 4 anywhere: {published}");

    // The dashboard: charts drawn as SVG with their numbers in tables. A commissioner's own figures are exact (a
    // board paper is written from them); the breakdown by a victim characteristic is suppressed.
    let page = format!("{base}/figures?{period}&by=gender");
    let (status, html, _) = text(&page, "commissioner").await;
    assert_eq!(status, 200);
    assert!(html.contains("<svg") && html.contains("<table"), "{html}");
    assert!(html.contains(r#"<th scope="row">Female</th><td class="app-numeric">&lt;5</td>"#), "{html}");
    assert!(
        html.contains(r#"<th scope="row">Accepted support</th><td class="app-numeric"><strong>1</strong>"#),
        "{html}"
    );
    assert!(html.contains("<details class=\"app-service\" id=\"service-hub\">"), "a section per service, closed");
    assert!(!html.contains("metrics.md") && !html.contains("HUB"), "no developer's words, no codes: {html}");
    assert!(!html.contains("Fern") && !html.contains("Cohort"), "no person on the dashboard");
    let (status, html, _) = text(&page, "hub_manager").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Victim and Witness Hub: referrals received in the period, and how far they got")
            && !html.contains("&lt;5"),
        "{html}"
    );
    assert!(
        html.contains(r#"Open at the start of the period</th><td class="app-numeric">0</td>"#)
            && html.contains(r#"Cases worked in the period (carried in and new)</th><td class="app-numeric">7</td>"#),
        "the caseload in plain words: {html}"
    );
    let (status, bad, _) = text(&format!("{base}/figures?period=FY2026-28"), "hub_manager").await;
    assert_eq!(status, 422, "{bad}");
    // Drill-down, for staff who work the hub's referrals: from a figure to the referrals behind it.
    let drill = |query: &str| format!("{base}/figures/referrals?{period}&service=hub&{query}");
    let (status, closed, _) = text(&drill("figure=closed"), "hub_manager").await;
    assert_eq!(status, 200, "{closed}");
    assert!(closed.contains(&format!("/hub/referrals/{first}")), "{closed}");
    assert_eq!(closed.matches("/hub/referrals/").count(), 1, "{closed}");
    let (_, open, _) = text(&drill("figure=open"), "hub_officer").await;
    assert_eq!(open.matches("/hub/referrals/").count(), 6, "{open}");
    let (_, female, _) = text(&drill("figure=referrals_received&by=gender&value=female"), "hub_manager").await;
    assert_eq!(female.matches("/hub/referrals/").count(), 2, "{female}");
    let (status, _, _) = text(&drill("figure=open"), "commissioner").await;
    assert_eq!(status, 403, "a commissioner never sees the referrals behind a figure");
    let (status, _, _) = text(&drill("figure=open"), "caseworker:idva").await;
    assert_eq!(status, 403, "another service's referrals");
    let (status, _, _) = text(&drill("figure=shoe_size"), "hub_manager").await;
    assert_eq!(status, 422);
    // Downloads of what is on screen.
    let (status, csv, _) =
        text(&format!("{base}/figures/export.csv?{period}&service=hub&by=gender"), "commissioner").await;
    assert_eq!(status, 200);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("Service,Gender,Referrals received,Victims referred"), "{csv}");
    assert!(csv.contains("Victim and Witness Hub,Female,<5"), "{csv}");
    assert!(csv.contains("Victim and Witness Hub,All,7,6,2,1,1,"), "the commissioner's own totals exact: {csv}");
    let (status, csv, _) =
        text(&format!("{base}/figures/export-long.csv?{period}&service=hub&publish=yes"), "commissioner").await;
    assert_eq!(status, 200);
    assert!(csv.contains(",Victim and Witness Hub,Accepted support,All,<5,yes"), "for publication: {csv}");
    let (status, _, xlsx) = text(&format!("{base}/figures/export.xlsx?{period}"), "hub_manager").await;
    assert_eq!(status, 200);
    assert_eq!(&xlsx[..2], b"PK", "a workbook is a zip");
    let (status, _, xlsx) = text(&format!("{base}/figures/return.xlsx?{period}"), "commissioner").await;
    assert_eq!(status, 200);
    assert_eq!(&xlsx[..2], b"PK", "the funder's return is a workbook");
}

#[tokio::test]
async fn a_known_cohort_on_the_embedded_backends() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    cohort(&server.base).await;
    server.stop();
}

#[tokio::test]
async fn a_known_cohort_on_nats_and_postgres() {
    let (_stream, env) = split_backends().await;
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &env).await;
    cohort(&server.base).await;
    server.stop();
}

/// Runs `casetrack` with `args` on the data directory and backends of `env`; returns its standard output and error.
fn casetrack(data: &std::path::Path, env: &[(&str, String)], args: &[&str]) -> (String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_casetrack"));
    command.args(args).arg("--data-dir").arg(data).env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let (out, err) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "casetrack {args:?}: {out} {err}");
    (out.into_owned(), err.into_owned())
}

/// `casetrack demo` of 120 hub referrals (and the specialist services' direct referrals).
fn demo(data: &std::path::Path, env: &[(&str, String)]) -> (String, String) {
    let (out, err) = casetrack(data, env, &["demo", "--referrals", "120"]);
    assert!(out.contains("commands given") && !out.contains("refused"), "{out}");
    (out, err)
}

/// `casetrack demo`: a made-up year given through the real commands, none refused, and figures to show.
async fn demo_year(data: &std::path::Path, env: &[(&str, String)]) {
    let (_, err) = demo(data, env);
    assert!(err.contains("demo account demo.commissioner: one-time password"), "{err}");
    let server = Server::start("all", data, env).await;
    let base = server.base.clone();
    let period = format!("from={}&to={}", day_offset(-370), day_offset(1));
    let report = eventually(format!("{base}/api/reporting/summary?{period}"), |s| {
        let services = s["services"].as_array().cloned().unwrap_or_default();
        let of = |name: &str| services.iter().find(|x| x["service"] == name).cloned().unwrap_or_default();
        // 120 hub referrals; 12 + 4 direct IDVA cases (and the hub's onward referrals) as the intake follows. The
        // demo gives commands only: the hub's onward referrals become cases when the server's reactor opens them,
        // and then show as opened on the referrals they came from.
        let hub = of("hub");
        let onward = hub["onward_referrals"].as_object().cloned().unwrap_or_default();
        hub["referrals_received"] == 120
            && of("idva")["referrals_received"].as_i64().is_some_and(|n| n >= 16)
            && hub["onward_referrals"]["idva"].as_i64().is_some_and(|n| n > 0)
            && onward.iter().all(|(service, n)| hub["onward_outcomes"][service]["opened"] == *n)
    })
    .await;
    let hub = report["services"].as_array().unwrap().iter().find(|s| s["service"] == "hub").unwrap().clone();
    let onward_idva = hub["onward_referrals"]["idva"].as_i64().unwrap();
    for figure in ["contacted", "supported", "closed", "declined", "unable_to_contact"] {
        assert!(hub[figure].as_i64().unwrap() > 0, "{figure}: {hub}");
    }
    assert!(hub["outcomes"]["cope"]["asked"].as_i64().unwrap() > 0, "{hub}");
    // Some victims are referred twice: fewer victims than referrals.
    assert!(hub["victims_referred"].as_i64().unwrap() < 120, "{hub}");
    // The dashboard shows them too, per service referred to.
    let (status, html, _) = text(&format!("{base}/figures?{period}"), "hub_manager").await;
    assert_eq!(status, 200);
    let idva = format!(
        "<th scope=\"row\">IDVA: high-risk domestic abuse</th><td class=\"app-numeric\">{onward_idva}</td>\
         <td class=\"app-numeric\">{onward_idva}</td>"
    );
    assert!(html.contains("Referred on, and what became of them") && html.contains(&idva), "{html}");
    // What became of the onward referrals: each opened as a case, counted on the referral it came from, and no
    // further yet (nobody has worked those cases).
    for (service, milestones) in hub["onward_outcomes"].as_object().unwrap() {
        assert_eq!(milestones.as_object().unwrap().keys().collect::<Vec<_>>(), ["opened"], "{service}: {hub}");
        assert_eq!(milestones["opened"], hub["onward_referrals"][service], "{service}: {hub}");
    }
    server.stop();
}

#[tokio::test]
async fn a_demo_year_on_the_embedded_backends() {
    let data = TempDir::new();
    demo_year(data.path(), &[]).await;
}

#[tokio::test]
async fn a_demo_year_on_nats_and_postgres() {
    let (_stream, env) = split_backends().await;
    let data = TempDir::new();
    demo_year(data.path(), &env).await;
}

/// The read database of `casetrack` run with `data` and `env`.
async fn read_db(data: &std::path::Path, env: &[(&str, String)]) -> ReadDb {
    let url = env
        .iter()
        .find(|(name, _)| *name == "CASETRACK_DATABASE_URL")
        .map_or_else(|| format!("sqlite://{}?mode=ro", data.join("casetrack.db").display()), |(_, url)| url.clone());
    ReadDb::connect(&url).await.unwrap()
}

/// Every table of the read database but the checkpoints (which note when they moved), each row as text, sorted.
async fn read_models(data: &std::path::Path, env: &[(&str, String)]) -> BTreeMap<String, Vec<String>> {
    let db = read_db(data, env).await;
    let postgres = db.backend() == DbBackend::Postgres;
    let tables: Vec<String> = sqlx::query_scalar(if postgres {
        "SELECT CAST(tablename AS TEXT) FROM pg_tables WHERE schemaname = current_schema()"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    })
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut models = BTreeMap::new();
    for table in tables.into_iter().filter(|t| t != "projection_checkpoints" && t != "_sqlx_migrations") {
        let select = if postgres {
            format!("SELECT CAST({table}.* AS TEXT) FROM {table}")
        } else {
            let query = format!("SELECT name FROM pragma_table_info('{table}')");
            let columns: Vec<String> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(query)).fetch_all(db.pool()).await.unwrap();
            let quoted: Vec<String> = columns.iter().map(|c| format!("quote({c})")).collect();
            format!("SELECT {} FROM {table}", quoted.join(" || ',' || "))
        };
        let mut rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(select)).fetch_all(db.pool()).await.unwrap();
        rows.sort();
        models.insert(table, rows);
    }
    db.pool().close().await;
    models
}

/// The read models' tables of counts (the last column), each row a sum of changes.
const COUNT_TABLES: [&str; 4] = ["reporting_cohort", "reporting_ties", "reporting_daily", "reporting_activity_monthly"];

/// A rebuild that hands the projections the log a few events at a time leaves every read model row for row as one
/// that hands it over at once: what a batch reads of the rows before it (and what it skips reading: the streams it
/// begins, the people and cases a rebuild has not stored yet) must change nothing.
async fn rebuilt_in_small_batches(data: &std::path::Path, env: &[(&str, String)]) {
    demo(data, env);
    casetrack(data, env, &["rebuild"]);
    marks_only_open_referrals(data, env, "after a rebuild").await;
    let whole = read_models(data, env).await;
    for table in ["hub_referrals", "reporting_units", "reporting_cohort", "reporting_ties", "specialist_cases"] {
        assert!(whole.get(table).is_some_and(|rows| rows.len() > 10), "{table}: {:?}", whole.get(table));
    }
    // Victims referred again, in later batches: what a batch must read of the rows before it.
    let db = read_db(data, env).await;
    let sql = "SELECT COUNT(*) FROM hub_referrals WHERE repeat_victim = 1";
    let repeats: i64 = sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap();
    db.pool().close().await;
    assert!(repeats > 0, "the demo has repeat victims");
    let (out, _) = casetrack(data, env, &["rebuild", "--batch-events", "25"]);
    assert!(out.contains("rebuilt reporting.cohort"), "{out}");
    let small = read_models(data, env).await;
    marks_only_open_referrals(data, env, "after a rebuild 25 events at a time").await;
    // The benchmark of docs/performance.md runs on the same log: raw reads either side of a rebuild.
    let (bench, _) = casetrack(data, env, &["bench-rebuild"]);
    assert!(bench.contains("raw read-back again") && bench.contains("% of their mean"), "{bench}");
    assert_eq!(read_models(data, env).await, whole, "the benchmark's rebuild gives the same rows too");
    assert_eq!(whole.keys().collect::<Vec<_>>(), small.keys().collect::<Vec<_>>());
    for (table, rows) in &whole {
        // A count that went up and back down within a batch is never written; across batches it stays as a 0.
        let counted = |rows: &[String]| -> Vec<String> {
            let counts = COUNT_TABLES.contains(&table.as_str());
            rows.iter().filter(|row| !(counts && (row.ends_with(",0") || row.ends_with(",0)")))).cloned().collect()
        };
        let (whole, small) = (counted(rows), counted(&small[table]));
        let only =
            |a: &[String], b: &[String]| -> Vec<String> { a.iter().filter(|r| !b.contains(r)).cloned().collect() };
        assert!(
            whole == small,
            "{table} after a rebuild 25 events at a time: only in the whole {:?}; only in the small {:?}",
            only(&whole, &small),
            only(&small, &whole)
        );
    }
}

/// `reporting.pathway` keeps a referral's "contacted" mark only while the referral is open (it ends after closing,
/// declining, returning to the referrer or being unable to contact, and then takes no contact attempt).
async fn marks_only_open_referrals(data: &std::path::Path, env: &[(&str, String)], when: &str) {
    let db = read_db(data, env).await;
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool());
    let closed = count("SELECT COUNT(*) FROM hub_referrals WHERE status = 'closed'").await.unwrap();
    let stale = count(
        "SELECT COUNT(*) FROM reporting_contacted WHERE referral_id NOT IN \
         (SELECT referral_id FROM hub_referrals WHERE ended_at IS NULL)",
    )
    .await
    .unwrap();
    db.pool().close().await;
    assert!(closed > 0, "the demo closes referrals it supported");
    assert_eq!(stale, 0, "{when}: contacted marks of referrals that are not open");
}

#[tokio::test]
async fn a_rebuild_in_small_batches_on_the_embedded_backends() {
    let data = TempDir::new();
    rebuilt_in_small_batches(data.path(), &[]).await;
}

#[tokio::test]
async fn a_rebuild_in_small_batches_on_nats_and_postgres() {
    let (_stream, env) = split_backends().await;
    let data = TempDir::new();
    rebuilt_in_small_batches(data.path(), &env).await;
}

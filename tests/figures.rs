//! The commissioner's figures from the command line: `casetrack report` on a data folder whose read models are
//! behind the log counts the rest first (saying so on standard error) or, asked not to, refuses saying how far
//! behind they are; the exports speak in labels, in the dashboard's order, wide and long.

mod support;

use std::process::{Command, Output};

use casetrack_eventstore::testkit::TempDir;
use serde_json::Value;

/// Runs `casetrack` with `args` on the data folder; its output, whatever the exit status.
fn casetrack(args: &[&str], data_dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_casetrack"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run casetrack")
}

fn succeeded(args: &[&str], data_dir: &std::path::Path) -> (String, String) {
    let output = casetrack(args, data_dir);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert!(output.status.success(), "casetrack {args:?} failed: {stdout} {stderr}");
    (stdout, stderr)
}

/// The lag of each projection, as `casetrack admin projections` prints it.
fn lags(data_dir: &std::path::Path) -> Vec<(String, u64)> {
    let (out, _) = succeeded(&["admin", "projections"], data_dir);
    out.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?.to_owned();
            let lag = line.rsplit_once("lag")?.1.trim().parse().ok()?;
            Some((name, lag))
        })
        .collect()
}

fn reporting_lag(data_dir: &std::path::Path) -> u64 {
    lags(data_dir).into_iter().filter(|(name, _)| name.starts_with("reporting.")).map(|(_, lag)| lag).max().unwrap()
}

#[test]
fn a_report_on_a_folder_behind_its_log_counts_the_rest_first_or_says_how_far_behind() {
    let data = TempDir::new();
    succeeded(&["demo", "--referrals", "200"], data.path());
    // The demo gives its commands without running the read models: they are behind the log.
    let behind = reporting_lag(data.path());
    assert!(behind > 100, "the demo left the figures behind: {behind}");
    let period = ["report", "--period", "FY2026-27", "--format", "json"];

    // Asked not to count, it refuses, saying how far behind and how to catch up; nothing is printed as figures.
    let refused = casetrack(&[&period[..], &["--no-catch-up"]].concat(), data.path());
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("events behind the log") && why.contains("without --no-catch-up"), "{why}");
    assert!(refused.stdout.is_empty());
    assert_eq!(reporting_lag(data.path()), behind, "a refusal counts nothing");

    // Otherwise it counts the rest first, saying so, and then reports every service.
    let (json, progress) = succeeded(&period, data.path());
    assert!(progress.contains("behind the log: counting them first") && progress.contains("up to date"), "{progress}");
    assert_eq!(reporting_lag(data.path()), 0);
    let report: Value = serde_json::from_str(&json).unwrap();
    let services: Vec<&str> =
        report["services"].as_array().unwrap().iter().map(|s| s["service"].as_str().unwrap()).collect();
    for service in ["hub", "idva", "isva", "stalking"] {
        assert!(services.contains(&service), "{service} in {services:?}");
    }
    let hub = report["services"].as_array().unwrap().iter().find(|s| s["service"] == "hub").unwrap();
    assert!(hub["referrals_received"].as_u64().unwrap() > 0, "{hub}");

    // Up to date, it says nothing more and gives the same figures.
    let (again, quiet) = succeeded(&period, data.path());
    assert_eq!(again, json);
    assert!(!quiet.contains("behind"), "{quiet}");

    exports_in_plain_language(data.path());
}

/// Where `needle` is in `haystack` (it must be).
fn at(haystack: &str, needle: &str) -> usize {
    haystack.find(needle).unwrap_or_else(|| panic!("{needle:?} not in {haystack}"))
}

/// The terminal table, both CSV layouts and the workbook name figures by their labels, services by their names, in
/// the dashboard's order; the workbook freezes its header rows and its notes speak to a commissioner.
fn exports_in_plain_language(data: &std::path::Path) {
    let period = ["report", "--period", "FY2026-27"];
    let (table, _) = succeeded(&period, data);
    assert!(table.starts_with("Figures from 1 April 2026 to 31 March 2027"), "{table}");
    for key in ["activity.", "referrals_received", "first_contact.", "caseload.", "HUB\n", "IDVA\n"] {
        assert!(!table.contains(key), "{key:?} in {table}");
    }
    let hub = at(&table, "Victim and Witness Hub");
    assert!(hub < at(&table, "IDVA: high-risk domestic abuse"));
    // The dashboard's order: the funnel, where they are now, the Code, the caseload, then activity.
    let order = [
        "Referrals received",
        "Contacted",
        "Still being worked on",
        "Victims' Code, other victims: victims",
        "Open at the end of the period",
        "Contact attempts made",
    ];
    let places: Vec<usize> = order.iter().map(|label| hub + at(&table[hub..], label)).collect();
    assert!(places.windows(2).all(|w| w[0] < w[1]), "{order:?} at {places:?} in {table}");
    // Figures that mean nothing for the hub are left out.
    assert!(!table[hub..at(&table, "IDVA: high-risk")].contains("Declined by the service"), "{table}");

    let (wide, _) = succeeded(&[&period[..], &["--format", "csv"]].concat(), data);
    let header = wide.lines().next().unwrap();
    assert!(header.starts_with("Period,Service,Referrals received,Victims referred,"), "{header}");
    assert!(!header.contains('_'), "{header}");
    assert!(wide.lines().nth(1).unwrap().starts_with("1 April 2026 to 31 March 2027,Victim and Witness Hub,"));

    let (long, _) = succeeded(&[&period[..], &["--format", "csv-long"]].concat(), data);
    let mut lines = long.lines();
    assert_eq!(lines.next(), Some("period,service,figure,breakdown,value,suppressed"));
    let first = lines.next().unwrap();
    assert!(
        first.starts_with("1 April 2026 to 31 March 2027,Victim and Witness Hub,Referrals received,All,"),
        "{first}"
    );
    assert!(long.lines().skip(1).all(|l| l.ends_with(",no")), "exact: nothing suppressed");
    let (published, _) = succeeded(&[&period[..], &["--format", "csv-long", "--publish"]].concat(), data);
    for line in published.lines().skip(1) {
        let hidden = line.ends_with(",yes");
        let value = line.rsplit(',').nth(1).unwrap();
        assert_eq!(hidden, value == "<5" || value == "[c]", "{line}");
        // Days and shares are no counts of people.
        if let (Ok(n), false) = (value.parse::<u64>(), line.contains("Days to")) {
            assert!(n == 0 || n >= 5, "a small count published: {line}");
        }
    }
    assert!(published.contains(",yes"), "a small year has something to hide");

    let book = data.join("figures.xlsx");
    succeeded(&[&period[..], &["--format", "xlsx", "--publish", "--output", book.to_str().unwrap()]].concat(), data);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&book).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let workbook = read("xl/workbook.xml");
    assert!(workbook.contains("name=\"Victim and Witness Hub\"") && workbook.contains("name=\"Notes\""), "{workbook}");
    let sheet = read("xl/worksheets/sheet1.xml");
    assert!(sheet.contains("state=\"frozen\"") && sheet.contains("<col "), "{sheet}");
    let strings = read("xl/sharedStrings.xml");
    for words in
        ["How it is counted", "Prepared for publication", "1 April 2026 to 31 March 2027", "Contact attempts made"]
    {
        assert!(strings.contains(words), "{words:?} in the workbook");
    }
    for developer in ["projection", "rebuild", "metrics.md", "activity.", "referrals_received", "`"] {
        assert!(!strings.contains(developer), "{developer:?} in the workbook");
    }
}

/// The Victims' Code's clock on a few known referrals, through the API: a victim entitled to enhanced rights reached
/// on the last working day allowed (2) but assessed a working day late; another victim reached and assessed on the
/// last day allowed (5); one reached a working day late; one who asked not to be contacted (not under the clock).
/// Exact for staff and on the commissioner's own dashboard, hidden when published, identical after a rebuild.
async fn victims_code_journey(data: &std::path::Path, env: &[(&str, String)]) {
    use casetrack_casework::victims_code::{support_due, working_days_after};
    use casetrack_hub::commands::contact::ContactAttemptRequest;
    use casetrack_hub::commands::support::NeedsRequest;
    use casetrack_hub::commands::when::WhenRequest;
    use casetrack_proto::contact::{AttemptOutcome, ConsentBasis, ContactChannel};
    use casetrack_proto::hub::ReferralSource;
    use support::{Server, api, day_offset, eventually, request};

    let server = Server::start("all", data, env).await;
    let base = server.base.clone();
    let reported: chrono::NaiveDate = day_offset(-12).parse().unwrap();
    let at = |day: chrono::NaiveDate| format!("{day}T10:00:00Z");
    let referral = |name: &'static str, enhanced: bool, consent: Option<ConsentBasis>| {
        let base = base.clone();
        async move {
            let (status, person) = api::register_person(&base, &api::person(name, "Clock", "1980-01-01")).await;
            assert_eq!(status, 201, "{person}");
            let mut request = api::referral(person["person_id"].as_str().unwrap(), ReferralSource::PoliceFeed, false);
            request.enhanced_rights = enhanced;
            request.crime_reported_on = Some(reported);
            request.consent = consent;
            request.when.occurred_at = Some(format!("{reported}T08:00:00Z"));
            let (status, referral) = api::receive_referral(&base, &request).await;
            assert_eq!(status, 201, "{referral}");
            referral["referral_id"].as_str().unwrap().to_owned()
        }
    };
    let reach = |id: String, day: chrono::NaiveDate| {
        let base = base.clone();
        async move {
            let attempt = ContactAttemptRequest {
                channel: ContactChannel::Phone,
                attempted_at: api::at(&at(day)),
                outcome: AttemptOutcome::Reached,
                late_reason: None,
            };
            let (status, body) = api::record_attempt(&base, &id, &attempt).await;
            assert_eq!(status, 200, "{body}");
        }
    };
    let assess = |id: String, day: chrono::NaiveDate| {
        let base = base.clone();
        async move {
            let needs = NeedsRequest {
                needs: vec!["emotional_support".into()],
                when: WhenRequest { occurred_at: Some(at(day)), late_reason: None },
            };
            let url = format!("{base}/api/hub/referrals/{id}/needs-assessments");
            let (status, body) = api::send(url, &needs).await;
            assert!(status == 200 || status == 201, "{status} {body}");
        }
    };
    let enhanced_due = support_due(reported, true);
    let standard_due = support_due(reported, false);
    let enhanced = referral("Enid", true, None).await;
    reach(enhanced.clone(), enhanced_due).await;
    assess(enhanced, working_days_after(enhanced_due, 1)).await;
    let on_time = referral("Olive", false, None).await;
    reach(on_time.clone(), standard_due).await;
    assess(on_time, standard_due).await;
    let late = referral("Lark", false, None).await;
    reach(late, working_days_after(standard_due, 1)).await;
    referral("Wren", false, Some(ConsentBasis::Withheld)).await;

    let period = format!("from={reported}&to={}", day_offset(0));
    let summary = format!("{base}/api/reporting/summary?{period}&service=hub");
    let staff = eventually(summary.clone(), |s| s["services"][0]["contacted"] == 3).await;
    let expected = serde_json::json!({
        "enhanced": {"victims": 1, "contacted_on_time": 1, "share_contacted_on_time": 1.0,
                     "needs_assessed_on_time": 0, "share_needs_assessed_on_time": 0.0},
        "standard": {"victims": 2, "contacted_on_time": 1, "share_contacted_on_time": 0.5,
                     "needs_assessed_on_time": 1, "share_needs_assessed_on_time": 0.5},
    });
    assert_eq!(staff["services"][0]["victims_code"], expected, "{staff}");
    // Published (the API as a commissioner has it): every count here is small.
    let (_, published) = request(reqwest::Method::GET, &summary, Some("commissioner"), None).await;
    let code = &published["services"][0]["victims_code"];
    assert_eq!(
        (code["standard"]["victims"].as_str(), code["standard"]["share_contacted_on_time"].as_f64()),
        (Some("<5"), None)
    );
    // The commissioner's own dashboard: exact, by month received.
    let (status, html, _) = {
        let session = support::session(&base, "commissioner").await;
        let response = reqwest::Client::new()
            .get(format!("{base}/figures?{period}"))
            .header("cookie", session.cookie)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap(), ())
    };
    assert_eq!(status, 200);
    assert!(html.contains("Victims' Code: contacted in time"), "{html}");
    assert!(
        html.contains("<strong>1 of 1 (100%)</strong>") && html.contains("<strong>1 of 2 (50%)</strong>"),
        "{html}"
    );
    server.stop();

    // Identical after a rebuild.
    let json = ["report", "--from", &reported.to_string(), "--to", &day_offset(0), "--format", "json"];
    let run = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_casetrack"));
        command.args(args).arg("--data-dir").arg(data).env("RUST_LOG", "warn");
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let before = run(&json);
    assert!(before.contains("\"needs_assessed_on_time\": 1"), "{before}");
    run(&["rebuild"]);
    assert_eq!(run(&json), before, "identical after a rebuild");
}

#[tokio::test]
async fn victims_code_compliance_on_the_embedded_backends() {
    let data = TempDir::new();
    victims_code_journey(data.path(), &[]).await;
}

#[tokio::test]
async fn victims_code_compliance_on_nats_and_postgres() {
    let (_stream, env) = support::split_backends().await;
    let data = TempDir::new();
    victims_code_journey(data.path(), &env).await;
}

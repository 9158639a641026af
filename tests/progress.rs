//! Long work says how far it has got, and every place that says how far behind a projection is agrees (issue 25,
//! item 6), end to end through the real `casetrack` binary on the embedded backends.

mod support;

use std::process::Command;

use casetrack_eventstore::testkit::TempDir;
use support::Server;

fn casetrack(args: &[&str], data: &std::path::Path) -> (String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_casetrack"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run casetrack");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "casetrack {args:?} failed: {stdout} {stderr}");
    (stdout, stderr)
}

/// Each projection's lag as `casetrack admin projections` prints it.
fn admin_lags(stdout: &str) -> Vec<(String, u64)> {
    stdout
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(" position ")?;
            let lag = rest.split("lag").nth(1)?.trim().parse().ok()?;
            Some((name.trim().to_owned(), lag))
        })
        .collect()
}

#[tokio::test]
async fn admin_projections_and_readyz_agree_on_how_far_behind_each_projection_is() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    // Signing in and registering write to both logs, unevenly: the audit trail gets more entries than the case
    // history gets commits.
    for n in 0..3 {
        let (status, answer) = support::api::register_person(
            &server.base,
            &support::api::person("Alex", &format!("Progress{n}"), "1990-02-03"),
        )
        .await;
        assert_eq!(status, 201, "{answer}");
    }
    let ready = support::eventually(format!("{}/readyz", server.base), |ready| {
        ready["projections"].as_array().is_some_and(|all| all.iter().all(|p| p["lag"] == 0))
    })
    .await;
    let projections = ready["projections"].as_array().unwrap().clone();
    server.stop();

    let (stdout, _) = casetrack(&["admin", "projections"], data.path());
    let heads: Vec<u64> = ["log head: ", "audit head: "]
        .iter()
        .map(|prefix| {
            let line = stdout.lines().find_map(|l| l.strip_prefix(prefix)).unwrap_or_else(|| panic!("{stdout}"));
            line.trim().parse().unwrap()
        })
        .collect();
    assert_ne!(heads[0], heads[1], "the two logs differ in length, or the test proves nothing: {stdout}");
    let lags = admin_lags(&stdout);
    assert!(lags.iter().any(|(name, _)| name.starts_with("audit.")), "{stdout}");
    for projection in &projections {
        let name = projection["name"].as_str().unwrap();
        let Some((_, lag)) = lags.iter().find(|(n, _)| n == name) else {
            // Reactors are in /readyz too; admin projections lists the read models.
            continue;
        };
        assert_eq!(
            Some(*lag),
            projection["lag"].as_u64(),
            "{name}: admin projections said {lag}, /readyz {projection}"
        );
    }
}

#[tokio::test]
async fn an_import_says_how_far_it_has_got_in_plain_lines_off_a_terminal() {
    let data = TempDir::new();
    let header = "crime_reference,reported_date,offence_category,domestic_abuse,victim_forename,victim_surname,\
date_of_birth,gender,ethnicity,disability,phone,email,address_line,postcode,safe_to_phone,safe_to_voicemail,\
safe_to_text,safe_to_email,safe_to_write,consent_basis,enhanced_rights";
    let today = support::day_offset(0);
    let rows: Vec<String> = (0..40)
        .map(|i| {
            format!(
                "CR/P{i},{today},burglary,N,Sam,Sample{i},1985-07-30,M,B2,U,,sam@example.org,,,U,U,U,Y,Y,explicit,N"
            )
        })
        .collect();
    let file = data.path().join("feed.csv");
    std::fs::write(&file, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    let (stdout, stderr) = casetrack(&["import", "police-feed", file.to_str().unwrap()], data.path());
    assert!(stdout.contains("40 new referrals"), "{stdout}");
    // Standard error is a pipe here: no bar's control characters, and a last line with the count and the rate.
    // (The log's own lines may be coloured; the progress lines never are.)
    assert!(!stderr.contains('\r'), "{stderr:?}");
    let progress: Vec<&str> = stderr.lines().filter(|line| line.starts_with("import police-feed")).collect();
    assert!(progress.iter().all(|line| !line.contains('\u{1b}')), "{stderr:?}");
    assert!(stderr.contains("import police-feed: 40 rows in "), "{stderr}");

    let (stdout, stderr) = casetrack(&["rebuild"], data.path());
    assert!(stdout.contains("rebuilt hub.referrals"), "{stdout}");
    assert!(stderr.contains("rebuild: ") && stderr.contains(" commits in "), "{stderr}");
}

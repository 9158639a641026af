//! End-to-end journeys through the real `casetrack` binary, in both topologies:
//!
//! - one process on the embedded backends (what `casetrack serve` does with no flags);
//! - the split topology: people, hub, idva and reporting as four processes sharing one NATS JetStream stream and
//!   one PostgreSQL database, cooperating only through the log.
//!
//! The journey: register a person, receive a referral, refer it on to the IDVA service; the IDVA service's reactor
//! opens a case; the hub sees the case on its referral (closed loop); reporting counts all three.

mod support;

use std::process::Command;

use casetrack_eventstore::testkit::TempDir;
use casetrack_hub::commands::close::ClosureRequest;
use casetrack_hub::commands::contact::ContactAttemptRequest;
use casetrack_hub::commands::onward::{ConsentRequest, OnwardReferralRequest};
use casetrack_hub::commands::police_report::PoliceReportRequest;
use casetrack_hub::commands::receive::ReceiveReferralRequest;
use casetrack_hub::commands::when::WhenRequest;
use casetrack_people::RegisterPersonRequest;
use casetrack_proto::ServiceCode;
use casetrack_proto::contact::{AttemptOutcome, ConsentBasis, ContactChannel, OutcomeAnswer, SafeContact, Safety};
use casetrack_proto::hub::{OffenceCategory, ReferralSource};
use casetrack_proto::people::DuplicateDecision;
use serde_json::{Value, json};
use support::{Server, api, day_offset, eventually, get, split_backends};

/// Where each service's API is served.
struct Topology {
    people: String,
    hub: String,
    idva: String,
    reporting: String,
}

/// Returns the id of the person the journey registered.
async fn journey(t: &Topology) -> String {
    // Arrange: a person.
    let alex =
        RegisterPersonRequest { phone: Some("07700 900123".into()), ..api::person("Alex", "Example", "1990-02-03") };
    let (status, person) = api::register_person(&t.people, &alex).await;
    assert_eq!(status, 201, "{person}");
    let person_id = person["person_id"].as_str().unwrap().to_owned();

    // Bad input is refused in plain words and changes nothing.
    let (status, refused) = api::register_person(&t.people, &api::person("", "X", "1990-02-03")).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (422, Some("name_required")));

    // The same name and date of birth again: shown as a candidate duplicate for a person to decide on.
    let (status, twin) = api::register_person(&t.people, &api::person("ALEX ", "example", "1990-02-03")).await;
    assert_eq!(status, 201, "{twin}");
    let twin_id = twin["person_id"].as_str().unwrap().to_owned();
    let candidates = format!("{}/api/people/{person_id}/candidates?wait_for={}", t.people, twin["position"]);
    let (status, found) = get(candidates.clone()).await;
    assert_eq!(status, 200, "{found}");
    let found = &found["items"];
    assert_eq!(found, &json!([{"person_id": twin_id, "registered_at": found[0]["registered_at"], "decision": null}]));
    let (status, decided) = api::decide_duplicate(&t.people, &person_id, &twin_id, DuplicateDecision::Linked).await;
    assert_eq!(status, 200, "{decided}");
    let (_, found) =
        get(format!("{}/api/people/{person_id}/candidates?wait_for={}", t.people, decided["position"])).await;
    assert_eq!(found["items"][0]["decision"], "linked");
    let (status, refused) = api::decide_duplicate(&t.people, &person_id, &person_id, DuplicateDecision::Linked).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (409, Some("self_match")), "{refused}");

    // Act: a referral, referred on to the IDVA service.
    let (status, referral) = api::receive_referral(
        &t.hub,
        &ReceiveReferralRequest {
            offence_category: Some(OffenceCategory::ViolenceWithInjury),
            crime_reference: Some("CR/2026/0001".into()),
            crime_reported_on: Some(api::day("2026-01-05")),
            ..api::referral(&person_id, ReferralSource::PoliceFeed, true)
        },
    )
    .await;
    assert_eq!(status, 201, "{referral}");
    let referral_id = referral["referral_id"].as_str().unwrap().to_owned();
    // An opt-out police referral does not cover passing details on: the victim's consent comes first.
    let to_idva = OnwardReferralRequest { service: ServiceCode::parse("idva").unwrap(), when: Default::default() };
    let (status, refused) = api::refer_on(&t.hub, &referral_id, &to_idva).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (409, Some("consent_needed")), "{refused}");
    let explicit = ConsentRequest { basis: ConsentBasis::Explicit, override_reason: None, when: Default::default() };
    let (status, consent) = api::record_consent(&t.hub, &referral_id, &explicit).await;
    assert_eq!(status, 200, "{consent}");
    let (status, onward) = api::refer_on(&t.hub, &referral_id, &to_idva).await;
    assert_eq!(status, 201, "{onward}");
    let position = onward["position"].as_u64().unwrap();

    // The hub reads its own write at once.
    let (status, view) = get(format!("{}/api/hub/referrals/{referral_id}?wait_for={position}", t.hub)).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["onward_referrals"][0]["service"], "idva");

    // A second onward referral to the same service is refused by the rule that says why.
    let (status, again) = api::refer_on(&t.hub, &referral_id, &to_idva).await;
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("already_referred_on")), "{again}");

    // Assert: the IDVA service opened exactly one case for it...
    let cases = eventually(format!("{}/api/specialist/idva/cases", t.idva), |cases| {
        cases["items"].as_array().is_some_and(|c| c.iter().any(|c| c["referral_id"] == referral_id.as_str()))
    })
    .await;
    let cases: Vec<&Value> =
        cases["items"].as_array().unwrap().iter().filter(|c| c["referral_id"] == referral_id.as_str()).collect();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["person_id"], person_id.as_str());

    // ...the hub sees it (closed loop)...
    let view = eventually(format!("{}/api/hub/referrals/{referral_id}", t.hub), |v| {
        !v["onward_referrals"][0]["case_id"].is_null()
    })
    .await;
    assert_eq!(view["onward_referrals"][0]["case_id"], cases[0]["case_id"]);

    // A second referral the hub cannot reach: an unsafe channel is refused, and "unable to contact" only once the
    // attempt rule (three tries, three times of day) is met.
    let unreachable = receive(t, &person_id, SafeContact { voicemail: Safety::Unsafe, ..Default::default() }).await;
    let yesterday = day_offset(-1);
    let attempt = |channel, time: &str, outcome| ContactAttemptRequest {
        channel,
        attempted_at: api::at(&format!("{yesterday}T{time}:00Z")),
        outcome,
        late_reason: None,
    };
    let (status, refused) = api::record_attempt(
        &t.hub,
        &unreachable,
        &attempt(ContactChannel::Voicemail, "09:30", AttemptOutcome::NoAnswer),
    )
    .await;
    assert_eq!((status, refused["error"]["code"].as_str()), (409, Some("channel_unsafe")), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("voicemail is marked unsafe"));
    for (n, time) in ["09:30", "13:30", "18:30"].into_iter().enumerate() {
        let (status, body) =
            api::record_attempt(&t.hub, &unreachable, &attempt(ContactChannel::Phone, time, AttemptOutcome::NoAnswer))
                .await;
        assert_eq!(status, 200, "{body}");
        if n == 1 {
            // The work queue shows what was tried and suggests the time of day not yet tried.
            let queue = format!("{}/api/hub/queues/next-attempt?wait_for={}", t.hub, body["position"]);
            let (status, queue) = get(queue).await;
            assert_eq!(status, 200, "{queue}");
            let item =
                queue["items"].as_array().unwrap().iter().find(|i| i["referral_id"] == unreachable.as_str()).unwrap();
            assert_eq!(item["bands_tried"], json!(["morning", "afternoon"]), "{item}");
            assert_eq!(item["suggested_band"], "evening");
            assert_eq!(item["attempts"], 2);
        }
        if n < 2 {
            let (status, refused) = api::record_unable_to_contact(&t.hub, &unreachable, &WhenRequest::default()).await;
            assert_eq!((status, refused["error"]["code"].as_str()), (409, Some("attempt_rule_not_met")), "{refused}");
        }
    }
    let (status, done) = api::record_unable_to_contact(&t.hub, &unreachable, &WhenRequest::default()).await;
    assert_eq!(status, 200, "{done}");
    let position = done["position"].as_u64().unwrap();
    let (_, view) = get(format!("{}/api/hub/referrals/{unreachable}?wait_for={position}", t.hub)).await;
    assert_eq!(view["status"], "unable_to_contact");
    let bands: Vec<&str> =
        view["attempts"].as_array().unwrap().iter().map(|a| a["time_band"].as_str().unwrap()).collect();
    assert_eq!(bands, vec!["morning", "afternoon", "evening"]);

    // A third: contacted, supported, closed with the victim's answers.
    let supported = receive(t, &person_id, SafeContact::default()).await;
    let base = format!("{}/api/hub/referrals/{supported}", t.hub);
    let (status, body) =
        api::record_attempt(&t.hub, &supported, &attempt(ContactChannel::Phone, "10:00", AttemptOutcome::Reached))
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api::accept_support(&t.hub, &supported, &WhenRequest::default()).await.0, 200);
    let unknown_measure = ClosureRequest {
        answers: api::hub_answers(&[("happiness", OutcomeAnswer::Improved)]),
        when: Default::default(),
    };
    let (status, refused) = api::close_referral(&t.hub, &supported, &unknown_measure).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (422, Some("unknown_measure")), "{refused}");
    let answered = ClosureRequest {
        answers: api::hub_answers(&[("cope", OutcomeAnswer::Improved), ("safer", OutcomeAnswer::NoChange)]),
        when: Default::default(),
    };
    let (status, closed) = api::close_referral(&t.hub, &supported, &answered).await;
    assert_eq!(status, 200, "{closed}");
    let (_, view) = get(format!("{base}?wait_for={}", closed["position"])).await;
    assert_eq!(view["status"], "closed");

    // A fourth: the victim referred themselves without reporting to police, and later reported.
    let (status, own) = api::receive_referral(
        &t.hub,
        &ReceiveReferralRequest {
            consent: Some(ConsentBasis::Explicit),
            ..api::referral(&person_id, ReferralSource::SelfReferral, false)
        },
    )
    .await;
    assert_eq!(status, 201, "{own}");
    let own = own["referral_id"].as_str().unwrap().to_owned();
    let report = PoliceReportRequest {
        crime_reference: "CR/2026/0042".into(),
        reported_on: api::day(&yesterday),
        when: Default::default(),
    };
    let (status, body) = api::report_to_police(&t.hub, &own, &report).await;
    assert_eq!(status, 200, "{body}");
    let (status, again) = api::report_to_police(&t.hub, &own, &report).await;
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("not_awaiting_police_report")), "{again}");

    // ...and reporting counts each step.
    let (from, to) = (day_offset(-1), day_offset(0));
    let summary = eventually(format!("{}/api/reporting/summary?from={from}&to={to}", t.reporting), |s| {
        s["services"].as_array().is_some_and(|services| {
            services.iter().any(|s| s["service"] == "idva" && s["activity"]["cases_opened"] == 1)
                && services.iter().any(|s| {
                    s["service"] == "hub"
                        && s["activity"]["closed"] == 1
                        && s["activity"]["self_referrals_reported_to_police"] == 1
                })
        })
    })
    .await;
    let hub = summary["services"].as_array().unwrap().iter().find(|s| s["service"] == "hub").unwrap();
    let figures: Vec<i64> = [
        "referrals_received",
        "contact_attempts",
        "contacted",
        "supported",
        "unable_to_contact",
        "closed",
        "self_referrals",
        "self_referrals_reported_to_police",
    ]
    .iter()
    .map(|f| hub["activity"][f].as_i64().unwrap())
    .collect();
    assert_eq!(figures, vec![4, 4, 1, 1, 1, 1, 1, 1], "{hub}");
    assert_eq!(hub["activity"]["onward_referrals.idva"].as_i64(), Some(1));
    assert_eq!(hub["onward_referrals"]["idva"].as_i64(), Some(1), "of the referrals received, one went to the IDVA");

    // The common routes answer on every process.
    for base in [&t.people, &t.hub, &t.idva, &t.reporting] {
        let (status, ready) = get(format!("{base}/readyz")).await;
        assert_eq!(status, 200, "{ready}");
        assert_eq!(ready["ready"], true);
        let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
        assert!(metrics.contains("casetrack_http_request_duration_seconds"), "{metrics}");
    }
    let (_, openapi) = get(format!("{}/api/openapi.json", t.hub)).await;
    assert!(openapi["paths"]["/api/hub/referrals"].is_object(), "{openapi}");
    person_id
}

/// Runs `casetrack admin ...` against the same backends; returns (success, stdout, stderr).
fn admin(args: &[&str], data_dir: &std::path::Path, env: &[(&str, String)]) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_casetrack"));
    command.arg("admin").args(args).arg("--data-dir").arg(data_dir).env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run casetrack admin");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Subject access, then erasure: afterwards nothing of the person can be produced, and figures stay as they were.
async fn export_then_erase(t: &Topology, person_id: &str, data_dir: &std::path::Path, env: &[(&str, String)]) {
    let (ok, export, err) = admin(&["export-person", "--person", person_id], data_dir, env);
    assert!(ok, "{err}");
    let export: Value = serde_json::from_str(&export).unwrap();
    assert_eq!(
        (export["erased"].as_bool(), export["details"]["forename"].as_str()),
        (Some(false), Some("Alex")),
        "{export}"
    );
    let today = day_offset(0);
    let summary = format!("{}/api/reporting/summary?from={}&to={today}", t.reporting, day_offset(-1));
    let (_, before) = get(summary.clone()).await;

    let (ok, out, err) = admin(&["erase-person", "--person", person_id, "--reason", "request"], data_dir, env);
    assert!(ok && out.contains("erased person"), "{out} {err}");
    let (ok, _, err) = admin(&["erase-person", "--person", person_id, "--reason", "request"], data_dir, env);
    assert!(!ok && err.contains("erased"), "{err}");
    let (ok, export, err) = admin(&["export-person", "--person", person_id], data_dir, env);
    assert!(ok, "{err}");
    assert!(!export.contains("Alex") && !export.contains("07700"), "{export}");
    let export: Value = serde_json::from_str(&export).unwrap();
    assert_eq!(export["erased"], true);
    let (_, after) = get(summary).await;
    assert_eq!(before, after, "figures do not change when a person is erased");
}

/// Receives a police referral for `person_id` with the given safe-contact rules; returns its id.
async fn receive(t: &Topology, person_id: &str, safe_contact: SafeContact) -> String {
    let (status, referral) = api::receive_referral(
        &t.hub,
        // Received at the start of yesterday: its contact attempts were made yesterday, and time never runs backwards.
        &ReceiveReferralRequest {
            offence_category: Some(OffenceCategory::ViolenceWithoutInjury),
            safe_contact,
            when: WhenRequest { occurred_at: Some(format!("{}T00:00:00Z", day_offset(-1))), late_reason: None },
            ..api::referral(person_id, ReferralSource::PoliceFeed, false)
        },
    )
    .await;
    assert_eq!(status, 201, "{referral}");
    referral["referral_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn journey_in_one_process_on_the_embedded_backends() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let topology = Topology { people: base.clone(), hub: base.clone(), idva: base.clone(), reporting: base };
    let person_id = journey(&topology).await;
    export_then_erase(&topology, &person_id, data.path(), &[]).await;
    // The embedded default generated its master key with owner-only permissions.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("master.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    server.stop();
}

#[tokio::test]
async fn journey_across_separate_processes_on_nats_and_postgres() {
    let (_stream, env) = split_backends().await;
    let data = TempDir::new();
    let people = Server::start("access,people", data.path(), &env).await;
    let hub = Server::start("hub", data.path(), &env).await;
    let idva = Server::start("idva", data.path(), &env).await;
    let reporting = Server::start("reporting", data.path(), &env).await;
    let topology = Topology {
        people: people.base.clone(),
        hub: hub.base.clone(),
        idva: idva.base.clone(),
        reporting: reporting.base.clone(),
    };
    let person_id = journey(&topology).await;
    export_then_erase(&topology, &person_id, data.path(), &env).await;
    // Nothing was written under the data folder: every backend was remote.
    assert!(!data.path().join("events.db").exists() && !data.path().join("master.key").exists());
    for server in [people, hub, idva, reporting] {
        server.stop();
    }
}

const FEED_HEADER: &str = "crime_reference,reported_date,offence_category,domestic_abuse,victim_forename,victim_surname,\
date_of_birth,gender,ethnicity,disability,phone,email,address_line,postcode,safe_to_phone,safe_to_voicemail,safe_to_text,\
safe_to_email,safe_to_write,consent_basis,enhanced_rights";

/// Imports a police feed twice (and once as a dry run) through `casetrack import police-feed`, then checks that the
/// referrals arrived once each and the bad rows were listed without the victims' details.
async fn police_feed_journey(t: &Topology, data_dir: &std::path::Path, env: &[(&str, String)]) {
    let today = day_offset(0);
    let rows = [
        format!(
            "CR/1,{today},violence_with_injury,Y,Alex,Example,1990-02-03,F,W1,N,07700 900123,,,AB1 2CD,Y,N,N,U,N,opt_out,N"
        ),
        format!("CR/2,{today},burglary,N,Sam,Sample,1985-07-30,M,B2,U,,sam@example.org,,,U,U,U,Y,Y,explicit,N"),
        "CR/3,not-a-date,theft,N,Kim,Bad,1970-01-01,F,,,,,,,U,U,U,U,U,opt_out,N".to_owned(),
        format!("CR/4,{today},fraud,N,=HYPERLINK(\"x\"),Secret,1970-01-01,F,,,,,,,U,U,U,U,U,opt_out,N"),
        format!("CR/5,{today},sexual_offence,N,Jo,Withheld,2009-05-05,X,NS,Y,,,,,U,U,U,U,U,withheld,Y"),
    ];
    let file = data_dir.join("feed.csv");
    std::fs::write(&file, format!("{FEED_HEADER}\n{}\n", rows.join("\n"))).unwrap();
    let run = |extra: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_casetrack"));
        command
            .args(["import", "police-feed"])
            .arg(&file)
            .args(extra)
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "warn");
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().expect("run casetrack import");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "import failed: {stdout} {}", String::from_utf8_lossy(&output.stderr));
        stdout
    };

    let dry = run(&["--dry-run"]);
    assert!(dry.contains("read 5 rows: 3 valid, 2 rejected") && dry.contains("nothing imported"), "{dry}");
    let first = run(&[]);
    assert!(first.contains("3 new referrals, 0 already imported, 0 could not be saved"), "{first}");
    let again = run(&[]);
    assert!(again.contains("0 new referrals, 3 already imported"), "{again}");

    let rejects = std::fs::read_to_string(data_dir.join("feed.rejects.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines.len(), 3, "{rejects}");
    assert!(
        lines[1].starts_with("4,reported_date,CR/3,") && lines[2].starts_with("5,victim_forename,CR/4,"),
        "{rejects}"
    );
    assert!(!rejects.contains("Secret") && !rejects.contains("Kim") && !rejects.contains("HYPERLINK"), "{rejects}");

    let summary = eventually(format!("{}/api/reporting/summary?from={today}&to={today}", t.reporting), |s| {
        s["services"]
            .as_array()
            .is_some_and(|services| services.iter().any(|s| s["service"] == "hub" && s["referrals_received"] == 3))
    })
    .await;
    let hub = summary["services"].as_array().unwrap().iter().find(|s| s["service"] == "hub").unwrap();
    assert_eq!(hub["referrals_received"], 3, "{hub}");
}

#[tokio::test]
async fn police_feed_import_in_one_process_on_the_embedded_backends() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let topology = Topology { people: base.clone(), hub: base.clone(), idva: base.clone(), reporting: base };
    police_feed_journey(&topology, data.path(), &[]).await;
    server.stop();
}

#[tokio::test]
async fn police_feed_import_on_nats_and_postgres() {
    let (_stream, env) = split_backends().await;
    let data = TempDir::new();
    let reporting = Server::start("access,reporting", data.path(), &env).await;
    let topology =
        Topology { people: String::new(), hub: String::new(), idva: String::new(), reporting: reporting.base.clone() };
    police_feed_journey(&topology, data.path(), &env).await;
    reporting.stop();
}

/// `casetrack report` on the test's installation; its standard output.
fn report(data: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_casetrack"))
        .arg("report")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn the_report_command_prints_the_same_figures_as_the_api() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let (status, person) = api::register_person(&base, &api::person("Rhys", "Report", "1988-08-08")).await;
    assert_eq!(status, 201);
    let (status, referral) = api::receive_referral(
        &base,
        &api::referral(person["person_id"].as_str().unwrap(), ReferralSource::PoliceFeed, false),
    )
    .await;
    assert_eq!(status, 201);
    let today = day_offset(0);
    let api = eventually(
        format!("{base}/api/reporting/summary?from={today}&to={today}&wait_for={}", referral["position"]),
        |s| !s["services"].as_array().unwrap().is_empty(),
    )
    .await;
    let json_report: Value =
        serde_json::from_str(&report(data.path(), &["--from", &today, "--to", &today, "--format", "json"])).unwrap();
    assert_eq!(json_report["services"], api["services"], "the command and the API agree");
    // A named period: this month.
    let month: Value =
        serde_json::from_str(&report(data.path(), &["--period", &today[..7], "--format", "json"])).unwrap();
    assert_eq!(month["services"], api["services"]);
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_casetrack"))
        .args(["report", "--period", "FY2026-28", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("a financial year runs from April"));
    let csv = report(data.path(), &["--from", &today, "--to", &today, "--format", "csv", "--service", "hub"]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let values: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| values[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!((column("Service"), column("Referrals received")), ("Victim and Witness Hub", "1"));
    let published = report(data.path(), &["--from", &today, "--to", &today, "--format", "csv", "--publish"]);
    assert!(published.contains("<5") && !published.lines().nth(1).unwrap().split(',').any(|v| v == "1"), "{published}");
    // The funder's workbook: a sheet per service, the counting rules on a notes sheet, small numbers suppressed.
    let xlsx = data.path().join("return.xlsx");
    report(
        data.path(),
        &["--from", &today, "--to", &today, "--format", "xlsx", "--publish", "--output", xlsx.to_str().unwrap()],
    );
    let mut book = zip::ZipArchive::new(std::fs::File::open(&xlsx).unwrap()).unwrap();
    let mut part = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut book.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let sheets = part("xl/workbook.xml");
    assert!(sheets.contains("name=\"Victim and Witness Hub\"") && sheets.contains("name=\"Notes\""), "{sheets}");
    let strings = part("xl/sharedStrings.xml");
    assert!(
        strings.contains("Referrals received") && strings.contains("&lt;5") && strings.contains("How it is counted")
    );
    let table = report(data.path(), &["--from", &today, "--to", &today]);
    assert!(table.contains("Referrals received") && table.contains("Victim and Witness Hub"), "{table}");
    server.stop();

    // Every read model rebuilt from the log: the figures come out byte for byte the same.
    let json_args = ["--from", "2000-01-01", "--to", "2100-12-31", "--format", "json"];
    let by_args = ["--from", "2000-01-01", "--to", "2100-12-31", "--format", "json", "--by", "repeat_victim"];
    let before = report(data.path(), &json_args);
    let before_by = report(data.path(), &by_args);
    assert!(before_by.contains("\"breakdown\""), "{before_by}");
    let rebuilt = std::process::Command::new(env!("CARGO_BIN_EXE_casetrack"))
        .arg("rebuild")
        .arg("--data-dir")
        .arg(data.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(rebuilt.status.success(), "{}", String::from_utf8_lossy(&rebuilt.stderr));
    let rebuilt = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(rebuilt.contains("rebuilt reporting.pathway") && rebuilt.contains("rebuilt reporting.cohort"), "{rebuilt}");
    assert_eq!(report(data.path(), &json_args), before, "identical after a rebuild");
    assert_eq!(report(data.path(), &by_args), before_by, "the breakdown too");
}

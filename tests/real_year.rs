//! A service's real year, the parts beyond dating each command, end to end through the JSON API of the real binary:
//!
//! - a hub manager brings the hub's history in by uploading the documented file (`POST /api/hub/history`): its hub
//!   rows go in, a specialist service's row is rejected by line and rule, uploading again writes nothing, a dry run
//!   writes nothing, and a hub officer may not upload; a service manager brings in their own service's rows;
//! - a service's eligibility rule is configuration: the young victims' service takes under-18s only, from the hub's
//!   onward referral and from a direct referral alike, refused in plain words with nothing written;
//! - a direct referral carries the offence and the victim's nationality, and the year's figures count them;
//! - a closure is answered against the outcome-measure list in force on the day it happened: restorative justice's
//!   2019 list did not have "Feels the harm was acknowledged", today's does.

mod support;

use casetrack_eventstore::testkit::TempDir;
use casetrack_hub::commands::onward::{ConsentRequest, OnwardReferralRequest};
use casetrack_proto::ServiceCode;
use casetrack_proto::contact::{AttemptOutcome, ConsentBasis, ContactChannel, OutcomeAnswer};
use casetrack_proto::hub::{OffenceCategory, ReferralSource};
use casetrack_proto::profile::{AgeBand, Nationality};
use casetrack_proto::specialist::ClosureReason;
use casetrack_specialist::commands::close::CloseRequest;
use casetrack_specialist::commands::contact::AttemptRequest;
use casetrack_specialist::commands::decision::Accept;
use casetrack_specialist::commands::open_direct::DirectReferralRequest;
use casetrack_specialist::commands::when::WhenRequest;
use serde::Serialize;
use serde_json::Value;
use support::{Server, api, eventually, session};

const EXAMPLE: &str = include_str!("../docs/history-import-example.csv");
const LATE: &str = "caseload brought from the old system";

/// Uploads a history file as `role` to `path`; the status and the answer.
async fn upload(base: &str, path: &str, role: &str, file: &str) -> (u16, Value) {
    let session = session(base, role).await;
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .header("content-type", "text/csv")
        .body(file.to_owned())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The example file's rows of one area (`hub`, `idva`, ...), with the header.
fn rows_of(area: &str) -> (String, usize) {
    let mut lines = EXAMPLE.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.filter(|line| line.split(',').next() == Some(area)).collect();
    (format!("{header}\n{}\n", rows.join("\n")), rows.len())
}

async fn history_uploaded(base: &str, data: &std::path::Path) {
    let (hub_rows, hub_count) = rows_of("hub");
    assert!(hub_count >= 5, "the example has the hub's year");
    let (idva_rows, idva_count) = rows_of("idva");
    assert_eq!(idva_count, 1);
    // The hub's rows and, on the last line, an IDVA row: not the hub manager's to bring in.
    let idva_row = idva_rows.lines().nth(1).unwrap();
    let mixed = format!("{hub_rows}{idva_row}\n");
    let idva_line = (hub_count + 2) as u64;

    // A hub officer may not bring history in; a dry run checks every row and writes nothing.
    let (status, _) = upload(base, "/api/hub/history", "hub_officer", &mixed).await;
    assert_eq!(status, 403);
    let before = support::log_head(data).await;
    let (status, dry) = upload(base, "/api/hub/history?dry_run=true", "hub_manager", &mixed).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!((dry["rows"].as_u64(), dry["imported"].as_u64()), (Some(hub_count as u64 + 1), Some(0)), "{dry}");
    assert_eq!(support::log_head(data).await, before, "a dry run writes nothing");

    let (status, first) = upload(base, "/api/hub/history?name=legacy-2019.csv", "hub_manager", &mixed).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["imported"].as_u64(), Some(hub_count as u64), "{first}");
    let rejected = first["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{first}");
    assert_eq!(
        (rejected[0]["line"].as_u64(), rejected[0]["column"].as_str(), rejected[0]["rule"].as_str()),
        (Some(idva_line), Some("service"), Some("other_service")),
        "{first}"
    );
    assert_eq!(rejected[0]["reference"], "IDVA-2001");
    assert!(rejected[0]["reason"].as_str().unwrap().contains("the hub's history only"), "{first}");
    let text = first.to_string();
    assert!(!text.contains("Example") && !text.contains("1984-03-12"), "no personal details in the answer: {text}");
    assert!(first["position"].as_u64().unwrap() > 0);
    let head = support::log_head(data).await;
    assert!(head > before);

    // Again: nothing new.
    let (status, again) = upload(base, "/api/hub/history", "hub_manager", &mixed).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!((again["imported"].as_u64(), again["already_imported"].as_u64()), (Some(0), Some(hub_count as u64)));
    assert_eq!(support::log_head(data).await, head, "uploading again writes nothing");

    // The IDVA's manager brings in the IDVA's row; the hub's rows are not theirs.
    let (status, idva) = upload(base, "/api/specialist/idva/history", "service_manager:idva", &mixed).await;
    assert_eq!(status, 200, "{idva}");
    assert_eq!(idva["imported"].as_u64(), Some(1), "{idva}");
    assert_eq!(idva["rejected"].as_array().unwrap().len(), hub_count, "{idva}");
    let (status, _) = upload(base, "/api/specialist/isva/history", "service_manager:idva", &idva_rows).await;
    assert_eq!(status, 403, "another service's manager may not bring in its history");

    // The financial year 2019/20 counts what came in (the hub's seven referrals and the IDVA's case).
    let year = format!("{base}/api/reporting/summary?from=2019-04-01&to=2020-03-31");
    let report = eventually(year, |report| {
        let received = |service: &str| {
            report["services"].as_array().and_then(|services| {
                services.iter().find(|s| s["service"] == service).and_then(|s| s["referrals_received"].as_i64())
            })
        };
        received("hub") == Some(hub_count as i64) && received("idva") == Some(1)
    })
    .await;
    assert!(report["services"].is_array());
}

/// Posts a typed request; the status and answer.
async fn send(url: String, request: &impl Serialize) -> (u16, Value) {
    api::send(url, request).await
}

/// Posts a request and expects it refused with 422 (409 for a rule about the record as it stands) and `code`, and
/// nothing written.
async fn refused_unwritten(data: &std::path::Path, url: String, request: &impl Serialize, code: &str) -> Value {
    let before = support::log_head(data).await;
    let (status, answer) = send(url.clone(), request).await;
    let expected = if url.contains("/onward-referrals") { 409 } else { 422 };
    assert_eq!((status, answer["error"]["code"].as_str()), (expected, Some(code)), "{url}: {answer}");
    assert_eq!(support::log_head(data).await, before, "{url} refused with {code} wrote nothing");
    answer
}

async fn person(base: &str, forename: &str, born: &str) -> String {
    let (status, registered) = api::register_person(base, &api::person(forename, "Example", born)).await;
    assert_eq!(status, 201, "{registered}");
    registered["person_id"].as_str().unwrap().to_owned()
}

async fn young_victims_only(base: &str, data: &std::path::Path) {
    let young = ServiceCode::parse("young_victims").unwrap();
    let to_young = OnwardReferralRequest { service: young.clone(), when: Default::default() };
    let explicit = ConsentRequest { basis: ConsentBasis::Explicit, override_reason: None, when: Default::default() };
    for (band, expected) in [(AgeBand::From25To34, 422), (AgeBand::Under18, 201)] {
        let person_id = person(base, "Robin", "2001-01-01").await;
        let mut referral = api::referral(&person_id, ReferralSource::Partner, false);
        referral.profile.age_band = Some(band);
        let (status, received) = api::receive_referral(base, &referral).await;
        assert_eq!(status, 201, "{received}");
        let referral_id = received["referral_id"].as_str().unwrap().to_owned();
        let (status, consent) = api::record_consent(base, &referral_id, &explicit).await;
        assert_eq!(status, 200, "{consent}");
        if expected == 422 {
            let url = format!("{base}/api/hub/referrals/{referral_id}/onward-referrals");
            let refused = refused_unwritten(data, url, &to_young, "not_eligible").await;
            assert_eq!(
                refused["error"]["message"],
                "Young victims' service takes victims aged under 18 on the day of referral; this victim was 25 to 34"
            );
        } else {
            let (status, onward) = api::refer_on(base, &referral_id, &to_young).await;
            assert_eq!(status, expected, "{onward}");
            // The service's reactor opens the case from it: waited for, so that it writes nothing while the
            // refusals below are checked for writing nothing.
            let caseload = format!("{base}/api/specialist/young_victims/cases");
            eventually(caseload, |cases| cases["total"].as_u64() == Some(1)).await;
        }
    }
    // A direct referral: the age on the day of referral decides.
    let adult = person(base, "Morgan", "1990-05-05").await;
    let cases = format!("{base}/api/specialist/young_victims/cases");
    let direct = |person_id: &str, born: &str| DirectReferralRequest {
        date_of_birth: Some(api::day(born)),
        ..api::direct_referral(person_id, "school")
    };
    refused_unwritten(data, cases.clone(), &direct(&adult, "1990-05-05"), "not_eligible").await;
    let child = person(base, "Ash", "2014-02-02").await;
    let (status, opened) = send(cases, &direct(&child, "2014-02-02")).await;
    assert_eq!(status, 201, "{opened}");
}

fn when(at: &str) -> WhenRequest {
    WhenRequest { occurred_at: Some(at.to_owned()), late_reason: Some(LATE.to_owned()) }
}

async fn direct_referral_counted_by_offence_and_nationality(base: &str) {
    let person_id = person(base, "Dana", "1993-03-03").await;
    let referral = DirectReferralRequest {
        offence_category: Some(OffenceCategory::SexualOffence),
        nationality: Some(Nationality::parse("UA").unwrap()),
        date_of_birth: Some(api::day("1993-03-03")),
        when: when("2019-10-14"),
        ..api::direct_referral(&person_id, "sarc")
    };
    let (status, opened) = send(format!("{base}/api/specialist/isva/cases"), &referral).await;
    assert_eq!(status, 201, "{opened}");
    let isva_in = |report: &Value, value: &str| -> Option<i64> {
        let isva = report["services"].as_array()?.iter().find(|s| s["service"] == "isva")?;
        isva["breakdown"].as_array()?.iter().find(|b| b["value"] == value)?["referrals_received"].as_i64()
    };
    let period = format!("{base}/api/reporting/summary?from=2019-04-01&to=2020-03-31");
    eventually(format!("{period}&by=offence"), |report| isva_in(report, "sexual_offence") == Some(1)).await;
    eventually(format!("{period}&by=nationality"), |report| isva_in(report, "UA") == Some(1)).await;
    // How many nationalities: exact for staff, suppressed as a small number for a commissioner.
    let nationalities = |report: &Value| -> Value {
        let services = report["services"].as_array().cloned().unwrap_or_default();
        services.iter().find(|s| s["service"] == "isva").map_or(Value::Null, |s| s["nationalities"].clone())
    };
    let exact = eventually(period.clone(), |report| nationalities(report) == 1).await;
    assert_eq!(nationalities(&exact), 1);
    let (status, published) = support::request(reqwest::Method::GET, &period, Some("commissioner"), None).await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(nationalities(&published), "<5", "{published}");
}

async fn closures_answer_the_list_in_force(base: &str, data: &std::path::Path) {
    let answers = |measure: &str| api::case_answers(&[(measure, OutcomeAnswer::Improved)]);
    // A case of 2019, worked and closed in 2019.
    let person_id = person(base, "Lee", "1980-08-08").await;
    let cases = format!("{base}/api/specialist/rj/cases");
    let referral = DirectReferralRequest { when: when("2019-06-03"), ..api::direct_referral(&person_id, "police") };
    let (status, opened) = send(cases.clone(), &referral).await;
    assert_eq!(status, 201, "{opened}");
    let case = format!("{cases}/{}", opened["case_id"].as_str().unwrap());
    let (status, accepted) = send(format!("{case}/accept"), &Accept(when("2019-06-03T15:00:00+01:00"))).await;
    assert_eq!(status, 200, "{accepted}");
    let reached = AttemptRequest {
        channel: ContactChannel::Phone,
        attempted_at: api::at("2019-06-04T10:00:00Z"),
        outcome: AttemptOutcome::Reached,
        late_reason: Some(LATE.to_owned()),
    };
    let (status, attempt) = send(format!("{case}/contact-attempts"), &reached).await;
    assert_eq!(status, 200, "{attempt}");
    let closure = |measure: &str| CloseRequest {
        reason: ClosureReason::SupportCompleted,
        answers: answers(measure),
        when: when("2019-09-30"),
    };
    let refused = refused_unwritten(data, format!("{case}/closure"), &closure("closure"), "unknown_measure").await;
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("in force on 30 September 2019"), "{message}");
    let (status, closed) = send(format!("{case}/closure"), &closure("satisfied")).await;
    assert_eq!(status, 200, "{closed}");
}

#[tokio::test]
async fn history_comes_in_through_the_api_and_each_service_keeps_its_own_rules() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    history_uploaded(&base, data.path()).await;
    young_victims_only(&base, data.path()).await;
    direct_referral_counted_by_offence_and_nationality(&base).await;
    closures_answer_the_list_in_force(&base, data.path()).await;
    server.stop();
}

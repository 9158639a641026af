//! Domain time on specialist cases, end to end through the JSON API of the real binary:
//!
//! - a service's history typed in years later: an IDVA case opened directly, dated 3 June 2019, accepted, a
//!   contact attempt, a closing risk assessment and the closure, each dated in 2019 with the reason it is recorded
//!   late; the case's detail and its page show when each thing happened (and when it was recorded);
//! - each time rule refuses with 422 and its code, and writes nothing (the log's head does not move): a date beyond
//!   the back-dating window without a reason, the future, before the case opened, a closure before the last thing
//!   that happened on the case;
//! - the case page's forms say when too (a note dated in 2019, refused without a reason, saved with one);
//! - a late entry is flagged in the audit trail with its reason;
//! - no case for a person id nobody is registered under, nor for an erased person (422, nothing written);
//! - a service takes a direct referral of a victim not registered yet through its API: the person registered and
//!   the case opened, dated when the referral was received; sent again, nothing is written twice.

mod support;

use std::time::{Duration, Instant};

use casetrack_eventstore::testkit::TempDir;
use casetrack_proto::contact::{AttemptOutcome, ContactChannel, OutcomeAnswer, SafeContact, Safety};
use casetrack_proto::specialist::{ClosureReason, RiskChecklist, RiskLevel};
use casetrack_specialist::commands::close::CloseRequest;
use casetrack_specialist::commands::contact::AttemptRequest;
use casetrack_specialist::commands::decision::Accept;
use casetrack_specialist::commands::open_direct::{DirectReferralRequest, NewVictimReferralRequest};
use casetrack_specialist::commands::when::WhenRequest;
use casetrack_specialist::kinds::RiskRequest;
use reqwest::redirect::Policy;
use serde::Serialize;
use serde_json::Value;
use support::{Server, api, day_offset, get, session};

/// Posts a typed request and expects it saved (`status`); the answer.
async fn saved(url: String, request: &impl Serialize, status: u16) -> Value {
    let (answered, answer) = api::send(url.clone(), request).await;
    assert_eq!(answered, status, "{url}: {answer}");
    answer
}

/// Posts a typed request and expects 422 with `code`, and nothing written.
async fn refused_unwritten(data: &std::path::Path, url: String, request: &impl Serialize, code: &str) {
    let before = support::log_head(data).await;
    let (status, answer) = api::send(url.clone(), request).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some(code)), "{url}: {answer}");
    assert!(!answer["error"]["message"].as_str().unwrap_or_default().is_empty(), "{answer}");
    assert_eq!(support::log_head(data).await, before, "{url} refused with {code} wrote nothing");
}

async fn person(base: &str, forename: &str) -> String {
    let registered = saved(format!("{base}/api/people"), &api::person(forename, "Example", "1988-08-08"), 201).await;
    registered["person_id"].as_str().unwrap().to_owned()
}

const HISTORY: &str = "caseload brought from the old system";

/// When it happened, and why it is recorded late.
fn when(occurred_at: &str, late_reason: Option<&str>) -> WhenRequest {
    WhenRequest { occurred_at: Some(occurred_at.to_owned()), late_reason: late_reason.map(str::to_owned) }
}

/// A case of 2019 typed in now, each refusal on the way, and what the case then shows.
async fn a_year_typed_in_late(base: &str, data: &std::path::Path) {
    let person_id = person(base, "Hope").await;
    let cases = format!("{base}/api/specialist/idva/cases");
    let referral = |when: WhenRequest| DirectReferralRequest {
        domestic_abuse: true,
        when,
        ..api::direct_referral(&person_id, "police")
    };
    // Warm the session up, so that creating the caseworker's account is not counted as a write below.
    let (status, _) = get(cases.clone()).await;
    assert_eq!(status, 200);

    // Beyond the window without a reason; in the future.
    refused_unwritten(data, cases.clone(), &referral(when("2019-06-03", None)), "late_entry_needs_reason").await;
    let tomorrow = day_offset(2);
    refused_unwritten(data, cases.clone(), &referral(when(&tomorrow, None)), "occurred_in_future").await;
    let opened = saved(cases.clone(), &referral(when("2019-06-03", Some(HISTORY))), 201).await;
    let case_id = opened["case_id"].as_str().unwrap().to_owned();
    let case = format!("{cases}/{case_id}");

    // Nothing on the case before it opened; then accepted the same afternoon, reached the next day.
    refused_unwritten(
        data,
        format!("{case}/accept"),
        &Accept(when("2019-06-01", Some(HISTORY))),
        "occurred_before_record_began",
    )
    .await;
    saved(format!("{case}/accept"), &Accept(when("2019-06-03T15:00:00+01:00", Some(HISTORY))), 200).await;
    let attempt = |late_reason: Option<&str>| AttemptRequest {
        channel: ContactChannel::Phone,
        attempted_at: api::at("2019-06-04T10:00:00Z"),
        outcome: AttemptOutcome::Reached,
        late_reason: late_reason.map(str::to_owned),
    };
    refused_unwritten(data, format!("{case}/contact-attempts"), &attempt(None), "late_entry_needs_reason").await;
    saved(format!("{case}/contact-attempts"), &attempt(Some(HISTORY)), 200).await;
    let assessment = RiskRequest {
        at_closure: true,
        when: when("2019-07-01", Some(HISTORY)),
        ..api::risk(RiskChecklist::Professional, RiskLevel::Standard)
    };
    saved(format!("{case}/risk-assessments"), &assessment, 200).await;

    // Not closed before the last thing that happened on it; then closed at the end of September.
    let answers = [
        ("abuse_ceased_or_reduced", OutcomeAnswer::Improved),
        ("safer", OutcomeAnswer::Improved),
        ("cope", OutcomeAnswer::NoChange),
        ("health_wellbeing", OutcomeAnswer::NotAsked),
    ];
    let closure = |on: &str| CloseRequest {
        reason: ClosureReason::SupportCompleted,
        answers: api::case_answers(&answers),
        when: when(on, Some(HISTORY)),
    };
    refused_unwritten(data, format!("{case}/closure"), &closure("2019-06-20"), "closed_before_latest").await;
    let closed = saved(format!("{case}/closure"), &closure("2019-09-30"), 200).await;

    // The detail: opened on its own day, worked and closed.
    let (status, view) = get(format!("{case}?wait_for={}", closed["position"])).await;
    assert_eq!(status, 200, "{view}");
    assert!(view["opened_at"].as_str().unwrap().starts_with("2019-06-03"), "{view}");
    assert_eq!(
        (view["status"].as_str(), view["attempts"].as_i64(), view["risk_level"].as_str()),
        (Some("closed"), Some(1), Some("standard")),
        "{view}"
    );
    assert_eq!(view["closure_reason"], "support_completed", "{view}");

    // The case page: each thing on the day it happened, and when it was recorded.
    let caseworker = session(base, "caseworker:idva").await;
    let page = client()
        .get(format!("{base}/services/idva/cases/{case_id}"))
        .header("cookie", &caseworker.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::London).format("%-d %B %Y").to_string();
    for line in ["3 June 2019, recorded on", "4 June 2019, recorded on", "30 September 2019, recorded on", &today] {
        assert!(page.contains(line), "the timeline lacks {line:?}");
    }

    // The page's forms say when too: a note dated 1 October 2019, refused without a reason, saved with one.
    let note = |reason: &'static str| {
        let csrf = caseworker.csrf.clone();
        let fields = vec![
            ("note-text", "Found in the paper file".to_owned()),
            ("note-when-day", "1".to_owned()),
            ("note-when-month", "10".to_owned()),
            ("note-when-year", "2019".to_owned()),
            ("note-late-reason", reason.to_owned()),
            ("csrf", csrf),
        ];
        client()
            .post(format!("{base}/services/idva/cases/{case_id}/note"))
            .header("cookie", &caseworker.cookie)
            .form(&fields)
            .send()
    };
    let before = support::log_head(data).await;
    let refused = note("").await.unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    assert!(refused.text().await.unwrap().contains("say why it is being recorded late"));
    assert_eq!(support::log_head(data).await, before, "a refused form writes nothing");
    assert_eq!(note(HISTORY).await.unwrap().status().as_u16(), 303);

    // The late entries are in the audit trail, with their reason.
    let auditor = session(base, "auditor").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let trail = client()
            .get(format!("{base}/audit?user=test.caseworker.idva"))
            .header("cookie", &auditor.cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if trail.contains("Late entry") && trail.contains(HISTORY) {
            break;
        }
        assert!(Instant::now() < deadline, "the audit trail never flagged the late entry");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

#[tokio::test]
async fn history_is_recorded_with_its_own_dates_and_time_never_runs_backwards() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    a_year_typed_in_late(&server.base, data.path()).await;
    server.stop();
}

#[tokio::test]
async fn a_case_is_opened_only_for_a_registered_person_or_with_their_details() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let cases = format!("{base}/api/specialist/idva/cases");
    let (status, _) = get(cases.clone()).await;
    assert_eq!(status, 200);

    // Nobody registered under the id.
    let nobody = uuid::Uuid::new_v4().to_string();
    refused_unwritten(data.path(), cases.clone(), &api::direct_referral(&nobody, "police"), "person_unknown").await;

    // An erased person.
    let person_id = person(&base, "Gone").await;
    let manager = session(&base, "hub_manager").await;
    let fields = [("reason", "request"), ("confirm", "ERASE"), ("csrf", manager.csrf.as_str())];
    let erased = client()
        .post(format!("{base}/people/{person_id}/erasure"))
        .header("cookie", &manager.cookie)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status().as_u16(), 303, "the person is erased");
    refused_unwritten(data.path(), cases.clone(), &api::direct_referral(&person_id, "police"), "person_erased").await;

    // A victim not registered yet: registered and the case opened, dated when the referral was received.
    let submission = uuid::Uuid::new_v4();
    let received = day_offset(-3);
    let referral = NewVictimReferralRequest {
        submission_id: Some(submission),
        person: api::person("New", "Victim", "23/04/1987"),
        source: "police".into(),
        safe_contact: SafeContact { phone: Safety::Safe, ..Default::default() },
        safe_times: Vec::new(),
        domestic_abuse: true,
        enhanced_rights: false,
        offence_category: None,
        nationality: None,
        when: WhenRequest { occurred_at: Some(received.clone()), late_reason: None },
    };
    let url = format!("{base}/api/specialist/idva/new-victim-referrals");
    let opened = saved(url.clone(), &referral, 201).await;
    let (status, view) =
        get(format!("{cases}/{}?wait_for={}", opened["case_id"].as_str().unwrap(), opened["position"])).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["person_id"], opened["person_id"], "{view}");
    assert!(view["opened_at"].as_str().unwrap().starts_with(&received), "{view}");
    // Sent again: the same person and case, nothing written twice.
    let before = support::log_head(data.path()).await;
    let again = saved(url.clone(), &referral, 201).await;
    assert_eq!((&again["person_id"], &again["case_id"]), (&opened["person_id"], &opened["case_id"]));
    assert_eq!(support::log_head(data.path()).await, before, "a second sending writes nothing");
    // Details as the people service checks them.
    let no_forename = NewVictimReferralRequest {
        submission_id: None,
        person: api::person("", "Victim", "1987-04-23"),
        source: "police".into(),
        safe_contact: SafeContact::default(),
        safe_times: Vec::new(),
        domestic_abuse: false,
        enhanced_rights: false,
        offence_category: None,
        nationality: None,
        when: WhenRequest::default(),
    };
    let (status, wrong) = api::send(url, &no_forename).await;
    assert_eq!((status, wrong["error"]["code"].as_str()), (422, Some("name_required")), "{wrong}");
    server.stop();
}

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
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use support::{Server, day_offset, get, post, session};

/// The position of the last event in the embedded log (`events.db` in the installation's data folder).
async fn head(data: &std::path::Path) -> i64 {
    let url = format!("sqlite://{}?mode=ro", data.join("events.db").display());
    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events").fetch_one(&db).await.unwrap();
    db.close().await;
    head
}

/// Posts and expects it saved (`status`); the answer.
async fn saved(url: String, body: Value, status: u16) -> Value {
    let (answered, answer) = post(url.clone(), body).await;
    assert_eq!(answered, status, "{url}: {answer}");
    answer
}

/// Posts and expects 422 with `code`, and nothing written.
async fn refused_unwritten(data: &std::path::Path, url: String, body: Value, code: &str) {
    let before = head(data).await;
    let (status, answer) = post(url.clone(), body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some(code)), "{url}: {answer}");
    assert!(!answer["error"]["message"].as_str().unwrap_or_default().is_empty(), "{answer}");
    assert_eq!(head(data).await, before, "{url} refused with {code} wrote nothing");
}

async fn person(base: &str, forename: &str) -> String {
    let body = json!({"forename": forename, "surname": "Example", "date_of_birth": "1988-08-08"});
    let registered = saved(format!("{base}/api/people"), body, 201).await;
    registered["person_id"].as_str().unwrap().to_owned()
}

const HISTORY: &str = "caseload brought from the old system";

/// A case of 2019 typed in now, each refusal on the way, and what the case then shows.
async fn a_year_typed_in_late(base: &str, data: &std::path::Path) {
    let person_id = person(base, "Hope").await;
    let cases = format!("{base}/api/specialist/idva/cases");
    let referral = |when: Value| {
        let mut body = json!({"person_id": person_id, "source": "police", "domestic_abuse": true});
        body.as_object_mut().unwrap().extend(when.as_object().unwrap().clone());
        body
    };
    // Warm the session up, so that creating the caseworker's account is not counted as a write below.
    let (status, _) = get(cases.clone()).await;
    assert_eq!(status, 200);

    // Beyond the window without a reason; in the future.
    refused_unwritten(data, cases.clone(), referral(json!({"occurred_at": "2019-06-03"})), "late_entry_needs_reason")
        .await;
    let tomorrow = day_offset(2);
    refused_unwritten(data, cases.clone(), referral(json!({"occurred_at": tomorrow})), "occurred_in_future").await;
    let opened =
        saved(cases.clone(), referral(json!({"occurred_at": "2019-06-03", "late_reason": HISTORY})), 201).await;
    let case_id = opened["case_id"].as_str().unwrap().to_owned();
    let case = format!("{cases}/{case_id}");

    // Nothing on the case before it opened; then accepted the same afternoon, reached the next day.
    refused_unwritten(
        data,
        format!("{case}/accept"),
        json!({"occurred_at": "2019-06-01", "late_reason": HISTORY}),
        "occurred_before_record_began",
    )
    .await;
    saved(format!("{case}/accept"), json!({"occurred_at": "2019-06-03T15:00:00+01:00", "late_reason": HISTORY}), 200)
        .await;
    let attempt = json!({"channel": "phone", "attempted_at": "2019-06-04T10:00:00Z", "outcome": "reached"});
    refused_unwritten(data, format!("{case}/contact-attempts"), attempt.clone(), "late_entry_needs_reason").await;
    let mut with_reason = attempt;
    with_reason["late_reason"] = json!(HISTORY);
    saved(format!("{case}/contact-attempts"), with_reason, 200).await;
    let assessment = json!({"checklist": "professional", "level": "standard", "at_closure": true,
        "occurred_at": "2019-07-01", "late_reason": HISTORY});
    saved(format!("{case}/risk-assessments"), assessment, 200).await;

    // Not closed before the last thing that happened on it; then closed at the end of September.
    let answers = json!([{"measure": "abuse_ceased_or_reduced", "answer": "improved"},
        {"measure": "safer", "answer": "improved"}, {"measure": "cope", "answer": "no_change"},
        {"measure": "health_wellbeing", "answer": "not_asked"}]);
    let closure = |on: &str| json!({"reason": "support_completed", "answers": answers, "occurred_at": on, "late_reason": HISTORY});
    refused_unwritten(data, format!("{case}/closure"), closure("2019-06-20"), "closed_before_latest").await;
    let closed = saved(format!("{case}/closure"), closure("2019-09-30"), 200).await;

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
    let before = head(data).await;
    let refused = note("").await.unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    assert!(refused.text().await.unwrap().contains("say why it is being recorded late"));
    assert_eq!(head(data).await, before, "a refused form writes nothing");
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
    refused_unwritten(data.path(), cases.clone(), json!({"person_id": nobody, "source": "police"}), "person_unknown")
        .await;

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
    refused_unwritten(data.path(), cases.clone(), json!({"person_id": person_id, "source": "police"}), "person_erased")
        .await;

    // A victim not registered yet: registered and the case opened, dated when the referral was received.
    let submission = uuid::Uuid::new_v4().to_string();
    let received = day_offset(-3);
    let referral = json!({"submission_id": submission, "source": "police", "domestic_abuse": true,
        "person": {"forename": "New", "surname": "Victim", "date_of_birth": "23/04/1987"},
        "safe_contact": {"phone": "safe"}, "occurred_at": received});
    let url = format!("{base}/api/specialist/idva/new-victim-referrals");
    let opened = saved(url.clone(), referral.clone(), 201).await;
    let (status, view) =
        get(format!("{cases}/{}?wait_for={}", opened["case_id"].as_str().unwrap(), opened["position"])).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["person_id"], opened["person_id"], "{view}");
    assert!(view["opened_at"].as_str().unwrap().starts_with(&received), "{view}");
    // Sent again: the same person and case, nothing written twice.
    let before = head(data.path()).await;
    let again = saved(url.clone(), referral, 201).await;
    assert_eq!((&again["person_id"], &again["case_id"]), (&opened["person_id"], &opened["case_id"]));
    assert_eq!(head(data.path()).await, before, "a second sending writes nothing");
    // Details as the people service checks them.
    let (status, wrong) = post(
        url,
        json!({"source": "police", "person": {"forename": "", "surname": "Victim", "date_of_birth": "1987-04-23"}}),
    )
    .await;
    assert_eq!((status, wrong["error"]["code"].as_str()), (422, Some("name_required")), "{wrong}");
    server.stop();
}

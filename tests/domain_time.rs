//! Domain time end to end, through the real `casetrack` binary (one process, embedded backends): a service brings
//! a referral from 2019 with its history, every step dated when it happened; time that runs backwards is refused
//! by its rule (422, nothing written); a date beyond the back-dating window needs a reason, and the command that
//! gives one is flagged in the audit trail.

mod support;

use std::time::{Duration, Instant};

use casetrack_eventstore::testkit::TempDir;
use casetrack_hub::commands::allocate::AllocationRequest;
use casetrack_hub::commands::close::ClosureRequest;
use casetrack_hub::commands::contact::ContactAttemptRequest;
use casetrack_hub::commands::receive::ReceiveReferralRequest;
use casetrack_hub::commands::support::SessionRequest;
use casetrack_hub::commands::when::WhenRequest;
use casetrack_proto::contact::{AttemptOutcome, ContactChannel, OutcomeAnswer};
use casetrack_proto::hub::{ReferralSource, SessionMode};
use serde_json::Value;
use support::{Server, Session, api, day_offset, get, session};

const HISTORY: &str = "brought in from the previous case system";

/// When it happened, and why it is recorded late.
fn when(occurred_at: &str, late_reason: Option<&str>) -> WhenRequest {
    WhenRequest { occurred_at: Some(occurred_at.to_owned()), late_reason: late_reason.map(str::to_owned) }
}

/// A page (or CSV) as someone signed in: status and body.
async fn page(base: &str, path: &str, session: &Session) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("cookie", &session.cookie)
        .send()
        .await
        .expect("request");
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Asserts a refusal by a time rule: 422 with the rule's code.
fn assert_refused((status, body): &(u16, Value), code: &str) {
    assert_eq!((*status, body["error"]["code"].as_str()), (422, Some(code)), "{body}");
}

fn position(answer: &(u16, Value)) -> u64 {
    assert!(matches!(answer.0, 200 | 201), "{}", answer.1);
    answer.1["position"].as_u64().unwrap()
}

#[tokio::test]
async fn a_referral_from_2019_is_dated_as_it_happened_and_time_never_runs_backwards() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let hub = format!("{base}/api/hub/referrals");

    let registered = api::register_person(&base, &api::person("Hana", "History", "1980-01-02")).await;
    let person_id = registered.1["person_id"].as_str().unwrap().to_owned();
    let mut last = position(&registered);
    let receipt = |when: WhenRequest| ReceiveReferralRequest {
        crime_reference: Some("CR/2019/77".into()),
        crime_reported_on: Some(api::day("2019-05-06")),
        when,
        ..api::referral(&person_id, ReferralSource::PoliceFeed, false)
    };

    // Refused, each by its rule, and nothing written: the next write is the very next position of the log.
    assert_refused(&api::receive_referral(&base, &receipt(when("2019-05-07", None))).await, "late_entry_needs_reason");
    assert_refused(&api::receive_referral(&base, &receipt(when("7/5/2019", None))).await, "occurred_at_invalid");
    let tomorrow = format!("{}T12:00:00Z", day_offset(1));
    assert_refused(&api::receive_referral(&base, &receipt(when(&tomorrow, Some(HISTORY)))).await, "occurred_in_future");

    // Received on 7 May 2019 (a plain date: 12:00 UK time), with the reason it is recorded so late.
    let received = api::receive_referral(&base, &receipt(when("2019-05-07", Some(HISTORY)))).await;
    assert_eq!(received.0, 201, "{}", received.1);
    assert_eq!(position(&received), last + 1, "the refused receipts wrote nothing");
    last = position(&received);
    let referral_id = received.1["referral_id"].as_str().unwrap().to_owned();
    let at = format!("{hub}/{referral_id}");

    // A contact attempt before the referral existed is refused, even with a reason; so is one without a reason.
    let call = |attempted_at: &str, reason: Option<&str>| ContactAttemptRequest {
        channel: ContactChannel::Phone,
        attempted_at: api::at(attempted_at),
        outcome: AttemptOutcome::Reached,
        late_reason: reason.map(str::to_owned),
    };
    let before = api::record_attempt(&base, &referral_id, &call("2019-05-01T10:00:00+01:00", Some(HISTORY))).await;
    assert_refused(&before, "occurred_before_record_began");
    assert!(before.1["error"]["message"].as_str().unwrap().contains("7 May 2019"), "{}", before.1);
    assert_refused(
        &api::record_attempt(&base, &referral_id, &call("2019-05-08T10:00:00+01:00", None)).await,
        "late_entry_needs_reason",
    );
    let reached = api::record_attempt(&base, &referral_id, &call("2019-05-08T10:00:00+01:00", Some(HISTORY))).await;
    assert_eq!(position(&reached), last + 1, "the refused attempts wrote nothing");

    // Support accepted and a session held, in 2019.
    let accepted = api::accept_support(&base, &referral_id, &when("2019-05-08T10:30:00+01:00", Some(HISTORY))).await;
    position(&accepted);
    let held = SessionRequest {
        held_on: api::day("2019-05-20"),
        mode: SessionMode::Phone,
        minutes: 45,
        when: WhenRequest { occurred_at: None, late_reason: Some(HISTORY.into()) },
    };
    let session_held = api::record_session(&base, &referral_id, &held).await;
    position(&session_held);
    // Allocated today: a change of who handles it, not a fact of 2019, so the closure typed up below for 2019 may
    // still come after the last thing that happened.
    let officer = AllocationRequest { officer: "a.khan".into() };
    let allocated = api::send(api::allocation_url(&base, &referral_id), &officer).await;
    last = position(&allocated);

    // Closure: not before the last thing that happened on it, not in the future; then on 3 June 2019.
    let answers = [("cope", OutcomeAnswer::Improved), ("safer", OutcomeAnswer::NoChange)];
    let closure = |when: WhenRequest| ClosureRequest { answers: api::hub_answers(&answers), when };
    let early = api::close_referral(&base, &referral_id, &closure(when("2019-05-15", Some(HISTORY)))).await;
    assert_refused(&early, "closed_before_latest");
    assert!(early.1["error"]["message"].as_str().unwrap().contains("20 May 2019"), "{}", early.1);
    assert_refused(
        &api::close_referral(&base, &referral_id, &closure(when(&tomorrow, Some(HISTORY)))).await,
        "occurred_in_future",
    );
    let closed = api::close_referral(&base, &referral_id, &closure(when("2019-06-03", Some(HISTORY)))).await;
    assert_eq!(position(&closed), last + 1, "the refused closures wrote nothing");

    // The referral's detail and timeline are in 2019.
    let (status, view) = get(format!("{at}?wait_for={}", position(&closed))).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "closed");
    assert!(view["received_at"].as_str().unwrap().starts_with("2019-05-07T11:00:00"), "12:00 BST: {view}");
    assert_eq!(view["attempts"].as_array().unwrap().len(), 1, "{view}");
    assert!(view["attempts"][0]["attempted_at"].as_str().unwrap().starts_with("2019-05-08"), "{view}");
    let officer = session(&base, "hub_officer").await;
    let (status, timeline) = page(&base, &format!("/hub/referrals/{referral_id}"), &officer).await;
    assert_eq!(status, 200);
    for dated in ["7 May 2019, recorded", "8 May 2019, recorded", "20 May 2019, recorded", "3 June 2019, recorded"] {
        assert!(timeline.contains(dated), "the timeline shows {dated:?} days later");
    }

    // The late entries are flagged in the audit trail, with their reason.
    let auditor = session(&base, "auditor").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let export = loop {
        let (status, export) = page(&base, &format!("/audit/export.csv?person={person_id}"), &auditor).await;
        assert_eq!(status, 200);
        // The attempt, the acceptance, the session and the closure (the receipt names no record in its path).
        if export.matches(HISTORY).count() >= 4 {
            break export;
        }
        assert!(Instant::now() < deadline, "the late entries never reached the audit trail: {export}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let late: Vec<&str> = export.lines().filter(|line| line.contains(HISTORY)).collect();
    assert!(late.iter().all(|line| line.contains("days after it happened")), "{late:?}");
    assert!(late.iter().any(|line| line.contains("/contact-attempts")), "{late:?}");
    let (status, trail) = page(&base, &format!("/audit?person={person_id}"), &auditor).await;
    assert_eq!(status, 200);
    assert!(trail.contains("Late entry"), "the trail shows the flag");
    server.stop();
}

#[tokio::test]
async fn the_referral_page_asks_when_it_happened_and_names_the_rule_that_refused_it() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let registered = api::register_person(&base, &api::person("Pip", "Pages", "1990-03-04")).await;
    let person_id = registered.1["person_id"].as_str().unwrap();
    let received = api::receive_referral(
        &base,
        &ReceiveReferralRequest {
            when: when(&format!("{}T09:00:00Z", day_offset(-40)), Some(HISTORY)),
            ..api::referral(person_id, ReferralSource::PoliceFeed, false)
        },
    )
    .await;
    let referral_id = received.1["referral_id"].as_str().unwrap().to_owned();
    let officer = session(&base, "hub_officer").await;
    let path = format!("/hub/referrals/{referral_id}");
    let (status, shown) = page(&base, &path, &officer).await;
    assert_eq!(status, 200);
    for field in ["return-when-day", "return-when-month", "return-when-year", "return-when-time", "return-late-reason"]
    {
        assert!(shown.contains(&format!("id=\"{field}\"")), "the return form has {field}");
    }
    assert!(shown.contains("Needed only for a date more than 14 days ago"), "the reason's hint names the window");

    // Returned to the referrer 20 days ago without a reason: refused, the rule named in the error summary.
    let twenty_days_ago = day_offset(-20);
    let (year, month, day) = (&twenty_days_ago[..4], &twenty_days_ago[5..7], &twenty_days_ago[8..10]);
    let fields = |reason: &'static str| {
        vec![
            ("return-reason", "No safe number".to_owned()),
            ("return-when-day", day.to_owned()),
            ("return-when-month", month.to_owned()),
            ("return-when-year", year.to_owned()),
            ("return-late-reason", reason.to_owned()),
            ("csrf", officer.csrf.clone()),
        ]
    };
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let post_form = |fields: Vec<(&'static str, String)>| {
        client.post(format!("{base}{path}/return")).header("cookie", &officer.cookie).form(&fields).send()
    };
    let refused = post_form(fields("")).await.unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    let body = refused.text().await.unwrap();
    let summary = &body[body.find("govuk-error-summary").expect("an error summary")..];
    assert!(summary.contains("href=\"#return-late-reason\"") && summary.contains("say why it is being recorded late"));
    // With a reason: saved, and dated as typed.
    let saved = post_form(fields("Written up from the duty log")).await.unwrap();
    assert_eq!(saved.status().as_u16(), 303);
    let (_, shown) = page(&base, &path, &officer).await;
    assert!(shown.contains("Returned to the referrer") && shown.contains("(20 days later)"), "{shown}");
    server.stop();
}

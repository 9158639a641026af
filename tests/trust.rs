//! Regressions of what a hostile tester broke, end to end through the real `casetrack` binary (one process,
//! embedded backends): a hub referral for nobody, or for an erased person, is refused with its reason and writes
//! nothing (it was accepted, and every later command on it failed with 503 forever).
//!
//! (The others are tested where they live: audit entries under concurrency and sign-in limits in
//! `services/web/tests/`, redirects in `services/web/src/pages.rs`, break-glass areas and formula cells in
//! `tests/access.rs`, the police feed's lines in `services/hub/src/commands/police_feed.rs`, names in
//! `services/people/src/person.rs`, erasure in `tests/access.rs`, specialist cases in `tests/specialist_time.rs`.)

mod support;

use casetrack_eventstore::testkit::TempDir;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use support::{Server, post, session};

/// Posts and expects 422 with `code`, and nothing written.
async fn refused_unwritten(data: &std::path::Path, url: &str, body: Value, code: &str) {
    let before = support::log_head(data).await;
    let (status, answer) = post(url.to_owned(), body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some(code)), "{answer}");
    assert!(!answer["error"]["message"].as_str().unwrap_or_default().is_empty(), "{answer}");
    assert_eq!(support::log_head(data).await, before, "refused with {code}, it wrote nothing");
}

#[tokio::test]
async fn a_referral_is_only_for_someone_registered_and_not_erased() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let referrals = format!("{base}/api/hub/referrals");
    let referral = |person_id: &str| json!({"person_id": person_id, "source": "police_feed", "domestic_abuse": false});

    let nobody = uuid::Uuid::new_v4().to_string();
    refused_unwritten(data.path(), &referrals, referral(&nobody), "person_unknown").await;

    let (status, person) = post(
        format!("{base}/api/people"),
        json!({"forename": "Gone", "surname": "Example", "date_of_birth": "1988-08-08"}),
    )
    .await;
    assert_eq!(status, 201, "{person}");
    let person_id = person["person_id"].as_str().unwrap().to_owned();
    let (status, received) = post(referrals.clone(), referral(&person_id)).await;
    assert_eq!(status, 201, "a registered person's referral is received: {received}");

    let manager = session(&base, "hub_manager").await;
    let erased = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .post(format!("{base}/people/{person_id}/erasure"))
        .header("cookie", &manager.cookie)
        .form(&[("reason", "request"), ("confirm", "ERASE"), ("csrf", manager.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status().as_u16(), 303, "the person is erased");
    refused_unwritten(data.path(), &referrals, referral(&person_id), "person_erased").await;
    server.stop();
}

//! The idempotent API, end to end through the real `casetrack` binary (embedded backends): a client whose answer
//! was lost sends the same command again with the same `Idempotency-Key`, even after the server was killed and
//! started again, and gets the same record back while nothing is written twice. The same key from another user is
//! another request.

mod support;

use casetrack_eventstore::testkit::TempDir;
use serde_json::{Value, json};
use support::{Server, Session, session};

/// Posts `body` as the user of `session` with `key` as its idempotency key.
async fn send(base: &str, session: &Session, path: &str, key: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("request");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_command_sent_again_after_a_kill_writes_nothing_twice() {
    let data = TempDir::new();
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    // Sessions live in the database: they outlive the process.
    let (officer, manager) = (session(&base, "hub_officer").await, session(&base, "hub_manager").await);
    let person = json!({"forename": "Ida", "surname": "Empotent", "date_of_birth": "1984-04-04"});
    let (status, registered) = send(&base, &officer, "/api/people", "register-ida-1", &person).await;
    assert_eq!(status, 201, "{registered}");
    let person_id = registered["person_id"].as_str().unwrap().to_owned();
    let referral = json!({"person_id": person_id, "source": "police_feed", "domestic_abuse": false});
    let (status, received) = send(&base, &officer, "/api/hub/referrals", "receive-ida-1", &referral).await;
    assert_eq!(status, 201, "{received}");
    let referral_id = received["referral_id"].as_str().unwrap().to_owned();
    let attempt = json!({"channel": "phone", "attempted_at": chrono::Utc::now(), "outcome": "no_answer"});
    let attempts = format!("/api/hub/referrals/{referral_id}/contact-attempts");
    let (status, answer) = send(&base, &officer, &attempts, "attempt-ida-1", &attempt).await;
    assert_eq!(status, 200, "{answer}");
    let written = support::log_head(data.path()).await;

    // The server dies (SIGKILL) after committing; the client never knew, and sends everything again.
    drop(server);
    let server = Server::start("all", data.path(), &[]).await;
    let base = server.base.clone();
    let (status, again) = send(&base, &officer, "/api/people", "register-ida-1", &person).await;
    assert_eq!((status, again["person_id"].as_str()), (201, Some(person_id.as_str())), "{again}");
    let (status, again) = send(&base, &officer, "/api/hub/referrals", "receive-ida-1", &referral).await;
    assert_eq!((status, again["referral_id"].as_str()), (201, Some(referral_id.as_str())), "{again}");
    let (status, again) = send(&base, &officer, &attempts, "attempt-ida-1", &attempt).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(support::log_head(data.path()).await, written, "nothing was written twice");

    // A new key is a new command; the same key from another user is another request.
    let (status, _) = send(&base, &officer, &attempts, "attempt-ida-2", &attempt).await;
    assert_eq!(status, 200);
    assert_eq!(support::log_head(data.path()).await, written + 1, "a new key writes");
    let (status, other) = send(&base, &manager, "/api/people", "register-ida-1", &person).await;
    assert_eq!(status, 201, "{other}");
    assert_ne!(other["person_id"].as_str(), Some(person_id.as_str()), "another user's key names another request");

    // A key that is not plain text is refused, and writes nothing.
    let before = support::log_head(data.path()).await;
    let (status, refused) = send(&base, &officer, "/api/people", &"k".repeat(300), &person).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("idempotency_key_invalid")), "{refused}");
    assert_eq!(support::log_head(data.path()).await, before);
    server.stop();
}

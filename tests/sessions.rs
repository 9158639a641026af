//! Sessions across processes (issue 27's session cache): a process answers a session it checked within the last
//! second from memory, and still signing out or disabling an account on one process ends the session on every
//! other at once, on the split topology (JetStream + PostgreSQL, one process serving access, another the hub).

mod support;

use casetrack_eventstore::testkit::TempDir;
use support::{Server, Session, create_account, sign_in, split_backends};

/// The status of the hub's queue asked for with `session` on `hub`.
async fn queue_status(hub: &str, session: &Session) -> u16 {
    reqwest::Client::new()
        .get(format!("{hub}/api/hub/queues/new-referrals"))
        .header("cookie", &session.cookie)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn signing_out_or_disabling_on_one_process_ends_the_session_on_every_other_at_once() {
    let (_stream, env) = split_backends().await;
    let (access_dir, hub_dir) = (TempDir::new(), TempDir::new());
    let access = Server::start("access,people", access_dir.path(), &env).await;
    let hub = Server::start("hub", hub_dir.path(), &env).await;
    create_account(&access.base, "s.out", "Sam Out", "hub_officer", Some("a long enough password")).await;
    let officer = sign_in(&access.base, "s.out", "a long enough password").await.unwrap();
    // The hub's process now holds the session in its cache.
    for _ in 0..3 {
        assert_eq!(queue_status(&hub.base, &officer).await, 200);
    }
    let out = reqwest::Client::new()
        .post(format!("{}/api/session/end", access.base))
        .header("cookie", &officer.cookie)
        .header("x-csrf-token", &officer.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    assert_eq!(queue_status(&hub.base, &officer).await, 401, "signed out on the access process, out on the hub's");

    let created =
        create_account(&access.base, "s.leaver", "Sam Leaver", "hub_officer", Some("another long password")).await;
    let leaver = sign_in(&access.base, "s.leaver", "another long password").await.unwrap();
    assert_eq!(queue_status(&hub.base, &leaver).await, 200);
    let admin = support::session(&access.base, "administrator").await;
    let disabled = reqwest::Client::new()
        .post(format!("{}/admin/accounts/{}/disable", access.base, created["account_id"].as_str().unwrap()))
        .header("cookie", &admin.cookie)
        .form(&[("csrf", admin.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(disabled.status().is_success() || disabled.status().is_redirection(), "{}", disabled.status());
    assert_eq!(queue_status(&hub.base, &leaver).await, 401, "disabled on the access process, out on the hub's");
}

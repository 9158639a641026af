//! The session cache (issue 27): a session checked within `CACHE_FOR` is answered from memory, and still nothing
//! that ends a session or disables its account is answered before every process's cache has let go of it.
//! (Across real processes: `tests/sessions.rs`.)

use std::time::{Duration, Instant};

use casetrack_eventstore::db::ReadDb;
use casetrack_eventstore::testkit::{TempDir, fresh_postgres, fresh_sqlite};
use casetrack_proto::{Role, StaffName, UserId};
use casetrack_web::accounts::{NewAccount, SessionPolicy, create_account, set_disabled, set_password};
use casetrack_web::sessions::{CACHE_FOR, end_session, resume_session, start_session};

const POLICY: SessionPolicy = SessionPolicy { idle: Duration::from_secs(1800), absolute: Duration::from_secs(36_000) };

async fn account(db: &ReadDb, username: &str) -> UserId {
    create_account(
        db,
        NewAccount {
            username: StaffName::parse(username).unwrap(),
            display_name: "Jo Smith".into(),
            role: Role::HubOfficer,
            password: Some("a long enough password".into()),
            must_change_password: false,
        },
    )
    .await
    .expect("the account is created")
    .account_id
}

async fn a_deleted_session_is_held_no_longer_than_the_cache_allows(db: ReadDb) {
    let user = account(&db, "cached.officer").await;
    let session = start_session(&db, user).await.unwrap();
    assert!(resume_session(&db, &session.token, POLICY).await.unwrap().is_some());
    // Another process ends the session behind this one's back (a bare delete, without waiting): this process may
    // answer from its cache for at most CACHE_FOR, and that bound is what `end_session`'s wait relies on.
    sqlx::query("DELETE FROM sessions").execute(db.pool()).await.unwrap();
    tokio::time::sleep(CACHE_FOR + Duration::from_millis(50)).await;
    assert!(resume_session(&db, &session.token, POLICY).await.unwrap().is_none(), "asked the database again");
}

async fn signing_out_and_disabling_end_sessions_at_once(db: ReadDb) {
    let user = account(&db, "leaving.officer").await;
    let first = start_session(&db, user).await.unwrap();
    let second = start_session(&db, user).await.unwrap();
    for session in [&first, &second] {
        assert!(resume_session(&db, &session.token, POLICY).await.unwrap().is_some(), "cached now");
    }
    // Signing out answers only after every cache has let go: the very next request is refused.
    let started = Instant::now();
    end_session(&db, &first.token).await.unwrap();
    assert!(started.elapsed() >= CACHE_FOR, "sign-out waited out the caches of other processes");
    assert!(resume_session(&db, &first.token, POLICY).await.unwrap().is_none(), "signed out at once");
    assert!(resume_session(&db, &second.token, POLICY).await.unwrap().is_some(), "the other session lives on");

    let started = Instant::now();
    set_disabled(&db, user, true).await.unwrap();
    assert!(started.elapsed() >= CACHE_FOR, "disabling waited out the caches of other processes");
    assert!(resume_session(&db, &second.token, POLICY).await.unwrap().is_none(), "disabled at once");

    // A password reset by an administrator ends every session too.
    set_disabled(&db, user, false).await.unwrap();
    let third = start_session(&db, user).await.unwrap();
    assert!(resume_session(&db, &third.token, POLICY).await.unwrap().is_some());
    set_password(&db, user, "another long password", true).await.unwrap();
    assert!(resume_session(&db, &third.token, POLICY).await.unwrap().is_none(), "reset at once");
}

#[tokio::test]
async fn postgres_a_deleted_session_is_held_no_longer_than_the_cache_allows() {
    a_deleted_session_is_held_no_longer_than_the_cache_allows(fresh_postgres().await).await;
}

#[tokio::test]
async fn sqlite_a_deleted_session_is_held_no_longer_than_the_cache_allows() {
    let dir = TempDir::new();
    a_deleted_session_is_held_no_longer_than_the_cache_allows(fresh_sqlite(dir.path()).await).await;
}

#[tokio::test]
async fn postgres_signing_out_and_disabling_end_sessions_at_once() {
    signing_out_and_disabling_end_sessions_at_once(fresh_postgres().await).await;
}

#[tokio::test]
async fn sqlite_signing_out_and_disabling_end_sessions_at_once() {
    let dir = TempDir::new();
    signing_out_and_disabling_end_sessions_at_once(fresh_sqlite(dir.path()).await).await;
}

//! Sign-in limits and session idling against the real databases.
//!
//! Limits hold however many guesses arrive at once (they were once counted before the slow password check and
//! written after it, so 64 parallel guesses were all checked); an active session does not idle out however short
//! the idle limit (its last request was once written only once a minute).

use std::time::Duration;

use casetrack_eventstore::db::ReadDb;
use casetrack_eventstore::testkit::{TempDir, fresh_postgres, fresh_sqlite};
use casetrack_proto::{Role, StaffName};
use casetrack_web::accounts::{
    AccountError, AccountFailure, FAILURES_PER_ACCOUNT, FAILURES_PER_ADDRESS, NewAccount, SessionPolicy, authenticate,
    create_account,
};
use casetrack_web::sessions::{resume_session, start_session};

async fn account(db: &ReadDb, username: &str) {
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
    .expect("the account is created");
}

/// Sends `guesses` wrong passwords at once, spread over `usernames`, from one address; counts those whose password
/// was checked (refused as wrong, not as too many).
async fn checked_of_parallel_guesses(db: &ReadDb, usernames: &[String], guesses: usize) -> i64 {
    let tasks: Vec<_> = (0..guesses)
        .map(|n| {
            let (db, username) = (db.clone(), usernames[n % usernames.len()].clone());
            tokio::spawn(async move { authenticate(&db, &username, "a wrong guess", "203.0.113.9").await })
        })
        .collect();
    let mut checked = 0;
    for task in tasks {
        match task.await.expect("no task panics") {
            Err(AccountFailure::Refused(AccountError::WrongCredentials)) => checked += 1,
            Err(AccountFailure::Refused(AccountError::TooManyAttempts)) => {}
            other => panic!("a wrong guess is refused, got {other:?}"),
        }
    }
    checked
}

async fn limits_hold_in_parallel(db: ReadDb) {
    account(&db, "one.account").await;
    let checked = checked_of_parallel_guesses(&db, &["one.account".into()], 40).await;
    assert_eq!(checked, FAILURES_PER_ACCOUNT, "40 guesses at once on one account");

    let usernames: Vec<String> = (0..8).map(|n| format!("officer.{n}")).collect();
    for username in &usernames {
        account(&db, username).await;
    }
    // The address has 5 failures already (the guesses above).
    let checked = checked_of_parallel_guesses(&db, &usernames, 64).await;
    assert_eq!(checked, FAILURES_PER_ADDRESS - FAILURES_PER_ACCOUNT, "64 guesses at once on 8 accounts, one address");
}

async fn an_active_session_does_not_idle_out(db: ReadDb) {
    account(&db, "busy.officer").await;
    let signed_in = authenticate(&db, "busy.officer", "a long enough password", "203.0.113.10").await.unwrap();
    let session = start_session(&db, signed_in.account_id).await.unwrap();
    let policy = SessionPolicy { idle: Duration::from_secs(3), absolute: Duration::from_secs(3600) };
    // A request every two seconds, each within the three-second idle limit of the one before.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(resume_session(&db, &session.token, policy).await.unwrap().is_some(), "still signed in");
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(resume_session(&db, &session.token, policy).await.unwrap().is_none(), "idled out after 4 s unused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_limits_hold_in_parallel() {
    limits_hold_in_parallel(fresh_postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_limits_hold_in_parallel() {
    let dir = TempDir::new();
    limits_hold_in_parallel(fresh_sqlite(dir.path()).await).await;
}

#[tokio::test]
async fn postgres_an_active_session_does_not_idle_out() {
    an_active_session_does_not_idle_out(fresh_postgres().await).await;
}

#[tokio::test]
async fn sqlite_an_active_session_does_not_idle_out() {
    let dir = TempDir::new();
    an_active_session_does_not_idle_out(fresh_sqlite(dir.path()).await).await;
}

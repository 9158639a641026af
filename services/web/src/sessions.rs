//! Server-side sessions: started at sign-in (the cookie holds a token that is stored only hashed), resumed on
//! every request while neither the idle nor the absolute limit has passed, ended at sign-out, swept when stale.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use casetrack_eventstore::db::ReadDb;
use casetrack_proto::UserId;
use sqlx::Row as _;

use crate::account::{
    ACCOUNT_COLUMNS, Account, FAILURE_WINDOW, SessionPolicy, account_from_row, now_seconds, random_token, token_hash,
};

/// A new session's secrets: the cookie's token (shown once, stored only hashed) and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

/// Starts a session for a signed-in account.
pub async fn start_session(db: &ReadDb, account_id: UserId) -> sqlx::Result<NewSession> {
    let session = NewSession { token: random_token(), csrf: random_token() };
    let now = now_seconds();
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, last_seen) VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(token_hash(&session.token))
    .bind(account_id.0.to_string())
    .bind(&session.csrf)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(session)
}

/// How long a session found live in the database is taken as live again without asking the database: a person's
/// requests come in bursts (a page and its redirect, a form's submit), and a database round trip per request was
/// the largest single cost of a command over HTTP (issue 27).
///
/// Correctness does not rest on the cache's short life alone. Everything that ends a session or changes its account
/// ([`end_session`], and the accounts' password reset and disabling through [`account_changed`]) first deletes or
/// changes the rows, then waits out `CACHE_FOR` before it answers: by the time anyone is told "signed out" or
/// "disabled", no process anywhere still holds an entry checked before the change, so the next request on any
/// process asks the database and is refused.
pub const CACHE_FOR: Duration = Duration::from_secs(1);

/// A session found live, and when.
#[derive(Clone)]
struct Cached {
    account: Account,
    csrf: String,
    created: i64,
    last_seen: i64,
    checked: Instant,
}

/// Live sessions checked within [`CACHE_FOR`], by token hash. (Per process: every process asks the database at
/// least once a second per session in use.)
static CACHE: LazyLock<Mutex<HashMap<String, Cached>>> = LazyLock::new(Default::default);

/// Past this many entries, stale ones are dropped when a new one is stored.
const CACHE_TIDY_AT: usize = 4096;

fn cached(hash: &str, policy: SessionPolicy) -> Option<(Account, String)> {
    let cache = CACHE.lock().expect("not poisoned");
    let entry = cache.get(hash)?;
    let now = now_seconds();
    let expired =
        now - entry.last_seen > policy.idle.as_secs() as i64 || now - entry.created > policy.absolute.as_secs() as i64;
    (entry.checked.elapsed() < CACHE_FOR && !expired).then(|| (entry.account.clone(), entry.csrf.clone()))
}

fn remember(hash: String, entry: Cached) {
    let mut cache = CACHE.lock().expect("not poisoned");
    if cache.len() >= CACHE_TIDY_AT {
        cache.retain(|_, entry| entry.checked.elapsed() < CACHE_FOR);
    }
    cache.insert(hash, entry);
}

/// Waits until no process holds a session entry checked before now: called after a session was ended or its
/// account changed, before saying so (see [`CACHE_FOR`]). This process's own entries go at once.
async fn outwait_caches(forget: impl Fn(&Cached) -> bool) {
    CACHE.lock().expect("not poisoned").retain(|_, entry| !forget(entry));
    // A little over the cache's life, for clocks that tick coarsely.
    tokio::time::sleep(CACHE_FOR + Duration::from_millis(20)).await;
}

/// Called after an account's sessions were ended or the account changed (disabled, password reset): waits until no
/// process can still take one of its sessions as live from its cache.
pub async fn account_changed(account_id: UserId) {
    outwait_caches(|entry| entry.account.account_id == account_id).await;
}

/// The account behind a session token, with the session's CSRF token, if the session is live: not idle past the
/// limit, not older than the absolute limit, and its account not disabled. A live session's idle clock restarts
/// (written at most once a minute, and often enough for any idle limit). A session checked within [`CACHE_FOR`] is
/// answered from this process's memory.
pub async fn resume_session(
    db: &ReadDb,
    token: &str,
    policy: SessionPolicy,
) -> sqlx::Result<Option<(Account, String)>> {
    let hash = token_hash(token);
    if let Some(found) = cached(&hash, policy) {
        return Ok(Some(found));
    }
    let checked = Instant::now();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT s.csrf_token, s.created_at, s.last_seen, {} FROM sessions s JOIN accounts a ON a.account_id = \
         s.account_id WHERE s.token_hash = $1",
        ACCOUNT_COLUMNS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ")
    )))
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let now = now_seconds();
    let created: i64 = row.get("created_at");
    let last_seen: i64 = row.get("last_seen");
    let expired = now - last_seen > policy.idle.as_secs() as i64 || now - created > policy.absolute.as_secs() as i64;
    let account = account_from_row(&row).map(|(account, _)| account);
    match account {
        Some(account) if !expired && !account.disabled => {
            // Written at most once a minute, and at least ten times within the idle limit, so that a session in
            // use never idles out between two writes however short the limit is.
            let refresh_after = (policy.idle.as_secs() as i64 / 10).min(60);
            if now - last_seen >= refresh_after {
                sqlx::query("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2")
                    .bind(now)
                    .bind(&hash)
                    .execute(db.pool())
                    .await?;
            }
            let csrf: String = row.get("csrf_token");
            let last_seen = if now - last_seen >= refresh_after { now } else { last_seen };
            let entry = Cached { account: account.clone(), csrf: csrf.clone(), created, last_seen, checked };
            remember(hash, entry);
            Ok(Some((account, csrf)))
        }
        _ => {
            // Not live: nobody holds it in a cache (only live sessions are cached), so no waiting.
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(&hash).execute(db.pool()).await?;
            Ok(None)
        }
    }
}

/// Ends a session (signing out). It returns once no process takes the session as live any more ([`CACHE_FOR`]).
pub async fn end_session(db: &ReadDb, token: &str) -> sqlx::Result<()> {
    let hash = token_hash(token);
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(&hash).execute(db.pool()).await?;
    CACHE.lock().expect("not poisoned").remove(&hash);
    tokio::time::sleep(CACHE_FOR + Duration::from_millis(20)).await;
    Ok(())
}

/// Deletes expired sessions and old sign-in failures (housekeeping; expired sessions are refused anyway).
pub async fn sweep(db: &ReadDb, policy: SessionPolicy) -> sqlx::Result<()> {
    let now = now_seconds();
    sqlx::query("DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2")
        .bind(now - policy.idle.as_secs() as i64)
        .bind(now - policy.absolute.as_secs() as i64)
        .execute(db.pool())
        .await?;
    sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
        .bind(now - FAILURE_WINDOW.as_secs() as i64)
        .execute(db.pool())
        .await?;
    Ok(())
}

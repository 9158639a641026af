//! Server-side sessions: started at sign-in (the cookie holds a token that is stored only hashed), resumed on
//! every request while neither the idle nor the absolute limit has passed, ended at sign-out, swept when stale.

use casetrack_eventstore::db::ReadDb;
use casetrack_proto::UserId;
use sqlx::Row as _;

use crate::accounts::{
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

/// The account behind a session token, with the session's CSRF token, if the session is live: not idle past the
/// limit, not older than the absolute limit, and its account not disabled. A live session's idle clock restarts
/// (written at most once a minute, and often enough for any idle limit).
pub async fn resume_session(
    db: &ReadDb,
    token: &str,
    policy: SessionPolicy,
) -> sqlx::Result<Option<(Account, String)>> {
    let hash = token_hash(token);
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
            Ok(Some((account, row.get("csrf_token"))))
        }
        _ => {
            end_session(db, token).await?;
            Ok(None)
        }
    }
}

/// Ends a session (signing out).
pub async fn end_session(db: &ReadDb, token: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(db.pool()).await?;
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

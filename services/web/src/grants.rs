//! Break-glass grants: a user who works cases opens a record outside their scope for a short time, giving a
//! reason; the grant is listed for the manager of the area the record belongs to.

use std::time::Duration;

use casetrack_eventstore::db::ReadDb;
use casetrack_proto::UserId;
use sqlx::Row as _;

use crate::accounts::{Account, AccountError, AccountResult, now_seconds};

/// A break-glass grant: `account` may open `record` (of `area`: hub or a service code) until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub username: String,
    pub area: String,
    pub record_id: String,
    pub reason: String,
    pub granted_at: i64,
    pub expires_at: i64,
}

/// Records a break-glass grant for `ttl`.
pub async fn grant_break_glass(
    db: &ReadDb,
    account: &Account,
    area: &str,
    record_id: &str,
    reason: &str,
    ttl: Duration,
) -> AccountResult<()> {
    let reason = reason.trim();
    if reason.chars().count() < 10 || reason.chars().count() > 500 {
        return Err(AccountError::Invalid(
            "Say why you need to open this record (10 to 500 characters). Your reason is recorded and shown to the \
             service's manager."
                .into(),
        ))?;
    }
    let now = now_seconds();
    sqlx::query(
        "INSERT INTO break_glass (grant_id, account_id, username, area, record_id, reason, granted_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(account.account_id.0.to_string())
    .bind(account.username.as_str())
    .bind(area)
    .bind(record_id)
    .bind(reason)
    .bind(now)
    .bind(now + ttl.as_secs() as i64)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The reason of a live grant for this account and record, if there is one.
pub async fn live_grant(db: &ReadDb, account_id: UserId, record_id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT reason FROM break_glass WHERE account_id = $1 AND record_id = $2 AND expires_at > $3 \
         ORDER BY granted_at DESC LIMIT 1",
    )
    .bind(account_id.0.to_string())
    .bind(record_id)
    .bind(now_seconds())
    .fetch_optional(db.pool())
    .await
}

/// Every grant on an area's records, newest first (the service manager's list).
pub async fn grants_for(db: &ReadDb, area: &str) -> sqlx::Result<Vec<Grant>> {
    let rows = sqlx::query(
        "SELECT username, area, record_id, reason, granted_at, expires_at FROM break_glass WHERE area = $1 \
         ORDER BY granted_at DESC LIMIT 500",
    )
    .bind(area)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|row| Grant {
            username: row.get("username"),
            area: row.get("area"),
            record_id: row.get("record_id"),
            reason: row.get("reason"),
            granted_at: row.get("granted_at"),
            expires_at: row.get("expires_at"),
        })
        .collect())
}

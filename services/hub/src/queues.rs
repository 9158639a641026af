//! Hub officers' work queues, read from the `hub.referrals` read model.
//!
//! - awaiting contact: referrals nobody has reached yet, enhanced-rights cases first, then oldest first; each with
//!   the times of day already tried, the one to try next, and the Victims' Code deadline for the first attempt
//!   (2 working days from the crime report, or from receipt when there is no police report).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use casetrack_platform::http::{ApiError, ErrorBody, wait_for};
use casetrack_proto::contact::{AttemptOutcome, TimeBand};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};

use crate::api::Hub;
use crate::clock::{FIRST_CONTACT_WORKING_DAYS, working_days_after};
use crate::referrals::code;

pub const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, IntoParams)]
pub struct QueueParams {
    /// 1 for the first page.
    pub page: Option<u32>,
    /// Wait (up to 5 s) until the queue includes this log position.
    pub wait_for: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct AwaitingContactQueue {
    pub page: u32,
    pub more: bool,
    pub items: Vec<AwaitingContactItem>,
}

#[derive(Serialize, ToSchema)]
pub struct AwaitingContactItem {
    pub referral_id: String,
    pub received_at: String,
    pub enhanced_rights: bool,
    pub domestic_abuse: bool,
    pub attempts: i64,
    /// Times of day already tried without reaching the victim.
    pub bands_tried: Vec<String>,
    /// A time of day not yet tried, to try next (none once all three are covered).
    pub suggested_band: Option<String>,
    /// Victims' Code: the first attempt is due by the end of this day.
    pub first_attempt_due: String,
    /// No attempt yet and the due day has passed.
    pub overdue: bool,
}

/// Referrals awaiting contact, enhanced rights first, then oldest first.
#[utoipa::path(get, path = "/api/hub/queues/awaiting-contact", params(QueueParams),
    responses((status = 200, body = AwaitingContactQueue), (status = 503, body = ErrorBody)))]
pub async fn awaiting_contact(
    State(hub): State<Hub>,
    Query(params): Query<QueueParams>,
) -> Result<Json<AwaitingContactQueue>, ApiError> {
    let ctx = hub.context();
    wait_for(ctx, "hub.referrals", params.wait_for).await?;
    let page = params.page.unwrap_or(1).max(1);
    let rows = sqlx::query(
        "SELECT referral_id, received_at, crime_reported_on, enhanced_rights, domestic_abuse, attempts FROM hub_referrals \
         WHERE status = 'awaiting_contact' ORDER BY enhanced_rights DESC, received_at, referral_id LIMIT $1 OFFSET $2",
    )
    .bind(PAGE_SIZE + 1)
    .bind(i64::from(page - 1) * PAGE_SIZE)
    .fetch_all(ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?;
    let more = rows.len() as i64 > PAGE_SIZE;
    let rows = &rows[..rows.len().min(PAGE_SIZE as usize)];
    let ids: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let mut tried: HashMap<String, Vec<(TimeBand, AttemptOutcome)>> = HashMap::new();
    if !ids.is_empty() {
        let sql = format!(
            "SELECT referral_id, time_band, outcome FROM hub_contact_attempts WHERE referral_id IN ({})",
            casetrack_platform::db::placeholder_list(1, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            query = query.bind(id.clone());
        }
        for row in query.fetch_all(ctx.db.pool()).await.map_err(ApiError::unavailable)? {
            let band: String = row.get(1);
            let outcome: String = row.get(2);
            let (Ok(band), Ok(outcome)) = (
                serde_json::from_value::<TimeBand>(serde_json::Value::String(band)),
                serde_json::from_value::<AttemptOutcome>(serde_json::Value::String(outcome)),
            ) else {
                continue;
            };
            tried.entry(row.get(0)).or_default().push((band, outcome));
        }
    }
    let rule = hub.settings().attempt_rule;
    let today = chrono::Utc::now().date_naive();
    let items = rows
        .iter()
        .map(|row| {
            let referral_id: String = row.get(0);
            let received_at: String = row.get(1);
            let reported: Option<String> = row.get(2);
            let attempts: i64 = row.get(5);
            let tally = rule.tally(tried.get(&referral_id).map(Vec::as_slice).unwrap_or_default());
            let start = reported
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .or_else(|| received_at.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()))
                .unwrap_or(today);
            let due = working_days_after(start, FIRST_CONTACT_WORKING_DAYS);
            AwaitingContactItem {
                referral_id,
                received_at,
                enhanced_rights: row.get::<i64, _>(3) != 0,
                domestic_abuse: row.get::<i64, _>(4) != 0,
                attempts,
                bands_tried: tally.bands.iter().copied().map(|band| code(&band)).collect(),
                suggested_band: rule.next_band(&tally).map(|band| code(&band)),
                first_attempt_due: due.to_string(),
                overdue: attempts == 0 && today > due,
            }
        })
        .collect();
    Ok(Json(AwaitingContactQueue { page, more, items }))
}

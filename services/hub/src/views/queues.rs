//! Hub officers' work queues, read from the `hub.referrals` read model; the JSON api and the pages share them. Each
//! is paged and filterable (officer, domestic abuse, enhanced rights, repeat victim, source):
//!
//! - `new-referrals`: nobody has tried to reach the victim yet; enhanced-rights cases first, then oldest first;
//! - `next-attempt`: tried but not yet reached; with the times of day already tried and one to try next;
//! - `victims-code`: no attempt yet, ordered by the Victims' Code deadline for the first attempt (2 working days
//!   from the crime report, or from receipt when there is no police report), enhanced rights first; overdue marked;
//! - `open-cases`: every referral still open, by officer (`officer=unallocated` for the ones nobody holds).

use std::collections::HashMap;

use casetrack_eventstore::codes::code;
use casetrack_proto::contact::{AttemptOutcome, TimeBand};
use casetrack_web::http::{ApiError, wait_for};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};

use crate::state::Hub;

pub const PAGE_SIZE: i64 = 50;

/// Which queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueKind {
    NewReferrals,
    NextAttempt,
    VictimsCode,
    OpenCases,
}

impl QueueKind {
    pub const ALL: [QueueKind; 4] = [Self::NewReferrals, Self::NextAttempt, Self::VictimsCode, Self::OpenCases];

    pub fn slug(self) -> &'static str {
        match self {
            Self::NewReferrals => "new-referrals",
            Self::NextAttempt => "next-attempt",
            Self::VictimsCode => "victims-code",
            Self::OpenCases => "open-cases",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::NewReferrals => "New referrals",
            Self::NextAttempt => "Next attempt due",
            Self::VictimsCode => "Victims' Code clock",
            Self::OpenCases => "Open cases by officer",
        }
    }

    pub fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.slug() == slug)
    }

    fn condition(self) -> &'static str {
        match self {
            Self::NewReferrals => "status = 'awaiting_contact' AND attempts = 0",
            Self::NextAttempt => "status = 'awaiting_contact' AND attempts > 0",
            Self::VictimsCode => "status = 'awaiting_contact' AND first_attempt_at IS NULL",
            Self::OpenCases => "status IN ('awaiting_contact', 'contacted', 'supported')",
        }
    }

    fn order(self) -> &'static str {
        match self {
            Self::NewReferrals | Self::NextAttempt => "enhanced_rights DESC, received_at, referral_id",
            Self::VictimsCode => "enhanced_rights DESC, first_attempt_due, received_at, referral_id",
            Self::OpenCases => "officer, received_at, referral_id",
        }
    }
}

/// Filters every queue takes. Blank values (as a page's form sends them) mean "any".
#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
pub struct QueueFilter {
    /// 1 for the first page.
    pub page: Option<u32>,
    /// An officer's user name, or `unallocated`.
    pub officer: Option<String>,
    /// `yes` or `no`.
    pub domestic_abuse: Option<String>,
    /// `yes` or `no`.
    pub enhanced_rights: Option<String>,
    /// `yes` or `no`.
    pub repeat_victim: Option<String>,
    /// police_feed, self_referral or partner.
    pub source: Option<String>,
    /// Wait (up to 5 s) until the queue includes this log position.
    pub wait_for: Option<u64>,
}

fn yes_no(value: &Option<String>, field: &str) -> Result<Option<bool>, ApiError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("yes") => Ok(Some(true)),
        Some("no") => Ok(Some(false)),
        Some(_) => Err(ApiError::bad_request(format!("{field} is yes or no"))),
    }
}

#[derive(Serialize, ToSchema)]
pub struct Queue {
    pub queue: String,
    pub page: u32,
    pub more: bool,
    pub items: Vec<QueueItem>,
}

#[derive(Serialize, ToSchema)]
pub struct QueueItem {
    pub referral_id: String,
    pub received_at: String,
    pub source: String,
    pub offence_category: Option<String>,
    pub crime_reference: Option<String>,
    pub status: String,
    pub officer: Option<String>,
    pub enhanced_rights: bool,
    pub domestic_abuse: bool,
    pub repeat_victim: bool,
    pub attempts: i64,
    /// Times of day already tried without reaching the victim.
    pub bands_tried: Vec<String>,
    /// A time of day not yet tried, to try next (none once the rule's bands are covered or the victim was reached).
    pub suggested_band: Option<String>,
    /// Victims' Code: the first attempt is due by the end of this day.
    pub first_attempt_due: Option<String>,
    /// No attempt yet and the due day has passed.
    pub overdue: bool,
}

/// Reads one page of a queue (the JSON API and the pages share this).
pub async fn load(hub: &Hub, kind: QueueKind, filter: &QueueFilter) -> Result<Queue, ApiError> {
    let ctx = hub.context();
    wait_for(ctx, "hub.referrals", filter.wait_for).await?;
    let page = filter.page.unwrap_or(1).max(1);
    let mut conditions = vec![kind.condition().to_owned()];
    let mut binds: Vec<String> = Vec::new();
    for (value, column) in [
        (yes_no(&filter.domestic_abuse, "domestic_abuse")?, "domestic_abuse"),
        (yes_no(&filter.enhanced_rights, "enhanced_rights")?, "enhanced_rights"),
        (yes_no(&filter.repeat_victim, "repeat_victim")?, "repeat_victim"),
    ] {
        if let Some(value) = value {
            conditions.push(format!("{column} = {}", i64::from(value)));
        }
    }
    match filter.officer.as_deref().map(str::trim) {
        None | Some("") => {}
        Some("unallocated") => conditions.push("officer IS NULL".into()),
        Some(officer) => {
            binds.push(officer.to_lowercase());
            conditions.push(format!("officer = ${}", binds.len()));
        }
    }
    if let Some(source) = filter.source.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        binds.push(source.to_owned());
        conditions.push(format!("source = ${}", binds.len()));
    }
    // Every condition is either fixed text or a numbered placeholder: nothing a caller typed reaches the SQL.
    let sql = format!(
        "SELECT referral_id, received_at, source, offence_category, status, officer, enhanced_rights, domestic_abuse, \
         repeat_victim, attempts, first_attempt_due, crime_reference FROM hub_referrals WHERE {} ORDER BY {} LIMIT ${} OFFSET ${}",
        conditions.join(" AND "),
        kind.order(),
        binds.len() + 1,
        binds.len() + 2
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(bind);
    }
    let rows = query
        .bind(PAGE_SIZE + 1)
        .bind(i64::from(page - 1) * PAGE_SIZE)
        .fetch_all(ctx.db.pool())
        .await
        .map_err(ApiError::unavailable)?;
    let more = rows.len() as i64 > PAGE_SIZE;
    let rows = &rows[..rows.len().min(PAGE_SIZE as usize)];
    let ids: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let tried = attempts_of(hub, &ids).await?;
    let rule = hub.settings().attempt_rule;
    let today = casetrack_eventstore::clock::now().date_naive().to_string();
    let items = rows
        .iter()
        .map(|row| {
            let referral_id: String = row.get(0);
            let status: String = row.get(4);
            let attempts: i64 = row.get(9);
            let due: Option<String> = row.get(10);
            let tally = rule.tally(tried.get(&referral_id).map(Vec::as_slice).unwrap_or_default());
            let awaiting = status == "awaiting_contact";
            QueueItem {
                referral_id,
                received_at: row.get(1),
                source: row.get(2),
                offence_category: row.get(3),
                crime_reference: row.get(11),
                officer: row.get(5),
                enhanced_rights: row.get::<i64, _>(6) != 0,
                domestic_abuse: row.get::<i64, _>(7) != 0,
                repeat_victim: row.get::<i64, _>(8) != 0,
                attempts,
                bands_tried: tally.bands.iter().map(code).collect(),
                suggested_band: if awaiting { rule.next_band(&tally).map(|band| code(&band)) } else { None },
                overdue: awaiting && attempts == 0 && due.as_deref().is_some_and(|due| today.as_str() > due),
                first_attempt_due: due,
                status,
            }
        })
        .collect();
    Ok(Queue { queue: kind.slug().into(), page, more, items })
}

/// Every attempt's time band and outcome, per referral, for the referrals on one page.
async fn attempts_of(hub: &Hub, ids: &[String]) -> Result<HashMap<String, Vec<(TimeBand, AttemptOutcome)>>, ApiError> {
    let mut tried: HashMap<String, Vec<(TimeBand, AttemptOutcome)>> = HashMap::new();
    if ids.is_empty() {
        return Ok(tried);
    }
    let sql = format!(
        "SELECT referral_id, time_band, outcome FROM hub_contact_attempts WHERE referral_id IN ({})",
        casetrack_eventstore::db::placeholder_list(1, ids.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(id.clone());
    }
    for row in query.fetch_all(hub.context().db.pool()).await.map_err(ApiError::unavailable)? {
        let band: String = row.get(1);
        let outcome: String = row.get(2);
        let (Some(band), Some(outcome)) = (
            casetrack_eventstore::codes::parse::<TimeBand>(&band),
            casetrack_eventstore::codes::parse::<AttemptOutcome>(&outcome),
        ) else {
            continue;
        };
        tried.entry(row.get(0)).or_default().push((band, outcome));
    }
    Ok(tried)
}

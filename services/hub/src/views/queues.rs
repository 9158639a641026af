//! Hub officers' work queues, read from the `hub.referrals` read model; the JSON api and the pages share them. Each
//! is filterable (officer, domestic abuse, enhanced rights, repeat victim, source) and paged: numbered pages of 50
//! ([`load`], the pages), or any size up to 500 after a cursor on the queue's stable order ([`load_page`], the API;
//! [`read_page`] for a page of HTML that pages the same way):
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
use casetrack_web::paging::{Keyset, Page, Paged, SortKey, bind_keys};
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

    /// The order the queue is read in, the same on both database backends (no key is ever NULL: a referral
    /// with no due day comes last, the unallocated ones after every officer's) and ending in the referral's id,
    /// so that a cursor names one place in it.
    pub fn keyset(self) -> Keyset {
        const ENHANCED_FIRST: SortKey = SortKey::integer("enhanced_rights").descending();
        const RECEIVED: SortKey = SortKey::text("received_at");
        const ID: SortKey = SortKey::text("referral_id");
        const BY_RECEIPT: Keyset = Keyset(&[ENHANCED_FIRST, RECEIVED, ID]);
        const BY_DUE_DAY: Keyset =
            Keyset(&[ENHANCED_FIRST, SortKey::text("COALESCE(first_attempt_due, '9999-12-31')"), RECEIVED, ID]);
        const BY_OFFICER: Keyset = Keyset(&[
            SortKey::integer("CAST(CASE WHEN officer IS NULL THEN 1 ELSE 0 END AS BIGINT)"),
            SortKey::text("COALESCE(officer, '')"),
            RECEIVED,
            ID,
        ]);
        match self {
            Self::NewReferrals | Self::NextAttempt => BY_RECEIPT,
            Self::VictimsCode => BY_DUE_DAY,
            Self::OpenCases => BY_OFFICER,
        }
    }

    /// The name a cursor of this queue carries.
    fn list(self) -> String {
        format!("hub.queues.{}", self.slug())
    }
}

/// Filters every queue takes. Blank values (as a page's form sends them) mean "any".
#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueFilter {
    /// 1 for the first page (the pages' numbered pages; the API pages with `page_size` and `cursor`).
    #[param(ignore)]
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

/// Reads one numbered page of [`PAGE_SIZE`] items of a queue (the pages use this; the API reads with a cursor,
/// [`load_page`]).
pub async fn load(hub: &Hub, kind: QueueKind, filter: &QueueFilter) -> Result<Queue, ApiError> {
    let ctx = hub.context();
    wait_for(ctx, "hub.referrals", filter.wait_for).await?;
    let page = filter.page.unwrap_or(1).max(1);
    let (conditions, binds) = conditions(kind, filter)?;
    // Every condition is either fixed text or a numbered placeholder: nothing a caller typed reaches the SQL.
    let sql = format!(
        "SELECT {QUEUE_COLUMNS} FROM hub_referrals WHERE {} ORDER BY {} LIMIT ${} OFFSET ${}",
        conditions.join(" AND "),
        kind.keyset().order_by(),
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
    let items = items(hub, rows).await?;
    Ok(Queue { queue: kind.slug().into(), page, more, items })
}

/// One page of a queue as the API answers it.
#[derive(Serialize, ToSchema)]
pub struct QueuePage {
    pub queue: String,
    pub items: Vec<QueueItem>,
    /// Pass it as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// How many referrals the queue holds now, with these filters (every page).
    pub total: u64,
}

/// Reads the page of a queue after a cursor, in the queue's [`QueueKind::keyset`] order: a client following
/// `next_cursor` sees every referral of the queue once.
pub async fn load_page(
    hub: &Hub,
    kind: QueueKind,
    filter: &QueueFilter,
    page: &casetrack_web::paging::PageParams,
) -> Result<QueuePage, ApiError> {
    let page = page.page(&kind.list())?;
    let paged = read_page(hub, kind, filter, &page).await?;
    Ok(QueuePage { queue: kind.slug().into(), items: paged.items, next_cursor: paged.next_cursor, total: paged.total })
}

/// The rows of a queue's page after `page.after`, with the total (the API and pages of HTML that page by cursor
/// share this).
pub async fn read_page(
    hub: &Hub,
    kind: QueueKind,
    filter: &QueueFilter,
    page: &Page,
) -> Result<Paged<QueueItem>, ApiError> {
    let ctx = hub.context();
    wait_for(ctx, "hub.referrals", filter.wait_for).await?;
    let keyset = kind.keyset();
    let (mut conditions, binds) = conditions(kind, filter)?;
    let total = count(hub, &conditions, &binds).await?;
    let after = keyset.after(page.after.as_deref(), binds.len() + 1)?;
    let mut placeholders = binds.len();
    let after_binds = match after {
        Some((condition, values)) => {
            conditions.push(condition);
            placeholders += values.len();
            values
        }
        None => Vec::new(),
    };
    let sql = format!(
        "SELECT {QUEUE_COLUMNS}, {} FROM hub_referrals WHERE {} ORDER BY {} LIMIT ${}",
        keyset.columns(),
        conditions.join(" AND "),
        keyset.order_by(),
        placeholders + 1
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(bind);
    }
    let rows = bind_keys(query, after_binds)
        .bind(page.limit())
        .fetch_all(ctx.db.pool())
        .await
        .map_err(ApiError::unavailable)?;
    let keys = rows.iter().map(|row| keyset.read(row, QUEUE_COLUMN_COUNT)).collect::<Result<Vec<_>, _>>();
    let keys = keys.map_err(ApiError::unavailable)?;
    let items = items(hub, &rows).await?;
    Ok(page.paged(items.into_iter().zip(keys).collect(), total))
}

const QUEUE_COLUMNS: &str = "referral_id, received_at, source, offence_category, status, officer, enhanced_rights, \
    domestic_abuse, repeat_victim, attempts, first_attempt_due, crime_reference";
const QUEUE_COLUMN_COUNT: usize = 12;

/// The queue's condition and the filters', with the values their placeholders (`$1`...) take.
fn conditions(kind: QueueKind, filter: &QueueFilter) -> Result<(Vec<String>, Vec<String>), ApiError> {
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
    Ok((conditions, binds))
}

/// How many referrals a queue holds with its filters.
async fn count(hub: &Hub, conditions: &[String], binds: &[String]) -> Result<u64, ApiError> {
    let sql = format!("SELECT COUNT(*) FROM hub_referrals WHERE {}", conditions.join(" AND "));
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(bind.clone());
    }
    let total: i64 = query.fetch_one(hub.context().db.pool()).await.map_err(ApiError::unavailable)?;
    Ok(u64::try_from(total).unwrap_or_default())
}

/// The queue's items from its rows ([`QUEUE_COLUMNS`] first), with what was tried on each.
async fn items(hub: &Hub, rows: &[sqlx::any::AnyRow]) -> Result<Vec<QueueItem>, ApiError> {
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
    Ok(items)
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

/// How many referrals each queue holds with these filters, for the counts on the queues' tabs.
pub async fn counts(hub: &Hub, filter: &QueueFilter) -> Result<Vec<(QueueKind, u64)>, ApiError> {
    let mut counts = Vec::with_capacity(QueueKind::ALL.len());
    for kind in QueueKind::ALL {
        let (conditions, binds) = conditions(kind, filter)?;
        counts.push((kind, count(hub, &conditions, &binds).await?));
    }
    Ok(counts)
}

/// What a search asks: a crime reference or a referral's reference (exact), or the people whose blind match key
/// matched a typed name and date of birth (`casetrack_people::interface::matching`), never a plaintext scan.
#[derive(Debug, Default)]
pub struct Search {
    pub crime_reference: Option<String>,
    /// The last eight hex digits of a referral id, as `casetrack_web::pages::reference` shows them.
    pub reference_suffix: Option<String>,
    pub person_ids: Vec<String>,
}

/// The referrals a search finds (any status), newest first, at most [`PAGE_SIZE`].
pub async fn search(hub: &Hub, search: &Search) -> Result<Vec<QueueItem>, ApiError> {
    let mut alternatives = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    if let Some(crime_reference) = &search.crime_reference {
        binds.push(crime_reference.trim().to_uppercase());
        alternatives.push(format!("UPPER(crime_reference) = ${}", binds.len()));
    }
    if let Some(suffix) = &search.reference_suffix {
        // The suffix is eight hex digits (checked where it was read), so it holds no LIKE wildcard.
        binds.push(format!("%{suffix}"));
        alternatives.push(format!("referral_id LIKE ${}", binds.len()));
    }
    if !search.person_ids.is_empty() {
        let first = binds.len() + 1;
        binds.extend(search.person_ids.iter().cloned());
        alternatives.push(format!(
            "person_id IN ({})",
            casetrack_eventstore::db::placeholder_list(first, search.person_ids.len())
        ));
    }
    if alternatives.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {QUEUE_COLUMNS} FROM hub_referrals WHERE {} ORDER BY received_at DESC, referral_id LIMIT {PAGE_SIZE}",
        alternatives.join(" OR ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(bind);
    }
    let rows = query.fetch_all(hub.context().db.pool()).await.map_err(ApiError::unavailable)?;
    items(hub, &rows).await
}

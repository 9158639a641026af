//! The specialist services' read model, `specialist_cases` (written by [`crate::projections::cases`]), as the API and
//! the pages ask it: a service's caseload (every case, the unallocated ones, one caseworker's, the reviews due), one
//! case, and the look-up a MARAC hearing needs (was the person heard in the 12 months before?). Each query names
//! its service, so one service's cases are never read through another's routes.

use casetrack_proto::{CaseId, PersonId, ServiceCode, StaffName};
use casetrack_web::http::{ApiError, wait_for};
use casetrack_web::paging::{Keyset, Page, PageParams, Paged, SortKey, bind_keys};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};

use crate::state::Desk;

/// The service a case belongs to, for break-glass (`casetrack_web::access::RecordArea`).
pub const SERVICE_OF_CASE: &str = "SELECT service FROM specialist_cases WHERE case_id = $1";

/// The person a case is about, for the access guard's person look-up on routes naming a case.
pub const PERSON_OF_CASE: &str = "SELECT person_id FROM specialist_cases WHERE case_id = $1";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// all (default), unallocated, mine (with `caseworker`), reviews-due (review date today or earlier)
    pub view: Option<String>,
    /// A caseworker's user name (for `mine`).
    pub caseworker: Option<String>,
    /// Wait (up to 5 s) until the read model has applied this log position.
    pub wait_for: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct CaseView {
    pub case_id: String,
    pub service: String,
    pub person_id: String,
    pub referral_id: Option<String>,
    pub origin: String,
    pub opened_at: String,
    /// awaiting_decision, awaiting_contact, engaged, declined_by_service, withdrawn, unable_to_contact,
    /// support_declined, closed
    pub status: String,
    pub caseworker: Option<String>,
    pub attempts: i64,
    pub risk_level: Option<String>,
    /// ISVA: not_reported, reported, under_investigation, charged, trial, verdict or no_further_action.
    pub cjs_stage: Option<String>,
    pub cjs_stage_on: Option<String>,
    /// Stalking: applied, granted or refused.
    pub spo_status: Option<String>,
    pub spo_on: Option<String>,
    /// RJ: the Victims' Code deadline for information about restorative justice, and when it was given.
    pub rj_information_due: Option<String>,
    pub rj_informed_on: Option<String>,
    pub rj_form: Option<String>,
    pub rj_outcome: Option<String>,
    pub rj_satisfaction: Option<i64>,
    pub risk_score: Option<i64>,
    pub review_due: Option<String>,
    pub marac_referred_on: Option<String>,
    pub marac_heard_on: Option<String>,
    pub marac_repeat: bool,
    pub domestic_abuse: bool,
    pub enhanced_rights: bool,
    pub age_band: Option<String>,
    pub closure_reason: Option<String>,
}

const CASE_COLUMN_COUNT: usize = 28;

const CASE_COLUMNS: &str = "case_id, service, person_id, referral_id, origin, opened_at, status, caseworker, attempts, \
    risk_level, risk_score, review_due, marac_referred_on, marac_heard_on, marac_repeat, domestic_abuse, \
    enhanced_rights, age_band, closure_reason, cjs_stage, cjs_stage_on, spo_status, spo_on, rj_information_due, \
    rj_informed_on, rj_form, rj_outcome, rj_satisfaction";

fn case_view(r: &sqlx::any::AnyRow) -> CaseView {
    CaseView {
        case_id: r.get(0),
        service: r.get(1),
        person_id: r.get(2),
        referral_id: r.get(3),
        origin: r.get(4),
        opened_at: r.get(5),
        status: r.get(6),
        caseworker: r.get(7),
        attempts: r.get(8),
        risk_level: r.get(9),
        risk_score: r.get(10),
        review_due: r.get(11),
        marac_referred_on: r.get(12),
        marac_heard_on: r.get(13),
        marac_repeat: r.get::<i64, _>(14) != 0,
        domestic_abuse: r.get::<i64, _>(15) != 0,
        enhanced_rights: r.get::<i64, _>(16) != 0,
        age_band: r.get(17),
        closure_reason: r.get(18),
        cjs_stage: r.get(19),
        cjs_stage_on: r.get(20),
        spo_status: r.get(21),
        spo_on: r.get(22),
        rj_information_due: r.get(23),
        rj_informed_on: r.get(24),
        rj_form: r.get(25),
        rj_outcome: r.get(26),
        rj_satisfaction: r.get(27),
    }
}

/// Waits for the service's case projection to reach `position`.
async fn wait_for_cases(desk: &Desk, service: &ServiceCode, position: Option<u64>) -> Result<(), ApiError> {
    let projection = format!("specialist.cases.{service}");
    let name = desk.ctx.projections.all().into_iter().find(|s| s.name() == projection).map(|s| s.name());
    match name {
        Some(name) => wait_for(&desk.ctx, name, position).await,
        None => Ok(()),
    }
}

/// A caseload's order: enhanced rights first, newest first, then by id (unique), the same on both backends.
const CASELOAD_ORDER: Keyset = Keyset(&[
    SortKey::integer("enhanced_rights").descending(),
    SortKey::text("opened_at").descending(),
    SortKey::text("case_id"),
]);

/// Reads a caseload, its first 500 cases (the pages use this; the API pages with a cursor, [`caseload_page`]).
pub async fn caseload(desk: &Desk, service: &str, params: &ListParams) -> Result<Vec<CaseView>, ApiError> {
    let page = Page::first(&caseload_list(service), casetrack_web::paging::MAX_PAGE_SIZE);
    Ok(read_caseload(desk, service, params, &page).await?.items)
}

/// The page of a caseload after a cursor, in [`CASELOAD_ORDER`]: a client following `next_cursor` sees every case
/// once.
pub async fn caseload_page(
    desk: &Desk,
    service: &str,
    params: &ListParams,
    page: &PageParams,
) -> Result<Paged<CaseView>, ApiError> {
    let page = page.page(&caseload_list(service))?;
    read_caseload(desk, service, params, &page).await
}

/// The name a cursor of a service's caseload carries.
fn caseload_list(service: &str) -> String {
    format!("specialist.cases.{service}")
}

/// The cases of a caseload's page after `page.after`, with the total (the API and pages of HTML share this).
pub async fn read_caseload(
    desk: &Desk,
    service: &str,
    params: &ListParams,
    page: &Page,
) -> Result<Paged<CaseView>, ApiError> {
    let service = desk.service(service)?.code.clone();
    wait_for_cases(desk, &service, params.wait_for).await?;
    let open = "status IN ('awaiting_decision', 'awaiting_contact', 'engaged')";
    let today = casetrack_eventstore::clock::now().date_naive().to_string();
    let (condition, bind) = match params.view.as_deref().unwrap_or("all") {
        "all" => ("1 = 1".to_owned(), None),
        "unallocated" => (format!("{open} AND caseworker IS NULL"), None),
        "mine" => {
            let name = params.caseworker.as_deref().unwrap_or_default();
            let name = StaffName::parse(name).map_err(|why| ApiError::bad_request(format!("caseworker: {why}")))?;
            (format!("{open} AND caseworker = $2"), Some(name.to_string()))
        }
        "reviews-due" => (format!("{open} AND review_due IS NOT NULL AND review_due <= $2"), Some(today)),
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown view {other:?}: all, unallocated, mine or reviews-due"
            )));
        }
    };
    let filter = format!("service = $1 AND {condition}");
    let count_sql = format!("SELECT COUNT(*) FROM specialist_cases WHERE {filter}");
    let mut count = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)).bind(service.as_str().to_owned());
    if let Some(bind) = &bind {
        count = count.bind(bind.clone());
    }
    let total: i64 = count.fetch_one(desk.ctx.db.pool()).await.map_err(ApiError::unavailable)?;
    let placeholders = 1 + usize::from(bind.is_some());
    let (after, after_binds) = match CASELOAD_ORDER.after(page.after.as_deref(), placeholders + 1)? {
        Some((condition, values)) => (format!(" AND {condition}"), values),
        None => (String::new(), Vec::new()),
    };
    let sql = format!(
        "SELECT {CASE_COLUMNS}, {} FROM specialist_cases WHERE {filter}{after} ORDER BY {} LIMIT ${}",
        CASELOAD_ORDER.columns(),
        CASELOAD_ORDER.order_by(),
        placeholders + after_binds.len() + 1
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(service.as_str().to_owned());
    if let Some(bind) = bind {
        query = query.bind(bind);
    }
    let rows = bind_keys(query, after_binds)
        .bind(page.limit())
        .fetch_all(desk.ctx.db.pool())
        .await
        .map_err(ApiError::unavailable)?;
    let rows = rows
        .iter()
        .map(|row| Ok((case_view(row), CASELOAD_ORDER.read(row, CASE_COLUMN_COUNT)?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(ApiError::unavailable)?;
    Ok(page.paged(rows, u64::try_from(total).unwrap_or_default()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// Wait (up to 5 s) until the read model has applied this log position.
    pub wait_for: Option<u64>,
}

/// One case of this service, or 404.
pub async fn case(desk: &Desk, service: &str, case_id: CaseId, params: &ReadParams) -> Result<CaseView, ApiError> {
    let service = desk.service(service)?.code.clone();
    wait_for_cases(desk, &service, params.wait_for).await?;
    let sql = format!("SELECT {CASE_COLUMNS} FROM specialist_cases WHERE case_id = $1 AND service = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(case_id.to_string())
        .bind(service.as_str().to_owned())
        .fetch_optional(desk.ctx.db.pool())
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| ApiError::not_found("There is no such case in this service."))?;
    Ok(case_view(&row))
}

/// Whether `person` was heard at MARAC by `service` in the 12 months before `heard_on` (this case or another of the
/// service's, as its read model holds them): a repeat MARAC.
pub async fn heard_at_marac_in_year_before(
    desk: &Desk,
    service: &ServiceCode,
    person: PersonId,
    heard_on: NaiveDate,
) -> Result<bool, ApiError> {
    let year_before = heard_on.checked_sub_months(chrono::Months::new(12)).unwrap_or(heard_on);
    let earlier: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM specialist_cases WHERE person_id = $1 AND service = $2 \
         AND marac_heard_on IS NOT NULL AND marac_heard_on >= $3 AND marac_heard_on < $4",
    )
    .bind(person.to_string())
    .bind(service.as_str().to_owned())
    .bind(year_before.to_string())
    .bind(heard_on.to_string())
    .fetch_one(desk.ctx.db.pool())
    .await
    .map_err(ApiError::unavailable)?;
    Ok(earlier > 0)
}

/// The cases of a service a search finds, newest first, at most 50: a case reference (the last eight hex digits of
/// the case id, as `casetrack_web::pages::reference` shows them) or the people a name and date of birth matched
/// through the blind index (`casetrack_people::interface::matching`).
pub async fn search_cases(
    desk: &Desk,
    service: &str,
    reference_suffix: Option<&str>,
    person_ids: &[String],
) -> Result<Vec<CaseView>, ApiError> {
    let service = desk.service(service)?.code.clone();
    let mut alternatives = Vec::new();
    let mut binds: Vec<String> = vec![service.as_str().to_owned()];
    if let Some(suffix) = reference_suffix {
        // Eight hex digits (checked where it was read): no LIKE wildcard can be in it.
        binds.push(format!("%{suffix}"));
        alternatives.push(format!("case_id LIKE ${}", binds.len()));
    }
    if !person_ids.is_empty() {
        let first = binds.len() + 1;
        binds.extend(person_ids.iter().cloned());
        alternatives
            .push(format!("person_id IN ({})", casetrack_eventstore::db::placeholder_list(first, person_ids.len())));
    }
    if alternatives.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM specialist_cases WHERE service = $1 AND ({}) ORDER BY opened_at DESC, case_id LIMIT 50",
        alternatives.join(" OR ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(bind);
    }
    let rows = query.fetch_all(desk.ctx.db.pool()).await.map_err(ApiError::unavailable)?;
    Ok(rows.iter().map(case_view).collect())
}

//! The audit trail: its read model (`audit.trail`, built from the audit stream) and the auditor's search and
//! export. Entries name records by id; no personal details are ever in the trail. The pages say each entry as a
//! sentence, with staff by name and records by reference.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use casetrack_eventstore::projection::{Batch, Known, Projection, ProjectionError, Source, decode};
use casetrack_proto::audit::{AccessDecision, AuditEvent};
use casetrack_web::Context;
use casetrack_web::accounts::role_code;
use casetrack_web::http::ApiError;
use casetrack_web::pages::{
    Staff, failure_page, local_time, reference, respond, staff_page, summary_list, tag, text_input, words,
};
use casetrack_web::spreadsheet;
use maud::html;
use serde::Deserialize;
use sqlx::{AnyConnection, Row as _};

pub struct AuditTrail;

#[async_trait::async_trait]
impl Projection for AuditTrail {
    fn name(&self) -> &'static str {
        "audit.trail"
    }

    fn source(&self) -> Source {
        Source::Audit
    }

    fn tables(&self) -> &'static [&'static str] {
        &["audit_entries"]
    }

    async fn apply(&self, tx: &mut AnyConnection, batch: &Batch, _: &mut Known) -> Result<(), ProjectionError> {
        for (position, envelope) in batch.events() {
            let Some(AuditEvent::AccessRecorded(entry)) = decode::<AuditEvent>(position, envelope)? else {
                continue;
            };
            let role = entry.role.as_ref().map(|role| match role_code(role) {
                (code, Some(service)) => format!("{code}:{service}"),
                (code, None) => code.to_owned(),
            });
            let decision = casetrack_eventstore::codes::code(&entry.decision);
            sqlx::query(
                "INSERT INTO audit_entries (position, event_id, at, user_id, username, role, method, route, \
                 records, person_id, address, decision, status, reason, late_entry) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(position.0 as i64)
            .bind(envelope.id.0.to_string())
            .bind(envelope.occurred_at.to_rfc3339())
            .bind(entry.user_id.map(|id| id.0.to_string()))
            .bind(entry.username)
            .bind(role)
            .bind(entry.method)
            .bind(entry.route)
            .bind(serde_json::to_string(&entry.records).unwrap_or_default())
            .bind(entry.person_id.map(|id| id.0.to_string()))
            .bind(entry.address)
            .bind(decision)
            .bind(i64::from(entry.status))
            .bind(entry.break_glass_reason)
            .bind(
                entry.late_entry.map(|late| format!("recorded {} days after it happened: {}", late.days, late.reason)),
            )
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

/// What the auditor searches by: a person's id, a user name, a date range (inclusive, UTC days).
#[derive(Debug, Default, Deserialize)]
pub struct Search {
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// A record's reference as the pages show it (`HUB-3F9A1C2B`), or its id.
    #[serde(default)]
    pub record: String,
    /// allowed, refused or break_glass; empty for any.
    #[serde(default)]
    pub outcome: String,
    /// The page of results, from 1 (the pages only; the export has every entry).
    #[serde(default)]
    pub page: Option<u32>,
}

/// One entry as the auditor sees it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: String,
    pub username: String,
    pub role: String,
    pub method: String,
    pub route: String,
    pub records: String,
    pub person_id: String,
    pub address: String,
    pub decision: String,
    pub status: i64,
    pub reason: String,
    /// For a command whose fact was dated beyond the back-dating window: how late, and why.
    pub late_entry: String,
}

/// Entries to a page of results (the export has them all).
const PAGE_SIZE: i64 = 50;

/// The entries a search finds, newest first: `page` (offset, limit) of them, or every one.
async fn search(ctx: &Context, search: &Search, page: Option<(i64, i64)>) -> Result<Vec<Entry>, String> {
    let (conditions, binds) = conditions(search)?;
    let mut sql = format!(
        "SELECT at, username, role, method, route, records, person_id, address, decision, status, reason, \
         late_entry FROM audit_entries WHERE {conditions}"
    );
    sql.push_str(" ORDER BY position DESC, event_id");
    if let Some((offset, limit)) = page {
        sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    }
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in &binds {
        query = query.bind(bind);
    }
    let rows = query.fetch_all(ctx.db.pool()).await.map_err(|error| {
        tracing::error!(error = %error, "audit search failed");
        "The audit trail could not be searched just now. Please try again.".to_owned()
    })?;
    Ok(rows.iter().map(entry).collect())
}

/// How many entries a search finds.
async fn count(ctx: &Context, search: &Search) -> Result<i64, String> {
    let (conditions, binds) = conditions(search)?;
    let mut query =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM audit_entries WHERE {conditions}")));
    for bind in &binds {
        query = query.bind(bind.clone());
    }
    query.fetch_one(ctx.db.pool()).await.map_err(|error| {
        tracing::error!(error = %error, "audit count failed");
        "The audit trail could not be searched just now. Please try again.".to_owned()
    })
}

/// The search's conditions, with the values of their placeholders: nothing typed reaches the SQL.
fn conditions(search: &Search) -> Result<(String, Vec<String>), String> {
    let mut sql = String::from("1 = 1");
    let mut binds: Vec<String> = Vec::new();
    let person = search.person.trim();
    if !person.is_empty() {
        uuid::Uuid::parse_str(person).map_err(|_| "A person is searched by their Casetrack id.".to_owned())?;
        binds.push(person.to_owned());
        sql.push_str(&format!(" AND person_id = ${}", binds.len()));
    }
    let user = search.user.trim().to_lowercase();
    if !user.is_empty() {
        binds.push(user);
        sql.push_str(&format!(" AND username = ${}", binds.len()));
    }
    for (value, op) in [(&search.from, ">="), (&search.to, "<")] {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let day = casetrack_web::pages::parse_date(value)
            .ok_or_else(|| "Enter dates as day, month and year, for example 23/04/2026.".to_owned())?;
        let bound = if op == "<" { day.succ_opt().unwrap_or(day) } else { day };
        binds.push(bound.to_string());
        sql.push_str(&format!(" AND at {op} ${}", binds.len()));
    }
    let record = search.record.trim();
    if !record.is_empty() {
        let suffix = casetrack_web::pages::reference_suffix(record)
            .ok_or_else(|| "Enter a record's reference as the pages show it, for example HUB-3F9A1C2B.".to_owned())?;
        // Eight hex digits: no LIKE wildcard can be in it.
        binds.push(format!("%{suffix}\"%"));
        sql.push_str(&format!(" AND records LIKE ${}", binds.len()));
    }
    if !search.outcome.trim().is_empty() {
        let outcome = casetrack_eventstore::codes::parse::<AccessDecision>(search.outcome.trim())
            .ok_or_else(|| "Choose an outcome from the list.".to_owned())?;
        binds.push(casetrack_eventstore::codes::code(&outcome));
        sql.push_str(&format!(" AND decision = ${}", binds.len()));
    }
    Ok((sql, binds))
}

fn entry(row: &sqlx::any::AnyRow) -> Entry {
    Entry {
        at: row.get("at"),
        username: row.get::<Option<String>, _>("username").unwrap_or_else(|| "(signed out)".into()),
        role: row.get::<Option<String>, _>("role").unwrap_or_default(),
        method: row.get("method"),
        route: row.get("route"),
        records: row.get("records"),
        person_id: row.get::<Option<String>, _>("person_id").unwrap_or_default(),
        address: row.get::<Option<String>, _>("address").unwrap_or_default(),
        decision: row.get("decision"),
        status: row.get("status"),
        reason: row.get::<Option<String>, _>("reason").unwrap_or_default(),
        late_entry: row.get::<Option<String>, _>("late_entry").unwrap_or_default(),
    }
}

fn decision_label(code: &str) -> &'static str {
    match casetrack_eventstore::codes::parse::<AccessDecision>(code) {
        Some(AccessDecision::Allowed) => "Allowed",
        Some(AccessDecision::BreakGlass) => "Break-glass",
        Some(AccessDecision::Refused) => "Refused",
        None => "Unknown",
    }
}

/// `GET /audit`: search the trail by person, user, record, outcome and dates; each entry a sentence ("Jo Smith (hub
/// officer) viewed referral HUB-3F9A1C2B at 14:03"), its detail one click away, 50 to a page.
pub async fn audit_page(State(ctx): State<Context>, Query(query): Query<Search>) -> Response {
    let searched = [&query.person, &query.user, &query.record, &query.from, &query.to, &query.outcome]
        .iter()
        .any(|v| !v.trim().is_empty());
    let page = i64::from(query.page.unwrap_or(1).max(1));
    let found = if searched {
        match count(&ctx, &query).await {
            Ok(total) => search(&ctx, &query, Some(((page - 1) * PAGE_SIZE, PAGE_SIZE))).await.map(|e| (e, total)),
            Err(problem) => Err(problem),
        }
    } else {
        Ok((Vec::new(), 0))
    };
    let ((entries, total), problem) = match found {
        Ok(found) => (found, None),
        Err(problem) => ((Vec::new(), 0), Some(problem)),
    };
    let staff = match Staff::load(&ctx.db).await {
        Ok(staff) => staff,
        Err(error) => return failure_page(&error),
    };
    let link = |page: i64| {
        let page = page.to_string();
        serde_urlencoded::to_string([
            ("person", query.person.as_str()),
            ("user", query.user.as_str()),
            ("record", query.record.as_str()),
            ("outcome", query.outcome.as_str()),
            ("from", query.from.as_str()),
            ("to", query.to.as_str()),
            ("page", page.as_str()),
        ])
        .unwrap_or_default()
    };
    let export = format!("/audit/export.csv?{}", link(1));
    let fields = [
        ("user", "User name", None, &query.user),
        ("record", "Record reference", Some("For example HUB-3F9A1C2B"), &query.record),
        ("person", "Person id", Some("From the person's data-protection page"), &query.person),
        ("from", "From", Some("For example 01/12/2026"), &query.from),
        ("to", "To", Some("For example 04/12/2026"), &query.to),
    ];
    let outcome = query.outcome.trim();
    let no_errors = casetrack_web::pages::FormErrors::new();
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    respond(
        if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK },
        staff_page(
            "Audit trail",
            html! {
                h1.govuk-heading-l { "Audit trail" }
                p.govuk-body { "Every command, and every view of a person's record, allowed or refused." }
                @if let Some(problem) = &problem {
                    div.govuk-error-summary data-module="govuk-error-summary" {
                        div role="alert" {
                            h2.govuk-error-summary__title { "There is a problem" }
                            div.govuk-error-summary__body { p.govuk-body { (problem) } }
                        }
                    }
                }
                form.app-filter method="get" action="/audit" {
                    @for (id, label, hint, value) in fields {
                        (text_input(id, label, hint, value, &no_errors))
                    }
                    div.govuk-form-group {
                        label.govuk-label for="outcome" { "Outcome" }
                        select.govuk-select #outcome name="outcome" {
                            @for (code, label) in [("", "Any"), ("allowed", "Allowed"), ("refused", "Refused"), ("break_glass", "Break-glass")] {
                                option value=(code) selected[outcome == code] { (label) }
                            }
                        }
                    }
                    button.govuk-button type="submit" { "Search" }
                }
                @if searched && problem.is_none() {
                    p.govuk-body.app-total {
                        (total) " entr" @if total == 1 { "y" } @else { "ies" } ", newest first. "
                        a.govuk-link href=(export) { "Download all as CSV" }
                    }
                    @if !entries.is_empty() {
                        table.govuk-table {
                            caption.govuk-table__caption.govuk-table__caption--m { "What happened" }
                            thead.govuk-table__head { tr.govuk-table__row {
                                th.govuk-table__header scope="col" { "When" }
                                th.govuk-table__header scope="col" { "What happened" }
                                th.govuk-table__header scope="col" { "Outcome" }
                            } }
                            tbody.govuk-table__body {
                                @for entry in &entries {
                                    tr.govuk-table__row.app-audit-row--refused[entry.decision == "refused"] {
                                        td.govuk-table__cell { (at(&entry.at)) }
                                        td.govuk-table__cell {
                                            (sentence(entry, &staff))
                                            @if !entry.late_entry.is_empty() {
                                                " " strong.govuk-tag.govuk-tag--yellow { "Late entry" }
                                            }
                                            details.govuk-details {
                                                summary.govuk-details__summary { span.govuk-details__summary-text { "Detail" } }
                                                div.govuk-details__text {
                                                    (summary_list([
                                                        ("User name", html! { (entry.username) }),
                                                        ("Request", html! { (entry.method) " " code { (entry.route) } }),
                                                        ("Records", html! { code { (entry.records) } }),
                                                        ("Person id", html! { code { (entry.person_id) } }),
                                                        ("From address", html! { (entry.address) }),
                                                        ("Answer", html! { (entry.status) }),
                                                        ("Reason", html! { (entry.reason) }),
                                                        ("Late entry", html! { (entry.late_entry) }),
                                                    ]))
                                                }
                                            }
                                        }
                                        td.govuk-table__cell {
                                            @let colour = match entry.decision.as_str() { "allowed" => "green", "refused" => "red", _ => "orange" };
                                            (tag(&format!("{} ({})", decision_label(&entry.decision), entry.status), colour))
                                        }
                                    }
                                }
                            }
                        }
                        @if pages > 1 {
                            nav.govuk-pagination aria-label="Pages of results" {
                                @if page > 1 {
                                    div.govuk-pagination__prev {
                                        a.govuk-link.govuk-pagination__link href={ "/audit?" (link(page - 1)) } rel="prev" {
                                            span.govuk-pagination__link-title { "Previous" span.govuk-visually-hidden { " page" } }
                                        }
                                    }
                                }
                                p.govuk-body { "Page " (page) " of " (pages) }
                                @if page < pages {
                                    div.govuk-pagination__next {
                                        a.govuk-link.govuk-pagination__link href={ "/audit?" (link(page + 1)) } rel="next" {
                                            span.govuk-pagination__link-title { "Next" span.govuk-visually-hidden { " page" } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        ),
    )
}

fn at(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text).map(|t| local_time(t.to_utc())).unwrap_or_else(|_| text.to_owned())
}

/// An entry in words: who (by name, with their role), did what, to which record (by reference), when.
fn sentence(entry: &Entry, staff: &Staff) -> String {
    let role = entry.role.split_once(':').map_or((entry.role.as_str(), None), |(c, s)| (c, Some(s)));
    let role = casetrack_web::accounts::parse_role(role.0, role.1)
        .map(|role| casetrack_web::accounts::role_label(&role))
        .unwrap_or_default();
    let role = role.strip_prefix("an ").or_else(|| role.strip_prefix("a ")).unwrap_or(&role).to_owned();
    let who = match entry.username.as_str() {
        "(signed out)" => "Someone not signed in".to_owned(),
        username if role.is_empty() => staff.name_of(username),
        username => format!("{} ({role})", staff.name_of(username)),
    };
    let records: std::collections::BTreeMap<String, String> = serde_json::from_str(&entry.records).unwrap_or_default();
    let id = |name: &str| records.get(name).and_then(|id| uuid::Uuid::parse_str(id).ok());
    let service = records.get("service").map(|s| s.to_uppercase()).unwrap_or_default();
    let record = if let Some(referral) = id("referral_id") {
        Some(format!("referral {}", reference("hub", referral)))
    } else if let Some(case) = id("case_id") {
        Some(format!("{service} case {}", reference(&service, case)))
    } else if id("person_id").is_some() {
        Some("a person's data-protection record".to_owned())
    } else {
        None
    };
    let reading = matches!(entry.method.as_str(), "GET" | "HEAD");
    let did = match (&record, reading, records.get("action")) {
        (Some(record), true, _) => format!("viewed {record}"),
        (Some(record), false, Some(action)) => format!("recorded “{}” on {record}", words(action).to_lowercase()),
        (Some(record), false, None) => format!("changed {record}"),
        (None, true, _) => match entry.route.as_str() {
            "/hub/queues/{queue}" => {
                format!("looked at the {} queue", words(records.get("queue").map_or("", String::as_str)).to_lowercase())
            }
            "/hub/search" => "searched the hub's referrals".to_owned(),
            "/services/{service}" => format!("looked at the {service} caseload"),
            route => format!("opened {route}"),
        },
        (None, false, _) => format!("sent {} {}", entry.method, entry.route),
    };
    let outcome = match entry.decision.as_str() {
        "refused" => format!(", and was refused ({})", entry.status),
        "break_glass" => " under break-glass".to_owned(),
        _ => String::new(),
    };
    // The day is in the row's first column: the sentence says the time, as people do ("at 14:03").
    let when = at(&entry.at);
    let time = when.rsplit(", ").next().unwrap_or(&when);
    format!("{who} {did} at {time}{outcome}")
}

/// `GET /audit/export.csv`: the search's every entry, as CSV.
pub async fn audit_export(State(ctx): State<Context>, Query(query): Query<Search>) -> Response {
    let entries = match search(&ctx, &query, None).await {
        Ok(entries) => entries,
        Err(problem) => return failure_page(&ApiError::rejected("bad_search", problem)),
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "at",
        "username",
        "role",
        "method",
        "route",
        "records",
        "person_id",
        "address",
        "decision",
        "status",
        "reason",
        "late_entry",
    ];
    // Every text cell through the one neutraliser: a reason typed as `=HYPERLINK(...)` stays text.
    let written = writer.write_record(header).and_then(|()| {
        entries.iter().try_for_each(|e| {
            writer.write_record(spreadsheet::row([
                e.at.as_str(),
                &e.username,
                &e.role,
                &e.method,
                &e.route,
                &e.records,
                &e.person_id,
                &e.address,
                &e.decision,
                &e.status.to_string(),
                &e.reason,
                &e.late_entry,
            ]))
        })
    });
    let body = match written
        .map_err(anyhow::Error::from)
        .and_then(|()| writer.into_inner().map_err(|e| anyhow::anyhow!("{e}")))
    {
        Ok(body) => body,
        Err(error) => return failure_page(&ApiError::unavailable(error)),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit-trail.csv\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

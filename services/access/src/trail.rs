//! The audit trail: its read model (`audit.trail`, built from the audit stream) and the auditor's search and
//! export. Entries name records by id; no personal details are ever in the trail.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use casetrack_eventstore::projection::{Batch, Known, Projection, ProjectionError, Source, decode};
use casetrack_proto::audit::{AccessDecision, AuditEvent};
use casetrack_web::Context;
use casetrack_web::accounts::role_code;
use casetrack_web::http::ApiError;
use casetrack_web::pages::{failure_page, local_time, respond, staff_page, text_input};
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

/// The most entries a page shows (the export has them all).
const PAGE_LIMIT: i64 = 500;

async fn search(ctx: &Context, search: &Search, limit: Option<i64>) -> Result<Vec<Entry>, String> {
    let mut sql = String::from(
        "SELECT at, username, role, method, route, records, person_id, address, decision, status, reason, \
         late_entry FROM audit_entries WHERE 1 = 1",
    );
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
        let day = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map_err(|_| "Dates are written as YYYY-MM-DD.".to_owned())?;
        let bound = if op == "<" { day.succ_opt().unwrap_or(day) } else { day };
        binds.push(bound.to_string());
        sql.push_str(&format!(" AND at {op} ${}", binds.len()));
    }
    sql.push_str(" ORDER BY position DESC, event_id");
    if let Some(limit) = limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in &binds {
        query = query.bind(bind);
    }
    let rows = query.fetch_all(ctx.db.pool()).await.map_err(|error| {
        tracing::error!(error = %error, "audit search failed");
        "The audit trail could not be searched just now. Please try again.".to_owned()
    })?;
    Ok(rows
        .iter()
        .map(|row| Entry {
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
        })
        .collect())
}

fn decision_label(code: &str) -> &'static str {
    match casetrack_eventstore::codes::parse::<AccessDecision>(code) {
        Some(AccessDecision::Allowed) => "Allowed",
        Some(AccessDecision::BreakGlass) => "Break-glass",
        Some(AccessDecision::Refused) => "Refused",
        None => "Unknown",
    }
}

/// `GET /audit`: search the trail by person, user and dates.
pub async fn audit_page(State(ctx): State<Context>, Query(query): Query<Search>) -> Response {
    let searched = !(query.person.is_empty() && query.user.is_empty() && query.from.is_empty() && query.to.is_empty());
    let found = if searched { search(&ctx, &query, Some(PAGE_LIMIT)).await } else { Ok(Vec::new()) };
    let (entries, problem) = match found {
        Ok(entries) => (entries, None),
        Err(problem) => (Vec::new(), Some(problem)),
    };
    let export = format!(
        "/audit/export.csv?{}",
        serde_urlencoded::to_string([
            ("person", query.person.as_str()),
            ("user", query.user.as_str()),
            ("from", query.from.as_str()),
            ("to", query.to.as_str()),
        ])
        .unwrap_or_default()
    );
    let at = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text).map(|t| local_time(t.to_utc())).unwrap_or_else(|_| text.to_owned())
    };
    let fields = [
        ("person", "Person id", &query.person),
        ("user", "User name", &query.user),
        ("from", "From (YYYY-MM-DD)", &query.from),
        ("to", "To (YYYY-MM-DD)", &query.to),
    ];
    let no_errors = casetrack_web::pages::FormErrors::new();
    respond(
        if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK },
        staff_page(
            "Audit trail",
            html! {
                h1.app-heading-l { "Audit trail" }
                p.app-body { "Every command, and every view of a person's record, allowed or refused. Search by a "
                    "person's Casetrack id, by a user name, or by dates." }
                @if let Some(problem) = &problem {
                    div.app-error-summary role="alert" { p { (problem) } }
                }
                form.app-filter method="get" action="/audit" {
                    @for (id, label, value) in fields {
                        (text_input(id, label, None, value, &no_errors))
                    }
                    button.app-button type="submit" { "Search" }
                }
                @if searched && problem.is_none() {
                    p.app-body {
                        (entries.len()) @if entries.len() as i64 == PAGE_LIMIT { " (the newest; the export has all)" }
                        " entries. " a.app-link href=(export) { "Download as CSV" }
                    }
                    table.app-table {
                        thead { tr {
                            th { "When" } th { "Who" } th { "Role" } th { "What" } th { "Records" } th { "Person" }
                            th { "From" } th { "Outcome" } th { "Reason" }
                        } }
                        tbody {
                            @for entry in &entries {
                                tr.app-audit-row[entry.decision != "allowed"] {
                                    td { (at(&entry.at)) }
                                    td { (entry.username) }
                                    td { (entry.role) }
                                    td { (entry.method) " " code { (entry.route) } }
                                    td { code { (entry.records) } }
                                    td { code { (entry.person_id) } }
                                    td { (entry.address) }
                                    td { (decision_label(&entry.decision)) " (" (entry.status) ")" }
                                    td {
                                        (entry.reason)
                                        @if !entry.late_entry.is_empty() {
                                            strong.govuk-tag.govuk-tag--yellow { "Late entry" } " " (entry.late_entry)
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

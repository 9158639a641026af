//! The figures dashboard for commissioners (who never see a person), hub managers and service managers: the funnel,
//! where the referrals are now, monthly trends, service comparison, time to first contact and outcome shares, as
//! charts drawn on the server as SVG (readable without JavaScript), each with its numbers in a table beside it;
//! period, service and breakdown pickers; and a CSV or workbook download of what is on screen. A commissioner sees
//! the published figures: small numbers, and what would give one away, hidden.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use casetrack_platform::Context;
use casetrack_platform::access::{Permission, Routes};
use casetrack_platform::http::ApiError;
use casetrack_platform::pages::{FormErrors, failure_page, long_date, respond, staff_page, text_input, words};
use casetrack_proto::Role;
use chrono::Utc;
use maud::{Markup, html};
use serde_json::Value;

use crate::api::SummaryParams;
use crate::cohort::{DIMENSIONS, dimension_label, stage, state};
use crate::periods::financial_year_of;
use crate::report::{Report, Request, monthly, publish, report};
use crate::suppression::{Shown, suppress_line};

#[derive(Clone)]
pub struct FiguresState {
    pub ctx: Context,
    /// Counts from 1 to threshold - 1 are shown as "<threshold".
    pub threshold: u64,
}

pub fn routes(state: FiguresState) -> Routes {
    Routes::new()
        .route("/figures", Permission::Figures, get(figures_page))
        .route("/figures/export.csv", Permission::Figures, get(export_csv))
        .route("/figures/export.xlsx", Permission::Figures, get(export_xlsx))
        .person("/figures/referrals", Permission::Casework, get(drill_down))
        .with_state(state)
}

/// The service whose referrals or cases the signed-in user works (hub staff: the hub), if any.
fn own_service() -> Option<String> {
    let principal = casetrack_platform::access::current()?;
    match &principal.account.role {
        Role::HubOfficer | Role::HubManager => Some("hub".into()),
        Role::Caseworker(service) | Role::ServiceManager(service) => Some(service.as_str().to_owned()),
        _ => None,
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DrillDown {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    by: String,
    /// The funnel figure: `referrals_received`, a stage (`contacted`, ...) or a state (`open`, ...).
    #[serde(default)]
    figure: String,
    /// The dimension value, with `by`.
    #[serde(default)]
    value: String,
}

/// Most referrals one drill-down lists.
const DRILL_DOWN_LIMIT: i64 = 500;

/// `GET /figures/referrals?from&to&service&figure[&by&value]`: the referrals (or cases) behind one figure of the
/// cohort, for staff who work that service's cases (never a commissioner). Each links to its record, where the
/// view is audited as usual.
pub async fn drill_down(State(state): State<FiguresState>, Query(params): Query<DrillDown>) -> Response {
    let period = SummaryParams {
        from: params.from.clone(),
        to: params.to.clone(),
        period: params.period.clone(),
        service: params.service.clone(),
        by: params.by.clone(),
        wait_for: None,
    };
    let request = match request_of(&period) {
        Ok(request) => request,
        Err(error) => return failure_page(&error),
    };
    let Some(own) = own_service() else {
        return failure_page(&ApiError::not_found("There is no list of referrals for your role."));
    };
    let service = request.service.clone().unwrap_or_else(|| own.clone());
    if service != own {
        let error = ApiError {
            status: StatusCode::FORBIDDEN,
            code: "other_service",
            message: format!("You can list the referrals of your own service ({own}) only."),
        };
        return failure_page(&error);
    }
    let figure = match params.figure.trim() {
        "" | "victims_referred" => stage::RECEIVED.to_owned(),
        figure if crate::report::FUNNEL.contains(&figure) => figure.to_owned(),
        figure => {
            let error = ApiError::rejected("figure_unknown", format!("There is no figure called {figure:?} to list."));
            return failure_page(&error);
        }
    };
    let condition = if figure == stage::RECEIVED {
        "$4 = $4"
    } else if state::ALL.contains(&figure.as_str()) {
        "state = $4"
    } else {
        "(',' || stages || ',') LIKE ('%,' || $4 || ',%')"
    };
    // `by` is one of DIMENSIONS (checked by request_of), each a column of reporting_units.
    let (by_condition, value) = match &request.by {
        Some(by) => (format!("AND {by} = $5"), params.value.trim().to_owned()),
        None => ("AND $5 = $5".to_owned(), String::new()),
    };
    let sql = format!(
        "SELECT id, received_day, state FROM reporting_units WHERE service = $1 AND received_day >= $2 \
         AND received_day <= $3 AND {condition} {by_condition} ORDER BY received_day, id LIMIT {}",
        DRILL_DOWN_LIMIT + 1
    );
    let rows: Vec<(String, String, String)> = match sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&service)
        .bind(request.from.to_string())
        .bind(request.to.to_string())
        .bind(&figure)
        .bind(&value)
        .fetch_all(state.ctx.db.pool())
        .await
    {
        Ok(rows) => rows,
        Err(error) => return failure_page(&ApiError::unavailable(error)),
    };
    let more = rows.len() as i64 > DRILL_DOWN_LIMIT;
    let link = |id: &str| {
        if service == "hub" { format!("/hub/referrals/{id}") } else { format!("/services/{service}/cases/{id}") }
    };
    let title = format!("{}: {}", service.to_uppercase(), words(&figure));
    respond(
        StatusCode::OK,
        staff_page(
            &title,
            html! {
                h1.app-heading-l { (title) }
                p.app-body {
                    "Received from " (long_date(request.from)) " to " (long_date(request.to))
                    @if let Some(by) = &request.by { ", " (dimension_label(by).to_lowercase()) " " (words(&value)) }
                    ". Opening a referral is recorded in the audit trail, as everywhere."
                }
                @if rows.is_empty() {
                    p.app-body { "There are none." }
                } @else {
                    table.app-table {
                        caption.app-visually-hidden { (title) }
                        thead { tr { th scope="col" { "Referral" } th scope="col" { "Received" } th scope="col" { "Now" } } }
                        tbody {
                            @for (id, day, now) in rows.iter().take(DRILL_DOWN_LIMIT as usize) {
                                tr {
                                    td { a.app-link href=(link(id)) { (id[..8].to_uppercase()) } }
                                    td { (day) }
                                    td { (words(now)) }
                                }
                            }
                        }
                    }
                    @if more {
                        p.app-body { "Only the first " (DRILL_DOWN_LIMIT) " are listed: choose a shorter period or a breakdown." }
                    }
                }
                p.app-body { a.app-link href={ "/figures?" (query_of(&request)) } { "Back to the figures" } }
            },
        ),
    )
}

fn commissioner() -> bool {
    casetrack_platform::access::current().is_some_and(|p| p.account.role == Role::Commissioner)
}

/// The request the page's parameters make; without dates, this financial year so far.
fn request_of(params: &SummaryParams) -> Result<Request, ApiError> {
    let today = Utc::now().date_naive();
    let mut params = SummaryParams { wait_for: None, ..params.clone() };
    if params.period.trim().is_empty() {
        if params.from.trim().is_empty() {
            params.from = financial_year_of(today).from.to_string();
        }
        if params.to.trim().is_empty() {
            params.to = today.to_string();
        }
    }
    params.request()
}

/// The report a signed-in user may see: published for a commissioner.
async fn report_for(state: &FiguresState, request: &Request) -> Result<Report, ApiError> {
    let report = report(&state.ctx, request).await?;
    Ok(if commissioner() { publish(report, state.threshold) } else { report })
}

/// The download's query: the same figures as on screen.
fn query_of(request: &Request) -> String {
    let mut query = format!("from={}&to={}", request.from, request.to);
    if let Some(service) = &request.service {
        query.push_str(&format!("&service={service}"));
    }
    if let Some(by) = &request.by {
        query.push_str(&format!("&by={by}"));
    }
    query
}

async fn export_csv(State(state): State<FiguresState>, Query(params): Query<SummaryParams>) -> Response {
    let request = match request_of(&params) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    match report_for(&state, &request).await {
        Ok(report) => match crate::export::csv(&report) {
            Ok(text) => download(text.into_bytes(), "text/csv; charset=utf-8", &request, "csv"),
            Err(error) => ApiError::unavailable(error).into_response(),
        },
        Err(error) => error.into_response(),
    }
}

async fn export_xlsx(State(state): State<FiguresState>, Query(params): Query<SummaryParams>) -> Response {
    let request = match request_of(&params) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    match report_for(&state, &request).await {
        Ok(report) => match crate::export::workbook(&report) {
            Ok(bytes) => {
                download(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &request, "xlsx")
            }
            Err(error) => ApiError::unavailable(error).into_response(),
        },
        Err(error) => error.into_response(),
    }
}

fn download(bytes: Vec<u8>, content_type: &'static str, request: &Request, extension: &str) -> Response {
    let name = format!("casetrack-figures-{}-to-{}.{extension}", request.from, request.to);
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /figures?period=|from=&to=&service=&by=`.
pub async fn figures_page(State(state): State<FiguresState>, Query(params): Query<SummaryParams>) -> Response {
    let mut errors = FormErrors::new();
    let request = match request_of(&params) {
        Ok(request) => Some(request),
        Err(error) => {
            let field = match error.code {
                "period_invalid" => "period",
                "dimension_unknown" => "by",
                "period_reversed" => "to",
                _ if params.from.trim().parse::<chrono::NaiveDate>().is_err() => "from",
                _ => "to",
            };
            errors.add(field, error.message);
            None
        }
    };
    let (report, months) = match &request {
        Some(request) => match (report_for(&state, request).await, monthly(&state.ctx, request).await) {
            (Ok(report), Ok(months)) => (Some(report), months),
            (Err(error), _) | (_, Err(error)) => return failure_page(&error),
        },
        None => (None, BTreeMap::new()),
    };
    let services = crate::report::services(&state.ctx).await.unwrap_or_default();
    // Outcome measures by the labels the services' lists give them.
    let labels: BTreeMap<String, String> = state
        .ctx
        .catalogue
        .codes()
        .iter()
        .filter_map(|code| state.ctx.catalogue.get(code.as_str()))
        .flat_map(|definition| definition.outcome_measures.iter().map(|m| (m.code.clone(), m.label.clone())))
        .collect();
    let published = commissioner();
    let threshold = state.threshold;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let from_text = request.as_ref().map_or(params.from.clone(), |r| r.from.to_string());
    let to_text = request.as_ref().map_or(params.to.clone(), |r| r.to.to_string());
    respond(
        status,
        staff_page(
            "Figures",
            html! {
                (errors.summary())
                h1.app-heading-l { "Figures" }
                form.app-filter method="get" action="/figures" {
                    (text_input("period", "Named period", Some("2026-07, FY2026-27 or FY2026-27 Q1"), &params.period, &errors))
                    (text_input("from", "Or from (YYYY-MM-DD)", None, &from_text, &errors))
                    (text_input("to", "To (YYYY-MM-DD)", None, &to_text, &errors))
                    (select("service", "Service", &std::iter::once(("", "All services".to_owned()))
                        .chain(services.iter().map(|s| (s.as_str(), s.to_uppercase()))).collect::<Vec<_>>(), params.service.trim(), &errors))
                    (select("by", "Break down by", &std::iter::once(("", "Nothing".to_owned()))
                        .chain(DIMENSIONS.iter().map(|d| (*d, dimension_label(d).to_owned()))).collect::<Vec<_>>(), params.by.trim(), &errors))
                    button.app-button type="submit" { "Show" }
                }
                @if let (Some(request), Some(report)) = (&request, &report) {
                    p.app-body {
                        "Referrals received from " (long_date(request.from)) " to " (long_date(request.to))
                        " (days in England and Wales), and where they are now. "
                        @if published {
                            "Counts from 1 to " (threshold - 1) " are shown as “<" (threshold) "”, and a count that would let one be worked out as “[c]”, so that nobody can be recognised. "
                        }
                        "How each figure is counted: the notes sheet of the workbook, and docs/metrics.md."
                    }
                    p.app-body {
                        "Download what is on this page: "
                        a.app-link href={ "/figures/export.csv?" (query_of(request)) } { "CSV" }
                        " or "
                        a.app-link href={ "/figures/export.xlsx?" (query_of(request)) } { "workbook (XLSX)" }
                        "."
                    }
                    @if report.services.is_empty() {
                        p.app-body { "Nothing was recorded in this period." }
                    }
                    @if report.services.len() > 1 {
                        (comparison(report))
                    }
                    @for service in &report.services {
                        (service_section(&serde_json::to_value(service).unwrap_or_default(), months.get(&service.service), published, threshold, request, &labels))
                    }
                }
            },
        ),
    )
}

fn select(id: &str, label: &str, options: &[(&str, String)], chosen: &str, errors: &FormErrors) -> Markup {
    html! {
        div.app-form-group.app-form-group--error[errors.message(id).is_some()] {
            label.app-label for=(id) { (label) }
            (errors.inline(id))
            select.app-select #(id) name=(id) {
                @for (value, text) in options {
                    option value=(value) selected[*value == chosen] { (text) }
                }
            }
        }
    }
}

fn shown(value: &Value) -> String {
    crate::export::cell(value)
}

/// A horizontal bar chart, its numbers in the table beside it. A hidden count has no bar, only its mark.
fn bar_chart(id: &str, title: &str, bars: &[(String, Value)], percent: bool) -> Markup {
    let max = bars.iter().filter_map(|(_, v)| v.as_f64()).fold(0.0_f64, f64::max).max(1.0);
    let (label_width, bar_width, row) = (230.0, 330.0, 28.0);
    let height = row * bars.len() as f64 + 10.0;
    let text_of = |v: &Value| match v.as_f64() {
        Some(n) if percent => format!("{:.0}%", n * 100.0),
        _ => shown(v),
    };
    html! {
        h3.app-heading-s { (title) }
        div.app-chart {
            svg role="img" aria-labelledby={ (id) "-title" } width="640" height=(height) viewBox={ "0 0 640 " (height) } xmlns="http://www.w3.org/2000/svg" {
                title #{ (id) "-title" } { (title) }
                @for (i, (label, value)) in bars.iter().enumerate() {
                    @let y = 5.0 + row * i as f64;
                    text x="0" y=(y + 18.0) font-size="14" fill="#0b0c0c" { (label) }
                    @if let Some(n) = value.as_f64() {
                        rect x=(label_width) y=(y + 3.0) width=(bar_width * n / max) height=(row - 8.0) fill="#1d70b8" {}
                        text x=(label_width + bar_width * n / max + 6.0) y=(y + 18.0) font-size="14" fill="#0b0c0c" { (text_of(value)) }
                    } @else {
                        text x=(label_width) y=(y + 18.0) font-size="14" fill="#505a5f" { (text_of(value)) }
                    }
                }
            }
            table.app-table {
                caption.app-visually-hidden { (title) }
                tbody {
                    @for (label, value) in bars {
                        tr { th scope="row" { (label) } td { (text_of(value)) } }
                    }
                }
            }
        }
    }
}

/// Monthly trend lines: referrals received, contacted and supported per month received. A hidden month has no point
/// (its line joins the months either side); the table gives its mark.
fn trend_chart(id: &str, title: &str, months: &[String], series: &[(&str, Vec<Value>)]) -> Markup {
    let max = series.iter().flat_map(|(_, v)| v.iter().filter_map(Value::as_f64)).fold(1.0_f64, f64::max);
    let (left, top, width, height) = (50.0, 20.0, 540.0, 200.0);
    let step = if months.len() > 1 { width / (months.len() - 1) as f64 } else { 0.0 };
    let point = |i: usize, n: f64| (left + step * i as f64, top + height - height * n / max);
    let styles = [("#1d70b8", ""), ("#00703c", "6 4"), ("#d4351c", "2 3")];
    html! {
        h3.app-heading-s { (title) }
        div.app-chart {
            svg role="img" aria-labelledby={ (id) "-title" } width="640" height="290" viewBox="0 0 640 290" xmlns="http://www.w3.org/2000/svg" {
                title #{ (id) "-title" } { (title) }
                line x1=(left) y1=(top + height) x2=(left + width) y2=(top + height) stroke="#0b0c0c" {}
                line x1=(left) y1=(top) x2=(left) y2=(top + height) stroke="#0b0c0c" {}
                text x="0" y=(top + 5.0) font-size="12" { (max) }
                text x="0" y=(top + height) font-size="12" { "0" }
                @for (i, month) in months.iter().enumerate() {
                    text x=(left + step * i as f64 - 20.0) y=(top + height + 18.0) font-size="12" { (month) }
                }
                @for (k, (name, values)) in series.iter().enumerate() {
                    @let (colour, dash) = styles[k % styles.len()];
                    @let points: Vec<String> = values.iter().enumerate().filter_map(|(i, v)| v.as_f64().map(|n| { let (x, y) = point(i, n); format!("{x:.1},{y:.1}") })).collect();
                    polyline points=(points.join(" ")) fill="none" stroke=(colour) stroke-width="3" stroke-dasharray=(dash) {}
                    @for (i, v) in values.iter().enumerate() {
                        @if let Some(n) = v.as_f64() {
                            @let (x, y) = point(i, n);
                            circle cx=(x) cy=(y) r="4" fill=(colour) {}
                        }
                    }
                    line x1=(left + 160.0 * k as f64) y1="270" x2=(left + 160.0 * k as f64 + 30.0) y2="270" stroke=(colour) stroke-width="3" stroke-dasharray=(dash) {}
                    text x=(left + 160.0 * k as f64 + 36.0) y="275" font-size="13" { (words(name)) }
                }
            }
            table.app-table {
                caption.app-visually-hidden { (title) }
                thead { tr { th scope="col" { "Month" } @for (name, _) in series { th scope="col" { (words(name)) } } } }
                tbody {
                    @for (i, month) in months.iter().enumerate() {
                        tr { th scope="row" { (month) } @for (_, values) in series { td { (shown(&values[i])) } } }
                    }
                }
            }
        }
    }
}

/// Referrals received and contacted per service.
fn comparison(report: &Report) -> Markup {
    let bars: Vec<(String, Value)> = report
        .services
        .iter()
        .map(|s| (s.service.to_uppercase(), s.funnel.get(stage::RECEIVED).cloned().unwrap_or_default()))
        .collect();
    html! {
        h2.app-heading-m { "Services compared" }
        (bar_chart("comparison", "Referrals received, per service", &bars, false))
    }
}

/// The service's onward referrals per target service, and what became of them (each milestone counted once per
/// referral, so a row reads as a funnel).
fn onward_table(name: &str, onward: &serde_json::Map<String, Value>, outcomes: &Value) -> Markup {
    html! {
        table.app-table {
            caption { (name.to_uppercase()) ": onward referrals and what became of them" }
            thead { tr {
                th scope="col" { "Referred to" }
                th scope="col" { "Referred" }
                @for milestone in stage::ONWARD_MILESTONES { th scope="col" { (words(milestone)) } }
            } }
            tbody {
                @for (target, referred) in onward {
                    tr {
                        th scope="row" { (target.to_uppercase()) }
                        td { (shown(referred)) }
                        @for milestone in stage::ONWARD_MILESTONES {
                            td { (shown(outcomes[target].get(milestone).unwrap_or(&Value::from(0)))) }
                        }
                    }
                }
            }
        }
    }
}

fn service_section(
    service: &Value,
    months: Option<&BTreeMap<String, BTreeMap<String, i64>>>,
    published: bool,
    threshold: u64,
    request: &Request,
    labels: &BTreeMap<String, String>,
) -> Markup {
    let by = request.by.as_deref();
    let name = shown(&service["service"]);
    // Staff who work this service's cases can open the referrals behind a figure; a commissioner never.
    let period = format!("from={}&to={}", request.from, request.to);
    let drill = (!published && own_service().as_deref() == Some(name.as_str())).then_some(period.as_str());
    let id = |part: &str| format!("{name}-{part}");
    let funnel_names: &[&str] = if name == "hub" {
        &[stage::RECEIVED, stage::CONTACT_ATTEMPTED, stage::CONTACTED, stage::SUPPORTED]
    } else {
        &[stage::RECEIVED, stage::ACCEPTED, stage::CONTACT_ATTEMPTED, stage::CONTACTED]
    };
    let funnel: Vec<(String, Value)> = funnel_names.iter().map(|f| (words(f), service[*f].clone())).collect();
    let states: Vec<(String, Value)> =
        state::ALL.iter().filter(|s| service[**s] != 0).map(|s| (words(s), service[*s].clone())).collect();
    let outcomes: Vec<(String, Value)> = service["outcomes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(measure, o)| {
            (labels.get(measure).cloned().unwrap_or_else(|| words(measure)), o["share_improved"].clone())
        })
        .collect();
    let first = &service["first_contact"];
    let month_names: Vec<String> = months.map(|m| m.keys().cloned().collect()).unwrap_or_default();
    let series: Vec<(&str, Vec<Value>)> = [stage::RECEIVED, stage::CONTACTED, stage::SUPPORTED]
        .into_iter()
        .filter(|f| name == "hub" || *f != stage::SUPPORTED)
        .map(|f| {
            let line: Vec<u64> = month_names
                .iter()
                .map(|m| months.and_then(|x| x[m].get(f)).copied().unwrap_or(0).max(0) as u64)
                .collect();
            let values = if published {
                // The months add up to the period's figure: suppressed as a line with that total.
                suppress_line(&line, threshold)
                    .0
                    .into_iter()
                    .map(|s| match s {
                        Shown::Count(n) => Value::from(n),
                        other => Value::from(other.text(threshold)),
                    })
                    .collect()
            } else {
                line.into_iter().map(Value::from).collect()
            };
            (f, values)
        })
        .collect();
    html! {
        section {
            h2.app-heading-m { (name.to_uppercase()) }
            (bar_chart(&id("funnel"), &format!("{}: the funnel of referrals received", name.to_uppercase()), &funnel, false))
            @if let Some(query) = drill {
                p.app-body {
                    "List the referrals behind a figure: "
                    @for (i, f) in funnel_names.iter().chain(state::ALL.iter().filter(|s| service[**s] != 0)).enumerate() {
                        @if i > 0 { ", " }
                        a.app-link href={ "/figures/referrals?" (query) "&service=" (name) "&figure=" (f) } { (words(f).to_lowercase()) }
                    }
                    "."
                }
            }
            @if !states.is_empty() {
                (bar_chart(&id("states"), &format!("{}: where they are now", name.to_uppercase()), &states, false))
            }
            p.app-body {
                "Distinct victims referred: " (shown(&service["victims_referred"])) ". "
                "Open at the end of the period: " (shown(&service["caseload"]["open_at_end"]))
                " (of them referred as children: " (shown(&service["caseload"]["open_at_end_under_18"])) "). "
                @if name == "hub" {
                    "Self-referrals: " (shown(&service[stage::SELF_REFERRALS])) ", of whom went on to report to police: "
                    (shown(&service[stage::SELF_REFERRALS_REPORTED])) ". "
                    "First contact attempts: " (shown(&first["attempted"]))
                    @if let (Some(median), Some(p90)) = (first["median_days"].as_i64(), first["p90_days"].as_i64()) {
                        ", median " (median) " days and 90th percentile " (p90) " days after the crime report"
                    }
                    @if let Some(share) = first["share_within_deadline"].as_f64() {
                        ", " (format!("{:.0}%", share * 100.0)) " within the Victims' Code's 2 working days"
                    }
                    "."
                }
            }
            @if let Some(onward) = service["onward_referrals"].as_object().filter(|o| !o.is_empty()) {
                (onward_table(&name, onward, &service["onward_outcomes"]))
            }
            @if !outcomes.is_empty() {
                (bar_chart(&id("outcomes"), &format!("{}: share improved, per outcome measure, at closures in the period", name.to_uppercase()), &outcomes, true))
            }
            @if month_names.len() > 1 {
                (trend_chart(&id("trend"), &format!("{}: referrals per month received", name.to_uppercase()), &month_names, &series))
            }
            @if let (Some(by), Some(rows)) = (by, service["breakdown"].as_array()) {
                table.app-table {
                    caption { (name.to_uppercase()) " by " (dimension_label(by).to_lowercase()) }
                    thead { tr {
                        th scope="col" { (dimension_label(by)) }
                        @for f in funnel_names { th scope="col" { (words(f)) } }
                        th scope="col" { "Open" }
                    } }
                    tbody {
                        @for row in rows {
                            tr {
                                th scope="row" {
                                    @if let Some(query) = drill {
                                        a.app-link href={ "/figures/referrals?" (query) "&service=" (name) "&by=" (by) "&value=" (shown(&row["value"])) } { (words(&shown(&row["value"]))) }
                                    } @else {
                                        (words(&shown(&row["value"])))
                                    }
                                }
                                @for f in funnel_names { td { (shown(&row[*f])) } }
                                td { (shown(&row[state::OPEN])) }
                            }
                        }
                    }
                }
            }
        }
    }
}

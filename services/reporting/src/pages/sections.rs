//! What the figures page shows: the headline figures of the period beside the same period last year, the services
//! compared, and one section per service, collapsed until opened (the funnel, where the referrals are now, the
//! caseload, first contact, onward referrals, outcome measures, activity, the monthly trend, a breakdown).

use std::collections::BTreeMap;

use maud::{Markup, html};
use serde_json::Value;

use crate::labels::{label, service_name, thousands, words};
use crate::projections::cohort::{dimension_label, stage, state};
use crate::views::report::{Report, Request};

use super::charts::{bar_chart, shown, trend_chart};
use super::common::own_service;

/// What the page names things by: the report's names of services and outcome measures.
fn names(report: &Report) -> impl Fn(&str) -> Option<String> + '_ {
    |code: &str| report.name(code)
}

/// A count summed over services (hidden marks count as nothing: the headline shows exact figures).
fn sum(report: &Report, pick: impl Fn(&Value) -> Option<u64>) -> u64 {
    report.services.iter().filter_map(|s| pick(&serde_json::to_value(s).ok()?)).sum()
}

/// One headline figure: this period and the same period last year.
struct Headline {
    label: &'static str,
    now: String,
    before: String,
    /// What it counts, in a sentence.
    rule: &'static str,
}

fn hub(report: &Report) -> Option<Value> {
    report.services.iter().find(|s| s.service == "hub").and_then(|s| serde_json::to_value(s).ok())
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "none to count".to_owned() } else { format!("{:.0}%", part as f64 * 100.0 / whole as f64) }
}

/// The headline figures of a report: the hub's funnel, time to first contact, Victims' Code compliance and the
/// share better able to cope, over every service.
fn headline_values(report: &Report) -> Vec<(String, String)> {
    let hub = hub(report).unwrap_or(Value::Null);
    // No hub row at all (nothing received in the period): every count is 0, not blank.
    let count = |name: &str| match &hub[name] {
        Value::Null => "0".to_owned(),
        value => value.as_u64().map_or_else(|| shown(value), thousands),
    };
    let first = &hub["first_contact"];
    let median = first["median_days"].as_i64().map_or_else(
        || "none to count".to_owned(),
        |d| {
            if d == 1 { "1 day".to_owned() } else { format!("{d} days") }
        },
    );
    let code = &hub["victims_code"];
    let both = |figure: &str| ["enhanced", "standard"].iter().filter_map(|g| code[g][figure].as_u64()).sum::<u64>();
    let (within, attempted) = (both("contacted_on_time"), both("victims"));
    let asked = sum(report, |s| s["outcomes"]["cope"]["asked"].as_u64());
    let improved = sum(report, |s| s["outcomes"]["cope"]["improved"].as_u64());
    let specialist = sum(report, |s| (s["service"] != "hub").then(|| s["referrals_received"].as_u64()).flatten());
    vec![
        ("referrals_received".into(), count(stage::RECEIVED)),
        ("contacted".into(), count(stage::CONTACTED)),
        ("supported".into(), count(stage::SUPPORTED)),
        ("declined".into(), count(state::DECLINED)),
        ("unable_to_contact".into(), count(state::UNABLE_TO_CONTACT)),
        ("median".into(), median),
        ("code".into(), percent(within, attempted)),
        (
            "cope".into(),
            if asked == 0 {
                "none asked".into()
            } else {
                format!("{} ({} of {})", percent(improved, asked), thousands(improved), thousands(asked))
            },
        ),
        ("specialist".into(), thousands(specialist)),
    ]
}

/// The headline figures of the period, each beside the same period last year.
pub(super) fn headlines(report: &Report, last_year: &Report) -> Markup {
    let now = headline_values(report);
    let before = headline_values(last_year);
    let rows: Vec<Headline> = [
        ("Victims referred to the hub", "Referrals the hub received in the period."),
        ("Contacted", "Of them, victims the hub reached at least once."),
        ("Accepted support", "Of them, victims who accepted support from the hub."),
        ("Declined support", "Of them, victims who were reached and declined support."),
        ("Unable to contact", "Of them, victims the hub could not reach after the required attempts."),
        ("Time to first contact (median)", "Half of the victims had a first call or message within this time of reporting the crime."),
        ("Contacted within the Victims' Code time", "Share of victims first reached within the Victims' Code time: 2 working days of reporting the crime for victims entitled to enhanced rights, 5 for others (weekends and bank holidays not counted)."),
        ("Better able to cope", "At cases closed in the period, of victims asked, the share who said they were better able to cope with everyday life."),
        ("Cases opened by specialist services", "New cases in the specialist services (IDVA, ISVA, stalking, restorative justice and others), from the hub or referred directly."),
    ]
    .into_iter()
    .zip(now.into_iter().zip(before))
    .map(|((label, rule), ((_, now), (_, before)))| Headline { label, now, before, rule })
    .collect();
    html! {
        h2.app-heading-m { "The period at a glance" }
        table.app-table.app-headlines tabindex="0" {
            caption.app-visually-hidden { "Headline figures of the period and the same period last year" }
            thead { tr {
                th scope="col" { "Figure" }
                th scope="col" class="app-numeric" { "This period" }
                th scope="col" class="app-numeric" { "Same period last year" }
                th scope="col" { "What it counts" }
            } }
            tbody {
                @for row in &rows {
                    tr {
                        th scope="row" { (row.label) }
                        td.app-numeric { strong { (row.now) } }
                        td.app-numeric { (row.before) }
                        td { (row.rule) }
                    }
                }
            }
        }
    }
}

/// Referrals received per service.
pub(super) fn comparison(report: &Report) -> Markup {
    let names = names(report);
    let bars: Vec<(String, Value)> = report
        .services
        .iter()
        .map(|s| (service_name(&s.service, &names), s.funnel.get(stage::RECEIVED).cloned().unwrap_or_default()))
        .collect();
    html! {
        h2.app-heading-m { "Services compared" }
        (bar_chart("comparison", "Referrals received, per service", "Referrals received", &bars, false))
    }
}

/// The service's onward referrals per target service, and what became of them (each milestone counted once per
/// referral, so a row reads as a funnel).
fn onward_table(
    name: &str,
    onward: &serde_json::Map<String, Value>,
    outcomes: &Value,
    names: &dyn Fn(&str) -> Option<String>,
) -> Markup {
    html! {
        h3.app-heading-s { "Referred on, and what became of them" }
        p.app-body { "Of the referrals received in the period and referred on to a specialist service, how many the service opened, accepted, contacted and so on. A case can reach several of these, so they do not add up." }
        div.app-table-scroll {
            table.app-table tabindex="0" {
                caption.app-visually-hidden { (name) ": onward referrals and what became of them" }
                thead { tr {
                    th scope="col" { "Referred to" }
                    th scope="col" class="app-numeric" { "Referred" }
                    @for milestone in stage::ONWARD_MILESTONES { th scope="col" class="app-numeric" { (words(milestone)) } }
                } }
                tbody {
                    @for (target, referred) in onward {
                        tr {
                            th scope="row" { (service_name(target, names)) }
                            td.app-numeric { (shown(referred)) }
                            @for milestone in stage::ONWARD_MILESTONES {
                                td.app-numeric { (shown(outcomes[target].get(milestone).unwrap_or(&Value::from(0)))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The sentence that defines the one "open" figure the page shows.
pub(super) const OPEN_DEFINITION: &str = "Open cases at the end of the period: cases received on or before the \
    period's last day that had not been closed, declined or otherwise ended by the end of that day, whenever they \
    were received.";

pub(super) struct SectionContext<'a> {
    pub report: &'a Report,
    pub request: &'a Request,
    pub months: Option<&'a BTreeMap<String, BTreeMap<String, i64>>>,
    /// Victims' Code compliance per month received: month -> figure -> count.
    pub code_months: Option<&'a BTreeMap<String, BTreeMap<String, i64>>>,
    /// Whether breakdowns are suppressed (a commissioner's).
    pub suppressed: bool,
    /// Whether the period's last month is not over yet (its trend point is a part month).
    pub incomplete_last: bool,
}

pub(super) fn service_section(service: &Value, context: &SectionContext<'_>) -> Markup {
    let names = names(context.report);
    let request = context.request;
    let by = request.by.as_deref();
    let code = crate::export::cell(&service["service"]);
    let name = service_name(&code, &names);
    // Staff who work this service's cases can open the referrals behind a figure; a commissioner never.
    let period = format!("from={}&to={}", request.from, request.to);
    let drill = (own_service().as_deref() == Some(code.as_str())).then_some(period.as_str());
    let id = |part: &str| format!("{code}-{part}");
    let funnel_names: &[&str] = if code == "hub" {
        &[stage::RECEIVED, stage::CONTACT_ATTEMPTED, stage::CONTACTED, stage::SUPPORTED]
    } else {
        &[stage::RECEIVED, stage::ACCEPTED, stage::CONTACT_ATTEMPTED, stage::CONTACTED]
    };
    let funnel: Vec<(String, Value)> = funnel_names.iter().map(|f| (label(f, &names), service[*f].clone())).collect();
    let states: Vec<(String, Value)> =
        state::ALL.iter().filter(|s| service[**s] != 0).map(|s| (label(s, &names), service[*s].clone())).collect();
    let outcomes: Vec<(String, Value)> = service["outcomes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(measure, o)| {
            (names(&format!("measure:{measure}")).unwrap_or_else(|| words(measure)), o["share_improved"].clone())
        })
        .collect();
    let activity: Vec<(String, Value)> = service["activity"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| **v != 0)
        .map(|(name, v)| (label(&format!("activity.{name}"), &names), v.clone()))
        .collect();
    let first = &service["first_contact"];
    let caseload = &service["caseload"];
    let month_names: Vec<String> = context.months.map(|m| m.keys().cloned().collect()).unwrap_or_default();
    let series: Vec<(String, Vec<Value>)> = [stage::RECEIVED, stage::CONTACTED, stage::SUPPORTED]
        .into_iter()
        .filter(|f| code == "hub" || *f != stage::SUPPORTED)
        .map(|f| {
            let line = month_names
                .iter()
                .map(|m| Value::from(context.months.and_then(|x| x[m].get(f)).copied().unwrap_or(0).max(0)))
                .collect();
            (label(f, &names), line)
        })
        .collect();
    html! {
        details.app-service id={ "service-" (code) } open[request.service.as_deref() == Some(code.as_str())] {
            summary {
                span.app-heading-m { (name) }
                " — " (shown(&service[stage::RECEIVED])) " received, "
                (shown(&caseload["open_at_end"])) " open at the end of the period"
            }
            (bar_chart(&id("funnel"), &format!("{name}: referrals received in the period, and how far they got"), "Referrals", &funnel, false))
            @if let Some(query) = drill {
                p.app-body {
                    "List the referrals behind a figure: "
                    @for (i, f) in funnel_names.iter().chain(state::ALL.iter().filter(|s| service[**s] != 0)).enumerate() {
                        @if i > 0 { ", " }
                        a.app-link href={ "/figures/referrals?" (query) "&service=" (code) "&figure=" (f) } { (label(f, &names).to_lowercase()) }
                    }
                    "."
                }
            }
            (bar_chart(&id("states"), &format!("{name}: where the referrals received in the period are now"), "Referrals", &states, false))
            h3.app-heading-s { "Caseload" }
            table.app-table tabindex="0" {
                caption.app-visually-hidden { (name) ": caseload" }
                tbody {
                    tr { th scope="row" { "Open cases at the end of the period" } td.app-numeric { strong { (shown(&caseload["open_at_end"])) } } }
                    tr { th scope="row" { "Open at the start of the period" } td.app-numeric { (shown(&caseload["open_at_start"])) } }
                    tr { th scope="row" { "Cases worked in the period (carried in and new)" } td.app-numeric { (shown(&caseload["supported"])) } }
                    tr { th scope="row" { "of them carried in from before the period" } td.app-numeric { (shown(&caseload["carried_in"])) } }
                    tr { th scope="row" { "of them new in the period" } td.app-numeric { (shown(&caseload["new"])) } }
                    tr { th scope="row" { "of them children (under 18 when referred)" } td.app-numeric { (shown(&caseload["supported_under_18"])) } }
                }
            }
            p.app-body.app-definition { (OPEN_DEFINITION) }
            @if code == "hub" {
                p.app-body {
                    "Self-referrals: " (shown(&service[stage::SELF_REFERRALS])) ", of whom went on to report to police: "
                    (shown(&service[stage::SELF_REFERRALS_REPORTED])) ". "
                    "First attempts to contact: " (shown(&first["attempted"]))
                    @if let (Some(median), Some(p90)) = (first["median_days"].as_i64(), first["p90_days"].as_i64()) {
                        "; half were made within " (median) " days of the crime report and nine in ten within " (p90) " days"
                    }
                    @if let Some(share) = first["share_within_deadline"].as_f64() {
                        "; " (format!("{:.0}%", share * 100.0)) " within the Victims' Code's 2 working days"
                    }
                    "."
                }
            }
            (code_table(&name, &code, &service["victims_code"], context.code_months))
            @if let Some(onward) = service["onward_referrals"].as_object().filter(|o| !o.is_empty()) {
                (onward_table(&name, onward, &service["onward_outcomes"], &names))
            }
            @if !outcomes.is_empty() {
                (bar_chart(&id("outcomes"), &format!("{name}: share of victims asked who said this improved, at cases closed in the period"), "Share improved", &outcomes, true))
            }
            @if !activity.is_empty() {
                h3.app-heading-s { "What happened in the period" }
                table.app-table tabindex="0" {
                    caption.app-visually-hidden { (name) ": activity in the period" }
                    tbody {
                        @for (label, value) in &activity {
                            tr { th scope="row" { (label) } td.app-numeric { (shown(value)) } }
                        }
                    }
                }
            }
            @if month_names.len() > 1 {
                (trend_chart(&id("trend"), &format!("{name}: referrals per month received"), &month_names, &series, context.incomplete_last))
            }
            @if let (Some(by), Some(rows)) = (by, service["breakdown"].as_array()) {
                h3.app-heading-s { (name) " by " (dimension_label(by).to_lowercase()) }
                @if context.suppressed {
                    p.app-body { "Counts from 1 to 4 are shown as “<5”, and a count that would let one be worked out as “[c]”, so that nobody can be recognised from their characteristics." }
                }
                div.app-table-scroll {
                    table.app-table tabindex="0" {
                        caption.app-visually-hidden { (name) " by " (dimension_label(by).to_lowercase()) }
                        thead { tr {
                            th scope="col" { (dimension_label(by)) }
                            @for f in funnel_names { th scope="col" class="app-numeric" { (label(f, &names)) } }
                            th scope="col" class="app-numeric" { (label(state::OPEN, &names)) }
                        } }
                        tbody {
                            @for row in rows {
                                tr {
                                    th scope="row" {
                                        @if let Some(query) = drill {
                                            a.app-link href={ "/figures/referrals?" (query) "&service=" (code) "&by=" (by) "&value=" (shown(&row["value"])) } { (words(&shown(&row["value"]))) }
                                        } @else {
                                            (words(&shown(&row["value"])))
                                        }
                                    }
                                    @for f in funnel_names { td.app-numeric { (shown(&row[*f])) } }
                                    td.app-numeric { (shown(&row[state::OPEN])) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Victims' Code compliance for the period and per month received, enhanced rights apart.
fn code_table(
    name: &str,
    code: &str,
    total: &Value,
    months: Option<&BTreeMap<String, BTreeMap<String, i64>>>,
) -> Markup {
    let share = |part: u64, whole: u64| {
        if whole == 0 { "–".to_owned() } else { format!("{:.0}%", part as f64 * 100.0 / whole as f64) }
    };
    let cell = |victims: &Value, part: &Value| match (victims.as_u64(), part.as_u64()) {
        (Some(v), Some(p)) => format!("{} of {} ({})", thousands(p), thousands(v), share(p, v)),
        _ => format!("{} of {}", shown(part), shown(victims)),
    };
    let hub = code == "hub";
    let groups = [("enhanced", "Enhanced rights (2 working days)"), ("standard", "Other victims (5 working days)")];
    let month_cell = |figures: &BTreeMap<String, i64>, group: &str, figure: &str| {
        let get = |suffix: &str| figures.get(&format!("code.{group}{suffix}")).copied().unwrap_or(0).max(0) as u64;
        let victims = get("");
        let part = get(&format!(".{figure}"));
        format!("{} of {} ({})", thousands(part), thousands(victims), share(part, victims))
    };
    html! {
        h3.app-heading-s { "Victims' Code: contacted in time" }
        p.app-body {
            "Of the victims referred in the period (not counting those who asked not to be contacted), how many were first reached"
            @if hub { ", and had their needs assessed," }
            " within the Victims' Code time: 2 working days from reporting the crime for victims entitled to enhanced rights, 5 for others. Weekends and bank holidays in England and Wales are not counted."
        }
        div.app-table-scroll {
            table.app-table tabindex="0" {
                caption.app-visually-hidden { (name) ": Victims' Code compliance" }
                thead { tr {
                    th scope="col" { "Month received" }
                    @for (_, group) in groups {
                        th scope="col" class="app-numeric" { (group) ": contacted" }
                        @if hub { th scope="col" class="app-numeric" { (group) ": needs assessed" } }
                    }
                } }
                tbody {
                    @for (month, figures) in months.into_iter().flatten() {
                        tr {
                            th scope="row" { (month) }
                            @for (group, _) in groups {
                                td.app-numeric { (month_cell(figures, group, "contacted_on_time")) }
                                @if hub { td.app-numeric { (month_cell(figures, group, "needs_on_time")) } }
                            }
                        }
                    }
                    tr.app-total {
                        th scope="row" { "The whole period" }
                        @for (group, _) in groups {
                            td.app-numeric { strong { (cell(&total[group]["victims"], &total[group]["contacted_on_time"])) } }
                            @if hub { td.app-numeric { strong { (cell(&total[group]["victims"], &total[group]["needs_assessed_on_time"])) } } }
                        }
                    }
                }
            }
        }
    }
}

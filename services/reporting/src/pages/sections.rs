//! What the figures page shows per service (the funnel, where the referrals are now, trends, first contact, outcome
//! measures, onward referrals) and the comparison of services.

use std::collections::BTreeMap;

use casetrack_web::pages::words;
use maud::{Markup, html};
use serde_json::Value;

use crate::projections::cohort::{dimension_label, stage, state};
use crate::suppression::{Shown, suppress_line};
use crate::views::report::{Report, Request};

use super::charts::{bar_chart, shown, trend_chart};
use super::common::own_service;

/// Referrals received and contacted per service.
pub(super) fn comparison(report: &Report) -> Markup {
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

pub(super) fn service_section(
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
    let caseload = &service["caseload"];
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
                "Open at the start of the period: " (shown(&caseload["open_at_start"]))
                " (of them referred as children: " (shown(&caseload["open_at_start_under_18"])) "). "
                "Open at the end of the period: " (shown(&caseload["open_at_end"]))
                " (of them referred as children: " (shown(&caseload["open_at_end_under_18"])) "). "
                (if name == "hub" { "Referrals" } else { "Cases" }) " supported during the period (open at some point in it): "
                (shown(&caseload["supported"])) ", of them adults (or age not recorded): " (shown(&caseload["supported_adults"]))
                " and children: " (shown(&caseload["supported_under_18"])) "; carried in from before the period: "
                (shown(&caseload["carried_in"])) " (adults " (shown(&caseload["carried_in_adults"])) ", children "
                (shown(&caseload["carried_in_under_18"])) "), new in the period: " (shown(&caseload["new"]))
                " (adults " (shown(&caseload["new_adults"])) ", children " (shown(&caseload["new_under_18"])) "). "
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

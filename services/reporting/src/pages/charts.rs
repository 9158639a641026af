//! Charts drawn on the server as SVG, readable without JavaScript, each with its numbers in a table beside it.

use casetrack_web::pages::words;
use maud::{Markup, html};
use serde_json::Value;

pub(super) fn shown(value: &Value) -> String {
    crate::export::cell(value)
}

/// A horizontal bar chart, its numbers in the table beside it. A hidden count has no bar, only its mark.
pub(super) fn bar_chart(id: &str, title: &str, bars: &[(String, Value)], percent: bool) -> Markup {
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
pub(super) fn trend_chart(id: &str, title: &str, months: &[String], series: &[(&str, Vec<Value>)]) -> Markup {
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

//! Charts drawn on the server as SVG, readable without JavaScript, each with its numbers in a table beside it: axes
//! with ticks and titles, long labels wrapped, counts with thousands separators. A chart with nothing to draw says
//! why instead of drawing nothing.

use maud::{Markup, html};
use serde_json::Value;

use crate::labels::thousands;

pub(super) fn shown(value: &Value) -> String {
    match value {
        Value::Number(n) => n.as_u64().map_or_else(|| n.to_string(), thousands),
        other => crate::export::cell(other),
    }
}

/// Round steps for an axis from 0 to at least `max`: (step, top).
pub(super) fn ticks(max: f64) -> (f64, f64) {
    let max = max.max(1.0);
    let rough = max / 4.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= rough).unwrap_or(magnitude * 10.0);
    let step = step.max(1.0);
    (step, (max / step).ceil() * step)
}

/// A label broken into lines of at most `width` characters, at spaces.
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// Why a chart of these values has nothing to draw, if it has not.
fn nothing_to_draw(values: &[&Value]) -> Option<&'static str> {
    let numbers: Vec<f64> = values.iter().filter_map(|v| v.as_f64()).collect();
    if values.is_empty() || (numbers.len() == values.len() && numbers.iter().all(|n| *n == 0.0)) {
        return Some("There is no chart: nothing was counted here in this period.");
    }
    if numbers.is_empty() || numbers.iter().all(|n| *n == 0.0) {
        return Some(
            "There is no chart: every count here is small enough to be hidden, so that nobody can be recognised. \
             The table gives what can be shown.",
        );
    }
    None
}

/// A horizontal bar chart, its numbers in the table beside it. A hidden count has no bar, only its mark. `axis`
/// names what the bars count ("Referrals", "Share improved").
pub(super) fn bar_chart(id: &str, title: &str, axis: &str, bars: &[(String, Value)], percent: bool) -> Markup {
    let text_of = |v: &Value| match v.as_f64() {
        Some(n) if percent => format!("{:.0}%", n * 100.0),
        _ => shown(v),
    };
    let table = html! {
        table.app-table tabindex="0" {
            caption.app-visually-hidden { (title) }
            thead { tr { th scope="col" { "" } th scope="col" class="app-numeric" { (axis) } } }
            tbody {
                @for (label, value) in bars {
                    tr { th scope="row" { (label) } td.app-numeric { (text_of(value)) } }
                }
            }
        }
    };
    let values: Vec<&Value> = bars.iter().map(|(_, v)| v).collect();
    if let Some(why) = nothing_to_draw(&values) {
        return html! {
            h3.app-heading-s { (title) }
            p.app-body.app-chart-empty { (why) }
            (table)
        };
    }
    let max = if percent { 1.0 } else { bars.iter().filter_map(|(_, v)| v.as_f64()).fold(0.0_f64, f64::max) };
    let (step, top) = if percent { (0.25, 1.0) } else { ticks(max) };
    let (label_width, bar_width, line) = (240.0, 320.0, 15.0);
    let wrapped: Vec<Vec<String>> = bars.iter().map(|(label, _)| wrap(label, 32)).collect();
    let heights: Vec<f64> = wrapped.iter().map(|lines| (lines.len().max(1) as f64 * line).max(24.0) + 8.0).collect();
    let plot_height: f64 = heights.iter().sum();
    let height = plot_height + 50.0;
    let x = |n: f64| label_width + bar_width * n / top;
    let tick_values: Vec<f64> = (0..=((top / step).round() as usize)).map(|i| i as f64 * step).collect();
    let tick_text = |n: f64| if percent { format!("{:.0}%", n * 100.0) } else { thousands(n as u64) };
    html! {
        h3.app-heading-s { (title) }
        div.app-chart {
            svg role="img" aria-labelledby={ (id) "-title" } width="660" height=(height) viewBox={ "0 0 660 " (height) } xmlns="http://www.w3.org/2000/svg" {
                title #{ (id) "-title" } { (title) }
                @for t in &tick_values {
                    line x1=(x(*t)) y1="0" x2=(x(*t)) y2=(plot_height) stroke="#b1b4b6" stroke-width="1" {}
                    text x=(x(*t)) y=(plot_height + 16.0) font-size="12" text-anchor="middle" fill="#0b0c0c" { (tick_text(*t)) }
                }
                text x=(label_width + bar_width / 2.0) y=(plot_height + 36.0) font-size="13" text-anchor="middle" fill="#0b0c0c" { (axis) }
                @for (i, (_, value)) in bars.iter().enumerate() {
                    @let y: f64 = heights[..i].iter().sum();
                    @let h = heights[i];
                    text x="0" y=(y + 16.0) font-size="13" fill="#0b0c0c" {
                        @for (k, part) in wrapped[i].iter().enumerate() {
                            tspan x="0" dy=(if k == 0 { 0.0 } else { line }) { (part) }
                        }
                    }
                    @if let Some(n) = value.as_f64() {
                        rect x=(label_width) y=(y + 3.0) width=(bar_width * n / top) height=(h.min(30.0) - 8.0) fill="#1d70b8" {}
                        text x=(x(n) + 6.0) y=(y + 16.0) font-size="13" fill="#0b0c0c" { (text_of(value)) }
                    } @else {
                        text x=(label_width + 4.0) y=(y + 16.0) font-size="13" fill="#505a5f" { (text_of(value)) " (hidden)" }
                    }
                }
                line x1=(label_width) y1="0" x2=(label_width) y2=(plot_height) stroke="#0b0c0c" {}
            }
            (table)
        }
    }
}

/// Monthly trend lines (referrals received, contacted, supported per month received). A hidden month has no point
/// (its line joins the months either side); the last month is drawn apart, dotted and marked "so far", when the
/// period is not over, so a part month never reads as a fall. The table gives every month's figures.
pub(super) fn trend_chart(
    id: &str,
    title: &str,
    months: &[String],
    series: &[(String, Vec<Value>)],
    incomplete_last: bool,
) -> Markup {
    let month_label = |m: &str| {
        chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
            .map_or_else(|_| m.to_owned(), |d| d.format("%b %Y").to_string())
    };
    let table = html! {
        table.app-table tabindex="0" {
            caption.app-visually-hidden { (title) }
            thead { tr { th scope="col" { "Month received" } @for (name, _) in series { th scope="col" class="app-numeric" { (name) } } } }
            tbody {
                @for (i, month) in months.iter().enumerate() {
                    tr {
                        th scope="row" { (month_label(month)) @if incomplete_last && i + 1 == months.len() { " (so far: the month is not over)" } }
                        @for (_, values) in series { td.app-numeric { (shown(&values[i])) } }
                    }
                }
            }
        }
    };
    let values: Vec<&Value> = series.iter().flat_map(|(_, v)| v.iter()).collect();
    if let Some(why) = nothing_to_draw(&values) {
        return html! { h3.app-heading-s { (title) } p.app-body.app-chart-empty { (why) } (table) };
    }
    let max = values.iter().filter_map(|v| v.as_f64()).fold(0.0_f64, f64::max);
    let (step, top) = ticks(max);
    let (left, plot_top, width, height) = (60.0, 20.0, 540.0, 200.0);
    let x_step = if months.len() > 1 { width / (months.len() - 1) as f64 } else { 0.0 };
    let point = |i: usize, n: f64| (left + x_step * i as f64, plot_top + height - height * n / top);
    let styles = [("#1d70b8", ""), ("#00703c", "6 4"), ("#d4351c", "2 3")];
    let complete = if incomplete_last { months.len().saturating_sub(1) } else { months.len() };
    let every = months.len().div_ceil(12).max(1);
    html! {
        h3.app-heading-s { (title) }
        div.app-chart {
            svg role="img" aria-labelledby={ (id) "-title" } width="660" height="330" viewBox="0 0 660 330" xmlns="http://www.w3.org/2000/svg" {
                title #{ (id) "-title" } { (title) }
                @for k in 0..=((top / step).round() as usize) {
                    @let n = k as f64 * step;
                    @let (_, y) = point(0, n);
                    line x1=(left) y1=(y) x2=(left + width) y2=(y) stroke="#b1b4b6" stroke-width="1" {}
                    text x=(left - 6.0) y=(y + 4.0) font-size="12" text-anchor="end" fill="#0b0c0c" { (thousands(n as u64)) }
                }
                text x="14" y=(plot_top + height / 2.0) font-size="13" text-anchor="middle" transform={ "rotate(-90 14 " (plot_top + height / 2.0) ")" } { "Referrals" }
                line x1=(left) y1=(plot_top + height) x2=(left + width) y2=(plot_top + height) stroke="#0b0c0c" {}
                line x1=(left) y1=(plot_top) x2=(left) y2=(plot_top + height) stroke="#0b0c0c" {}
                @for (i, month) in months.iter().enumerate() {
                    @if i % every == 0 || i + 1 == months.len() {
                        text x=(left + x_step * i as f64) y=(plot_top + height + 18.0) font-size="12" text-anchor="middle" { (month_label(month)) }
                    }
                }
                @if incomplete_last && !months.is_empty() {
                    @let x = left + x_step * (months.len() - 1) as f64;
                    text x=(x) y=(plot_top + height + 34.0) font-size="12" text-anchor="middle" fill="#505a5f" { "so far" }
                }
                text x=(left + width / 2.0) y=(plot_top + height + 52.0) font-size="13" text-anchor="middle" { "Month received" }
                @for (k, (name, values)) in series.iter().enumerate() {
                    @let (colour, dash) = styles[k % styles.len()];
                    @let points: Vec<String> = values.iter().take(complete).enumerate().filter_map(|(i, v)| v.as_f64().map(|n| { let (x, y) = point(i, n); format!("{x:.1},{y:.1}") })).collect();
                    polyline points=(points.join(" ")) fill="none" stroke=(colour) stroke-width="3" stroke-dasharray=(dash) {}
                    @for (i, v) in values.iter().enumerate() {
                        @if let Some(n) = v.as_f64() {
                            @let (x, y) = point(i, n);
                            @if i < complete {
                                circle cx=(x) cy=(y) r="4" fill=(colour) {}
                            } @else {
                                circle cx=(x) cy=(y) r="4" fill="white" stroke=(colour) stroke-width="2" {}
                            }
                        }
                    }
                    line x1=(left + 180.0 * k as f64) y1="312" x2=(left + 180.0 * k as f64 + 30.0) y2="312" stroke=(colour) stroke-width="3" stroke-dasharray=(dash) {}
                    text x=(left + 180.0 * k as f64 + 36.0) y="317" font-size="13" { (name) }
                }
            }
            (table)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_have_round_ticks_and_labels_wrap() {
        assert_eq!(ticks(0.0), (1.0, 1.0));
        assert_eq!(ticks(7.0), (2.0, 8.0));
        assert_eq!(ticks(329.0), (100.0, 400.0));
        assert_eq!(ticks(1283.0), (500.0, 1500.0));
        assert_eq!(
            wrap("Have a better experience of the criminal justice system", 32),
            ["Have a better experience of the", "criminal justice system"]
        );
    }
}

//! A report as text, CSV (wide: a row per service; long: a row per figure) or a workbook, for the report command and
//! the dashboard's downloads alike. Every figure is named by its label (`crate::labels`), services by their names,
//! in the dashboard's order; a hidden count stays as its mark ("<5" or "[c]") and is flagged in the long layout.

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};
use serde_json::Value;

use crate::labels::{FAMILIES, FIGURES, label, order, service_name, thousands};
use crate::report::{FUNNEL, Report};

/// One service's figures as (name, value) pairs, nested maps flattened (`activity.contact_attempts`), the breakdown
/// left out, in the dashboard's order.
pub fn figures(service: &Value) -> Vec<(String, Value)> {
    fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(fields) => {
                for (name, field) in fields {
                    if prefix.is_empty() && matches!(name.as_str(), "breakdown" | "service") {
                        continue;
                    }
                    let name = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                    flatten(&name, field, out);
                }
            }
            other => out.push((prefix.to_owned(), other.clone())),
        }
    }
    let mut out = Vec::new();
    flatten("", service, &mut out);
    let code = cell(&service["service"]);
    out.retain(|(name, _)| crate::labels::applies(&code, name));
    out.sort_by_key(|(name, _)| order(name));
    out
}

/// A value as a cell shows it: numbers as numbers, "<5" and "[c]" as they are, nothing as empty.
pub fn cell(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A value for reading: counts with thousands separators, shares as percentages.
fn readable(name: &str, value: &Value) -> String {
    match value {
        Value::Number(n) if name.contains("share") => {
            n.as_f64().map_or_else(String::new, |n| format!("{:.0}%", n * 100.0))
        }
        Value::Number(n) => n.as_u64().map_or_else(|| n.to_string(), thousands),
        other => cell(other),
    }
}

/// Whether a value was hidden by small-number suppression.
fn suppressed(value: &Value) -> bool {
    value.as_str().is_some_and(|text| text.starts_with('<') || text == "[c]")
}

fn json(report: &Report) -> Value {
    serde_json::to_value(report).expect("a report serialises")
}

/// The breakdown rows of a service: (value, funnel pairs in FUNNEL order).
fn breakdown(service: &Value) -> Vec<(String, Vec<Value>)> {
    service["breakdown"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| (cell(&row["value"]), FUNNEL.iter().map(|name| row[*name].clone()).collect()))
                .collect()
        })
        .unwrap_or_default()
}

/// The period as words: "1 April 2026 to 31 March 2027".
pub fn period_words(report: &Report) -> String {
    format!("{} to {}", report.from.format("%-d %B %Y"), report.to.format("%-d %B %Y"))
}

/// What a report's names say: a service's name, a measure's label.
fn namer(report: &Report) -> impl Fn(&str) -> Option<String> + '_ {
    |code: &str| report.name(code)
}

/// Every figure's label across the services, in the dashboard's order (the wide CSV's columns).
fn columns(services: &[Value]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for service in services {
        for (name, _) in figures(service) {
            if !columns.contains(&name) {
                columns.push(name);
            }
        }
    }
    columns.sort_by_key(|name| order(name));
    columns
}

fn csv_text(writer: csv::Writer<Vec<u8>>) -> anyhow::Result<String> {
    Ok(String::from_utf8(writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?)
}

fn safe(text: &str) -> String {
    casetrack_web::spreadsheet::text(text).into_owned()
}

/// CSV, wide: one row per service with every figure under its label; with a breakdown, one row per service and
/// value with the funnel.
pub fn csv(report: &Report) -> anyhow::Result<String> {
    let names = namer(report);
    let value = json(report);
    let services = value["services"].as_array().cloned().unwrap_or_default();
    let mut writer = csv::Writer::from_writer(Vec::new());
    if let Some(by) = &report.by {
        let header = ["Service".to_owned(), crate::projections::cohort::dimension_label(by).to_owned()]
            .into_iter()
            .chain(FUNNEL.iter().map(|f| label(f, &names)));
        writer.write_record(header)?;
        for service in &services {
            let name = safe(&service_name(&cell(&service["service"]), &names));
            writer.write_record(
                [name.clone(), "All".into()].into_iter().chain(FUNNEL.iter().map(|f| cell(&service[*f]))),
            )?;
            for (value, figures) in breakdown(service) {
                let value = safe(&crate::labels::words(&value));
                writer.write_record([name.clone(), value].into_iter().chain(figures.iter().map(cell)))?;
            }
        }
    } else {
        let columns = columns(&services);
        writer.write_record(
            ["Period".to_owned(), "Service".to_owned()].into_iter().chain(columns.iter().map(|c| label(c, &names))),
        )?;
        for service in &services {
            let row = figures(service);
            let name = safe(&service_name(&cell(&service["service"]), &names));
            writer.write_record([period_words(report), name].into_iter().chain(columns.iter().map(|column| {
                row.iter().find(|(name, _)| name == column).map_or_else(String::new, |(_, v)| cell(v))
            })))?;
        }
    }
    csv_text(writer)
}

/// One figure of the long layout.
pub struct LongRow {
    pub service: String,
    pub figure: String,
    /// "All", or the breakdown's dimension and value ("Gender: female").
    pub breakdown: String,
    pub value: String,
    pub suppressed: bool,
}

/// Every figure of the report a row: each service's figures, then its breakdown's.
pub fn long_rows(report: &Report) -> Vec<LongRow> {
    let names = namer(report);
    let value = json(report);
    let mut out = Vec::new();
    for service in value["services"].as_array().into_iter().flatten() {
        let name = service_name(&cell(&service["service"]), &names);
        for (figure, value) in figures(service) {
            out.push(LongRow {
                service: name.clone(),
                figure: label(&figure, &names),
                breakdown: "All".into(),
                value: cell(&value),
                suppressed: suppressed(&value),
            });
        }
        if let Some(by) = &report.by {
            let dimension = crate::projections::cohort::dimension_label(by);
            for (row, values) in breakdown(service) {
                for (figure, value) in FUNNEL.iter().zip(values) {
                    out.push(LongRow {
                        service: name.clone(),
                        figure: label(figure, &names),
                        breakdown: format!("{dimension}: {}", crate::labels::words(&row).to_lowercase()),
                        value: cell(&value),
                        suppressed: suppressed(&value),
                    });
                }
            }
        }
    }
    out
}

/// CSV, long: one row per figure (period, service, figure, breakdown, value, suppressed), for pivot tables.
pub fn csv_long(report: &Report) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["period", "service", "figure", "breakdown", "value", "suppressed"])?;
    let period = period_words(report);
    for row in long_rows(report) {
        writer.write_record([
            period.clone(),
            safe(&row.service),
            safe(&row.figure),
            safe(&row.breakdown),
            row.value,
            if row.suppressed { "yes" } else { "no" }.to_owned(),
        ])?;
    }
    csv_text(writer)
}

/// For reading in a terminal: one block per service, a figure a line, by label.
pub fn table(report: &Report) -> String {
    let names = namer(report);
    let value = json(report);
    let mut out = format!("Figures from {}\n", period_words(report));
    for service in value["services"].as_array().into_iter().flatten() {
        out.push_str(&format!("\n{}\n", service_name(&cell(&service["service"]), &names)));
        let rows: Vec<(String, String)> =
            figures(service).iter().map(|(name, value)| (label(name, &names), readable(name, value))).collect();
        let width = rows.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0);
        for (name, value) in &rows {
            out.push_str(&format!("  {name:<width$}  {value:>9}\n"));
        }
        let rows = breakdown(service);
        if let (Some(by), false) = (&report.by, rows.is_empty()) {
            out.push_str(&format!("\n  By {}:\n", crate::projections::cohort::dimension_label(by).to_lowercase()));
            for (value, figures) in rows {
                out.push_str(&format!("  {}\n", crate::labels::words(&value)));
                for (name, figure) in FUNNEL.iter().zip(&figures) {
                    out.push_str(&format!("    {:<width$}  {:>9}\n", label(name, &names), readable(name, figure)));
                }
            }
        }
    }
    out
}

/// What the notes sheet says, line by line: for a commissioner, no developer words.
pub fn notes(report: &Report, published: bool, threshold: u64) -> Vec<(String, String)> {
    let mut lines = vec![
        ("Period".to_owned(), format!("{} (whole days in England and Wales)", period_words(report))),
        (
            "Counted from".to_owned(),
            "What staff recorded as happening, dated when it happened (not when it was typed in). Figures are \
             recounted from the full record and come out the same every time."
                .to_owned(),
        ),
        (
            "Small numbers".to_owned(),
            if published {
                format!(
                    "Prepared for publication: counts from 1 to {} are shown as \"<{threshold}\", and a count that \
                     would let one of them be worked out from a total is shown as \"[c]\", so that nobody can be \
                     recognised.",
                    threshold - 1
                )
            } else {
                "Exact counts, for the commissioner's own use: not for publication as they stand (download the \
                 version for publication instead)."
                    .to_owned()
            },
        ),
        ("".to_owned(), "".to_owned()),
        ("Figure".to_owned(), "How it is counted".to_owned()),
    ];
    lines.extend(FIGURES.iter().map(|figure| (figure.label.to_owned(), figure.rule.to_owned())));
    lines.extend(FAMILIES.iter().map(|(prefix, rule)| {
        let name = match *prefix {
            "onward_referrals." => "Referred on to ...",
            "onward_outcomes." => "What became of referrals passed on",
            "outcomes." => "Cope-and-recover measures",
            _ => "Activity in the period",
        };
        (name.to_owned(), (*rule).to_owned())
    }));
    lines
}

/// A workbook: a sheet per service (each figure by label, then the breakdown when there is one), header rows
/// frozen, counts and shares formatted, and a notes sheet saying how each figure is counted, for which period and
/// with what suppression.
pub fn workbook(report: &Report, published: bool, threshold: u64) -> Result<Vec<u8>, XlsxError> {
    let names = namer(report);
    let value = json(report);
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    let count = Format::new().set_num_format("#,##0");
    let share = Format::new().set_num_format("0%");
    let marked = Format::new().set_align(FormatAlign::Right);
    let write = |sheet: &mut rust_xlsxwriter::Worksheet, row: u32, column: u16, name: &str, value: &Value| match value
        .as_f64()
    {
        Some(n) if name.contains("share") => sheet.write_with_format(row, column, n, &share).map(|_| ()),
        Some(n) => sheet.write_with_format(row, column, n, &count).map(|_| ()),
        None => sheet.write_with_format(row, column, cell(value), &marked).map(|_| ()),
    };
    let mut used: Vec<String> = Vec::new();
    for service in value["services"].as_array().into_iter().flatten() {
        let full = service_name(&cell(&service["service"]), &names);
        let sheet = book.add_worksheet();
        // A sheet's name: at most 31 characters, none of []:*?/\ and unique.
        let mut sheet_name: String =
            full.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect::<String>().trim().to_owned();
        if used.contains(&sheet_name) {
            sheet_name = cell(&service["service"]).chars().take(31).collect();
        }
        used.push(sheet_name.clone());
        sheet.set_name(&sheet_name)?;
        sheet.set_column_width(0, 58)?;
        sheet.set_column_width(1, 14)?;
        sheet.write_with_format(0, 0, format!("{full}: {}", period_words(report)), &title)?;
        sheet.write_with_format(2, 0, "Figure", &bold)?;
        sheet.write_with_format(2, 1, "Value", &bold)?;
        sheet.set_freeze_panes(3, 0)?;
        let mut at = 3;
        for (figure, value) in figures(service) {
            sheet.write(at, 0, label(&figure, &names))?;
            write(sheet, at, 1, &figure, &value)?;
            at += 1;
        }
        let rows = breakdown(service);
        if let (Some(by), false) = (&report.by, rows.is_empty()) {
            at += 1;
            sheet.write_with_format(at, 0, crate::projections::cohort::dimension_label(by), &bold)?;
            for (i, figure) in FUNNEL.iter().enumerate() {
                sheet.write_with_format(at, 1 + i as u16, label(figure, &names), &bold)?;
                sheet.set_column_width(1 + i as u16, 14)?;
            }
            for (value, figures) in rows {
                at += 1;
                sheet.write(at, 0, crate::labels::words(&value))?;
                for (i, (name, figure)) in FUNNEL.iter().zip(&figures).enumerate() {
                    write(sheet, at, 1 + i as u16, name, figure)?;
                }
            }
        }
    }
    let sheet = book.add_worksheet();
    sheet.set_name("Notes")?;
    sheet.set_column_width(0, 40)?;
    sheet.set_column_width(1, 110)?;
    let wrap = Format::new().set_text_wrap();
    sheet.write_with_format(0, 0, "About these figures", &title)?;
    for (i, (name, text)) in notes(report, published, threshold).into_iter().enumerate() {
        let row = 2 + i as u32;
        sheet.write_with_format(row, 0, name, &bold)?;
        sheet.write_with_format(row, 1, text, &wrap)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

//! A report as text, CSV or a workbook, for the report command and the dashboard's downloads alike.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde_json::Value;

use crate::report::{FUNNEL, Report};

/// The counting rules, as the notes sheet of a workbook carries them.
pub const COUNTING_RULES: &str = include_str!("../../../docs/metrics.md");

/// One service's figures as (name, value) pairs, nested maps flattened (`onward_referrals.idva`), the breakdown
/// left out.
pub fn figures(service: &Value) -> Vec<(String, Value)> {
    fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(fields) => {
                for (name, field) in fields {
                    if prefix.is_empty() && name == "breakdown" {
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

/// CSV: one row per service with every figure; with a breakdown, one row per service and value with the funnel.
pub fn csv(report: &Report) -> anyhow::Result<String> {
    let report = json(report);
    let services = report["services"].as_array().cloned().unwrap_or_default();
    let mut writer = csv::Writer::from_writer(Vec::new());
    if let Some(by) = report["by"].as_str() {
        writer.write_record(["service", by].into_iter().chain(FUNNEL))?;
        for service in &services {
            let name = casetrack_web::spreadsheet::text(&cell(&service["service"])).into_owned();
            writer.write_record(
                [name.clone(), "all".into()].into_iter().chain(FUNNEL.iter().map(|f| cell(&service[*f]))),
            )?;
            for (value, figures) in breakdown(service) {
                let value = casetrack_web::spreadsheet::text(&value).into_owned();
                writer.write_record([name.clone(), value].into_iter().chain(figures.iter().map(cell)))?;
            }
        }
    } else {
        let rows: Vec<Vec<(String, Value)>> = services.iter().map(figures).collect();
        let mut columns: Vec<String> = Vec::new();
        for row in &rows {
            for (name, _) in row {
                if !columns.contains(name) {
                    columns.push(name.clone());
                }
            }
        }
        writer.write_record(&columns)?;
        for row in &rows {
            writer.write_record(columns.iter().map(|column| {
                row.iter().find(|(name, _)| name == column).map_or_else(|| "0".to_owned(), |(_, v)| cell(v))
            }))?;
        }
    }
    Ok(String::from_utf8(writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?)
}

/// For reading in a terminal: one block per service, a figure a line.
pub fn table(report: &Report) -> String {
    let report = json(report);
    let mut out = format!("Figures from {} to {}\n", cell(&report["from"]), cell(&report["to"]));
    for service in report["services"].as_array().into_iter().flatten() {
        out.push('\n');
        let rows = figures(service);
        let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
        for (name, value) in &rows {
            out.push_str(&format!("{name:<width$}  {:>8}\n", cell(value)));
        }
        let rows = breakdown(service);
        if !rows.is_empty() {
            out.push_str(&format!("\nby {}:\n{:<24}", cell(&report["by"]), ""));
            for name in FUNNEL {
                out.push_str(&format!(" {:>8.8}", name));
            }
            out.push('\n');
            for (value, figures) in rows {
                out.push_str(&format!("{value:<24}"));
                for figure in &figures {
                    out.push_str(&format!(" {:>8}", cell(figure)));
                }
                out.push('\n');
            }
        }
    }
    out
}

/// A workbook shaped like a funder's quarterly return: a sheet per service (each figure, then the breakdown when
/// there is one), and the counting rules on a notes sheet.
pub fn workbook(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let report = json(report);
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let write = |sheet: &mut rust_xlsxwriter::Worksheet, row: u32, column: u16, value: &Value| match value.as_f64() {
        Some(number) => sheet.write(row, column, number).map(|_| ()),
        None => sheet.write(row, column, cell(value)).map(|_| ()),
    };
    for service in report["services"].as_array().into_iter().flatten() {
        let name = cell(&service["service"]);
        let sheet = book.add_worksheet();
        sheet.set_name(name.chars().take(31).collect::<String>())?;
        sheet.set_column_width(0, 40)?;
        let title = format!("{} from {} to {}", name.to_uppercase(), cell(&report["from"]), cell(&report["to"]));
        sheet.write_with_format(0, 0, title, &bold)?;
        sheet.write_with_format(2, 0, "Figure", &bold)?;
        sheet.write_with_format(2, 1, "Value", &bold)?;
        let mut at = 3;
        for (figure, value) in figures(service).iter().filter(|(figure, _)| figure != "service") {
            sheet.write(at, 0, figure)?;
            write(sheet, at, 1, value)?;
            at += 1;
        }
        let rows = breakdown(service);
        if !rows.is_empty() {
            at += 1;
            sheet.write_with_format(at, 0, format!("By {}", cell(&report["by"])), &bold)?;
            for (i, figure) in FUNNEL.iter().enumerate() {
                sheet.write_with_format(at, 1 + i as u16, *figure, &bold)?;
            }
            for (value, figures) in rows {
                at += 1;
                sheet.write(at, 0, value)?;
                for (i, figure) in figures.iter().enumerate() {
                    write(sheet, at, 1 + i as u16, figure)?;
                }
            }
        }
    }
    let notes = book.add_worksheet();
    notes.set_name("Notes")?;
    notes.set_column_width(0, 120)?;
    for (i, line) in COUNTING_RULES.lines().enumerate() {
        notes.write(i as u32, 0, line)?;
    }
    book.save_to_buffer()
}

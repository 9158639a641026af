//! `casetrack report`: the pathway figures for a period, printed as a table or written as JSON or CSV, from the
//! same read model and code as the API and the figures page. `--publish` suppresses small numbers, as for
//! commissioners.

use std::io::Write as _;

use anyhow::Context as _;
use casetrack_platform::Context;
use casetrack_platform::config::Settings;
use chrono::NaiveDate;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// First day of the period (YYYY-MM-DD); the figures count whole months, in England and Wales.
    #[arg(long, required_unless_present = "period", requires = "to")]
    from: Option<NaiveDate>,
    /// Last day of the period (YYYY-MM-DD).
    #[arg(long, required_unless_present = "period", requires = "from")]
    to: Option<NaiveDate>,
    /// A named period instead of --from and --to: 2026-07, FY2026-27, or FY2026-27 Q1 (April to June).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    period: Option<String>,
    /// Only this service (hub, idva, ...).
    #[arg(long)]
    service: Option<String>,
    /// table (for reading), json, csv, or xlsx (a workbook shaped like a funder's return: a sheet per service and
    /// the counting rules on a notes sheet; needs --output).
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv", "xlsx"])]
    format: String,
    /// For publication: counts from 1 to the threshold minus one become "<N" (--suppression-threshold).
    #[arg(long)]
    publish: bool,
    /// Write to this file instead of standard output.
    #[arg(long)]
    output: Option<std::path::PathBuf>,
    #[command(flatten)]
    settings: Settings,
}

/// One service's figures as (name, value) pairs, nested maps flattened (`onward_referrals.idva`).
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
    match value {
        serde_json::Value::Object(fields) => {
            for (name, field) in fields {
                let name = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                flatten(&name, field, out);
            }
        }
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    casetrack_platform::telemetry::init_tracing(&args.settings.log_format);
    let (from, to) = match &args.period {
        Some(text) => {
            let period = casetrack_reporting::periods::parse(text).map_err(anyhow::Error::msg)?;
            (period.from, period.to)
        }
        None => (args.from.expect("clap requires --from"), args.to.expect("clap requires --to")),
    };
    anyhow::ensure!(from <= to, "--from must be on or before --to");
    let ctx = Context::connect(&args.settings).await?;
    let reporting = casetrack_reporting::service(&ctx);
    casetrack_platform::service::migrate(&ctx, &[reporting]).await?;
    let mut services =
        casetrack_reporting::api::figures(&ctx, from, to).await.map_err(|error| anyhow::anyhow!(error.message))?;
    if let Some(only) = &args.service {
        services.retain(|figures| &figures.service == only);
        anyhow::ensure!(!services.is_empty(), "no figures for a service called {only:?} in this period");
    }
    let mut report = serde_json::json!({"from": from, "to": to, "services": services});
    if args.publish {
        casetrack_reporting::api::suppress_small(&mut report, args.settings.suppression_threshold);
    }
    let rows: Vec<Vec<(String, serde_json::Value)>> = report["services"]
        .as_array()
        .expect("services is a list")
        .iter()
        .map(|service| {
            let mut pairs = Vec::new();
            flatten("", service, &mut pairs);
            pairs
        })
        .collect();
    let mut columns: Vec<String> = Vec::new();
    for row in &rows {
        for (name, _) in row {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    let value_of = |row: &[(String, serde_json::Value)], column: &str| {
        row.iter().find(|(name, _)| name == column).map_or_else(|| "0".to_owned(), |(_, v)| cell(v))
    };
    if args.format == "xlsx" {
        let path = args.output.as_ref().context("--format xlsx needs --output FILE.xlsx")?;
        return workbook((from, to), &rows, path);
    }
    let text = match args.format.as_str() {
        "json" => format!("{}\n", serde_json::to_string_pretty(&report)?),
        "csv" => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(&columns)?;
            for row in &rows {
                writer.write_record(columns.iter().map(|column| value_of(row, column)))?;
            }
            String::from_utf8(writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?
        }
        _ => {
            // One block per service: a figure a line, so that many figures stay readable in a terminal.
            let mut out = format!("Figures from {from} to {to}\n");
            for row in &rows {
                out.push('\n');
                let width = row.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
                for (name, value) in row {
                    out.push_str(&format!("{name:<width$}  {:>8}\n", cell(value)));
                }
            }
            out
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("failed to write {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// The counting rules, as the notes sheet of a workbook carries them.
const COUNTING_RULES: &str = include_str!("../../../docs/metrics.md");

/// A workbook: a sheet per service (figure, value), then the counting rules.
fn workbook(
    (from, to): (NaiveDate, NaiveDate),
    rows: &[Vec<(String, serde_json::Value)>],
    path: &std::path::Path,
) -> anyhow::Result<()> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for row in rows {
        let service = row.iter().find(|(name, _)| name == "service").map(|(_, v)| cell(v)).unwrap_or_default();
        let sheet = book.add_worksheet();
        sheet.set_name(service.chars().take(31).collect::<String>())?;
        sheet.set_column_width(0, 40)?;
        sheet.write_with_format(0, 0, format!("{} from {from} to {to}", service.to_uppercase()), &bold)?;
        sheet.write_with_format(2, 0, "Figure", &bold)?;
        sheet.write_with_format(2, 1, "Value", &bold)?;
        for (i, (name, value)) in row.iter().filter(|(name, _)| name != "service").enumerate() {
            let at = 3 + i as u32;
            sheet.write(at, 0, name)?;
            match value.as_f64() {
                Some(number) => sheet.write(at, 1, number)?,
                None => sheet.write(at, 1, cell(value))?,
            };
        }
    }
    let notes = book.add_worksheet();
    notes.set_name("Notes")?;
    notes.set_column_width(0, 120)?;
    for (i, line) in COUNTING_RULES.lines().enumerate() {
        notes.write(i as u32, 0, line)?;
    }
    book.save(path).with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}

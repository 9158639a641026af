//! `casetrack report`: the pathway figures for a period, printed as a table or written as JSON, CSV or a workbook,
//! from the same read models and code as the API and the dashboard. `--publish` suppresses small numbers, as for
//! commissioners.

use std::io::Write as _;

use crate::settings::Settings;
use anyhow::Context as _;
use casetrack_reporting::report::Request;
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
    /// Break the funnel down by one dimension: source, offence, domestic_abuse, age_band, gender, ethnic_group,
    /// bame, disability or repeat_victim.
    #[arg(long)]
    by: Option<String>,
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

pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    use casetrack_reporting::export;
    casetrack_web::telemetry::init_tracing(&args.settings.platform.log_format);
    let (from, to) = match &args.period {
        Some(text) => {
            let period = casetrack_reporting::periods::parse(text).map_err(anyhow::Error::msg)?;
            (period.from, period.to)
        }
        None => (args.from.expect("clap requires --from"), args.to.expect("clap requires --to")),
    };
    let request = Request { from, to, service: args.service.clone(), by: args.by.clone() };
    request.check().map_err(|error| anyhow::anyhow!(error.message))?;
    let ctx = args.settings.connect().await?;
    let reporting = casetrack_reporting::service(&ctx);
    casetrack_web::serve::migrate(&ctx, &[reporting]).await?;
    let mut report =
        casetrack_reporting::report::report(&ctx, &request).await.map_err(|error| anyhow::anyhow!(error.message))?;
    if let Some(only) = &args.service {
        anyhow::ensure!(!report.services.is_empty(), "no figures for a service called {only:?} in this period");
    }
    if args.publish {
        report = casetrack_reporting::report::publish(report, args.settings.suppression_threshold);
    }
    let bytes = match args.format.as_str() {
        "xlsx" => {
            anyhow::ensure!(args.output.is_some(), "--format xlsx needs --output FILE.xlsx");
            export::workbook(&report)?
        }
        "json" => format!("{}\n", serde_json::to_string_pretty(&report)?).into_bytes(),
        "csv" => export::csv(&report)?.into_bytes(),
        _ => export::table(&report).into_bytes(),
    };
    match &args.output {
        Some(path) => std::fs::write(path, bytes).with_context(|| format!("failed to write {}", path.display()))?,
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(())
}

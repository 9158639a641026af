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
    /// table (for reading), json, csv (a row per service, a column per figure), csv-long (a row per figure: period,
    /// service, figure, breakdown, value, suppressed), or xlsx (a sheet per service and a notes sheet saying how
    /// each figure is counted; needs --output), return (the funder's quarterly return: a workbook with a sheet per
    /// service, needs --output) or return-csv (the same return, a row per field).
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv", "csv-long", "xlsx", "return", "return-csv"])]
    format: String,
    /// For publication: counts from 1 to the threshold minus one become "<N" (--suppression-threshold).
    #[arg(long)]
    publish: bool,
    /// Do not bring the figures up to date first: refuse, saying how far behind they are, when the log has events
    /// not yet counted.
    #[arg(long)]
    no_catch_up: bool,
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
    bring_up_to_date(&ctx, args.no_catch_up).await?;
    if args.format.starts_with("return") {
        anyhow::ensure!(args.by.is_none(), "a return has its own breakdowns: leave out --by");
        let funders = casetrack_reporting::returns::funders_return(
            &ctx,
            &request,
            args.publish,
            args.settings.suppression_threshold,
        )
        .await
        .map_err(|error| anyhow::anyhow!(error.message))?;
        let bytes = if args.format == "return" {
            anyhow::ensure!(args.output.is_some(), "--format return needs --output FILE.xlsx");
            casetrack_reporting::returns::workbook(&funders)?
        } else {
            casetrack_reporting::returns::csv(&funders)?.into_bytes()
        };
        return write(args.output.as_deref(), &bytes);
    }
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
            export::workbook(&report, args.publish, args.settings.suppression_threshold)?
        }
        "json" => format!("{}\n", serde_json::to_string_pretty(&report)?).into_bytes(),
        "csv" => export::csv(&report)?.into_bytes(),
        "csv-long" => export::csv_long(&report)?.into_bytes(),
        _ => export::table(&report).into_bytes(),
    };
    write(args.output.as_deref(), &bytes)
}

fn write(output: Option<&std::path::Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, bytes).with_context(|| format!("failed to write {}", path.display()))?,
        None => std::io::stdout().write_all(bytes)?,
    }
    Ok(())
}

/// Never stale in silence: counts what the log holds that the figures have not counted yet, saying so on standard
/// error as it goes, or (with `--no-catch-up`) refuses, saying how far behind the figures are and how to catch up.
async fn bring_up_to_date(ctx: &casetrack_web::Context, refuse: bool) -> anyhow::Result<()> {
    use casetrack_reporting::freshness;
    use casetrack_reporting::labels::thousands;
    let before = freshness::freshness(ctx).await?;
    if before.behind() == 0 {
        return Ok(());
    }
    anyhow::ensure!(
        !refuse,
        "the figures are {} events behind the log (counted to position {} of {}): run this again without \
         --no-catch-up to count them first, or `casetrack rebuild --projection reporting.cohort` and \
         `--projection reporting.pathway`",
        thousands(before.behind()),
        before.counted,
        before.head
    );
    eprintln!("The figures are {} events behind the log: counting them first.", thousands(before.behind()));
    let reached = freshness::catch_up(ctx, |counted, head| {
        eprintln!(
            "  counted {} of {} events",
            thousands(counted.saturating_sub(before.counted)),
            thousands(head - before.counted)
        );
    })
    .await
    .context("failed to bring the figures up to date")?;
    eprintln!("The figures are up to date (log position {reached}).");
    Ok(())
}

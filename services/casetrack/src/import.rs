//! `casetrack import police-feed`: read, validate, list rejects, import.

use std::path::{Path, PathBuf};

use crate::settings::Settings;
use anyhow::Context as _;
use casetrack_hub::police_feed::{self, Reject};

pub async fn police_feed(
    settings: &Settings,
    file: &Path,
    dry_run: bool,
    rejects: Option<PathBuf>,
) -> anyhow::Result<()> {
    let received_at = chrono::Utc::now();
    let input = std::fs::File::open(file).with_context(|| format!("failed to open {}", file.display()))?;
    let feed = police_feed::parse(std::io::BufReader::new(input), received_at.date_naive())
        .with_context(|| format!("{} cannot be imported", file.display()))?;
    let rejects_path = rejects.unwrap_or_else(|| file.with_extension("rejects.csv"));
    write_rejects(&rejects_path, &feed.rejects)?;
    println!(
        "read {} rows: {} valid, {} rejected{}",
        feed.rows.len() + feed.rejects.len(),
        feed.rows.len(),
        feed.rejects.len(),
        if feed.rejects.is_empty() { String::new() } else { format!(" (listed in {})", rejects_path.display()) }
    );
    if dry_run {
        println!("dry run: nothing imported");
        return Ok(());
    }
    let ctx = settings.connect().await?;
    let started = std::time::Instant::now();
    let rows = feed.rows.len() as u64;
    let progress = crate::progress::Progress::start("import police-feed", "rows", rows);
    // The hub's import counts nothing as it goes; each new row is two commits (the person, the referral), so the
    // log's head says how far it has got (rows imported before add nothing, and are counted at the end).
    let start = ctx.log.head().await?.0;
    let follow = async {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            if let Ok(head) = ctx.log.head().await {
                progress.set((head.0.saturating_sub(start) / 2).min(rows));
            }
        }
    };
    let summary = tokio::select! {
        summary = casetrack_hub::intake::import(&ctx, feed.rows, received_at) => summary,
        () = follow => unreachable!("it follows until the import ends"),
    };
    progress.set(rows);
    progress.finish();
    println!(
        "imported in {:.1?}: {} new referrals, {} already imported, {} could not be saved",
        started.elapsed(),
        summary.created,
        summary.already_imported,
        summary.failed.len()
    );
    if !summary.failed.is_empty() {
        let lines: Vec<String> = summary.failed.iter().map(u64::to_string).collect();
        anyhow::bail!("rows on lines {} could not be saved; run the import again to retry them", lines.join(", "));
    }
    Ok(())
}

/// Line, column, crime reference and reason of each rejected row: never the victim's details.
fn write_rejects(path: &Path, rejects: &[Reject]) -> anyhow::Result<()> {
    if rejects.is_empty() {
        if path.exists() {
            std::fs::remove_file(path).with_context(|| format!("failed to remove the old {}", path.display()))?;
        }
        return Ok(());
    }
    let mut writer = csv::Writer::from_path(path).with_context(|| format!("failed to create {}", path.display()))?;
    writer.write_record(["line", "column", "crime_reference", "reason"])?;
    for reject in rejects {
        writer.write_record([
            reject.line.to_string(),
            reject.column.unwrap_or("").to_owned(),
            neutralise(reject.crime_reference.as_deref().unwrap_or("")),
            neutralise(&reject.message),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// Text written to a file a spreadsheet may open never starts like a formula (the one rule every export follows).
fn neutralise(text: &str) -> String {
    casetrack_web::spreadsheet::text(text).into_owned()
}

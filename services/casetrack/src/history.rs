//! `casetrack import history`: a service's caseload and history brought in from another case system, one row per
//! hub referral or specialist case (`docs/history-import.md`), through the same commands and rules as live work.
//!
//! Each row is read (`layout`), then rehearsed whole against its record's rules in memory (the hub's
//! `commands::history::rehearse`, the specialist services' likewise): a row the rules refuse anywhere is rejected
//! by line, column and rule, and nothing of it is written. The others are written as the system, each fact dated
//! when it happened with the reason "brought in from <file>": the person registered (sealed, as the police feed
//! registers them, keys fetched in batches), then the referral or case. Every id and command id derives from the
//! service and the legacy reference, so importing the file again writes nothing new. Rejects go beside the file
//! (`.rejects.csv`), never with the person's details; the summary's counts add up to the file's rows.

mod layout;

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;
use casetrack_casework::occurred::BackDating;
use casetrack_eventstore::command::{CommandError, CommandMeta};
use casetrack_hub::commands::history as hub;
use casetrack_people::person::{PersonRejection, register_with_key};
use casetrack_proto::{Actor, CommandId, PersonId, ServiceCode};
use casetrack_specialist::commands::history as specialist;
use casetrack_specialist::state::Desk;
use casetrack_vault::DataKey;
use casetrack_web::http::ApiError;
use futures::StreamExt as _;
use layout::{Record, Reject, Row};

use crate::settings::Settings;

/// Rows in flight at once (each its own referral or case, so they never contend).
const CONCURRENCY: usize = 16;
/// A progress line every this many rows.
const PROGRESS_EVERY: usize = 100;

/// What importing a file did: the counts add up to the rows of the file.
#[derive(Debug, Default)]
struct Summary {
    imported: usize,
    already_imported: usize,
    rejected: Vec<Reject>,
    /// Line numbers of rows that could not be saved (the cause is logged): importing again completes them.
    failed: Vec<u64>,
}

enum Outcome {
    Imported,
    AlreadyImported,
    Rejected(Box<Reject>),
    Failed,
}

pub async fn run(settings: &Settings, file: &Path, dry_run: bool, rejects: Option<PathBuf>) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let late_reason = format!("brought in from {name}");
    let catalogue = settings.catalogue()?;
    let input = std::fs::File::open(file).with_context(|| format!("failed to open {}", file.display()))?;
    let read = layout::read(std::io::BufReader::new(input), &catalogue, now, &late_reason)
        .with_context(|| format!("{} cannot be imported", file.display()))?;
    let hub_settings = hub_settings(settings);
    let window = BackDating { days: settings.back_dating_days };
    // Every row's record through its rules, in memory, before anything is written.
    let mut summary = Summary { rejected: read.rejects, ..Default::default() };
    let mut rows = Vec::with_capacity(read.rows.len());
    for row in read.rows {
        match rehearse(&row, &catalogue, hub_settings, window, now) {
            Ok(()) => rows.push(row),
            Err(reject) => summary.rejected.push(*reject),
        }
    }
    let total = rows.len() + summary.rejected.len();
    let rejects_path = rejects.unwrap_or_else(|| file.with_extension("rejects.csv"));
    if dry_run {
        write_rejects(&rejects_path, &mut summary.rejected)?;
        println!(
            "read {total} rows: {} to import or already imported, {} rejected{}",
            rows.len(),
            summary.rejected.len(),
            listed(&summary.rejected, &rejects_path)
        );
        println!("dry run: nothing imported");
        return Ok(());
    }
    let ctx = settings.connect().await?;
    let started = std::time::Instant::now();
    let people: Vec<PersonId> = rows.iter().map(|row| row.person_id).collect();
    // Every person's data key, created where missing, in a few large transactions rather than one per row.
    let keys = ctx.vault.keys_for(&people).await.context("the personal-data vault is unavailable")?;
    let hub = casetrack_hub::Hub::new(ctx.clone(), hub_settings);
    let codes =
        catalogue.all().iter().map(|s| ServiceCode::parse(s.code.as_str()).expect("a catalogue code")).collect();
    let desk = Desk::new(ctx.clone(), codes).with_back_dating(window);
    let done = AtomicUsize::new(summary.rejected.len());
    let terminal = std::io::stdout().is_terminal();
    let (ctx, keys, hub, desk, done) = (&ctx, &keys, &hub, &desk, &done);
    let outcomes: Vec<(u64, Outcome)> = futures::stream::iter(rows)
        .map(|row| async move {
            let line = row.line;
            let outcome = import_row(ctx, keys, hub, desk, row, now).await;
            let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
            if finished % PROGRESS_EVERY == 0 {
                if terminal {
                    print!("\r{finished} of {total} rows");
                } else {
                    println!("{finished} of {total} rows");
                }
            }
            (line, outcome)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    if terminal && total >= PROGRESS_EVERY {
        println!();
    }
    for (line, outcome) in outcomes {
        match outcome {
            Outcome::Imported => summary.imported += 1,
            Outcome::AlreadyImported => summary.already_imported += 1,
            Outcome::Rejected(reject) => summary.rejected.push(*reject),
            Outcome::Failed => summary.failed.push(line),
        }
    }
    summary.failed.sort_unstable();
    write_rejects(&rejects_path, &mut summary.rejected)?;
    println!(
        "imported {total} rows in {:.1?}: {} imported, {} already imported, {} rejected{}, {} could not be saved",
        started.elapsed(),
        summary.imported,
        summary.already_imported,
        summary.rejected.len(),
        listed(&summary.rejected, &rejects_path),
        summary.failed.len()
    );
    if !summary.failed.is_empty() {
        let lines: Vec<String> = summary.failed.iter().map(u64::to_string).collect();
        anyhow::bail!("rows on lines {} could not be saved; run the import again to complete them", lines.join(", "));
    }
    Ok(())
}

fn hub_settings(settings: &Settings) -> casetrack_hub::HubSettings {
    casetrack_hub::HubSettings {
        attempt_rule: casetrack_casework::contact::AttemptRule {
            attempts: settings.hub_attempts,
            distinct_bands: settings.hub_attempt_bands,
        },
        self_referrals_per_hour: settings.self_referrals_per_hour,
        back_dating: BackDating { days: settings.back_dating_days },
    }
}

fn listed(rejects: &[Reject], path: &Path) -> String {
    if rejects.is_empty() { String::new() } else { format!(" (listed in {})", path.display()) }
}

/// A reject of `row` for the refusal of its fact `fact`: the column the fact came from (a closure's answers where
/// the refusal is about them), and the rule.
fn refused(row: &Row, fact: usize, error: &ApiError) -> Box<Reject> {
    let column = match error.code {
        "unknown_measure" | "duplicate_measure" | "no_answers" => "outcome_answers",
        _ => row.columns.get(fact).copied().unwrap_or(""),
    };
    Box::new(Reject {
        line: row.line,
        column,
        rule: error.code,
        message: error.message.clone(),
        service: row.service.clone(),
        reference: row.reference.clone(),
    })
}

fn rehearse(
    row: &Row,
    catalogue: &casetrack_casework::catalogue::Catalogue,
    hub_settings: casetrack_hub::HubSettings,
    window: BackDating,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Box<Reject>> {
    match &row.record {
        Record::Hub(history) => hub::rehearse(history, hub_settings, now).map_err(|r| refused(row, r.fact, &r.error)),
        Record::Specialist(history) => {
            let definition = catalogue.get(&history.service).expect("a service of the catalogue (checked on reading)");
            specialist::rehearse(history, definition, window, now).map_err(|r| refused(row, r.fact, &r.error))
        }
    }
}

async fn import_row(
    ctx: &casetrack_web::Context,
    keys: &HashMap<PersonId, DataKey>,
    hub: &casetrack_hub::Hub,
    desk: &Desk,
    row: Row,
    now: chrono::DateTime<chrono::Utc>,
) -> Outcome {
    // No key: the person was erased since an earlier import; nothing of theirs is written again.
    let Some(key) = keys.get(&row.person_id) else { return Outcome::AlreadyImported };
    let command =
        CommandId(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("history register {}", row.key).as_bytes()));
    let meta = CommandMeta::repeatable(command, row.person_id.0, Actor::system(), row.received_at);
    match register_with_key(ctx, key, row.person_id, &row.details, &meta).await {
        Ok(_) | Err(CommandError::Rejected(PersonRejection::AlreadyRegistered)) => {}
        Err(error) => {
            tracing::error!(line = row.line, error = %error, "registering a history row's person failed");
            return Outcome::Failed;
        }
    }
    let brought = match &row.record {
        Record::Hub(history) => hub.bring_in(history, now).await.map(|b| b == hub::BroughtIn::AlreadyThere),
        Record::Specialist(history) => {
            desk.bring_in(history, now).await.map(|b| b == specialist::BroughtIn::AlreadyThere)
        }
    };
    match brought {
        Ok(true) => Outcome::AlreadyImported,
        Ok(false) => Outcome::Imported,
        Err(refusal) if refusal.error.status.is_server_error() => {
            tracing::error!(line = row.line, "a history row could not be saved");
            Outcome::Failed
        }
        // The rules refused what the rehearsal allowed: the record changed in Casetrack meanwhile.
        Err(refusal) => Outcome::Rejected(refused(&row, refusal.fact, &refusal.error)),
    }
}

/// Line, column, service, reference and rule of each rejected row, in line order: never the person's details.
fn write_rejects(path: &Path, rejects: &mut [Reject]) -> anyhow::Result<()> {
    rejects.sort_by_key(|r| r.line);
    if rejects.is_empty() {
        if path.exists() {
            std::fs::remove_file(path).with_context(|| format!("failed to remove the old {}", path.display()))?;
        }
        return Ok(());
    }
    let mut writer = csv::Writer::from_path(path).with_context(|| format!("failed to create {}", path.display()))?;
    writer.write_record(["line", "column", "service", "reference", "rule", "reason"])?;
    for reject in rejects.iter() {
        writer.write_record([
            reject.line.to_string(),
            reject.column.to_owned(),
            neutralise(&reject.service),
            neutralise(&reject.reference),
            reject.rule.to_owned(),
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

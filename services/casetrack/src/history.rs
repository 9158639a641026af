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

pub mod api;
mod layout;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

/// The rules a history file is judged by: the services, the hub's attempt rule and the back-dating window.
#[derive(Clone)]
pub struct Rules {
    pub catalogue: casetrack_casework::catalogue::Catalogue,
    pub hub: casetrack_hub::HubSettings,
    pub window: BackDating,
}

impl Rules {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        Ok(Self {
            catalogue: settings.catalogue()?,
            hub: hub_settings(settings),
            window: BackDating { days: settings.back_dating_days },
        })
    }
}

/// A file read and rehearsed: the rows to write (or already written) and the rows rejected.
pub struct Plan {
    rows: Vec<Row>,
    rejected: Vec<Reject>,
}

impl Plan {
    /// Rows in the file (every one is either to import or rejected).
    pub fn total(&self) -> usize {
        self.rows.len() + self.rejected.len()
    }
}

/// Reads a file and runs every row's record through its rules in memory, before anything is written. With `only`
/// (`hub`, or a service's code), a row of another area is rejected: an upload through the API brings in one area's
/// history, the one its manager manages.
pub fn plan(
    input: impl std::io::Read,
    rules: &Rules,
    now: chrono::DateTime<chrono::Utc>,
    late_reason: &str,
    only: Option<&str>,
) -> anyhow::Result<Plan> {
    let read = layout::read(input, &rules.catalogue, now, late_reason)?;
    let mut plan = Plan { rows: Vec::with_capacity(read.rows.len()), rejected: read.rejects };
    for row in read.rows {
        if let Some(area) = only
            && row.service != area
        {
            plan.rejected.push(Reject {
                line: row.line,
                column: "service",
                rule: "other_service",
                message: format!(
                    "this upload brings in {}'s history only; upload this row as that service's",
                    area_name(rules, area)
                ),
                service: row.service.clone(),
                reference: row.reference.clone(),
            });
            continue;
        }
        match rehearse(&row, &rules.catalogue, rules.hub, rules.window, now) {
            Ok(()) => plan.rows.push(row),
            Err(reject) => plan.rejected.push(*reject),
        }
    }
    plan.rejected.sort_by_key(|r| r.line);
    Ok(plan)
}

fn area_name(rules: &Rules, area: &str) -> String {
    if area == "hub" {
        "the hub".to_owned()
    } else {
        rules.catalogue.get(area).map_or_else(|| area.to_owned(), |d| d.name.clone())
    }
}

/// What importing a file did: the counts add up to the rows of the file.
#[derive(Debug, Default)]
pub struct Summary {
    pub imported: usize,
    pub already_imported: usize,
    pub rejected: Vec<Reject>,
    /// Line numbers of rows that could not be saved (the cause is logged): importing again completes them.
    pub failed: Vec<u64>,
    /// The log's position after the last fact written (0 when nothing was): read your writes with `wait_for`.
    pub position: u64,
}

enum Outcome {
    Imported(u64),
    AlreadyImported,
    Rejected(Box<Reject>),
    Failed,
}

/// Writes a plan's rows as `by`, each fact dated when it happened (recorded `now`), counting them on `progress`.
pub async fn write(
    ctx: &casetrack_web::Context,
    rules: &Rules,
    plan: Plan,
    now: chrono::DateTime<chrono::Utc>,
    by: &Actor,
    progress: Option<&crate::progress::Progress>,
) -> anyhow::Result<Summary> {
    let mut summary = Summary { rejected: plan.rejected, ..Default::default() };
    if let Some(progress) = progress {
        progress.set(summary.rejected.len() as u64);
    }
    let people: Vec<PersonId> = plan.rows.iter().map(|row| row.person_id).collect();
    // Every person's data key, created where missing, in a few large transactions rather than one per row.
    let keys = ctx.vault.keys_for(&people).await.context("the personal-data vault is unavailable")?;
    let hub = casetrack_hub::Hub::new(ctx.clone(), rules.hub);
    let codes =
        rules.catalogue.all().iter().map(|s| ServiceCode::parse(s.code.as_str()).expect("a catalogue code")).collect();
    let desk = Desk::new(ctx.clone(), codes).with_back_dating(rules.window);
    let (keys, hub, desk) = (&keys, &hub, &desk);
    let outcomes: Vec<(u64, Outcome)> = futures::stream::iter(plan.rows)
        .map(|row| async move {
            let line = row.line;
            let outcome = import_row(ctx, keys, hub, desk, row, now, by).await;
            if let Some(progress) = progress {
                progress.inc(1);
            }
            (line, outcome)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for (line, outcome) in outcomes {
        match outcome {
            Outcome::Imported(position) => {
                summary.imported += 1;
                summary.position = summary.position.max(position);
            }
            Outcome::AlreadyImported => summary.already_imported += 1,
            Outcome::Rejected(reject) => summary.rejected.push(*reject),
            Outcome::Failed => summary.failed.push(line),
        }
    }
    summary.failed.sort_unstable();
    summary.rejected.sort_by_key(|r| r.line);
    Ok(summary)
}

pub async fn run(settings: &Settings, file: &Path, dry_run: bool, rejects: Option<PathBuf>) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let late_reason = format!("brought in from {name}");
    let rules = Rules::from_settings(settings)?;
    let input = std::fs::File::open(file).with_context(|| format!("failed to open {}", file.display()))?;
    let mut plan = plan(std::io::BufReader::new(input), &rules, now, &late_reason, None)
        .with_context(|| format!("{} cannot be imported", file.display()))?;
    let total = plan.total();
    let rejects_path = rejects.unwrap_or_else(|| file.with_extension("rejects.csv"));
    if dry_run {
        write_rejects(&rejects_path, &mut plan.rejected)?;
        println!(
            "read {total} rows: {} to import or already imported, {} rejected{}",
            plan.rows.len(),
            plan.rejected.len(),
            listed(&plan.rejected, &rejects_path)
        );
        println!("dry run: nothing imported");
        return Ok(());
    }
    let ctx = settings.connect().await?;
    let started = std::time::Instant::now();
    let progress = crate::progress::Progress::start("import history", "rows", total as u64);
    let mut summary = write(&ctx, &rules, plan, now, &Actor::system(), Some(&progress)).await?;
    progress.finish();
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
    by: &Actor,
) -> Outcome {
    // No key: the person was erased since an earlier import; nothing of theirs is written again.
    let Some(key) = keys.get(&row.person_id) else { return Outcome::AlreadyImported };
    let command =
        CommandId(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("history register {}", row.key).as_bytes()));
    let meta = CommandMeta::repeatable(command, row.person_id.0, by.clone(), row.received_at);
    match register_with_key(ctx, key, row.person_id, &row.details, &meta).await {
        Ok(_) | Err(CommandError::Rejected(PersonRejection::AlreadyRegistered)) => {}
        Err(error) => {
            tracing::error!(line = row.line, error = %error, "registering a history row's person failed");
            return Outcome::Failed;
        }
    }
    let brought = match &row.record {
        Record::Hub(history) => hub.bring_in(history, now, by).await,
        Record::Specialist(history) => desk.bring_in(history, now, by).await,
    };
    match brought {
        Ok(casetrack_casework::history::BroughtIn::AlreadyThere) => Outcome::AlreadyImported,
        Ok(casetrack_casework::history::BroughtIn::Written { position, .. }) => Outcome::Imported(position),
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

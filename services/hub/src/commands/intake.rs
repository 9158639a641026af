//! Importing the police feed: each valid row registers the victim (details sealed with their own key) and
//! receives a referral. `casetrack import police-feed` reads the file itself and calls [`import`]; the upload page
//! calls [`import_file`].
//!
//! Importing the same file twice creates nothing new: the person's and the referral's ids, and the command ids,
//! are derived from the crime reference and the victim's blind match key, so a second import finds both already
//! there (the aggregates refuse a second registration or receipt, and the log stores a retried command once).
//! Rows are imported concurrently so the log can group their commits.
//!
//! A referral is dated when the police referred it (the feed's optional `referred_on` column, 12:00 UK time that
//! day), or when the hub received the feed when the file does not say. A date beyond the back-dating window is
//! the police's, not a person's typing, so it is accepted with that as its reason and counted as late
//! ([`ImportSummary::late`]), so the upload is flagged in the audit trail.

use std::collections::HashMap;
use std::sync::Arc;

use casetrack_casework::occurred::{BackDating, Lateness};
use casetrack_eventstore::command::{CommandError, CommandMeta};
use casetrack_people::person::{PersonRejection, PersonalDetails, register_with_key};
use casetrack_proto::hub::{ReferralReceived, ReferralSource};
use casetrack_proto::profile::{AgeBand, VictimProfile};
use casetrack_proto::{Actor, CommandId, PersonId, ReferralId};
use casetrack_vault::DataKey;
use casetrack_vault::normalise;
use casetrack_web::Context;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use uuid::Uuid;

use super::handler::decide_timed;
use super::police_feed::{self, FeedError, FeedRow, Reject};
use crate::referral::{ReferralRejection, When, receive};

/// Rows in flight at once.
const CONCURRENCY: usize = 256;
/// Rows whose data keys are made together, ahead of their rows.
const KEYS_AHEAD: usize = 2_000;

const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_7472_6163_6b00_0000_0000_0002);

/// An id derived from what a referral was taken from (a feed row's key, a form's submission), so that taking it
/// again finds the same person, referral and commands.
pub(super) fn derived(kind: &str, key: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("police-feed {kind} {key}").as_bytes())
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub already_imported: usize,
    /// Line numbers of rows that could not be saved (the cause is logged, not repeated here).
    pub failed: Vec<u64>,
    /// The most days after it was referred that a new referral was recorded, where some were dated beyond the
    /// back-dating window.
    pub late: Option<i64>,
    /// The referrals this import created (not those imported before), in no particular order.
    pub created_ids: Vec<ReferralId>,
    /// The highest log position this import wrote, to read its referrals with `wait_for`.
    pub position: Option<u64>,
}

/// The reason a referral dated by the feed beyond the back-dating window is accepted.
pub const FEED_DATED: &str = "dated as referred in the police feed (referred_on)";

enum RowOutcome {
    Created { lateness: Lateness, referral_id: ReferralId, position: Option<u64> },
    AlreadyImported,
}

/// A row to import with its chunk's data keys, or a row whose keys the vault could not give.
enum Job {
    Row(Planned, Arc<HashMap<PersonId, DataKey>>),
    NoKeys(u64),
}

/// One row with everything derived from it.
struct Planned {
    row: FeedRow,
    details: PersonalDetails,
    key: String,
    person_id: PersonId,
    referral_id: ReferralId,
}

fn plan(ctx: &Context, row: FeedRow) -> Planned {
    let details = PersonalDetails {
        forename: row.forename.clone(),
        surname: row.surname.clone(),
        date_of_birth: row.date_of_birth,
        phone: row.phone.clone(),
        email: row.email.clone(),
        address_line: row.address_line.clone(),
        postcode: row.postcode.clone(),
    };
    let key = format!("{}|{}", normalise(&row.crime_reference), details.match_key(&ctx.vault));
    let person_id = PersonId(derived("person", &key));
    let referral_id = ReferralId(derived("referral", &key));
    Planned { row, details, key, person_id, referral_id }
}

/// Imports valid rows; `received_at` is when the hub received the feed.
pub async fn import(ctx: &Context, rows: Vec<FeedRow>, received_at: DateTime<Utc>) -> ImportSummary {
    import_within(ctx, rows, received_at, BackDating::default()).await
}

/// [`import`] under the hub's back-dating window (which decides only which rows count as late).
pub async fn import_within(
    ctx: &Context,
    rows: Vec<FeedRow>,
    received_at: DateTime<Utc>,
    window: BackDating,
) -> ImportSummary {
    // The victims' data keys are made (or found) a chunk at a time, in a few large transactions a chunk, while the
    // rows of the chunks before are written: made all at once first, they kept 100,000 rows from starting for 3 s.
    futures::stream::iter(rows)
        .chunks(KEYS_AHEAD)
        .then(|chunk| jobs(ctx, chunk))
        .flatten()
        // Boxed, which names the stream `Send`: the compiler cannot prove it through the closures' lifetimes.
        .boxed()
        .map(|job| async move {
            match job {
                Job::Row(planned, keys) => {
                    (planned.row.line, import_row(ctx, &keys, planned, received_at, window).await)
                }
                Job::NoKeys(line) => (line, Err(anyhow::anyhow!("the personal-data vault was unavailable"))),
            }
        })
        .buffer_unordered(CONCURRENCY)
        .fold(ImportSummary::default(), |mut summary, (line, outcome)| async move {
            match outcome {
                Ok(RowOutcome::Created { lateness, referral_id, position }) => {
                    summary.created += 1;
                    summary.created_ids.push(referral_id);
                    summary.position = summary.position.max(position);
                    if let Lateness::Late { days, .. } = lateness {
                        summary.late = Some(summary.late.map_or(days, |most| most.max(days)));
                    }
                }
                Ok(RowOutcome::AlreadyImported) => summary.already_imported += 1,
                Err(error) => {
                    tracing::error!(line, error = %format!("{error:#}"), "a police feed row could not be saved");
                    summary.failed.push(line);
                }
            }
            summary
        })
        .await
}

/// A chunk's rows, planned, with their data keys made or found.
async fn jobs(ctx: &Context, chunk: Vec<FeedRow>) -> futures::stream::Iter<std::vec::IntoIter<Job>> {
    let planned: Vec<Planned> = chunk.into_iter().map(|row| plan(ctx, row)).collect();
    let people: Vec<PersonId> = planned.iter().map(|p| p.person_id).collect();
    let jobs: Vec<Job> = match ctx.vault.keys_for(&people).await {
        Ok(keys) => {
            let keys = Arc::new(keys);
            planned.into_iter().map(|planned| Job::Row(planned, keys.clone())).collect()
        }
        Err(error) => {
            tracing::error!(error = %error, rows = planned.len(), "the personal-data vault is unavailable");
            planned.into_iter().map(|planned| Job::NoKeys(planned.row.line)).collect()
        }
    };
    futures::stream::iter(jobs)
}

async fn import_row(
    ctx: &Context,
    keys: &HashMap<PersonId, DataKey>,
    planned: Planned,
    received_at: DateTime<Utc>,
    window: BackDating,
) -> anyhow::Result<RowOutcome> {
    let Planned { row, details, key, person_id, referral_id } = planned;
    let meta =
        |kind: &str, at| CommandMeta::repeatable(CommandId(derived(kind, &key)), referral_id.0, Actor::system(), at);
    let referred_at = row.referred_on.map_or(received_at, |day| crate::values::on_day(day, received_at));
    let reason = row.referred_on.map(|_| FEED_DATED.to_owned());
    let when = When { at: referred_at, now: received_at, window, reason };
    // No key means the person was erased since an earlier import: nothing of theirs is written again.
    if let Some(data_key) = keys.get(&person_id) {
        match register_with_key(ctx, data_key, person_id, &details, &meta("register", received_at)).await {
            Ok(_) | Err(CommandError::Rejected(PersonRejection::AlreadyRegistered)) => {}
            Err(error) => return Err(anyhow::anyhow!("registering the person failed: {error}")),
        }
    }
    let received = ReferralReceived {
        referral_id,
        person_id,
        source: ReferralSource::PoliceFeed,
        offence_category: Some(row.offence_category),
        domestic_abuse: row.domestic_abuse,
        crime_reference: Some(row.crime_reference),
        crime_reported_on: Some(row.reported_on),
        safe_contact: row.safe_contact,
        consent: row.consent,
        consent_override_reason: None,
        enhanced_rights: row.enhanced_rights,
        profile: VictimProfile {
            age_band: AgeBand::at(details.date_of_birth, referred_at.date_naive()),
            gender: row.gender,
            ethnicity: row.ethnicity,
            disability: row.disability,
            nationality: row.nationality,
        },
    };
    match receive_once(ctx, &meta("receive", referred_at), received, &when).await {
        Ok((Some(position), lateness)) => Ok(RowOutcome::Created {
            lateness: lateness.unwrap_or(Lateness::OnTime),
            referral_id,
            position: Some(position),
        }),
        Ok((None, _)) => Ok(RowOutcome::AlreadyImported),
        Err(error) => Err(anyhow::anyhow!("receiving the referral failed: {error}")),
    }
}

/// Receives a referral under a repeatable command, dated `when.at` (which `meta` is issued at): the log position
/// written and whether it was a late entry, or `None` when it was received before (by this command, stored once,
/// or by another).
pub(super) async fn receive_once(
    ctx: &Context,
    meta: &CommandMeta,
    received: ReferralReceived,
    when: &When,
) -> Result<(Option<u64>, Option<Lateness>), CommandError<ReferralRejection>> {
    let referral_id = received.referral_id;
    match decide_timed(&ctx.log, meta, referral_id, when, |state| receive(state, received.clone())).await {
        Ok((executed, lateness)) => Ok((executed.position.map(|p| p.0), Some(lateness))),
        Err(CommandError::Rejected(ReferralRejection::AlreadyReceived)) => Ok((None, None)),
        Err(error) => Err(error),
    }
}

/// What an uploaded file held, and (unless it was only checked) what importing it did.
#[derive(Debug)]
pub struct FileImport {
    pub valid: usize,
    pub rejects: Vec<Reject>,
    /// `None` for a check only (`dry_run`): nothing was imported.
    pub imported: Option<ImportSummary>,
}

/// Reads a police feed file received now (the command's clock) and, unless `dry_run`, imports its valid rows
/// under the back-dating `window`.
pub async fn import_file(
    ctx: &Context,
    file: &[u8],
    dry_run: bool,
    window: BackDating,
) -> Result<FileImport, FeedError> {
    let received_at = casetrack_eventstore::clock::now();
    let feed = police_feed::parse(file, received_at.date_naive())?;
    let valid = feed.rows.len();
    let imported = if dry_run { None } else { Some(import_within(ctx, feed.rows, received_at, window).await) };
    Ok(FileImport { valid, rejects: feed.rejects, imported })
}

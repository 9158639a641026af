//! The embedded event log: a SQLite file, one row per event.
//!
//! Writes go through one writer task that groups whatever appends are waiting into one transaction (group commit):
//! each request is still checked on its own (idempotency, then the expected version), a conflicting request fails
//! alone, and the others of the group commit together. Positions are dense commit numbers allocated by the writer.
//! Readers use a separate pool (WAL mode lets them read while the writer writes).

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use casetrack_proto::{Envelope, StreamId};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot, watch};

use crate::db::{WRITER_CHECKPOINT_PAGES, checkpoint_after_writes};

use super::{
    AppendRequest, Appended, Commit, CommitStream, ExpectedVersion, Kept, LogBackend, LogError, LogResult, Position,
    envelopes_for,
};

/// How many waiting appends one transaction takes at most.
const GROUP_LIMIT: usize = 512;
/// Bind parameters per look-up query (SQLite allows 32,766).
const LOOKUP_CHUNK: usize = 500;
/// Rows per multi-row insert (five parameters a row).
const INSERT_CHUNK: usize = 1_000;
/// How many commits a subscriber reads per query.
const READ_BATCH_COMMITS: u64 = 2_000;
/// How often a caught-up subscriber looks for commits written by another process.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// One row per event, in a table keyed by SQLite's own row number: an event's envelope (about a kilobyte) then sits
/// whole in its page. The first layout (below, [`LAYOUT_BEFORE_ROW_NUMBERS`]) kept the rows in the key's own tree
/// (`WITHOUT ROWID`), where a row over about 1,000 bytes spills its last bytes into an overflow page of its own:
/// two thirds of a police-feed upload's log file was overflow pages, mostly empty, and every append wrote them.
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS events (
    position INTEGER NOT NULL,
    idx      INTEGER NOT NULL,
    stream   TEXT    NOT NULL,
    version  INTEGER NOT NULL,
    envelope TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_position ON events (position, idx);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream, version);
CREATE TABLE IF NOT EXISTS commands (
    command_id TEXT PRIMARY KEY,
    position   INTEGER NOT NULL,
    version    INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// How a log file made by a version before 2026-12-05 declares its events table. [`lay_out_by_row_numbers`] moves such a
/// file's events into the table of [`SCHEMA`], once.
const LAYOUT_BEFORE_ROW_NUMBERS: &str = "WITHOUT ROWID";

type Reply = oneshot::Sender<LogResult<Appended>>;

pub struct SqliteLog {
    writer: mpsc::Sender<(AppendRequest, Reply)>,
    readers: SqlitePool,
    head: watch::Receiver<Position>,
    recent: Arc<Mutex<Recent>>,
    copies: Arc<Mutex<Copies>>,
}

/// This process's copies of the streams it wrote or read lately, to decide commands on without a read
/// ([`LogBackend::read_stream_to_decide`]). A copy is always the start of its stream as stored (never an event the
/// file does not hold), possibly not the whole of it when another process wrote since.
#[derive(Debug)]
struct Copies(Kept<Arc<Vec<Envelope>>>);

impl Default for Copies {
    fn default() -> Self {
        Self(Kept::new(COPIES))
    }
}

/// How many streams' copies are kept for deciding on (the stories being worked on; a person's and a referral's
/// streams are a few kilobytes).
const COPIES: usize = 20_000;

/// The last commits this process wrote, as written: every projection and reactor of the process reads each of
/// them (about twenty-five readers), and reading and decoding them from the file once per reader was most of the
/// embedded server's work under a bulk import. Commits written by another process on the same file are read from
/// the file.
#[derive(Debug, Default)]
struct Recent {
    /// Consecutive commits, oldest first.
    commits: VecDeque<Commit>,
}

/// How many of the last commits written are kept for readers.
const RECENT_COMMITS: usize = 10_000;

impl Recent {
    /// Adds commits just written (consecutive, after the head). A gap (another process wrote between) starts the
    /// list again.
    fn extend(&mut self, written: Vec<Commit>) {
        for commit in written {
            if self.commits.back().is_some_and(|last| last.position.0 + 1 != commit.position.0) {
                self.commits.clear();
            }
            self.commits.push_back(commit);
        }
        while self.commits.len() > RECENT_COMMITS {
            self.commits.pop_front();
        }
    }

    /// The commits in `(after, until]` when every one of them is held.
    fn range(&self, after: Position, until: Position) -> Option<Vec<Commit>> {
        let first = self.commits.front()?.position.0;
        let last = self.commits.back()?.position.0;
        if after.0 + 1 < first || until.0 > last || until <= after {
            return None;
        }
        let start = (after.0 + 1 - first) as usize;
        let end = (until.0 - first) as usize;
        Some(self.commits.range(start..=end).cloned().collect())
    }
}

impl SqliteLog {
    /// Opens (creating if needed) the log file at `path`.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            // Each write empties every other connection's page cache (WAL), so readers read pages again and again:
            // mapped, that is a memory read rather than a copy through a system call.
            .pragma("mmap_size", "1073741824")
            // A group's many-row inserts keep a statement journal; in memory rather than spilled to a temporary
            // file once past 64 KiB (see the read-model database, `db.rs`).
            .pragma("temp_store", "memory");
        let writer_options = options.clone().pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string());
        let mut connection = SqliteConnection::connect_with(&writer_options).await?;
        lay_out_by_row_numbers(&mut connection).await?;
        sqlx::raw_sql(SCHEMA).execute(&mut connection).await?;
        // No ping before each acquire: nothing can hang up on a SQLite connection (see `db::test_before_acquire`).
        let pool = || SqlitePoolOptions::new().test_before_acquire(false);
        let checkpointer = pool().max_connections(1).connect_with(options.clone()).await?;
        let last: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events").fetch_one(&mut connection).await?;
        let readers = pool().max_connections(8).connect_with(options.read_only(true)).await?;
        let (head_tx, head) = watch::channel(Position(last as u64));
        let (writer, requests) = mpsc::channel(4 * GROUP_LIMIT);
        let recent = Arc::new(Mutex::new(Recent::default()));
        let copies = Arc::new(Mutex::new(Copies::default()));
        tokio::spawn(checkpoint_after_writes(checkpointer, head.clone(), "event log"));
        tokio::spawn(write_loop(connection, requests, head_tx, recent.clone(), copies.clone()));
        Ok(Self { writer, readers, head, recent, copies })
    }
}

/// Moves the events of a log file in the first layout ([`LAYOUT_BEFORE_ROW_NUMBERS`]) into the table of
/// [`SCHEMA`], in one transaction: every event, in order, or (if anything fails) none, and the file as it was. The
/// pages the old table held are kept for new events; `VACUUM` gives them back to the disk (docs/operations.md).
async fn lay_out_by_row_numbers(connection: &mut SqliteConnection) -> anyhow::Result<()> {
    const DECLARED: &str = "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'events'";
    let first_layout = |declared: Option<String>| declared.is_some_and(|sql| sql.contains(LAYOUT_BEFORE_ROW_NUMBERS));
    if !first_layout(sqlx::query_scalar(DECLARED).fetch_optional(&mut *connection).await?) {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let mut tx = connection.begin_with("BEGIN IMMEDIATE").await?;
    // Asked again under the write lock: another process opening the same file may have laid it out meanwhile.
    if !first_layout(sqlx::query_scalar(DECLARED).fetch_optional(&mut *tx).await?) {
        return Ok(());
    }
    sqlx::raw_sql(
        "CREATE TABLE events_by_row_number ( \
             position INTEGER NOT NULL, idx INTEGER NOT NULL, stream TEXT NOT NULL, version INTEGER NOT NULL, \
             envelope TEXT NOT NULL); \
         INSERT INTO events_by_row_number (position, idx, stream, version, envelope) \
             SELECT position, idx, stream, version, envelope FROM events ORDER BY position, idx; \
         DROP TABLE events; \
         ALTER TABLE events_by_row_number RENAME TO events;",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&mut *tx).await?;
    tx.commit().await?;
    tracing::info!(
        events,
        seconds = started.elapsed().as_secs_f64(),
        "the embedded event log's file was laid out anew"
    );
    Ok(())
}

async fn write_loop(
    mut connection: SqliteConnection,
    mut requests: mpsc::Receiver<(AppendRequest, Reply)>,
    head: watch::Sender<Position>,
    recent: Arc<Mutex<Recent>>,
    copies: Arc<Mutex<Copies>>,
) {
    let mut group = Vec::with_capacity(GROUP_LIMIT);
    while requests.recv_many(&mut group, GROUP_LIMIT).await > 0 {
        match write_group(&mut connection, &group).await {
            Ok((results, new_head, written)) => {
                // Held for readers, and for deciding on, before anyone is told of the new head.
                copies.lock().expect("copies lock").extend(&written);
                recent.lock().expect("recent commits lock").extend(written);
                head.send_replace(new_head);
                for ((_, reply), result) in group.drain(..).zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(error) => {
                tracing::error!(error = %error, "embedded event log write failed; the group was rolled back");
                for (_, reply) in group.drain(..) {
                    let _ = reply.send(Err(LogError::Unavailable(anyhow::anyhow!("event log write failed: {error}"))));
                }
            }
        }
    }
}

/// Writes one group in one transaction. Returns each request's result, the new head and the commits written.
///
/// The look-ups (stored command ids, current versions) are one query each for the whole group, and the rows go in
/// with multi-row inserts: a handful of statements per group rather than several per append.
async fn write_group(
    connection: &mut SqliteConnection,
    group: &[(AppendRequest, Reply)],
) -> Result<(Vec<LogResult<Appended>>, Position, Vec<Commit>), sqlx::Error> {
    // IMMEDIATE takes the write lock up front, so a second process on the same file waits instead of failing to
    // upgrade a read transaction; the head is read inside the lock, so positions stay dense and unique.
    let mut tx = connection.begin_with("BEGIN IMMEDIATE").await?;
    let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events").fetch_one(&mut *tx).await?;
    let mut head = Position(last as u64);

    let command_ids: Vec<String> = group.iter().map(|(request, _)| request.command_id.to_string()).collect();
    let mut streams: Vec<String> = group.iter().map(|(request, _)| request.stream.to_string()).collect();
    let mut stored: HashMap<String, Appended> = HashMap::new();
    for chunk in command_ids.chunks(LOOKUP_CHUNK) {
        let mut query =
            QueryBuilder::<Sqlite>::new("SELECT command_id, position, version FROM commands WHERE command_id IN (");
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(id);
        }
        query.push(")");
        for row in query.build().fetch_all(&mut *tx).await? {
            let (position, version): (i64, i64) = (row.get(1), row.get(2));
            stored.insert(
                row.get(0),
                Appended { position: Position(position as u64), version: version as u32, duplicate: true },
            );
        }
    }
    // Current version of every stream the group touches; updated as the group's own appends land.
    let mut versions: HashMap<String, u32> = HashMap::new();
    streams.sort_unstable();
    streams.dedup();
    for chunk in streams.chunks(LOOKUP_CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new("SELECT stream, MAX(version) FROM events WHERE stream IN (");
        let mut list = query.separated(", ");
        for stream in chunk {
            list.push_bind(stream);
        }
        query.push(") GROUP BY stream");
        for row in query.build().fetch_all(&mut *tx).await? {
            let version: i64 = row.get(1);
            versions.insert(row.get(0), version as u32);
        }
    }

    let recorded_at = chrono::Utc::now();
    let mut results = Vec::with_capacity(group.len());
    let mut event_rows: Vec<(i64, i64, String, i64, String)> = Vec::new();
    let mut command_rows: Vec<(String, i64, i64)> = Vec::new();
    let mut written: Vec<Commit> = Vec::new();
    for ((request, _), command_id) in group.iter().zip(command_ids) {
        if let Some(seen) = stored.get(&command_id) {
            results.push(Ok(Appended { duplicate: true, ..*seen }));
            continue;
        }
        let stream = request.stream.to_string();
        let actual = versions.get(&stream).copied().unwrap_or(0);
        if let ExpectedVersion::Exact(expected) = request.expected
            && expected != actual
        {
            results.push(Err(LogError::Conflict { stream: request.stream.clone(), expected, actual }));
            continue;
        }
        let position = Position(head.0 + 1);
        let envelopes = envelopes_for(request, actual, recorded_at);
        for (index, envelope) in envelopes.iter().enumerate() {
            let text = serde_json::to_string(envelope).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            event_rows.push((position.0 as i64, index as i64, stream.clone(), i64::from(envelope.version), text));
        }
        let version = actual + envelopes.len() as u32;
        command_rows.push((command_id.clone(), position.0 as i64, i64::from(version)));
        written.push(Commit { position, events: envelopes });
        head = position;
        versions.insert(stream, version);
        let appended = Appended { position, version, duplicate: false };
        // A second request with the same command id later in this group is a duplicate of this one.
        stored.insert(command_id, Appended { duplicate: true, ..appended });
        results.push(Ok(appended));
    }
    for chunk in event_rows.chunks(INSERT_CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new("INSERT INTO events (position, idx, stream, version, envelope) ");
        query.push_values(chunk, |mut row, (position, index, stream, version, text)| {
            row.push_bind(*position).push_bind(*index).push_bind(stream).push_bind(*version).push_bind(text);
        });
        query.build().execute(&mut *tx).await?;
    }
    for chunk in command_rows.chunks(INSERT_CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new("INSERT INTO commands (command_id, position, version) ");
        query.push_values(chunk, |mut row, (command_id, position, version)| {
            row.push_bind(command_id).push_bind(*position).push_bind(*version);
        });
        query.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    // Another process may have written before this group (`last` is read under the lock): then the group's first
    // commit does not follow the ones held, and `Recent::extend` starts again.
    Ok((results, head, written))
}

async fn stored_head(pool: &SqlitePool) -> LogResult<Position> {
    let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events")
        .fetch_one(pool)
        .await
        .map_err(LogError::unavailable)?;
    Ok(Position(last as u64))
}

fn decode(position: i64, text: &str) -> LogResult<Envelope> {
    serde_json::from_str(text)
        .map_err(|error| LogError::Corrupt { position: Position(position as u64), reason: error.to_string() })
}

/// Reads the commits in `(after, until]`, grouped. A row that does not decode ends the batch with its error, after
/// the commits before it.
async fn read_commits(pool: &SqlitePool, after: Position, until: Position) -> LogResult<Vec<LogResult<Commit>>> {
    let rows = sqlx::query(
        "SELECT position, envelope FROM events WHERE position > $1 AND position <= $2 ORDER BY position, idx",
    )
    .bind(after.0 as i64)
    .bind(until.0 as i64)
    .fetch_all(pool)
    .await
    .map_err(LogError::unavailable)?;
    let mut commits: Vec<Commit> = Vec::new();
    for row in rows {
        let position: i64 = row.get(0);
        let text: &str = row.get(1);
        let envelope = match decode(position, text) {
            Ok(envelope) => envelope,
            Err(error) => {
                // The commit holding the bad row is not delivered at all: commits are all or nothing.
                commits.retain(|commit| commit.position.0 != position as u64);
                let mut items: Vec<_> = commits.into_iter().map(Ok).collect();
                items.push(Err(error));
                return Ok(items);
            }
        };
        match commits.last_mut() {
            Some(commit) if commit.position.0 == position as u64 => commit.events.push(envelope),
            _ => commits.push(Commit { position: Position(position as u64), events: vec![envelope] }),
        }
    }
    Ok(commits.into_iter().map(Ok).collect())
}

impl Copies {
    /// Adds the commits just written to their streams' copies: where a copy held every event before the commit, or
    /// the stream began with it. Any other copy is let go (it would be refused as behind, and read again).
    fn extend(&mut self, written: &[Commit]) {
        for commit in written {
            let Some(first) = commit.events.first() else { continue };
            let (stream, before) = (&first.subject, first.version.saturating_sub(1) as usize);
            match self.0.get_mut(stream) {
                Some(copy) if copy.len() == before => Arc::make_mut(copy).extend(commit.events.iter().cloned()),
                Some(_) => self.0.let_go(stream),
                None if before == 0 => self.0.keep(stream, Arc::new(commit.events.clone())),
                None => {}
            }
        }
    }
}

impl LogBackend for SqliteLog {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn append(&self, request: AppendRequest) -> BoxFuture<'_, LogResult<Appended>> {
        async move {
            let (reply, answer) = oneshot::channel();
            self.writer
                .send((request, reply))
                .await
                .map_err(|_| LogError::Unavailable(anyhow::anyhow!("the embedded log's writer has stopped")))?;
            answer.await.map_err(|_| LogError::Unavailable(anyhow::anyhow!("the embedded log's writer has stopped")))?
        }
        .boxed()
    }

    fn read_stream<'a>(&'a self, stream: &'a StreamId) -> BoxFuture<'a, LogResult<Vec<Envelope>>> {
        async move {
            let rows = sqlx::query("SELECT position, envelope FROM events WHERE stream = $1 ORDER BY version")
                .bind(stream.to_string())
                .fetch_all(&self.readers)
                .await
                .map_err(LogError::unavailable)?;
            let events = rows.iter().map(|row| decode(row.get(0), row.get(1))).collect::<LogResult<Vec<_>>>()?;
            self.copies.lock().expect("copies lock").0.keep(stream, Arc::new(events.clone()));
            Ok(events)
        }
        .boxed()
    }

    /// This process's copy of the stream, with no read: what it appended there, or read from the file, lately.
    /// A stream with no copy is taken to be new, so a command that begins a stream (a person registered, a
    /// referral received, a case opened: two of every police-feed row) needs no read. The writer checks every
    /// append against the file under its lock: one decided on a copy that fell behind (another process wrote) is
    /// refused as a conflict, and decided again on the file's events, as is any refusal or decision to write
    /// nothing. (A profile of the command mix put a fifth of the embedded server's CPU in the readers that load
    /// streams; most loads were of a stream this process had just written.)
    fn read_stream_to_decide<'a>(&'a self, stream: &'a StreamId) -> BoxFuture<'a, LogResult<Vec<Envelope>>> {
        let copy = self.copies.lock().expect("copies lock").0.get(stream).cloned();
        async move { Ok(copy.map(|events| events.as_ref().clone()).unwrap_or_default()) }.boxed()
    }

    fn decides_on_copies(&self) -> bool {
        true
    }

    fn subscribe(&self, after: Position) -> BoxFuture<'_, LogResult<CommitStream>> {
        let pool = self.readers.clone();
        let mut head = self.head.clone();
        let recent = self.recent.clone();
        async move {
            // Room for a whole read: a projection takes what is waiting as one batch (one transaction), and a
            // channel of 4 cut every batch to about 5 commits, so a bulk import cost each projection a transaction
            // per two or three rows while the queues fell minutes behind.
            let (tx, rx) = mpsc::channel::<LogResult<Commit>>(READ_BATCH_COMMITS as usize);
            tokio::spawn(async move {
                let mut cursor = after;
                // When the file was last asked for its head: at first, then at most every `POLL_INTERVAL`.
                let mut asked: Option<tokio::time::Instant> = None;
                loop {
                    // This process's writer says how far it wrote. The file is asked (for what another process
                    // wrote) only once that is read, and then at most every `POLL_INTERVAL`: asked each time a
                    // reader caught up, twenty-odd readers made a query each per commit, a tenth of an embedded
                    // server's CPU under a mix of commands.
                    let written_here = *head.borrow_and_update();
                    let due = asked.is_none_or(|at| at.elapsed() >= POLL_INTERVAL);
                    let stored = if written_here > cursor {
                        Ok(written_here)
                    } else if due {
                        asked = Some(tokio::time::Instant::now());
                        stored_head(&pool).await
                    } else {
                        Ok(cursor)
                    };
                    let latest = match stored {
                        Ok(latest) => latest,
                        Err(error) => {
                            let _ = tx.send(Err(error)).await;
                            return;
                        }
                    };
                    let until = latest.min(Position(cursor.0 + READ_BATCH_COMMITS));
                    if until <= cursor {
                        // Caught up: wait for this process's writer to move the head, or for the time to ask the
                        // file again for another process's (the `rebuild` command reading while `serve` writes).
                        let next_ask = asked.map_or_else(tokio::time::Instant::now, |at| at + POLL_INTERVAL);
                        tokio::select! {
                            changed = head.changed() => if changed.is_err() { return },
                            _ = tokio::time::sleep_until(next_ask) => {},
                            _ = tx.closed() => return,
                        }
                        continue;
                    }
                    let held = recent.lock().expect("recent commits lock").range(cursor, until);
                    let read = match held {
                        Some(commits) => Ok(commits.into_iter().map(Ok).collect()),
                        None => read_commits(&pool, cursor, until).await,
                    };
                    match read {
                        Ok(items) => {
                            for item in items {
                                let failed = item.is_err();
                                if let Ok(commit) = &item {
                                    cursor = commit.position;
                                }
                                if tx.send(item).await.is_err() || failed {
                                    return;
                                }
                            }
                            cursor = cursor.max(until);
                        }
                        Err(error) => {
                            let _ = tx.send(Err(error)).await;
                            return;
                        }
                    }
                }
            });
            let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
            Ok(stream.boxed())
        }
        .boxed()
    }

    fn head(&self) -> BoxFuture<'_, LogResult<Position>> {
        async move { stored_head(&self.readers).await }.boxed()
    }
}

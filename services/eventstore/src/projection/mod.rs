//! The projection runner.
//!
//! A projection turns commits into read-model rows. The runner feeds it batches of commits and, in the same
//! database transaction, moves its checkpoint: a crash (or a killed task) rolls back rows and checkpoint together,
//! so no event is lost or counted twice. The checkpoint moves by compare-and-set (the row is locked and checked
//! first), so a second runner of the same projection, or a `casetrack rebuild` resetting it, can never interleave
//! batches: the loser notices, rolls back and resumes from the stored checkpoint.
//!
//! Failures are of two kinds. A commit that cannot be read or decoded is poison: the runner stops, names its
//! position, and `/readyz` shows it until someone fixes the cause; it is never skipped. Anything else (database or
//! log unreachable) is retried with a back-off.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use casetrack_proto::{DecodeError, Envelope};
use futures::StreamExt;
use sqlx::AnyConnection;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::db::ReadDb;
use crate::log::{Commit, EventLog, LogError, Position};

mod batch;
pub use batch::{Batch, Known};

/// How long a live projection keeps in memory only the progress it made over batches with nothing for it, before
/// it stores it (a restart reads those batches again, and finds nothing in them again).
const STORE_QUIET_PROGRESS: Duration = Duration::from_secs(1);

/// Most events one transaction applies.
pub const BATCH_EVENTS: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// An event this projection must understand does not decode: poison, the projection stops here.
    #[error("the event at log position {position} cannot be projected: {source}")]
    Decode {
        position: Position,
        #[source]
        source: DecodeError,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A read model fed by the log. Implementations must be deterministic and free of side effects (rebuild
/// replays them), and write only through the transaction they are given.
/// The log a projection reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The case history: every context's events.
    Events,
    /// The audit trail's own stream.
    Audit,
}

/// Projections of the audit trail are named `audit.*` (checked when their runner starts), so that their lag is
/// measured against the audit stream's head.
pub fn reads_audit(name: &str) -> bool {
    name.starts_with("audit.")
}

/// The heads of the two logs a projection may read. A projection's lag is measured against the head of its own
/// log ([`reads_audit`]): `/readyz`, `/metrics` and `casetrack admin projections` all say it this way, so they agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heads {
    pub events: Position,
    pub audit: Position,
}

impl Heads {
    pub async fn read(events: &EventLog, audit: &EventLog) -> Result<Self, LogError> {
        Ok(Self { events: events.head().await?, audit: audit.head().await? })
    }

    /// The head of the log the projection `name` reads.
    pub fn of(&self, name: &str) -> Position {
        if reads_audit(name) { self.audit } else { self.events }
    }

    /// How many commits of its log the projection `name`, at `position`, has still to apply.
    pub fn lag(&self, name: &str, position: Position) -> u64 {
        self.of(name).0.saturating_sub(position.0)
    }
}

#[async_trait::async_trait]
pub trait Projection: Send + Sync + 'static {
    /// Unique, stable name: the checkpoint's key and the `--projection` argument of `casetrack rebuild`.
    fn name(&self) -> &'static str;
    /// Which log it reads: the case history (the default) or the audit trail.
    fn source(&self) -> Source {
        Source::Events
    }
    /// The tables this projection owns; a rebuild empties them.
    fn tables(&self) -> &'static [&'static str];
    /// Empties this projection's rows before a rebuild. By default, every row of [`Projection::tables`]: truncated
    /// on PostgreSQL, where deleted rows would stay behind as dead tuples that every look-up of the rebuild wades
    /// through until a vacuum.
    async fn reset(&self, tx: &mut AnyConnection) -> sqlx::Result<()> {
        if tx.backend_name() == <sqlx::Postgres as sqlx::Database>::NAME && !self.tables().is_empty() {
            let tables = self.tables().join(", ");
            sqlx::query(sqlx::AssertSqlSafe(format!("TRUNCATE {tables}"))).execute(&mut *tx).await?;
            return Ok(());
        }
        for table in self.tables() {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut *tx).await?;
        }
        Ok(())
    }
    /// Whether `event` could change this projection's rows. A live batch with none such is not applied: its
    /// position is kept in memory and stored with the next batch applied, or after a moment (a rebuild applies
    /// every batch). Every event does, unless the projection says otherwise.
    fn concerns(&self, _event: &Envelope) -> bool {
        true
    }
    /// Applies a batch of commits, in order. `known` is what this run has stored since its tables were empty, if
    /// it began so: the projection notes there the keys its look-ups may skip, and consults it before them.
    async fn apply(&self, tx: &mut AnyConnection, batch: &Batch, known: &mut Known) -> Result<(), ProjectionError>;
}

/// What a projection has reached, shared with `/readyz` and with queries that wait for their own writes.
#[derive(Debug)]
pub struct ProjectionStatus {
    name: &'static str,
    position: watch::Sender<Position>,
    failure: Mutex<Option<String>>,
    /// The last transient error, while the runner is retrying after it (cleared by the next applied batch).
    retrying: Mutex<Option<String>>,
}

impl ProjectionStatus {
    fn new(name: &'static str) -> Self {
        Self { name, position: watch::channel(Position(0)).0, failure: Mutex::new(None), retrying: Mutex::new(None) }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn position_sender(&self) -> &watch::Sender<Position> {
        &self.position
    }

    pub fn position(&self) -> Position {
        *self.position.borrow()
    }

    /// Why the projection stopped, if it did.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().expect("status lock").clone()
    }

    /// The error the runner is retrying after, if it is.
    pub fn retrying(&self) -> Option<String> {
        self.retrying.lock().expect("status lock").clone()
    }

    pub(crate) fn set_retrying(&self, error: Option<String>) {
        *self.retrying.lock().expect("status lock") = error;
    }

    /// Waits until the projection has applied `position`, for at most `timeout`. Returns whether it got there.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> bool {
        let mut receiver = self.position.subscribe();
        tokio::time::timeout(timeout, receiver.wait_for(|reached| *reached >= position)).await.is_ok_and(|r| r.is_ok())
    }
}

/// Every projection and reactor running in this process, by name.
#[derive(Debug, Clone, Default)]
pub struct Registry(Arc<Mutex<HashMap<&'static str, Arc<ProjectionStatus>>>>);

impl Registry {
    pub fn status(&self, name: &'static str) -> Arc<ProjectionStatus> {
        self.0
            .lock()
            .expect("registry lock")
            .entry(name)
            .or_insert_with(|| Arc::new(ProjectionStatus::new(name)))
            .clone()
    }

    pub fn all(&self) -> Vec<Arc<ProjectionStatus>> {
        let mut all: Vec<_> = self.0.lock().expect("registry lock").values().cloned().collect();
        all.sort_by_key(|status| status.name);
        all
    }
}

pub async fn load_checkpoint(db: &ReadDb, name: &str) -> sqlx::Result<Position> {
    let stored: Option<i64> = sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = $1")
        .bind(name)
        .fetch_optional(db.pool())
        .await?;
    Ok(Position(stored.unwrap_or(0) as u64))
}

/// Moves a checkpoint from `from` to `to` inside `tx`. Returns false when it was not at `from` any more.
async fn advance_checkpoint(tx: &mut AnyConnection, name: &str, from: Position, to: Position) -> sqlx::Result<bool> {
    let now = chrono::Utc::now().to_rfc3339();
    let updated = sqlx::query(
        "UPDATE projection_checkpoints SET position = $1, updated_at = $2 WHERE name = $3 AND position = $4",
    )
    .bind(to.0 as i64)
    .bind(&now)
    .bind(name)
    .bind(from.0 as i64)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 1 {
        return Ok(true);
    }
    if from.0 != 0 {
        return Ok(false);
    }
    let inserted = sqlx::query(
        "INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(to.0 as i64)
    .bind(&now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The log position named by a poison error.
fn poison_position(error: &anyhow::Error) -> Option<Position> {
    match error.downcast_ref::<ProjectionError>() {
        Some(ProjectionError::Decode { position, .. }) => Some(*position),
        _ => match error.downcast_ref::<LogError>() {
            Some(LogError::Corrupt { position, .. }) => Some(*position),
            _ => None,
        },
    }
}

enum Stop {
    Shutdown,
    CaughtUp,
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Poison(anyhow::Error),
    #[error(transparent)]
    Transient(anyhow::Error),
    #[error("another runner moved the checkpoint")]
    Lost,
}

impl From<ProjectionError> for RunError {
    fn from(error: ProjectionError) -> Self {
        match error {
            ProjectionError::Decode { .. } => Self::Poison(error.into()),
            ProjectionError::Database(e) => Self::Transient(e.into()),
        }
    }
}

impl From<LogError> for RunError {
    fn from(error: LogError) -> Self {
        match error {
            LogError::Corrupt { .. } => Self::Poison(error.into()),
            other => Self::Transient(other.into()),
        }
    }
}

/// Runs one projection against one log and database.
pub struct ProjectionRunner {
    db: ReadDb,
    log: EventLog,
    projection: Arc<dyn Projection>,
    status: Arc<ProjectionStatus>,
}

impl ProjectionRunner {
    pub fn new(db: ReadDb, log: EventLog, projection: Arc<dyn Projection>, registry: &Registry) -> Self {
        assert_eq!(
            projection.source() == Source::Audit,
            reads_audit(projection.name()),
            "projections of the audit trail, and only they, are named audit.*"
        );
        let status = registry.status(projection.name());
        Self { db, log, projection, status }
    }

    pub fn status(&self) -> Arc<ProjectionStatus> {
        self.status.clone()
    }

    /// Runs until `shutdown`, resuming from the checkpoint and retrying transient failures. Returns early only
    /// on poison, after recording it in the status.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.run_once(&shutdown, None).await {
                Ok(_) => return,
                Err(RunError::Poison(error)) => {
                    tracing::error!(projection = self.projection.name(), error = %format!("{error:#}"), "projection stopped");
                    *self.status.failure.lock().expect("status lock") = Some(format!("{error:#}"));
                    return;
                }
                Err(RunError::Lost) => {
                    tracing::info!(projection = self.projection.name(), "checkpoint moved elsewhere; resuming from it");
                    backoff = Duration::from_millis(100);
                }
                Err(RunError::Transient(error)) => {
                    tracing::warn!(projection = self.projection.name(), error = %format!("{error:#}"), "projection failed; retrying");
                    self.status.set_retrying(Some(format!("{error:#}")));
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// Applies everything up to the log's current head, then returns.
    pub async fn catch_up(&self) -> anyhow::Result<Position> {
        let head = self.log.head().await?;
        loop {
            match self.run_once(&CancellationToken::new(), Some(head)).await {
                Ok(_) => return Ok(self.status.position()),
                Err(RunError::Lost) => continue,
                Err(RunError::Poison(error) | RunError::Transient(error)) => return Err(error),
            }
        }
    }

    /// Empties the projection's tables, resets its checkpoint and replays the whole log up to its current head.
    pub async fn rebuild(&self) -> anyhow::Result<Position> {
        self.reset().await?;
        self.catch_up().await
    }

    /// Empties the projection's tables and resets its checkpoint, in one transaction.
    async fn reset(&self) -> sqlx::Result<()> {
        let mut tx = self.db.begin_background().await?;
        self.projection.reset(&mut tx).await?;
        sqlx::query("DELETE FROM projection_checkpoints WHERE name = $1")
            .bind(self.projection.name())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.status.position.send_replace(Position(0));
        Ok(())
    }

    /// Gives PostgreSQL's planner fresh statistics of the projection's tables that have grown. A table emptied for a
    /// rebuild has none until autovacuum gets to it, and without them the planner takes each value of a look-up on a
    /// column other than the key to match 0.5% of the rows: a look-up of 500 people then reads the whole table,
    /// every batch (most of `hub.referrals`' time at 5 million events). Worse, statistics taken while a table was
    /// still empty make the planner read a service's every case to find 500 of them. So after each batch, a table
    /// changed by more rows since its last analysis than it had then (at least 1,000) is analysed again: about each
    /// time it doubles, however late in the log it starts to fill. SQLite plans such look-ups with the index without
    /// statistics.
    async fn analyze_grown(&self) -> sqlx::Result<()> {
        let tables = self.projection.tables();
        if self.db.backend() != crate::db::DbBackend::Postgres || tables.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT CAST(s.relname AS TEXT) FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
             WHERE s.schemaname = current_schema() AND s.relname IN ({}) \
             AND s.n_mod_since_analyze >= GREATEST(c.reltuples, 0) + 1000",
            crate::db::placeholder_list(1, tables.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for table in tables {
            query = query.bind(*table);
        }
        let grown = query.fetch_all(self.db.pool()).await?;
        if grown.is_empty() {
            return Ok(());
        }
        // The names are this projection's own constants, as returned by the catalogue.
        let sql = format!("ANALYZE {}", grown.join(", "));
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(self.db.pool()).await?;
        tracing::debug!(projection = self.projection.name(), tables = %grown.join(", "), "analysed");
        Ok(())
    }

    /// Moves the stored checkpoint from `from` to `to`, over batches that had nothing for this projection.
    async fn store(&self, from: Position, to: Position) -> Result<(), RunError> {
        let mut tx = self.db.begin_background().await.map_err(|e| RunError::Transient(e.into()))?;
        if !advance_checkpoint(&mut tx, self.projection.name(), from, to)
            .await
            .map_err(|e| RunError::Transient(e.into()))?
        {
            return Err(RunError::Lost);
        }
        tx.commit().await.map_err(|e| RunError::Transient(e.into()))
    }

    /// Applies one batch and moves the checkpoint from `checkpoint` to the batch's last position, in one transaction:
    /// `begun`, or one begun here.
    async fn apply_batch(
        &self,
        checkpoint: Position,
        batch: &Batch,
        known: &mut Known,
        begun: Option<crate::db::Write>,
    ) -> Result<(), RunError> {
        let last = batch.last().unwrap_or(checkpoint);
        let mut tx = match begun {
            Some(tx) => tx,
            None => self.db.begin_background().await.map_err(|e| RunError::Transient(e.into()))?,
        };
        if self.db.backend() == crate::db::DbBackend::Postgres {
            // A read model can always be replayed from the log, and its checkpoint commits with its rows: a crash
            // may lose the last moments' batches, never make them disagree. So the commit does not wait for the disk.
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *tx)
                .await
                .map_err(|e| RunError::Transient(e.into()))?;
        }
        if !advance_checkpoint(&mut tx, self.projection.name(), checkpoint, last)
            .await
            .map_err(|e| RunError::Transient(e.into()))?
        {
            return Err(RunError::Lost);
        }
        let applying = std::time::Instant::now();
        self.projection.apply(&mut tx, batch, known).await?;
        let committing = std::time::Instant::now();
        tx.commit().await.map_err(|e| RunError::Transient(e.into()))?;
        tracing::debug!(
            projection = self.projection.name(),
            commits = batch.commits().len(),
            apply_ms = (committing - applying).as_secs_f64() * 1e3,
            commit_ms = committing.elapsed().as_secs_f64() * 1e3,
            "batch applied"
        );
        Ok(())
    }

    async fn run_once(&self, shutdown: &CancellationToken, until: Option<Position>) -> Result<Stop, RunError> {
        let mut checkpoint =
            load_checkpoint(&self.db, self.projection.name()).await.map_err(|e| RunError::Transient(e.into()))?;
        self.status.position.send_replace(checkpoint);
        if until.is_some_and(|until| checkpoint >= until) {
            return Ok(Stop::CaughtUp);
        }
        let mut commits = self.log.subscribe(checkpoint).await?;
        // What the database holds: behind `checkpoint` while the batches since had nothing for this projection.
        let mut stored = checkpoint;
        let mut stored_at = tokio::time::Instant::now();
        loop {
            let first = tokio::select! {
                next = commits.next() => next,
                _ = tokio::time::sleep_until(stored_at + STORE_QUIET_PROGRESS), if checkpoint > stored => {
                    self.store(stored, checkpoint).await?;
                    (stored, stored_at) = (checkpoint, tokio::time::Instant::now());
                    continue;
                }
                _ = shutdown.cancelled() => {
                    // What it reached is stored as it stops, so `casetrack admin projections` says what `/readyz` said.
                    if checkpoint > stored {
                        self.store(stored, checkpoint).await?;
                    }
                    return Ok(Stop::Shutdown);
                }
            };
            let Some(first) = first else {
                return Err(RunError::Transient(anyhow::anyhow!("the log subscription ended")));
            };
            let mut batch = vec![first?];
            let mut pending: Option<LogError> = None;
            let mut events = batch[0].events.len();
            // A commit with something for this projection: its transaction begins now, and on SQLite waits for the
            // writer's turn, so that what comes meanwhile joins this batch rather than waiting for a transaction
            // of its own (under load, most of the batches of the twenty-odd projections were a few commits each).
            let begun = if batch[0].events.iter().any(|event| self.projection.concerns(event)) {
                Some(self.db.begin_background().await.map_err(|e| RunError::Transient(e.into()))?)
            } else {
                None
            };
            // Take whatever else is already waiting, without waiting for more.
            while events < BATCH_EVENTS && until.is_none_or(|until| batch.last().expect("non-empty").position < until) {
                match crate::log::next_waiting(&mut commits) {
                    Some(Ok(next)) => {
                        events += next.events.len();
                        batch.push(next);
                    }
                    Some(Err(error)) => {
                        // Apply what came before it first; the error ends the run after this batch.
                        pending = Some(error);
                        break;
                    }
                    _ => break,
                }
            }
            if let Some(until) = until {
                batch.retain(|commit| commit.position <= until);
            }
            let batch = Batch::new(batch);
            let Some(last) = batch.last() else {
                return Ok(Stop::CaughtUp);
            };
            // A batch with nothing for this projection (a specialist service's cases in a police-feed import) costs
            // no transaction, until its progress has waited long enough, or a catch-up ends on it.
            let applies = batch.events().any(|(_, event)| self.projection.concerns(event))
                || stored_at.elapsed() >= STORE_QUIET_PROGRESS
                || until.is_some_and(|until| last >= until);
            if !applies {
                checkpoint = last;
                self.status.position.send_replace(last);
                if let Some(error) = pending {
                    return Err(error.into());
                }
                continue;
            }
            // A live run resumes wherever its checkpoint is: it knows nothing of what is stored.
            match self.apply_batch(stored, &batch, &mut Known::nothing(), begun).await {
                Ok(()) => {}
                Err(RunError::Poison(error)) => {
                    // Apply what came before the poison, so the read model stops exactly at it.
                    if let Some(poison) = poison_position(&error) {
                        let before: Vec<Commit> =
                            batch.commits().iter().take_while(|c| c.position < poison).cloned().collect();
                        let before = Batch::new(before);
                        if let Some(last) = before.last() {
                            self.apply_batch(stored, &before, &mut Known::nothing(), None).await?;
                            self.status.position.send_replace(last);
                        }
                    }
                    return Err(RunError::Poison(error));
                }
                Err(other) => return Err(other),
            }
            checkpoint = last;
            (stored, stored_at) = (last, tokio::time::Instant::now());
            self.status.position.send_replace(last);
            self.status.set_retrying(None);
            metrics::counter!("casetrack_projection_events_total", "projection" => self.projection.name())
                .increment(events as u64);
            if let Some(error) = pending {
                return Err(error.into());
            }
            if until.is_some_and(|until| last >= until) {
                return Ok(Stop::CaughtUp);
            }
        }
    }
}

/// Most events a rebuild hands each projection at once. Large, because projections read the rows a batch touches
/// up front and write many rows a statement: the fewer the batches, the fewer the statements per event.
pub const REBUILD_BATCH_EVENTS: usize = 100_000;

/// How a rebuild went, per projection.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    pub name: &'static str,
    pub position: Position,
    /// Time spent applying batches: on PostgreSQL, where projections apply side by side, these add up to more than
    /// the whole; on SQLite, where they take turns, waiting for a turn is left out.
    pub busy: Duration,
}

/// Empties `projections` and replays `log` into all of them from one read of it: each batch of commits (of about
/// `batch_events` events, [`REBUILD_BATCH_EVENTS`] unless testing) is read and decoded from the log once and handed
/// to every projection, each applying it in its own transaction with its own
/// checkpoint, side by side. Stops at the log's head as it was at the start. A failure (poison included) stops the
/// rebuild and names the projection; what was applied stays, with its checkpoint, so the live runner resumes.
pub async fn rebuild_all(
    db: &ReadDb,
    log: &EventLog,
    projections: Vec<Arc<dyn Projection>>,
    registry: &Registry,
    batch_events: usize,
) -> anyhow::Result<Vec<Rebuilt>> {
    use anyhow::Context as _;
    let head = log.head().await?;
    let mut runners = Vec::new();
    for projection in projections {
        let runner = ProjectionRunner::new(db.clone(), log.clone(), projection, registry);
        runner.reset().await.with_context(|| format!("failed to empty {}", runner.projection.name()))?;
        runners.push(runner);
    }
    // SQLite has one writer at a time: projections waiting for its lock with a batch half-folded only add
    // switches between threads, so they take turns. PostgreSQL applies them side by side.
    let writers = Arc::new(tokio::sync::Semaphore::new(match db.backend() {
        crate::db::DbBackend::Sqlite => 1,
        crate::db::DbBackend::Postgres => runners.len().max(1),
    }));
    let mut senders = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for runner in runners {
        let writers = writers.clone();
        let (sender, mut batches) = tokio::sync::mpsc::channel::<Arc<Batch>>(2);
        senders.push(sender);
        tasks.spawn(async move {
            let name = runner.projection.name();
            let mut checkpoint = Position(0);
            let mut busy = Duration::ZERO;
            // Emptied above, and fed every batch from the log's start: what it stores, it knows. (A batch that fails
            // ends the rebuild, so nothing it noted outlives its rollback.)
            let mut known = Known::from_empty();
            while let Some(batch) = batches.recv().await {
                let _turn = writers.acquire().await.expect("the semaphore is never closed");
                let started = std::time::Instant::now();
                let last = batch.last().unwrap_or(checkpoint);
                runner
                    .apply_batch(checkpoint, &batch, &mut known, None)
                    .await
                    .map_err(anyhow::Error::from)
                    .with_context(|| format!("failed to rebuild {name}"))?;
                runner.analyze_grown().await.with_context(|| format!("failed to analyse {name}'s tables"))?;
                busy += started.elapsed();
                checkpoint = last;
                runner.status.position.send_replace(last);
            }
            anyhow::Ok(Rebuilt { name, position: checkpoint, busy })
        });
    }
    let reader = async {
        if head.0 == 0 {
            return anyhow::Ok(());
        }
        let mut commits = log.subscribe(Position(0)).await?;
        let mut batch = Vec::new();
        let mut events = 0;
        while let Some(commit) = commits.next().await {
            let commit = commit?;
            let position = commit.position;
            events += commit.events.len();
            batch.push(commit);
            if events >= batch_events || position >= head {
                let shared = Arc::new(Batch::new(std::mem::take(&mut batch)));
                events = 0;
                for sender in &senders {
                    // A projection that stopped has dropped its receiver; its error is reported below.
                    let _ = sender.send(shared.clone()).await;
                }
            }
            if position >= head {
                break;
            }
        }
        anyhow::Ok(())
    };
    let read = reader.await;
    drop(senders);
    let mut rebuilt = Vec::new();
    while let Some(done) = tasks.join_next().await {
        rebuilt.push(done.context("a projection's rebuild panicked")??);
    }
    read.context("failed to read the log")?;
    rebuilt.sort_by_key(|r| r.name);
    Ok(rebuilt)
}

/// Decodes an event of context `E` for a projection: `None` for other contexts, poison for an event of this
/// context that does not decode (unknown type or version, or a payload that does not match its schema).
pub fn decode<E: casetrack_proto::EventContract>(
    position: Position,
    envelope: &casetrack_proto::Envelope,
) -> Result<Option<E>, ProjectionError> {
    if envelope.subject.context() != E::CONTEXT {
        return Ok(None);
    }
    E::from_data(&envelope.event_type, envelope.schema_version, &envelope.data)
        .map(Some)
        .map_err(|source| ProjectionError::Decode { position, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{TempDir, fresh_postgres, open_sqlite_log};

    #[test]
    fn the_audit_trail_lags_behind_its_own_stream_not_the_case_history() {
        // Issue 25: `admin projections` measured audit.* against the case history's head and said the audit
        // trail was 226,341 behind while `/readyz` said 0.
        let heads = Heads { events: Position(300_000), audit: Position(73_659) };
        assert_eq!(heads.lag("audit.trail", Position(73_659)), 0);
        assert_eq!(heads.lag("audit.trail", Position(73_000)), 659);
        assert_eq!(heads.lag("hub.referrals", Position(73_659)), 226_341);
        assert_eq!(heads.lag("hub.referrals", Position(300_000)), 0);
        assert_eq!(heads.lag("hub.referrals", Position(300_001)), 0);
    }

    /// Owns one table, written by the test itself.
    struct Grown;

    #[async_trait::async_trait]
    impl Projection for Grown {
        fn name(&self) -> &'static str {
            "test.grown"
        }

        fn tables(&self) -> &'static [&'static str] {
            &["test_grown"]
        }

        async fn apply(&self, _: &mut AnyConnection, _: &Batch, _: &mut Known) -> Result<(), ProjectionError> {
            Ok(())
        }
    }

    /// Adds `rows` rows and makes the server publish its counts of changed rows at once (it otherwise may wait).
    async fn grow(db: &ReadDb, rows: i64) {
        let mut connection = db.pool().acquire().await.expect("a connection");
        sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO test_grown SELECT generate_series(1, {rows})")))
            .execute(&mut *connection)
            .await
            .expect("insert");
        sqlx::query("SELECT pg_stat_force_next_flush()").execute(&mut *connection).await.expect("flush statistics");
    }

    async fn counted_rows(db: &ReadDb) -> f64 {
        let sql = "SELECT CAST(reltuples AS DOUBLE PRECISION) FROM pg_class WHERE relname = 'test_grown'";
        sqlx::query_scalar(sql).fetch_one(db.pool()).await.expect("the table's statistics")
    }

    /// A rebuild gives the planner statistics whenever a table has grown past what they counted, however late it
    /// starts to fill: a table analysed while still empty made look-ups read a service's every case.
    #[tokio::test]
    async fn tables_are_analysed_each_time_they_have_doubled() {
        let dir = TempDir::new();
        let db = fresh_postgres().await;
        sqlx::query("CREATE TABLE test_grown (n BIGINT NOT NULL)").execute(db.pool()).await.expect("create");
        let runner =
            ProjectionRunner::new(db.clone(), open_sqlite_log(dir.path()).await, Arc::new(Grown), &Registry::default());
        runner.analyze_grown().await.expect("analyse");
        assert_eq!(counted_rows(&db).await, -1.0, "an empty table is left alone");
        grow(&db, 5_000).await;
        runner.analyze_grown().await.expect("analyse");
        assert_eq!(counted_rows(&db).await, 5_000.0, "the first rows are counted");
        grow(&db, 500).await;
        runner.analyze_grown().await.expect("analyse");
        assert_eq!(counted_rows(&db).await, 5_000.0, "a tenth more is not worth an analysis");
        grow(&db, 6_000).await;
        runner.analyze_grown().await.expect("analyse");
        assert_eq!(counted_rows(&db).await, 11_500.0, "more than doubled: analysed again");
    }
}

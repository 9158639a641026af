//! Reactors: event in, command out, on another aggregate.
//!
//! A reactor is not a projection: it has side effects (it appends to the log), so a rebuild never replays it. It
//! handles each commit at least once: its checkpoint moves after the commands it issued are stored, and a crash in
//! between means the commit is handled again. That is safe because a reactor derives everything it writes from the
//! causing event ([`casetrack_proto::EventId::derive`]): the target aggregate's id and the command id, so the
//! second attempt is recognised by the log as the same command, or refused by the aggregate as already done.
//! The checkpoint is stored once a second at most, not once per commit.

use std::sync::Arc;
use std::time::Duration;

use casetrack_proto::Envelope;
use futures::StreamExt;
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::db::ReadDb;
use crate::log::{EventLog, Position};
use crate::projection::{ProjectionStatus, Registry, load_checkpoint};

pub trait Reactor: Send + Sync + 'static {
    /// Unique, stable name; its checkpoint is stored as `reactor:<name>`.
    fn name(&self) -> &'static str;
    /// Reacts to one event. An error is retried (with back-off) until it succeeds; a reactor that meets an event
    /// it can never handle must say so in its result (and log it), not loop forever.
    fn react<'a>(&'a self, log: &'a EventLog, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>>;
}

pub struct ReactorRunner {
    db: ReadDb,
    log: EventLog,
    reactor: Arc<dyn Reactor>,
    checkpoint_name: &'static str,
    status: Arc<ProjectionStatus>,
}

impl ReactorRunner {
    pub fn new(db: ReadDb, log: EventLog, reactor: Arc<dyn Reactor>, registry: &Registry) -> Self {
        let checkpoint_name: &'static str = Box::leak(format!("reactor:{}", reactor.name()).into_boxed_str());
        let status = registry.status(checkpoint_name);
        Self { db, log, reactor, checkpoint_name, status }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.run_once(&shutdown).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(reactor = self.reactor.name(), error = %format!("{error:#}"), "reactor failed; retrying");
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

    async fn run_once(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let mut checkpoint = load_checkpoint(&self.db, self.checkpoint_name).await?;
        self.status.set_position(checkpoint);
        let mut commits = self.log.subscribe(checkpoint).await?;
        // What the database holds. A reactor acts on few of the commits it reads (the IDVA's intake, on onward
        // referrals to the IDVA), and handles any again safely: its checkpoint is stored once a second at most,
        // not once per commit (two a row of an import, each a turn at the read-model database's one writer).
        let mut stored = checkpoint;
        let mut stored_at = tokio::time::Instant::now();
        loop {
            let next = tokio::select! {
                next = commits.next() => next,
                _ = tokio::time::sleep_until(stored_at + STORE_EVERY), if checkpoint > stored => {
                    self.store_checkpoint(checkpoint).await?;
                    (stored, stored_at) = (checkpoint, tokio::time::Instant::now());
                    continue;
                }
                _ = shutdown.cancelled() => {
                    if checkpoint > stored {
                        self.store_checkpoint(checkpoint).await?;
                    }
                    return Ok(());
                }
            };
            let mut batch = vec![next.ok_or_else(|| anyhow::anyhow!("the log subscription ended"))?];
            // Whatever else is already waiting is handled in one go.
            while batch.len() < BATCH_COMMITS {
                match crate::log::next_waiting(&mut commits) {
                    Some(next) => batch.push(next),
                    None => break,
                }
            }
            for commit in batch {
                match self.react_to(commit).await {
                    Ok(position) => {
                        checkpoint = position;
                        self.status.set_position(checkpoint);
                    }
                    Err(error) => {
                        if checkpoint > stored {
                            self.store_checkpoint(checkpoint).await?;
                        }
                        return Err(error);
                    }
                }
            }
            if checkpoint > stored && stored_at.elapsed() >= STORE_EVERY {
                self.store_checkpoint(checkpoint).await?;
                (stored, stored_at) = (checkpoint, tokio::time::Instant::now());
            }
            self.status.set_retrying(None);
        }
    }

    /// Handles every event of one commit; returns its position.
    async fn react_to(&self, commit: Result<crate::log::Commit, crate::log::LogError>) -> anyhow::Result<Position> {
        let commit = commit?;
        for event in &commit.events {
            self.reactor.react(&self.log, event).await?;
        }
        Ok(commit.position)
    }

    /// Stores the checkpoint, in a write transaction so that it takes its turn at the database's writer.
    async fn store_checkpoint(&self, position: Position) -> sqlx::Result<()> {
        let now = chrono::Utc::now().to_rfc3339();
        let mut tx = self.db.begin_background().await?;
        sqlx::query(
            "INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
        )
        .bind(self.checkpoint_name)
        .bind(position.0 as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
}

/// Most commits a reactor takes from its subscription at once.
const BATCH_COMMITS: usize = 2_000;

/// How often at most a reactor stores its checkpoint. A crash loses at most the last second's checkpoint, never
/// its commands: those commits are handled again, and the log recognises each command it stored.
const STORE_EVERY: Duration = Duration::from_secs(1);

impl ProjectionStatus {
    pub(crate) fn set_position(&self, position: Position) {
        self.position_sender().send_replace(position);
    }
}

//! Reactors: event in, command out, on another aggregate.
//!
//! A reactor is not a projection: it has side effects (it appends to the log), so a rebuild never replays it. It
//! handles each commit at least once: its checkpoint moves after the commands it issued are stored, and a crash in
//! between means the commit is handled again. That is safe because a reactor derives everything it writes from the
//! causing event ([`casetrack_proto::EventId::derive`]): the target aggregate's id and the command id, so the
//! second attempt is recognised by the log as the same command, or refused by the aggregate as already done.

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
        loop {
            let next = tokio::select! {
                next = commits.next() => next,
                _ = shutdown.cancelled() => return Ok(()),
            };
            let commit = next.ok_or_else(|| anyhow::anyhow!("the log subscription ended"))??;
            for event in &commit.events {
                self.reactor.react(&self.log, event).await?;
            }
            let now = chrono::Utc::now().to_rfc3339();
            sqlx::query(
                "INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
            )
            .bind(self.checkpoint_name)
            .bind(commit.position.0 as i64)
            .bind(now)
            .execute(self.db.pool())
            .await?;
            checkpoint = commit.position;
            self.status.set_position(checkpoint);
            self.status.set_retrying(None);
        }
    }
}

impl ProjectionStatus {
    pub(crate) fn set_position(&self, position: Position) {
        self.position_sender().send_replace(position);
    }
}

//! One reading of the log per process, shared by its projections and reactors.
//!
//! A process runs twenty-odd projections and reactors, and each reads every commit. On JetStream each had a consumer
//! of its own, so the server sent every commit twenty-odd times and the process decoded it as often. The shared
//! reading reads the log once, from the head as it was when the first subscriber came, and holds the last commits it
//! read. A subscriber takes its commits from those; one that starts further back, or falls further behind than they
//! reach, reads the log on its own (its backend's own subscription) until it is back among them.
//!
//! What a subscriber sees is the same either way: every commit after the position it asked for, in order, once.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::{Commit, CommitStream, LogError, LogResult, Position};

/// A backend's own subscription from a position: what a subscriber reads while the shared reading does not reach it.
pub(crate) type OwnReading = Arc<dyn Fn(Position) -> BoxFuture<'static, LogResult<CommitStream>> + Send + Sync>;

/// The shared reading of one log. Dropped with its log, it stops reading.
pub(crate) struct SharedReading {
    held: Arc<Mutex<Held>>,
    /// The newest position held, for subscribers waiting for more.
    newest: watch::Sender<Position>,
    own: OwnReading,
    capacity: usize,
    _stop: DropGuard,
    stop: CancellationToken,
}

/// The commits the shared reading holds.
#[derive(Default)]
struct Held {
    /// Every commit after `after`, oldest first, up to the newest read.
    commits: VecDeque<Arc<Commit>>,
    /// Every commit after this position is held (or not yet read); `None` until the reading starts.
    after: Option<Position>,
    /// Whether the reading runs; it is started again by the next subscriber after it failed.
    running: bool,
    /// Why the reading last stopped, for subscribers waiting on it.
    failure: Option<String>,
}

/// What the shared reading holds for a subscriber at a position.
enum Next {
    Commit(Arc<Commit>),
    /// Nothing newer yet: wait for the reading.
    Wait,
    /// Commits it needs are no longer held (or never were): read on its own.
    Behind,
    /// The reading stopped.
    Failed(String),
}

impl Held {
    fn next_after(&self, at: Position) -> Next {
        match self.after {
            Some(after) if at >= after => {
                let index = self.commits.partition_point(|commit| commit.position <= at);
                match self.commits.get(index) {
                    Some(commit) => Next::Commit(commit.clone()),
                    None if !self.running => Next::Failed(self.failure.clone().unwrap_or_default()),
                    None => Next::Wait,
                }
            }
            _ => Next::Behind,
        }
    }
}

impl SharedReading {
    /// A shared reading that holds up to `capacity` commits; `own` opens a subscriber's own reading.
    pub(crate) fn new(capacity: usize, own: OwnReading) -> Self {
        let stop = CancellationToken::new();
        Self {
            held: Arc::new(Mutex::new(Held::default())),
            newest: watch::channel(Position(0)).0,
            own,
            capacity: capacity.max(1),
            _stop: stop.clone().drop_guard(),
            stop,
        }
    }

    /// Every commit after `after`, then each new one as it is written. `head` (where the log ends now) is asked only
    /// when the shared reading is not running: it starts there the first time.
    pub(crate) async fn subscribe(
        &self,
        after: Position,
        head: impl Future<Output = LogResult<Position>>,
    ) -> LogResult<CommitStream> {
        self.start(head).await?;
        let subscriber = Subscriber {
            at: after,
            own: None,
            held: self.held.clone(),
            newest: self.newest.subscribe(),
            open_own: self.own.clone(),
        };
        Ok(futures::stream::unfold(subscriber, |mut subscriber| async move {
            let item = subscriber.next().await?;
            Some((item, subscriber))
        })
        .boxed())
    }

    /// Starts the shared reading, unless it runs: after the newest commit it held, or after the log's head the first
    /// time.
    async fn start(&self, head: impl Future<Output = LogResult<Position>>) -> LogResult<()> {
        let first_time = {
            let held = self.held.lock().expect("shared reading lock");
            if held.running {
                return Ok(());
            }
            held.after.is_none()
        };
        let head = if first_time { Some(head.await?) } else { None };
        let from = {
            let mut held = self.held.lock().expect("shared reading lock");
            if held.running {
                // Another subscriber started it meanwhile.
                return Ok(());
            }
            held.running = true;
            held.failure = None;
            let from = held.commits.back().map(|commit| commit.position).or(held.after).or(head).unwrap_or_default();
            held.after.get_or_insert(from);
            from
        };
        match (self.own)(from).await {
            Ok(commits) => {
                let (held, newest) = (self.held.clone(), self.newest.clone());
                tokio::spawn(read(commits, held, newest, self.capacity, self.stop.clone()));
                Ok(())
            }
            Err(error) => {
                let mut held = self.held.lock().expect("shared reading lock");
                held.running = false;
                held.failure = Some(error.to_string());
                drop(held);
                // Subscribers that came while it started wait on it: they are told, as when a reading fails.
                self.newest.send_modify(|_| {});
                Err(error)
            }
        }
    }
}

/// Reads the log into `held` until it fails or the log is dropped.
async fn read(
    mut commits: CommitStream,
    held: Arc<Mutex<Held>>,
    newest: watch::Sender<Position>,
    capacity: usize,
    stop: CancellationToken,
) {
    let failure = loop {
        let next = tokio::select! {
            next = commits.next() => next,
            _ = stop.cancelled() => break "the log was closed".to_owned(),
        };
        match next {
            Some(Ok(commit)) => {
                let position = commit.position;
                let mut held = held.lock().expect("shared reading lock");
                held.commits.push_back(Arc::new(commit));
                if held.commits.len() > capacity
                    && let Some(oldest) = held.commits.pop_front()
                {
                    held.after = Some(oldest.position);
                }
                drop(held);
                newest.send_replace(position);
            }
            Some(Err(error)) => break error.to_string(),
            None => break "the log's reading ended".to_owned(),
        }
    };
    let mut held = held.lock().expect("shared reading lock");
    held.running = false;
    held.failure = Some(failure);
    drop(held);
    // Wakes the subscribers waiting, to find it stopped.
    newest.send_modify(|_| {});
}

/// One subscriber: where it is, and its own reading while the shared one does not reach it.
struct Subscriber {
    at: Position,
    own: Option<CommitStream>,
    held: Arc<Mutex<Held>>,
    newest: watch::Receiver<Position>,
    open_own: OwnReading,
}

impl Subscriber {
    async fn next(&mut self) -> Option<LogResult<Commit>> {
        loop {
            let next = self.held.lock().expect("shared reading lock").next_after(self.at);
            match next {
                Next::Commit(commit) => {
                    // Back among the held commits: its own reading is done with.
                    self.own = None;
                    self.at = commit.position;
                    return Some(Ok(Commit::clone(&commit)));
                }
                Next::Wait => {
                    self.own = None;
                    self.newest.borrow_and_update();
                    // Looked at again under the lock: a commit may have come between the two.
                    if matches!(self.held.lock().expect("shared reading lock").next_after(self.at), Next::Wait) {
                        self.newest.changed().await.ok()?;
                    }
                }
                Next::Failed(reason) => {
                    return Some(Err(LogError::unavailable(anyhow::anyhow!("reading the log stopped: {reason}"))));
                }
                Next::Behind => {
                    if self.own.is_none() {
                        match (self.open_own)(self.at).await {
                            Ok(own) => self.own = Some(own),
                            Err(error) => return Some(Err(error)),
                        }
                    }
                    let own = self.own.as_mut().expect("opened above");
                    match own.next().await? {
                        Ok(commit) => {
                            self.at = commit.position;
                            return Some(Ok(commit));
                        }
                        Err(error) => return Some(Err(error)),
                    }
                }
            }
        }
    }
}

//! The production event log: NATS JetStream.
//!
//! - One stream (default `CASETRACK`), subjects `<prefix>.<context>.<aggregate>.<uuid>` (prefix default
//!   `casetrack`), file storage, no retention limits, deletes and purges denied: events are never removed.
//! - One message per commit: its payload is the JSON array of the commit's envelopes, so a multi-event append is
//!   atomic on every server version.
//! - Optimistic concurrency with `Nats-Expected-Last-Subject-Sequence`, which holds the *stream* sequence of the
//!   subject's last message; the dense aggregate version travels in the `Casetrack-Version` header. Error codes
//!   10071 and 10164 both mean "someone else wrote first".
//! - `Nats-Msg-Id` is the command id: JetStream's duplicate window stores a retried command once.
//! - Loading an aggregate: a filtered consumer per load is slow on nats-server 2.9, so each message also carries
//!   `Casetrack-Prev`, the stream sequence of the subject's previous commit. A load asks for the subject's last
//!   message (one direct get); when it is the one cached, the cached events are the answer; otherwise it walks the
//!   `Casetrack-Prev` chain back to the cached point (or the start) with direct gets, so another process's appends are
//!   always seen.
//! - Reading the log: one ordered consumer per process, shared by its projections and reactors
//!   ([`super::shared::SharedReading`]); a subscriber further behind than it holds reads through one of its own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::{self, consumer, stream};
use async_nats::{HeaderMap, HeaderValue};
use casetrack_proto::{Envelope, StreamId};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};

use super::shared::{OwnReading, SharedReading};
use super::{
    AppendRequest, Appended, Commit, CommitStream, ExpectedVersion, Kept, LogBackend, LogError, LogResult, Position,
    envelopes_for, version_of,
};

const VERSION_HEADER: &str = "Casetrack-Version";
const PREV_HEADER: &str = "Casetrack-Prev";
/// Error codes JetStream answers with when `Nats-Expected-Last-Subject-Sequence` does not hold.
const WRONG_LAST_SEQUENCE_CODES: [u64; 2] = [10071, 10164];
/// How many times an `ExpectedVersion::Any` append retries after losing a race.
const ANY_RETRIES: usize = 16;

/// Where and how the log lives in NATS.
#[derive(Debug, Clone)]
pub struct JetStreamConfig {
    pub url: String,
    pub stream: String,
    pub subject_prefix: String,
    pub replicas: usize,
    /// How long JetStream remembers command ids for deduplication.
    pub duplicate_window: Duration,
    /// How many aggregates the load cache keeps.
    pub cache_capacity: usize,
    /// How many of the latest commits the process's shared reading of the log holds for its subscribers.
    pub held_commits: usize,
}

impl JetStreamConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: "CASETRACK".into(),
            subject_prefix: "casetrack".into(),
            replicas: 1,
            duplicate_window: Duration::from_secs(24 * 60 * 60),
            cache_capacity: 50_000,
            held_commits: 10_000,
        }
    }

    /// The audit trail's stream beside this one: `<stream>_AUDIT` on subjects `<prefix>_audit.>`, so that neither
    /// stream's subjects overlap the other's.
    pub fn audit(&self) -> Self {
        let mut config = self.clone();
        config.stream = format!("{}_AUDIT", self.stream);
        config.subject_prefix = format!("{}_audit", self.subject_prefix);
        config
    }
}

#[derive(Clone)]
struct Cached {
    last_seq: u64,
    events: Arc<Vec<Envelope>>,
}

pub struct JetStreamLog {
    js: jetstream::Context,
    stream: stream::Stream,
    config: JetStreamConfig,
    cache: Mutex<Kept<Cached>>,
    /// The process's one reading of the log, shared by its subscribers.
    reading: SharedReading,
}

/// The tip of one subject: its last commit's stream sequence and the aggregate version it left.
#[derive(Debug, Clone, Copy)]
struct Tip {
    seq: u64,
    version: u32,
}

impl JetStreamLog {
    /// Connects, checks that the server has JetStream, and creates or checks the stream.
    pub async fn connect(config: JetStreamConfig) -> anyhow::Result<Self> {
        // A cluster is given as a comma-separated list of servers.
        let servers = config
            .url
            .split(',')
            .map(|server| server.trim().parse::<async_nats::ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("the NATS URL {} is not a valid server list", config.url))?;
        let client = async_nats::ConnectOptions::new()
            .name("casetrack")
            .connect(servers)
            .await
            .with_context(|| format!("failed to connect to NATS at {}", config.url))?;
        Self::with_client(client, config).await
    }

    pub async fn with_client(client: async_nats::Client, config: JetStreamConfig) -> anyhow::Result<Self> {
        check_jetstream(&client, &config.url).await?;
        let js = jetstream::new(client);
        let stream = ensure_stream(&js, &config).await?;
        let cache = Mutex::new(Kept::new(config.cache_capacity));
        let own: OwnReading = {
            let (stream, subjects) = (stream.clone(), format!("{}.>", config.subject_prefix));
            Arc::new(move |after| own_reading(stream.clone(), subjects.clone(), after).boxed())
        };
        let reading = SharedReading::new(config.held_commits, own);
        Ok(Self { js, stream, config, cache, reading })
    }

    fn subject(&self, stream: &StreamId) -> String {
        format!("{}.{}", self.config.subject_prefix, stream)
    }

    /// Deletes the whole stream. Only for test kits cleaning up their own per-test stream.
    pub async fn delete_stream(&self) -> anyhow::Result<()> {
        self.js.delete_stream(&self.config.stream).await?;
        Ok(())
    }

    async fn tip(&self, subject: &str) -> LogResult<Option<(Tip, jetstream::message::StreamMessage)>> {
        let tip_of = |message: jetstream::message::StreamMessage| -> LogResult<_> {
            let tip = Tip { seq: message.sequence, version: header_u64(&message.headers, VERSION_HEADER)? as u32 };
            Ok(Some((tip, message)))
        };
        match self.stream.direct_get_last_for_subject(subject).await {
            Ok(message) => tip_of(message),
            // Any replica may answer a direct get, and a follower can be behind its leader for a moment (most
            // often while the cluster replaces a lost node): "nothing there" may only mean "not here yet". So it is
            // asked again of the leader, which holds every acknowledged message, and a stream written a moment ago
            // (a person registered, then referred) is never read as empty. A stale tip of a stream with events is
            // caught on append instead: the expected last sequence no longer matches and the command is retried.
            // A stream kept on one server has no follower: its answer stands (a second round trip for every new
            // aggregate slowed imports, two new aggregates a row).
            Err(error) if matches!(error.kind(), stream::DirectGetErrorKind::NotFound) && !self.replicated() => {
                Ok(None)
            }
            Err(error) if matches!(error.kind(), stream::DirectGetErrorKind::NotFound) => {
                match self.stream.get_last_raw_message_by_subject(subject).await {
                    Ok(message) => tip_of(message),
                    Err(error) if matches!(error.kind(), stream::LastRawMessageErrorKind::NoMessageFound) => Ok(None),
                    Err(error) => Err(LogError::unavailable(error)),
                }
            }
            Err(error) => Err(LogError::unavailable(error)),
        }
    }

    /// Whether the stream is kept on more than one server (as it was when this process connected).
    fn replicated(&self) -> bool {
        self.stream.cached_info().config.num_replicas > 1
    }

    fn cache_put(&self, stream: &StreamId, cached: Cached) {
        self.cache.lock().expect("cache lock").keep(stream, cached);
    }

    fn cached(&self, stream: &StreamId) -> Option<Cached> {
        self.cache.lock().expect("cache lock").get(stream).cloned()
    }

    async fn publish(
        &self,
        subject: &str,
        request: &AppendRequest,
        envelopes: &[Envelope],
        expected_seq: u64,
    ) -> Result<jetstream::publish::PublishAck, PublishOutcome> {
        let payload = serde_json::to_vec(envelopes).map_err(|e| PublishOutcome::Failed(LogError::unavailable(e)))?;
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", request.command_id.to_string().as_str());
        headers.insert("Nats-Expected-Last-Subject-Sequence", HeaderValue::from(expected_seq));
        headers.insert(VERSION_HEADER, HeaderValue::from(version_of(envelopes) as u64));
        headers.insert(PREV_HEADER, HeaderValue::from(expected_seq));
        let ack = self
            .js
            .send_publish(
                subject.to_owned(),
                jetstream::message::PublishMessage::build().payload(payload.into()).headers(headers),
            )
            .await
            .map_err(|e| PublishOutcome::Failed(LogError::unavailable(e)))?
            .await;
        ack.map_err(|error| {
            if is_wrong_last_sequence(&error) {
                PublishOutcome::WrongLastSequence
            } else {
                PublishOutcome::Failed(LogError::unavailable(error))
            }
        })
    }

    async fn append_once(&self, request: &AppendRequest, subject: &str) -> Result<Appended, PublishOutcome> {
        let tip = match (self.cached(&request.stream), request.expected) {
            (Some(cached), _) => Tip { seq: cached.last_seq, version: version_of(&cached.events) },
            // A new aggregate needs no look-up: "no message on this subject yet" is exactly what sequence 0 asks
            // the server to check, and a conflict is resolved by the caller like any other.
            (None, ExpectedVersion::Exact(0)) => Tip { seq: 0, version: 0 },
            (None, _) => self
                .tip(subject)
                .await
                .map_err(PublishOutcome::Failed)?
                .map(|(tip, _)| tip)
                .unwrap_or(Tip { seq: 0, version: 0 }),
        };
        // When the caller expects another version than the one we know, send the commit anyway with an expected
        // sequence no subject can have: JetStream checks the command id before the sequence, so a retried command
        // is answered as a duplicate and anything else is refused as a conflict, in one round trip.
        let expected_seq = match request.expected {
            ExpectedVersion::Exact(expected) if expected != tip.version => u64::MAX,
            _ => tip.seq,
        };
        let envelopes = envelopes_for(request, tip.version, chrono::Utc::now());
        let ack = self.publish(subject, request, &envelopes, expected_seq).await?;
        if ack.duplicate {
            let stored = self
                .stream
                .direct_get(ack.sequence)
                .await
                .map_err(|e| PublishOutcome::Failed(LogError::unavailable(e)))?;
            let version = header_u64(&stored.headers, VERSION_HEADER).map_err(PublishOutcome::Failed)? as u32;
            return Ok(Appended { position: Position(ack.sequence), version, duplicate: true });
        }
        let version = version_of(&envelopes);
        self.cache_extend(&request.stream, tip.seq, ack.sequence, envelopes);
        Ok(Appended { position: Position(ack.sequence), version, duplicate: false })
    }

    /// Adds a commit we just wrote to the cache, in place when the cached list is not shared. A cache that was
    /// behind (another process wrote in between) is dropped: the next load walks the chain.
    fn cache_extend(&self, stream: &StreamId, previous_seq: u64, seq: u64, envelopes: Vec<Envelope>) {
        let mut cache = self.cache.lock().expect("cache lock");
        match cache.get_mut(stream) {
            Some(cached) if cached.last_seq == previous_seq => {
                Arc::make_mut(&mut cached.events).extend(envelopes);
                cached.last_seq = seq;
            }
            Some(_) => cache.let_go(stream),
            None if previous_seq == 0 => {
                drop(cache);
                self.cache_put(stream, Cached { last_seq: seq, events: Arc::new(envelopes) });
            }
            None => {}
        }
    }

    async fn load(&self, stream: &StreamId) -> LogResult<Arc<Vec<Envelope>>> {
        let subject = self.subject(stream);
        let Some((tip, last)) = self.tip(&subject).await? else {
            return Ok(Arc::new(Vec::new()));
        };
        let cached = self.cached(stream);
        if let Some(cached) = &cached
            && cached.last_seq == tip.seq
        {
            return Ok(cached.events.clone());
        }
        let known_seq = cached.as_ref().map(|c| c.last_seq).unwrap_or(0);
        let mut newer = vec![last];
        loop {
            let prev = header_u64(&newer.last().expect("at least the tip").headers, PREV_HEADER)?;
            if prev == 0 || prev == known_seq {
                break;
            }
            let message = self.stream.direct_get(prev).await.map_err(LogError::unavailable)?;
            newer.push(message);
        }
        let mut events: Vec<Envelope> = match &cached {
            Some(cached)
                if known_seq != 0 && header_u64(&newer.last().expect("tip").headers, PREV_HEADER)? == known_seq =>
            {
                cached.events.as_ref().clone()
            }
            _ => Vec::new(),
        };
        for message in newer.iter().rev() {
            events.extend(decode_commit(message.sequence, &message.payload)?);
        }
        let events = Arc::new(events);
        self.cache_put(stream, Cached { last_seq: tip.seq, events: events.clone() });
        Ok(events)
    }
}

enum PublishOutcome {
    WrongLastSequence,
    Failed(LogError),
}

fn is_wrong_last_sequence(error: &jetstream::context::PublishError) -> bool {
    if matches!(error.kind(), jetstream::context::PublishErrorKind::WrongLastSequence) {
        return true;
    }
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<jetstream::Error>())
        .is_some_and(|js| WRONG_LAST_SEQUENCE_CODES.contains(&js.error_code().0))
}

fn header_u64(headers: &HeaderMap, name: &str) -> LogResult<u64> {
    headers.get(name).and_then(|value| value.as_str().parse().ok()).ok_or_else(|| LogError::Corrupt {
        position: Position(0),
        reason: format!("message without a valid {name} header"),
    })
}

fn decode_commit(seq: u64, payload: &[u8]) -> LogResult<Vec<Envelope>> {
    serde_json::from_slice(payload)
        .map_err(|error| LogError::Corrupt { position: Position(seq), reason: error.to_string() })
}

/// Asks the server for its JetStream account info: a server without JetStream has no responder for it.
async fn check_jetstream(client: &async_nats::Client, url: &str) -> anyhow::Result<()> {
    let advice = "start nats-server with -js (or `jetstream {}` in its configuration)";
    let reply = tokio::time::timeout(Duration::from_secs(5), client.request("$JS.API.INFO", bytes::Bytes::new()))
        .await
        .map_err(|_| anyhow::anyhow!("the NATS server at {url} did not answer a JetStream request in 5 s; {advice}"))?
        .map_err(|error| anyhow::anyhow!("the NATS server at {url} does not offer JetStream ({error}); {advice}"))?;
    let info: serde_json::Value =
        serde_json::from_slice(&reply.payload).context("unreadable JetStream account info")?;
    if let Some(error) = info.get("error") {
        anyhow::bail!("JetStream at {url} is not usable by this account ({error}); {advice}");
    }
    Ok(())
}

async fn ensure_stream(js: &jetstream::Context, config: &JetStreamConfig) -> anyhow::Result<stream::Stream> {
    let subjects = format!("{}.>", config.subject_prefix);
    match js.get_stream(&config.stream).await {
        Ok(mut stream) => {
            let info = stream.info().await.context("failed to read the event stream's configuration")?;
            let c = &info.config;
            let mut problems = Vec::new();
            if !c.subjects.contains(&subjects) {
                problems.push(format!("its subjects {:?} do not include {subjects}", c.subjects));
            }
            if c.storage != stream::StorageType::File {
                problems.push("it does not use file storage".to_owned());
            }
            if c.retention != stream::RetentionPolicy::Limits
                || !c.max_age.is_zero()
                || c.max_messages > 0
                || c.max_bytes > 0
                || c.max_messages_per_subject > 0
            {
                problems.push("it has retention limits, so events could be deleted".to_owned());
            }
            if !c.allow_direct {
                problems.push("direct get is not allowed (allow_direct)".to_owned());
            }
            anyhow::ensure!(
                problems.is_empty(),
                "the JetStream stream {} exists but cannot hold Casetrack's log: {}",
                config.stream,
                problems.join("; ")
            );
            Ok(stream)
        }
        Err(error) if matches!(error.kind(), jetstream::context::GetStreamErrorKind::JetStream(e) if e.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
        {
            let stream = js
                .create_stream(stream::Config {
                    name: config.stream.clone(),
                    description: Some("Casetrack event log: one message per commit, never deleted".into()),
                    subjects: vec![subjects],
                    storage: stream::StorageType::File,
                    num_replicas: config.replicas,
                    retention: stream::RetentionPolicy::Limits,
                    max_messages: -1,
                    max_bytes: -1,
                    max_messages_per_subject: -1,
                    discard: stream::DiscardPolicy::New,
                    duplicate_window: config.duplicate_window,
                    allow_direct: true,
                    deny_delete: true,
                    deny_purge: true,
                    ..Default::default()
                })
                .await
                .with_context(|| format!("failed to create the JetStream stream {}", config.stream))?;
            tracing::info!(stream = %config.stream, replicas = config.replicas, "created the event stream");
            Ok(stream)
        }
        Err(error) => {
            Err(anyhow::Error::new(error).context(format!("failed to look up the JetStream stream {}", config.stream)))
        }
    }
}

impl LogBackend for JetStreamLog {
    fn kind(&self) -> &'static str {
        "jetstream"
    }

    fn append(&self, request: AppendRequest) -> BoxFuture<'_, LogResult<Appended>> {
        async move {
            let subject = self.subject(&request.stream);
            let mut attempts = 0;
            loop {
                attempts += 1;
                match self.append_once(&request, &subject).await {
                    Ok(appended) => return Ok(appended),
                    Err(PublishOutcome::Failed(error)) => return Err(error),
                    Err(PublishOutcome::WrongLastSequence) => {
                        // Someone else wrote first (or our cache was behind): learn the real tip.
                        self.cache.lock().expect("cache lock").let_go(&request.stream);
                        let actual = self.tip(&subject).await?.map(|(tip, _)| tip.version).unwrap_or(0);
                        match request.expected {
                            ExpectedVersion::Exact(expected) if expected != actual || attempts > 1 => {
                                return Err(LogError::Conflict { stream: request.stream.clone(), expected, actual });
                            }
                            // The version we were asked for is the real one: only our cache was stale. Try again.
                            ExpectedVersion::Exact(_) => continue,
                            ExpectedVersion::Any if attempts < ANY_RETRIES => continue,
                            ExpectedVersion::Any => {
                                return Err(LogError::Unavailable(anyhow::anyhow!(
                                    "gave up appending to {} after {attempts} lost races",
                                    request.stream
                                )));
                            }
                        }
                    }
                }
            }
        }
        .boxed()
    }

    fn read_stream<'a>(&'a self, stream: &'a StreamId) -> BoxFuture<'a, LogResult<Vec<Envelope>>> {
        async move { Ok(self.load(stream).await?.as_ref().clone()) }.boxed()
    }

    fn subscribe(&self, after: Position) -> BoxFuture<'_, LogResult<CommitStream>> {
        self.reading.subscribe(after, self.head()).boxed()
    }

    fn head(&self) -> BoxFuture<'_, LogResult<Position>> {
        async move {
            let mut stream = self.js.get_stream(&self.config.stream).await.map_err(LogError::unavailable)?;
            let info = stream.info().await.map_err(LogError::unavailable)?;
            Ok(Position(info.state.last_sequence))
        }
        .boxed()
    }
}

/// A reading of the log of its own, from `after`: an ordered consumer over the log's subjects. The shared reading
/// ([`SharedReading`]) is one; a subscriber the shared reading does not reach reads through another.
async fn own_reading(stream: stream::Stream, subjects: String, after: Position) -> LogResult<CommitStream> {
    let deliver_policy = if after.0 == 0 {
        consumer::DeliverPolicy::All
    } else {
        consumer::DeliverPolicy::ByStartSequence { start_sequence: after.0 + 1 }
    };
    // While a cluster elects a new leader for the stream (a node lost), creating the reader times out: it is tried
    // again for about half a minute before the reader gives up.
    let mut waited = Duration::from_millis(250);
    let consumer = loop {
        let config =
            consumer::pull::OrderedConfig { filter_subject: subjects.clone(), deliver_policy, ..Default::default() };
        match stream.create_consumer(config).await {
            Ok(consumer) => break consumer,
            Err(error) if waited < Duration::from_secs(8) => {
                tracing::warn!(error = %error, "could not start reading the log; trying again");
                tokio::time::sleep(waited).await;
                waited *= 2;
            }
            Err(error) => return Err(LogError::unavailable(error)),
        }
    };
    let messages = consumer.messages().await.map_err(LogError::unavailable)?;
    let commits = messages.map(|message| {
        let message = message.map_err(LogError::unavailable)?;
        let seq = message.info().map_err(|e| LogError::unavailable(anyhow::anyhow!("{e}")))?.stream_sequence;
        let events = decode_commit(seq, &message.payload)?;
        Ok(Commit { position: Position(seq), events })
    });
    Ok(commits.boxed())
}

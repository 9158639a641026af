//! Fresh, isolated backends for tests against the real servers.
//!
//! Every test gets its own JetStream stream (and subject prefix) and its own PostgreSQL database, so tests run in
//! parallel and never see each other's data. A missing server is a test failure with a message that says how to
//! start it, never a skip. `NATS_URL` and `DATABASE_URL` override the local standard ports.

use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::db::ReadDb;
use crate::log::EventLog;
use crate::log::jetstream::{JetStreamConfig, JetStreamLog};
use crate::log::sqlite::SqliteLog;

pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// The PostgreSQL server tests create their databases on (the URL of an existing database, for admin work).
pub fn postgres_admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn unique() -> String {
    Uuid::now_v7().simple().to_string()
}

/// A JetStream stream of one test's own, deleted when dropped.
#[derive(Debug)]
pub struct TestStream {
    pub config: JetStreamConfig,
}

impl TestStream {
    pub fn new() -> Self {
        let id = unique();
        let mut config = JetStreamConfig::new(nats_url());
        config.stream = format!("TEST_{id}");
        config.subject_prefix = format!("t{id}");
        Self { config }
    }

    /// Opens a log on this stream: each call is a new connection with a cold cache, as another process would be.
    pub async fn open(&self) -> EventLog {
        sweep_abandoned_streams(&self.config.url).await;
        let log = JetStreamLog::connect(self.config.clone()).await.unwrap_or_else(|error| {
            panic!("tests need NATS with JetStream at {} (scripts/test starts one): {error:#}", self.config.url)
        });
        EventLog::new(log)
    }
}

impl Drop for TestStream {
    /// Deletes the stream (if the test created it) from a thread of its own: drop cannot await, and the test's
    /// runtime may be shutting down.
    fn drop(&mut self) {
        let config = self.config.clone();
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                if let Ok(client) = async_nats::connect(&config.url).await {
                    let js = async_nats::jetstream::new(client);
                    delete_test_stream(&js, &config.audit().stream).await;
                    delete_test_stream(&js, &config.stream).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

impl Default for TestStream {
    fn default() -> Self {
        Self::new()
    }
}

/// A stream the test kit never deletes. nats-server 2.9 removes the account's storage directory when its last
/// stream is deleted, and a stream created at that moment by a parallel test fails ("could not create storage
/// directory"). With this one always there, no deletion is ever the last.
const ANCHOR: &str = "TESTKIT_ANCHOR";

/// Deletes one test's stream, making sure first that it is not the server's last stream (see [`ANCHOR`]).
pub async fn delete_test_stream(js: &async_nats::jetstream::Context, name: &str) {
    let anchor = async_nats::jetstream::stream::Config {
        name: ANCHOR.into(),
        subjects: vec!["testkit-anchor".into()],
        max_messages: 1,
        ..Default::default()
    };
    // Already there (the usual case) is as good as created.
    let _ = js.get_or_create_stream(anchor).await;
    let _ = js.delete_stream(name).await;
}

/// Deletes test and benchmark streams more than an hour old (left by runs that were killed before their streams
/// were dropped), once per process. Their names end in a UUIDv7, which says when they were made.
async fn sweep_abandoned_streams(url: &str) {
    use futures::TryStreamExt;
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let Ok(client) = async_nats::connect(url).await else { return };
    let js = async_nats::jetstream::new(client);
    let Ok(names) = js.stream_names().try_collect::<Vec<String>>().await else { return };
    let hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        .saturating_sub(3600);
    for name in names {
        if !(name.starts_with("TEST_") || name.starts_with("BENCH_")) {
            continue;
        }
        let made = name
            .trim_end_matches("_AUDIT")
            .rsplit('_')
            .next()
            .and_then(|id| Uuid::parse_str(id).ok())
            .and_then(|id| id.get_timestamp());
        if made.is_some_and(|ts| ts.to_unix().0 < hour_ago) {
            delete_test_stream(&js, &name).await;
        }
    }
}

/// A directory that is removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("casetrack-test-{}", unique()));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An embedded log file of one test's own.
pub async fn open_sqlite_log(dir: &Path) -> EventLog {
    EventLog::new(SqliteLog::open(&dir.join("events.db")).await.expect("open the embedded log"))
}

/// Creates a fresh PostgreSQL database in the `C` locale, as docs/operations.md asks, and returns its URL.
pub async fn fresh_postgres_url() -> String {
    fresh_postgres_url_in("C").await
}

/// Creates a fresh PostgreSQL database in `locale` (one the server's machine has) and returns its URL.
pub async fn fresh_postgres_url_in(locale: &str) -> String {
    use sqlx::Connection;
    let admin = postgres_admin_url();
    let mut connection = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|error| panic!("tests need PostgreSQL at {admin} (scripts/test starts one): {error}"));
    let name = format!("casetrack_t_{}", unique());
    let create = format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE '{locale}'");
    sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&mut connection).await.expect("create a test database");
    let base = admin.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin);
    format!("{base}/{name}")
}

/// A fresh PostgreSQL read-model database with migrations applied.
pub async fn fresh_postgres() -> ReadDb {
    ReadDb::connect(&fresh_postgres_url().await).await.expect("connect to the test database")
}

/// A fresh SQLite read-model database in `dir`.
pub async fn fresh_sqlite(dir: &Path) -> ReadDb {
    ReadDb::connect(&format!("sqlite://{}?mode=rwc", dir.join("read.db").display())).await.expect("open SQLite")
}

/// Appends one event of `event_type` carrying `data` as the first commit of a new `context.aggregate` stream, and
/// returns its position.
pub async fn append_first(
    log: &EventLog,
    (context, aggregate): (&str, &str),
    event_type: &str,
    data: serde_json::Value,
) -> crate::log::Position {
    use casetrack_proto::{Actor, CommandId, EventId, Payload, StreamId};
    let request = crate::log::AppendRequest {
        stream: StreamId::new(context, aggregate, Uuid::now_v7()).expect("a valid stream id"),
        expected: crate::log::ExpectedVersion::Exact(0),
        command_id: CommandId::new(),
        actor: Actor::system(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        events: vec![crate::log::NewEvent {
            id: EventId::new(),
            event_type: event_type.to_owned(),
            schema_version: 1,
            occurred_at: chrono::Utc::now(),
            data: Payload::from_value(&data),
        }],
    };
    log.append(request).await.expect("append").position
}

/// Whether the file at `path` grows past `bytes` within ten seconds (a SQLite database whose writes should reach it).
pub async fn grows_past(path: &Path, bytes: u64) -> bool {
    for _ in 0..100 {
        if std::fs::metadata(path).map(|file| file.len()).unwrap_or(0) > bytes {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

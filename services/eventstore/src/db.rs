//! The read-model database: PostgreSQL in production, SQLite embedded, both through sqlx's `Any` driver so that
//! projections are written once. SQL here stays portable (TEXT, BIGINT, `$n` parameters, `ON CONFLICT`); where a
//! backend needs something of its own, [`ReadDb::backend`] says which one it is.
//!
//! Each service applies its own migrations at start-up into its own bookkeeping table (`_migrations_<service>`),
//! so services deployed separately never trip over each other's history.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Transaction};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};

/// Pages of write-ahead log past which a SQLite writer copies them into the database file itself, at the end of a
/// commit (SQLite's default is 1,000). The checkpointer ([`checkpoint_after_writes`]) normally has, so this is a
/// backstop: should it fall behind, or readers keep the write-ahead log from starting again, the file stays bounded.
pub(crate) const WRITER_CHECKPOINT_PAGES: u32 = 8_000;
/// How long the checkpointer rests after each checkpoint, for more writes to gather.
const CHECKPOINT_REST: Duration = Duration::from_millis(100);

/// Copies a SQLite database's write-ahead log into its file, on a connection of its own, after each write it is
/// told of (`written`) and at most once per [`CHECKPOINT_REST`], until `written`'s sender is gone. The checkpoint is
/// passive: it neither waits for nor holds up the writer or a reader.
///
/// Left to the writer, SQLite copies the pages at the end of the commit that takes the write-ahead log past 1,000
/// pages, and the writer waits: during a bulk upload a fifth of the event log's commits did, 9 of its 27 s.
pub(crate) async fn checkpoint_after_writes<DB: sqlx::Database, T>(
    connection: sqlx::Pool<DB>,
    mut written: watch::Receiver<T>,
    what: &str,
) where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    while written.changed().await.is_ok() {
        if let Err(error) = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)").execute(&connection).await {
            tracing::warn!(error = %error, what, "a checkpoint failed; the writer will copy the pages itself");
        }
        tokio::time::sleep(CHECKPOINT_REST).await;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbBackend {
    Postgres,
    Sqlite,
}

#[derive(Debug, Clone)]
pub struct ReadDb {
    pool: AnyPool,
    /// SQLite only: the one connection write transactions taken in turn run on ([`ReadDb::begin`]).
    writes: Option<AnyPool>,
    backend: DbBackend,
    /// SQLite has one writer at a time. Its own wait for the lock (`busy_timeout`) sleeps in steps of up to 100 ms
    /// whether or not the lock came free meanwhile, so this process's write transactions take turns here instead,
    /// each handed the lock the moment the one before commits.
    writer: Arc<Writer>,
}

/// The turn at SQLite's one writer, with requests first: a person's data key written while they wait (registering
/// them) goes before the next batch of each of the twenty-odd projections and reactors, which can wait.
#[derive(Debug)]
struct Writer {
    turn: Arc<Semaphore>,
    /// Requests waiting for the turn.
    urgent: AtomicUsize,
    /// Told when no request waits any more.
    calm: Notify,
    /// Told of each write transaction begun, for the checkpointer.
    written: watch::Sender<()>,
}

impl Writer {
    fn new() -> Self {
        let written = watch::channel(()).0;
        Self { turn: Arc::new(Semaphore::new(1)), urgent: AtomicUsize::new(0), calm: Notify::new(), written }
    }

    async fn urgent_turn(&self) -> OwnedSemaphorePermit {
        self.urgent.fetch_add(1, Ordering::SeqCst);
        let turn = self.turn.clone().acquire_owned().await.expect("the writer's turn is never closed");
        if self.urgent.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.calm.notify_waiters();
        }
        turn
    }

    /// A turn taken only while no request waits for one (a request that comes meanwhile waits one turn at most).
    async fn background_turn(&self) -> OwnedSemaphorePermit {
        loop {
            let calm = self.calm.notified();
            tokio::pin!(calm);
            calm.as_mut().enable();
            if self.urgent.load(Ordering::SeqCst) > 0 {
                calm.await;
                continue;
            }
            let turn = self.turn.clone().acquire_owned().await.expect("the writer's turn is never closed");
            if self.urgent.load(Ordering::SeqCst) == 0 {
                return turn;
            }
            // A request came while this one queued: it goes first.
        }
    }
}

/// A write transaction ([`ReadDb::begin`]): the connection it runs on, and on SQLite this process's turn at the
/// one writer, given back when it commits, rolls back or is dropped.
pub struct Write {
    tx: Transaction<'static, Any>,
    _turn: Option<OwnedSemaphorePermit>,
}

impl Write {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        self.tx.rollback().await
    }
}

impl Deref for Write {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Write {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// Whether a pool pings each connection before handing it out (sqlx's default). Not on SQLite: its connection is a
/// file in this process, nothing can hang up on it, and each ping is a round trip to the connection's own thread
/// and back, two thread wake-ups. In a profile of `bench-commands` (embedded), handing SQLite statements to those
/// threads and back was a fifth of the process's CPU, pings among them. sqlx still pings a connection as it
/// comes back to the pool, so one that failed in use is never handed out again.
fn test_before_acquire(backend: DbBackend) -> bool {
    backend != DbBackend::Sqlite
}

/// A pool of up to `connections` connections to the read-model database, set up for its backend; on SQLite the
/// `writer`'s connection leaves checkpoints to the checkpointer.
async fn open_pool(
    options: &AnyConnectOptions,
    backend: DbBackend,
    connections: u32,
    writer: bool,
) -> anyhow::Result<AnyPool> {
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(test_before_acquire(backend))
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if backend == DbBackend::Sqlite {
                    // Pages mapped rather than copied in: each write empties the other connections' caches.
                    // Temporary data in memory: a many-row statement inside a transaction keeps a statement journal
                    // (the pages it changed, in case it fails halfway), and past 64 KiB SQLite spilled it to a
                    // temporary file, which was more of a bulk upload's disk writes than the database's own.
                    sqlx::raw_sql(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; \
                         PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768; PRAGMA mmap_size = 1073741824; \
                         PRAGMA temp_store = MEMORY;",
                    )
                    .execute(&mut *connection)
                    .await?;
                    if writer {
                        let backstop = format!("PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}");
                        sqlx::raw_sql(sqlx::AssertSqlSafe(backstop)).execute(&mut *connection).await?;
                    }
                }
                Ok(())
            })
        })
        .connect_with(options.clone())
        .await
        .context("failed to connect to the read-model database")
}

static PLATFORM_MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

impl ReadDb {
    /// Connects and applies the platform's own migrations (checkpoints, vault).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let db = Self::open(url).await?;
        db.migrate("platform", &PLATFORM_MIGRATIONS).await?;
        if let Some(collation) = db.collation().await.context("failed to read the database's locale")?
            && !compares_bytes(&collation)
        {
            tracing::warn!(
                %collation,
                "the read-model database is not in the C locale: PostgreSQL compares every text key by the locale's \
                 rules, which costs it more CPU, and sorts text unlike the embedded database (see docs/operations.md)"
            );
        }
        Ok(db)
    }

    /// Connects, and applies no migrations: a database of one's own (the embedded vault's file of data keys).
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            DbBackend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            DbBackend::Postgres
        } else {
            anyhow::bail!("the database URL must start with postgres:// or sqlite:// (got another scheme)");
        };
        let options: AnyConnectOptions = url.parse().context("the database URL is not valid")?;
        // WAL lets readers run beside the one writer; writers queue on SQLite's own lock (BEGIN IMMEDIATE,
        // busy_timeout). Few connections made every request's read wait behind the projections' batches.
        let pool = open_pool(&options, backend, 16, false).await?;
        // On SQLite every write transaction taken in turn runs on one connection of its own. A connection's page
        // cache is emptied whenever another connection has written since its last transaction, so writers that
        // took turns on any of the sixteen read every page they touched again (a profile of a bulk upload put
        // about half of the writers' time in the kernel, copying pages in). The one writer keeps its cache.
        let writer = Arc::new(Writer::new());
        let writes = match backend {
            DbBackend::Postgres => None,
            DbBackend::Sqlite => {
                let checkpointer = AnyPoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(test_before_acquire(backend))
                    .connect_with(options.clone())
                    .await?;
                tokio::spawn(checkpoint_after_writes(checkpointer, writer.written.subscribe(), "read-model database"));
                Some(open_pool(&options, backend, 1, true).await?)
            }
        };
        Ok(Self { pool, writes, backend, writer })
    }

    /// The collation the PostgreSQL database sorts text by (`None` on SQLite, which compares bytes).
    pub async fn collation(&self) -> sqlx::Result<Option<String>> {
        if self.backend != DbBackend::Postgres {
            return Ok(None);
        }
        let sql = "SELECT CAST(datcollate AS TEXT) FROM pg_database WHERE datname = current_database()";
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.map(Some)
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies one service's migrations, recorded in `_migrations_<service>`.
    pub async fn migrate(&self, service: &str, migrations: &Migrator) -> anyhow::Result<()> {
        let mut migrator = Migrator::with_migrations(migrations.iter().cloned().collect());
        migrator.dangerous_set_table_name(format!("_migrations_{service}"));
        migrator.run(&self.pool).await.with_context(|| format!("failed to apply the {service} migrations"))
    }

    /// A write transaction for a request. On SQLite it waits for this process's turn at the one writer (before any
    /// background work waiting), then takes the write lock at once (`BEGIN IMMEDIATE`), so two writers queue
    /// instead of one failing to upgrade its read lock halfway through. A write transaction must not begin another
    /// while it is open (on SQLite, it would wait for itself).
    pub async fn begin(&self) -> sqlx::Result<Write> {
        self.begin_in_turn(false).await
    }

    /// A write transaction for background work (a projection's batch, a reactor's checkpoint): on SQLite it lets
    /// every request waiting for a turn go first.
    pub async fn begin_background(&self) -> sqlx::Result<Write> {
        self.begin_in_turn(true).await
    }

    async fn begin_in_turn(&self, background: bool) -> sqlx::Result<Write> {
        match self.backend {
            DbBackend::Postgres => Ok(Write { tx: self.pool.begin().await?, _turn: None }),
            DbBackend::Sqlite => {
                let turn =
                    if background { self.writer.background_turn().await } else { self.writer.urgent_turn().await };
                let pool = self.writes.as_ref().unwrap_or(&self.pool);
                let tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                self.writer.written.send_replace(());
                Ok(Write { tx, _turn: Some(turn) })
            }
        }
    }

    pub async fn ping(&self) -> sqlx::Result<()> {
        let mut connection = self.pool.acquire().await?;
        connection.ping().await
    }
}

/// Whether a PostgreSQL collation compares text byte by byte. (`C.UTF-8` sorts as `C` does, but PostgreSQL 15
/// compares by it through the locale, the slower way: docs/performance.md.)
pub fn compares_bytes(collation: &str) -> bool {
    matches!(collation, "C" | "POSIX")
}

/// `$first, $first+1, ...`: `count` numbered placeholders, portable between PostgreSQL and SQLite.
pub fn placeholder_list(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// `($1, $2), ($3, $4), ...`: `rows` groups of `width` numbered placeholders for a multi-row insert.
pub fn placeholder_rows(rows: usize, width: usize) -> String {
    (0..rows).map(|row| format!("({})", placeholder_list(row * width + 1, width))).collect::<Vec<_>>().join(", ")
}

/// How many keys one `IN (...)` look-up binds.
const KEYS_PER_LOOKUP: usize = 500;

/// Placeholders for a statement's `count` parameters, bound in order: `$1, ...` on PostgreSQL, `?, ...` on SQLite.
/// SQLite's driver finds each numbered parameter by its name, a search that costs the square of their number in a
/// long statement; anonymous `?` parameters are bound in order.
fn params(connection: &AnyConnection, count: usize) -> String {
    if is_sqlite(connection) { vec!["?"; count].join(", ") } else { placeholder_list(1, count) }
}

fn is_sqlite(connection: &AnyConnection) -> bool {
    connection.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME
}

/// A value of a read-model row: read models hold text and whole numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Self::Text(Some(value.to_owned()))
    }
}

impl From<Option<String>> for Cell {
    fn from(value: Option<String>) -> Self {
        Self::Text(value)
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<Option<i64>> for Cell {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

impl From<bool> for Cell {
    fn from(value: bool) -> Self {
        Self::Int(Some(i64::from(value)))
    }
}

/// What a batched write does with a row whose key is already there.
#[derive(Debug, Clone, Copy)]
pub enum OnConflict<'a> {
    /// Nothing: the caller knows every row is new (made by the first event of a stream the batch begins, or by
    /// one a rebuild has not stored before), so a plain `INSERT` will do, which costs PostgreSQL about 15%
    /// less than an upsert. A row already there is an error, never a silent overwrite.
    New,
    /// Keep the stored row.
    Ignore(&'a [&'a str]),
    /// Replace every column but the key's.
    Replace(&'a [&'a str]),
    /// Replace these columns only.
    Update(&'a [&'a str], &'a [&'a str]),
    /// Add the new row's value of this column to the stored one (a count).
    Add(&'a [&'a str], &'a str),
}

/// Rows one statement of a batched write sends, as one parameter.
const ROWS_PER_WRITE: usize = 5_000;

/// A table's rows as a projection makes them, each known to be new or not. New means nothing can be stored under
/// its key yet: made by the first event of a stream the batch begins, or looked for and not found. [`Rows::write`]
/// inserts the new ones ([`OnConflict::New`]) and writes the others by the rule given.
#[derive(Debug, Default)]
pub struct Rows {
    new: Vec<Vec<Cell>>,
    others: Vec<Vec<Cell>>,
}

impl Rows {
    pub fn push(&mut self, new: bool, row: Vec<Cell>) {
        if new { self.new.push(row) } else { self.others.push(row) }
    }

    /// Inserts the new rows, then writes the others with `on_conflict`.
    pub async fn write(
        &self,
        tx: &mut AnyConnection,
        table: &str,
        columns: &[&str],
        on_conflict: OnConflict<'_>,
    ) -> sqlx::Result<()> {
        write_rows(tx, table, columns, OnConflict::New, &self.new).await?;
        write_rows(tx, table, columns, on_conflict, &self.others).await
    }
}

/// Writes `rows` (each with a cell per column, in order) into `table`, thousands of rows a statement: binding a
/// parameter per value costs more than the database's own work. The rows travel as one text parameter that the
/// database takes apart: on PostgreSQL, delimited text (see [`delimited`]), which it splits in about half the time
/// it takes to parse the same rows as JSON; on SQLite, and for rows whose text holds a delimiter, a JSON array
/// (`json_each`, `jsonb_array_elements`). The table, column and key names are the caller's constants, never input.
pub async fn write_rows(
    tx: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    on_conflict: OnConflict<'_>,
    rows: &[Vec<Cell>],
) -> sqlx::Result<()> {
    let Some(first) = rows.first() else { return Ok(()) };
    let conflict = match on_conflict {
        OnConflict::New => String::new(),
        OnConflict::Ignore(key) => format!("ON CONFLICT ({}) DO NOTHING", key.join(", ")),
        OnConflict::Replace(key) => {
            let set: Vec<String> = columns
                .iter()
                .filter(|column| !key.contains(column))
                .map(|column| format!("{column} = excluded.{column}"))
                .collect();
            format!("ON CONFLICT ({}) DO UPDATE SET {}", key.join(", "), set.join(", "))
        }
        OnConflict::Update(key, set) => {
            let set: Vec<String> = set.iter().map(|column| format!("{column} = excluded.{column}")).collect();
            format!("ON CONFLICT ({}) DO UPDATE SET {}", key.join(", "), set.join(", "))
        }
        OnConflict::Add(key, column) => {
            format!("ON CONFLICT ({}) DO UPDATE SET {column} = {table}.{column} + excluded.{column}", key.join(", "))
        }
    };
    // Each value taken out of the row by position; numbers cast back where the source gives text. (SQLite's `->>`
    // gives a number for a JSON number; its upsert needs the `WHERE true`.)
    let sqlite = is_sqlite(tx);
    let insert = |source: &str, value: &dyn Fn(usize) -> String| {
        let values: Vec<String> = first
            .iter()
            .enumerate()
            .map(|(i, cell)| match (sqlite, cell) {
                (true, _) | (false, Cell::Text(_)) => value(i),
                (false, Cell::Int(_)) => format!("CAST({} AS BIGINT)", value(i)),
            })
            .collect();
        format!("INSERT INTO {table} ({}) SELECT {} FROM {source} {conflict}", columns.join(", "), values.join(", "))
    };
    let json_sql = || {
        if sqlite {
            insert("jsonb_each($1) WHERE true", &|i| format!("value ->> {i}"))
        } else {
            insert("jsonb_array_elements(CAST($1 AS TEXT)::jsonb) AS r", &|i| format!("r ->> {i}"))
        }
    };
    // `OFFSET 0` keeps the split rows a subquery of their own: flattened, each column would split its row again.
    let delimited_sql = (!sqlite).then(|| {
        insert(
            "(SELECT string_to_array(r, E'\\x1f', E'\\x01') AS r FROM string_to_table($1, E'\\x1e') AS r OFFSET 0) AS r",
            &|i| format!("r[{}]", i + 1),
        )
    });
    let started = std::time::Instant::now();
    for chunk in rows.chunks(ROWS_PER_WRITE) {
        debug_assert!(chunk.iter().all(|row| row.len() == columns.len()), "a cell per column");
        let (sql, text) = match delimited_sql.as_ref().and_then(|sql| Some((sql.clone(), delimited(chunk)?))) {
            Some(delimited) => delimited,
            None => (json_sql(), serde_json::to_string(chunk).expect("cells always serialise")),
        };
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(text).execute(&mut *tx).await?;
    }
    tracing::debug!(table, rows = rows.len(), elapsed = ?started.elapsed(), "rows written");
    Ok(())
}

/// Ends a row in [`delimited`] text.
const ROW_END: char = '\x1e';
/// Ends a cell in [`delimited`] text.
const CELL_END: char = '\x1f';
/// A missing value (NULL) in [`delimited`] text.
const NO_VALUE: char = '\x01';

/// `rows` as text PostgreSQL splits with `string_to_table` and `string_to_array`: cells separated by the ASCII unit
/// separator, rows by the record separator, a missing value written as the single character 0x01. `None` when a
/// cell's text holds one of those characters, or a row of one column is an empty text (which would split to no
/// cells at all): such rows go as JSON.
fn delimited(rows: &[Vec<Cell>]) -> Option<String> {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(rows.len() * rows.first().map_or(0, Vec::len) * 16);
    for (r, row) in rows.iter().enumerate() {
        if r > 0 {
            text.push(ROW_END);
        }
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                text.push(CELL_END);
            }
            match cell {
                Cell::Text(Some(value)) => {
                    if value.contains([ROW_END, CELL_END, NO_VALUE]) || (value.is_empty() && row.len() == 1) {
                        return None;
                    }
                    text.push_str(value);
                }
                Cell::Int(Some(value)) => write!(text, "{value}").expect("writing to a String cannot fail"),
                Cell::Text(None) | Cell::Int(None) => text.push(NO_VALUE),
            }
        }
    }
    Some(text)
}

/// Reads the rows of `select`, a query ending in `IN` with no parameters of its own, for `keys` (each once, however
/// often given), a few hundred keys a statement.
pub async fn fetch_in(tx: &mut AnyConnection, select: &str, keys: &[String]) -> sqlx::Result<Vec<sqlx::any::AnyRow>> {
    let (mut rows, started) = (Vec::new(), std::time::Instant::now());
    let keys = each_once(keys);
    for chunk in keys.chunks(KEYS_PER_LOOKUP) {
        rows.extend(keyed(tx, select, chunk).fetch_all(&mut *tx).await?);
    }
    tracing::debug!(select, keys = keys.len(), rows = rows.len(), elapsed = ?started.elapsed(), "rows read");
    Ok(rows)
}

/// `statement` (ending in `IN`) for `keys`, bound in order. Planned afresh each time (not a cached statement): a
/// generic plan made while a rebuild's tables were nearly empty scans them whole once they have grown, which took
/// seconds a statement.
fn keyed<'q>(
    connection: &AnyConnection,
    statement: &str,
    keys: &[&'q str],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    let sql = format!("{statement} ({})", params(connection, keys.len()));
    keys.iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false), |query, key| query.bind(*key))
}

/// Each key once, in order: a batch often names the same row many times.
fn each_once(keys: &[String]) -> Vec<&str> {
    keys.iter().map(String::as_str).collect::<std::collections::BTreeSet<_>>().into_iter().collect()
}

/// Runs `delete`, a statement ending in `IN` with no parameters of its own, for `keys` (each once, however often
/// given), a few hundred keys a statement.
pub async fn delete_in(tx: &mut AnyConnection, delete: &str, keys: &[String]) -> sqlx::Result<u64> {
    let (mut deleted, started) = (0, std::time::Instant::now());
    let keys = each_once(keys);
    for chunk in keys.chunks(KEYS_PER_LOOKUP) {
        deleted += keyed(tx, delete, chunk).execute(&mut *tx).await?.rows_affected();
    }
    tracing::debug!(delete, keys = keys.len(), deleted, elapsed = ?started.elapsed(), "rows deleted");
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(super::placeholder_list(3, 2), "$3, $4");
        assert_eq!(super::placeholder_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }

    #[test]
    fn rows_go_as_delimited_text_unless_their_text_holds_a_mark() {
        use super::{Cell, delimited};
        let rows = vec![
            vec![Cell::from("a"), Cell::Text(None), Cell::from(-7), Cell::from("")],
            vec![Cell::from("b c"), Cell::from(""), Cell::Int(None), Cell::from("d")],
        ];
        assert_eq!(delimited(&rows).as_deref(), Some("a\x1f\x01\x1f-7\x1f\x1eb c\x1f\x1f\x01\x1fd"));
        for mark in ["\x1e", "\x1f", "\x01"] {
            let rows = vec![vec![Cell::from("a"), Cell::from(format!("x{mark}y"))]];
            assert_eq!(delimited(&rows), None, "a cell holding {mark:?} goes as JSON");
        }
        assert_eq!(delimited(&[vec![Cell::from("")]]), None, "a row of one empty cell would split to none");
        assert_eq!(delimited(&[vec![Cell::from("x")]]).as_deref(), Some("x"));
    }
}

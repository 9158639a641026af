//! The read-model database: PostgreSQL in production, SQLite embedded, both through sqlx's `Any` driver so that
//! projections are written once. SQL here stays portable (TEXT, BIGINT, `$n` parameters, `ON CONFLICT`); where a
//! backend needs something of its own, [`ReadDb::backend`] says which one it is.
//!
//! Each service applies its own migrations at start-up into its own bookkeeping table (`_migrations_<service>`),
//! so services deployed separately never trip over each other's history.

use std::time::Duration;

use anyhow::Context as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbBackend {
    Postgres,
    Sqlite,
}

#[derive(Debug, Clone)]
pub struct ReadDb {
    pool: AnyPool,
    backend: DbBackend,
}

static PLATFORM_MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

impl ReadDb {
    /// Connects and applies the platform's own migrations (checkpoints, vault).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            DbBackend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            DbBackend::Postgres
        } else {
            anyhow::bail!("the database URL must start with postgres:// or sqlite:// (got another scheme)");
        };
        let options: AnyConnectOptions = url.parse().context("the database URL is not valid")?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                DbBackend::Postgres => 16,
                DbBackend::Sqlite => 4,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == DbBackend::Sqlite {
                        sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; \
                             PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;",
                        )
                        .execute(&mut *connection)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .context("failed to connect to the read-model database")?;
        let db = Self { pool, backend };
        db.migrate("platform", &PLATFORM_MIGRATIONS).await?;
        Ok(db)
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

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so two writers queue
    /// instead of one failing to upgrade its read lock halfway through.
    pub async fn begin(&self) -> sqlx::Result<Transaction<'static, Any>> {
        match self.backend {
            DbBackend::Postgres => self.pool.begin().await,
            DbBackend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
        }
    }

    pub async fn ping(&self) -> sqlx::Result<()> {
        let mut connection = self.pool.acquire().await?;
        connection.ping().await
    }
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
    /// Keep the stored row.
    Ignore(&'a [&'a str]),
    /// Replace every column but the key's.
    Replace(&'a [&'a str]),
    /// Replace these columns only.
    Update(&'a [&'a str], &'a [&'a str]),
    /// Add the new row's value of this column to the stored one (a count).
    Add(&'a [&'a str], &'a str),
}

/// Rows one batched write sends, as one JSON parameter.
const ROWS_PER_WRITE: usize = 5_000;

/// Writes `rows` (each with a cell per column, in order) into `table`, thousands of rows a statement. The rows
/// travel as one JSON array parameter that the database takes apart (`json_each` on SQLite,
/// `jsonb_array_elements` on PostgreSQL): binding a parameter per value costs more than the database's own work.
/// The table, column and key names are the caller's constants, never input.
pub async fn write_rows(
    tx: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    on_conflict: OnConflict<'_>,
    rows: &[Vec<Cell>],
) -> sqlx::Result<()> {
    let Some(first) = rows.first() else { return Ok(()) };
    let conflict = match on_conflict {
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
    // Each value taken out of the row's JSON array by position; numbers cast back on PostgreSQL, where `->>` gives
    // text. (SQLite's `->>` gives a number for a JSON number; its upsert needs the `WHERE true`.)
    let sqlite = is_sqlite(tx);
    let values: Vec<String> = first
        .iter()
        .enumerate()
        .map(|(i, cell)| match (sqlite, cell) {
            (true, _) => format!("value ->> {i}"),
            (false, Cell::Text(_)) => format!("r ->> {i}"),
            (false, Cell::Int(_)) => format!("CAST(r ->> {i} AS BIGINT)"),
        })
        .collect();
    let source =
        if sqlite { "jsonb_each($1) WHERE true" } else { "jsonb_array_elements(CAST($1 AS TEXT)::jsonb) AS r" };
    let sql =
        format!("INSERT INTO {table} ({}) SELECT {} FROM {source} {conflict}", columns.join(", "), values.join(", "));
    let started = std::time::Instant::now();
    for chunk in rows.chunks(ROWS_PER_WRITE) {
        debug_assert!(chunk.iter().all(|row| row.len() == columns.len()), "a cell per column");
        let json = serde_json::to_string(chunk).expect("cells always serialise");
        sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(json).execute(&mut *tx).await?;
    }
    tracing::debug!(table, rows = rows.len(), elapsed = ?started.elapsed(), "rows written");
    Ok(())
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
}

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
use sqlx::{Any, AnyPool, Connection, Transaction};

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
                             PRAGMA foreign_keys = ON;",
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

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(super::placeholder_list(3, 2), "$3, $4");
        assert_eq!(super::placeholder_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}

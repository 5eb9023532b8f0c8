//! The control store: the only code that speaks SQL to it. Functions take
//! `&impl ConnectionTrait`, so the caller decides whether they join a
//! transaction. The same code runs on SQLite (embedded default) and PostgreSQL.

pub mod cache;
pub mod connections;
pub mod counts;
pub mod entity;
pub mod entity_states;
pub mod freshness;
pub mod hub;
pub mod idempotency;
pub mod list;
pub mod run_events;
pub mod run_outcome;
pub mod runs;
pub mod slugs;
pub mod syncs;
pub mod tx;
pub mod workspaces;

use std::{path::Path, str::FromStr, sync::Arc, time::Duration};

use cache::ReadCache;
use counts::CountCache;
use hub::Hub;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, SqlErr,
    Statement,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

/// Handles on the control store. SQLite allows one writer at a time, so
/// writes go through a single-connection pool (no SQLITE_BUSY upgrades)
/// while reads use a pool of their own; on PostgreSQL both are one pool.
#[derive(Clone)]
pub struct Store {
    pub read: DatabaseConnection,
    pub write: DatabaseConnection,
    pub backend: DbBackend,
    /// List totals, keyed by list version (see `counts`).
    pub counts: Arc<CountCache>,
    /// Display names of principals; API key names never change.
    pub names: Arc<workspaces::NameCache>,
    /// Hot reads, retired by every write (see `cache` and `tx`).
    pub cache: Arc<ReadCache>,
    /// Where committed run events go to reach watchers (see `events`).
    pub hub: Arc<Hub>,
}

impl Store {
    /// Opens the store at `url` (`postgres://…` or `sqlite://…`).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut opts = ConnectOptions::new(url);
            pool_options(&mut opts, 32).connect_timeout(Duration::from_secs(10));
            let db = Database::connect(opts)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Self::new(db.clone(), db, DbBackend::Postgres))
        } else if url.starts_with("sqlite:") {
            let write = sqlite_pool(url, 1).await?;
            let read = sqlite_pool(url, 8).await?;
            Ok(Self::new(read, write, DbBackend::Sqlite))
        } else {
            anyhow::bail!("the database URL must start with postgres:// or sqlite://")
        }
    }

    fn new(read: DatabaseConnection, write: DatabaseConnection, backend: DbBackend) -> Self {
        Self {
            read,
            write,
            backend,
            counts: Arc::default(),
            names: Arc::default(),
            // On PostgreSQL other replicas write too: the cache and the hub's
            // feeds go live once the change listener runs (see `events`).
            cache: Arc::new(ReadCache::new(backend != DbBackend::Postgres)),
            hub: Arc::new(Hub::new(backend != DbBackend::Postgres)),
        }
    }

    /// The embedded default: SQLite in `data_dir/tributary.db`.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("tributary.db").display()
        )
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        Migrator::up(&self.write, None)
            .await
            .context("applying migrations")
    }

    pub fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }
}

/// Pool settings of every backend. A connection is pinged before reuse only
/// after sitting idle (when a server or proxy may have dropped it): pinging
/// on every checkout would double the round trips of each query.
fn pool_options(opts: &mut ConnectOptions, max: u32) -> &mut ConnectOptions {
    opts.max_connections(max)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
}

async fn sqlite_pool(url: &str, max: u32) -> anyhow::Result<DatabaseConnection> {
    // Validate the URL up front: sea-orm would otherwise panic-free but vaguely fail.
    SqliteConnectOptions::from_str(url).context("parsing the SQLite URL")?;
    let mut opts = ConnectOptions::new(url);
    pool_options(&mut opts, max).map_sqlx_sqlite_opts(|o| {
        o.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .create_if_missing(true)
    });
    Database::connect(opts).await.context("opening SQLite")
}

/// Serializes, until the end of the transaction `db`, the writers that take
/// the same `key`: for invariants no index can enforce without deadlocks.
/// SQLite has a single writer already; PostgreSQL takes a transaction-scoped
/// advisory lock.
pub async fn lock(db: &impl ConnectionTrait, key: &str) -> crate::error::Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            [format!("tributary.{key}").into()],
        ))
        .await?;
    }
    Ok(())
}

/// Whether `e` is a unique-constraint violation (a lost race or a duplicate).
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// The database's message for a unique-constraint violation; it names the
/// index (PostgreSQL) or the columns (SQLite) that clashed.
pub fn unique_violation_message(e: &DbErr) -> Option<String> {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(m)) => Some(m),
        _ => None,
    }
}

/// Encodes JSON for a text column.
pub fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

//! The SQLite warehouse: the embedded default destination.
//!
//! One pool with a single connection: SQLite serialises writers anyway, and
//! one connection keeps every transaction strictly ordered (no
//! `SQLITE_BUSY` between our own writers). The file runs in WAL mode, so
//! readers in other processes (a BI tool) do not block writes.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction holding the batch's rows
//! and the slot's position (see the module doc of `warehouse` on exactly
//! once). Rows go in as multi-row `INSERT … VALUES (…), (…)` statements, as
//! many rows per statement as SQLite's bound-parameter limit allows.

use std::{collections::BTreeMap, fmt::Display, str::FromStr, time::Duration};

use sea_orm::sqlx::{
    self, AssertSqlSafe, Row, Sqlite, SqliteConnection, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::{Destination, DestinationError, Position, Result, Slot, TableSpec, sqlite_types};
use crate::{connectors::Batch, domain::enums::LoadMode};

/// The table the positions live in, in the warehouse itself.
const POSITIONS: &str = "_tributary_positions";

/// SQLite's limit on bound parameters per statement (SQLITE_MAX_VARIABLE_NUMBER
/// since 3.32).
const MAX_PARAMS: usize = 32_766;

/// How long a statement waits for a lock another process holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Prepared statements the connection keeps (sqlx's default is 100). A
/// batch insert binds up to `MAX_PARAMS` values, and SQLite's prepared form
/// of one takes about 120 bytes per value: some 0.85 MiB for 1,000 rows of
/// 7 columns, about 4 MiB at the limit. Every table gets its own, so with
/// the default a server whose syncs write many tables kept a hundred of
/// them for good, long after their loads ended. A load reuses its one
/// statement batch after batch; 16 cover the loads that share this
/// connection at once (an executor's runs, fan-out windows) and the small
/// statements, and bound what an idle server keeps.
const STATEMENT_CACHE: usize = 16;

/// How long a call waits for the single connection. Calls queue behind each
/// other's transactions (fan-out windows write concurrently), so this is
/// generous: it only bounds a wedged warehouse.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(600);

const CREATE_POSITIONS: &str = "CREATE TABLE IF NOT EXISTS \"_tributary_positions\" (
    sync_id TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    slot TEXT NOT NULL,
    generation INTEGER NOT NULL,
    cursor TEXT NULL,
    up_to TEXT NULL,
    done INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (sync_id, entity_key, slot)
)";

const UPSERT_POSITION: &str = "INSERT INTO \"_tributary_positions\"
    (sync_id, entity_key, slot, generation, cursor, up_to, done, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (sync_id, entity_key, slot) DO UPDATE SET
        generation = excluded.generation,
        cursor = excluded.cursor,
        up_to = excluded.up_to,
        done = excluded.done,
        updated_at = excluded.updated_at";

const DELETE_POSITION: &str =
    "DELETE FROM \"_tributary_positions\" WHERE sync_id = ? AND entity_key = ? AND slot = ?";

const SELECT_POSITIONS: &str = "SELECT slot, generation, cursor, up_to, done
    FROM \"_tributary_positions\" WHERE sync_id = ? AND entity_key = ?";

pub struct SqliteWarehouse {
    pool: SqlitePool,
    /// The URL or file it was opened from, for messages.
    label: String,
}

/// Parses a warehouse URL, refusing one that names no database.
pub(super) fn parse_url(url: &str) -> Result<SqliteConnectOptions> {
    if !url.starts_with("sqlite:") {
        return Err(DestinationError::failed(format!(
            "the warehouse URL {url:?} must start with sqlite://"
        )));
    }
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| DestinationError::failed(format!("invalid warehouse URL {url:?}: {e}")))?;
    if opts.get_filename().as_os_str().is_empty() && !is_memory(url) {
        return Err(DestinationError::failed(format!(
            "the warehouse URL {url:?} names no database file (use sqlite://PATH)"
        )));
    }
    Ok(opts)
}

/// Whether a warehouse URL names an in-memory database.
pub(super) fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

impl SqliteWarehouse {
    /// Opens (creating if missing) the warehouse at `url`: `sqlite://PATH`,
    /// optionally with SQLite URI parameters such as `?mode=rwc`.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(parse_url(url)?, url).await
    }

    /// Opens (creating if missing) the database `opts` names; `label` names
    /// it in messages.
    pub(super) async fn open_with(opts: SqliteConnectOptions, label: &str) -> Result<Self> {
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            // A full load drops the live table and renames its staging table
            // in its place. Without legacy renames SQLite re-checks every
            // view while renaming and refuses when a user's view names the
            // (just dropped) live table; with them the view simply sees the
            // new table.
            .pragma("legacy_alter_table", "ON")
            .statement_cache_capacity(STATEMENT_CACHE);
        // Switching a new file to WAL takes it for a moment, and SQLite
        // answers another process doing the same with SQLITE_BUSY at once
        // rather than through the busy timeout: two workers starting on one
        // warehouse try again until the timeout.
        let started = std::time::Instant::now();
        let pool = loop {
            let attempt = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                // Keep the one connection for good (an in-memory warehouse
                // lives exactly as long as it), and skip the ping before every
                // acquire: the file is local.
                .idle_timeout(None)
                .max_lifetime(None)
                .test_before_acquire(false)
                .connect_with(opts.clone())
                .await;
            match attempt {
                Ok(pool) => break pool,
                Err(sqlx::Error::Database(db))
                    if matches!(db.code().as_deref(), Some("5" | "6"))
                        && started.elapsed() < BUSY_TIMEOUT =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => {
                    return Err(DestinationError::failed(format!(
                        "cannot open the warehouse {label}: {e}"
                    )));
                }
            }
        };
        let this = Self {
            pool,
            label: label.to_string(),
        };
        sqlx::query(CREATE_POSITIONS)
            .execute(&this.pool)
            .await
            .map_err(|e| this.failed(format!("cannot create the table {POSITIONS}"), e))?;
        Ok(this)
    }

    fn failed(&self, what: impl Display, e: sqlx::Error) -> DestinationError {
        let message = format!("warehouse {}: {what}: {e}", self.label);
        // Another writer holding the file, or an I/O hiccup, may pass.
        let passing = match &e {
            sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("5" | "6")),
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
            _ => false,
        };
        if passing {
            DestinationError::transient(message)
        } else {
            DestinationError::failed(message)
        }
    }

    /// Begins a write transaction, taking the write lock up front (a
    /// deferred transaction that later upgrades can fail with SQLITE_BUSY
    /// instead of waiting).
    async fn begin(&self, what: impl Display) -> Result<sqlx::Transaction<'static, Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.failed(format!("cannot begin a transaction to {what}"), e))
    }

    async fn commit(
        &self,
        tx: sqlx::Transaction<'static, Sqlite>,
        what: impl Display,
    ) -> Result<()> {
        tx.commit()
            .await
            .map_err(|e| self.failed(format!("cannot commit {what}"), e))
    }

    /// Creates `table` with `spec`'s columns if it is missing, adds the
    /// columns it lacks, and (UPSERT) makes sure its unique index on the
    /// primary key exists.
    async fn ensure_table(
        &self,
        conn: &mut SqliteConnection,
        table: &str,
        spec: &TableSpec,
    ) -> Result<()> {
        let fields = spec.schema.fields();
        if fields.is_empty() {
            return Err(DestinationError::failed(format!(
                "cannot create the table {table}: it has no columns"
            )));
        }
        let defs: Vec<String> = fields
            .iter()
            .map(|f| column_def(f))
            .collect::<Result<_>>()?;
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} ({})",
            quote(table),
            defs.join(", ")
        );
        ddl(conn, sql)
            .await
            .map_err(|e| self.failed(format!("cannot create the table {table}"), e))?;

        let existing: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info(?)")
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.failed(format!("cannot read the columns of the table {table}"), e))?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.failed(format!("cannot read the columns of the table {table}"), e))?;
        for f in fields {
            if !existing.iter().any(|n| n.eq_ignore_ascii_case(f.name())) {
                let sql = format!("ALTER TABLE {} ADD COLUMN {}", quote(table), column_def(f)?);
                ddl(conn, sql).await.map_err(|e| {
                    self.failed(
                        format!("cannot add the column {} to the table {table}", f.name()),
                        e,
                    )
                })?;
                tracing::info!(table, column = %f.name(), "added a column the source now has");
            }
        }

        if spec.load_mode == LoadMode::Upsert {
            self.ensure_pk_index(conn, table, spec).await?;
        }
        Ok(())
    }

    /// Creates `table`'s unique index on the primary key, replacing one of
    /// the same name on other columns (a changed merge key).
    async fn ensure_pk_index(
        &self,
        conn: &mut SqliteConnection,
        table: &str,
        spec: &TableSpec,
    ) -> Result<()> {
        check_pk(table, spec)?;
        let index = index_name(table);
        let current: Vec<String> =
            sqlx::query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                .bind(&index)
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| self.failed(format!("cannot read the index {index}"), e))?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| self.failed(format!("cannot read the index {index}"), e))?;
        let same = current.len() == spec.primary_key.len()
            && current
                .iter()
                .zip(&spec.primary_key)
                .all(|(a, b)| a.eq_ignore_ascii_case(b));
        if same {
            return Ok(());
        }
        if !current.is_empty() {
            ddl(conn, format!("DROP INDEX IF EXISTS {}", quote(&index)))
                .await
                .map_err(|e| self.failed(format!("cannot drop the index {index}"), e))?;
        }
        let cols: Vec<String> = spec.primary_key.iter().map(|c| quote(c)).collect();
        let sql = format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})",
            quote(&index),
            quote(table),
            cols.join(", ")
        );
        ddl(conn, sql).await.map_err(|e| {
            self.failed(
                format!(
                    "cannot create the unique index on ({}) of the table {table} \
                     (does it hold duplicate keys?)",
                    spec.primary_key.join(", ")
                ),
                e,
            )
        })
    }

    async fn put_position(
        &self,
        conn: &mut SqliteConnection,
        slot: &Slot,
        pos: &Position,
    ) -> Result<()> {
        sqlx::query(UPSERT_POSITION)
            .bind(&slot.sync_id)
            .bind(&slot.entity_key)
            .bind(&slot.slot)
            .bind(pos.generation)
            .bind(pos.cursor.as_deref())
            .bind(pos.up_to.as_deref())
            .bind(i64::from(pos.done))
            .bind(crate::domain::now_micros() / 1000)
            .execute(conn)
            .await
            .map(drop)
            .map_err(|e| self.failed(format!("cannot record the position of {}", slot), e))
    }

    async fn forget(&self, conn: &mut SqliteConnection, forget: &[Slot]) -> Result<()> {
        for slot in forget {
            sqlx::query(DELETE_POSITION)
                .bind(&slot.sync_id)
                .bind(&slot.entity_key)
                .bind(&slot.slot)
                .execute(&mut *conn)
                .await
                .map_err(|e| self.failed(format!("cannot delete the position of {}", slot), e))?;
        }
        Ok(())
    }

    /// Drops the staging table of an interrupted full load when it lacks
    /// a column of the source: the resumed load then starts over, so the
    /// table it swaps in is one consistent read of the source rather than
    /// rows read before the column came next to rows read after it.
    async fn drop_stale_staging(
        &self,
        conn: &mut SqliteConnection,
        spec: &TableSpec,
    ) -> Result<()> {
        let staging = self.staging_name(spec);
        let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info(?)")
            .bind(&staging)
            .fetch_all(&mut *conn)
            .await
            .and_then(|rows| rows.iter().map(|r| r.try_get::<String, _>(0)).collect())
            .map_err(|e| self.failed(format!("cannot read the columns of {staging}"), e))?;
        if columns.is_empty() {
            return Ok(());
        }
        let missing = spec
            .schema
            .fields()
            .iter()
            .find(|f| !columns.iter().any(|c| c.eq_ignore_ascii_case(f.name())));
        if let Some(f) = missing {
            tracing::info!(
                %staging, column = %f.name(),
                "the source's columns changed during a full load: it starts over"
            );
            ddl(conn, format!("DROP TABLE {}", quote(&staging)))
                .await
                .map_err(|e| self.failed(format!("cannot drop the stale {staging}"), e))?;
        }
        Ok(())
    }

    async fn table_exists_on(&self, conn: &mut SqliteConnection, name: &str) -> Result<bool> {
        sqlx::query(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
        )
        .bind(name)
        .fetch_one(conn)
        .await
        .and_then(|r| r.try_get::<i64, _>(0))
        .map(|n| n > 0)
        .map_err(|e| self.failed(format!("cannot look up the table {name}"), e))
    }
}

#[async_trait::async_trait]
impl Destination for SqliteWarehouse {
    async fn prepare(&self, spec: &TableSpec) -> Result<()> {
        super::check_table(spec)?;
        let what = format!("prepare the table {}", spec.name);
        let mut tx = self.begin(&what).await?;
        sqlx::query(CREATE_POSITIONS)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.failed(format!("cannot create the table {POSITIONS}"), e))?;
        // A schema that comes with the data: the table comes with the
        // first batch (`extend_table`).
        if !spec.schema.fields().is_empty() {
            self.ensure_table(&mut tx, &spec.name, spec).await?;
            self.drop_stale_staging(&mut tx, spec).await?;
        }
        self.commit(tx, what).await
    }

    async fn extend_table(&self, into: &str, spec: &TableSpec) -> Result<()> {
        super::check_target(spec, into, &self.staging_name(spec))?;
        let what = format!("add columns to the table {into}");
        let mut tx = self.begin(&what).await?;
        self.ensure_table(&mut tx, into, spec).await?;
        self.commit(tx, what).await
    }

    async fn positions(
        &self,
        sync_id: &str,
        entity_key: &str,
    ) -> Result<BTreeMap<String, Position>> {
        let what = || format!("cannot read the positions of {sync_id}/{entity_key}");
        let rows = sqlx::query(SELECT_POSITIONS)
            .bind(sync_id)
            .bind(entity_key)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.failed(what(), e))?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>(0)?,
                    Position {
                        generation: r.try_get(1)?,
                        cursor: r.try_get(2)?,
                        up_to: r.try_get(3)?,
                        done: r.try_get::<i64, _>(4)? != 0,
                    },
                ))
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(|e| self.failed(what(), e))
    }

    async fn set_positions(&self, slots: &[(Slot, Position)]) -> Result<()> {
        let what = "record positions";
        let mut tx = self.begin(what).await?;
        for (slot, pos) in slots {
            self.put_position(&mut tx, slot, pos).await?;
        }
        self.commit(tx, what).await
    }

    async fn write(
        &self,
        into: &str,
        spec: &TableSpec,
        batch: &Batch,
        slot: &Slot,
        pos: &Position,
    ) -> Result<u64> {
        super::check_target(spec, into, &self.staging_name(spec))?;
        let data = &batch.data;
        let names: Vec<&str> = data
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        let insert = Insert::new(into, spec, &names)?;
        let width = names.len();
        let rows = data.num_rows();
        if width == 0 && rows > 0 {
            return Err(DestinationError::failed(format!(
                "cannot write into the table {into}: the batch has rows but no columns"
            )));
        }
        let columns: Vec<sqlite_types::Column<'_>> = data
            .columns()
            .iter()
            .map(|c| sqlite_types::Column::of(c.as_ref()))
            .collect();
        let what = format!("write {rows} rows into the table {into}");
        let mut tx = self.begin(&what).await?;
        if let Some(per_statement) = MAX_PARAMS.checked_div(width).map(|n| n.max(1)) {
            let mut full_sql: Option<String> = None;
            for start in (0..rows).step_by(per_statement) {
                let end = rows.min(start + per_statement);
                let sql = if end - start == per_statement {
                    full_sql
                        .get_or_insert_with(|| insert.sql(per_statement))
                        .clone()
                } else {
                    insert.sql(end - start)
                };
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for row in start..end {
                    for column in &columns {
                        q = column.bind(q, row)?;
                    }
                }
                q.execute(&mut *tx)
                    .await
                    .map_err(|e| self.failed(format!("cannot {what}"), e))?;
            }
        }
        self.put_position(&mut tx, slot, pos).await?;
        self.commit(tx, what).await?;
        Ok(rows as u64)
    }

    fn staging_name(&self, spec: &TableSpec) -> String {
        format!("_tributary_staging_{}", spec.name)
    }

    fn qualified_name(&self, table: &str) -> String {
        format!("main.{} in {}", quote(table), self.label)
    }

    async fn create_staging(&self, spec: &TableSpec) -> Result<()> {
        super::check_table(spec)?;
        let staging = self.staging_name(spec);
        let what = format!("create the staging table {staging}");
        let mut tx = self.begin(&what).await?;
        ddl(&mut tx, format!("DROP TABLE IF EXISTS {}", quote(&staging)))
            .await
            .map_err(|e| self.failed(format!("cannot drop the old staging table {staging}"), e))?;
        if !spec.schema.fields().is_empty() {
            self.ensure_table(&mut tx, &staging, spec).await?;
        }
        self.commit(tx, what).await
    }

    async fn table_exists(&self, name: &str) -> Result<bool> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| self.failed(format!("cannot look up the table {name}"), e))?;
        self.table_exists_on(&mut conn, name).await
    }

    async fn swap_in(
        &self,
        spec: &TableSpec,
        slot: &Slot,
        pos: &Position,
        forget: &[Slot],
    ) -> Result<()> {
        super::check_table(spec)?;
        let table = &spec.name;
        let staging = self.staging_name(spec);
        let what = format!("replace the table {table} with {staging}");
        let mut tx = self.begin(&what).await?;
        if !self.table_exists_on(&mut tx, &staging).await? {
            return Err(DestinationError::failed(format!(
                "cannot replace the table {table}: its staging table {staging} is missing"
            )));
        }
        ddl(&mut tx, format!("DROP TABLE IF EXISTS {}", quote(table)))
            .await
            .map_err(|e| self.failed(format!("cannot drop the table {table}"), e))?;
        ddl(
            &mut tx,
            format!("ALTER TABLE {} RENAME TO {}", quote(&staging), quote(table)),
        )
        .await
        .map_err(|e| self.failed(format!("cannot rename {staging} to {table}"), e))?;
        // The staging table's index followed it under its old name: give it
        // the table's, so that prepare() finds it.
        let staging_index = index_name(&staging);
        ddl(
            &mut tx,
            format!("DROP INDEX IF EXISTS {}", quote(&staging_index)),
        )
        .await
        .map_err(|e| self.failed(format!("cannot drop the index {staging_index}"), e))?;
        if spec.load_mode == LoadMode::Upsert {
            self.ensure_pk_index(&mut tx, table, spec).await?;
        }
        self.put_position(&mut tx, slot, pos).await?;
        self.forget(&mut tx, forget).await?;
        self.commit(tx, what).await
    }

    async fn settle(&self, slot: &Slot, pos: &Position, forget: &[Slot]) -> Result<()> {
        let what = format!("settle {}", slot);
        let mut tx = self.begin(&what).await?;
        self.put_position(&mut tx, slot, pos).await?;
        self.forget(&mut tx, forget).await?;
        self.commit(tx, what).await
    }

    async fn probe(&self) -> Result<()> {
        let what = "create a table";
        let mut tx = self.begin(what).await?;
        // A constant name: nothing of the user's reaches this statement.
        sqlx::query(AssertSqlSafe(format!(
            "CREATE TABLE \"{}\" (x INTEGER)",
            super::PROBE
        )))
        .execute(&mut *tx)
        .await
        .map_err(|e| self.failed(format!("cannot {what}"), e))?;
        tx.rollback()
            .await
            .map_err(|e| self.failed(format!("cannot {what}"), e))
    }
}

/// The statement text of a batch insert, by rows per statement.
struct Insert {
    /// `INSERT INTO "t" ("a", "b") VALUES `
    head: String,
    /// `(?, ?)`
    row: String,
    /// ` ON CONFLICT … DO UPDATE SET …` for UPSERT, else empty.
    tail: String,
}

impl Insert {
    fn new(into: &str, spec: &TableSpec, columns: &[&str]) -> Result<Self> {
        let names: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let head = format!("INSERT INTO {} ({}) VALUES ", quote(into), names.join(", "));
        let row = format!("({})", vec!["?"; columns.len()].join(", "));
        let tail = if spec.load_mode == LoadMode::Upsert {
            check_pk(into, spec)?;
            if let Some(k) = spec
                .primary_key
                .iter()
                .find(|k| !columns.iter().any(|c| c.eq_ignore_ascii_case(k)))
            {
                return Err(DestinationError::failed(format!(
                    "cannot merge into the table {into}: the batch lacks the key column {k}"
                )));
            }
            let keys: Vec<String> = spec.primary_key.iter().map(|k| quote(k)).collect();
            let sets: Vec<String> = columns
                .iter()
                .filter(|c| !spec.primary_key.iter().any(|k| k.eq_ignore_ascii_case(c)))
                .map(|c| format!("{0} = excluded.{0}", quote(c)))
                .collect();
            if sets.is_empty() {
                format!(" ON CONFLICT ({}) DO NOTHING", keys.join(", "))
            } else {
                format!(
                    " ON CONFLICT ({}) DO UPDATE SET {}",
                    keys.join(", "),
                    sets.join(", ")
                )
            }
        } else {
            String::new()
        };
        Ok(Self { head, row, tail })
    }

    fn sql(&self, rows: usize) -> String {
        let mut sql =
            String::with_capacity(self.head.len() + rows * (self.row.len() + 1) + self.tail.len());
        sql.push_str(&self.head);
        for i in 0..rows {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&self.row);
        }
        sql.push_str(&self.tail);
        sql
    }
}

fn check_pk(table: &str, spec: &TableSpec) -> Result<()> {
    if spec.primary_key.is_empty() {
        return Err(DestinationError::failed(format!(
            "cannot merge into the table {table}: UPSERT needs a primary key"
        )));
    }
    Ok(())
}

/// Runs a schema statement (not cached: it runs once).
async fn ddl(conn: &mut SqliteConnection, sql: String) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(AssertSqlSafe(sql))
        .persistent(false)
        .execute(conn)
        .await
        .map(drop)
}

/// A quoted SQL identifier.
fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The name of a table's unique index on its primary key.
fn index_name(table: &str) -> String {
    format!("ux_{table}_pk")
}

/// A column's definition: its quoted name and its SQLite type (see
/// `sqlite_types`). Columns stay nullable: a source's NOT NULL is no
/// promise about every row.
fn column_def(f: &arrow_schema::Field) -> Result<String> {
    Ok(format!(
        "{} {}",
        quote(f.name()),
        sqlite_types::column_type(f)?
    ))
}

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;

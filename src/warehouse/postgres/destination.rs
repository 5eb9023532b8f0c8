//! The PostgreSQL warehouse: a `Destination` over one schema (the
//! namespace) of one database, built from the `load` statements.
//!
//! Every call runs in one transaction on a pooled client; a write commits
//! its rows together with its slot's position in `_tributary_positions`,
//! which lives in the same schema (see the module doc of `warehouse`).

use std::{collections::BTreeMap, fmt::Display};

use arrow_schema::Schema;
use tokio_postgres::Transaction;

use super::{
    PgWriteError,
    copy_in::PgColumn,
    error::pg,
    ident::{TableName, quote_ident},
    load,
    pool::{POOL_SIZE, Pool, Pooled, label, parse_url},
    types::pg_type,
};
use crate::{
    connectors::{Batch, postgres::connect::ConnectOptions},
    domain::{destination::reserved, enums::LoadMode},
    warehouse::{Destination, DestinationError, Position, Result, Slot, TableSpec},
};

/// The table the positions live in, in the warehouse's schema.
pub const POSITIONS: &str = "_tributary_positions";

/// SQLSTATEs worth another try: serialization failures and deadlocks,
/// a lock not granted within lock_timeout, a server shutting down, too
/// many connections, and any connection exception (class 08).
const PASSING_STATES: &[&str] = &[
    "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300",
];
const RACED_DDL_STATES: &[&str] = &["23505", "42P07", "42P06"];

pub struct PostgresWarehouse {
    pool: Pool,
    schema: String,
    /// Where it is, for messages (never the password).
    label: String,
}

impl PostgresWarehouse {
    /// Opens the schema `schema` of the database `url` names (creating the
    /// schema and the positions table when missing).
    pub async fn open(url: &str, schema: &str) -> Result<Self> {
        Self::open_with(parse_url(url)?, schema).await
    }

    /// `open` with the URL already parsed (the namespaces share one).
    pub async fn open_with(options: ConnectOptions, schema: &str) -> Result<Self> {
        // Checked now, so that every later TableName of this schema is good.
        quote_ident(schema).map_err(|e| DestinationError::failed(e.to_string()))?;
        if let Some(why) = reserved(schema) {
            return Err(DestinationError::failed(format!(
                "cannot use the schema {schema}: {why}"
            )));
        }
        let this = Self {
            label: format!("{} schema {schema}", label(&options)),
            pool: Pool::new(options, POOL_SIZE),
            schema: schema.to_string(),
        };
        this.ensure_positions().await?;
        Ok(this)
    }

    /// The schema it writes into.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn table(&self, name: &str) -> Result<TableName> {
        TableName::new(&self.schema, name).map_err(|e| self.error("name a table", e))
    }

    async fn client(&self) -> Result<Pooled<'_>> {
        self.pool.get().await
    }

    async fn begin<'c>(
        &self,
        client: &'c mut Pooled<'_>,
        what: impl Display,
    ) -> Result<Transaction<'c>> {
        client
            .transaction()
            .await
            .map_err(|e| self.error(&what, pg("beginning a transaction")(e)))
    }

    async fn commit(&self, tx: Transaction<'_>, what: impl Display) -> Result<()> {
        tx.commit()
            .await
            .map_err(|e| self.error(&what, pg("committing")(e)))
    }

    /// A writer error as a destination error: passing (transient) when the
    /// connection failed or the server asks for a retry, else failed.
    fn error(&self, what: impl Display, e: PgWriteError) -> DestinationError {
        self.classify(what, e, PASSING_STATES)
    }

    /// `error` for DDL, where two first uses creating the same schema or
    /// table at once is passing too: one loses on a catalog unique index
    /// (23505) or finds the object just made (42P07, 42P06); tried again,
    /// IF NOT EXISTS sees the other's.
    fn ddl_error(&self, what: impl Display, e: PgWriteError) -> DestinationError {
        self.classify(what, e, &[PASSING_STATES, RACED_DDL_STATES].concat())
    }

    fn classify(&self, what: impl Display, e: PgWriteError, states: &[&str]) -> DestinationError {
        let passing = passes(&e, states);
        let message = format!("warehouse {}: cannot {what}: {e}", self.label);
        if passing {
            DestinationError::transient(message)
        } else {
            DestinationError::failed(message)
        }
    }

    async fn create_positions(&self, tx: &Transaction<'_>) -> Result<()> {
        let what = format!("create the table {POSITIONS}");
        load::create_schema(tx, &self.schema)
            .await
            .map_err(|e| self.ddl_error(&what, e))?;
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (
                sync_id text NOT NULL,
                entity_key text NOT NULL,
                slot text NOT NULL,
                generation bigint NOT NULL,
                cursor text NULL,
                up_to text NULL,
                done boolean NOT NULL,
                updated_at bigint NOT NULL,
                PRIMARY KEY (sync_id, entity_key, slot)
            )",
            self.positions_table()?.qualified()
        );
        tx.batch_execute(&sql)
            .await
            .map_err(|e| self.ddl_error(&what, pg("creating")(e)))
    }

    async fn ensure_positions(&self) -> Result<()> {
        let what = "create the schema and the positions table";
        let mut client = self.client().await?;
        let tx = self.begin(&mut client, what).await?;
        self.create_positions(&tx).await?;
        self.commit(tx, what).await
    }

    fn positions_table(&self) -> Result<TableName> {
        self.table(POSITIONS)
    }

    async fn put_position(&self, tx: &Transaction<'_>, slot: &Slot, pos: &Position) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} (sync_id, entity_key, slot, generation, cursor, up_to, done, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (sync_id, entity_key, slot) DO UPDATE SET
                generation = EXCLUDED.generation,
                cursor = EXCLUDED.cursor,
                up_to = EXCLUDED.up_to,
                done = EXCLUDED.done,
                updated_at = EXCLUDED.updated_at",
            self.positions_table()?.qualified()
        );
        tx.execute(
            &sql,
            &[
                &slot.sync_id,
                &slot.entity_key,
                &slot.slot,
                &pos.generation,
                &pos.cursor,
                &pos.up_to,
                &pos.done,
                &(crate::domain::now_micros() / 1000),
            ],
        )
        .await
        .map(drop)
        .map_err(|e| {
            let what = format!("record the position of {}", slot);
            self.error(&what, pg("recording")(e))
        })
    }

    async fn forget(&self, tx: &Transaction<'_>, forget: &[Slot]) -> Result<()> {
        let sql = format!(
            "DELETE FROM {} WHERE sync_id = $1 AND entity_key = $2 AND slot = $3",
            self.positions_table()?.qualified()
        );
        for slot in forget {
            tx.execute(&sql, &[&slot.sync_id, &slot.entity_key, &slot.slot])
                .await
                .map_err(|e| {
                    let what = format!("delete the position of {}", slot);
                    self.error(&what, pg("deleting")(e))
                })?;
        }
        Ok(())
    }

    /// The COPY columns of a batch: each field with the type its column has
    /// in `table`. A write changes no column (that is `prepare`'s job), so
    /// a field the table lacks fails the write, naming it.
    async fn batch_columns(
        &self,
        tx: &Transaction<'_>,
        table: &TableName,
        schema: &Schema,
    ) -> Result<Vec<PgColumn>> {
        let what = format!("write into the table {}", table.name());
        let existing = load::table_columns(tx, table)
            .await
            .map_err(|e| self.error(&what, e))?;
        if existing.is_empty() {
            return Err(DestinationError::failed(format!(
                "warehouse {}: cannot {what}: it does not exist",
                self.label
            )));
        }
        schema
            .fields()
            .iter()
            .map(|f| match existing.iter().find(|c| &c.name == f.name()) {
                Some(c) => Ok(c.clone()),
                None => {
                    // The type table refuses first: its message is the better one.
                    pg_type(f).map_err(|e| self.error(&what, e))?;
                    Err(DestinationError::failed(format!(
                        "warehouse {}: cannot {what}: it has no column {:?} (prepare adds it)",
                        self.label,
                        f.name()
                    )))
                }
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl Destination for PostgresWarehouse {
    async fn prepare(&self, spec: &TableSpec) -> Result<()> {
        super::super::check_table(spec)?;
        let table = self.table(&spec.name)?;
        let what = format!("prepare the table {}", spec.name);
        let mut client = self.client().await?;
        let tx = self.begin(&mut client, &what).await?;
        self.create_positions(&tx).await?;
        // A schema that comes with the data: the table comes with the
        // first batch (`extend_table`).
        if spec.schema.fields().is_empty() {
            return self.commit(tx, what).await;
        }
        load::prepare_table(&tx, &table, &spec.schema, merge_key(spec)?)
            .await
            .map_err(|e| self.ddl_error(&what, e))?;
        // An interrupted full load resumes only into a staging table that
        // still holds the source's columns.
        let staging = self.table(&self.staging_name(spec))?;
        super::staging::drop_stale_staging(&tx, &staging, &spec.schema)
            .await
            .map_err(|e| self.error(&what, e))?;
        // Not with ddl_error: a unique violation here is duplicate keys in
        // the rows, which no retry mends.
        load::ensure_primary_key(&tx, &table, merge_key(spec)?)
            .await
            .map_err(|e| self.error(&what, e))?;
        self.commit(tx, what).await
    }

    async fn positions(
        &self,
        sync_id: &str,
        entity_key: &str,
    ) -> Result<BTreeMap<String, Position>> {
        let what = format!("read the positions of {sync_id}/{entity_key}");
        let sql = format!(
            "SELECT slot, generation, cursor, up_to, done FROM {}
             WHERE sync_id = $1 AND entity_key = $2",
            self.positions_table()?.qualified()
        );
        let client = self.client().await?;
        let rows = client
            .query(&sql, &[&sync_id, &entity_key])
            .await
            .map_err(|e| self.error(&what, pg("reading")(e)))?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, String>(0)?,
                    Position {
                        generation: r.try_get(1)?,
                        cursor: r.try_get(2)?,
                        up_to: r.try_get(3)?,
                        done: r.try_get(4)?,
                    },
                ))
            })
            .collect::<std::result::Result<_, tokio_postgres::Error>>()
            .map_err(|e| self.error(&what, pg("reading")(e)))
    }

    async fn set_positions(&self, slots: &[(Slot, Position)]) -> Result<()> {
        let what = "record positions";
        let mut client = self.client().await?;
        let tx = self.begin(&mut client, what).await?;
        for (slot, pos) in slots {
            self.put_position(&tx, slot, pos).await?;
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
        super::super::check_target(spec, into, &self.staging_name(spec))?;
        let table = self.table(into)?;
        let data = &batch.data;
        let rows = data.num_rows();
        if data.num_columns() == 0 && rows > 0 {
            return Err(DestinationError::failed(format!(
                "cannot write into the table {into}: the batch has rows but no columns"
            )));
        }
        let what = format!("write {rows} rows into the table {into}");
        let mut client = self.client().await?;
        let tx = self.begin(&mut client, &what).await?;
        let written = if data.num_columns() == 0 {
            0
        } else {
            let columns = self.batch_columns(&tx, &table, data.schema_ref()).await?;
            let batches = std::slice::from_ref(data);
            // A full load of an UPSERT table keeps each key's last
            // version too, as the live table would: the last of the batch
            // here, the last batch's when the swap adds the key.
            let loaded = match spec.load_mode {
                LoadMode::Upsert if into == self.staging_name(spec) => {
                    load::append_last_of_each_key(&tx, &table, &columns, &spec.primary_key, data)
                        .await
                }
                LoadMode::Upsert => {
                    load::upsert(&tx, &table, &columns, &spec.primary_key, batches).await
                }
                _ => load::append(&tx, &table, &columns, batches).await,
            };
            loaded.map_err(|e| self.error(&what, e))?
        };
        self.put_position(&tx, slot, pos).await?;
        self.commit(tx, what).await?;
        Ok(written)
    }

    fn qualified_name(&self, table: &str) -> String {
        // The label names the database, then this schema.
        let suffix = format!(" schema {}", self.schema);
        let database = self.label.strip_suffix(&suffix).unwrap_or(&self.label);
        match TableName::new(&self.schema, table) {
            Ok(t) => format!("{} in {database}", t.qualified()),
            Err(_) => format!("{}.{table} in {database}", self.schema),
        }
    }

    fn staging_name(&self, spec: &TableSpec) -> String {
        TableName::new(&self.schema, &spec.name)
            .and_then(|t| load::staging_table(&t))
            .map(|t| t.name().to_string())
            // A name no table can have: writes to it fail on their own.
            .unwrap_or_else(|_| format!("_tributary_staging_{}", spec.name))
    }

    async fn extend_table(&self, into: &str, spec: &TableSpec) -> Result<()> {
        super::super::check_target(spec, into, &self.staging_name(spec))?;
        let table = self.table(into)?;
        let what = format!("add columns to the table {into}");
        let mut client = self.client().await?;
        let tx = self.begin(&mut client, &what).await?;
        if into == spec.name {
            load::prepare_table(&tx, &table, &spec.schema, merge_key(spec)?)
                .await
                .map_err(|e| self.ddl_error(&what, e))?;
            load::ensure_primary_key(&tx, &table, merge_key(spec)?)
                .await
                .map_err(|e| self.error(&what, e))?;
        } else if load::table_exists(&tx, &table)
            .await
            .map_err(|e| self.error(&what, e))?
        {
            load::ensure_columns(&tx, &table, &spec.schema)
                .await
                .map_err(|e| self.ddl_error(&what, e))?;
        } else {
            // Staging: without the key, as `create_staging` makes it.
            load::create_table(&tx, &table, &spec.schema, &[])
                .await
                .map_err(|e| self.ddl_error(&what, e))?;
        }
        self.commit(tx, what).await
    }

    async fn create_staging(&self, spec: &TableSpec) -> Result<()> {
        super::super::check_table(spec)?;
        let staging = self.table(&self.staging_name(spec))?;
        let what = format!("create the staging table {}", staging.name());
        let mut client = self.client().await?;
        let tx = self.begin(&mut client, &what).await?;
        // Without the key: `swap_in` adds it once the rows are in.
        merge_key(spec)?;
        if spec.schema.fields().is_empty() {
            // Made with the first batch (`extend_table`).
            load::drop_table(&tx, &staging)
                .await
                .map_err(|e| self.error(&what, e))?;
        } else {
            load::create_staging(&tx, &staging, &spec.schema, &[])
                .await
                .map_err(|e| self.error(&what, e))?;
        }
        self.commit(tx, what).await
    }

    async fn table_exists(&self, name: &str) -> Result<bool> {
        let table = self.table(name)?;
        let what = format!("look up the table {name}");
        let mut client = self.client().await?;
        let tx = self.begin(&mut client, &what).await?;
        let exists = load::table_exists(&tx, &table)
            .await
            .map_err(|e| self.error(&what, e))?;
        self.commit(tx, what).await?;
        Ok(exists)
    }

    async fn swap_in(
        &self,
        spec: &TableSpec,
        slot: &Slot,
        pos: &Position,
        forget: &[Slot],
    ) -> Result<()> {
        super::super::check_table(spec)?;
        let table = self.table(&spec.name)?;
        let staging = self.table(&self.staging_name(spec))?;
        let what = format!("replace the table {} with {}", spec.name, staging.name());
        let mut client = self.client().await?;
        let tx = self.begin(&mut client, &what).await?;
        if load::table_exists(&tx, &staging)
            .await
            .map_err(|e| self.error(&what, e))?
        {
            // Not with ddl_error: a unique violation left here is a key
            // PostgreSQL deems equal that the batches told apart.
            load::key_staging(&tx, &staging, merge_key(spec)?)
                .await
                .map_err(|e| self.error(&what, e))?;
        }
        load::swap_in(&tx, &table, &staging)
            .await
            .map_err(|e| self.error(&what, e))?;
        self.put_position(&tx, slot, pos).await?;
        self.forget(&tx, forget).await?;
        self.commit(tx, what).await
    }

    async fn settle(&self, slot: &Slot, pos: &Position, forget: &[Slot]) -> Result<()> {
        let what = format!("settle {}", slot);
        let mut client = self.client().await?;
        let tx = self.begin(&mut client, &what).await?;
        self.put_position(&tx, slot, pos).await?;
        self.forget(&tx, forget).await?;
        self.commit(tx, what).await
    }

    async fn probe(&self) -> Result<()> {
        let table = self.table(super::super::PROBE)?;
        let what = format!("create a table in the schema {}", self.schema);
        let mut client = self.client().await?;
        let tx = self.begin(&mut client, &what).await?;
        tx.batch_execute(&format!("CREATE TABLE {} (x integer)", table.qualified()))
            .await
            .map_err(|e| self.ddl_error(&what, pg("creating")(e)))?;
        // Dropping the transaction rolls it back: nothing stays.
        drop(tx);
        Ok(())
    }
}

/// The key a table of `spec` is created with: UPSERT's primary key (which
/// it must have), none for the other modes.
fn merge_key(spec: &TableSpec) -> Result<&[String]> {
    if spec.load_mode != LoadMode::Upsert {
        return Ok(&[]);
    }
    if spec.primary_key.is_empty() {
        return Err(DestinationError::failed(format!(
            "cannot merge into the table {}: UPSERT needs a primary key",
            spec.name
        )));
    }
    Ok(&spec.primary_key)
}

/// Whether an error may pass on a retry: a driver error without SQLSTATE
/// (the connection broke), a connection exception (class 08), or one of
/// `states`.
fn passes(e: &PgWriteError, states: &[&str]) -> bool {
    match e {
        PgWriteError::Postgres { code: None, .. } => true,
        PgWriteError::Postgres {
            code: Some(code), ..
        } => code.starts_with("08") || states.contains(&code.as_str()),
        _ => false,
    }
}

#[cfg(test)]
#[path = "destination_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "staging_key_tests.rs"]
mod staging_key_tests;

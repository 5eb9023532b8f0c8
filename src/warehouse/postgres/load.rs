//! The statements of the PostgreSQL destination's load modes. Each takes
//! the caller's transaction and commits nothing itself, so a batch, its
//! schema changes and its position commit (or roll back) together.
//!
//! - APPEND: `append`, a COPY straight into the table.
//! - UPSERT: `upsert`, a COPY into a temporary table, then one
//!   `INSERT … ON CONFLICT (pk) DO UPDATE`.
//! - REPLACE: `create_staging`, `append` into it (over as many
//!   transactions as the load takes), then `swap_in`; or `replace` for all
//!   three in one transaction.
//! - A full load of an UPSERT table: like REPLACE, into a staging table
//!   made without the key (`append_last_of_each_key`), which
//!   `key_staging` adds before the swap: one sorted index build instead of
//!   an index kept up row by row and a merge per batch.

use arrow_array::RecordBatch;
use arrow_schema::Schema;
use sha2::{Digest, Sha256};
use tokio_postgres::Transaction;

use super::{
    copy_in::{CopyIn, PgColumn, copy_batches, last_of_each_key},
    error::{PgWriteError, Result, pg},
    ident::{MAX_IDENT_BYTES, TableName, quote_ident, quote_list},
    types::{ColumnChange, PgType, column_change, pg_type},
};

/// The column of an upsert's temporary table keeping each row's place in
/// the batch, so the last version of a key wins.
const ORDINAL: &str = "_tributary_ord";
const STAGING_PREFIX: &str = "_tributary_staging_";

/// `CREATE SCHEMA IF NOT EXISTS`.
pub async fn create_schema(tx: &Transaction<'_>, schema: &str) -> Result<()> {
    // Looked up first: CREATE SCHEMA IF NOT EXISTS needs the database's
    // CREATE right even when the schema exists, which a role that may only
    // write into its schema (a destination connection's) lacks.
    let exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&schema],
        )
        .await
        .map_err(pg(format!("looking up schema {schema:?}")))?
        .get(0);
    if exists {
        return Ok(());
    }
    let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema)?);
    tx.batch_execute(&sql)
        .await
        .map_err(pg(format!("creating schema {schema:?}")))
}

/// Whether the table exists.
pub async fn table_exists(tx: &Transaction<'_>, table: &TableName) -> Result<bool> {
    let row = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p'))",
            &[&table.schema(), &table.name()],
        )
        .await
        .map_err(pg(format!("looking up {table}")))?;
    Ok(row.get(0))
}

/// The table's columns in order with their types; empty when the table
/// does not exist.
pub async fn table_columns(tx: &Transaction<'_>, table: &TableName) -> Result<Vec<PgColumn>> {
    let rows = tx
        .query(
            "SELECT a.attname::text, a.atttypid, a.atttypmod,
                    CASE WHEN t.typlen = -1 AND t.typelem <> 0 THEN t.typelem END,
                    format_type(a.atttypid, a.atttypmod)
             FROM pg_attribute a
             JOIN pg_type t ON t.oid = a.atttypid
             JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum",
            &[&table.schema(), &table.name()],
        )
        .await
        .map_err(pg(format!("reading the columns of {table}")))?;
    rows.iter()
        .map(|r| {
            let get = || -> std::result::Result<PgColumn, tokio_postgres::Error> {
                let name: String = r.try_get(0)?;
                let sql_name: String = r.try_get(4)?;
                let pg_type =
                    PgType::from_catalog(r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, &sql_name);
                Ok(PgColumn { name, pg_type })
            };
            get().map_err(pg(format!("reading the columns of {table}")))
        })
        .collect()
}

/// The columns a schema is created with: each field's type from the type
/// table.
pub fn columns_of(schema: &Schema) -> Result<Vec<PgColumn>> {
    schema
        .fields()
        .iter()
        .map(|f| {
            Ok(PgColumn {
                name: f.name().clone(),
                pg_type: pg_type(f)?,
            })
        })
        .collect()
}

/// `CREATE TABLE IF NOT EXISTS` with a column per field and, when
/// `primary_key` is not empty, `PRIMARY KEY (…)`. Columns are nullable
/// (except the key's): a source column that starts sending NULLs later
/// must not fail the load.
pub async fn create_table(
    tx: &Transaction<'_>,
    table: &TableName,
    schema: &Schema,
    primary_key: &[String],
) -> Result<()> {
    let columns = columns_of(schema)?;
    check_key(table, &columns, primary_key)?;
    let mut defs = columns
        .iter()
        .map(|c| Ok(format!("{} {}", quote_ident(&c.name)?, c.pg_type.ddl())))
        .collect::<Result<Vec<String>>>()?;
    if !primary_key.is_empty() {
        defs.push(format!("PRIMARY KEY ({})", quote_list(primary_key)?));
    }
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS {} ({})",
        table.qualified(),
        defs.join(", ")
    );
    tx.batch_execute(&sql)
        .await
        .map_err(pg(format!("creating {table}")))
}

/// Brings an existing table's columns up to a batch's schema: adds the
/// fields it lacks (`ADD COLUMN`), widens a column whose new type holds
/// every old value (integer → bigint: `ALTER COLUMN … TYPE`), and refuses
/// any other change (text → integer), naming the column. Returns the COPY
/// columns of the batch, typed as the table now has them.
pub async fn ensure_columns(
    tx: &Transaction<'_>,
    table: &TableName,
    schema: &Schema,
) -> Result<Vec<PgColumn>> {
    let existing = table_columns(tx, table).await?;
    if existing.is_empty() {
        return Err(PgWriteError::Invalid(format!(
            "table {table} does not exist"
        )));
    }
    let mut changes = Vec::new();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let name = quote_ident(field.name())?;
        let pg_type = match existing.iter().find(|c| &c.name == field.name()) {
            None => {
                let t = pg_type(field)?;
                // IF NOT EXISTS: another transaction writing the same table
                // (a fan-out window) may add it first.
                changes.push(format!("ADD COLUMN IF NOT EXISTS {name} {}", t.ddl()));
                t
            }
            Some(col) => match column_change(&col.pg_type, field) {
                Ok(ColumnChange::Keep) => col.pg_type.clone(),
                Ok(ColumnChange::Widen(t)) => {
                    changes.push(format!("ALTER COLUMN {name} TYPE {}", t.ddl()));
                    t
                }
                // Integers, then a float (JSON numbers across API pages):
                // double precision holds every integer up to 2^53 exactly,
                // so the column becomes one if all it holds is within that.
                Err(refused)
                    if matches!(col.pg_type, PgType::Int2 | PgType::Int4 | PgType::Int8)
                        && pg_type(field)? == PgType::Float8 =>
                {
                    if !integers_exact_as_doubles(tx, table, &name).await? {
                        return Err(refused);
                    }
                    changes.push(format!("ALTER COLUMN {name} TYPE double precision"));
                    PgType::Float8
                }
                Err(refused) => return Err(refused),
            },
        };
        columns.push(PgColumn {
            name: field.name().clone(),
            pg_type,
        });
    }
    if !changes.is_empty() {
        // One statement: a widening rewrites the table once, not per column.
        let sql = format!("ALTER TABLE {} {}", table.qualified(), changes.join(", "));
        tx.batch_execute(&sql)
            .await
            .map_err(pg(format!("changing the columns of {table}")))?;
    }
    Ok(columns)
}

/// Whether every value of integer column `column` (quoted) is exact as a
/// double: within ±2^53.
async fn integers_exact_as_doubles(
    tx: &Transaction<'_>,
    table: &TableName,
    column: &str,
) -> Result<bool> {
    let sql = format!(
        "SELECT coalesce(bool_and(abs({column}::numeric) <= 9007199254740992), true) FROM {}",
        table.qualified()
    );
    let row = tx
        .query_one(&sql, &[])
        .await
        .map_err(pg(format!("reading the range of {column} in {table}")))?;
    row.try_get(0)
        .map_err(pg(format!("reading the range of {column} in {table}")))
}

/// `create_table`, then `ensure_columns`: the table ready for a batch of
/// `schema`, and the COPY columns to write it with.
pub async fn prepare_table(
    tx: &Transaction<'_>,
    table: &TableName,
    schema: &Schema,
    primary_key: &[String],
) -> Result<Vec<PgColumn>> {
    create_table(tx, table, schema, primary_key).await?;
    ensure_columns(tx, table, schema).await
}

/// Makes `key` the table's primary key: nothing when it already is, else
/// (a table first loaded without a key, or a changed merge key) drops the
/// old primary key and adds the new one, in one statement. PostgreSQL
/// refuses the new key when the rows hold a key twice or a NULL in it.
pub async fn ensure_primary_key(
    tx: &Transaction<'_>,
    table: &TableName,
    key: &[String],
) -> Result<()> {
    if key.is_empty() {
        return Ok(());
    }
    let current = tx
        .query_opt(
            "SELECT k.conname::text,
                    array(SELECT a.attname::text
                          FROM unnest(k.conkey) WITH ORDINALITY AS u(num, ord)
                          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num
                          ORDER BY u.ord)
             FROM pg_constraint k
             JOIN pg_class c ON c.oid = k.conrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2 AND k.contype = 'p'",
            &[&table.schema(), &table.name()],
        )
        .await
        .map_err(pg(format!("reading the primary key of {table}")))?;
    let mut changes = Vec::new();
    if let Some(row) = current {
        let name: String = row
            .try_get(0)
            .map_err(pg(format!("reading the primary key of {table}")))?;
        let columns: Vec<String> = row
            .try_get(1)
            .map_err(pg(format!("reading the primary key of {table}")))?;
        if columns == key {
            return Ok(());
        }
        changes.push(format!("DROP CONSTRAINT {}", quote_ident(&name)?));
    }
    changes.push(format!("ADD PRIMARY KEY ({})", quote_list(key)?));
    let sql = format!("ALTER TABLE {} {}", table.qualified(), changes.join(", "));
    tx.batch_execute(&sql).await.map_err(pg(format!(
        "making ({}) the primary key of {table}",
        key.join(", ")
    )))
}

/// APPEND: COPYs the batches into the table. Returns the rows written.
pub async fn append(
    tx: &Transaction<'_>,
    table: &TableName,
    columns: &[PgColumn],
    batches: &[RecordBatch],
) -> Result<u64> {
    copy_batches(tx, table, columns, batches).await
}

/// UPSERT: COPYs the batches into a temporary table shaped like the
/// target, then merges them with one `INSERT … ON CONFLICT (pk) DO UPDATE`.
/// Of several rows with one key the last wins (ON CONFLICT cannot touch a
/// row twice in one statement, so the others are dropped first). The
/// target needs a unique constraint on `primary_key` (`create_table` makes
/// it). Returns the rows inserted or updated.
pub async fn upsert(
    tx: &Transaction<'_>,
    table: &TableName,
    columns: &[PgColumn],
    primary_key: &[String],
    batches: &[RecordBatch],
) -> Result<u64> {
    if primary_key.is_empty() {
        return Err(PgWriteError::Invalid(format!(
            "an upsert into {table} needs a primary key"
        )));
    }
    check_key(table, columns, primary_key)?;
    // A fresh name: two upserts may share the caller's session.
    let temp = TableName::new(
        "pg_temp",
        &format!("_tributary_upsert_{:08x}", rand::random::<u32>()),
    )?;
    let create = format!(
        "CREATE TEMP TABLE {} (LIKE {}, {} bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP",
        quote_ident(temp.name())?,
        table.qualified(),
        quote_ident(ORDINAL)?
    );
    tx.batch_execute(&create)
        .await
        .map_err(pg(format!("creating the upsert table of {table}")))?;
    copy_batches(tx, &temp, columns, batches).await?;

    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let cols = quote_list(&names)?;
    let key = quote_list(primary_key)?;
    let updates = columns
        .iter()
        .filter(|c| !primary_key.contains(&c.name))
        .map(|c| {
            let q = quote_ident(&c.name)?;
            Ok(format!("{q} = EXCLUDED.{q}"))
        })
        .collect::<Result<Vec<String>>>()?;
    let on_conflict = if updates.is_empty() {
        "DO NOTHING".to_string()
    } else {
        format!("DO UPDATE SET {}", updates.join(", "))
    };
    let merge = format!(
        "INSERT INTO {target} ({cols})
         SELECT DISTINCT ON ({key}) {cols} FROM {temp} ORDER BY {key}, {ord} DESC
         ON CONFLICT ({key}) {on_conflict}",
        target = table.qualified(),
        temp = temp.qualified(),
        ord = quote_ident(ORDINAL)?,
    );
    let rows = tx
        .execute(&merge, &[])
        .await
        .map_err(pg(format!("merging into {table}")))?;
    tx.batch_execute(&format!("DROP TABLE {}", temp.qualified()))
        .await
        .map_err(pg(format!("dropping the upsert table of {table}")))?;
    Ok(rows)
}

/// A batch of a full load of an UPSERT table into its keyless staging
/// table (see `key_staging`): COPYs the last row of each key of the batch
/// (the version a merge would keep). Returns the rows written.
pub async fn append_last_of_each_key(
    tx: &Transaction<'_>,
    table: &TableName,
    columns: &[PgColumn],
    primary_key: &[String],
    batch: &RecordBatch,
) -> Result<u64> {
    check_key(table, columns, primary_key)?;
    let keep = last_of_each_key(batch, columns, primary_key)?;
    let mut copy = CopyIn::start(tx, table, columns).await?;
    copy.write_rows(batch, keep.as_deref()).await?;
    copy.finish().await
}

/// Gives a full load's staging table its primary key, on the caller's
/// transaction (the swap's). A key that several batches wrote keeps its
/// latest version, as merging each batch into the live table would: the
/// row of the newest transaction (`xmin`; each batch commits in its own,
/// one after another, and holds a key once). Nothing to do when the table
/// has the key already.
pub async fn key_staging(
    tx: &Transaction<'_>,
    staging: &TableName,
    primary_key: &[String],
) -> Result<()> {
    if primary_key.is_empty() {
        return Ok(());
    }
    let savepoint = |verb: &str| format!("{verb} tributary_key_staging");
    let step = |what: &'static str| pg(format!("{what} while keying {staging}"));
    tx.batch_execute(&savepoint("SAVEPOINT"))
        .await
        .map_err(step("making a savepoint"))?;
    match ensure_primary_key(tx, staging, primary_key).await {
        Ok(()) => {}
        // Unique violation: some key came in more than one batch.
        Err(PgWriteError::Postgres { code: Some(c), .. }) if c == "23505" => {
            tx.batch_execute(&savepoint("ROLLBACK TO SAVEPOINT"))
                .await
                .map_err(step("rolling back"))?;
            let pairs = primary_key
                .iter()
                .map(|k| {
                    let q = quote_ident(k)?;
                    Ok(format!("a.{q} = b.{q}"))
                })
                .collect::<Result<Vec<String>>>()?;
            // Older rows of a key go; of one transaction's, the later ctid
            // stays (only a key the batch's dedup could not see as equal).
            let sql = format!(
                "DELETE FROM {t} a USING {t} b WHERE {} AND \
                 (age(a.xmin) > age(b.xmin) OR (a.xmin = b.xmin AND a.ctid < b.ctid))",
                pairs.join(" AND "),
                t = staging.qualified()
            );
            tx.batch_execute(&sql)
                .await
                .map_err(step("dropping superseded versions of keys"))?;
            ensure_primary_key(tx, staging, primary_key).await?;
        }
        Err(e) => return Err(e),
    }
    tx.batch_execute(&savepoint("RELEASE SAVEPOINT"))
        .await
        .map_err(step("releasing the savepoint"))
}

/// The staging table of a full load of `table`, in its schema. Names too
/// long for the prefix are shortened and told apart by a hash.
pub fn staging_table(table: &TableName) -> Result<TableName> {
    let name = format!("{STAGING_PREFIX}{}", table.name());
    if name.len() <= MAX_IDENT_BYTES {
        return table.sibling(&name);
    }
    let hash = hex::encode(&Sha256::digest(table.name().as_bytes())[..4]);
    let mut keep = MAX_IDENT_BYTES - STAGING_PREFIX.len() - hash.len() - 1;
    while !table.name().is_char_boundary(keep) {
        keep -= 1;
    }
    table.sibling(&format!("{STAGING_PREFIX}{}_{hash}", &table.name()[..keep]))
}

/// Drops `table` if it exists.
pub async fn drop_table(tx: &Transaction<'_>, table: &TableName) -> Result<()> {
    tx.batch_execute(&format!("DROP TABLE IF EXISTS {}", table.qualified()))
        .await
        .map_err(pg(format!("dropping {table}")))
}

/// (Re)creates an empty staging table for `schema` (dropping an old one),
/// with the primary key. Returns its COPY columns.
pub async fn create_staging(
    tx: &Transaction<'_>,
    staging: &TableName,
    schema: &Schema,
    primary_key: &[String],
) -> Result<Vec<PgColumn>> {
    tx.batch_execute(&format!("DROP TABLE IF EXISTS {}", staging.qualified()))
        .await
        .map_err(pg(format!("dropping {staging}")))?;
    create_table(tx, staging, schema, primary_key).await?;
    columns_of(schema)
}

/// Replaces `table` with `staging` (same schema): drops the table, renames
/// the staging table to it and its primary key constraint to
/// `<table>_pkey`. Readers see the old table until the caller commits.
/// A table that views depend on keeps its identity and gets the staging
/// table's rows instead (see `staging`); otherwise the old table's grants
/// go with it.
pub async fn swap_in(tx: &Transaction<'_>, table: &TableName, staging: &TableName) -> Result<()> {
    if staging.schema() != table.schema() {
        return Err(PgWriteError::Invalid(format!(
            "staging table {staging} is not in the schema of {table}"
        )));
    }
    if !table_exists(tx, staging).await? {
        return Err(PgWriteError::Invalid(format!(
            "staging table {staging} does not exist"
        )));
    }
    let views = super::staging::dependants(tx, table).await?;
    if !views.is_empty() {
        tracing::info!(%table, views = %views.join(", "), "full load refills the table views depend on");
        return super::staging::refill(tx, table, staging).await;
    }
    let sql = format!(
        "DROP TABLE IF EXISTS {}; ALTER TABLE {} RENAME TO {}",
        table.qualified(),
        staging.qualified(),
        quote_ident(table.name())?
    );
    tx.batch_execute(&sql)
        .await
        .map_err(pg(format!("swapping {staging} in for {table}")))?;
    let pkey = tx
        .query_opt(
            "SELECT k.conname::text FROM pg_constraint k
             JOIN pg_class c ON c.oid = k.conrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2 AND k.contype = 'p'",
            &[&table.schema(), &table.name()],
        )
        .await
        .map_err(pg(format!("reading the primary key of {table}")))?;
    let wanted = format!("{}_pkey", table.name());
    if let Some(row) = pkey {
        let current: String = row.get(0);
        // A key name PostgreSQL would truncate keeps the staging one.
        if current != wanted && wanted.len() <= MAX_IDENT_BYTES {
            let sql = format!(
                "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
                table.qualified(),
                quote_ident(&current)?,
                quote_ident(&wanted)?
            );
            tx.batch_execute(&sql)
                .await
                .map_err(pg(format!("renaming the primary key of {table}")))?;
        }
    }
    Ok(())
}

/// REPLACE in one transaction: the batches into a fresh staging table,
/// then swapped in. Returns the rows written.
pub async fn replace(
    tx: &Transaction<'_>,
    table: &TableName,
    schema: &Schema,
    primary_key: &[String],
    batches: &[RecordBatch],
) -> Result<u64> {
    let staging = staging_table(table)?;
    let columns = create_staging(tx, &staging, schema, primary_key).await?;
    let rows = copy_batches(tx, &staging, &columns, batches).await?;
    swap_in(tx, table, &staging).await?;
    Ok(rows)
}

/// Every key column must be one of the columns.
fn check_key(table: &TableName, columns: &[PgColumn], primary_key: &[String]) -> Result<()> {
    match primary_key
        .iter()
        .find(|k| !columns.iter().any(|c| &c.name == *k))
    {
        Some(missing) => Err(PgWriteError::Invalid(format!(
            "primary key column {missing:?} is not a column of {table}"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;

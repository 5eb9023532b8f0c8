//! Two rules of a full load's staging table beyond create and swap:
//!
//! - A staging table that no longer holds the source's columns (the source
//!   gained or widened one while a full load was interrupted) is dropped
//!   when the table is prepared: the resumed load then starts over, so the
//!   table it swaps in is one consistent read of the source rather than
//!   rows read before the change next to rows read after it.
//! - A table other objects depend on (a user's view over a warehouse
//!   table) cannot be dropped for its staging table, so its rows are
//!   replaced instead: TRUNCATE, then `INSERT … SELECT` from the staging
//!   table, in the caller's transaction. The table keeps its identity, and
//!   with it the views, grants and indexes made on it (and any column the
//!   source no longer sends, left NULL); readers see the old rows until
//!   the commit, as with the swap.

use arrow_schema::Schema;
use tokio_postgres::Transaction;

use super::{
    error::{PgWriteError, Result, pg},
    ident::{TableName, quote_list},
    load::table_columns,
    types::{accepts, pg_type},
};

/// Drops `staging` when it lacks a field of `schema` or has a column that
/// cannot take the field's values. Returns whether it did.
pub async fn drop_stale_staging(
    tx: &Transaction<'_>,
    staging: &TableName,
    schema: &Schema,
) -> Result<bool> {
    let columns = table_columns(tx, staging).await?;
    if columns.is_empty() {
        return Ok(false);
    }
    let mut stale = None;
    for field in schema.fields() {
        let fits = match columns.iter().find(|c| &c.name == field.name()) {
            Some(c) => accepts(&c.pg_type, &pg_type(field)?),
            None => false,
        };
        if !fits {
            stale = Some(field.name());
            break;
        }
    }
    let Some(column) = stale else {
        return Ok(false);
    };
    tracing::info!(
        staging = %staging, %column,
        "the source's columns changed during a full load: it starts over"
    );
    tx.batch_execute(&format!("DROP TABLE {}", staging.qualified()))
        .await
        .map_err(pg(format!("dropping the stale {staging}")))?;
    Ok(true)
}

/// The views (and materialized views, and other rules) that depend on
/// `table`, by name; empty when it has none or does not exist.
pub async fn dependants(tx: &Transaction<'_>, table: &TableName) -> Result<Vec<String>> {
    let rows = tx
        .query(
            "SELECT DISTINCT v.oid::regclass::text
             FROM pg_depend d
             JOIN pg_rewrite r ON r.oid = d.objid
             JOIN pg_class v ON v.oid = r.ev_class
             JOIN pg_class t ON t.oid = d.refobjid
             JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
               AND n.nspname = $1 AND t.relname = $2 AND v.oid <> t.oid
             ORDER BY 1",
            &[&table.schema(), &table.name()],
        )
        .await
        .map_err(pg(format!("reading what depends on {table}")))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Replaces the rows of `table` with those of `staging` and drops
/// `staging`. Every staging column must be a column of `table` (preparing
/// the table added them).
pub async fn refill(tx: &Transaction<'_>, table: &TableName, staging: &TableName) -> Result<()> {
    let live = table_columns(tx, table).await?;
    let staged = table_columns(tx, staging).await?;
    if let Some(missing) = staged
        .iter()
        .find(|s| !live.iter().any(|c| c.name == s.name))
    {
        return Err(PgWriteError::Invalid(format!(
            "{table} has no column {:?} to take the full load's rows",
            missing.name
        )));
    }
    let names: Vec<&str> = staged.iter().map(|c| c.name.as_str()).collect();
    let cols = quote_list(&names)?;
    let sql = format!(
        "TRUNCATE {t}; INSERT INTO {t} ({cols}) SELECT {cols} FROM {s}; DROP TABLE {s}",
        t = table.qualified(),
        s = staging.qualified(),
    );
    tx.batch_execute(&sql)
        .await
        .map_err(pg(format!("replacing the rows of {table} with {staging}")))
}

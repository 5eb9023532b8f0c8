//! A `postgres` connection's entities read as Arrow batches: an entity is a
//! table (`schema.table`, or `table` in the connection's schema), read with
//! binary COPY in the order of its cursor field and then its primary key.
//!
//! A batch's cursor is the cursor value of its last row, and when the table
//! has a primary key that row's key too (a JSON array of texts): rows that
//! share a cursor value across a batch or run boundary are then resumed
//! exactly, `(cursor, key) > (last cursor, last key)`, neither lost nor
//! read twice.

use std::sync::Arc;

use arrow_schema::{Field, Schema, SchemaRef};
use futures::StreamExt;
use tokio_postgres::Client;

use super::{
    connect::{ConnectOptions, connect},
    copy_out::{RowSelection, copy_out, plan},
    discover::table_columns,
    error::PgReadError,
    quote::{quote_ident, quote_literal},
    types::PgColumn,
};
use crate::{
    batch::{Batch, CARRIED_AS_TEXT},
    connectors::{BatchStream, ConnectorError, ReadRequest, Window, cursor_text},
};

impl From<PgReadError> for ConnectorError {
    fn from(e: PgReadError) -> Self {
        match e {
            PgReadError::Config(m) => Self::Config(m),
            PgReadError::Auth(m) => Self::Auth(m),
            PgReadError::Failed(m) => Self::Failed(m),
        }
    }
}

/// (schema, table) of an entity key.
pub fn entity_table<'a>(key: &'a str, default_schema: &'a str) -> (&'a str, &'a str) {
    key.split_once('.').unwrap_or((default_schema, key))
}

pub async fn open(options: &ConnectOptions) -> Result<Client, ConnectorError> {
    Ok(connect(options).await?)
}

/// The schema of a table's batches, the text-carried columns marked.
pub async fn entity_schema(
    client: &Client,
    schema: &str,
    table: &str,
) -> Result<SchemaRef, ConnectorError> {
    let columns = table_columns(client, schema, table).await?;
    Ok(marked(&columns))
}

fn marked(columns: &[PgColumn]) -> SchemaRef {
    let p = plan(columns);
    let fields: Vec<Field> = p
        .schema
        .fields()
        .iter()
        .map(|f| {
            let f = f.as_ref().clone();
            if p.carried_as_text.contains(f.name()) {
                let mut m = f.metadata().clone();
                m.insert(CARRIED_AS_TEXT.to_string(), "true".to_string());
                f.with_metadata(m)
            } else {
                f
            }
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// The primary key columns of a table, in key order (none for a view).
async fn primary_key(
    client: &Client,
    schema: &str,
    table: &str,
) -> Result<Vec<String>, ConnectorError> {
    let rows = client
        .query(
            "SELECT a.attname::text FROM pg_catalog.pg_index i \
             JOIN pg_catalog.pg_class c ON c.oid = i.indrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
             WHERE i.indisprimary AND n.nspname = $1 AND c.relname = $2 ORDER BY k.ord",
            &[&schema, &table],
        )
        .await
        .map_err(|e| {
            PgReadError::driver(&format!("cannot read the key of {schema}.{table}"), &e)
        })?;
    Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
}

/// A literal of column `c`'s type.
fn typed(c: &PgColumn, v: &str) -> String {
    format!("{}::{}", quote_literal(v), c.type_name)
}

/// Rows after a resume position: `(cursor, key) > (…)` for a position
/// with the key, `cursor > …` for a bare cursor value.
fn after_condition(columns: &[PgColumn], c: &PgColumn, key: &[String], after: &str) -> String {
    let compound: Option<Vec<String>> = serde_json::from_str(after)
        .ok()
        .filter(|v: &Vec<String>| v.len() == key.len() + 1 && !key.is_empty());
    match compound {
        Some(values) => {
            let mut cols = vec![c];
            cols.extend(
                key.iter()
                    .filter_map(|k| columns.iter().find(|x| &x.name == k)),
            );
            let names: Vec<String> = cols.iter().map(|c| quote_ident(&c.name)).collect();
            let lits: Vec<String> = cols.iter().zip(&values).map(|(c, v)| typed(c, v)).collect();
            format!("({}) > ({})", names.join(", "), lits.join(", "))
        }
        None => format!("{} > {}", quote_ident(&c.name), typed(c, after)),
    }
}

/// Splits the cursor range after `after` into at most `n` windows of about
/// equal row counts (FAN_OUT_WINDOW), at cursor values the table holds:
/// each window ends at a value inclusive, the next starts after it, so rows
/// that share a value fall in one window.
pub async fn windows(
    client: &Client,
    schema: &str,
    table: &str,
    cursor_field: &str,
    after: Option<&str>,
    n: usize,
) -> Result<Vec<Window>, ConnectorError> {
    let columns = table_columns(client, schema, table).await?;
    let key = primary_key(client, schema, table).await?;
    let c = columns
        .iter()
        .find(|c| c.name == cursor_field)
        .ok_or_else(|| {
            ConnectorError::Config(format!(
                "{schema}.{table} has no cursor field {cursor_field:?}"
            ))
        })?;
    let mut bounds: Vec<String> = Vec::new();
    if n > 1 {
        let fractions: Vec<String> = (1..n).map(|j| format!("{}", j as f64 / n as f64)).collect();
        let mut sql = format!(
            "SELECT (percentile_disc(ARRAY[{}]::float8[]) WITHIN GROUP (ORDER BY {}))::text[] FROM {}",
            fractions.join(", "),
            quote_ident(cursor_field),
            super::quote::quote_table(schema, table)
        );
        if let Some(after) = after {
            sql.push_str(&format!(
                " WHERE {}",
                after_condition(&columns, c, &key, after)
            ));
        }
        let row = client.query_one(sql.as_str(), &[]).await.map_err(|e| {
            PgReadError::driver(&format!("cannot split {schema}.{table} into windows"), &e)
        })?;
        let found: Option<Vec<Option<String>>> = row.get(0);
        for b in found.into_iter().flatten().flatten() {
            if bounds.last() != Some(&b) {
                bounds.push(b);
            }
        }
    }
    let mut out = Vec::with_capacity(bounds.len() + 1);
    let mut lower = after.map(str::to_string);
    for b in bounds {
        out.push(Window {
            after: lower.take(),
            up_to: Some(b.clone()),
        });
        lower = Some(b);
    }
    // The last window is open: rows committed later still belong to a window.
    out.push(Window {
        after: lower,
        up_to: None,
    });
    Ok(out)
}

/// Reads `req` from `schema.table` (see the module's doc).
pub async fn read(
    client: Client,
    schema: &str,
    table: &str,
    req: ReadRequest,
) -> Result<BatchStream, ConnectorError> {
    let columns = table_columns(&client, schema, table).await?;
    let key = primary_key(&client, schema, table).await?;
    let column = |name: &str| columns.iter().find(|c| c.name == name);
    let mut selection = RowSelection::default();
    let mut order: Vec<String> = Vec::new();
    let cursor = match &req.cursor_field {
        Some(field) => {
            let c = column(field).ok_or_else(|| {
                ConnectorError::Config(format!("{schema}.{table} has no cursor field {field:?}"))
            })?;
            let mut conditions = Vec::new();
            if let Some(after) = &req.after {
                conditions.push(after_condition(&columns, c, &key, after));
            }
            if let Some(up_to) = &req.up_to {
                conditions.push(format!("{} <= {}", quote_ident(field), typed(c, up_to)));
            }
            if !conditions.is_empty() {
                selection.where_clause = Some(conditions.join(" AND "));
            }
            order.push(quote_ident(field));
            Some(field.clone())
        }
        None => None,
    };
    order.extend(key.iter().map(|k| quote_ident(k)));
    if !order.is_empty() {
        selection.order_by = Some(order.join(", "));
    }
    let started = copy_out(
        &client,
        schema,
        table,
        &columns,
        &selection,
        req.batch_size.max(1),
    )
    .await?;
    tracing::debug!(
        schema,
        table,
        columns = started.schema.fields().len(),
        carried_as_text = ?started.carried_as_text,
        where_clause = ?selection.where_clause,
        "reading with binary COPY"
    );
    let batches = started.batches.map(move |b| {
        let data = b?;
        let position = match &cursor {
            Some(field) => last_position(&data, field, &key)?,
            None => None,
        };
        let bytes = data.get_array_memory_size() as u64;
        Ok(Batch {
            data,
            cursor: position,
            bytes,
        })
    });
    // The client lives until the read ends: its connection carries the COPY.
    let stream = async_stream::stream! {
        let _client = client;
        let mut batches = std::pin::pin!(batches);
        while let Some(b) = batches.next().await {
            yield b;
        }
    };
    Ok(Box::pin(stream))
}

/// The resume position after `data`'s last row: its cursor value's text,
/// or with a key, the JSON array of the cursor's and the key's texts.
fn last_position(
    data: &arrow_array::RecordBatch,
    field: &str,
    key: &[String],
) -> Result<Option<String>, ConnectorError> {
    let Some(last) = data.num_rows().checked_sub(1) else {
        return Ok(None);
    };
    let text = |name: &str| cursor_text(data, name, last);
    let cursor = text(field)?;
    if key.is_empty() {
        return Ok(Some(cursor));
    }
    let mut values = vec![cursor];
    for k in key {
        values.push(text(k)?);
    }
    Ok(Some(serde_json::to_string(&values).unwrap_or_default()))
}

//! A `postgres` connection's entities read as Arrow batches: an entity is a
//! table (`schema.table`, or `table` in the connection's schema), read with
//! binary COPY in the order of its cursor field and then its primary key.
//!
//! A batch's cursor is the cursor value of its last row, and when the table
//! has a primary key that row's key too (a JSON array of texts): rows that
//! share a cursor value across a batch or run boundary are then resumed
//! exactly, `(cursor, key) > (last cursor, last key)`, neither lost nor
//! read twice.
//!
//! With a lookback (see `ReadRequest::lookback`) the read is two COPYs on
//! one connection: first the trailing window, `cursor >= committed cursor
//! less the lookback` up to the committed position, then the rows after it.
//! The bound is typed SQL (`cursor >= '…'::timestamptz - '900
//! seconds'::interval`), so an index on the cursor still serves it.

use std::sync::Arc;

use arrow_schema::{Field, Schema, SchemaRef};
use futures::StreamExt;
use tokio_postgres::{Client, types::Type};

use super::{
    connect::{ConnectOptions, PgClient, connect},
    copy_out::{RowSelection, copy_out, plan},
    discover::table_columns,
    error::PgReadError,
    quote::{quote_ident, quote_literal},
    types::PgColumn,
};
use crate::{
    batch::{Batch, CARRIED_AS_TEXT},
    connectors::{BatchStream, ConnectorError, ReadRequest, Window, cursor_text},
    domain::lookback::Lookback,
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

pub async fn open(options: &ConnectOptions) -> Result<PgClient, ConnectorError> {
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

/// The values of a resume position: the cursor's and the key's texts, or
/// a bare cursor value alone.
fn position_values(key: &[String], after: &str) -> Vec<String> {
    serde_json::from_str(after)
        .ok()
        .filter(|v: &Vec<String>| v.len() == key.len() + 1 && !key.is_empty())
        .unwrap_or_else(|| vec![after.to_string()])
}

/// Rows after a resume position: `(cursor, key) > (…)` for a position
/// with the key, `cursor > …` for a bare cursor value.
fn after_condition(columns: &[PgColumn], c: &PgColumn, key: &[String], after: &str) -> String {
    position_condition(columns, c, key, after, ">")
}

/// Rows compared by `op` with a resume position (see `after_condition`).
fn position_condition(
    columns: &[PgColumn],
    c: &PgColumn,
    key: &[String],
    after: &str,
    op: &str,
) -> String {
    let values = position_values(key, after);
    if values.len() == 1 {
        return format!("{} {op} {}", quote_ident(&c.name), typed(c, after));
    }
    let mut cols = vec![c];
    cols.extend(
        key.iter()
            .filter_map(|k| columns.iter().find(|x| &x.name == k)),
    );
    let names: Vec<String> = cols.iter().map(|c| quote_ident(&c.name)).collect();
    let lits: Vec<String> = cols.iter().zip(&values).map(|(c, v)| typed(c, v)).collect();
    format!("({}) {op} ({})", names.join(", "), lits.join(", "))
}

/// The lower bound of a lookback below cursor value `cursor`: a duration
/// for a date or timestamp cursor, a number of units for an integer (or
/// numeric) one; any other pairing is a configuration error naming the
/// column.
fn lookback_condition(
    c: &PgColumn,
    cursor: &str,
    lookback: Lookback,
    at: &str,
) -> Result<String, ConnectorError> {
    let name = quote_ident(&c.name);
    let refused = || {
        ConnectorError::Config(format!(
            "the lookback ({lookback}) cannot apply to cursor field {at}.{} of type {}: \
             a duration needs a date or timestamp cursor, a number of cursor units an \
             integer one",
            c.name, c.type_name
        ))
    };
    let ty = &c.ty;
    match lookback {
        Lookback::Duration { seconds }
            if [Type::DATE, Type::TIMESTAMP, Type::TIMESTAMPTZ].contains(ty) =>
        {
            // Whole seconds, never calendar days: a day is 86400 s across
            // a daylight saving change too, as for a SQLite source.
            Ok(format!(
                "{name} >= ({} - '{seconds} seconds'::interval)",
                typed(c, cursor)
            ))
        }
        Lookback::Units(n) if [Type::INT2, Type::INT4, Type::INT8].contains(ty) => {
            let value: i128 = cursor.parse().map_err(|_| refused())?;
            let least = match *ty {
                Type::INT2 => i128::from(i16::MIN),
                Type::INT4 => i128::from(i32::MIN),
                _ => i128::from(i64::MIN),
            };
            // Computed here so that the bound never overflows the type.
            let lower = (value - i128::from(n)).max(least);
            Ok(format!("{name} >= {}", typed(c, &lower.to_string())))
        }
        Lookback::Units(n) if *ty == Type::NUMERIC => {
            Ok(format!("{name} >= ({} - {n})", typed(c, cursor)))
        }
        _ => Err(refused()),
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
    client: PgClient,
    schema: &str,
    table: &str,
    req: ReadRequest,
) -> Result<BatchStream, ConnectorError> {
    let columns = table_columns(&client, schema, table).await?;
    let key = primary_key(&client, schema, table).await?;
    let column = |name: &str| columns.iter().find(|c| c.name == name);
    let mut order: Vec<String> = Vec::new();
    // Each part is one COPY, read in turn: its conditions, and the cursor
    // its batches carry when that is not their last row's (a lookback's
    // window keeps the committed position).
    let mut parts: Vec<(Vec<String>, Option<String>)> = Vec::new();
    let cursor = match &req.cursor_field {
        Some(field) => {
            let c = column(field).ok_or_else(|| {
                ConnectorError::Config(format!("{schema}.{table} has no cursor field {field:?}"))
            })?;
            let up_to = req
                .up_to
                .as_ref()
                .map(|u| format!("{} <= {}", quote_ident(field), typed(c, u)));
            match (&req.after, req.lookback) {
                (Some(after), Some(lookback)) => {
                    let committed = &position_values(&key, after)[0];
                    let at = format!("{schema}.{table}");
                    let window = vec![
                        lookback_condition(c, committed, lookback, &at)?,
                        position_condition(&columns, c, &key, after, "<="),
                    ];
                    parts.push((window, Some(after.clone())));
                    let rest = vec![after_condition(&columns, c, &key, after)];
                    parts.push((rest, None));
                }
                (Some(after), None) => {
                    parts.push((vec![after_condition(&columns, c, &key, after)], None));
                }
                (None, _) => parts.push((Vec::new(), None)),
            }
            for (conditions, _) in &mut parts {
                conditions.extend(up_to.clone());
            }
            order.push(quote_ident(field));
            Some(field.clone())
        }
        None => {
            parts.push((Vec::new(), None));
            None
        }
    };
    order.extend(key.iter().map(|k| quote_ident(k)));
    let order_by = (!order.is_empty()).then(|| order.join(", "));
    let selections: Vec<(RowSelection, Option<String>)> = parts
        .into_iter()
        .map(|(conditions, held)| {
            let selection = RowSelection {
                where_clause: (!conditions.is_empty()).then(|| conditions.join(" AND ")),
                order_by: order_by.clone(),
            };
            (selection, held)
        })
        .collect();
    let batch_size = req.batch_size.max(1);
    let (schema, table) = (schema.to_string(), table.to_string());
    // The first COPY starts here, so that a refused statement fails the
    // read itself; the next starts once the one before has ended, on the
    // same connection, which the stream owns until the read ends.
    let mut selections = selections.into_iter();
    let Some((first, first_held)) = selections.next() else {
        return Err(ConnectorError::Failed("a read with nothing to read".into()));
    };
    let started = start(&client, &schema, &table, &columns, &first, batch_size).await?;
    let stream = async_stream::stream! {
        let mut current = Some((started, first_held));
        while let Some((batches, held)) = current.take() {
            let mut batches = std::pin::pin!(batches);
            while let Some(b) = batches.next().await {
                let batch = b.map_err(ConnectorError::from).and_then(|data| {
                    let position = match (&held, &cursor) {
                        (Some(held), _) => Some(held.clone()),
                        (None, Some(field)) => last_position(&data, field, &key)?,
                        (None, None) => None,
                    };
                    let bytes = data.get_array_memory_size() as u64;
                    Ok(Batch { data, cursor: position, bytes })
                });
                let failed = batch.is_err();
                yield batch;
                if failed {
                    return;
                }
            }
            if let Some((selection, held)) = selections.next() {
                match start(&client, &schema, &table, &columns, &selection, batch_size).await {
                    Ok(next) => current = Some((next, held)),
                    Err(e) => yield Err(e),
                }
            }
        }
    };
    Ok(Box::pin(stream))
}

/// Starts one COPY of `selection`: its record batches.
async fn start(
    client: &Client,
    schema: &str,
    table: &str,
    columns: &[PgColumn],
    selection: &RowSelection,
    batch_size: usize,
) -> Result<super::copy_out::ArrowBatchStream, ConnectorError> {
    let started = copy_out(client, schema, table, columns, selection, batch_size).await?;
    tracing::debug!(
        schema,
        table,
        columns = started.schema.fields().len(),
        carried_as_text = ?started.carried_as_text,
        where_clause = ?selection.where_clause,
        "reading with binary COPY"
    );
    Ok(started.batches)
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

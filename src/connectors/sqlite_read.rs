//! A `sqlite` connection's tables read as Arrow batches. SQLite types by
//! affinity (its rules, in order: INT → INTEGER; CHAR, CLOB, TEXT → TEXT;
//! BLOB → BLOB; REAL, FLOA, DOUB → REAL; else NUMERIC), so the declared type
//! picks the Arrow type: INTEGER Int64, TEXT Utf8, REAL Float64, BLOB
//! Binary. A NUMERIC or undeclared column holds whatever each row stored,
//! so it is carried as SQLite's text of the value (and named in the run
//! log); a value another column's type cannot hold fails the read naming
//! the column, never silently converted.
//!
//! Reads are ordered by the cursor field and then the primary key (the
//! rowid when there is none), and resume as `postgres::read` does.
//!
//! A lookback (see `ReadRequest::lookback`) compares as the column stores
//! its cursor: an integer less the units for an INTEGER (or NUMERIC)
//! column holding integers; for ISO-8601 text, the text of the same shape
//! (separator, precision, zone suffix) the duration earlier, which compares
//! as text correctly against values of that shape (see
//! `domain::lookback::earlier_iso_text`). The window is read first, up to
//! the committed position, then the rows after it.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, RecordBatch,
    builder::{BinaryBuilder, Float64Builder, Int64Builder, StringBuilder},
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use futures::StreamExt;
use sea_orm::sqlx::{self, Row, SqliteConnection, TypeInfo, ValueRef, sqlite::SqliteRow};

use crate::{
    batch::{Batch, CARRIED_AS_TEXT, SOURCE_TYPE},
    connectors::{BatchStream, ConnectorError, ReadRequest, cursor_text},
    domain::lookback::{Lookback, earlier_iso_text},
};

/// A column as `pragma_table_info` describes it.
#[derive(Debug, Clone)]
pub struct SqliteColumn {
    pub name: String,
    pub declared: String,
    pub not_null: bool,
    /// 1-based position in the primary key, 0 when not part of it.
    pub pk: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

fn affinity(declared: &str) -> Affinity {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        Affinity::Integer
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        Affinity::Text
    } else if t.contains("BLOB") {
        Affinity::Blob
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        Affinity::Real
    } else {
        // Undeclared columns too: they hold whatever each row stored.
        Affinity::Numeric
    }
}

impl SqliteColumn {
    /// An INTEGER PRIMARY KEY is the rowid: never NULL, whatever `notnull` says.
    pub fn nullable(&self, columns: &[SqliteColumn]) -> bool {
        let rowid_alias = self.pk == 1
            && self.declared.eq_ignore_ascii_case("INTEGER")
            && columns.iter().filter(|c| c.pk > 0).count() == 1;
        !self.not_null && !rowid_alias
    }
}

pub async fn columns(
    conn: &mut SqliteConnection,
    table: &str,
) -> Result<Vec<SqliteColumn>, ConnectorError> {
    let rows =
        sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid")
            .bind(table)
            .fetch_all(conn)
            .await
            .map_err(|e| {
                ConnectorError::Failed(format!(
                    "cannot read the columns of {table}: {}",
                    super::driver_errors::describe(&e)
                ))
            })?;
    if rows.is_empty() {
        return Err(ConnectorError::Config(format!(
            "the database has no table {table:?}"
        )));
    }
    Ok(rows
        .iter()
        .map(|r| SqliteColumn {
            name: r.try_get(0).unwrap_or_default(),
            declared: r.try_get(1).unwrap_or_default(),
            not_null: r.try_get::<i64, _>(2).unwrap_or(0) != 0,
            pk: r.try_get(3).unwrap_or(0),
        })
        .collect())
}

/// The Arrow schema of a table's batches.
pub fn schema(columns: &[SqliteColumn]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| {
            let (t, carried) = match affinity(&c.declared) {
                Affinity::Integer => (DataType::Int64, false),
                Affinity::Text => (DataType::Utf8, false),
                Affinity::Blob => (DataType::Binary, false),
                Affinity::Real => (DataType::Float64, false),
                Affinity::Numeric => (DataType::Utf8, true),
            };
            let mut metadata = std::collections::HashMap::from([(
                SOURCE_TYPE.to_string(),
                if c.declared.is_empty() {
                    "(none)".to_string()
                } else {
                    c.declared.clone()
                },
            )]);
            if carried {
                metadata.insert(CARRIED_AS_TEXT.to_string(), "true".to_string());
            }
            Field::new(&c.name, t, c.nullable(columns)).with_metadata(metadata)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Reads `req` from `table` (see the module's doc).
pub async fn read(
    mut conn: SqliteConnection,
    table: &str,
    req: ReadRequest,
) -> Result<BatchStream, ConnectorError> {
    let cols = columns(&mut conn, table).await?;
    let schema = schema(&cols);
    let mut key: Vec<String> = cols
        .iter()
        .filter(|c| c.pk > 0)
        .map(|c| c.name.clone())
        .collect();
    key.sort_by_key(|k| cols.iter().find(|c| &c.name == k).map_or(0, |c| c.pk));
    // Without a declared key, the rowid orders (a WITHOUT ROWID table always has one).
    let order_key: Vec<String> = if key.is_empty() {
        vec!["rowid".into()]
    } else {
        key.iter().map(|k| quote(k)).collect()
    };
    // NUMERIC columns are read raw and printed here (see `numeric_text`):
    // SQLite's CAST prints a REAL with 15 digits only.
    let select: Vec<String> = cols.iter().map(|c| quote(&c.name)).collect();
    let mut sql = format!("SELECT {}", select.join(", "));
    if key.is_empty() {
        sql.push_str(", rowid");
    }
    sql.push_str(&format!(" FROM {}", quote(table)));
    // Each part is one query, read in turn: its conditions and their
    // binds, and the cursor its batches carry when that is not their last
    // row's (a lookback's window keeps the committed position).
    let mut parts: Vec<Part> = Vec::new();
    let cursor_field = req.cursor_field.clone();
    if let Some(field) = &cursor_field {
        let Some(column) = cols.iter().find(|c| &c.name == field) else {
            return Err(ConnectorError::Config(format!(
                "{table} has no cursor field {field:?}"
            )));
        };
        let position = |after: &str, op: &str, part: &mut Part| {
            let compound: Option<Vec<String>> = serde_json::from_str(after)
                .ok()
                .filter(|v: &Vec<String>| v.len() == order_key.len() + 1);
            match compound {
                Some(values) => {
                    let mut names = vec![quote(field)];
                    names.extend(order_key.iter().cloned());
                    let marks = vec!["?"; names.len()].join(", ");
                    part.conditions
                        .push(format!("({}) {op} ({marks})", names.join(", ")));
                    part.binds.extend(values);
                }
                None => {
                    part.conditions.push(format!("{} {op} ?", quote(field)));
                    part.binds.push(after.to_string());
                }
            }
        };
        match (&req.after, req.lookback) {
            (Some(after), Some(lookback)) => {
                let committed = serde_json::from_str::<Vec<String>>(after)
                    .ok()
                    .filter(|v| v.len() == order_key.len() + 1)
                    .map_or_else(|| after.clone(), |v| v[0].clone());
                let mut window = Part {
                    held: Some(after.clone()),
                    ..Part::default()
                };
                window.conditions.push(format!("{} >= ?", quote(field)));
                window
                    .binds
                    .push(lookback_bound(column, &committed, lookback, table)?);
                position(after, "<=", &mut window);
                parts.push(window);
                let mut rest = Part::default();
                position(after, ">", &mut rest);
                parts.push(rest);
            }
            (Some(after), None) => {
                let mut part = Part::default();
                position(after, ">", &mut part);
                parts.push(part);
            }
            (None, _) => parts.push(Part::default()),
        }
        if let Some(up_to) = &req.up_to {
            for part in &mut parts {
                part.conditions.push(format!("{} <= ?", quote(field)));
                part.binds.push(up_to.clone());
            }
        }
    } else {
        parts.push(Part::default());
    }
    let mut order = Vec::new();
    if let Some(field) = &cursor_field {
        order.push(quote(field));
    }
    order.extend(order_key.iter().cloned());
    let order_by = format!(" ORDER BY {}", order.join(", "));
    for part in &mut parts {
        part.sql = sql.clone();
        if !part.conditions.is_empty() {
            part.sql
                .push_str(&format!(" WHERE {}", part.conditions.join(" AND ")));
        }
        part.sql.push_str(&order_by);
    }
    let batch_size = req.batch_size.max(1);
    let table = table.to_string();
    let stream = async_stream::stream! {
        for part in parts {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(part.sql));
            for b in &part.binds {
                // Cursor values compare as SQLite compares them: an integer
                // column's cursor binds as an integer.
                q = match b.parse::<i64>() {
                    Ok(n) if b == &n.to_string() => q.bind(n),
                    _ => q.bind(b.clone()),
                };
            }
            let mut rows = q.fetch(&mut conn);
            let mut pending: Vec<SqliteRow> = Vec::with_capacity(batch_size);
            loop {
                let next = rows.next().await;
                let done = next.is_none();
                match next {
                    Some(Ok(r)) => pending.push(r),
                    Some(Err(e)) => {
                        yield Err(ConnectorError::Failed(format!("reading {table} failed: {}", super::driver_errors::describe(&e))));
                        return;
                    }
                    None => {}
                }
                if pending.len() >= batch_size || (done && !pending.is_empty()) {
                    let rows_now = std::mem::take(&mut pending);
                    match to_batch(&schema, &cols, &rows_now, &table) {
                        Ok(data) => {
                            let cursor = match (&part.held, &cursor_field) {
                                (Some(held), _) => Ok(Some(held.clone())),
                                (None, Some(field)) => last_position(&data, &rows_now, field, &key, cols.len()),
                                (None, None) => Ok(None),
                            };
                            match cursor {
                                Ok(cursor) => {
                                    let bytes = data.get_array_memory_size() as u64;
                                    yield Ok(Batch { data, cursor, bytes });
                                }
                                Err(e) => {
                                    yield Err(e);
                                    return;
                                }
                            }
                        }
                        Err(e) => {
                            yield Err(e);
                            return;
                        }
                    }
                }
                if done {
                    break;
                }
            }
        }
    };
    Ok(Box::pin(stream))
}

/// One query of a read (see `read`).
#[derive(Default)]
struct Part {
    sql: String,
    conditions: Vec<String>,
    binds: Vec<String>,
    held: Option<String>,
}

/// The value a lookback's window starts at, below committed cursor value
/// `committed`, as `column` stores its values; a configuration error naming
/// the column when they allow no such arithmetic.
fn lookback_bound(
    column: &SqliteColumn,
    committed: &str,
    lookback: Lookback,
    table: &str,
) -> Result<String, ConnectorError> {
    let kind = affinity(&column.declared);
    let bound = match lookback {
        Lookback::Units(n) if matches!(kind, Affinity::Integer | Affinity::Numeric) => {
            committed.parse::<i64>().ok().map(|v| {
                (i128::from(v) - i128::from(n))
                    .max(i128::from(i64::MIN))
                    .to_string()
            })
        }
        Lookback::Duration { seconds } if matches!(kind, Affinity::Text | Affinity::Numeric) => {
            earlier_iso_text(committed, seconds)
        }
        _ => None,
    };
    bound.ok_or_else(|| {
        ConnectorError::Config(format!(
            "the lookback ({lookback}) cannot apply to cursor field {table}.{} (declared {}, \
             holding {committed:?}): a duration needs ISO-8601 date or timestamp text, a \
             number of cursor units an integer",
            column.name,
            if column.declared.is_empty() {
                "without a type"
            } else {
                &column.declared
            }
        ))
    })
}

/// The rows as a batch of `schema`; a value its column's type cannot hold
/// fails naming the column.
fn to_batch(
    schema: &SchemaRef,
    cols: &[SqliteColumn],
    rows: &[SqliteRow],
    table: &str,
) -> Result<RecordBatch, ConnectorError> {
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(cols.len());
    for (i, field) in schema.fields().iter().enumerate() {
        let bad = |r: usize, class: &str| {
            ConnectorError::Config(format!(
                "{table}.{} holds a {class} value (row {r} of the batch) that its declared type {} cannot hold",
                field.name(),
                cols[i].declared
            ))
        };
        let class = |row: &SqliteRow| -> String {
            row.try_get_raw(i)
                .map(|v| {
                    if v.is_null() {
                        "NULL".to_string()
                    } else {
                        v.type_info().name().to_string()
                    }
                })
                .unwrap_or_default()
        };
        let array: ArrayRef = match field.data_type() {
            DataType::Int64 => {
                let mut b = Int64Builder::with_capacity(rows.len());
                for (r, row) in rows.iter().enumerate() {
                    match class(row).as_str() {
                        "NULL" => b.append_null(),
                        "INTEGER" => {
                            b.append_value(row.try_get::<i64, _>(i).map_err(|_| bad(r, "INTEGER"))?)
                        }
                        other => return Err(bad(r, other)),
                    }
                }
                Arc::new(b.finish())
            }
            DataType::Float64 => {
                let mut b = Float64Builder::with_capacity(rows.len());
                for (r, row) in rows.iter().enumerate() {
                    match class(row).as_str() {
                        "NULL" => b.append_null(),
                        "REAL" | "INTEGER" => {
                            b.append_value(row.try_get::<f64, _>(i).map_err(|_| bad(r, "REAL"))?)
                        }
                        other => return Err(bad(r, other)),
                    }
                }
                Arc::new(b.finish())
            }
            DataType::Binary => {
                let mut b = BinaryBuilder::new();
                for (r, row) in rows.iter().enumerate() {
                    match class(row).as_str() {
                        "NULL" => b.append_null(),
                        "BLOB" => b.append_value(
                            row.try_get::<Vec<u8>, _>(i).map_err(|_| bad(r, "BLOB"))?,
                        ),
                        other => return Err(bad(r, other)),
                    }
                }
                Arc::new(b.finish())
            }
            _ => {
                let numeric = affinity(&cols[i].declared) == Affinity::Numeric;
                let mut b = StringBuilder::new();
                for (r, row) in rows.iter().enumerate() {
                    match (class(row).as_str(), numeric) {
                        ("NULL", _) => b.append_null(),
                        ("TEXT", _) => {
                            b.append_value(row.try_get::<String, _>(i).map_err(|_| bad(r, "TEXT"))?)
                        }
                        (class @ ("INTEGER" | "REAL" | "BLOB"), true) => b.append_value(
                            numeric_text(row, i, class).ok_or_else(|| bad(r, class))?,
                        ),
                        (other, _) => return Err(bad(r, other)),
                    }
                }
                Arc::new(b.finish())
            }
        };
        arrays.push(array);
    }
    RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| ConnectorError::Failed(format!("reading {table}: {e}")))
}

/// The text of a NUMERIC (or undeclared) column's INTEGER, REAL or BLOB
/// value: integers in full, REALs shortest-exact (every digit that tells
/// the stored double apart, as SQLite's 15-digit CAST does not), BLOBs as
/// the UTF-8 text they hold, as SQLite's CAST reads them.
fn numeric_text(row: &SqliteRow, i: usize, class: &str) -> Option<String> {
    match class {
        "INTEGER" => row.try_get::<i64, _>(i).ok().map(|n| n.to_string()),
        "REAL" => row.try_get::<f64, _>(i).ok().map(|f| {
            if f.is_finite() {
                format!("{f:?}")
            } else {
                crate::batch::text::non_finite(f).to_string()
            }
        }),
        _ => row
            .try_get::<Vec<u8>, _>(i)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
    }
}

/// As `postgres::read`: the last row's cursor text, with its key (or rowid).
fn last_position(
    data: &RecordBatch,
    rows: &[SqliteRow],
    field: &str,
    key: &[String],
    width: usize,
) -> Result<Option<String>, ConnectorError> {
    let Some(last) = data.num_rows().checked_sub(1) else {
        return Ok(None);
    };
    let text = |name: &str| cursor_text(data, name, last);
    let mut values = vec![text(field)?];
    if key.is_empty() {
        let rowid: i64 = rows
            .last()
            .and_then(|r| r.try_get(width).ok())
            .ok_or_else(|| ConnectorError::Failed("the read lacks the rowid".into()))?;
        values.push(rowid.to_string());
    } else {
        for k in key {
            values.push(text(k)?);
        }
    }
    Ok(Some(serde_json::to_string(&values).unwrap_or_default()))
}

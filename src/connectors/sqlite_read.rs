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
    let select: Vec<String> = cols
        .iter()
        .map(|c| match affinity(&c.declared) {
            Affinity::Numeric => format!("CAST({0} AS TEXT) AS {0}", quote(&c.name)),
            _ => quote(&c.name),
        })
        .collect();
    let mut sql = format!("SELECT {}", select.join(", "));
    if key.is_empty() {
        sql.push_str(", rowid");
    }
    sql.push_str(&format!(" FROM {}", quote(table)));
    let mut binds: Vec<String> = Vec::new();
    let mut conditions = Vec::new();
    let cursor_field = req.cursor_field.clone();
    if let Some(field) = &cursor_field {
        if !cols.iter().any(|c| &c.name == field) {
            return Err(ConnectorError::Config(format!(
                "{table} has no cursor field {field:?}"
            )));
        }
        if let Some(after) = &req.after {
            let compound: Option<Vec<String>> = serde_json::from_str(after)
                .ok()
                .filter(|v: &Vec<String>| v.len() == order_key.len() + 1);
            match compound {
                Some(values) => {
                    let mut names = vec![quote(field)];
                    names.extend(order_key.iter().cloned());
                    let marks = vec!["?"; names.len()].join(", ");
                    conditions.push(format!("({}) > ({marks})", names.join(", ")));
                    binds.extend(values);
                }
                None => {
                    conditions.push(format!("{} > ?", quote(field)));
                    binds.push(after.clone());
                }
            }
        }
        if let Some(up_to) = &req.up_to {
            conditions.push(format!("{} <= ?", quote(field)));
            binds.push(up_to.clone());
        }
    }
    if !conditions.is_empty() {
        sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    let mut order = Vec::new();
    if let Some(field) = &cursor_field {
        order.push(quote(field));
    }
    order.extend(order_key.iter().cloned());
    sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    let batch_size = req.batch_size.max(1);
    let table = table.to_string();
    let stream = async_stream::stream! {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
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
                        let cursor = match &cursor_field {
                            Some(field) => last_position(&data, &rows_now, field, &key, cols.len()),
                            None => Ok(None),
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
    };
    Ok(Box::pin(stream))
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
                let mut b = StringBuilder::new();
                for (r, row) in rows.iter().enumerate() {
                    match class(row).as_str() {
                        "NULL" => b.append_null(),
                        "TEXT" => {
                            b.append_value(row.try_get::<String, _>(i).map_err(|_| bad(r, "TEXT"))?)
                        }
                        other => return Err(bad(r, other)),
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

//! JSON records into Arrow: a schema inferred from the records and widened
//! as later pages bring new fields or wider values, and the batch of a
//! page in that schema. Scalars keep their JSON type (whole numbers Int64,
//! other numbers Float64, booleans, strings); objects and arrays are JSON
//! text columns; a field whose values disagree becomes plain text.
//! A record that is not an object is one column, `value`.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, RecordBatch, RecordBatchOptions,
    builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder},
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde_json::Value;

use crate::batch::{self, JSON};

/// Column of a record that is not an object.
pub const SCALAR_COLUMN: &str = "value";

/// What a column holds, from narrowest to the text everything fits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Float,
    Json,
    Text,
}

impl Kind {
    /// None for null: a null says nothing about a column's type.
    fn of(v: &Value) -> Option<Self> {
        Some(match v {
            Value::Null => return None,
            Value::Bool(_) => Kind::Bool,
            // A whole number beyond i64 (a large u64) stays exact as text.
            Value::Number(n) if n.is_i64() => Kind::Int,
            Value::Number(n) if n.is_u64() => Kind::Text,
            Value::Number(_) => Kind::Float,
            Value::String(_) => Kind::Text,
            Value::Array(_) | Value::Object(_) => Kind::Json,
        })
    }

    fn of_field(f: &Field) -> Self {
        match f.data_type() {
            DataType::Boolean => Kind::Bool,
            DataType::Int64 => Kind::Int,
            DataType::Float64 => Kind::Float,
            DataType::Utf8 if batch::extension(f) == Some(JSON) => Kind::Json,
            _ => Kind::Text,
        }
    }

    /// The narrowest kind both fit in: Int and Float make Float, any
    /// other disagreement Text.
    fn join(self, other: Self) -> Self {
        match (self, other) {
            (a, b) if a == b => a,
            (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
            _ => Kind::Text,
        }
    }

    fn field(self, name: &str) -> Field {
        let f = |t| Field::new(name, t, true);
        match self {
            Kind::Bool => f(DataType::Boolean),
            Kind::Int => f(DataType::Int64),
            Kind::Float => f(DataType::Float64),
            Kind::Json => batch::with_extension(f(DataType::Utf8), JSON),
            Kind::Text => f(DataType::Utf8),
        }
    }
}

/// The schema of `records` alone (see `widen`).
pub fn infer(records: &[Value]) -> Schema {
    widen(&Schema::empty(), records)
}

/// `old` with what `records` add: new fields (after the old ones, in
/// order of first appearance; within a record in key order, as
/// serde_json's maps iterate) and old fields widened where a value
/// does not fit (Int64 to Float64, any other disagreement to Utf8). Never
/// narrows or drops a field; a field seen only as null is left out until
/// a value gives it a type.
pub fn widen(old: &Schema, records: &[Value]) -> Schema {
    let mut kinds: Vec<(String, Option<Kind>)> = old
        .fields()
        .iter()
        .map(|f| (f.name().clone(), None))
        .collect();
    let mut index: std::collections::HashMap<String, usize> = kinds
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.clone(), i))
        .collect();
    for record in records {
        for (name, value) in fields(record) {
            let Some(kind) = Kind::of(value) else {
                continue;
            };
            let i = *index.entry(name.to_string()).or_insert_with(|| {
                kinds.push((name.to_string(), None));
                kinds.len() - 1
            });
            let seen = &mut kinds[i].1;
            *seen = Some(seen.map_or(kind, |k| k.join(kind)));
        }
    }
    let mut out: Vec<Field> = Vec::with_capacity(kinds.len());
    for (i, (name, seen)) in kinds.iter().enumerate() {
        match (old.fields().get(i), seen) {
            (Some(f), None) => out.push(f.as_ref().clone()),
            (Some(f), Some(k)) => {
                let was = Kind::of_field(f);
                let now = was.join(*k);
                out.push(if now == was && is_ours(f) {
                    f.as_ref().clone()
                } else {
                    rebuilt(now, f)
                });
            }
            (None, Some(k)) => out.push(k.field(name)),
            (None, None) => {}
        }
    }
    Schema::new_with_metadata(out, old.metadata().clone())
}

/// The batch of `records` in `schema` (one widened to fit them): a field
/// a record lacks is null; a value that fits no column is an error.
pub fn to_batch(schema: SchemaRef, records: &[Value]) -> Result<RecordBatch, String> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let name = field.name().as_str();
        let cells = records
            .iter()
            .map(|r| get(r, name).filter(|v| !v.is_null()));
        let bad = |v: &Value| {
            format!(
                "a {} value does not fit column {name} ({})",
                json_type(v),
                field.data_type()
            )
        };
        let column: ArrayRef = match Kind::of_field(field) {
            Kind::Bool => {
                let mut b = BooleanBuilder::with_capacity(records.len());
                for c in cells {
                    b.append_option(c.map(|v| v.as_bool().ok_or_else(|| bad(v))).transpose()?);
                }
                Arc::new(b.finish())
            }
            Kind::Int => {
                let mut b = Int64Builder::with_capacity(records.len());
                for c in cells {
                    b.append_option(c.map(|v| v.as_i64().ok_or_else(|| bad(v))).transpose()?);
                }
                Arc::new(b.finish())
            }
            Kind::Float => {
                let mut b = Float64Builder::with_capacity(records.len());
                for c in cells {
                    let n = c.map(|v| v.as_number().and_then(|n| n.as_f64()).ok_or_else(|| bad(v)));
                    b.append_option(n.transpose()?);
                }
                Arc::new(b.finish())
            }
            Kind::Json | Kind::Text if field.data_type() == &DataType::Utf8 => {
                let json = Kind::of_field(field) == Kind::Json;
                let mut b = StringBuilder::with_capacity(records.len(), records.len() * 16);
                for c in cells {
                    match c {
                        None => b.append_null(),
                        // JSON columns hold JSON documents, strings included.
                        Some(Value::String(s)) if !json => b.append_value(s),
                        Some(v) => b.append_value(v.to_string()),
                    }
                }
                Arc::new(b.finish())
            }
            _ => {
                return Err(format!(
                    "column {name} ({}) is not one records make",
                    field.data_type()
                ));
            }
        };
        columns.push(column);
    }
    let options = RecordBatchOptions::new().with_row_count(Some(records.len()));
    RecordBatch::try_new_with_options(schema, columns, &options).map_err(|e| e.to_string())
}

/// The top-level fields of a record (a non-object is one `value` field).
fn fields(record: &Value) -> Box<dyn Iterator<Item = (&str, &Value)> + '_> {
    match record {
        Value::Object(m) => Box::new(m.iter().map(|(k, v)| (k.as_str(), v))),
        v => Box::new(std::iter::once((SCALAR_COLUMN, v))),
    }
}

fn get<'a>(record: &'a Value, name: &str) -> Option<&'a Value> {
    match record {
        Value::Object(m) => m.get(name),
        v if name == SCALAR_COLUMN => Some(v),
        _ => None,
    }
}

/// Whether `f` is exactly the field its kind makes (its type and
/// extension), so widening may keep it as it is.
fn is_ours(f: &Field) -> bool {
    let kind = Kind::of_field(f);
    f.data_type() == kind.field(f.name()).data_type()
        && (batch::extension(f) == Some(JSON)) == (kind == Kind::Json)
}

/// `f` as a field of `kind`: its other metadata kept, its extension the
/// kind's (a widened field changes type).
fn rebuilt(kind: Kind, f: &Field) -> Field {
    let new = kind.field(f.name());
    let mut metadata = f.metadata().clone();
    metadata.remove(batch::EXTENSION);
    metadata.extend(new.metadata().clone());
    new.with_metadata(metadata)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;

//! Arrow values as JSON and back: rows of JSON values into a batch of a
//! given schema (records of JSON sources, tests), and a batch's cells as
//! JSON values (comparisons, logs). Values JSON has no type for travel as
//! the canonical text of `text`.

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, RecordBatch,
    builder::{
        BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder,
        Int16Builder, Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
    },
    cast::AsArray,
    types::*,
};
use arrow_schema::{DataType, IntervalUnit, SchemaRef, TimeUnit};
use serde_json::Value;

use super::{UUID, extension, text};

/// The value of row `row` of `array` as JSON.
pub fn value(array: &dyn Array, row: usize) -> Result<Value, String> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    let s = |f: &dyn Fn(&mut String)| {
        let mut out = String::new();
        f(&mut out);
        Value::String(out)
    };
    Ok(match array.data_type() {
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).into(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).into(),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(row))),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Decimal128(_, scale) => {
            let v = array.as_primitive::<Decimal128Type>().value(row);
            s(&|o| text::decimal(v, *scale, o))
        }
        DataType::Utf8 => array.as_string::<i32>().value(row).into(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).into(),
        DataType::Utf8View => array.as_string_view().value(row).into(),
        DataType::Binary => hex_text(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => hex_text(array.as_binary::<i64>().value(row)),
        DataType::FixedSizeBinary(16) => {
            let b = array.as_fixed_size_binary().value(row);
            s(&|o| text::uuid(b, o))
        }
        DataType::FixedSizeBinary(_) => hex_text(array.as_fixed_size_binary().value(row)),
        DataType::Date32 => {
            let d = array.as_primitive::<Date32Type>().value(row);
            s(&|o| text::date(i64::from(d), o))
        }
        DataType::Date64 => {
            let ms = array.as_primitive::<Date64Type>().value(row);
            s(&|o| text::date(ms.div_euclid(86_400_000), o))
        }
        DataType::Time64(unit) => {
            let v = array.as_primitive::<Time64MicrosecondType>();
            let micros = match unit {
                TimeUnit::Nanosecond => {
                    array.as_primitive::<Time64NanosecondType>().value(row) / 1000
                }
                _ => v.value(row),
            };
            s(&|o| text::time_of_day(micros, o))
        }
        DataType::Time32(unit) => {
            let micros = match unit {
                TimeUnit::Second => {
                    i64::from(array.as_primitive::<Time32SecondType>().value(row)) * 1_000_000
                }
                _ => i64::from(array.as_primitive::<Time32MillisecondType>().value(row)) * 1000,
            };
            s(&|o| text::time_of_day(micros, o))
        }
        DataType::Timestamp(unit, tz) => {
            let micros = timestamp_micros(array, *unit, row)
                .ok_or_else(|| format!("timestamp out of range in row {row}"))?;
            s(&|o| text::timestamp(micros, tz.is_some(), o))
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
            s(&|o| text::interval(v, o))
        }
        DataType::List(_) => list(array.as_list::<i32>().value(row).as_ref())?,
        DataType::LargeList(_) => list(array.as_list::<i64>().value(row).as_ref())?,
        other => return Err(format!("no JSON form for Arrow type {other}")),
    })
}

/// Every row of `batch` as a JSON array of its cells.
pub fn rows(batch: &RecordBatch) -> Result<Vec<Vec<Value>>, String> {
    (0..batch.num_rows())
        .map(|row| {
            batch
                .columns()
                .iter()
                .map(|c| value(c.as_ref(), row))
                .collect()
        })
        .collect()
}

/// A batch of `schema` from rows of JSON values, one per field in order.
/// Times are RFC 3339 text, decimals text or numbers, binary the bytes of
/// a string; a value that does not fit its field is an error naming both.
pub fn batch(schema: SchemaRef, rows: &[Vec<Value>]) -> Result<RecordBatch, String> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, field) in schema.fields().iter().enumerate() {
        let cell = |r: &Vec<Value>| r.get(i).cloned().unwrap_or(Value::Null);
        let bad = |v: &Value| format!("{v} does not fit {} ({})", field.name(), field.data_type());
        macro_rules! build {
            ($builder:expr, $conv:expr) => {{
                let mut b = $builder;
                for r in rows {
                    match cell(r) {
                        Value::Null => b.append_null(),
                        v => b.append_value($conv(&v).ok_or_else(|| bad(&v))?),
                    }
                }
                Arc::new(b.finish()) as ArrayRef
            }};
        }
        let col = match field.data_type() {
            DataType::Boolean => build!(BooleanBuilder::new(), Value::as_bool),
            DataType::Int16 => build!(Int16Builder::new(), |v: &Value| v
                .as_i64()
                .and_then(|n| i16::try_from(n).ok())),
            DataType::Int32 => build!(Int32Builder::new(), |v: &Value| v
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())),
            DataType::Int64 => build!(Int64Builder::new(), Value::as_i64),
            DataType::Float64 => build!(Float64Builder::new(), Value::as_f64),
            DataType::Utf8 => build!(StringBuilder::new(), |v: &Value| match v {
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            }),
            DataType::Binary => build!(BinaryBuilder::new(), |v: &Value| v
                .as_str()
                .map(|s| s.as_bytes().to_vec())),
            DataType::Date32 => build!(Date32Builder::new(), |v: &Value| v
                .as_str()
                .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .and_then(|d| i32::try_from((d - chrono::NaiveDate::default()).num_days()).ok())),
            DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                let b = TimestampMicrosecondBuilder::new().with_timezone_opt(tz.clone());
                build!(b, |v: &Value| v.as_str().and_then(parse_timestamp))
            }
            DataType::Decimal128(p, s) => {
                let b = Decimal128Builder::new()
                    .with_precision_and_scale(*p, *s)
                    .map_err(|e| e.to_string())?;
                build!(b, |v: &Value| parse_decimal(v, *s))
            }
            other => return Err(format!("cannot build {} ({other}) from JSON", field.name())),
        };
        columns.push(col);
    }
    RecordBatch::try_new(schema, columns).map_err(|e| e.to_string())
}

/// Whether `field` holds UUIDs (by its extension or its shape).
pub fn is_uuid(field: &arrow_schema::Field) -> bool {
    extension(field) == Some(UUID) || field.data_type() == &DataType::FixedSizeBinary(16)
}

/// A float as a JSON number, or what JSON has no number for as a string
/// spelled as PostgreSQL and JavaScript spell it: `NaN`, `Infinity`,
/// `-Infinity`.
fn float(f: f64) -> Value {
    match serde_json::Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None => Value::String(text::non_finite(f).to_string()),
    }
}

fn hex_text(bytes: &[u8]) -> Value {
    Value::String(format!("\\x{}", hex::encode(bytes)))
}

fn list(items: &dyn Array) -> Result<Value, String> {
    (0..items.len())
        .map(|i| value(items, i))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

fn timestamp_micros(array: &dyn Array, unit: TimeUnit, row: usize) -> Option<i64> {
    match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .value(row)
            .checked_mul(1_000_000),
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .value(row)
            .checked_mul(1000),
        TimeUnit::Microsecond => Some(array.as_primitive::<TimestampMicrosecondType>().value(row)),
        TimeUnit::Nanosecond => Some(
            array
                .as_primitive::<TimestampNanosecondType>()
                .value(row)
                .div_euclid(1000),
        ),
    }
}

/// RFC 3339 (an instant) or a naive `YYYY-MM-DDTHH:MM:SS[.f]`, in µs.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_micros())
}

fn parse_decimal(v: &Value, scale: i8) -> Option<i128> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let scale = usize::try_from(scale).ok()?;
    if frac.len() > scale || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{int}{frac}{}", "0".repeat(scale - frac.len()));
    let n: i128 = padded.parse().ok()?;
    Some(if neg { -n } else { n })
}

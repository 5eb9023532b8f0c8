//! The one table from Arrow types to the SQLite warehouse: each column's
//! declared type, and how each value is stored. SQLite has five storage
//! classes, so what it has no class for is stored as canonical text
//! (`batch::text`): exact decimals, times (ISO 8601), UUIDs, intervals;
//! lists are JSON arrays. Nothing is stored as a rounded REAL that was not
//! a float to begin with. A float NaN is the TEXT `NaN` (SQLite turns a
//! bound NaN into NULL); SQLite keeps no -0.0 (it reads back 0.0).

use arrow_array::{
    Array, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray, cast::AsArray,
    types::*,
};
use arrow_schema::{DataType, Field, IntervalUnit, TimeUnit};
use sea_orm::sqlx::{Sqlite, query::Query, sqlite::SqliteArguments};

use super::{DestinationError, Result};
use crate::batch::{json, text};

/// The declared SQLite type of a column of `field`'s type.
pub fn column_type(field: &Field) -> Result<&'static str> {
    Ok(match field.data_type() {
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => "INTEGER",
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "REAL",
        DataType::Binary | DataType::LargeBinary => "BLOB",
        // Exact digits, times, UUIDs, intervals, lists: canonical text.
        DataType::UInt64
        | DataType::Decimal128(..)
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::FixedSizeBinary(_)
        | DataType::Date32
        | DataType::Date64
        | DataType::Time32(_)
        | DataType::Time64(_)
        | DataType::Timestamp(..)
        | DataType::Interval(IntervalUnit::MonthDayNano)
        | DataType::List(_)
        | DataType::LargeList(_) => "TEXT",
        other => {
            return Err(DestinationError::failed(format!(
                "the column {} has type {other}, which the SQLite warehouse cannot store",
                field.name()
            )));
        }
    })
}

type Q<'q> = Query<'q, Sqlite, SqliteArguments>;

/// A column of a batch, its array resolved once for the hot types (each
/// value then binds without a type dispatch and downcast of its own).
pub enum Column<'a> {
    Int64(&'a Int64Array),
    Float64(&'a Float64Array),
    Utf8(&'a StringArray),
    Timestamp(&'a TimestampMicrosecondArray, bool),
    Other(&'a dyn Array),
}

impl<'a> Column<'a> {
    pub fn of(array: &'a dyn Array) -> Self {
        match array.data_type() {
            DataType::Int64 => Self::Int64(array.as_primitive()),
            DataType::Float64 => Self::Float64(array.as_primitive()),
            DataType::Utf8 => Self::Utf8(array.as_string()),
            DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                Self::Timestamp(array.as_primitive(), tz.is_some())
            }
            _ => Self::Other(array),
        }
    }

    /// Binds row `row` as the value `column_type` declares.
    pub fn bind<'q>(&self, q: Q<'q>, row: usize) -> Result<Q<'q>> {
        Ok(match self {
            Self::Int64(a) if a.is_valid(row) => q.bind(a.value(row)),
            Self::Float64(a) if a.is_valid(row) => real(q, a.value(row)),
            Self::Utf8(a) if a.is_valid(row) => q.bind(a.value(row).to_owned()),
            Self::Timestamp(a, instant) if a.is_valid(row) => {
                let mut s = String::with_capacity(28);
                text::timestamp(a.value(row), *instant, &mut s);
                q.bind(s)
            }
            Self::Int64(_) | Self::Float64(_) | Self::Utf8(_) | Self::Timestamp(..) => {
                q.bind(None::<i64>)
            }
            Self::Other(a) => bind(q, *a, row)?,
        })
    }
}

/// A float as a REAL; NaN, which SQLite would store as NULL, as the TEXT
/// `NaN` (a REAL column keeps text that is not a number as text).
fn real(q: Q<'_>, v: f64) -> Q<'_> {
    if v.is_nan() { q.bind("NaN") } else { q.bind(v) }
}

/// Binds row `row` of `array` as the value `column_type` declares.
pub fn bind<'q>(q: Q<'q>, array: &dyn Array, row: usize) -> Result<Q<'q>> {
    if array.is_null(row) {
        return Ok(q.bind(None::<i64>));
    }
    let as_text = |f: &dyn Fn(&mut String)| {
        let mut s = String::new();
        f(&mut s);
        s
    };
    Ok(match array.data_type() {
        DataType::Boolean => q.bind(i64::from(array.as_boolean().value(row))),
        DataType::Int8 => q.bind(i64::from(array.as_primitive::<Int8Type>().value(row))),
        DataType::Int16 => q.bind(i64::from(array.as_primitive::<Int16Type>().value(row))),
        DataType::Int32 => q.bind(array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => q.bind(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => q.bind(i64::from(array.as_primitive::<UInt8Type>().value(row))),
        DataType::UInt16 => q.bind(i64::from(array.as_primitive::<UInt16Type>().value(row))),
        DataType::UInt32 => q.bind(i64::from(array.as_primitive::<UInt32Type>().value(row))),
        DataType::UInt64 => q.bind(array.as_primitive::<UInt64Type>().value(row).to_string()),
        DataType::Float16 => real(q, f64::from(array.as_primitive::<Float16Type>().value(row))),
        DataType::Float32 => real(q, f64::from(array.as_primitive::<Float32Type>().value(row))),
        DataType::Float64 => real(q, array.as_primitive::<Float64Type>().value(row)),
        DataType::Decimal128(_, scale) => {
            let v = array.as_primitive::<Decimal128Type>().value(row);
            q.bind(as_text(&|o| text::decimal(v, *scale, o)))
        }
        DataType::Utf8 => q.bind(array.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => q.bind(array.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => q.bind(array.as_string_view().value(row).to_owned()),
        DataType::Binary => q.bind(array.as_binary::<i32>().value(row).to_vec()),
        DataType::LargeBinary => q.bind(array.as_binary::<i64>().value(row).to_vec()),
        DataType::Timestamp(TimeUnit::Microsecond, tz) => {
            let v = array.as_primitive::<TimestampMicrosecondType>().value(row);
            q.bind(as_text(&|o| text::timestamp(v, tz.is_some(), o)))
        }
        // The rest as their JSON form: text, or an array's JSON.
        _ => match json::value(array, row).map_err(DestinationError::failed)? {
            serde_json::Value::String(s) => q.bind(s),
            other => q.bind(other.to_string()),
        },
    })
}

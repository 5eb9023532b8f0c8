//! The one table from PostgreSQL types to Arrow types: how each column is
//! selected, decoded and described. Types are matched by identity (OID),
//! never by guessing from their names.
//!
//! Representations worth knowing:
//! - `numeric(p,s)` with 1 ≤ p ≤ 38 and 0 ≤ s ≤ p is Decimal128(p,s), exact;
//!   NaN or ±Infinity in such a column fails the read naming the column.
//!   Any other numeric is Utf8 holding PostgreSQL's exact decimal text
//!   (`NaN`, `Infinity` and `-Infinity` included), tagged with the
//!   `batch::DECIMAL` extension so that a PostgreSQL destination makes it
//!   numeric again: never a float.
//! - `date` ±infinity is Date32 `i32::MAX` / `i32::MIN`; `timestamp[tz]`
//!   ±infinity is `i64::MAX` / `i64::MIN` microseconds. No finite value of
//!   PostgreSQL's ranges maps there, so the sentinels are unambiguous.
//! - `time` is Time64(µs) as PostgreSQL has it, `24:00:00` included.
//! - `interval` is MonthDayNano; one whose time part overflows i64
//!   nanoseconds (over ~106,000 days of hours) fails the read.
//! - 1-D arrays are lists (lower bounds other than 1 are not kept); a column
//!   declared with more dimensions is carried as text, and a
//!   multi-dimensional value in a column declared 1-D fails the read.
//! - Everything else is cast to text in the SELECT and reported as carried
//!   as text, so the run log can name it.

use std::{collections::HashMap, sync::Arc};

use arrow_schema::{DataType, Field, IntervalUnit, TimeUnit};
use tokio_postgres::types::{Kind, Type};

/// Field metadata key: the column's PostgreSQL type, as `format_type` says.
pub const SOURCE_TYPE_KEY: &str = "tributary:source_type";
/// Field metadata key of Arrow's canonical extension types.
pub const EXTENSION_NAME_KEY: &str = "ARROW:extension:name";

/// A column of a PostgreSQL table, as its catalog describes it.
#[derive(Debug, Clone)]
pub struct PgColumn {
    pub name: String,
    /// The column's type; for a domain, the domain's base type.
    pub ty: Type,
    /// `atttypmod` (for a domain without one, the domain's `typtypmod`).
    pub typmod: i32,
    /// `NOT attnotnull`.
    pub nullable: bool,
    /// `attndims`: the declared array dimensions (0 when not declared).
    pub dims: i32,
    /// `format_type(atttypid, atttypmod)`, e.g. `numeric(38,10)`.
    pub type_name: String,
}

/// How a value arrives in binary COPY and which Arrow type holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    Decimal {
        precision: u8,
        scale: i8,
    },
    /// numeric without a representable (p,s): exact decimal text.
    NumericText,
    /// UTF-8 text: text-like types and anything cast to text.
    Text,
    Json,
    /// jsonb: a version byte, then the JSON text.
    Jsonb,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Bytea,
    List(Box<Read>),
}

/// How one column is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRead {
    pub read: Read,
    /// The SQL cast applied in the SELECT list (`text` or `text[]`), if any.
    pub cast: Option<&'static str>,
    /// Whether the column's type has no Arrow mapping and is carried as its
    /// PostgreSQL text form.
    pub carried_as_text: bool,
}

/// How a column of type `ty` with modifier `typmod`, declared with `dims`
/// array dimensions, is read.
pub fn column_read(ty: &Type, typmod: i32, dims: i32) -> ColumnRead {
    if let Kind::Array(element) = ty.kind() {
        if dims > 1 {
            return as_text("text", Read::Text);
        }
        // An array's typmod is its elements' (numeric(10,2)[]).
        return match scalar(element, typmod) {
            Some(read) => ColumnRead {
                read: Read::List(Box::new(read)),
                cast: None,
                carried_as_text: false,
            },
            None => as_text("text[]", Read::List(Box::new(Read::Text))),
        };
    }
    match scalar(ty, typmod) {
        Some(read) => ColumnRead {
            read,
            cast: None,
            carried_as_text: false,
        },
        None => as_text("text", Read::Text),
    }
}

fn as_text(cast: &'static str, read: Read) -> ColumnRead {
    ColumnRead {
        read,
        cast: Some(cast),
        carried_as_text: true,
    }
}

/// The table itself, for non-array types.
fn scalar(ty: &Type, typmod: i32) -> Option<Read> {
    let read = match ty {
        t if *t == Type::INT2 => Read::Int16,
        t if *t == Type::INT4 => Read::Int32,
        t if *t == Type::INT8 => Read::Int64,
        t if *t == Type::FLOAT4 => Read::Float32,
        t if *t == Type::FLOAT8 => Read::Float64,
        t if *t == Type::BOOL => Read::Boolean,
        t if *t == Type::NUMERIC => numeric(typmod),
        t if *t == Type::TEXT || *t == Type::VARCHAR || *t == Type::BPCHAR || *t == Type::NAME => {
            Read::Text
        }
        t if *t == Type::JSON => Read::Json,
        t if *t == Type::JSONB => Read::Jsonb,
        t if *t == Type::DATE => Read::Date,
        t if *t == Type::TIME => Read::Time,
        t if *t == Type::TIMESTAMP => Read::Timestamp,
        t if *t == Type::TIMESTAMPTZ => Read::TimestampTz,
        t if *t == Type::INTERVAL => Read::Interval,
        t if *t == Type::UUID => Read::Uuid,
        t if *t == Type::BYTEA => Read::Bytea,
        _ => return None,
    };
    Some(read)
}

/// numeric's typmod is `((precision << 16) | scale) + 4`, the scale an
/// 11-bit signed number since PostgreSQL 15 (numeric(3,-2), numeric(2,5)).
fn numeric(typmod: i32) -> Read {
    if typmod < 4 {
        return Read::NumericText;
    }
    let t = typmod - 4;
    let precision = (t >> 16) & 0xffff;
    let scale = ((t & 0x7ff) ^ 1024) - 1024;
    match (u8::try_from(precision), i8::try_from(scale)) {
        (Ok(p), Ok(s)) if (1..=38).contains(&p) && s >= 0 && i32::from(s) <= precision => {
            Read::Decimal {
                precision: p,
                scale: s,
            }
        }
        _ => Read::NumericText,
    }
}

impl Read {
    pub fn data_type(&self) -> DataType {
        match self {
            Read::Int16 => DataType::Int16,
            Read::Int32 => DataType::Int32,
            Read::Int64 => DataType::Int64,
            Read::Float32 => DataType::Float32,
            Read::Float64 => DataType::Float64,
            Read::Boolean => DataType::Boolean,
            Read::Decimal { precision, scale } => DataType::Decimal128(*precision, *scale),
            Read::NumericText | Read::Text | Read::Json | Read::Jsonb => DataType::Utf8,
            Read::Date => DataType::Date32,
            Read::Time => DataType::Time64(TimeUnit::Microsecond),
            Read::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Read::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Read::Interval => DataType::Interval(IntervalUnit::MonthDayNano),
            Read::Uuid => DataType::FixedSizeBinary(16),
            Read::Bytea => DataType::Binary,
            Read::List(item) => DataType::List(Arc::new(item.item_field())),
        }
    }

    /// The Arrow canonical extension type this representation is.
    fn extension(&self) -> Option<&'static str> {
        match self {
            Read::Uuid => Some("arrow.uuid"),
            Read::Json | Read::Jsonb => Some("arrow.json"),
            Read::NumericText => Some(crate::batch::DECIMAL),
            _ => None,
        }
    }

    /// The field of a list's items (always nullable: PostgreSQL arrays
    /// may hold NULLs whatever the column's constraints).
    pub fn item_field(&self) -> Field {
        let field = Field::new_list_field(self.data_type(), true);
        match self.extension() {
            Some(ext) => field.with_metadata(HashMap::from([(
                EXTENSION_NAME_KEY.to_string(),
                ext.to_string(),
            )])),
            None => field,
        }
    }
}

/// The Arrow field of a column read as `read`: its name, type and
/// nullability, the PostgreSQL type name and any extension type.
pub fn arrow_field(column: &PgColumn, read: &ColumnRead) -> Field {
    let mut metadata = HashMap::from([(SOURCE_TYPE_KEY.to_string(), column.type_name.clone())]);
    if let Some(ext) = read.read.extension() {
        metadata.insert(EXTENSION_NAME_KEY.to_string(), ext.to_string());
    }
    Field::new(&column.name, read.read.data_type(), column.nullable).with_metadata(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typmod(p: i32, s: i32) -> i32 {
        ((p << 16) | (s & 0x7ff)) + 4
    }

    #[test]
    fn numeric_is_decimal_only_when_exact() {
        let read = |m| column_read(&Type::NUMERIC, m, 0).read;
        assert_eq!(
            read(typmod(38, 10)),
            Read::Decimal {
                precision: 38,
                scale: 10
            }
        );
        assert_eq!(
            read(typmod(5, 0)),
            Read::Decimal {
                precision: 5,
                scale: 0
            }
        );
        assert_eq!(read(-1), Read::NumericText);
        assert_eq!(read(typmod(39, 2)), Read::NumericText);
        assert_eq!(read(typmod(3, -2)), Read::NumericText);
        assert_eq!(read(typmod(2, 5)), Read::NumericText);
    }

    #[test]
    fn arrays_unknown_types_and_dimensions() {
        let int_list = column_read(&Type::INT4_ARRAY, -1, 1);
        assert_eq!(int_list.read, Read::List(Box::new(Read::Int32)));
        assert!(!int_list.carried_as_text);
        let two_d = column_read(&Type::INT4_ARRAY, -1, 2);
        assert_eq!((two_d.read, two_d.cast), (Read::Text, Some("text")));
        let inet = column_read(&Type::INET, -1, 0);
        assert!(inet.carried_as_text);
        assert_eq!(inet.cast, Some("text"));
        let free = column_read(&Type::NUMERIC_ARRAY, -1, 1).read.data_type();
        let DataType::List(item) = free else {
            panic!("{free:?}")
        };
        assert_eq!(
            item.metadata().get(EXTENSION_NAME_KEY).map(String::as_str),
            Some(crate::batch::DECIMAL)
        );
        let inets = column_read(&Type::INET_ARRAY, -1, 1);
        assert_eq!(inets.read, Read::List(Box::new(Read::Text)));
        assert_eq!(inets.cast, Some("text[]"));
        let uuids = column_read(&Type::UUID_ARRAY, -1, 0).read.data_type();
        let DataType::List(item) = uuids else {
            panic!("{uuids:?}")
        };
        assert_eq!(
            item.metadata().get(EXTENSION_NAME_KEY).map(String::as_str),
            Some("arrow.uuid")
        );
    }
}

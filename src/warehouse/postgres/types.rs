//! The one table from Arrow types to PostgreSQL column types, and the rule
//! for when an existing column may change type. Nothing here guesses: a
//! type missing from the table is an error naming the column.

use arrow_schema::{DataType, Field};
use tokio_postgres::types::Type;

use super::error::{PgWriteError, Result};

/// The field metadata key of Arrow extension types.
pub const EXTENSION_NAME: &str = "ARROW:extension:name";
pub const UUID_EXTENSION: &str = "arrow.uuid";
pub const JSON_EXTENSION: &str = "arrow.json";
/// Exact decimal text (see `batch::DECIMAL`).
pub const DECIMAL_EXTENSION: &str = crate::batch::DECIMAL;

/// A PostgreSQL column type the writer creates or writes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// `numeric(precision, scale)`, or unbounded `numeric` when None.
    Numeric(Option<(u16, i16)>),
    Text,
    /// Only met in existing tables (never created): written like text.
    Varchar,
    /// Only met in existing tables: written like text, without jsonb's
    /// version byte.
    Json,
    Jsonb,
    Bytea,
    Uuid,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Interval,
    /// One level of array of a scalar type.
    Array(Box<PgType>),
    /// An existing column of a type the writer does not write, by its SQL name.
    Other(String),
}

impl PgType {
    /// The type as it appears in DDL.
    pub fn ddl(&self) -> String {
        match self {
            PgType::Bool => "boolean".into(),
            PgType::Int2 => "smallint".into(),
            PgType::Int4 => "integer".into(),
            PgType::Int8 => "bigint".into(),
            PgType::Float4 => "real".into(),
            PgType::Float8 => "double precision".into(),
            PgType::Numeric(None) => "numeric".into(),
            PgType::Numeric(Some((p, s))) => format!("numeric({p},{s})"),
            PgType::Text => "text".into(),
            PgType::Varchar => "character varying".into(),
            PgType::Json => "json".into(),
            PgType::Jsonb => "jsonb".into(),
            PgType::Bytea => "bytea".into(),
            PgType::Uuid => "uuid".into(),
            PgType::Date => "date".into(),
            PgType::Time => "time".into(),
            PgType::Timestamp => "timestamp".into(),
            PgType::Timestamptz => "timestamptz".into(),
            PgType::Interval => "interval".into(),
            PgType::Array(item) => format!("{}[]", item.ddl()),
            PgType::Other(name) => name.clone(),
        }
    }

    /// The type's OID (array elements carry it in the binary array format).
    pub fn oid(&self) -> Option<u32> {
        let t = match self {
            PgType::Bool => Type::BOOL,
            PgType::Int2 => Type::INT2,
            PgType::Int4 => Type::INT4,
            PgType::Int8 => Type::INT8,
            PgType::Float4 => Type::FLOAT4,
            PgType::Float8 => Type::FLOAT8,
            PgType::Numeric(_) => Type::NUMERIC,
            PgType::Text => Type::TEXT,
            PgType::Varchar => Type::VARCHAR,
            PgType::Json => Type::JSON,
            PgType::Jsonb => Type::JSONB,
            PgType::Bytea => Type::BYTEA,
            PgType::Uuid => Type::UUID,
            PgType::Date => Type::DATE,
            PgType::Time => Type::TIME,
            PgType::Timestamp => Type::TIMESTAMP,
            PgType::Timestamptz => Type::TIMESTAMPTZ,
            PgType::Interval => Type::INTERVAL,
            PgType::Array(_) | PgType::Other(_) => return None,
        };
        Some(t.oid())
    }

    /// The type of an existing column, from `pg_attribute`: its type OID
    /// and typmod, and for an array the element's OID. `sql_name` is
    /// `format_type(...)`, kept for types the writer does not know.
    pub fn from_catalog(oid: u32, typmod: i32, elem_oid: Option<u32>, sql_name: &str) -> Self {
        if let Some(elem) = elem_oid {
            return match Self::scalar_from_oid(elem, typmod) {
                Some(item) => PgType::Array(Box::new(item)),
                None => PgType::Other(sql_name.to_string()),
            };
        }
        Self::scalar_from_oid(oid, typmod).unwrap_or_else(|| PgType::Other(sql_name.to_string()))
    }

    fn scalar_from_oid(oid: u32, typmod: i32) -> Option<Self> {
        let t = Type::from_oid(oid)?;
        Some(match t {
            Type::BOOL => PgType::Bool,
            Type::INT2 => PgType::Int2,
            Type::INT4 => PgType::Int4,
            Type::INT8 => PgType::Int8,
            Type::FLOAT4 => PgType::Float4,
            Type::FLOAT8 => PgType::Float8,
            Type::NUMERIC => PgType::Numeric(numeric_typmod(typmod)),
            Type::TEXT => PgType::Text,
            Type::VARCHAR => PgType::Varchar,
            Type::JSON => PgType::Json,
            Type::JSONB => PgType::Jsonb,
            Type::BYTEA => PgType::Bytea,
            Type::UUID => PgType::Uuid,
            Type::DATE => PgType::Date,
            Type::TIME => PgType::Time,
            Type::TIMESTAMP => PgType::Timestamp,
            Type::TIMESTAMPTZ => PgType::Timestamptz,
            Type::INTERVAL => PgType::Interval,
            _ => return None,
        })
    }
}

impl std::fmt::Display for PgType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.ddl())
    }
}

/// Decodes numeric's typmod: ((precision << 16) | scale) + 4, the scale an
/// 11-bit signed number since PostgreSQL 15; -1 means unbounded.
fn numeric_typmod(typmod: i32) -> Option<(u16, i16)> {
    if typmod < 4 {
        return None;
    }
    let t = typmod - 4;
    let precision = u16::try_from((t >> 16) & 0xffff).ok()?;
    let scale = i16::try_from(((t & 0x7ff) ^ 1024) - 1024).ok()?;
    Some((precision, scale))
}

/// The column type a field is created as: the type table.
pub fn pg_type(field: &Field) -> Result<PgType> {
    let unsupported = || PgWriteError::UnsupportedType {
        column: field.name().clone(),
        arrow_type: field.data_type().to_string(),
    };
    let ext = field.metadata().get(EXTENSION_NAME).map(String::as_str);
    Ok(match field.data_type() {
        DataType::Boolean => PgType::Bool,
        DataType::Int8 | DataType::Int16 => PgType::Int2,
        DataType::Int32 | DataType::UInt8 | DataType::UInt16 => PgType::Int4,
        DataType::Int64 | DataType::UInt32 => PgType::Int8,
        DataType::UInt64 => PgType::Numeric(Some((20, 0))),
        DataType::Float16 | DataType::Float32 => PgType::Float4,
        DataType::Float64 => PgType::Float8,
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => PgType::Numeric(Some(numeric_bounds(*p, *s))),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => match ext {
            Some(JSON_EXTENSION) => PgType::Jsonb,
            Some(DECIMAL_EXTENSION) => PgType::Numeric(None),
            _ => PgType::Text,
        },
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => PgType::Bytea,
        DataType::FixedSizeBinary(16) if ext == Some(UUID_EXTENSION) => PgType::Uuid,
        // A uuid of another width is malformed, not bytes.
        DataType::FixedSizeBinary(_) if ext == Some(UUID_EXTENSION) => return Err(unsupported()),
        DataType::FixedSizeBinary(_) => PgType::Bytea,
        DataType::Date32 | DataType::Date64 => PgType::Date,
        DataType::Time32(_) | DataType::Time64(_) => PgType::Time,
        DataType::Timestamp(_, None) => PgType::Timestamp,
        DataType::Timestamp(_, Some(_)) => PgType::Timestamptz,
        DataType::Interval(_) | DataType::Duration(_) => PgType::Interval,
        DataType::List(item) | DataType::LargeList(item) => {
            let item_type = pg_type(item).map_err(|_| unsupported())?;
            if matches!(item_type, PgType::Array(_)) {
                // PostgreSQL arrays are rectangular: a list of lists is not one.
                return Err(unsupported());
            }
            PgType::Array(Box::new(item_type))
        }
        _ => return Err(unsupported()),
    })
}

/// numeric(p, s) holding every value of an Arrow decimal(p, s). A negative
/// Arrow scale (multiples of 10^-s) becomes extra integer digits, and a
/// scale above the precision (only fractional digits) a precision of at
/// least the scale, as older PostgreSQL requires.
fn numeric_bounds(precision: u8, scale: i8) -> (u16, i16) {
    let (p, s) = (i16::from(precision), i16::from(scale));
    if s < 0 {
        (u16::try_from(p - s).unwrap_or(1).max(1), 0)
    } else {
        (u16::try_from(p.max(s)).unwrap_or(1).max(1), s)
    }
}

/// Whether a column of type `from` can be altered to `to` without losing
/// any value (and so without the data ever failing the new type).
pub fn widens(from: &PgType, to: &PgType) -> bool {
    use PgType::*;
    if from == to {
        return true;
    }
    match (from, to) {
        (Int2, Int4 | Int8 | Float4 | Float8) | (Int4, Int8 | Float8) | (Float4, Float8) => true,
        (Int2, Numeric(b)) => integer_digits(*b) >= 5,
        (Int4, Numeric(b)) => integer_digits(*b) >= 10,
        (Int8, Numeric(b)) => integer_digits(*b) >= 19,
        (Numeric(Some(_)), Numeric(None)) => true,
        (Numeric(Some((p1, s1))), Numeric(Some((p2, s2)))) => {
            s2 >= s1 && i32::from(*p2) - i32::from(*s2) >= i32::from(*p1) - i32::from(*s1)
        }
        (Varchar, Text) => true,
        (Array(a), Array(b)) => widens(a, b),
        _ => false,
    }
}

/// Whether a column of type `column` takes values of type `value` as they
/// are: a wider type; text into varchar and jsonb into json (the column a
/// user made keeps its type; PostgreSQL checks the values); JSON into a
/// text column (a source that starts tagging a text column as JSON loses
/// nothing in it); decimal text into a text column (made before unbounded
/// numerics were tagged as decimals).
pub fn accepts(column: &PgType, value: &PgType) -> bool {
    match (column, value) {
        (PgType::Varchar, PgType::Text)
        | (PgType::Json, PgType::Jsonb)
        | (PgType::Text | PgType::Varchar, PgType::Jsonb | PgType::Numeric(None)) => true,
        (PgType::Array(c), PgType::Array(v)) => accepts(c, v),
        _ => widens(value, column),
    }
}

/// Digits before the decimal point a numeric column holds.
fn integer_digits(bounds: Option<(u16, i16)>) -> i32 {
    match bounds {
        None => i32::MAX,
        Some((p, s)) => i32::from(p) - i32::from(s),
    }
}

/// What to do with an existing column when a field of that name arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnChange {
    /// The column holds the field's values as it is (same or wider type).
    Keep,
    /// `ALTER COLUMN … TYPE` to this type first.
    Widen(PgType),
}

/// The schema-change rule: keep a column that holds the new field, widen
/// one the field's own type contains, refuse anything else (e.g. text →
/// integer), naming the column.
pub fn column_change(existing: &PgType, field: &Field) -> Result<ColumnChange> {
    let wanted = pg_type(field)?;
    if accepts(existing, &wanted) {
        Ok(ColumnChange::Keep)
    } else if widens(existing, &wanted) {
        Ok(ColumnChange::Widen(wanted))
    } else {
        Err(PgWriteError::IncompatibleChange {
            column: field.name().clone(),
            existing: existing.ddl(),
            arrow_type: field.data_type().to_string(),
            wanted: wanted.ddl(),
        })
    }
}

#[cfg(test)]
#[path = "types_tests.rs"]
mod tests;

//! One schema for a file set from the schemas of its files.

use arrow_schema::{DataType, Field, Schema};

use crate::batch::{DECIMAL, extension};
use crate::connectors::ConnectorError;

/// The union of the schemas of several files, fields by name in the order
/// first seen; a name with different types takes one that holds both
/// (integers → Int64, integers and floats → Float64, integers and exact
/// decimals → decimal, anything else → text); then `overrides` replace a
/// field's type or add the column.
pub fn merge(schemas: &[Schema], overrides: &[Field]) -> Result<Schema, ConnectorError> {
    let mut fields: Vec<Field> = Vec::new();
    for schema in schemas {
        for field in schema.fields() {
            match fields.iter_mut().find(|f| f.name() == field.name()) {
                Some(known) => *known = widen(known, field),
                None => fields.push(plain(field)),
            }
        }
    }
    for field in overrides {
        let field = field.clone().with_nullable(true);
        match fields.iter_mut().find(|f| f.name() == field.name()) {
            Some(known) => *known = field,
            None => fields.push(field),
        }
    }
    Ok(Schema::new(fields))
}

/// A nullable field: a file set's column may be absent from any file.
fn plain(field: &Field) -> Field {
    field.clone().with_nullable(true)
}

/// What a column of both `a`'s and `b`'s type is.
fn widen(a: &Field, b: &Field) -> Field {
    if a.data_type() == b.data_type() && extension(a) == extension(b) {
        return a.clone();
    }
    let kind = |f: &Field| match (f.data_type(), extension(f)) {
        (t, _) if t.is_integer() => Some(Num::Int),
        (DataType::Float16 | DataType::Float32 | DataType::Float64, _) => Some(Num::Float),
        (DataType::Utf8, Some(DECIMAL)) => Some(Num::Decimal),
        _ => None,
    };
    let to = |data_type| Field::new(a.name(), data_type, true);
    match (kind(a), kind(b)) {
        (Some(Num::Int), Some(Num::Int)) => to(DataType::Int64),
        (Some(Num::Int | Num::Float), Some(Num::Int | Num::Float)) => to(DataType::Float64),
        (Some(Num::Int | Num::Decimal), Some(Num::Int | Num::Decimal)) => {
            crate::batch::with_extension(to(DataType::Utf8), DECIMAL)
        }
        _ => to(DataType::Utf8),
    }
}

#[derive(Clone, Copy)]
enum Num {
    Int,
    Float,
    Decimal,
}

//! Identifiers: quoted always, so any name a source produces (mixed case,
//! spaces, quotes, reserved words) round-trips exactly.

use super::error::{PgWriteError, Result};

/// PostgreSQL's NAMEDATALEN - 1: longer names are silently truncated, and
/// two long names could then collide, so they are refused instead.
pub const MAX_IDENT_BYTES: usize = 63;

/// `"name"` with embedded quotes doubled.
pub fn quote_ident(name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(PgWriteError::Invalid(
            "an identifier cannot be empty".into(),
        ));
    }
    if name.contains('\0') {
        return Err(PgWriteError::Invalid(format!(
            "identifier {name:?} contains a NUL character"
        )));
    }
    if name.len() > MAX_IDENT_BYTES {
        return Err(PgWriteError::Invalid(format!(
            "identifier {name:?} is longer than PostgreSQL's {MAX_IDENT_BYTES} bytes"
        )));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// Quotes every name and joins them with ", ".
pub fn quote_list<S: AsRef<str>>(names: &[S]) -> Result<String> {
    let quoted: Result<Vec<String>> = names.iter().map(|n| quote_ident(n.as_ref())).collect();
    Ok(quoted?.join(", "))
}

/// A schema-qualified table name, checked once when it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    schema: String,
    name: String,
    qualified: String,
}

impl TableName {
    pub fn new(schema: &str, name: &str) -> Result<Self> {
        let qualified = format!("{}.{}", quote_ident(schema)?, quote_ident(name)?);
        Ok(Self {
            schema: schema.to_string(),
            name: name.to_string(),
            qualified,
        })
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `"schema"."name"`, ready for SQL.
    pub fn qualified(&self) -> &str {
        &self.qualified
    }

    /// Another table in the same schema.
    pub fn sibling(&self, name: &str) -> Result<Self> {
        Self::new(&self.schema, name)
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.qualified)
    }
}

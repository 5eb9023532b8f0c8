//! Names in a destination: the tables and schemas syncs write into, and the
//! names the warehouse keeps for itself.

use serde_json::{Map, Value};

/// Longest table or schema name, in bytes: PostgreSQL's identifier limit.
pub const MAX_NAME_LEN: usize = 63;

/// Why `name` (a table or a schema) is reserved, if it is. The warehouse's
/// own state and staging tables are `_tributary_*`; the databases keep
/// `sqlite_*`, `pg_*` and `information_schema` for their catalogs. Compared
/// case-insensitively, as both databases compare unquoted names.
pub fn reserved(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    if name.starts_with("_tributary_") {
        Some("names starting with _tributary_ are reserved for the warehouse's own tables")
    } else if name.starts_with("sqlite_") {
        Some("names starting with sqlite_ are reserved by SQLite")
    } else if name.starts_with("pg_") {
        Some("names starting with pg_ are reserved by PostgreSQL")
    } else if name == "information_schema" {
        Some("information_schema is reserved for the SQL catalog")
    } else {
        None
    }
}

/// Checks a schema name: `[a-z_][a-z0-9_]*`, at most 63 bytes, not
/// reserved. Uppercase is refused rather than folded, so that the name a
/// user reads back is the one the warehouse uses.
pub fn check_schema_name(name: &str) -> Result<(), String> {
    if name.len() > MAX_NAME_LEN {
        return Err(format!("must be at most {MAX_NAME_LEN} bytes"));
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "must be lowercase: '{}' would be a different schema",
            name.to_ascii_lowercase()
        ));
    }
    let mut bytes = name.bytes();
    let starts_well = matches!(bytes.next(), Some(b) if b.is_ascii_lowercase() || b == b'_');
    if !starts_well || !bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return Err(
            "must be a lowercase letter or '_', then lowercase letters, digits or '_'".into(),
        );
    }
    match reserved(name) {
        Some(why) => Err(format!("'{name}' is reserved: {why}")),
        None => Ok(()),
    }
}

/// Checks `destination_config.schema`: absent or "" (the default schema),
/// or a valid schema name.
pub fn check_schema(config: &Map<String, Value>) -> Result<(), String> {
    match config.get("schema") {
        None => Ok(()),
        Some(Value::String(s)) if s.is_empty() => Ok(()),
        Some(Value::String(s)) => check_schema_name(s),
        Some(_) => Err("must be a string".into()),
    }
}

/// The schema a `destination_config` names; "" is the default schema.
pub fn schema_of(config: &Map<String, Value>) -> &str {
    config.get("schema").and_then(Value::as_str).unwrap_or("")
}

/// The schema a sync writes into on a destination connection: the one its
/// `destination_config` names, else the connection's own `schema`, else
/// `public` (PostgreSQL's default; a SQLite file has one schema anyway).
pub fn connection_schema(
    destination_config: &Map<String, Value>,
    connection_config: &Map<String, Value>,
) -> String {
    match schema_of(destination_config) {
        "" => match connection_config.get("schema").and_then(Value::as_str) {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => "public".to_string(),
        },
        s => s.to_string(),
    }
}

/// A destination table as uniqueness sees it: the destination (a
/// connection's id, or "" for the workspace's namespace of the default
/// warehouse), the schema inside it and the table's name, folded as the
/// destinations fold unquoted names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableKey {
    pub destination: String,
    pub schema: String,
    pub table: String,
}

impl TableKey {
    pub fn new(destination: &str, schema: &str, table: &str) -> Self {
        Self {
            destination: destination.to_string(),
            schema: schema.to_ascii_lowercase(),
            table: table.to_ascii_lowercase(),
        }
    }

    /// Where the table is, for messages.
    pub fn describe_schema(&self) -> String {
        if self.schema.is_empty() {
            "the default schema".into()
        } else {
            format!("schema {}", self.schema)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_found_whatever_their_case() {
        for name in [
            "_tributary_positions",
            "_TRIBUTARY_STAGING_users",
            "sqlite_master",
            "SQLITE_SEQUENCE",
            "pg_class",
            "information_schema",
            "Information_Schema",
        ] {
            assert!(reserved(name).is_some(), "{name}");
        }
        for name in [
            "users",
            "tributary",
            "_tributary",
            "pgx",
            "sqlite",
            "schema",
        ] {
            assert!(reserved(name).is_none(), "{name}");
        }
    }

    #[test]
    fn schema_names() {
        assert!(check_schema_name("alpha").is_ok());
        assert!(check_schema_name("_x9").is_ok());
        assert!(check_schema_name(&"a".repeat(63)).is_ok());
        assert!(
            check_schema_name("Alpha")
                .unwrap_err()
                .contains("lowercase")
        );
        for bad in ["a-b", "9a", "", "_tributary_x", "pg_temp", &"a".repeat(64)] {
            assert!(check_schema_name(bad).is_err(), "{bad}");
        }
        let config = |v: Value| Map::from_iter([("schema".to_string(), v)]);
        assert!(check_schema(&Map::new()).is_ok());
        assert!(check_schema(&config(Value::from(""))).is_ok());
        assert!(check_schema(&config(Value::from(5))).is_err());
        assert_eq!(schema_of(&config(Value::from("beta"))), "beta");
        assert_eq!(schema_of(&config(Value::from(5))), "");
    }
}

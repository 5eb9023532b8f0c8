//! Names in a destination: the tables and schemas syncs write into, and the
//! names the warehouse keeps for itself.

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
}

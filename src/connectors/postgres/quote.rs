//! Quoting for SQL built as text. COPY takes no bind parameters, so the
//! values of a read's WHERE clause are written into the statement as
//! literals: these two functions are the only way they get there.

/// An identifier, always double-quoted: `a"b` → `"a""b"`.
pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// `schema.table`, each part quoted.
pub fn quote_table(schema: &str, table: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(table))
}

/// A string literal that means `value` whatever `standard_conforming_strings`
/// says: quotes are doubled, and a value with a backslash becomes an escape
/// string (`E'…'`) with the backslash doubled, as PostgreSQL's own
/// `quote_literal` does. (A NUL cannot be in PostgreSQL text: the server
/// rejects the statement.)
pub fn quote_literal(value: &str) -> String {
    let quoted = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("Mixed \"Case\""), "\"Mixed \"\"Case\"\"\"");
        assert_eq!(quote_table("s", "t"), "\"s\".\"t\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal(r"a\'b"), r"E'a\\''b'");
        assert_eq!(quote_literal(""), "''");
    }
}

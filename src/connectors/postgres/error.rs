//! Errors of the PostgreSQL read path. Messages are shown to users, so they
//! are built from a driver error's kind and the server's own message, never
//! from anything the client was configured with (host, user, password).

use std::error::Error as _;

/// Why a PostgreSQL read could not be done.
#[derive(Debug, thiserror::Error)]
pub enum PgReadError {
    /// The read asks for something the database lacks (a table, a column)
    /// or cannot represent as asked: no retry helps until someone changes
    /// the configuration or the data.
    #[error("{0}")]
    Config(String),
    /// The server refused who we are (SQLSTATE class 28).
    #[error("{0}")]
    Auth(String),
    /// Anything else: the network, the server, malformed data.
    #[error("{0}")]
    Failed(String),
}

impl PgReadError {
    /// `what` went wrong, said without quoting the driver's configuration.
    pub fn driver(what: &str, e: &tokio_postgres::Error) -> Self {
        let message = format!("{what}: {}", describe(e));
        match e.code().map(|c| c.code()) {
            Some(code) if code.starts_with("28") => Self::Auth(message),
            // undefined_table, undefined_column, invalid_schema_name
            Some("42P01" | "42703" | "3F000") => Self::Config(message),
            _ => Self::Failed(message),
        }
    }
}

/// The user-facing description of a tokio-postgres error: the server's
/// message and SQLSTATE, else the error's kind (tokio-postgres' Display says
/// only the kind) and, for I/O, the I/O error's kind.
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} (code {})", db.message(), db.code().code());
    }
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            // A rustls failure travels inside an io::Error: its text names
            // the certificate problem and nothing of the settings.
            match io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                Some(tls) => out.push_str(&format!(" ({tls})")),
                None => out.push_str(&format!(" (I/O error: {})", io.kind())),
            }
            break;
        }
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            out.push_str(&format!(" ({tls})"));
            break;
        }
        // tokio-postgres' own fixed wording when TLS is required but absent.
        if s.to_string() == "server does not support TLS" {
            out.push_str(": the server does not support TLS, and sslmode requires it");
            break;
        }
        source = s.source();
    }
    out
}

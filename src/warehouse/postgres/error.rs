//! The one error type of the PostgreSQL writer. Every variant names what
//! went wrong in words a user can act on; the destination maps them all to
//! DESTINATION_ERROR.

use std::error::Error as _;

#[derive(Debug, thiserror::Error)]
pub enum PgWriteError {
    /// An Arrow type the type table has no PostgreSQL column type for.
    #[error("column {column:?}: Arrow type {arrow_type} has no PostgreSQL column type")]
    UnsupportedType { column: String, arrow_type: String },

    /// A column that exists with a type the new data cannot be written into
    /// and that cannot be widened to take it.
    #[error(
        "column {column:?} is {existing} in PostgreSQL and cannot be changed to hold \
         Arrow {arrow_type} (as {wanted}) without losing values"
    )]
    IncompatibleChange {
        column: String,
        existing: String,
        arrow_type: String,
        wanted: String,
    },

    /// A value the target column cannot hold (out of range, malformed);
    /// `row` counts from 0 within its batch.
    #[error("column {column:?}, row {row} of the batch: {reason}")]
    Value {
        column: String,
        row: usize,
        reason: String,
    },

    /// A call that does not fit together (a batch whose columns differ from
    /// the column list, an identifier PostgreSQL would truncate).
    #[error("{0}")]
    Invalid(String),

    /// PostgreSQL refused a statement.
    #[error("{context}: {message}")]
    Postgres {
        context: String,
        /// The SQLSTATE, when the server sent one.
        code: Option<String>,
        message: String,
    },
}

pub type Result<T> = std::result::Result<T, PgWriteError>;

/// Wraps a driver error with what was being done. The driver's own Display
/// only says "db error"; the server's message, detail and hint live in its
/// source.
pub(crate) fn pg(context: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> PgWriteError {
    let context = context.into();
    move |e| {
        let message = match (e.as_db_error(), e.source()) {
            (Some(db), _) => {
                let mut m = db.message().to_string();
                if let Some(detail) = db.detail() {
                    m.push_str(&format!(" (detail: {detail})"));
                }
                if let Some(hint) = db.hint() {
                    m.push_str(&format!(" (hint: {hint})"));
                }
                m
            }
            (None, Some(source)) => format!("{e}: {source}"),
            (None, None) => e.to_string(),
        };
        PgWriteError::Postgres {
            context,
            code: e.code().map(|c| c.code().to_string()),
            message,
        }
    }
}

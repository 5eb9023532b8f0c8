//! The one error type of the service. It carries what a client needs to act
//! (code, reason, field violations, resource) and nothing internal; the
//! mapping to `tonic::Status` lives in `api::status`.

use std::fmt;

/// `google.rpc.ErrorInfo.domain` of every error.
pub const ERROR_DOMAIN: &str = "tributary.dev";

/// One bad field of a request, named by its proto path
/// (`table_bindings[1].primary_key_columns`).
/// Reason of the Aborted error that a lost race between two writers produces;
/// `service::retry_conflicts` retries those.
pub const CONFLICT: &str = "CONCURRENT_MODIFICATION";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub description: String,
}

/// Every bad field of a request: validation collects them all before failing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(Violation {
            field: field.into(),
            description: description.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was added, else `Error::InvalidArgument`.
    pub fn check(self) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidArgument(self))
        }
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|v| v.field.as_str())
    }
}

/// A single-field INVALID_ARGUMENT.
pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Error {
    let mut v = Violations::new();
    v.add(field, description);
    Error::InvalidArgument(v)
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {}", .0.0.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; "))]
    InvalidArgument(Violations),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("{message}")]
    AlreadyExists {
        kind: &'static str,
        id: String,
        message: String,
    },
    #[error("{message}")]
    FailedPrecondition {
        reason: &'static str,
        message: String,
    },
    #[error("{message}")]
    Aborted {
        reason: &'static str,
        message: String,
    },
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Unimplemented(String),
    #[error("{0}")]
    Unavailable(String),
    /// A fault of ours or of a dependency: logged with its cause chain, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl Error {
    pub fn not_found(kind: &'static str, id: impl fmt::Display) -> Self {
        Self::NotFound {
            kind,
            id: id.to_string(),
        }
    }

    pub fn precondition(reason: &'static str, message: impl Into<String>) -> Self {
        Self::FailedPrecondition {
            reason,
            message: message.into(),
        }
    }

    /// A lost race between two writers (see `service::retry_conflicts`).
    pub fn conflict() -> Self {
        Self::Aborted {
            reason: CONFLICT,
            message: "a concurrent change won; retry".into(),
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        // PostgreSQL aborts one side of a deadlock or a serialization
        // conflict: that is a lost race, retryable, not a fault.
        let sqlstate = match &e {
            sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(x))
            | sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(x)) => x
                .as_database_error()
                .and_then(|d| d.code())
                .map(|c| c.into_owned()),
            _ => None,
        };
        match sqlstate.as_deref() {
            Some("40P01" | "40001") => Self::conflict(),
            _ => Self::Internal(e.into()),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

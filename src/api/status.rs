//! The one mapping from `Error` to `tonic::Status`, with google.rpc details:
//! ErrorInfo always, BadRequest for field violations, ResourceInfo for
//! NOT_FOUND and ALREADY_EXISTS. Internal causes are logged, never sent.
//!
//! Errors travel in HTTP/2 headers, which clients cap (16 KiB in tonic and
//! hyper), and may echo what the client sent: echoes are clipped so that a
//! huge bad value still gets its error back.

use std::collections::HashMap;

use sea_orm::{DbErr, RuntimeErr};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::{ERROR_DOMAIN, Error};

/// Longest message, violation field, violation description and resource name sent.
const MAX_MESSAGE: usize = 1024;
const MAX_FIELD: usize = 128;
const MAX_DESCRIPTION: usize = 256;
const MAX_RESOURCE: usize = 256;
/// Bytes of field violations sent; the rest are counted in the message.
const VIOLATIONS_BUDGET: usize = 6 * 1024;

/// `s` cut to at most `max` bytes (on a character boundary), marked when cut.
fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Whether the database refused text a client sent that validation let
/// through: PostgreSQL stores no NUL character (SQLSTATE 22021).
fn refused_text(cause: &anyhow::Error) -> bool {
    cause.chain().any(|e| match e.downcast_ref::<DbErr>() {
        Some(DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e))) => e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|c| c == "22021"),
        _ => false,
    })
}

fn details(reason: &str) -> ErrorDetails {
    let mut d = ErrorDetails::new();
    d.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    d
}

pub fn to_status(e: Error) -> Status {
    let mut message = clip(&e.to_string(), MAX_MESSAGE);
    match e {
        Error::InvalidArgument(violations) => {
            let mut d = details("INVALID_ARGUMENT");
            let (mut spent, total) = (0, violations.0.len());
            let mut sent = 0;
            for v in violations.0 {
                let (field, description) = (
                    clip(&v.field, MAX_FIELD),
                    clip(&v.description, MAX_DESCRIPTION),
                );
                spent += field.len() + description.len();
                if spent > VIOLATIONS_BUDGET {
                    break;
                }
                d.add_bad_request_violation(field, description);
                sent += 1;
            }
            if sent < total {
                message = format!("{message} ({} more violations not listed)", total - sent);
            }
            Status::with_error_details(Code::InvalidArgument, message, d)
        }
        Error::NotFound { kind, id } => {
            let mut d = details("NOT_FOUND");
            d.set_resource_info(kind, clip(&id, MAX_RESOURCE), "", "");
            Status::with_error_details(Code::NotFound, message, d)
        }
        Error::AlreadyExists { kind, id, .. } => {
            let mut d = details("ALREADY_EXISTS");
            d.set_resource_info(kind, clip(&id, MAX_RESOURCE), "", "");
            Status::with_error_details(Code::AlreadyExists, message, d)
        }
        Error::FailedPrecondition { reason, .. } => {
            Status::with_error_details(Code::FailedPrecondition, message, details(reason))
        }
        Error::Aborted { reason, .. } => {
            Status::with_error_details(Code::Aborted, message, details(reason))
        }
        Error::Unauthenticated(_) => {
            Status::with_error_details(Code::Unauthenticated, message, details("UNAUTHENTICATED"))
        }
        Error::PermissionDenied(_) => Status::with_error_details(
            Code::PermissionDenied,
            message,
            details("PERMISSION_DENIED"),
        ),
        Error::Unimplemented(_) => {
            Status::with_error_details(Code::Unimplemented, message, details("UNIMPLEMENTED"))
        }
        Error::Unavailable(_) => {
            Status::with_error_details(Code::Unavailable, message, details("UNAVAILABLE"))
        }
        Error::Internal(cause) if refused_text(&cause) => {
            tracing::info!("the database refused a NUL character in a request's text");
            Status::with_error_details(
                Code::InvalidArgument,
                "invalid request: text fields must not contain NUL (\\0) characters",
                details("INVALID_ARGUMENT"),
            )
        }
        Error::Internal(cause) => {
            tracing::error!(error = format!("{cause:#}"), "internal error");
            Status::with_error_details(Code::Internal, "internal error", details("INTERNAL"))
        }
    }
}

/// A status of `code` with the ErrorInfo every error carries (for errors
/// raised outside the handlers, such as admission's).
pub fn with_info(code: Code, message: impl Into<String>) -> Status {
    let reason = crate::api::layers::code_name(code as i32);
    Status::with_error_details(code, message, details(reason))
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        to_status(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_are_clipped_on_character_boundaries() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("ééé", 3), "é…");
        let mut v = crate::error::Violations::new();
        for i in 0..1000 {
            v.add(format!("entities[{i}]"), "x".repeat(1000));
        }
        let s = to_status(Error::InvalidArgument(v));
        let sent = s.get_details_bad_request().unwrap().field_violations;
        assert!(!sent.is_empty() && sent.len() < 1000);
        assert!(
            sent.iter()
                .all(|v| v.description.len() <= MAX_DESCRIPTION + 3)
        );
        assert!(s.message().contains("more violations not listed"));
        assert!(s.message().len() < 2 * MAX_MESSAGE);
    }
}

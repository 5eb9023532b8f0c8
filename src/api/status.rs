//! The one mapping from `Error` to `tonic::Status`, with google.rpc details:
//! ErrorInfo always, BadRequest for field violations, ResourceInfo for
//! NOT_FOUND and ALREADY_EXISTS. Internal causes are logged, never sent.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::{ERROR_DOMAIN, Error};

fn details(reason: &str) -> ErrorDetails {
    let mut d = ErrorDetails::new();
    d.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    d
}

pub fn to_status(e: Error) -> Status {
    let message = e.to_string();
    match e {
        Error::InvalidArgument(violations) => {
            let mut d = details("INVALID_ARGUMENT");
            for v in violations.0 {
                d.add_bad_request_violation(v.field, v.description);
            }
            Status::with_error_details(Code::InvalidArgument, message, d)
        }
        Error::NotFound { kind, id } => {
            let mut d = details("NOT_FOUND");
            d.set_resource_info(kind, id, "", "");
            Status::with_error_details(Code::NotFound, message, d)
        }
        Error::AlreadyExists { kind, id, .. } => {
            let mut d = details("ALREADY_EXISTS");
            d.set_resource_info(kind, id, "", "");
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
        Error::Internal(cause) => {
            tracing::error!(error = format!("{cause:#}"), "internal error");
            Status::with_error_details(Code::Internal, "internal error", details("INTERNAL"))
        }
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        to_status(e)
    }
}

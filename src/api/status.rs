//! The one mapping from `Error` to `tonic::Status`, with google.rpc details:
//! ErrorInfo always, BadRequest for field violations, ResourceInfo for
//! NOT_FOUND and ALREADY_EXISTS. Internal causes are logged, never sent.
//!
//! Errors travel in HTTP/2 trailers, which clients cap: 8 KiB of metadata
//! in gRPC's C++, Python and Java clients (16 KiB in tonic and hyper). They
//! may echo what the client sent: echoes are clipped, at most 50 field
//! violations are sent, and fewer when the encoded trailers would not fit,
//! so that a huge or very wrong request still gets its error back.

use std::collections::HashMap;

use sea_orm::{DbErr, RuntimeErr};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::{ERROR_DOMAIN, Error, Violation};

/// Longest message, violation field, violation description and resource name sent.
const MAX_MESSAGE: usize = 1024;
const MAX_FIELD: usize = 128;
const MAX_DESCRIPTION: usize = 256;
const MAX_RESOURCE: usize = 256;
/// Most field violations sent; the rest are counted in the message.
pub const MAX_VIOLATIONS: usize = 50;
/// Bytes an error may take in grpc-message (percent-encoded) plus
/// grpc-status-details-bin (base64): clients refuse metadata over 8 KiB,
/// counting each entry's name and value plus 32 bytes, and the rest of what
/// a trailers-only response carries (:status, content-type, grpc-status,
/// x-request-id, date, and those two names) takes under 400 of the last 512.
pub const MAX_TRAILER_BYTES: usize = 7 * 1024 + 512;
/// Message lengths tried, longest first, before violations are dropped:
/// the details name each violation, the message only summarises them.
const MESSAGE_CLIPS: [usize; 3] = [MAX_MESSAGE, 512, 256];

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

/// The bytes `s` takes in trailers as tonic writes them: its
/// percent-encoded grpc-message plus its base64 grpc-status-details-bin.
pub fn trailer_bytes(s: &Status) -> usize {
    let mut h = http::HeaderMap::new();
    if s.add_header(&mut h).is_err() {
        return usize::MAX;
    }
    ["grpc-message", "grpc-status-details-bin"]
        .iter()
        .filter_map(|k| h.get(*k))
        .map(|v| v.len())
        .sum()
}

/// INVALID_ARGUMENT with a BadRequest of at most MAX_VIOLATIONS violations,
/// as many as fit MAX_TRAILER_BYTES; the message counts those left out.
fn invalid_argument(message: &str, violations: Vec<Violation>) -> Status {
    let total = violations.len();
    let clipped: Vec<(String, String)> = violations
        .into_iter()
        .take(MAX_VIOLATIONS)
        .map(|v| {
            (
                clip(&v.field, MAX_FIELD),
                clip(&v.description, MAX_DESCRIPTION),
            )
        })
        .collect();
    let status = |sent: usize, message_max: usize| {
        let mut d = details("INVALID_ARGUMENT");
        for (field, description) in &clipped[..sent] {
            d.add_bad_request_violation(field.clone(), description.clone());
        }
        let mut message = clip(message, message_max);
        if sent < total {
            message = format!("{message} ({} more violations not listed)", total - sent);
        }
        Status::with_error_details(Code::InvalidArgument, message, d)
    };
    let fits = |s: &Status| trailer_bytes(s) <= MAX_TRAILER_BYTES;
    for max in MESSAGE_CLIPS {
        let s = status(clipped.len(), max);
        if fits(&s) {
            return s;
        }
    }
    // The most violations that fit with the shortest message: with none,
    // the error is a short message and an ErrorInfo, which always fit.
    let shortest = MESSAGE_CLIPS[MESSAGE_CLIPS.len() - 1];
    let (mut fitting, mut over) = (0, clipped.len());
    while over - fitting > 1 {
        let mid = (fitting + over) / 2;
        if fits(&status(mid, shortest)) {
            fitting = mid;
        } else {
            over = mid;
        }
    }
    status(fitting, shortest)
}

fn details(reason: &str) -> ErrorDetails {
    let mut d = ErrorDetails::new();
    d.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    d
}

/// The message of an INVALID_ARGUMENT, as `Error` displays it, built only
/// as far as it can be sent.
fn listed(violations: &[Violation]) -> String {
    let mut m = String::from("invalid request: ");
    for (i, v) in violations.iter().enumerate() {
        if m.len() > MAX_MESSAGE {
            break;
        }
        if i > 0 {
            m.push_str("; ");
        }
        m.push_str(&clip(&v.field, MAX_MESSAGE));
        m.push_str(": ");
        m.push_str(&clip(&v.description, MAX_MESSAGE));
    }
    m
}

pub fn to_status(e: Error) -> Status {
    let message = match &e {
        Error::InvalidArgument(v) => listed(&v.0),
        e => clip(&e.to_string(), MAX_MESSAGE),
    };
    match e {
        Error::InvalidArgument(violations) => invalid_argument(&message, violations.0),
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
    let reason = code_name(code as i32);
    Status::with_error_details(code, message, details(reason))
}

/// The canonical name of a gRPC status code, as grpc-go and grpcurl print it.
pub fn code_name(code: i32) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("UNKNOWN")
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        to_status(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn many(n: usize, field: impl Fn(usize) -> String, description: &str) -> Status {
        let mut v = crate::error::Violations::new();
        for i in 0..n {
            v.add(field(i), description);
        }
        to_status(Error::InvalidArgument(v))
    }

    fn sent(s: &Status) -> usize {
        s.get_details_bad_request()
            .map_or(0, |b| b.field_violations.len())
    }

    #[test]
    fn echoes_are_clipped_on_character_boundaries() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("ééé", 3), "é…");
        let s = many(1000, |i| format!("entities[{i}]"), &"x".repeat(1000));
        let violations = s.get_details_bad_request().unwrap().field_violations;
        assert!(!violations.is_empty() && violations.len() <= MAX_VIOLATIONS);
        assert!(
            violations
                .iter()
                .all(|v| v.description.len() <= MAX_DESCRIPTION + 3)
        );
        let rest = 1000 - violations.len();
        assert!(
            s.message()
                .ends_with(&format!("({rest} more violations not listed)")),
            "{}",
            s.message()
        );
        assert!(s.message().len() < 2 * MAX_MESSAGE);
    }

    #[test]
    fn error_trailers_stay_under_8_kib_whatever_the_violations_hold() {
        // Short violations: 50 of them are sent, the rest counted.
        let s = many(60, |i| format!("entities[{i}]"), "is not a resource");
        assert_eq!(sent(&s), MAX_VIOLATIONS);
        assert!(s.message().ends_with("(10 more violations not listed)"));
        assert!(trailer_bytes(&s) <= MAX_TRAILER_BYTES);
        // Long ones, and ones that percent-encode to three times their
        // size: fewer are sent, and the count says how many are left out.
        for (n, text) in [
            (60, "x".repeat(300)),
            (60, "é ".repeat(300)),
            (5, "%".repeat(300)),
            (10_000, "\n\t".repeat(500)),
        ] {
            let s = many(n, |i| format!("{}[{i}]", "f".repeat(200)), &text);
            assert!(
                trailer_bytes(&s) <= MAX_TRAILER_BYTES,
                "{n} × {}",
                text.len()
            );
            let k = sent(&s);
            assert!(k <= MAX_VIOLATIONS);
            if k < n {
                assert!(
                    s.message()
                        .ends_with(&format!("({} more violations not listed)", n - k))
                );
            }
        }
        // Few and small: all sent, nothing said of others.
        let s = many(3, |i| format!("f{i}"), "bad");
        assert_eq!(sent(&s), 3);
        assert!(!s.message().contains("more violations"));
    }
}

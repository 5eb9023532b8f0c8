//! What the s3 store may say about an `object_store` error. Messages are
//! built from the failure's kind: a transport error's kind, the HTTP
//! status and S3's error code (a fixed word such as `NoSuchBucket`), never
//! the server's message or the request (AWS echoes the string it signed).
//! `scrub` stays as a second line of defence.

use std::collections::BTreeMap;

use object_store::client::{HttpError, HttpErrorKind};

use crate::connectors::{ConnectorError, scrub};

/// S3's answer to a failed request, as far as we show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub status: Option<u16>,
    /// S3's error code (`SignatureDoesNotMatch`), when the body had one.
    pub code: Option<String>,
}

/// `e`, met while doing something to `what` (a path relative to the
/// store's root), as a connector error; `bucket` names the bucket.
pub(super) fn classify(
    e: &object_store::Error,
    bucket: &str,
    what: &str,
    credentials: &BTreeMap<String, String>,
) -> ConnectorError {
    let error = match e {
        object_store::Error::NotFound { .. } if refusal(e).code.as_deref() != Some("NoSuchBucket") => {
            ConnectorError::NotFound(what.to_string())
        }
        object_store::Error::InvalidPath { .. } => ConnectorError::Failed(
            "the bucket holds an object key that cannot be read (an empty or '.' segment, or a control character)"
                .into(),
        ),
        _ => match transport(e) {
            Some(kind) => ConnectorError::Transient(describe_transport(kind).into()),
            None => from_refusal(&refusal(e), bucket),
        },
    };
    match error {
        ConnectorError::NotFound(w) => ConnectorError::NotFound(scrub(&w, credentials)),
        ConnectorError::Auth(m) => ConnectorError::Auth(scrub(&m, credentials)),
        ConnectorError::Config(m) => ConnectorError::Config(scrub(&m, credentials)),
        ConnectorError::Transient(m) => ConnectorError::Transient(scrub(&m, credentials)),
        ConnectorError::RateLimited {
            message,
            retry_after,
        } => ConnectorError::RateLimited {
            message: scrub(&message, credentials),
            retry_after,
        },
        ConnectorError::Failed(m) => ConnectorError::Failed(scrub(&m, credentials)),
        other => other,
    }
}

/// The kind of a failure to reach the server, if that is what `e` is.
fn transport(e: &object_store::Error) -> Option<HttpErrorKind> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(h) = err.downcast_ref::<HttpError>() {
            return Some(h.kind());
        }
        current = err.source();
    }
    None
}

fn describe_transport(kind: HttpErrorKind) -> &'static str {
    match kind {
        HttpErrorKind::Connect => "could not connect to the S3 server",
        HttpErrorKind::Timeout => "the S3 server did not answer in time",
        HttpErrorKind::Request | HttpErrorKind::Interrupted => {
            "the connection to the S3 server was interrupted"
        }
        HttpErrorKind::Decode => "the S3 server's answer could not be decoded",
        _ => "the request to the S3 server failed",
    }
}

/// The HTTP status and S3 error code in `e`'s chain. object_store keeps
/// its request error private, so both are read from the chain's text, where
/// it writes "status code: 403 Forbidden: <Error><Code>…</Code>…".
pub(super) fn refusal(e: &object_store::Error) -> Refusal {
    let mut text = String::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        text.push_str(&err.to_string());
        text.push('\n');
        current = err.source();
    }
    parse_refusal(&text)
}

pub(super) fn parse_refusal(text: &str) -> Refusal {
    let status = text
        .split_once("status code: ")
        .and_then(|(_, rest)| rest.get(..3))
        .and_then(|s| s.parse().ok());
    // Only a code that is one plain word is kept: nothing else of the body.
    let code = text
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code.to_string())
        .filter(|c| !c.is_empty() && c.len() <= 64 && c.chars().all(|c| c.is_ascii_alphanumeric()));
    let status = status.or_else(|| {
        if text.contains("Server returned error response") {
            // An error in a 200 answer's body (S3's InternalError, SlowDown).
            Some(500)
        } else if text.contains("redirect without LOCATION") {
            // S3's answer to a request sent to another region's endpoint.
            Some(301)
        } else {
            None
        }
    });
    Refusal { status, code }
}

/// The connector error for S3's refusal `r`.
pub(super) fn from_refusal(r: &Refusal, bucket: &str) -> ConnectorError {
    let code = r.code.as_deref().unwrap_or("");
    let said = match (r.status, r.code.as_deref()) {
        (Some(s), Some(c)) => format!("{c} (HTTP {s})"),
        (Some(s), None) => format!("HTTP {s}"),
        (None, Some(c)) => c.to_string(),
        (None, None) => "no answer".to_string(),
    };
    match code {
        "SignatureDoesNotMatch"
        | "InvalidAccessKeyId"
        | "InvalidToken"
        | "ExpiredToken"
        | "TokenRefreshRequired"
        | "InvalidClientTokenId"
        | "MissingSecurityHeader" => {
            return ConnectorError::Auth(format!("the S3 server refused the access key: {said}"));
        }
        "AccessDenied" | "AllAccessDisabled" | "AccountProblem" => {
            return ConnectorError::Auth(format!(
                "the S3 server denied access to bucket {bucket}: {said}"
            ));
        }
        "NoSuchBucket" => {
            return ConnectorError::Config(format!("bucket {bucket} does not exist"));
        }
        "PermanentRedirect"
        | "AuthorizationHeaderMalformed"
        | "IllegalLocationConstraintException" => {
            return ConnectorError::Config(format!(
                "bucket {bucket} is not in the configured region (or not at this endpoint): {said}"
            ));
        }
        "InvalidBucketName" => {
            return ConnectorError::Config(format!("{bucket} is not a valid bucket name"));
        }
        "SlowDown" | "RequestLimitExceeded" | "ServiceUnavailable" => {
            return ConnectorError::RateLimited {
                message: format!("the S3 server asks to slow down: {said}"),
                retry_after: None,
            };
        }
        _ => {}
    }
    match r.status {
        Some(401 | 403) => ConnectorError::Auth(format!(
            "the S3 server refused the request for bucket {bucket}: {said}"
        )),
        Some(301 | 307) => ConnectorError::Config(format!(
            "the S3 server redirected the request for bucket {bucket}: is the region right? ({said})"
        )),
        Some(429 | 503) => ConnectorError::RateLimited {
            message: format!("the S3 server asks to slow down: {said}"),
            retry_after: None,
        },
        Some(408) | Some(500..=599) => {
            ConnectorError::Transient(format!("the S3 server failed: {said}"))
        }
        Some(_) => ConnectorError::Failed(format!("the S3 server refused the request: {said}")),
        None => ConnectorError::Failed(format!(
            "the request to bucket {bucket} failed (was it redirected? check the region and endpoint)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_code_are_read_and_nothing_else_of_the_body() {
        let text = "Error performing list request: Error performing GET http://h/b?list-type=2 in 3ms \
                    - Server returned non-2xx status code: 403 Forbidden: <?xml version=\"1.0\"?>\
                    <Error><Code>SignatureDoesNotMatch</Code><Message>s3cr3t</Message>\
                    <StringToSign>AWS4 s3cr3t</StringToSign></Error>";
        let r = parse_refusal(text);
        assert_eq!(
            r,
            Refusal {
                status: Some(403),
                code: Some("SignatureDoesNotMatch".into())
            }
        );
        let e = from_refusal(&r, "b");
        assert!(
            matches!(&e, ConnectorError::Auth(m) if m.contains("SignatureDoesNotMatch") && !m.contains("s3cr3t")),
            "{e:?}"
        );
    }

    #[test]
    fn a_redirect_of_another_region_is_a_config_error() {
        let r = parse_refusal(
            "Error performing GET https://s3.us-east-1.amazonaws.com/b in 20ms - Received redirect \
             without LOCATION, this normally indicates an incorrectly configured region",
        );
        assert_eq!(r.status, Some(301));
        assert!(matches!(from_refusal(&r, "b"), ConnectorError::Config(m) if m.contains("region")));
    }

    #[test]
    fn a_code_that_is_not_one_word_is_dropped() {
        let r = parse_refusal("status code: 400 Bad Request: <Code>a secret word</Code>");
        assert_eq!(
            r,
            Refusal {
                status: Some(400),
                code: None
            }
        );
    }

    #[test]
    fn each_refusal_has_its_kind() {
        let of = |status: u16, code: Option<&str>| {
            from_refusal(
                &Refusal {
                    status: Some(status),
                    code: code.map(String::from),
                },
                "b",
            )
        };
        assert!(
            matches!(of(404, Some("NoSuchBucket")), ConnectorError::Config(m) if m.contains("bucket b does not exist"))
        );
        assert!(matches!(
            of(403, Some("AccessDenied")),
            ConnectorError::Auth(_)
        ));
        assert!(matches!(
            of(403, Some("InvalidAccessKeyId")),
            ConnectorError::Auth(_)
        ));
        assert!(matches!(of(403, None), ConnectorError::Auth(_)));
        assert!(matches!(
            of(301, Some("PermanentRedirect")),
            ConnectorError::Config(_)
        ));
        assert!(matches!(
            of(503, Some("SlowDown")),
            ConnectorError::RateLimited { .. }
        ));
        assert!(matches!(
            of(500, Some("InternalError")),
            ConnectorError::Transient(_)
        ));
        assert!(matches!(
            of(400, Some("InvalidArgument")),
            ConnectorError::Failed(_)
        ));
    }
}

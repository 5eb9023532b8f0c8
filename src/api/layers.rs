//! The call layer: one log line per call (method, status code, latency,
//! request id), the request id echoed back, and tonic's codec errors mapped
//! to the codes DESIGN §7 promises (oversized: RESOURCE_EXHAUSTED instead of
//! OUT_OF_RANGE; undecodable: INVALID_ARGUMENT instead of INTERNAL), with
//! the ErrorInfo every error carries.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use http::HeaderValue;
use tonic::{Code, Status};
use tower::{Layer, Service};

use super::status::{code_name, with_info};

pub const REQUEST_ID: &str = "x-request-id";

#[derive(Clone, Default)]
pub struct CallLayer;

impl<S> Layer<S> for CallLayer {
    type Service = CallLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallLog { inner }
    }
}

#[derive(Clone)]
pub struct CallLog<S> {
    inner: S,
}

/// A random request id. Drawn from the thread-local CSPRNG: uuid's own v4
/// asks the kernel for entropy on every call.
fn new_request_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

/// Rewrites the status of a trailers-only error that carries no details (tonic's
/// own: codec, unknown method; or a bare `Status` of a handler): codec errors
/// get the codes above, and every one the ErrorInfo all errors carry. The
/// message arrives percent-encoded ("Error,%20decoded…"), so it is read back
/// through `Status`.
fn remap(headers: &mut http::HeaderMap) {
    let code = headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<i32>().ok());
    // Success, or one of our errors (they always carry details).
    if code.is_none_or(|c| c == 0) || headers.contains_key("grpc-status-details-bin") {
        return;
    }
    let Some(status) = Status::from_header_map(headers) else {
        return;
    };
    let message = status.message();
    let code = match status.code() {
        Code::OutOfRange if message.starts_with("Error, decoded message length too large") => {
            Code::ResourceExhausted
        }
        // Admission checks the framing first; these are tonic's own words
        // for what still gets past it (kept as a second line).
        Code::Internal
            if message.starts_with("failed to decode Protobuf message")
                || message.starts_with("protocol error: received message with")
                || message.starts_with("Unexpected EOF decoding stream")
                || message.starts_with("Error decompressing")
                || message == "Missing request message." =>
        {
            Code::InvalidArgument
        }
        other => other,
    };
    let status = with_info(code, message);
    if let Err(e) = status.add_header(headers) {
        tracing::warn!(error = %e, "could not rewrite an error without details");
    }
}

impl<S, B> Service<http::Request<B>> for CallLog<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let method = req.uri().path().to_string();
        let request_id = match req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()) {
            Some(id) if !id.is_empty() && id.len() <= 128 => id.to_string(),
            _ => new_request_id(),
        };
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            req.headers_mut().insert(REQUEST_ID, v);
        }
        let start = Instant::now();
        Box::pin(async move {
            let mut resp = inner.call(req).await?;
            remap(resp.headers_mut());
            // No grpc-status in the headers: the call succeeded (or, for a
            // stream, started); its final status travels in the trailers.
            let code = resp
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.parse::<i32>().ok())
                .unwrap_or(0);
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                resp.headers_mut().insert(REQUEST_ID, v);
            }
            let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
            tracing::info!(
                target: "tributary::call",
                method = %method,
                code = code_name(code),
                latency_ms = format!("{latency_ms:.2}"),
                request_id = %request_id,
                "call"
            );
            Ok(resp)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tonic_types::{ErrorDetails, StatusExt};

    use super::*;
    use crate::error::ERROR_DOMAIN;

    #[test]
    fn codec_errors_are_remapped() {
        // As tonic sends them: percent-encoded messages in a trailers-only response.
        let headers = |s: Status| s.into_http::<()>().headers().clone();
        let mut h = headers(Status::internal(
            "failed to decode Protobuf message: invalid wire type",
        ));
        remap(&mut h);
        let s = Status::from_header_map(&h).unwrap();
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(
            s.message(),
            "failed to decode Protobuf message: invalid wire type"
        );
        let info = s.get_details_error_info().unwrap();
        assert_eq!(
            (info.reason.as_str(), info.domain.as_str()),
            ("INVALID_ARGUMENT", ERROR_DOMAIN)
        );

        let mut h = headers(Status::out_of_range(
            "Error, decoded message length too large: found 5242892 bytes, the limit is: 4194304 bytes",
        ));
        remap(&mut h);
        let s = Status::from_header_map(&h).unwrap();
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert_eq!(
            s.get_details_error_info().unwrap().reason,
            "RESOURCE_EXHAUSTED"
        );

        for m in [
            "Missing request message.",
            "Unexpected EOF decoding stream.",
            "protocol error: received message with invalid compression flag: 116 (valid flags are 0 and 1), while sending request",
            "protocol error: received message with compressed-flag but no grpc-encoding was specified",
            "Error decompressing: invalid gzip header, while sending request",
        ] {
            let mut h = headers(Status::internal(m));
            remap(&mut h);
            assert_eq!(h.get("grpc-status"), Some(&HeaderValue::from(3)), "{m}");
        }

        // Other bare errors keep their code and gain ErrorInfo.
        for s in [
            Status::internal("internal error"),
            Status::out_of_range("out of range"),
            Status::not_found("failed to decode Protobuf message"),
            Status::unimplemented(""),
        ] {
            let code = s.code();
            let mut h = headers(s);
            remap(&mut h);
            let s = Status::from_header_map(&h).unwrap();
            assert_eq!(s.code(), code);
            assert_eq!(
                s.get_details_error_info().unwrap().reason,
                code_name(code as i32)
            );
        }
        // Errors with details, and successes, are left alone.
        let mut with_details = ErrorDetails::new();
        with_details.set_error_info("ETAG_MISMATCH", ERROR_DOMAIN, HashMap::new());
        for s in [
            Status::with_error_details(Code::Aborted, "stale", with_details),
            Status::ok(""),
        ] {
            let before = headers(s);
            let mut h = before.clone();
            remap(&mut h);
            assert_eq!(h, before);
        }
    }
}

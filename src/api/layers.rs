//! The call layer: one log line per call (method, status code, latency,
//! request id), the request id echoed back, and tonic's codec errors mapped
//! to the codes DESIGN §7 promises (oversized: RESOURCE_EXHAUSTED instead of
//! OUT_OF_RANGE; undecodable: INVALID_ARGUMENT instead of INTERNAL).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use http::HeaderValue;
use tower::{Layer, Service};

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

/// Rewrites the status of a trailers-only response produced by tonic's codec.
fn remap(headers: &mut http::HeaderMap) {
    let code = headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<i32>().ok());
    let message = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let new = match code {
        Some(11) if message.starts_with("Error, decoded message length too large") => Some(8),
        Some(13) if message.starts_with("failed to decode Protobuf message") => Some(3),
        _ => None,
    };
    if let Some(code) = new {
        headers.insert("grpc-status", HeaderValue::from(code));
    }
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
            _ => uuid::Uuid::new_v4().to_string(),
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
    use super::*;

    #[test]
    fn codec_errors_are_remapped() {
        let mut h = http::HeaderMap::new();
        h.insert("grpc-status", HeaderValue::from(13));
        h.insert(
            "grpc-message",
            HeaderValue::from_static("failed to decode Protobuf message: invalid wire type"),
        );
        remap(&mut h);
        assert_eq!(h.get("grpc-status"), Some(&HeaderValue::from(3)));
        let mut h = http::HeaderMap::new();
        h.insert("grpc-status", HeaderValue::from(13));
        h.insert("grpc-message", HeaderValue::from_static("internal error"));
        remap(&mut h);
        assert_eq!(h.get("grpc-status"), Some(&HeaderValue::from(13)));
    }
}

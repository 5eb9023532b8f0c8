//! Admission of API calls: a call takes one of the server's request slots
//! only once its whole request has arrived and is well framed.
//!
//! Why: a slot taken at HEADERS lets one client hold every slot by opening
//! streams and never sending their bodies, stalling every other caller.
//! Here the body must arrive within `body_timeout` (and fit in the message
//! limit) before a slot is taken, and one connection can open only
//! `--max-concurrent-streams` streams at once. Health and reflection never
//! pass through here, so they never wait behind API calls.
//!
//! Every `tributary.v1` method takes exactly one request message (none is
//! client-streaming), so buffering it changes nothing for the handler; the
//! gRPC framing is checked here too, so that an undecodable body is
//! INVALID_ARGUMENT (DESIGN §7) rather than tonic's INTERNAL.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use tokio::sync::Semaphore;
use tonic::{Code, Status, body::Body};
use tower::{Layer, Service};

use super::{MAX_MESSAGE_BYTES, status::with_info};

/// The methods admitted here: ours. Health, reflection and unknown paths
/// (tonic answers UNIMPLEMENTED without reading them) pass straight through.
const ADMITTED_PREFIX: &str = "/tributary.v1.";

/// gRPC's length-prefixed message header: a compression flag and a length.
const FRAME_HEADER: usize = 5;

#[derive(Clone)]
pub struct AdmissionLayer {
    slots: Arc<Semaphore>,
    body_timeout: Duration,
}

impl AdmissionLayer {
    /// `slots` calls served at once across all connections.
    pub fn new(slots: usize, body_timeout: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            body_timeout,
        }
    }
}

impl<S> Layer<S> for AdmissionLayer {
    type Service = Admission<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Admission {
            inner,
            slots: self.slots.clone(),
            body_timeout: self.body_timeout,
        }
    }
}

#[derive(Clone)]
pub struct Admission<S> {
    inner: S,
    slots: Arc<Semaphore>,
    body_timeout: Duration,
}

impl<S> Service<http::Request<Body>> for Admission<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if !req.uri().path().starts_with(ADMITTED_PREFIX) {
            return Box::pin(inner.call(req));
        }
        let slots = self.slots.clone();
        let body_timeout = self.body_timeout;
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let bytes = match read_body(body, body_timeout).await {
                Ok(b) => b,
                Err(status) => return Ok(status.into_http()),
            };
            let encoding = parts
                .headers
                .get("grpc-encoding")
                .and_then(|v| v.to_str().ok());
            if let Err(status) = check_frame(&bytes, encoding) {
                return Ok(status.into_http());
            }
            // Closed only if the semaphore were closed, which it never is.
            let Ok(_slot) = slots.acquire_owned().await else {
                return Ok(with_info(Code::Unavailable, "the server is shutting down").into_http());
            };
            let req = http::Request::from_parts(parts, Body::new(Full::new(bytes)));
            inner.call(req).await
        })
    }
}

/// The whole request body, within the deadline and the message limit.
async fn read_body(body: Body, within: Duration) -> Result<Bytes, Status> {
    let limited = Limited::new(body, MAX_MESSAGE_BYTES + FRAME_HEADER);
    match tokio::time::timeout(within, limited.collect()).await {
        Err(_) => Err(with_info(
            Code::DeadlineExceeded,
            format!("the request message did not arrive within {within:?} of the call's start"),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        // The client reset the stream or the connection failed: nobody is
        // left to read an answer, but say what happened.
        Ok(Err(_)) => Err(with_info(
            Code::Cancelled,
            "the request body was not received in full",
        )),
    }
}

fn too_large() -> Status {
    with_info(
        Code::ResourceExhausted,
        format!("the request message is larger than the limit of {MAX_MESSAGE_BYTES} bytes"),
    )
}

/// Checks that `body` is exactly one gRPC message frame that tonic can
/// decode: a compression flag of 0 or 1 (1 only with a grpc-encoding), and
/// a declared length that the body holds, neither more nor less.
fn check_frame(body: &[u8], encoding: Option<&str>) -> Result<(), Status> {
    let invalid = |m: String| with_info(Code::InvalidArgument, m);
    if body.is_empty() {
        return Err(invalid("the request carries no message".into()));
    }
    let Some((header, rest)) = body.split_first_chunk::<FRAME_HEADER>() else {
        return Err(invalid(format!(
            "the request body ends inside a message header ({} of {FRAME_HEADER} bytes)",
            body.len()
        )));
    };
    let [flag, len @ ..] = *header;
    let declared = u32::from_be_bytes(len) as usize;
    match (flag, encoding) {
        (0, _) => {}
        (1, None | Some("identity")) => {
            return Err(invalid(
                "the message is marked compressed but the call names no grpc-encoding".into(),
            ));
        }
        (1, Some(_)) => {}
        (other, _) => {
            return Err(invalid(format!(
                "invalid compression flag {other} (gRPC allows 0 or 1)"
            )));
        }
    }
    if declared > MAX_MESSAGE_BYTES {
        return Err(too_large());
    }
    if declared > rest.len() {
        return Err(invalid(format!(
            "the request body ends inside its message: {declared} bytes declared, {} received",
            rest.len()
        )));
    }
    if declared < rest.len() {
        return Err(invalid(
            "the request body holds more than the one message this method takes".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(flag: u8, declared: u32, payload: &[u8]) -> Vec<u8> {
        let mut b = vec![flag];
        b.extend_from_slice(&declared.to_be_bytes());
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn frames_are_checked() {
        assert!(check_frame(&frame(0, 3, b"abc"), None).is_ok());
        assert!(check_frame(&frame(0, 0, b""), None).is_ok());
        assert!(check_frame(&frame(1, 3, b"abc"), Some("gzip")).is_ok());
        let code = |b: &[u8], enc| check_frame(b, enc).unwrap_err().code();
        assert_eq!(code(b"", None), Code::InvalidArgument);
        assert_eq!(code(b"\0\0", None), Code::InvalidArgument);
        assert_eq!(code(b"this is not grpc", None), Code::InvalidArgument);
        assert_eq!(code(&frame(1, 3, b"abc"), None), Code::InvalidArgument);
        assert_eq!(
            code(&frame(1, 3, b"abc"), Some("identity")),
            Code::InvalidArgument
        );
        assert_eq!(code(&frame(2, 3, b"abc"), None), Code::InvalidArgument);
        assert_eq!(code(&frame(0, 100, b"abcde"), None), Code::InvalidArgument);
        assert_eq!(code(&frame(0, 2, b"abc"), None), Code::InvalidArgument);
        assert_eq!(
            code(&frame(0, u32::MAX, b"abc"), None),
            Code::ResourceExhausted
        );
    }
}

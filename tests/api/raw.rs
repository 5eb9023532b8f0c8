//! A raw HTTP/2 client for what a well-behaved gRPC client never sends:
//! streams that stall before their body, frames that lie about their
//! length, flags gRPC does not define. And every RPC of `tributary.v1`,
//! read from the server's own descriptor set, so that a method added later
//! is covered without editing a list.

use std::{net::SocketAddr, time::Duration};

use bytes::Bytes;
use h2::client::{ResponseFuture, SendRequest};
use prost::Message;
use tokio::net::TcpStream;

/// One method of `tributary.v1`: its path, whether it streams responses,
/// and its request message's name (e.g. `GetRunRequest`).
#[derive(Debug, Clone)]
pub struct Rpc {
    pub path: String,
    pub server_streaming: bool,
    pub input: String,
}

impl Rpc {
    /// `Service/Method`.
    pub fn name(&self) -> &str {
        self.path.trim_start_matches("/tributary.v1.")
    }
}

/// `tributary.v1`'s file descriptors, as the server registers them
/// (decoded once: tests look fields up per RPC).
pub fn descriptors() -> &'static [prost_types::FileDescriptorProto] {
    static FILES: std::sync::OnceLock<Vec<prost_types::FileDescriptorProto>> =
        std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        prost_types::FileDescriptorSet::decode(tributary::pb::FILE_DESCRIPTOR_SET)
            .unwrap()
            .file
            .into_iter()
            .filter(|f| f.package() == "tributary.v1")
            .collect()
    })
}

/// Every RPC the server's descriptor set declares in `tributary.v1`.
pub fn every_rpc() -> Vec<Rpc> {
    let mut out = Vec::new();
    for file in descriptors() {
        for service in &file.service {
            for m in &service.method {
                assert!(
                    !m.client_streaming(),
                    "{}: admission buffers one request message per call",
                    m.name()
                );
                out.push(Rpc {
                    path: format!("/tributary.v1.{}/{}", service.name(), m.name()),
                    server_streaming: m.server_streaming(),
                    input: m
                        .input_type()
                        .trim_start_matches(".tributary.v1.")
                        .to_string(),
                });
            }
        }
    }
    assert!(
        out.len() >= 42,
        "the descriptor set lists {} RPCs",
        out.len()
    );
    out
}

/// A message's top-level fields: name -> (number, type).
pub fn fields_of(message: &str) -> std::collections::BTreeMap<String, (i32, i32)> {
    descriptors()
        .iter()
        .flat_map(|f| &f.message_type)
        .find(|m| m.name() == message)
        .unwrap_or_else(|| panic!("no message {message}"))
        .field
        .iter()
        .map(|f| (f.name().to_string(), (f.number(), f.r#type() as i32)))
        .collect()
}

/// One HTTP/2 connection to the server.
pub struct Raw {
    send: SendRequest<Bytes>,
    ping: h2::PingPong,
    addr: SocketAddr,
    key: String,
}

/// How a call ended: its gRPC status code (None: the stream started and
/// was still open when we stopped reading) and message.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub code: Option<i32>,
    pub message: String,
    /// The ErrorInfo domain of an error ("" without one).
    pub domain: String,
    /// The response messages' bytes, as framed on the wire.
    pub body: Vec<u8>,
}

impl Raw {
    pub async fn connect(addr: SocketAddr, key: &str) -> Raw {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (send, mut conn) = h2::client::handshake(tcp).await.unwrap();
        let ping = conn.ping_pong().unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Raw {
            send,
            ping,
            addr,
            key: key.to_string(),
        }
    }

    fn request(&self, path: &str, extra: &[(&str, &str)]) -> http::Request<()> {
        let mut b = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{path}", self.addr))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        if !self.key.is_empty() {
            b = b.header("x-api-key", &self.key);
        }
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
    }

    /// Opens a stream and sends its headers only, or None when the
    /// connection has no stream to give within `within` (the server's
    /// per-connection limit is reached).
    pub async fn open_stalled(
        &mut self,
        path: &str,
        within: Duration,
    ) -> Option<(ResponseFuture, h2::SendStream<Bytes>)> {
        // The handle itself, not a clone: it remembers its last stream,
        // which must have opened before the next may.
        let send = &mut self.send;
        let ready = std::future::poll_fn(|cx| send.poll_ready(cx));
        tokio::time::timeout(within, ready).await.ok()?.ok()?;
        let req = self.request(path, &[]);
        Some(self.send.send_request(req, false).unwrap())
    }

    /// The streams the server lets this connection open at once (its SETTINGS).
    pub fn stream_limit(&self) -> usize {
        self.send.current_max_send_streams()
    }

    /// Waits until the server has read everything sent so far on this connection.
    pub async fn sync(&mut self) {
        self.ping.ping(h2::Ping::opaque()).await.unwrap();
    }

    /// Sends `body` as a call's whole request, with `headers`, and reads
    /// how it ends (a started stream is read for at most `patience`).
    pub async fn call(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        patience: Duration,
    ) -> Outcome {
        let mut send = self.send.clone().ready().await.unwrap();
        let (resp, mut stream) = send
            .send_request(self.request(path, headers), body.is_empty())
            .unwrap();
        if !body.is_empty() {
            stream.send_data(Bytes::from(body), true).unwrap();
        }
        outcome(resp, patience).await
    }
}

/// How the call of `resp` ended.
pub async fn outcome(resp: ResponseFuture, patience: Duration) -> Outcome {
    let resp = tokio::time::timeout(Duration::from_secs(30), resp)
        .await
        .expect("response headers within 30s")
        .expect("a response");
    let from = |h: &http::HeaderMap, body: Vec<u8>| match tonic::Status::from_header_map(h) {
        Some(s) => Outcome {
            code: Some(s.code() as i32),
            message: s.message().to_string(),
            domain: tonic_types::StatusExt::get_details_error_info(&s)
                .map(|i| i.domain)
                .unwrap_or_default(),
            body,
        },
        None => Outcome {
            code: None,
            message: String::new(),
            domain: String::new(),
            body,
        },
    };
    let head = from(resp.headers(), Vec::new());
    if head.code.is_some() {
        return head;
    }
    // The call started: its status is in the trailers.
    let mut body = resp.into_body();
    let mut bytes = Vec::new();
    let read = async {
        while let Some(chunk) = body.data().await {
            let chunk = chunk.ok()?;
            let _ = body.flow_control().release_capacity(chunk.len());
            bytes.extend_from_slice(&chunk);
        }
        body.trailers().await.ok().flatten()
    };
    match tokio::time::timeout(patience, read).await {
        Ok(Some(trailers)) => from(&trailers, bytes),
        _ => Outcome {
            code: None,
            message: "the stream was still open".into(),
            domain: String::new(),
            body: bytes,
        },
    }
}

/// One gRPC message frame: flag, declared length, then `payload`.
pub fn frame(flag: u8, declared: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![flag];
    b.extend_from_slice(&declared.to_be_bytes());
    b.extend_from_slice(payload);
    b
}

/// A well-formed frame around `payload`.
pub fn message(payload: &[u8]) -> Vec<u8> {
    frame(0, payload.len() as u32, payload)
}

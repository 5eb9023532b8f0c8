//! Malformed frames and messages against every RPC of a real `tributary`
//! process: whatever arrives, the answer is a deliberate status — never
//! INTERNAL, never UNKNOWN — and nothing panics in the server's log.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use rand::{Rng, SeedableRng, rngs::StdRng};
use tributary::api::MAX_MESSAGE_BYTES;

use crate::{
    helpers::eventually,
    raw::{Raw, every_rpc, frame, message},
};

const BIN: &str = env!("CARGO_BIN_EXE_tributary");
const UNKNOWN: i32 = 2;
const INTERNAL: i32 = 13;

/// Bodies no client should send: broken framing, then frames around
/// payloads that are not the method's message.
/// What a case is called, the headers it adds, its body.
type Case = (String, Vec<(&'static str, &'static str)>, Vec<u8>);

fn malformed(rng: &mut StdRng) -> Vec<Case> {
    let none: Vec<(&str, &str)> = Vec::new();
    let gzip = vec![("grpc-encoding", "gzip")];
    let mut cases = vec![
        ("no body".to_string(), none.clone(), Vec::new()),
        (
            "text".into(),
            none.clone(),
            b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        ),
        ("a short header".into(), none.clone(), vec![0, 0, 0]),
        (
            "declares 100, sends 5".into(),
            none.clone(),
            frame(0, 100, b"12345"),
        ),
        (
            "declares 2, sends 5".into(),
            none.clone(),
            frame(0, 2, b"12345"),
        ),
        (
            "compressed, no encoding".into(),
            none.clone(),
            frame(1, 3, b"abc"),
        ),
        (
            "compressed, not gzip".into(),
            gzip.clone(),
            frame(1, 3, b"abc"),
        ),
        ("flag 116".into(), none.clone(), frame(116, 3, b"abc")),
        ("flag 255".into(), none.clone(), frame(255, 0, b"")),
        (
            "two messages".into(),
            none.clone(),
            [message(b""), message(b"")].concat(),
        ),
        (
            "declares 5 MiB".into(),
            none.clone(),
            frame(0, 5 << 20, b"abc"),
        ),
        // Wrong wire types, truncated varints, overruns, bad UTF-8, field 0,
        // unterminated groups, deep nesting.
        (
            "field 1 as a varint".into(),
            none.clone(),
            message(&[0x08, 0x01]),
        ),
        (
            "field 1 as a fixed64".into(),
            none.clone(),
            message(&[0x09, 1, 2, 3, 4, 5, 6, 7, 8]),
        ),
        (
            "a truncated varint".into(),
            none.clone(),
            message(&[0x08, 0xff]),
        ),
        (
            "a length past the end".into(),
            none.clone(),
            message(&[0x0a, 0x7f, b'a']),
        ),
        (
            "invalid UTF-8".into(),
            none.clone(),
            message(&[0x0a, 0x02, 0xff, 0xfe]),
        ),
        (
            "field number 0".into(),
            none.clone(),
            message(&[0x00, 0x01]),
        ),
        ("an open group".into(), none.clone(), message(&[0x0b])),
        ("wire type 7".into(), none.clone(), message(&[0x0f, 0x01])),
        (
            "nesting 200 deep".into(),
            none.clone(),
            message(&[0x1a, 0x7f].repeat(200)),
        ),
    ];
    for i in 0..4 {
        let n = rng.gen_range(1..512);
        let bytes: Vec<u8> = (0..n).map(|_| rng.r#gen()).collect();
        cases.push((format!("random bytes #{i}"), none.clone(), bytes.clone()));
        cases.push((
            format!("random message #{i}"),
            none.clone(),
            message(&bytes),
        ));
    }
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_on_every_rpc_get_deliberate_errors_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .env("TRIBUTARY_LOG", "info")
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let key = eventually(Duration::from_secs(30), || async {
        let key = std::fs::read_to_string(dir.path().join("data/admin.key")).ok()?;
        tokio::net::TcpStream::connect(addr).await.ok()?;
        Some(key.trim().to_string())
    })
    .await;

    let mut rng = StdRng::seed_from_u64(9);
    let mut raw = Raw::connect(addr, &key).await;
    let mut sent = 0;
    let mut bad = Vec::new();
    let mut codes = std::collections::BTreeMap::<Option<i32>, usize>::new();
    for rpc in every_rpc() {
        for (what, headers, body) in malformed(&mut rng) {
            let out = raw
                .call(&rpc.path, &headers, body, Duration::from_millis(500))
                .await;
            sent += 1;
            *codes.entry(out.code).or_default() += 1;
            match out.code {
                Some(UNKNOWN | INTERNAL) => bad.push(format!("{} ({what}): {out:?}", rpc.path)),
                // A streaming method may take a garbage message that decodes
                // to a valid request: its stream starts and stays open.
                None if rpc.server_streaming => {}
                None => bad.push(format!("{} ({what}): no status", rpc.path)),
                Some(_) => {}
            }
        }
    }
    // One oversize message per method kind: RESOURCE_EXHAUSTED, in full.
    let huge = message(&vec![0x0a; MAX_MESSAGE_BYTES + 1]);
    for path in [
        "/tributary.v1.ConnectionService/CreateConnection",
        "/tributary.v1.RunService/WatchRun",
    ] {
        let out = raw
            .call(path, &[], huge.clone(), Duration::from_secs(5))
            .await;
        sent += 1;
        assert_eq!(out.code, Some(8), "{path}: {out:?}");
    }

    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(sent >= 100, "sent {sent}");
    // The key was good (nothing UNAUTHENTICATED), and decodable garbage
    // reached the handlers (answers other than INVALID_ARGUMENT).
    assert!(!codes.contains_key(&Some(16)), "{codes:?}");
    assert!(codes.keys().any(|c| *c != Some(3)), "{codes:?}");
    assert!(
        bad.is_empty(),
        "{} of {sent} calls:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    assert!(!log.contains("internal error"), "internal errors:\n{log}");
}

//! The `tributary` binary itself: JSON call logs, graceful shutdown on
//! SIGTERM, `migrate`, and bad flags.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const BIN: &str = env!("CARGO_BIN_EXE_tributary");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for the child's exit, failing after `within`.
fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20)); // poll interval, bounded by the deadline
    }
}

#[tokio::test]
async fn json_logs_one_line_per_call_and_sigterm_drains() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--log-format",
            "json",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let channel = crate::helpers::eventually(Duration::from_secs(30), || async {
        tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
            .ok()
    })
    .await;
    let mut health = HealthClient::new(channel.clone());
    let status = health
        .check(HealthCheckRequest {
            service: "tributary.v1.SyncService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status, 1, "SERVING");
    let mut req = tonic::Request::new(tributary::pb::ListConnectionsRequest::default());
    req.metadata_mut()
        .insert("x-request-id", "req-abc-123".parse().unwrap());
    let err = tributary::pb::connection_service_client::ConnectionServiceClient::new(channel)
        .list_connections(req)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    assert_eq!(err.metadata().get("x-request-id").unwrap(), "req-abc-123");

    // SIGTERM: the process stops accepting, drains (our idle connection holds
    // it for the grace period), and exits cleanly.
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = wait_exit(&mut child, Duration::from_secs(15));

    let lines: Vec<String> = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect();
    assert!(
        status.success(),
        "exit status {status:?}; server said:\n{}",
        lines.join("\n")
    );
    let call = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["method"] == "/tributary.v1.ConnectionService/ListConnections")
        .unwrap_or_else(|| panic!("no JSON call line in {lines:#?}"));
    assert_eq!(call["code"], "UNAUTHENTICATED");
    assert_eq!(call["request_id"], "req-abc-123");
    assert!(call["latency_ms"].as_str().unwrap().parse::<f64>().is_ok());
    assert!(
        lines
            .iter()
            .any(|l| l.contains("received shutdown signal") && l.contains("SIGTERM"))
    );
    // The admin key is printed once on first start, never in a log line.
    let key = std::fs::read_to_string(dir.path().join("admin.key")).unwrap();
    assert_eq!(lines.iter().filter(|l| l.contains(key.trim())).count(), 1);
    assert!(
        lines
            .iter()
            .filter(|l| l.contains(key.trim()))
            .all(|l| !l.starts_with('{'))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["admin.key", "secret.key"] {
            let mode = std::fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }
}

#[test]
fn migrate_creates_the_store_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = Command::new(BIN)
            .arg("migrate")
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(dir.path().join("tributary.db").exists());
}

#[test]
fn bad_flags_exit_with_a_usage_error() {
    let out = Command::new(BIN)
        .args(["serve", "--heartbeat-interval", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("500ms, 5s, 2m"));
    let out = Command::new(BIN)
        .args(["serve", "--data-dir", "/tmp", "--database-url", "mysql://x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgres://"));
}

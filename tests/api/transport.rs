//! What one client can do to the others: stall streams before their body,
//! send bodies that do not decode, hold a health watch through shutdown.

use std::time::{Duration, Instant};

use tonic::transport::Endpoint;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tributary::pb;

use crate::{
    helpers::{Backend, spawn_app_with},
    raw::{Raw, every_rpc, frame, outcome},
};

const DEADLINE_EXCEEDED: i32 = 4;
const INVALID_ARGUMENT: i32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_streams_on_one_connection_leave_health_and_other_callers_alone() {
    let app = spawn_app_with(Backend::Sqlite, |a| {
        a.request_body_timeout = Duration::from_secs(8);
    })
    .await
    .unwrap();
    let viewer = app.key_with_role(pb::ApiKeyRole::Viewer).await;

    // One connection asks for 1,024 streams and sends only their HEADERS.
    let mut raw = Raw::connect(app.addr, &viewer).await;
    raw.sync().await; // the server's SETTINGS have arrived: its stream limit is known
    let mut stalled = Vec::new();
    for _ in 0..1024 {
        match raw
            .open_stalled(
                "/tributary.v1.ConnectionService/ListConnections",
                Duration::from_millis(300),
            )
            .await
        {
            Some(s) => stalled.push(s),
            None => break,
        }
    }
    raw.sync().await;
    // Past 128 the server refuses a connection's streams (REFUSED_STREAM).
    assert_eq!(raw.stream_limit(), 128);
    // More connections stall 128 streams each until there are more stalled
    // streams than the 1,024 request slots, which once would all have been held.
    let mut others = Vec::new();
    for _ in 0..16 {
        if stalled.len() >= 1024 + 128 {
            break;
        }
        let mut more = Raw::connect(app.addr, &viewer).await;
        more.sync().await;
        for _ in 0..128 {
            if let Some(s) = more
                .open_stalled(
                    "/tributary.v1.SyncService/ListSyncs",
                    Duration::from_millis(300),
                )
                .await
            {
                stalled.push(s);
            }
        }
        more.sync().await;
        others.push(more);
    }
    assert!(
        stalled.len() >= 1024 + 128,
        "{} streams stalled",
        stalled.len()
    );

    // Meanwhile another client's health check and API call answer at once.
    let other = Endpoint::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let started = Instant::now();
    let health = tokio::time::timeout(
        Duration::from_secs(1),
        HealthClient::new(other.clone()).check(HealthCheckRequest {
            service: String::new(),
        }),
    )
    .await
    .expect("a health check within 1 s")
    .unwrap()
    .into_inner();
    assert_eq!(health.status, 1, "SERVING");
    let ws = tokio::time::timeout(
        Duration::from_secs(1),
        app.workspaces_as(&viewer)
            .get_workspace(pb::GetWorkspaceRequest::default()),
    )
    .await
    .expect("an API call within 1 s")
    .unwrap()
    .into_inner();
    assert_eq!(ws.slug, "default");
    assert!(started.elapsed() < Duration::from_secs(2));

    // The stalled calls end for want of a body, never having taken a slot.
    let (resp, _body) = stalled.remove(0);
    let out = outcome(resp, Duration::from_secs(10)).await;
    assert_eq!(out.code, Some(DEADLINE_EXCEEDED), "{out:?}");
    assert!(out.message.contains("did not arrive"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_bodies_are_invalid_argument_on_every_rpc() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await.unwrap();
    let mut raw = Raw::connect(app.addr, &app.admin_key).await;
    let cases: [(&str, Vec<u8>); 4] = [
        ("garbage", b"this is not a gRPC frame at all".to_vec()),
        ("truncated", frame(0, 100, b"12345")),
        ("compressed without grpc-encoding", frame(1, 3, b"abc")),
        ("undefined flag", frame(b't', 3, b"abc")),
    ];
    for rpc in every_rpc() {
        for (what, body) in &cases {
            let out = raw
                .call(&rpc.path, &[], body.clone(), Duration::from_secs(5))
                .await;
            assert_eq!(
                out.code,
                Some(INVALID_ARGUMENT),
                "{} with a {what} body: {out:?}",
                rpc.path
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_health_watch_ends_when_shutdown_begins() {
    let mut app = spawn_app_with(Backend::Sqlite, |a| {
        a.shutdown_grace = Duration::from_secs(8);
    })
    .await
    .unwrap();
    let mut watch = HealthClient::new(app.channel.clone())
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(watch.message().await.unwrap().unwrap().status, 1, "SERVING");

    let took = app.shut_down().await;
    assert!(
        took < Duration::from_secs(4),
        "shutdown took {took:?}: the watch held it"
    );
    // The watcher learnt NOT_SERVING, then its stream ended.
    let mut last = None;
    while let Ok(Some(m)) = watch.message().await {
        last = Some(m.status);
    }
    assert_eq!(last, Some(2), "NOT_SERVING last");
}

//! Local HTTP servers for the http_api engine and the SaaS manifests: each
//! test builds an axum router that serves a vendor's documented shapes, and
//! these helpers start it and sync through it.

use std::collections::HashMap;

use serde_json::Value;
use tributary::pb;

use crate::{
    engine::run_to_end,
    helpers::{TestApp, json_struct},
};

/// Serves `router` on an ephemeral port of 127.0.0.1 until the test ends;
/// answers its base URL (`http://127.0.0.1:PORT`, no trailing slash).
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A connection of `provider` with `config` and `credentials`.
pub async fn connect(
    app: &TestApp,
    provider: &str,
    config: Value,
    credentials: &[(&str, &str)],
) -> pb::Connection {
    app.connections()
        .create_connection(pb::CreateConnectionRequest {
            name: format!("{provider} test"),
            provider: provider.into(),
            config: Some(json_struct(config)),
            credentials: credentials
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// VerifyConnection of `connection_id`, answered.
pub async fn verify(app: &TestApp, connection_id: &str) -> pb::Connection {
    app.connections()
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: connection_id.into(),
            as_destination: false,
        })
        .await
        .unwrap()
        .into_inner()
}

/// A sync of `entities` of the connection with the catalog's bindings
/// (tables named after the entities, UPSERT on their primary keys).
pub async fn sync_of(app: &TestApp, connection_id: &str, entities: &[&str]) -> pb::Sync {
    app.faker_sync(
        connection_id,
        &format!("sync {}", entities.join(" ")),
        entities,
    )
    .await
}

/// Runs the sync to its end and answers the run, which must succeed.
pub async fn run_ok(app: &TestApp, sync_id: &str) -> pb::Run {
    let (run, _) = run_to_end(app, sync_id).await;
    assert_eq!(
        run.status(),
        pb::RunStatus::Succeeded,
        "{:?} {:?}",
        run.result_reason_code(),
        run.error
    );
    run
}

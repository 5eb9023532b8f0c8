//! Bullhorn through its built-in manifest, against a local server shaped
//! as the REST API behind a session's restUrl: the `BhRestToken` header,
//! `GET query/<Entity>?where=…&fields=*&orderBy=…&start=&count=` answering
//! `{"start", "count", "data"}`, dates as epoch milliseconds and to-one
//! associations as nested objects.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};
use tributary::pb;

use crate::{
    helpers::{Backend, TestApp, spawn_executing},
    http_peer::{connect, run_ok, serve, sync_of},
    saas_checks::{assert_landed, verify, verify_fails},
};

const SESSION: &str = "bh-session-9f2c";

#[derive(Default)]
struct Instance {
    entities: HashMap<String, Vec<Value>>,
    /// (entity, where, start, count) of every query.
    queries: Vec<(String, String, usize, usize)>,
}

type Shared = Arc<Mutex<Instance>>;

async fn query(
    State(instance): State<Shared>,
    Path(entity): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if headers.get("bhresttoken").and_then(|v| v.to_str().ok()) != Some(SESSION) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errorMessage": "Bad 'BhRestToken' or timed-out.", "errorCode": 401})),
        )
            .into_response();
    }
    assert_eq!(q.get("fields").map(String::as_str), Some("*"));
    let filter = q.get("where").cloned().unwrap_or_default();
    let start: usize = q.get("start").map(|s| s.parse().unwrap()).unwrap_or(0);
    let count: usize = q.get("count").map(|s| s.parse().unwrap()).unwrap_or(20);
    let mut i = instance.lock().unwrap();
    i.queries
        .push((entity.clone(), filter.clone(), start, count));
    let since: i64 = filter
        .strip_prefix("dateLastModified>=")
        .map(|v| v.parse().expect("epoch milliseconds"))
        .unwrap_or(i64::MIN);
    let rows: Vec<Value> = i
        .entities
        .get(&entity)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| {
            r.get("dateLastModified")
                .is_none_or(|d| d.as_i64().unwrap() >= since)
        })
        .skip(start)
        .take(count)
        .collect();
    Json(json!({"start": start, "count": rows.len(), "data": rows})).into_response()
}

fn candidate(id: i64, modified: i64) -> Value {
    json!({
        "id": id, "firstName": format!("Ada{id}"), "lastName": "Lovelace",
        "email": if id == 2 { Value::Null } else { json!(format!("ada{id}@example.com")) },
        "status": "Active", "salary": 85_000.5, "isDeleted": false,
        "owner": {"id": 7, "firstName": "Rita", "lastName": "Recruiter"},
        "dateAdded": 1_700_000_000_000i64, "dateLastModified": modified,
    })
}

fn instance() -> Instance {
    Instance {
        entities: HashMap::from([
            (
                "Candidate".to_string(),
                (1..=5)
                    .map(|id| candidate(id, 1_710_000_000_000 + id * 1000))
                    .collect(),
            ),
            (
                "CorporateUser".to_string(),
                vec![
                    json!({"id": 7, "firstName": "Rita", "lastName": "Recruiter", "enabled": true,
                           "departments": {"total": 1, "data": [{"id": 3, "name": "Sales"}]}}),
                    json!({"id": 8, "firstName": "Sam", "lastName": "Sourcer", "enabled": false,
                           "departments": {"total": 0, "data": []}}),
                ],
            ),
        ]),
        ..Default::default()
    }
}

async fn bullhorn_server() -> (Shared, String) {
    let state: Shared = Arc::new(Mutex::new(instance()));
    let base = serve(
        Router::new()
            .route("/rest-services/e999/query/{entity}", get(query))
            .with_state(state.clone()),
    )
    .await;
    (state, base)
}

async fn bullhorn_connection(app: &TestApp, base: &str, token: &str) -> pb::Connection {
    connect(
        app,
        "bullhorn",
        json!({"base_url": format!("{base}/rest-services/e999/")}),
        &[("bh_rest_token", token)],
    )
    .await
}

#[tokio::test]
async fn bullhorn_verifies_a_session_and_refuses_a_timed_out_one() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (_state, base) = bullhorn_server().await;
    let good = bullhorn_connection(&app, &base, SESSION).await;
    let v = verify(&app, &good.id).await;
    assert_eq!(
        v.status(),
        pb::ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    let bad = bullhorn_connection(&app, &base, "bh-timed-out").await;
    verify_fails(&app, &bad.id, "bh-timed-out").await;
}

#[tokio::test]
async fn bullhorn_syncs_candidates_and_users_then_candidates_modified_since() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (state, base) = bullhorn_server().await;
    let conn = bullhorn_connection(&app, &base, SESSION).await;
    let sync = sync_of(&app, &conn.id, &["candidates", "corporate_users"]).await;
    run_ok(&app, &sync.id).await;
    let (candidates, users) = {
        let s = state.lock().unwrap();
        let starts: Vec<usize> = s
            .queries
            .iter()
            .filter(|q| q.0 == "Candidate" && q.1 == "dateLastModified>=0")
            .map(|q| q.2)
            .collect();
        // Offsets grow by count (500, Bullhorn's cap): all five, then an empty page.
        assert!(starts.ends_with(&[0, 500]), "{:?}", s.queries);
        assert!(s.queries.iter().all(|q| q.3 == 500), "{:?}", s.queries);
        (
            s.entities["Candidate"].clone(),
            s.entities["CorporateUser"].clone(),
        )
    };
    assert_landed(&app, "candidates", &candidates, &["id"]).await;
    assert_landed(&app, "corporate_users", &users, &["id"]).await;

    {
        let mut s = state.lock().unwrap();
        s.queries.clear();
        let c = s.entities.get_mut("Candidate").unwrap();
        c[0]["status"] = json!("Placed");
        c[0]["dateLastModified"] = json!(1_720_000_000_000i64);
    }
    run_ok(&app, &sync.id).await;
    let candidates = {
        let s = state.lock().unwrap();
        let last = s.queries.iter().rfind(|q| q.0 == "Candidate").unwrap();
        assert_eq!(
            last.1, "dateLastModified>=1710000005000",
            "from the last cursor"
        );
        s.entities["Candidate"].clone()
    };
    assert_landed(&app, "candidates", &candidates, &["id"]).await;
}

//! Starlink through its built-in manifest, against a local server shaped
//! as the Enterprise API V2: a service account's client-credentials grant
//! at the OIDC token endpoint, then `public/v2/…` lists in the
//! `{"content": {"totalCount", "pageIndex", "limit", "isLastPage",
//! "results"}, "errors", "isValid"}` envelope, paged by `page` (from 0)
//! and `limit`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use tributary::pb;

use crate::{
    helpers::{Backend, TestApp, spawn_executing},
    http_peer::{connect, run_ok, serve, sync_of},
    saas_checks::{assert_landed, verify, verify_fails},
};

const CLIENT_ID: &str = "svc-starlink-1";
const CLIENT_SECRET: &str = "svc-secret-1";
const ACCESS_TOKEN: &str = "eyJ.starlink.access";

#[derive(Default)]
struct Account {
    service_lines: Vec<Value>,
    user_terminals: Vec<Value>,
    /// (collection, page, limit) of every list call.
    lists: Vec<(String, u64, u64)>,
}

type Shared = Arc<Mutex<Account>>;

async fn token(headers: HeaderMap, body: String) -> Response {
    let mut form: HashMap<String, String> = reqwest::Url::parse(&format!("http://form/?{body}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    if let Some(basic) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        use base64::Engine;
        let pair = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .unwrap_or_default();
        if let Some((id, secret)) = String::from_utf8_lossy(&pair).split_once(':') {
            form.insert("client_id".into(), id.into());
            form.insert("client_secret".into(), secret.into());
        }
    }
    let get = |k: &str| form.get(k).map(String::as_str);
    if get("grant_type") == Some("client_credentials")
        && get("client_id") == Some(CLIENT_ID)
        && get("client_secret") == Some(CLIENT_SECRET)
    {
        return Json(json!({"access_token": ACCESS_TOKEN, "expires_in": 900,
                           "token_type": "Bearer", "scope": "api"}))
        .into_response();
    }
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_client"})),
    )
        .into_response()
}

async fn list(
    State(account): State<Shared>,
    Path(collection): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {ACCESS_TOKEN}"))
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let page: u64 = q.get("page").map(|p| p.parse().unwrap()).unwrap_or(0);
    let limit: u64 = q.get("limit").map(|p| p.parse().unwrap()).unwrap_or(50);
    let mut a = account.lock().unwrap();
    a.lists.push((collection.clone(), page, limit));
    let all = match collection.as_str() {
        "service-lines" => a.service_lines.clone(),
        "user-terminals" => a.user_terminals.clone(),
        "addresses" => vec![],
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    // This server pages by two whatever the limit, as a smaller page size
    // would; the client must keep asking until a page is empty.
    let size = limit.min(2) as usize;
    let results: Vec<Value> = all
        .iter()
        .skip(page as usize * size)
        .take(size)
        .cloned()
        .collect();
    let last = (page as usize + 1) * size >= all.len();
    Json(json!({
        "content": {"totalCount": all.len(), "pageIndex": page, "limit": size,
                    "isLastPage": last, "results": results},
        "errors": [], "warnings": [], "information": [], "isValid": true
    }))
    .into_response()
}

fn service_line(n: u64) -> Value {
    json!({
        "addressReferenceId": format!("a1b2c3d4-0000-0000-0000-{n:012}"),
        "serviceLineNumber": format!("SL-{n:07}-{:05}-{:02}", n * 13, n % 97),
        "nickname": if n == 2 { Value::Null } else { json!(format!("Vessel {n}")) },
        "productReferenceId": "eu-maritime-50gb",
        "delayedProductId": null,
        "optInProductId": null,
        "startDate": format!("2024-0{n}-01T00:00:00+00:00"),
        "endDate": null,
        "publicIp": n.is_multiple_of(2),
        "active": true,
        "aviationMetadata": null,
    })
}

fn user_terminal(n: u64) -> Value {
    json!({
        "userTerminalId": format!("01000000-00000000-{n:08x}"),
        "kitSerialNumber": format!("KIT30{n:07}"),
        "dishSerialNumber": format!("4PB00{n:06}"),
        "serviceLineNumber": if n < 3 { json!(format!("SL-{n:07}-{:05}-{:02}", n * 13, n % 97)) } else { Value::Null },
        "active": n < 3,
        "routers": [{"routerId": format!("0100000000000000{n:08X}"), "userTerminalId": format!("01000000-00000000-{n:08x}"), "nickname": null}]
    })
}

fn account() -> Account {
    Account {
        service_lines: (1..=3).map(service_line).collect(),
        user_terminals: (1..=4).map(user_terminal).collect(),
        ..Default::default()
    }
}

async fn starlink_server() -> (Shared, String) {
    let state: Shared = Arc::new(Mutex::new(account()));
    let base = serve(
        Router::new()
            .route("/api/auth/connect/token", post(token))
            .route("/api/public/v2/{collection}", get(list))
            .with_state(state.clone()),
    )
    .await;
    (state, base)
}

async fn starlink_connection(app: &TestApp, base: &str, secret: &str) -> pb::Connection {
    connect(
        app,
        "starlink",
        json!({"base_url": format!("{base}/api"),
               "token_url": format!("{base}/api/auth/connect/token")}),
        &[("client_id", CLIENT_ID), ("client_secret", secret)],
    )
    .await
}

#[tokio::test]
async fn starlink_verifies_with_a_service_account_and_refuses_a_wrong_secret() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (_state, base) = starlink_server().await;
    let good = starlink_connection(&app, &base, CLIENT_SECRET).await;
    let v = verify(&app, &good.id).await;
    assert_eq!(
        v.status(),
        pb::ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    let bad = starlink_connection(&app, &base, "svc-wrong-secret").await;
    verify_fails(&app, &bad.id, "svc-wrong-secret").await;
}

#[tokio::test]
async fn starlink_syncs_service_lines_and_user_terminals_in_full_each_run() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (state, base) = starlink_server().await;
    let conn = starlink_connection(&app, &base, CLIENT_SECRET).await;
    let sync = sync_of(&app, &conn.id, &["service_lines", "user_terminals"]).await;
    run_ok(&app, &sync.id).await;
    let (lines, terminals) = {
        let s = state.lock().unwrap();
        let pages =
            |c: &str| -> Vec<u64> { s.lists.iter().filter(|l| l.0 == c).map(|l| l.1).collect() };
        assert_eq!(pages("service-lines"), vec![0, 1, 2]);
        assert_eq!(pages("user-terminals"), vec![0, 1, 2]);
        (s.service_lines.clone(), s.user_terminals.clone())
    };
    assert_landed(&app, "service_lines", &lines, &["serviceLineNumber"]).await;
    assert_landed(&app, "user_terminals", &terminals, &["userTerminalId"]).await;

    // Read in full: a cancelled service line leaves the table.
    {
        let mut s = state.lock().unwrap();
        s.service_lines.remove(1);
        s.user_terminals[0]["active"] = json!(false);
    }
    run_ok(&app, &sync.id).await;
    let (lines, terminals) = {
        let s = state.lock().unwrap();
        (s.service_lines.clone(), s.user_terminals.clone())
    };
    assert_landed(&app, "service_lines", &lines, &["serviceLineNumber"]).await;
    assert_landed(&app, "user_terminals", &terminals, &["userTerminalId"]).await;
}

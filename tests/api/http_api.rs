//! The http_api engine through the real server: a local API (axum) that
//! serves every paginator, auth kind and failure the engine handles, and
//! a connection whose config is a manifest read against it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use tributary::pb::{self, ConnectionStatus, ResultReasonCode, RunStatus};

use crate::{
    engine::run_to_end,
    helpers::{Backend, TestApp, json_struct, spawn_app_with, spawn_executing},
    http_peer::{connect, run_ok, serve, sync_of, verify},
    pg_fixtures::{Cell, sqlite_cells},
};

/// What the API holds and saw.
#[derive(Default)]
struct Api {
    items: Vec<Value>,
    /// Every request: path, query, headers, when.
    seen: Vec<Seen>,
    /// Answers to the next requests of a path, before the normal one.
    scripted: HashMap<String, Vec<Scripted>>,
    /// The refresh token the token endpoint accepts now.
    refresh_token: String,
    refreshes: usize,
}

/// A status and headers to answer with.
type Scripted = (StatusCode, Vec<(&'static str, String)>);

#[derive(Clone)]
struct Seen {
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    at: Instant,
}

type Shared = Arc<Mutex<Api>>;

const PER_PAGE: usize = 2;

fn items() -> Vec<Value> {
    vec![
        json!({"id": 1, "name": "Ada", "note": null, "score": 10, "active": true,
               "updated_at": "2024-01-01T00:00:00Z", "address": {"city": "Paris", "zip": "75001"}, "tags": ["a", "b"]}),
        json!({"id": 2, "name": "", "note": "n2", "score": 20, "active": false,
               "updated_at": "2024-01-02T00:00:00Z", "address": {"city": "Oslo", "zip": ""}, "tags": []}),
        json!({"id": 3, "name": "Émile ✓", "note": null, "score": 30, "active": true,
               "updated_at": "2024-01-03T00:00:00Z", "address": null, "tags": ["c"]}),
        // Later pages bring a new field and a float where ints were.
        json!({"id": 4, "name": "Dee", "note": "", "score": 40, "active": true, "tier": "gold",
               "updated_at": "2024-01-04T00:00:00Z", "address": {"city": "Rome", "zip": "00100"}, "tags": ["d"]}),
        json!({"id": 5, "name": "Eve", "note": null, "score": 2.5, "active": false, "tier": null,
               "updated_at": "2024-01-05T00:00:00Z", "address": {"city": "Lima", "zip": "15001"}, "tags": ["e", "f"]}),
    ]
}

async fn api() -> (String, Shared) {
    let state: Shared = Arc::new(Mutex::new(Api {
        items: items(),
        refresh_token: "rt-1".into(),
        ..Default::default()
    }));
    let router = axum::Router::new()
        .fallback(handle)
        .with_state(state.clone());
    (serve(router).await, state)
}

/// `a=1&b=2` (a query or a form body) as a map.
fn pairs(text: &str) -> HashMap<String, String> {
    reqwest::Url::parse(&format!("http://local/?{text}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn query_of(uri: &Uri) -> HashMap<String, String> {
    pairs(uri.query().unwrap_or(""))
}

/// `take` items from `skip` on: one page.
fn slice(items: &[Value], skip: usize, take: usize) -> Vec<Value> {
    items.iter().skip(skip).take(take).cloned().collect()
}

fn json_page(body: Value) -> Response {
    axum::Json(body).into_response()
}

fn status(code: StatusCode) -> Response {
    (code, axum::Json(json!({"error": code.as_str()}))).into_response()
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = query_of(&uri);
    let mut api = state.lock().unwrap();
    api.seen.push(Seen {
        path: path.clone(),
        query: query.clone(),
        headers: headers.clone(),
        at: Instant::now(),
    });
    if let Some(script) = api.scripted.get_mut(&path)
        && !script.is_empty()
    {
        let (code, hdrs) = script.remove(0);
        let mut r = status(code);
        for (k, v) in hdrs {
            r.headers_mut().insert(k, v.parse().unwrap());
        }
        return r;
    }
    let items = api.items.clone();
    let num = |k: &str, d: usize| query.get(k).map_or(d, |v| v.parse().unwrap());
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    match (method, path.as_str()) {
        (Method::POST, "/oauth/token") => {
            let form = pairs(std::str::from_utf8(&body).unwrap_or(""));
            let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
            match get("grant_type") {
                "client_credentials"
                    if get("client_id") == "cid" && get("client_secret") == "cs" =>
                {
                    json_page(json!({"access_token": "cc-token", "expires_in": 3600}))
                }
                "refresh_token"
                    if get("refresh_token") == api.refresh_token && get("client_id") == "cid" =>
                {
                    // Each grant rotates the refresh token; the old one dies.
                    api.refreshes += 1;
                    let n = api.refreshes;
                    api.refresh_token = format!("rt-{}", n + 1);
                    json_page(
                        json!({"access_token": format!("at-{n}"), "expires_in": 3600,
                                     "refresh_token": api.refresh_token}),
                    )
                }
                _ => status(StatusCode::BAD_REQUEST),
            }
        }
        (Method::GET, "/page") => {
            let page = num("page", 1);
            let per = num("per_page", PER_PAGE);
            let data = slice(&items, (page - 1) * per, per);
            json_page(json!({"data": data, "meta": {"total_pages": items.len().div_ceil(per)}}))
        }
        (Method::GET, "/offset") => {
            let (offset, limit) = (num("offset", 0), num("limit", 100));
            let data = slice(&items, offset, limit);
            json_page(json!({"items": data, "total": items.len()}))
        }
        (Method::GET, "/cursor") => {
            let at = num("after", 0);
            let data = slice(&items, at, PER_PAGE);
            let next = (at + PER_PAGE < items.len()).then(|| (at + PER_PAGE).to_string());
            json_page(json!({"data": data, "paging": {"next": next}}))
        }
        (Method::GET, "/link") => {
            let p = num("p", 0);
            let data = slice(&items, p * PER_PAGE, PER_PAGE);
            let mut r = json_page(Value::Array(data));
            if (p + 1) * PER_PAGE < items.len() {
                let link = format!(
                    "</link?p={}>; rel=\"next\", </link?p=0>; rel=\"first\"",
                    p + 1
                );
                r.headers_mut().insert("link", link.parse().unwrap());
            }
            r
        }
        (Method::GET, "/jsonlink") => {
            let p = num("p", 0);
            let data = slice(&items, p * PER_PAGE, PER_PAGE);
            let next = ((p + 1) * PER_PAGE < items.len()).then(|| format!("/jsonlink?p={}", p + 1));
            json_page(json!({"results": data, "links": {"next": next}}))
        }
        (Method::POST, "/search") => {
            let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let at: usize = req["page_token"].as_str().map_or(0, |t| t.parse().unwrap());
            let n = req["max_results"].as_u64().unwrap_or(100) as usize;
            let data = slice(&items, at, n);
            let next = (at + n < items.len()).then(|| (at + n).to_string());
            json_page(json!({"found": data, "next_page_token": next}))
        }
        (Method::GET, "/all") => json_page(Value::Array(items)),
        (Method::GET, "/changes") => {
            let since = query.get("since").cloned().unwrap_or_default();
            let data: Vec<Value> = items
                .iter()
                .filter(|i| i["updated_at"].as_str().unwrap() >= since.as_str())
                .cloned()
                .collect();
            json_page(json!({"data": data}))
        }
        (Method::GET, "/users") => {
            json_page(json!([{"id": 1, "login": "ada"}, {"id": 2, "login": "bob"}]))
        }
        (Method::GET, p) if p.starts_with("/users/") && p.ends_with("/orders") => {
            let user: u64 = p
                .trim_start_matches("/users/")
                .trim_end_matches("/orders")
                .parse()
                .unwrap();
            json_page(
                json!([{"order_id": user * 10 + 1, "total": "12.50"}, {"order_id": user * 10 + 2, "total": "0.10"}]),
            )
        }
        (Method::GET, "/auth/api-key-header")
            if headers.get("x-api-key").is_some_and(|v| v == "key-1") =>
        {
            json_page(Value::Array(items))
        }
        (Method::GET, "/auth/api-key-query")
            if query.get("api_key").is_some_and(|v| v == "key-2") =>
        {
            json_page(Value::Array(items))
        }
        // user:pa:ss
        (Method::GET, "/auth/basic") if auth == "Basic dXNlcjpwYTpzcw==" => {
            json_page(Value::Array(items))
        }
        (Method::GET, "/auth/bearer") if auth == "Bearer tok-123" => json_page(Value::Array(items)),
        (Method::GET, "/auth/client-credentials") if auth == "Bearer cc-token" => {
            json_page(Value::Array(items))
        }
        (Method::GET, "/auth/refresh")
            if auth == format!("Bearer at-{}", api.refreshes) && api.refreshes > 0 =>
        {
            json_page(Value::Array(items))
        }
        (Method::GET, "/auth/oauth1") if signed(host(&headers), &uri, &auth) => {
            json_page(Value::Array(items))
        }
        (Method::GET, p) if p.starts_with("/auth/") => status(StatusCode::UNAUTHORIZED),
        (Method::GET, "/accounts/acme/events")
            if headers.get("x-key").is_some_and(|k| k == "var-secret") =>
        {
            // Bounds come as local dates: everything from that day on.
            let since = query.get("since").cloned().unwrap_or_default();
            let data: Vec<Value> = items
                .iter()
                .filter(|i| i["updated_at"].as_str().unwrap()[..10] >= *since.as_str())
                .cloned()
                .collect();
            json_page(Value::Array(data))
        }
        (Method::GET, "/paced") => {
            let page = num("page", 1);
            json_page(
                json!({"data": [{"id": page, "updated_at": "2024-01-01T00:00:00Z"}], "pages": 8}),
            )
        }
        _ => status(StatusCode::NOT_FOUND),
    }
}

/// Whether an OAuth 1.0a header is signed with the test's secrets: the
/// signature recomputed from its own nonce and timestamp.
fn signed(host: &str, uri: &Uri, header: &str) -> bool {
    let Some(fields) = header.strip_prefix("OAuth ") else {
        return false;
    };
    let field = |name: &str| {
        fields.split(", ").find_map(|f| {
            f.strip_prefix(&format!("{name}=\""))
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_string)
        })
    };
    let (Some(nonce), Some(ts), Some(sig)) = (
        field("oauth_nonce"),
        field("oauth_timestamp"),
        field("oauth_signature"),
    ) else {
        return false;
    };
    let url = reqwest::Url::parse(&format!("http://{host}{uri}")).unwrap();
    let want = tributary::connectors::http::oauth1::authorization(
        "GET",
        &url,
        "1234567_SB1",
        "ck",
        "cs-secret",
        "tid",
        "ts-secret",
        &nonce,
        ts.parse().unwrap_or(0),
    );
    field("oauth_signature_method").as_deref() == Some("HMAC-SHA256")
        && want.contains(&format!("oauth_signature=\"{sig}\""))
}

fn host(headers: &HeaderMap) -> &str {
    headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
}

/// A manifest of one resource `name` at `endpoint`.
fn manifest(base: &str, auth: Value, resources: Value) -> Value {
    let mut client =
        json!({"base_url": base, "retry": {"backoff_seconds": 0.05, "max_backoff_seconds": 0.2}});
    if !auth.is_null() {
        client["auth"] = auth;
    }
    json!({"client": client, "resources": resources})
}

fn resource(name: &str, endpoint: Value) -> Value {
    json!({"name": name, "endpoint": endpoint, "primary_key": ["id"],
           "incremental": {"cursor_path": "updated_at"}})
}

const COLUMNS: &[&str] = &[
    "id",
    "name",
    "note",
    "score",
    "active",
    "updated_at",
    "address",
    "tags",
    "tier",
];

/// The rows the items should land as, in COLUMNS order.
fn want(items: &[Value]) -> Vec<Vec<Cell>> {
    items
        .iter()
        .map(|i| {
            COLUMNS
                .iter()
                .map(|c| match &i[*c] {
                    Value::Null => Cell::Null,
                    Value::Bool(b) => Cell::Int(*b as i64),
                    Value::Number(n) if n.is_i64() && *c != "score" => {
                        Cell::Int(n.as_i64().unwrap())
                    }
                    Value::Number(n) => Cell::Real(n.as_f64().unwrap()),
                    Value::String(s) => Cell::Text(s.clone()),
                    nested => Cell::Text(nested.to_string()),
                })
                .collect()
        })
        .collect()
}

async fn landed(app: &TestApp, table: &str) -> Vec<Vec<Cell>> {
    let mut rows = sqlite_cells(
        &app.data_dir.path().join("warehouse.db"),
        table,
        COLUMNS,
        "id",
    )
    .await;
    for row in &mut rows {
        // score: integers on some pages, a float on another. A batch that
        // holds the float writes its integers as REAL, one before it as
        // INTEGER; SQLite keeps both, equal in value.
        if let Cell::Int(n) = row[3] {
            row[3] = Cell::Real(n as f64);
        }
    }
    rows
}

/// A sync of `entities` with batches of `batch_size` records.
async fn small_batches(app: &TestApp, conn: &str, entities: &[&str], batch_size: u64) -> pb::Sync {
    app.new_sync(pb::CreateSyncRequest {
        name: format!("http {}", entities.join(" ")),
        connection_id: conn.into(),
        entities: entities.iter().map(|e| e.to_string()).collect(),
        execution_config: Some(json_struct(json!({"batch_size": batch_size}))),
        ..Default::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_paginator_reads_every_record_with_the_schema_widened_across_pages() {
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let (base, state) = api().await;
    let resources = json!([
        resource(
            "by_page",
            json!({"path": "page", "params": {"per_page": "2"}, "data_selector": "data",
            "paginator": {"type": "page_number", "base_page": 1, "total_path": "meta.total_pages"}})
        ),
        resource(
            "by_offset",
            json!({"path": "/offset", "data_selector": "items",
            "paginator": {"type": "offset", "limit": 2, "total_path": "total"}})
        ),
        resource(
            "by_cursor",
            json!({"path": "cursor", "data_selector": "data",
            "paginator": {"type": "cursor", "cursor_path": "paging.next", "cursor_param": "after"}})
        ),
        resource(
            "by_link",
            json!({"path": "link", "paginator": {"type": "header_link"}})
        ),
        resource(
            "by_json_link",
            json!({"path": "jsonlink", "data_selector": "results",
            "paginator": {"type": "json_link", "next_url_path": "links.next"}})
        ),
        resource(
            "by_post",
            json!({"path": "search", "method": "POST", "json": {"max_results": 2},
            "data_selector": "found",
            "paginator": {"type": "cursor", "cursor_path": "next_page_token", "cursor_body_path": "page_token"}})
        ),
        resource(
            "single",
            json!({"path": "all", "paginator": {"type": "none"}})
        ),
    ]);
    let conn = connect(
        &app,
        "http_api",
        manifest(&base, Value::Null, resources),
        &[],
    )
    .await;
    assert_eq!(
        verify(&app, &conn.id).await.status(),
        ConnectionStatus::Active
    );
    let entities = [
        "by_page",
        "by_offset",
        "by_cursor",
        "by_link",
        "by_json_link",
        "by_post",
        "single",
    ];
    let sync = small_batches(&app, &conn.id, &entities, 2).await;
    run_ok(&app, &sync.id).await;
    for table in entities {
        assert_eq!(landed(&app, table).await, want(&items()), "{table}");
    }
    // Each paginator asked for exactly the pages it needed.
    let seen = state.lock().unwrap().seen.clone();
    let count = |path: &str| seen.iter().filter(|s| s.path == path).count();
    // One page of /page to verify, one as the run's own check, then three.
    assert_eq!(count("/page"), 5);
    assert_eq!(count("/offset"), 3);
    assert_eq!(count("/cursor"), 3);
    assert_eq!(count("/link"), 3);
    assert_eq!(count("/jsonlink"), 3);
    assert_eq!(count("/search"), 3);
    assert_eq!(count("/all"), 1);
    let link_pages: Vec<Option<&String>> = seen
        .iter()
        .filter(|s| s.path == "/link")
        .map(|s| s.query.get("p"))
        .collect();
    assert_eq!(
        link_pages,
        [None, Some(&"1".to_string()), Some(&"2".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_auth_kind_is_sent_as_the_api_expects_and_a_rotated_refresh_token_is_kept() {
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let (base, state) = api().await;
    let token_url = format!("{base}/oauth/token");
    type Case<'a> = (&'a str, Value, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "api-key-header",
            json!({"type": "api_key", "name": "X-Api-Key", "value": "{credentials.key}"}),
            vec![("key", "key-1")],
        ),
        (
            "api-key-query",
            json!({"type": "api_key", "name": "api_key", "location": "query", "value": "{credentials.key}"}),
            vec![("key", "key-2")],
        ),
        (
            "basic",
            json!({"type": "http_basic", "username": "user", "password": "{credentials.password}"}),
            vec![("password", "pa:ss")],
        ),
        (
            "bearer",
            json!({"type": "bearer", "token": "{credentials.token}"}),
            vec![("token", "tok-123")],
        ),
        (
            "oauth1",
            json!({"type": "oauth1_hmac_sha256", "realm": "1234567_SB1", "consumer_key": "ck",
                "consumer_secret": "{credentials.consumer_secret}", "token_id": "tid",
                "token_secret": "{credentials.token_secret}"}),
            vec![
                ("consumer_secret", "cs-secret"),
                ("token_secret", "ts-secret"),
            ],
        ),
        (
            "client-credentials",
            json!({"type": "oauth2_client_credentials", "token_url": token_url,
            "client_id": "cid", "client_secret": "{credentials.client_secret}"}),
            vec![("client_secret", "cs")],
        ),
        (
            "refresh",
            json!({"type": "oauth2_refresh_token", "token_url": token_url,
            "client_id": "cid", "refresh_token": "{credentials.refresh_token}"}),
            vec![("refresh_token", "rt-1")],
        ),
    ];
    for (path, auth, creds) in cases {
        let resources = json!([resource("items", json!({"path": format!("auth/{path}")}))]);
        let conn = connect(&app, "http_api", manifest(&base, auth, resources), &creds).await;
        let verified = verify(&app, &conn.id).await;
        assert_eq!(
            verified.status(),
            ConnectionStatus::Active,
            "{path}: {:?}",
            verified.verification_error
        );
        let sync = sync_of(&app, &conn.id, &["items"]).await;
        run_ok(&app, &sync.id).await;
        assert_eq!(landed(&app, "items").await, want(&items()), "{path}");
        if path == "refresh" {
            // Verification and the run each rotated the token: the stored
            // credential follows, so a third use still works.
            assert_eq!(state.lock().unwrap().refreshes, 2);
            run_ok(&app, &sync.id).await;
            assert_eq!(state.lock().unwrap().refreshes, 3);
            let c = app
                .connections()
                .get_connection(pb::GetConnectionRequest {
                    connection_id: conn.id.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            let shown = format!("{c:?}");
            assert!(
                !shown.contains("rt-"),
                "no refresh token is returned: {shown}"
            );
        }
        app.syncs()
            .delete_sync(pb::DeleteSyncRequest {
                sync_id: sync.id.clone(),
            })
            .await
            .unwrap();
    }
    // The API key never rode in a header when it belonged in the query.
    let seen = state.lock().unwrap().seen.clone();
    assert!(
        seen.iter()
            .filter(|s| s.path == "/auth/api-key-query")
            .all(|s| s.query.get("api_key").is_some_and(|k| k == "key-2")
                && !s.headers.contains_key("authorization"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_resource_is_read_once_per_parent_record() {
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let (base, state) = api().await;
    let resources = json!([
        {"name": "users", "endpoint": {"path": "users"}, "primary_key": ["id"]},
        {"name": "orders", "endpoint": {"path": "users/{user_id}/orders"}, "primary_key": ["order_id"],
         "parent": {"resource": "users", "field": "id", "placeholder": "user_id", "include_from_parent": ["login"]}},
    ]);
    let conn = connect(
        &app,
        "http_api",
        manifest(&base, Value::Null, resources),
        &[],
    )
    .await;
    let sync = sync_of(&app, &conn.id, &["orders"]).await;
    run_ok(&app, &sync.id).await;
    let got = sqlite_cells(
        &app.data_dir.path().join("warehouse.db"),
        "orders",
        &["order_id", "total", "_users_login"],
        "order_id",
    )
    .await;
    let t = |s: &str| Cell::Text(s.into());
    assert_eq!(
        got,
        vec![
            vec![Cell::Int(11), t("12.50"), t("ada")],
            vec![Cell::Int(12), t("0.10"), t("ada")],
            vec![Cell::Int(21), t("12.50"), t("bob")],
            vec![Cell::Int(22), t("0.10"), t("bob")],
        ]
    );
    let seen = state.lock().unwrap().seen.clone();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    // The run's check reads a page of the first resource without a parent.
    assert_eq!(
        paths,
        ["/users", "/users", "/users/1/orders", "/users/2/orders"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_run_asks_only_for_what_changed_since_the_last() {
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let (base, state) = api().await;
    let resources = json!([{"name": "items", "endpoint": {"path": "changes", "data_selector": "data"},
        "primary_key": ["id"],
        "incremental": {"cursor_path": "updated_at", "start_param": "since", "initial_value": "2024-01-02T00:00:00Z"}}]);
    let conn = connect(
        &app,
        "http_api",
        manifest(&base, Value::Null, resources),
        &[],
    )
    .await;
    let sync = small_batches(&app, &conn.id, &["items"], 2).await;
    run_ok(&app, &sync.id).await;
    assert_eq!(
        landed(&app, "items").await,
        want(&items()[1..]),
        "from the initial value on"
    );
    {
        let mut api = state.lock().unwrap();
        api.items[2]["name"] = json!("Changed");
        api.items[2]["updated_at"] = json!("2024-02-01T00:00:00Z");
        api.seen.clear();
    }
    run_ok(&app, &sync.id).await;
    let seen = state.lock().unwrap().seen.clone();
    // The run's check (from the initial value), then the read after the
    // cursor the first run committed: the greatest updated_at it saw.
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[1].query.get("since").map(String::as_str),
        Some("2024-01-05T00:00:00Z")
    );
    let mut now = items();
    now[2]["name"] = json!("Changed");
    now[2]["updated_at"] = json!("2024-02-01T00:00:00Z");
    assert_eq!(landed(&app, "items").await, want(&now[1..]));
}

fn retry_after(
    code: StatusCode,
    seconds: &str,
    times: usize,
) -> Vec<(StatusCode, Vec<(&'static str, String)>)> {
    (0..times)
        .map(|_| (code, vec![("retry-after", seconds.to_string())]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_waited_out_and_server_errors_tried_again() {
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let (base, state) = api().await;
    let resources = json!([resource("items", json!({"path": "all"}))]);
    let conn = connect(
        &app,
        "http_api",
        manifest(&base, Value::Null, resources),
        &[],
    )
    .await;
    let sync = sync_of(&app, &conn.id, &["items"]).await;

    // Three 429s asking for a second each, then the page: the run waits.
    state.lock().unwrap().scripted.insert(
        "/all".into(),
        retry_after(StatusCode::TOO_MANY_REQUESTS, "1", 3),
    );
    run_ok(&app, &sync.id).await;
    let seen = state.lock().unwrap().seen.clone();
    let at: Vec<Instant> = seen
        .iter()
        .filter(|s| s.path == "/all")
        .map(|s| s.at)
        .collect();
    assert_eq!(
        at.len(),
        5,
        "three refusals, then the check's page and the read's"
    );
    for pair in at[..4].windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(950),
            "Retry-After honoured"
        );
    }
    assert_eq!(landed(&app, "items").await, want(&items()));

    // 500s and 503s are tried again with backoff.
    state.lock().unwrap().scripted.insert(
        "/all".into(),
        vec![
            (StatusCode::INTERNAL_SERVER_ERROR, vec![]),
            (StatusCode::SERVICE_UNAVAILABLE, vec![]),
        ],
    );
    run_ok(&app, &sync.id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_past_its_rate_limit_budget_ends_rate_limited() {
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let (base, state) = api().await;
    let mut m = manifest(
        &base,
        Value::Null,
        json!([resource("items", json!({"path": "all"}))]),
    );
    m["client"]["retry"]["rate_limit_budget_seconds"] = json!(1.5);
    let conn = connect(&app, "http_api", m, &[]).await;
    let sync = sync_of(&app, &conn.id, &["items"]).await;
    state.lock().unwrap().scripted.insert(
        "/all".into(),
        retry_after(StatusCode::TOO_MANY_REQUESTS, "1", 50),
    );
    let started = Instant::now();
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Failed);
    assert_eq!(
        run.result_reason_code(),
        ResultReasonCode::RateLimited,
        "{:?}",
        run.error
    );
    // One wait of a second fits the budget, a second does not; the run
    // does not try again on its own.
    let calls = state
        .lock()
        .unwrap()
        .seen
        .iter()
        .filter(|s| s.path == "/all")
        .count();
    assert_eq!(calls, 2, "a refusal, one wait, a refusal");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_end_the_run_auth_error_and_mark_the_connection() {
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let (base, _state) = api().await;
    let auth = json!({"type": "bearer", "token": "{credentials.token}"});
    let resources = json!([resource("items", json!({"path": "auth/bearer"}))]);
    let conn = connect(
        &app,
        "http_api",
        manifest(&base, auth, resources),
        &[("token", "wrong-secret-token")],
    )
    .await;
    let sync = sync_of(&app, &conn.id, &["items"]).await;
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Failed);
    assert_eq!(run.result_reason_code(), ResultReasonCode::AuthError);
    let c = app
        .connections()
        .get_connection(pb::GetConnectionRequest {
            connection_id: conn.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(c.status(), ConnectionStatus::Error);
    let why = c.verification_error.clone().unwrap_or_default();
    assert!(why.contains("401"), "{why}");
    assert!(
        !format!("{c:?}{run:?}").contains("wrong-secret"),
        "no secret shown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_one_connection_together_stay_within_its_rate_limit() {
    let app = spawn_app_with(Backend::Sqlite, |a| {
        a.executor_concurrency = 3;
        a.engine.heartbeat_interval = Duration::from_millis(200);
    })
    .await
    .unwrap();
    let (base, state) = api().await;
    let resources = json!([{"name": "paced", "endpoint": {"path": "paced", "data_selector": "data",
        "paginator": {"type": "page_number", "base_page": 1, "total_path": "pages"}}, "primary_key": ["id"]}]);
    let conn = app
        .connections()
        .create_connection(pb::CreateConnectionRequest {
            name: "paced".into(),
            provider: "http_api".into(),
            config: Some(json_struct(manifest(&base, Value::Null, resources))),
            rate_limit_unit: pb::RateLimitUnit::Second.into(),
            rate_limit_duration: 5,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut syncs = Vec::new();
    for i in 0..3 {
        let s = app
            .new_sync(pb::CreateSyncRequest {
                name: format!("paced {i}"),
                connection_id: conn.id.clone(),
                entities: vec!["paced".into()],
                table_bindings: vec![pb::TableBinding {
                    entity_key: "paced".into(),
                    physical_table_name: format!("paced_{i}"),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await;
        syncs.push(s);
    }
    let runs = futures::future::join_all(syncs.iter().map(|s| run_to_end(&app, &s.id))).await;
    for (run, _) in &runs {
        assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    }
    let at: Vec<Instant> = state
        .lock()
        .unwrap()
        .seen
        .iter()
        .filter(|s| s.path == "/paced")
        .map(|s| s.at)
        .collect();
    // Each run: its check, then eight pages.
    assert_eq!(at.len(), 3 * 9);
    // No second (less 100 ms of scheduling slack) ever saw more than 5.
    for (i, start) in at.iter().enumerate() {
        let within = at[i..]
            .iter()
            .take_while(|t| **t - *start < Duration::from_millis(900))
            .count();
        assert!(within <= 5, "{within} requests within 900 ms");
    }
    let span = *at.last().unwrap() - at[0];
    assert!(
        span >= Duration::from_secs(4),
        "27 requests at 5/s take over 5 s, took {span:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_fill_the_manifest_and_date_bounds_follow_the_connections_format() {
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let (base, state) = api().await;
    let mut m = manifest(
        &base,
        Value::Null,
        json!([{"name": "events", "endpoint": {"path": "accounts/{variables.account}/events"},
            "primary_key": ["id"],
            "incremental": {"cursor_path": "updated_at", "start_param": "since", "initial_value": "2024-01-03T03:00:00Z"}}]),
    );
    m["client"]["headers"] = json!({"X-Key": "{variables.api_key}"});
    let variable = |key: &str, value: &str, secret: bool| pb::ConnectionVariable {
        key: key.into(),
        value: value.into(),
        secret,
        ..Default::default()
    };
    let conn = app
        .connections()
        .create_connection(pb::CreateConnectionRequest {
            name: "events".into(),
            provider: "http_api".into(),
            config: Some(json_struct(m)),
            timezone: "America/New_York".into(),
            date_format: "%Y-%m-%d".into(),
            variables: vec![
                variable("account", "acme", false),
                variable("api_key", "var-secret", true),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        verify(&app, &conn.id).await.status(),
        ConnectionStatus::Active
    );
    let sync = sync_of(&app, &conn.id, &["events"]).await;
    run_ok(&app, &sync.id).await;
    // 03:00 UTC on the 3rd is still the 2nd in New York.
    let since: Vec<String> = state
        .lock()
        .unwrap()
        .seen
        .iter()
        .filter_map(|s| s.query.get("since").cloned())
        .collect();
    assert_eq!(since, ["2024-01-02", "2024-01-02", "2024-01-02"]);
    // The API sent from the 2nd on; records before the bound are not kept.
    assert_eq!(landed(&app, "events").await, want(&items()[3..]));
    run_ok(&app, &sync.id).await;
    let last = state
        .lock()
        .unwrap()
        .seen
        .last()
        .unwrap()
        .query
        .get("since")
        .cloned();
    assert_eq!(
        last.as_deref(),
        Some("2024-01-04"),
        "the 5th at 00:00 UTC is the 4th in New York"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_land_in_the_postgres_warehouse_with_columns_added_and_widened_mid_read() {
    let Some(app) = crate::pg_fixtures::spawn_with_pg_warehouse(Backend::Sqlite).await else {
        return;
    };
    let (base, _state) = api().await;
    let resources = json!([resource(
        "items",
        json!({"path": "page", "params": {"per_page": "2"},
        "data_selector": "data",
        "paginator": {"type": "page_number", "base_page": 1, "total_path": "meta.total_pages"}})
    )]);
    let conn = connect(
        &app,
        "http_api",
        manifest(&base, Value::Null, resources),
        &[],
    )
    .await;
    // Batches of two: `tier` first comes in the second, and `score`'s
    // integers meet a float in the third.
    let sync = small_batches(&app, &conn.id, &["items"], 2).await;
    run_ok(&app, &sync.id).await;
    let schema = crate::pg_fixtures::workspace_schema(&app).await;
    let url = app.warehouse_url.clone().unwrap();
    let select: Vec<String> = COLUMNS.iter().map(|c| format!("\"{c}\"::text")).collect();
    let got = crate::pg_fixtures::pg_text_rows(
        &url,
        &format!(
            "SELECT pg_typeof(score)::text, {} FROM \"{schema}\".items ORDER BY id",
            select.join(", ")
        ),
    )
    .await;
    assert_eq!(got.len(), 5);
    for (row, item) in got.iter().zip(items()) {
        assert_eq!(row[0].as_deref(), Some("double precision"), "score widened");
        for (i, c) in COLUMNS.iter().enumerate() {
            let cell = &row[i + 1];
            let want = &item[*c];
            let same = match (cell, want) {
                (None, Value::Null) => true,
                (Some(t), Value::String(s)) => t == s,
                (Some(t), Value::Bool(b)) => t == &b.to_string(),
                (Some(t), Value::Number(n)) => t.parse::<f64>().ok() == n.as_f64(),
                (Some(t), nested) => serde_json::from_str::<Value>(t).ok().as_ref() == Some(nested),
                _ => false,
            };
            assert!(same, "{c}: {cell:?} vs {want}");
        }
    }
}

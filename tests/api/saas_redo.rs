//! Redo through its built-in manifest, against a local server shaped as
//! Redo's v2.2 OpenAPI spec: `GET stores/{storeId}/returns` answering
//! `{"orders": […], "returns": […]}` most recent first, filtered by
//! `updated_at_min` (inclusive), paged by an opaque token in the
//! `X-Page-Next` response header that the client sends back as the
//! `X-Page-Continue` request header, with `X-Page-Size`; and the unpaged
//! `GET stores/{storeId}/webhooks`. Bearer auth; errors as RFC 7807
//! problem details.

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

const STORE: &str = "64e5a8a1af49a89df37e4ee7";
const API_KEY: &str = "77bb7598b7a972475cc7c7e171ec33af";
const START: &str = "2024-01-01T00:00:00Z";
const PAGE_SIZE: usize = 2;

/// One call of the returns list, as the server saw it.
#[derive(Debug, Clone)]
struct ListCall {
    updated_at_min: Option<String>,
    page_continue: Option<String>,
    returns: usize,
}

#[derive(Default)]
struct Store {
    returns: Vec<Value>,
    orders: Vec<Value>,
    webhooks: Vec<Value>,
    /// Page tokens this server handed out in X-Page-Next, with the offset
    /// each one continues from.
    issued: HashMap<String, usize>,
    calls: Vec<ListCall>,
}

type Shared = Arc<Mutex<Store>>;

fn problem(status: StatusCode, detail: &str) -> Response {
    let body = json!({"type": "about:blank", "title": status.canonical_reason(),
                      "status": status.as_u16(), "detail": detail});
    (
        status,
        [("content-type", "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// Why the request is refused, if it is: the bearer secret and the store.
fn refused(headers: &HeaderMap, store: &str) -> Option<Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {API_KEY}")) {
        return Some(problem(StatusCode::UNAUTHORIZED, "Invalid API secret"));
    }
    (store != STORE).then(|| problem(StatusCode::NOT_FOUND, "Store not found"))
}

async fn list_returns(
    State(store): State<Shared>,
    Path(store_id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = refused(&headers, &store_id) {
        return r;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    // The page size travels in a request header, never the query.
    if header("x-page-size").as_deref() != Some(&PAGE_SIZE.to_string())
        || q.contains_key("page-size")
    {
        return problem(StatusCode::BAD_REQUEST, "X-Page-Size must be 2 here");
    }
    let mut s = store.lock().unwrap();
    let page_continue = header("x-page-continue");
    let offset = match &page_continue {
        None => 0,
        Some(token) => match s.issued.get(token) {
            Some(&at) => at,
            None => return problem(StatusCode::BAD_REQUEST, "Unknown X-Page-Continue"),
        },
    };
    let min = q.get("updated_at_min").cloned();
    let mut matching: Vec<Value> = s
        .returns
        .iter()
        .filter(|r| {
            min.as_deref()
                .is_none_or(|m| r["updatedAt"].as_str().unwrap() >= m)
        })
        .cloned()
        .collect();
    // Most recent to least recent, as Redo documents.
    matching.sort_by(|a, b| b["updatedAt"].as_str().cmp(&a["updatedAt"].as_str()));
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(PAGE_SIZE)
        .cloned()
        .collect();
    let orders: Vec<Value> = s
        .orders
        .iter()
        .filter(|o| page.iter().any(|r| r["order"]["id"] == o["id"]))
        .cloned()
        .collect();
    s.calls.push(ListCall {
        updated_at_min: min,
        page_continue,
        returns: page.len(),
    });
    let mut response = Json(json!({"orders": orders, "returns": page})).into_response();
    let next = offset + PAGE_SIZE;
    if next < matching.len() {
        let token = format!("64df7009{:016x}", s.issued.len() * 1000 + next);
        s.issued.insert(token.clone(), next);
        response
            .headers_mut()
            .insert("x-page-next", token.parse().unwrap());
    }
    response
}

async fn list_webhooks(
    State(store): State<Shared>,
    Path(store_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refused(&headers, &store_id) {
        return r;
    }
    Json(json!({"webhooks": store.lock().unwrap().webhooks})).into_response()
}

fn address(n: u64) -> Value {
    json!({"city": "Anytown", "country": "US", "line1": format!("{n} Main St"),
           "line2": if n.is_multiple_of(2) { "" } else { "Apt 4" },
           "postalCode": format!("{:05}", 10000 + n), "state": "WA"})
}

fn order(n: u64) -> Value {
    json!({
        "id": format!("64e4da943dd822979a70b{n:03x}"),
        "externalId": (1_073_459_900 + n).to_string(),
        "name": format!("#{}", 1000 + n),
        "customer": {"emailAddress": format!("shopper{n}@example.com"),
                     "name": {"given": "Mary", "surname": format!("Brown-{n}")},
                     "phoneNumber": "+15555555555"},
        "items": [{"id": format!("li-{n}-1"), "externalId": format!("{}", 123 + n),
                   "product": {"externalId": "8001", "name": "Linen shirt"},
                   "quantity": 1 + n % 2,
                   "variant": {"externalId": "9001", "name": "M / Sand", "sku": "LS-M-SND",
                               "weight": {"kg": 0.21}}}]
    })
}

fn a_return(n: u64, status: &str, updated: &str) -> Value {
    let mut r = json!({
        "id": format!("64df65d4c5a4ca3eff4b4{n:03x}"),
        "createdAt": "2023-12-20T09:00:00Z",
        "updatedAt": updated,
        "status": status,
        "order": {"id": format!("64e4da943dd822979a70b{n:03x}")},
        "destination": {"mailingAddress": address(900), "phoneNumber": "+15555550100"},
        "source": {"emailAddress": format!("shopper{n}@example.com"),
                   "mailingAddress": address(n),
                   "name": {"given": "Mary", "surname": format!("Brown-{n}")},
                   "phoneNumber": "+15555555555"},
        "giftCards": if n == 3 {
            json!([{"amount": {"amount": 50.2, "currency": "USD"}, "code": "ABCD1234EFGH5678", "externalId": "gc-3"}])
        } else { json!([]) },
        "items": [{"id": format!("ri-{n}"), "orderItem": {"id": format!("li-{n}-1")}, "quantity": 1,
                   "reason": if n.is_multiple_of(2) { "Too big" } else { "Other" },
                   "refund": {"amount": {"amount": 49.99, "currency": "USD"},
                              "pendingAmount": {"amount": 0, "currency": "USD"},
                              "pendingTaxAmount": {"amount": 0, "currency": "USD"},
                              "taxAmount": {"amount": 4.12, "currency": "USD"}, "type": "refund"}}]
    });
    // A return not yet shipped has no shipment.
    if status != "open" {
        r["shipment"] =
            json!({"carrier": "usps", "status": "transit", "tracker": format!("94001{n:05}")});
    }
    r
}

/// Eight returns (one updated before the start date), their orders, and
/// two webhook subscriptions.
fn store() -> Store {
    let returns = (1..=8)
        .map(|n| {
            let updated = if n == 8 {
                "2023-12-31T23:59:59Z".to_string()
            } else {
                format!("2024-0{}-{:02}T{:02}:15:00Z", 1 + n % 3, 2 + n, 8 + n)
            };
            a_return(n, if n % 3 == 0 { "open" } else { "delivered" }, &updated)
        })
        .collect();
    Store {
        returns,
        orders: (1..=8).map(order).collect(),
        webhooks: vec![
            json!({"id": "6500aa0000000000000000a1", "topic": "return", "externalId": "erp-returns",
                   "callback": {"auth": null, "url": "https://erp.example.com/redo/events"},
                   "createdAt": "2023-09-01T12:00:00Z", "updatedAt": "2023-09-01T12:00:00Z"}),
            json!({"id": "6500aa0000000000000000a2", "topic": "return", "externalId": null,
                   "callback": {"auth": null, "url": "https://hooks.example.org/redo"},
                   "createdAt": "2024-02-01T08:30:00Z", "updatedAt": "2024-02-03T10:00:00Z"}),
        ],
        ..Default::default()
    }
}

async fn redo_server() -> (Shared, String) {
    let state: Shared = Arc::new(Mutex::new(store()));
    let base = serve(
        Router::new()
            .route("/v2.2/stores/{store_id}/returns", get(list_returns))
            .route("/v2.2/stores/{store_id}/webhooks", get(list_webhooks))
            .with_state(state.clone()),
    )
    .await;
    (state, base)
}

async fn redo_connection(app: &TestApp, base: &str, key: &str) -> pb::Connection {
    connect(
        app,
        "redo",
        json!({"store_id": STORE, "base_url": format!("{base}/v2.2"),
               "page_size": PAGE_SIZE, "start_date": START}),
        &[("api_key", key)],
    )
    .await
}

#[tokio::test]
async fn redo_verifies_with_the_api_secret_and_refuses_a_wrong_one() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (state, base) = redo_server().await;
    let good = redo_connection(&app, &base, API_KEY).await;
    let v = verify(&app, &good.id).await;
    assert_eq!(
        v.status(),
        pb::ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    assert!(
        !state.lock().unwrap().calls.is_empty(),
        "verification read a page of returns through the server"
    );
    let bad = redo_connection(&app, &base, "5ecret-that-is-wrong").await;
    verify_fails(&app, &bad.id, "5ecret-that-is-wrong").await;
}

/// The returns updated at or after `min`, as the list answers them.
fn since(returns: &[Value], min: &str) -> Vec<Value> {
    returns
        .iter()
        .filter(|r| r["updatedAt"].as_str().unwrap() >= min)
        .cloned()
        .collect()
}

#[tokio::test]
async fn redo_syncs_returns_orders_and_webhooks_over_header_cursor_pages_then_only_changed_returns()
{
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (state, base) = redo_server().await;
    let conn = redo_connection(&app, &base, API_KEY).await;
    let sync = sync_of(&app, &conn.id, &["returns", "orders", "webhooks"]).await;

    run_ok(&app, &sync.id).await;
    let (returns, orders, webhooks) = {
        let s = state.lock().unwrap();
        // Returns from the start date: 7 records, 4 pages of 2 reached by
        // three tokens sent back as X-Page-Continue.
        let returns_pages: Vec<&ListCall> = s
            .calls
            .iter()
            .filter(|c| c.updated_at_min.as_deref() == Some(START))
            .collect();
        let continued: Vec<&ListCall> = returns_pages
            .iter()
            .copied()
            .filter(|c| c.page_continue.is_some())
            .collect();
        assert_eq!(continued.len(), 3, "{returns_pages:?}");
        assert_eq!(
            returns_pages
                .iter()
                .rev()
                .take(4)
                .map(|c| c.returns)
                .sum::<usize>(),
            7
        );
        // Orders are read in full: all eight returns' pages, no filter.
        let order_pages: Vec<&ListCall> = s
            .calls
            .iter()
            .filter(|c| c.updated_at_min.is_none())
            .collect();
        assert_eq!(
            order_pages
                .iter()
                .filter(|c| c.page_continue.is_some())
                .count(),
            3,
            "{order_pages:?}"
        );
        (s.returns.clone(), s.orders.clone(), s.webhooks.clone())
    };
    assert_landed(&app, "returns", &since(&returns, START), &["id"]).await;
    assert_landed(&app, "orders", &orders, &["id"]).await;
    assert_landed(&app, "webhooks", &webhooks, &["id"]).await;

    // Between the runs: a return is received and closed, a shipped one is
    // flagged, a new return comes in; a webhook moves to a new URL.
    let last = since(&returns, START)
        .iter()
        .map(|r| r["updatedAt"].as_str().unwrap().to_string())
        .max()
        .unwrap();
    {
        let mut s = state.lock().unwrap();
        s.calls.clear();
        s.returns[2]["status"] = json!("closed");
        s.returns[2]["shipment"] =
            json!({"carrier": "ups", "status": "delivered", "tracker": "1Z999AA10123456784"});
        s.returns[2]["updatedAt"] = json!("2024-05-01T10:00:00Z");
        s.returns[3]["status"] = json!("flagged");
        s.returns[3]["updatedAt"] = json!("2024-05-02T11:30:00Z");
        s.returns
            .push(a_return(9, "manual_review", "2024-05-03T12:00:00Z"));
        s.orders.push(order(9));
        s.webhooks[1]["callback"]["url"] = json!("https://hooks.example.org/redo/v2");
        s.webhooks[1]["updatedAt"] = json!("2024-05-01T00:00:00Z");
    }
    run_ok(&app, &sync.id).await;
    let (returns, orders, webhooks) = {
        let s = state.lock().unwrap();
        let bounded: Vec<&ListCall> = s
            .calls
            .iter()
            .filter(|c| c.updated_at_min.is_some() && c.updated_at_min.as_deref() != Some(START))
            .collect();
        assert!(!bounded.is_empty(), "{:?}", s.calls);
        assert!(
            bounded
                .iter()
                .all(|c| c.updated_at_min.as_deref() == Some(last.as_str())),
            "the lower bound is the last cursor {last}: {bounded:?}"
        );
        // The three changed returns and the boundary record read again.
        let at_bound = returns_at(&s.returns, &last);
        assert_eq!(
            bounded.iter().map(|c| c.returns).sum::<usize>(),
            3 + at_bound,
            "{bounded:?}"
        );
        (s.returns.clone(), s.orders.clone(), s.webhooks.clone())
    };
    assert_landed(&app, "returns", &since(&returns, START), &["id"]).await;
    assert_landed(&app, "orders", &orders, &["id"]).await;
    assert_landed(&app, "webhooks", &webhooks, &["id"]).await;
}

/// How many returns carry exactly the update time `at`.
fn returns_at(returns: &[Value], at: &str) -> usize {
    returns
        .iter()
        .filter(|r| r["updatedAt"].as_str() == Some(at))
        .count()
}

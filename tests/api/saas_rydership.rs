//! RyderShip (Whiplash V2) through its built-in manifest, against a local
//! server: the OAuth 2.0 refresh-token grant, then `GET /api/v2/items`
//! and `/api/v2/orders` answering bare JSON arrays paged by `page` and
//! `per_page`, filtered by the ransack-style `search` parameter
//! (`{"updated_at_gteq": …}`, a blank value ignored).

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

const CLIENT_ID: &str = "rs-client";
const CLIENT_SECRET: &str = "rs-secret";
const REFRESH_TOKEN: &str = "rs-refresh-1";
const ACCESS_TOKEN: &str = "rs-access-1";

#[derive(Default)]
struct Warehouse {
    items: Vec<Value>,
    orders: Vec<Value>,
    /// (collection, page, per_page, updated_at_gteq) of every list call.
    lists: Vec<(String, u64, u64, String)>,
}

type Shared = Arc<Mutex<Warehouse>>;

async fn token(body: String) -> Response {
    let form: HashMap<String, String> = reqwest::Url::parse(&format!("http://form/?{body}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let get = |k: &str| form.get(k).map(String::as_str);
    if get("grant_type") == Some("refresh_token")
        && get("refresh_token") == Some(REFRESH_TOKEN)
        && get("client_id") == Some(CLIENT_ID)
        && get("client_secret") == Some(CLIENT_SECRET)
    {
        return Json(json!({"access_token": ACCESS_TOKEN, "token_type": "Bearer",
                           "expires_in": 7200, "created_at": 1_717_000_000}))
        .into_response();
    }
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_grant",
                    "error_description": "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."})),
    )
        .into_response()
}

async fn list(
    State(w): State<Shared>,
    Path(collection): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {ACCESS_TOKEN}"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "Not authorized"})),
        )
            .into_response();
    }
    let page: u64 = q.get("page").map(|p| p.parse().unwrap()).unwrap_or(1);
    let per_page: u64 = q.get("per_page").map(|p| p.parse().unwrap()).unwrap_or(50);
    let since = q
        .get("search")
        .map(|s| serde_json::from_str::<Value>(s).expect("search is JSON"))
        .and_then(|s| s["updated_at_gteq"].as_str().map(str::to_string))
        .unwrap_or_default();
    let mut w = w.lock().unwrap();
    w.lists
        .push((collection.clone(), page, per_page, since.clone()));
    let all = match collection.as_str() {
        "items" => &w.items,
        "orders" => &w.orders,
        _ => return (StatusCode::NOT_FOUND, Json(json!({"error": "Not found"}))).into_response(),
    };
    // Whiplash times carry their offset; these all share one, so text order is time order.
    let rows: Vec<Value> = all
        .iter()
        .filter(|r| since.is_empty() || r["updated_at"].as_str().unwrap() >= since.as_str())
        .skip(((page - 1) * per_page) as usize)
        .take(per_page as usize)
        .cloned()
        .collect();
    Json(rows).into_response()
}

fn item(id: u64) -> Value {
    json!({
        "id": id, "sku": format!("TEE-{id:03}"), "title": format!("Tour tee {id}"),
        "price": format!("{}.00", 20 + id), "weight": id as f64 * 0.125, // exact in binary and in SQLite's 15 digits
        "active": !id.is_multiple_of(4), "quantity": id * 3, "scancodes": [format!("0{id:011}")],
        "customs_description": if id.is_multiple_of(2) { Value::Null } else { json!("Cotton T-shirt") },
        "created_at": "2024-01-02T09:00:00-05:00",
        "updated_at": format!("2024-03-{:02}T10:00:00-05:00", id),
    })
}

fn order(id: u64, updated: &str) -> Value {
    json!({
        "id": 700_000 + id, "status": 300, "status_name": "Shipped",
        "shipping_name": format!("Fan {id}"), "shipping_country": "US",
        "ship_actual_cost": "7.7", "gift": false, "tracking": [format!("1Z{id:016}")],
        "shipping_address": {"address_1": format!("{id} Main St."), "city": "Austin", "state": "TX", "zip": "78701"},
        "created_at": "2024-04-01T08:00:00-05:00", "updated_at": updated,
    })
}

fn warehouse() -> Warehouse {
    Warehouse {
        items: (1..=7).map(item).collect(),
        orders: (1..=5)
            .map(|id| order(id, &format!("2024-04-0{id}T12:00:00-05:00")))
            .collect(),
        ..Default::default()
    }
}

async fn rydership_server() -> (Shared, String) {
    let state: Shared = Arc::new(Mutex::new(warehouse()));
    let base = serve(
        Router::new()
            .route("/oauth/token", post(token))
            .route("/api/v2/{collection}", get(list))
            .with_state(state.clone()),
    )
    .await;
    (state, base)
}

async fn rydership_connection(app: &TestApp, base: &str, refresh: &str) -> pb::Connection {
    connect(
        app,
        "rydership",
        json!({"base_url": format!("{base}/api/v2"), "token_url": format!("{base}/oauth/token"),
               "page_size": 3}),
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", refresh),
        ],
    )
    .await
}

#[tokio::test]
async fn rydership_verifies_and_refuses_a_revoked_refresh_token() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (_state, base) = rydership_server().await;
    let good = rydership_connection(&app, &base, REFRESH_TOKEN).await;
    let v = verify(&app, &good.id).await;
    assert_eq!(
        v.status(),
        pb::ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    let bad = rydership_connection(&app, &base, "rs-revoked").await;
    verify_fails(&app, &bad.id, "rs-revoked").await;
}

#[tokio::test]
async fn rydership_syncs_products_and_orders_then_only_orders_updated_since() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (state, base) = rydership_server().await;
    let conn = rydership_connection(&app, &base, REFRESH_TOKEN).await;
    let sync = sync_of(&app, &conn.id, &["products", "orders"]).await;
    run_ok(&app, &sync.id).await;
    let (items, orders) = {
        let s = state.lock().unwrap();
        // Seven items at three a page: pages 1..3, then an empty page 4.
        let pages: Vec<u64> = s
            .lists
            .iter()
            .filter(|l| l.0 == "items")
            .map(|l| l.1)
            .collect();
        // (A page may be asked for again, e.g. to check the connection first.)
        assert!(pages.ends_with(&[1, 2, 3, 4]), "{pages:?}");
        assert!(
            pages.iter().all(|p| *p <= 4),
            "no page past the empty one: {pages:?}"
        );
        assert!(
            s.lists.iter().all(|l| l.2 == 3 && l.3.is_empty()),
            "{:?}",
            s.lists
        );
        (s.items.clone(), s.orders.clone())
    };
    assert_landed(&app, "products", &items, &["id"]).await;
    assert_landed(&app, "orders", &orders, &["id"]).await;

    {
        let mut s = state.lock().unwrap();
        s.lists.clear();
        s.orders[1]["status"] = json!(400);
        s.orders[1]["status_name"] = json!("Delivered");
        s.orders[1]["updated_at"] = json!("2024-04-09T12:00:00-05:00");
        s.orders.push(order(6, "2024-04-10T12:00:00-05:00"));
    }
    run_ok(&app, &sync.id).await;
    let orders = {
        let s = state.lock().unwrap();
        let order_calls: Vec<_> = s.lists.iter().filter(|l| l.0 == "orders").collect();
        assert!(!order_calls.is_empty());
        assert!(
            order_calls
                .iter()
                .all(|l| l.3 == "2024-04-05T12:00:00-05:00"),
            "orders are read from the last cursor: {order_calls:?}"
        );
        s.orders.clone()
    };
    assert_landed(&app, "orders", &orders, &["id"]).await;
}

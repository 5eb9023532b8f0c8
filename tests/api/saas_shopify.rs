//! The shopify manifest against a local Admin REST server: the
//! `X-Shopify-Access-Token` header, `limit=250`, `status=any`,
//! `updated_at_min`, and `Link: <…page_info=…>; rel="next"` paging where a
//! `page_info` request may carry nothing but `limit` (as Shopify enforces).

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};
use tributary::pb::ConnectionStatus;

use crate::{
    helpers::{Backend, spawn_executing},
    http_peer::{connect, run_ok, serve, sync_of},
    saas_checks::{Seen, Shared, connect_as, refused_for_auth, verify, warehouse_holds},
};

const TOKEN: &str = "shpat_0123456789abcdef0123456789abcdef";
const VERSION: &str = "2024-10";
/// Records per page: small, so a few records take several pages.
const PAGE: usize = 2;

#[derive(Default)]
struct Shop {
    orders: Vec<Value>,
    customers: Vec<Value>,
    seen: Vec<Seen>,
    /// (resource, updated_at_min of the read, id) of every record served.
    served: Vec<(String, Option<DateTime<FixedOffset>>, i64)>,
}

impl Shop {
    fn records(&self, resource: &str) -> &[Value] {
        match resource {
            "orders" => &self.orders,
            "customers" => &self.customers,
            _ => &[],
        }
    }

    fn first_requests(&self, file: &str) -> Vec<&Seen> {
        self.seen
            .iter()
            .filter(|r| r.path == file && r.param("page_info").is_none())
            .collect()
    }
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn error(status: StatusCode, errors: Value) -> Response {
    (status, Json(json!({ "errors": errors }))).into_response()
}

/// `GET /admin/api/2024-10/{resource}.json`, as Shopify answers it.
async fn list(
    State(shop): State<Shared<Shop>>,
    Path(file): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let mut shop = shop.lock().unwrap();
    let req = Seen::new(&file, query, &headers);
    shop.seen.push(req.clone());
    if req.header("x-shopify-access-token") != Some(TOKEN) {
        return error(
            StatusCode::UNAUTHORIZED,
            json!("[API] Invalid API key or access token (unrecognized login or wrong password)"),
        );
    }
    let Some(resource) = file.strip_suffix(".json") else {
        return error(StatusCode::NOT_FOUND, json!("Not Found"));
    };
    let listed = matches!(resource, "orders" | "customers");
    if listed && req.param("limit") != Some("250") {
        return error(
            StatusCode::BAD_REQUEST,
            json!({"limit": "the manifest asks for 250"}),
        );
    }
    // The first page filters; a page_info page carries only page_info and limit.
    let (offset, min) = match req.param("page_info") {
        Some(token) => {
            if req.param_names() != ["limit", "page_info"] {
                return error(
                    StatusCode::BAD_REQUEST,
                    json!({"page_info": "page_info cannot be combined with other parameters"}),
                );
            }
            let (offset, min) = token.split_once('.').unwrap();
            let min = (!min.is_empty()).then(|| at(&String::from_utf8(from_hex(min)).unwrap()));
            (offset.parse::<usize>().unwrap(), min)
        }
        None => {
            if resource == "orders" && req.param("status") != Some("any") {
                return error(
                    StatusCode::BAD_REQUEST,
                    json!({"status": "the manifest reads every order"}),
                );
            }
            (0, req.param("updated_at_min").map(at))
        }
    };
    let matching: Vec<Value> = shop
        .records(resource)
        .iter()
        .filter(|r| min.is_none_or(|m| at(r["updated_at"].as_str().unwrap()) >= m))
        .cloned()
        .collect();
    let page: Vec<Value> = matching.iter().skip(offset).take(PAGE).cloned().collect();
    for r in &page {
        shop.served
            .push((resource.to_string(), min, r["id"].as_i64().unwrap()));
    }
    let host = req.header("host").unwrap().to_string();
    let link = |offset: usize| {
        let min = min.map(|m| to_hex(&m.to_rfc3339())).unwrap_or_default();
        format!("<http://{host}/admin/api/{VERSION}/{file}?limit=250&page_info={offset}.{min}>")
    };
    let mut links = Vec::new();
    if offset > 0 {
        links.push(format!("{}; rel=\"previous\"", link(offset - PAGE)));
    }
    if offset + PAGE < matching.len() {
        links.push(format!("{}; rel=\"next\"", link(offset + PAGE)));
    }
    let body = Json(json!({ resource: page }));
    if links.is_empty() {
        body.into_response()
    } else {
        ([(header::LINK, links.join(", "))], body).into_response()
    }
}

/// page_info is opaque to the client: the bound travels hex-encoded.
fn to_hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

async fn shop_server(shop: Shop) -> (Shared<Shop>, String) {
    let state: Shared<Shop> = Default::default();
    *state.lock().unwrap() = shop;
    let router = Router::new()
        .route(&format!("/admin/api/{VERSION}/{{file}}"), get(list))
        .with_state(state.clone());
    let base = serve(router).await;
    (state, format!("{base}/admin/api/{VERSION}"))
}

fn config(base: &str) -> Value {
    json!({
        "shop_domain": "acme-store.myshopify.com",
        "api_version": VERSION,
        "base_url": base,
        "start_date": "2024-01-01T00:00:00-05:00",
    })
}

fn order(id: i64, name: &str, total: &str, updated_at: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "email": format!("buyer{id}@example.com"),
        "created_at": "2023-12-20T08:00:00-05:00",
        "updated_at": updated_at,
        "total_price": total,
        "currency": "USD",
        "financial_status": "paid",
        "test": false,
        "note": null,
        "tags": "",
        "total_weight": 0,
        "line_items": [
            {"id": id * 10 + 1, "title": "IPod Nano - 8gb", "quantity": 1, "price": total, "sku": "IPOD2008GREEN"}
        ],
        "customer": {"id": 207119551, "email": "bob.norman@mail.example.com"},
    })
}

const ORDER_COLUMNS: &[&str] = &[
    "id",
    "name",
    "email",
    "created_at",
    "updated_at",
    "total_price",
    "currency",
    "financial_status",
    "test",
    "note",
    "tags",
    "total_weight",
    "line_items",
    "customer",
];

fn customer(id: i64, first: &str, orders: i64, updated_at: &str) -> Value {
    json!({
        "id": id,
        "email": format!("{}@example.com", first.to_lowercase()),
        "first_name": first,
        "last_name": "Norman",
        "orders_count": orders,
        "state": "enabled",
        "total_spent": "199.65",
        "verified_email": true,
        "tax_exempt": false,
        "note": "",
        "phone": null,
        "updated_at": updated_at,
        "addresses": [{"id": id + 1, "city": "Ottawa", "country_code": "CA", "default": true}],
        "default_address": {"id": id + 1, "city": "Ottawa", "country_code": "CA", "default": true},
    })
}

const CUSTOMER_COLUMNS: &[&str] = &[
    "id",
    "email",
    "first_name",
    "last_name",
    "orders_count",
    "state",
    "total_spent",
    "verified_email",
    "tax_exempt",
    "note",
    "phone",
    "updated_at",
    "addresses",
    "default_address",
];

fn the_shop() -> Shop {
    let mut orders = vec![
        // Before start_date: the first sync must not ask for it.
        order(1000, "#1000", "5.00", "2023-12-31T23:59:59-05:00"),
        order(1001, "#1001", "199.65", "2024-01-02T10:00:00-05:00"),
        order(1002, "#1002", "12.50", "2024-01-03T10:00:00-05:00"),
        order(1003, "#1003", "0.00", "2024-01-04T10:00:00-05:00"),
        order(1004, "#1004", "1024.99", "2024-01-05T10:00:00-05:00"),
        order(1005, "#1005", "7.10", "2024-01-06T10:00:00-05:00"),
    ];
    orders[2]["note"] = json!("leave at the door");
    orders[3]["tags"] = json!("vip, wholesale");
    Shop {
        orders,
        customers: vec![
            customer(2001, "Bob", 3, "2024-01-02T11:00:00-05:00"),
            customer(2002, "Alice", 0, "2024-01-03T11:00:00-05:00"),
            customer(2003, "Zoë", 12, "2024-01-04T11:00:00-05:00"),
        ],
        ..Default::default()
    }
}

fn since(records: &[Value], min: &str) -> Vec<Value> {
    records
        .iter()
        .filter(|r| at(r["updated_at"].as_str().unwrap()) >= at(min))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_verification_sends_the_access_token_and_refuses_a_wrong_one() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (shop, base) = shop_server(the_shop()).await;
    let good = connect_as(
        &app,
        "shop",
        "shopify",
        config(&base),
        &[("access_token", TOKEN)],
    )
    .await;
    let v = verify(&app, &good.id).await;
    assert_eq!(
        v.status(),
        ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    {
        let shop = shop.lock().unwrap();
        assert!(
            !shop.seen.is_empty(),
            "verification asked the server nothing"
        );
        for r in &shop.seen {
            assert_eq!(r.header("x-shopify-access-token"), Some(TOKEN), "{r:?}");
        }
    }

    let wrong = "shpat_ffffffffffffffffffffffffffffffff";
    let bad = connect_as(
        &app,
        "wrong",
        "shopify",
        config(&base),
        &[("access_token", wrong)],
    )
    .await;
    refused_for_auth(&verify(&app, &bad.id).await, wrong);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_orders_and_customers_land_whole_then_only_what_changed() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (shop, base) = shop_server(the_shop()).await;
    let conn = connect(&app, "shopify", config(&base), &[("access_token", TOKEN)]).await;
    let sync = sync_of(&app, &conn.id, &["orders", "customers"]).await;

    run_ok(&app, &sync.id).await;
    let start = "2024-01-01T00:00:00-05:00";
    let (orders, customers) = {
        let shop = shop.lock().unwrap();
        // The first read starts at start_date and follows the Link pages.
        for file in ["orders.json", "customers.json"] {
            let first = shop.first_requests(file);
            assert!(!first.is_empty(), "{file}: {:?}", shop.seen);
            assert_eq!(
                first.last().unwrap().param("updated_at_min").map(at),
                Some(at(start))
            );
        }
        assert!(
            shop.seen.iter().any(|r| r.param("page_info").is_some()),
            "no Link page followed"
        );
        (since(&shop.orders, start), since(&shop.customers, start))
    };
    assert_eq!(orders.len(), 5);
    warehouse_holds(&app, "orders", "id", ORDER_COLUMNS, &orders).await;
    warehouse_holds(&app, "customers", "id", CUSTOMER_COLUMNS, &customers).await;

    // Changes at the vendor: an order refunded, a new order, a customer renamed.
    let (orders_cursor, customers_cursor) =
        ("2024-01-06T10:00:00-05:00", "2024-01-04T11:00:00-05:00");
    {
        let mut shop = shop.lock().unwrap();
        shop.seen.clear();
        shop.served.clear();
        shop.orders[2]["total_price"] = json!("0.00");
        shop.orders[2]["financial_status"] = json!("refunded");
        shop.orders[2]["updated_at"] = json!("2024-02-01T09:30:00-05:00");
        shop.orders
            .push(order(1006, "#1006", "42.00", "2024-02-02T09:30:00-05:00"));
        shop.customers[0]["first_name"] = json!("Robert");
        shop.customers[0]["updated_at"] = json!("2024-02-03T09:30:00-05:00");
    }
    run_ok(&app, &sync.id).await;
    let (orders, customers) = {
        let shop = shop.lock().unwrap();
        for (file, cursor) in [
            ("orders.json", orders_cursor),
            ("customers.json", customers_cursor),
        ] {
            let first = shop.first_requests(file);
            assert!(!first.is_empty(), "{file}: {:?}", shop.seen);
            assert_eq!(
                first.last().unwrap().param("updated_at_min").map(at),
                Some(at(cursor)),
                "{file} continues from the first run's greatest updated_at"
            );
        }
        // The read served only the changed records (and the boundary one, again);
        // the run's connection check read one page from start_date first.
        let mut served: Vec<(String, i64)> = shop
            .served
            .iter()
            .filter(|(r, min, _)| {
                let cursor = if r == "orders" {
                    orders_cursor
                } else {
                    customers_cursor
                };
                *min == Some(at(cursor))
            })
            .map(|(r, _, id)| (r.clone(), *id))
            .collect();
        served.sort();
        assert_eq!(
            served,
            [
                ("customers".to_string(), 2001),
                ("customers".to_string(), 2003),
                ("orders".to_string(), 1002),
                ("orders".to_string(), 1005),
                ("orders".to_string(), 1006),
            ]
        );
        let orders = since(&shop.orders, start);
        let customers = shop.customers.clone();
        (orders, customers)
    };
    warehouse_holds(&app, "orders", "id", ORDER_COLUMNS, &orders).await;
    warehouse_holds(&app, "customers", "id", CUSTOMER_COLUMNS, &customers).await;
}

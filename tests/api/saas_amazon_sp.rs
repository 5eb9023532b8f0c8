//! The amazon_sp manifest against a local Selling Partner API: the Login
//! with Amazon refresh-token grant, the access token bare in
//! `x-amz-access-token`, `payload` bodies paged by `payload.NextToken` →
//! `NextToken`, and the `LastUpdatedAfter` / `FinancialEventGroupStartedAfter`
//! bounds of incremental reads.

use std::collections::BTreeMap;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};
use tributary::pb::ConnectionStatus;

use crate::{
    helpers::{Backend, spawn_executing},
    http_peer::{connect, run_ok, serve, sync_of},
    saas_checks::{
        Seen, Shared, connect_as, form_pairs, refused_for_auth, verify, warehouse_holds,
    },
};

const CLIENT_ID: &str = "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef";
const CLIENT_SECRET: &str = "amzn1.oa2-cs.v1.0123456789abcdef";
const REFRESH: &str = "Atzr|IwEBIJ0123456789abcdefRefreshToken";
const ACCESS: &str = "Atza|IwEBIAccessToken0123456789";
const MARKETPLACE: &str = "ATVPDKIKX0DER";
const PAGE: usize = 2;

/// The two list operations served: (path, record list, bound parameter, bound field).
const OPERATIONS: &[(&str, &str, &str, &str)] = &[
    (
        "orders/v0/orders",
        "Orders",
        "LastUpdatedAfter",
        "LastUpdateDate",
    ),
    (
        "finances/v0/financialEventGroups",
        "FinancialEventGroupList",
        "FinancialEventGroupStartedAfter",
        "FinancialEventGroupStart",
    ),
];

#[derive(Default)]
struct Seller {
    /// Records by operation path.
    records: BTreeMap<String, Vec<Value>>,
    seen: Vec<Seen>,
    grants: usize,
    /// Order items by order id.
    items: BTreeMap<String, Vec<Value>>,
    /// (bound of the read, id) of every record served.
    served: Vec<(DateTime<FixedOffset>, String)>,
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn sp_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"errors": [{"code": code, "message": message, "details": ""}]});
    (status, Json(body)).into_response()
}

async fn token(State(s): State<Shared<Seller>>, body: String) -> Response {
    let form = form_pairs(&body);
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("grant_type") != Some("refresh_token")
        || get("client_id") != Some(CLIENT_ID)
        || get("client_secret") != Some(CLIENT_SECRET)
        || get("refresh_token") != Some(REFRESH)
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "The request has an invalid grant parameter : refresh_token"})),
        )
            .into_response();
    }
    s.lock().unwrap().grants += 1;
    Json(json!({
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "token_type": "bearer",
        "expires_in": 3600,
    }))
    .into_response()
}

async fn list(
    State(s): State<Shared<Seller>>,
    Path(path): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let mut s = s.lock().unwrap();
    let req = Seen::new(&path, params, &headers);
    s.seen.push(req.clone());
    if req.header("x-amz-access-token") != Some(ACCESS) {
        return sp_error(
            StatusCode::FORBIDDEN,
            "Unauthorized",
            "Access to requested resource is denied.",
        );
    }
    if let Some(order) = path
        .strip_prefix("orders/v0/orders/")
        .and_then(|p| p.strip_suffix("/orderItems"))
    {
        return order_items(&s, order, req.param("NextToken"));
    }
    let Some(&(_, list, bound, field)) = OPERATIONS.iter().find(|o| o.0 == path) else {
        return sp_error(StatusCode::NOT_FOUND, "NotFound", "Resource not found");
    };
    if req.param("MaxResultsPerPage") != Some("100")
        || (path.starts_with("orders") && req.param("MarketplaceIds") != Some(MARKETPLACE))
    {
        return sp_error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "MarketplaceIds or MaxResultsPerPage",
        );
    }
    let Some(min) = req.param(bound).map(at) else {
        return sp_error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            &format!("{bound} is required"),
        );
    };
    let offset: usize = req
        .param("NextToken")
        .map(|t| t.trim_start_matches("token-").parse().unwrap())
        .unwrap_or(0);
    let matching: Vec<Value> = s.records[&path]
        .iter()
        .filter(|r| at(r[field].as_str().unwrap()) >= min)
        .cloned()
        .collect();
    let page: Vec<Value> = matching.iter().skip(offset).take(PAGE).cloned().collect();
    let id = if list == "Orders" {
        "AmazonOrderId"
    } else {
        "FinancialEventGroupId"
    };
    s.served.extend(
        page.iter()
            .map(|r| (min, r[id].as_str().unwrap().to_string())),
    );
    let mut payload = json!({ list: page });
    if offset + PAGE < matching.len() {
        payload["NextToken"] = json!(format!("token-{}", offset + PAGE));
    }
    Json(json!({ "payload": payload })).into_response()
}

/// getOrderItems: the items of one order, which name the order only in
/// the payload, not in each item.
fn order_items(s: &Seller, order: &str, token: Option<&str>) -> Response {
    let Some(items) = s.items.get(order) else {
        return sp_error(StatusCode::NOT_FOUND, "NotFound", "no such order");
    };
    let offset: usize = token
        .map(|t| t.trim_start_matches("items-").parse().unwrap())
        .unwrap_or(0);
    let page: Vec<Value> = items.iter().skip(offset).take(PAGE).cloned().collect();
    let mut payload = json!({"AmazonOrderId": order, "OrderItems": page});
    if offset + PAGE < items.len() {
        payload["NextToken"] = json!(format!("items-{}", offset + PAGE));
    }
    Json(json!({ "payload": payload })).into_response()
}

async fn seller(records: BTreeMap<String, Vec<Value>>) -> (Shared<Seller>, String) {
    let state: Shared<Seller> = Default::default();
    state.lock().unwrap().records = records;
    let router = Router::new()
        .route("/auth/o2/token", post(token))
        .route("/{*path}", get(list))
        .with_state(state.clone());
    (state, serve(router).await)
}

fn config(server: &str) -> Value {
    json!({
        "region": "na",
        "marketplace_ids": MARKETPLACE,
        "seller_id": "A2EUQ1WTGCTBG2",
        "token_url": format!("{server}/auth/o2/token"),
        "base_url": server,
        "start_date": "2024-01-01T00:00:00Z",
    })
}

fn credentials(refresh: &'static str) -> [(&'static str, &'static str); 3] {
    [
        ("lwa_client_id", CLIENT_ID),
        ("lwa_client_secret", CLIENT_SECRET),
        ("refresh_token", refresh),
    ]
}

fn order(id: &str, status: &str, amount: &str, updated: &str) -> Value {
    json!({
        "AmazonOrderId": id,
        "PurchaseDate": "2023-12-30T19:49:35Z",
        "LastUpdateDate": updated,
        "OrderStatus": status,
        "FulfillmentChannel": "AFN",
        "SalesChannel": "Amazon.com",
        "ShipServiceLevel": "Std US D2D Dom",
        "OrderTotal": {"CurrencyCode": "USD", "Amount": amount},
        "NumberOfItemsShipped": 1,
        "NumberOfItemsUnshipped": 0,
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": MARKETPLACE,
        "IsPrime": true,
        "BuyerInfo": {"BuyerEmail": "fhxxx@marketplace.amazon.com"},
        "SellerOrderId": null,
    })
}

const ORDER_COLUMNS: &[&str] = &[
    "AmazonOrderId",
    "PurchaseDate",
    "LastUpdateDate",
    "OrderStatus",
    "FulfillmentChannel",
    "SalesChannel",
    "ShipServiceLevel",
    "OrderTotal",
    "NumberOfItemsShipped",
    "NumberOfItemsUnshipped",
    "PaymentMethodDetails",
    "MarketplaceId",
    "IsPrime",
    "BuyerInfo",
    "SellerOrderId",
];

fn group(id: &str, status: &str, amount: f64, start: &str) -> Value {
    json!({
        "FinancialEventGroupId": id,
        "ProcessingStatus": status,
        "FundTransferStatus": if status == "Closed" { "Succeeded" } else { "" },
        "OriginalTotal": {"CurrencyCode": "USD", "CurrencyAmount": amount},
        "TraceId": "",
        "AccountTail": "123",
        "FinancialEventGroupStart": start,
    })
}

const GROUP_COLUMNS: &[&str] = &[
    "FinancialEventGroupId",
    "ProcessingStatus",
    "FundTransferStatus",
    "OriginalTotal",
    "TraceId",
    "AccountTail",
    "FinancialEventGroupStart",
];

fn the_seller() -> BTreeMap<String, Vec<Value>> {
    let mut orders = vec![
        order(
            "111-0000001-0000001",
            "Shipped",
            "25.99",
            "2024-01-02T10:00:00Z",
        ),
        order(
            "111-0000002-0000002",
            "Shipped",
            "0.00",
            "2024-01-03T10:00:00Z",
        ),
        order(
            "111-0000003-0000003",
            "Pending",
            "199.95",
            "2024-01-04T10:00:00Z",
        ),
        order(
            "111-0000004-0000004",
            "Canceled",
            "12.00",
            "2024-01-05T10:00:00Z",
        ),
        order(
            "111-0000005-0000005",
            "Unshipped",
            "7.49",
            "2024-01-06T10:00:00Z",
        ),
    ];
    orders[0]["SellerOrderId"] = json!("A-1");
    BTreeMap::from([
        ("orders/v0/orders".to_string(), orders),
        (
            "finances/v0/financialEventGroups".to_string(),
            vec![
                group("1XHLmWWgAAAA", "Closed", 1234.56, "2024-01-01T00:00:00Z"),
                group("1XHLmWWgBBBB", "Closed", -20.5, "2024-01-15T00:00:00Z"),
                group("1XHLmWWgCCCC", "Open", 99.0, "2024-01-29T00:00:00Z"),
            ],
        ),
    ])
}

fn by(records: &[Value], key: &str) -> Vec<Value> {
    let mut r = records.to_vec();
    r.sort_by(|a, b| a[key].as_str().cmp(&b[key].as_str()));
    r
}

fn first_requests<'a>(s: &'a Seller, path: &str) -> Vec<&'a Seen> {
    s.seen
        .iter()
        .filter(|r| r.path == path && r.param("NextToken").is_none())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amazon_sp_verification_exchanges_the_refresh_token_and_refuses_a_revoked_one() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (s, server) = seller(the_seller()).await;
    let good = connect(&app, "amazon_sp", config(&server), &credentials(REFRESH)).await;
    let v = verify(&app, &good.id).await;
    assert_eq!(
        v.status(),
        ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    {
        let s = s.lock().unwrap();
        assert!(s.grants > 0, "no LWA grant");
        assert!(!s.seen.is_empty(), "verification asked the API nothing");
        for r in &s.seen {
            // The token goes bare in x-amz-access-token, not as a bearer.
            assert_eq!(r.header("x-amz-access-token"), Some(ACCESS), "{r:?}");
            assert_eq!(r.header("authorization"), None, "{r:?}");
        }
    }
    let revoked = "Atzr|IwEBIrevokedrevokedrevoked";
    let bad = connect_as(
        &app,
        "revoked",
        "amazon_sp",
        config(&server),
        &credentials(revoked),
    )
    .await;
    refused_for_auth(&verify(&app, &bad.id).await, revoked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amazon_sp_orders_and_event_groups_land_whole_then_only_what_changed() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (s, server) = seller(the_seller()).await;
    let conn = connect(&app, "amazon_sp", config(&server), &credentials(REFRESH)).await;
    let sync = sync_of(&app, &conn.id, &["orders", "financial_event_groups"]).await;

    run_ok(&app, &sync.id).await;
    let (orders, groups) = {
        let s = s.lock().unwrap();
        for (path, _, bound, _) in OPERATIONS {
            let first = first_requests(&s, path);
            assert!(!first.is_empty(), "{path}: {:?}", s.seen);
            assert_eq!(
                first.last().unwrap().param(bound).map(at),
                Some(at("2024-01-01T00:00:00Z"))
            );
        }
        assert!(
            s.seen.iter().any(|r| r.param("NextToken").is_some()),
            "no NextToken followed"
        );
        (
            by(&s.records[OPERATIONS[0].0], "AmazonOrderId"),
            by(&s.records[OPERATIONS[1].0], "FinancialEventGroupId"),
        )
    };
    warehouse_holds(&app, "orders", "\"AmazonOrderId\"", ORDER_COLUMNS, &orders).await;
    warehouse_holds(
        &app,
        "financial_event_groups",
        "\"FinancialEventGroupId\"",
        GROUP_COLUMNS,
        &groups,
    )
    .await;

    // An order shipped, a new order, a new settlement group.
    {
        let mut s = s.lock().unwrap();
        s.seen.clear();
        s.served.clear();
        let o = s.records.get_mut(OPERATIONS[0].0).unwrap();
        o[2]["OrderStatus"] = json!("Shipped");
        o[2]["LastUpdateDate"] = json!("2024-02-01T08:00:00Z");
        o.push(order(
            "111-0000006-0000006",
            "Pending",
            "3.10",
            "2024-02-02T08:00:00Z",
        ));
        let g = s.records.get_mut(OPERATIONS[1].0).unwrap();
        g.push(group("1XHLmWWgDDDD", "Open", 0.0, "2024-02-12T00:00:00Z"));
    }
    run_ok(&app, &sync.id).await;
    let (orders, groups) = {
        let s = s.lock().unwrap();
        for ((path, _, bound, _), cursor) in OPERATIONS
            .iter()
            .zip(["2024-01-06T10:00:00Z", "2024-01-29T00:00:00Z"])
        {
            let first = first_requests(&s, path);
            assert!(!first.is_empty(), "{path}: {:?}", s.seen);
            assert_eq!(
                first.last().unwrap().param(bound).map(at),
                Some(at(cursor)),
                "{path}"
            );
        }
        // The run's connection check read a page from start_date first.
        let cursors = [at("2024-01-06T10:00:00Z"), at("2024-01-29T00:00:00Z")];
        let mut served: Vec<String> = s
            .served
            .iter()
            .filter(|(min, _)| cursors.contains(min))
            .map(|(_, id)| id.clone())
            .collect();
        served.sort();
        assert_eq!(
            served,
            [
                "111-0000003-0000003",
                "111-0000005-0000005",
                "111-0000006-0000006",
                "1XHLmWWgCCCC",
                "1XHLmWWgDDDD",
            ],
            "only the changed records and the boundary ones were served"
        );
        let orders = by(&s.records[OPERATIONS[0].0], "AmazonOrderId");
        let groups = by(&s.records[OPERATIONS[1].0], "FinancialEventGroupId");
        (orders, groups)
    };
    warehouse_holds(&app, "orders", "\"AmazonOrderId\"", ORDER_COLUMNS, &orders).await;
    warehouse_holds(
        &app,
        "financial_event_groups",
        "\"FinancialEventGroupId\"",
        GROUP_COLUMNS,
        &groups,
    )
    .await;
}

fn item(id: &str, sku: &str, quantity: i64, price: &str) -> Value {
    json!({
        "OrderItemId": id,
        "ASIN": "B00551Q3CS",
        "SellerSKU": sku,
        "Title": "Organic Green Tea, 100 bags",
        "QuantityOrdered": quantity,
        "QuantityShipped": 0,
        "ItemPrice": {"CurrencyCode": "USD", "Amount": price},
        "IsGift": "false",
        "ConditionId": "New",
        "PromotionIds": [],
    })
}

const ITEM_COLUMNS: &[&str] = &[
    "_orders_AmazonOrderId",
    "OrderItemId",
    "ASIN",
    "SellerSKU",
    "Title",
    "QuantityOrdered",
    "QuantityShipped",
    "ItemPrice",
    "IsGift",
    "ConditionId",
    "PromotionIds",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amazon_sp_order_items_are_read_per_order_and_carry_its_id() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let mut orders = the_seller();
    orders.get_mut(OPERATIONS[0].0).unwrap().truncate(2);
    let (s, server) = seller(orders).await;
    let items = BTreeMap::from([
        (
            "111-0000001-0000001".to_string(),
            vec![
                item("00000000000001", "TEA-100", 2, "19.98"),
                item("00000000000002", "TEA-050", 1, "5.99"),
                item("00000000000003", "MUG-001", 1, "0.00"),
            ],
        ),
        (
            "111-0000002-0000002".to_string(),
            vec![item("00000000000001", "TEA-100", 1, "9.99")],
        ),
    ]);
    s.lock().unwrap().items = items.clone();
    let conn = connect(&app, "amazon_sp", config(&server), &credentials(REFRESH)).await;
    let sync = sync_of(&app, &conn.id, &["orders", "order_items"]).await;
    run_ok(&app, &sync.id).await;

    // Each item with its order's id (the two orders reuse item id 1, so the
    // key is the pair), the first order's three items over two pages.
    let want: Vec<Value> = items
        .iter()
        .flat_map(|(order, items)| {
            items.iter().map(move |i| {
                let mut row = i.clone();
                row["_orders_AmazonOrderId"] = json!(order);
                row
            })
        })
        .collect();
    warehouse_holds(
        &app,
        "order_items",
        "\"_orders_AmazonOrderId\", \"OrderItemId\"",
        ITEM_COLUMNS,
        &want,
    )
    .await;
    let s = s.lock().unwrap();
    assert!(
        s.seen
            .iter()
            .any(|r| r.path.ends_with("/orderItems") && r.param("NextToken") == Some("items-2")),
        "the second page of items was not asked for: {:?}",
        s.seen
    );
}

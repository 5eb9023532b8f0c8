//! NetSuite through its built-in manifest, against a local SuiteQL server:
//! `POST /services/rest/query/v1/suiteql?limit=&offset=` with `{"q": …}`
//! and `Prefer: transient`, token-based auth (OAuth 1.0a HMAC-SHA256)
//! checked by recomputing each request's signature, the documented page
//! shape (`links`, `count`, `hasMore`, `items`, `offset`, `totalResults`)
//! and SuiteQL's habit of answering every value as a string and leaving
//! out null fields.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};
use tributary::{connectors::http::oauth1, pb};

use crate::{
    helpers::{Backend, spawn_executing},
    http_peer::{connect, run_ok, serve, sync_of},
    saas_checks::{assert_landed, verify, verify_fails},
};

const ACCOUNT: &str = "TSTDRV2345";
const CONSUMER_KEY: &str = "ck-4f1a";
const CONSUMER_SECRET: &str = "cs+secret/4f1a";
const TOKEN_ID: &str = "tok-77b2";
const TOKEN_SECRET: &str = "ts secret~77b2";

/// The account's tables by SuiteQL name, and what the server saw.
#[derive(Default)]
struct Account {
    tables: BTreeMap<String, Vec<Value>>,
    /// (table, lower bound of the query, records answered) per request.
    served: Vec<(String, String, usize)>,
    nonces: HashSet<(String, String)>,
}

type Shared = Arc<Mutex<Account>>;

/// The fields of an `OAuth k="v", …` header, values as sent.
fn oauth_fields(header: &str) -> HashMap<String, String> {
    header
        .strip_prefix("OAuth ")
        .unwrap_or_default()
        .split(", ")
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_string(), v.trim_matches('"').to_string()))
        })
        .collect()
}

/// Why the request's token-based auth is refused, if it is.
fn auth_problem(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let header = headers.get("authorization")?.to_str().ok()?;
    let f = oauth_fields(header);
    for (k, v) in [
        ("realm", ACCOUNT),
        ("oauth_consumer_key", CONSUMER_KEY),
        ("oauth_token", TOKEN_ID),
        ("oauth_signature_method", "HMAC-SHA256"),
        ("oauth_version", "1.0"),
    ] {
        if f.get(k).map(String::as_str) != Some(v) {
            return Some(format!("{k} is {:?}", f.get(k)));
        }
    }
    let nonce = f.get("oauth_nonce").filter(|n| !n.is_empty())?;
    let timestamp: u64 = f.get("oauth_timestamp")?.parse().ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if timestamp.abs_diff(now) > 300 {
        return Some("timestamp too far from now".into());
    }
    let host = headers.get("host")?.to_str().ok()?;
    let url = reqwest::Url::parse(&format!("http://{host}{uri}")).ok()?;
    let expected = oauth1::authorization(
        "POST",
        &url,
        ACCOUNT,
        CONSUMER_KEY,
        CONSUMER_SECRET,
        TOKEN_ID,
        TOKEN_SECRET,
        nonce,
        timestamp,
    );
    (oauth_fields(&expected).get("oauth_signature") != f.get("oauth_signature"))
        .then(|| "signature does not match".into())
}

/// `YYYY-MM-DD HH:MM:SS` of a bound or cursor, as the SuiteQL query's
/// `TO_TIMESTAMP(SUBSTR(REPLACE(…, 'T', ' '), 1, 19), …)` reads it.
fn normalized(t: &str) -> String {
    t.replace('T', " ").chars().take(19).collect()
}

async fn suiteql(
    State(account): State<Shared>,
    headers: HeaderMap,
    uri: Uri,
    Query(params): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    let refuse = |status: StatusCode, why: String| {
        // NetSuite's error shape (RFC 9457 problem details).
        let detail = json!({"type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
            "title": "Unauthorized", "status": status.as_u16(),
            "o:errorDetails": [{"detail": why, "o:errorCode": "INVALID_LOGIN"}]});
        (status, Json(detail)).into_response()
    };
    match auth_problem(&headers, &uri) {
        None if headers.get("authorization").is_some() => {}
        None => return refuse(StatusCode::UNAUTHORIZED, "no OAuth header".into()),
        Some(why) => return refuse(StatusCode::UNAUTHORIZED, why),
    }
    if headers.get("prefer").and_then(|v| v.to_str().ok()) != Some("transient") {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Prefer: transient is required".into(),
        );
    }
    let q = body["q"].as_str().unwrap_or_default().to_string();
    let table = q
        .split(" FROM ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_default()
        .to_string();
    let bound = q
        .split("REPLACE('")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap_or_default()
        .to_string();
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(1000);
    let offset: usize = params
        .get("offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    if limit == 0 || limit > 1000 || !offset.is_multiple_of(limit) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "limit 1..1000, offset a multiple".into(),
        );
    }
    let mut account = account.lock().unwrap();
    if !account.nonces.insert((
        oauth_fields(headers["authorization"].to_str().unwrap())["oauth_nonce"].clone(),
        oauth_fields(headers["authorization"].to_str().unwrap())["oauth_timestamp"].clone(),
    )) {
        return refuse(StatusCode::UNAUTHORIZED, "nonce used twice".into());
    }
    let Some(rows) = account.tables.get(&table) else {
        return refuse(StatusCode::BAD_REQUEST, format!("no table {table}"));
    };
    let cursor = if table == "transactionline" {
        "line_last_modified_at"
    } else {
        "last_modified_at"
    };
    let mut matching: Vec<Value> = rows
        .iter()
        .filter(|r| normalized(r[cursor].as_str().unwrap()) >= normalized(&bound))
        .cloned()
        .collect();
    matching.sort_by_key(|r| r["id"].as_str().unwrap().parse::<u64>().unwrap());
    let total = matching.len();
    let items: Vec<Value> = matching
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|mut r| {
            r["links"] = json!([]);
            r
        })
        .collect();
    account.served.push((table, bound, items.len()));
    let has_more = offset + items.len() < total;
    let base = format!(
        "http://{}/services/rest/query/v1/suiteql",
        headers["host"].to_str().unwrap()
    );
    let mut links =
        vec![json!({"rel": "self", "href": format!("{base}?limit={limit}&offset={offset}")})];
    if has_more {
        links.push(json!({"rel": "next", "href": format!("{base}?limit={limit}&offset={}", offset + limit)}));
    }
    Json(json!({
        "links": links, "count": items.len(), "hasMore": has_more,
        "items": items, "offset": offset, "totalResults": total
    }))
    .into_response()
}

fn customer(id: u64, modified: &str) -> Value {
    let mut c = json!({
        "id": id.to_string(),
        "entityid": format!("CUST{id:05}"),
        "companyname": format!("Customer {id} Ltd."),
        "balance": format!("{}.{:02}", id * 7, id % 100),
        "isinactive": if id.is_multiple_of(10) { "T" } else { "F" },
        "datecreated": "1/15/2024",
        "last_modified_at": modified,
    });
    // SuiteQL leaves out fields whose value is null.
    if !id.is_multiple_of(3) {
        c["email"] = json!(format!("ap{id}@example.com"));
    }
    c
}

fn subsidiary(id: u64, name: &str, modified: &str) -> Value {
    json!({"id": id.to_string(), "name": name, "currency": "1", "country": "US",
           "iselimination": "F", "last_modified_at": modified})
}

/// The account's state at the first run: 1,203 customers (two pages of
/// 1,000) and three subsidiaries.
fn account() -> Account {
    let customers = (1..=1203)
        .map(|id| {
            customer(
                id,
                &format!(
                    "2024-0{}-{:02}T{:02}:{:02}:00",
                    1 + id % 5,
                    1 + id % 28,
                    id % 24,
                    id % 60
                ),
            )
        })
        .collect();
    let subsidiaries = vec![
        subsidiary(1, "Parent Company", "2023-05-01T08:00:00"),
        subsidiary(2, "Honeycomb Mfg. (UK)", "2023-06-11T09:30:00"),
        subsidiary(3, "Honeycomb Mfg. (DE)", "2024-02-03T17:45:12"),
    ];
    Account {
        tables: BTreeMap::from([
            ("customer".to_string(), customers),
            ("subsidiary".to_string(), subsidiaries),
        ]),
        ..Default::default()
    }
}

fn config(base: &str) -> Value {
    json!({"account_id": ACCOUNT, "base_url": format!("{base}/services/rest")})
}

fn credentials(token_secret: &str) -> [(&'static str, String); 4] {
    [
        ("consumer_key", CONSUMER_KEY.into()),
        ("consumer_secret", CONSUMER_SECRET.into()),
        ("token_id", TOKEN_ID.into()),
        ("token_secret", token_secret.into()),
    ]
}

async fn netsuite_connection(
    app: &crate::helpers::TestApp,
    base: &str,
    token_secret: &str,
) -> pb::Connection {
    let creds = credentials(token_secret);
    let pairs: Vec<(&str, &str)> = creds.iter().map(|(k, v)| (*k, v.as_str())).collect();
    connect(app, "netsuite", config(base), &pairs).await
}

#[tokio::test]
async fn netsuite_verifies_with_a_signed_request_and_refuses_a_wrong_token_secret() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let state: Shared = Arc::new(Mutex::new(account()));
    let base = serve(
        Router::new()
            .route("/services/rest/query/v1/suiteql", post(suiteql))
            .with_state(state.clone()),
    )
    .await;

    let good = netsuite_connection(&app, &base, TOKEN_SECRET).await;
    let v = verify(&app, &good.id).await;
    assert_eq!(
        v.status(),
        pb::ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    assert!(
        !state.lock().unwrap().served.is_empty(),
        "verification read a page through the server"
    );

    let bad = netsuite_connection(&app, &base, "not-the-token-secret").await;
    verify_fails(&app, &bad.id, "not-the-token-secret").await;
}

#[tokio::test]
async fn netsuite_syncs_customers_and_subsidiaries_then_only_what_changed() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let state: Shared = Arc::new(Mutex::new(account()));
    let base = serve(
        Router::new()
            .route("/services/rest/query/v1/suiteql", post(suiteql))
            .with_state(state.clone()),
    )
    .await;
    let conn = netsuite_connection(&app, &base, TOKEN_SECRET).await;
    let sync = sync_of(&app, &conn.id, &["customers", "subsidiaries"]).await;

    run_ok(&app, &sync.id).await;
    let (customers, subsidiaries) = {
        let s = state.lock().unwrap();
        // Two pages of customers, from the default start (the full history).
        let customer_pages: Vec<_> = s.served.iter().filter(|(t, ..)| t == "customer").collect();
        assert_eq!(
            customer_pages
                .iter()
                .map(|(_, _, n)| *n)
                .collect::<Vec<_>>(),
            vec![1000, 203]
        );
        assert!(
            customer_pages
                .iter()
                .all(|(_, b, _)| b == "1970-01-01T00:00:00Z")
        );
        (s.tables["customer"].clone(), s.tables["subsidiary"].clone())
    };
    let with_links = |rows: &[Value]| -> Vec<Value> {
        rows.iter()
            .map(|r| {
                let mut r = r.clone();
                r["links"] = json!([]);
                r
            })
            .collect()
    };
    assert_landed(&app, "customers", &with_links(&customers), &["id"]).await;
    assert_landed(&app, "subsidiaries", &with_links(&subsidiaries), &["id"]).await;

    // Between the runs: two customers change, one is added, a subsidiary is renamed.
    let last = customers
        .iter()
        .map(|c| c["last_modified_at"].as_str().unwrap().to_string())
        .max()
        .unwrap();
    {
        let mut s = state.lock().unwrap();
        s.served.clear();
        let c = s.tables.get_mut("customer").unwrap();
        c[6]["companyname"] = json!("Customer 7 GmbH");
        c[6]["last_modified_at"] = json!("2024-07-01T10:00:00");
        c[40].as_object_mut().unwrap().remove("email");
        c[40]["last_modified_at"] = json!("2024-07-02T11:30:00");
        c.push(customer(1204, "2024-07-03T12:00:00"));
        let sub = s.tables.get_mut("subsidiary").unwrap();
        sub[1]["name"] = json!("Honeycomb Manufacturing (UK)");
        sub[1]["last_modified_at"] = json!("2024-07-01T09:00:00");
    }
    run_ok(&app, &sync.id).await;
    let (customers, subsidiaries) = {
        let s = state.lock().unwrap();
        let customer_reads: Vec<_> = s.served.iter().filter(|(t, ..)| t == "customer").collect();
        assert_eq!(customer_reads.len(), 1, "{customer_reads:?}");
        let (_, bound, n) = customer_reads[0];
        assert_eq!(
            normalized(bound),
            normalized(&last),
            "the lower bound is the last cursor"
        );
        // The three changed records and the boundary record(s) read again.
        let at_bound = customers
            .iter()
            .filter(|c| c["last_modified_at"] == json!(last))
            .count();
        assert_eq!(*n, 3 + at_bound);
        let sub_reads: Vec<_> = s
            .served
            .iter()
            .filter(|(t, ..)| t == "subsidiary")
            .collect();
        // (The run may first check the connection with one unbounded page.)
        assert_eq!(
            normalized(&sub_reads.last().unwrap().1),
            "2024-02-03 17:45:12"
        );
        (s.tables["customer"].clone(), s.tables["subsidiary"].clone())
    };
    assert_landed(&app, "customers", &with_links(&customers), &["id"]).await;
    assert_landed(&app, "subsidiaries", &with_links(&subsidiaries), &["id"]).await;
}

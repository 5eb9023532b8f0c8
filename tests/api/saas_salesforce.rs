//! The salesforce manifest against a local org: the refresh-token grant at
//! `/services/oauth2/token`, `Authorization: Bearer` on the REST API, SOQL
//! through `/services/data/v61.0/query?q=…` with the SystemModstamp bound in
//! its WHERE clause, and `nextRecordsUrl` (a path) to the next batch.

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

const CLIENT_ID: &str = "3MVG9d8..z.hDcPJZPIqvHqh8vv5JYG0bUmE0vXNpJq";
const CLIENT_SECRET: &str = "9C1E2B8F7A6D5C4B3A29180716253443";
const REFRESH: &str = "5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJrfh";
const ACCESS: &str = "00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog";
const VERSION: &str = "v61.0";
const PAGE: usize = 2;

#[derive(Default)]
struct Org {
    /// Records by sObject (`Account`, `Contact`).
    records: BTreeMap<String, Vec<Value>>,
    seen: Vec<Seen>,
    /// Token grants asked for.
    grants: Vec<Vec<(String, String)>>,
    /// (SystemModstamp bound of the query, Id) of every record served.
    served: Vec<(DateTime<FixedOffset>, String)>,
    /// Open query cursors: locator → (bound, records left to serve).
    cursors: BTreeMap<String, (DateTime<FixedOffset>, Vec<Value>)>,
    /// Locators handed out.
    locators: usize,
}

/// A SOQL dateTime literal (YYYY-MM-DDThh:mm:ss with Z or ±hh:mm) or the
/// value Salesforce itself returns (fractional seconds, ±hhmm).
fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn sf_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!([{"message": message, "errorCode": code}])),
    )
        .into_response()
}

async fn token(State(org): State<Shared<Org>>, body: String) -> Response {
    let form = form_pairs(&body);
    let mut org = org.lock().unwrap();
    org.grants.push(form.clone());
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("grant_type") != Some("refresh_token")
        || get("client_id") != Some(CLIENT_ID)
        || get("client_secret") != Some(CLIENT_SECRET)
        || get("refresh_token") != Some(REFRESH)
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "expired access/refresh token"})),
        )
            .into_response();
    }
    // Salesforce answers no expires_in: the session lasts as the org's policy says.
    Json(json!({
        "access_token": ACCESS,
        "signature": "SSSbLO/gBhmmyNUvN18ODBDFYHzakxOMgqYtu+hDPsc=",
        "scope": "refresh_token api",
        "instance_url": "https://acme.my.salesforce.com",
        "id": "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P",
        "token_type": "Bearer",
        "issued_at": "1278448384422",
    }))
    .into_response()
}

/// `SELECT FIELDS(STANDARD) FROM X WHERE SystemModstamp >= T ORDER BY SystemModstamp ASC`
/// → (X, T).
fn parse_soql(q: &str) -> Option<(String, DateTime<FixedOffset>)> {
    let rest = q.strip_prefix("SELECT FIELDS(STANDARD) FROM ")?;
    let (object, rest) = rest.split_once(" WHERE SystemModstamp >= ")?;
    let literal = rest.strip_suffix(" ORDER BY SystemModstamp ASC")?;
    Some((object.to_string(), at(literal)))
}

fn authorized(req: &Seen) -> bool {
    req.header("authorization") == Some(&format!("Bearer {ACCESS}"))
}

/// A batch of `records` and, when more are left, its nextRecordsUrl.
fn batch(org: &mut Org, min: DateTime<FixedOffset>, mut records: Vec<Value>) -> Response {
    let total = records.len();
    let rest = records.split_off(PAGE.min(records.len()));
    org.served.extend(
        records
            .iter()
            .map(|r| (min, r["Id"].as_str().unwrap().to_string())),
    );
    let mut body = json!({"totalSize": total, "done": rest.is_empty(), "records": records});
    if !rest.is_empty() {
        org.locators += 1;
        let locator = format!("01gRO0000016PIAYA2-{}", org.locators * PAGE);
        body["nextRecordsUrl"] = json!(format!("/services/data/{VERSION}/query/{locator}"));
        org.cursors.insert(locator, (min, rest));
    }
    Json(body).into_response()
}

async fn query(
    State(org): State<Shared<Org>>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let mut org = org.lock().unwrap();
    let req = Seen::new("query", params, &headers);
    org.seen.push(req.clone());
    if !authorized(&req) {
        return sf_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        );
    }
    let Some((object, min)) = req.param("q").and_then(parse_soql) else {
        return sf_error(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            "unexpected SOQL",
        );
    };
    let mut records: Vec<Value> = org
        .records
        .get(&object)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| at(r["SystemModstamp"].as_str().unwrap()) >= min)
        .collect();
    records.sort_by_key(|r| at(r["SystemModstamp"].as_str().unwrap()));
    batch(&mut org, min, records)
}

async fn more(
    State(org): State<Shared<Org>>,
    Path(locator): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let mut org = org.lock().unwrap();
    let req = Seen::new(&format!("query/{locator}"), params, &headers);
    org.seen.push(req.clone());
    if !authorized(&req) {
        return sf_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        );
    }
    match org.cursors.remove(&locator) {
        Some((min, rest)) => batch(&mut org, min, rest),
        None => sf_error(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        ),
    }
}

async fn org(records: BTreeMap<String, Vec<Value>>) -> (Shared<Org>, String) {
    let state: Shared<Org> = Default::default();
    state.lock().unwrap().records = records;
    let router = Router::new()
        .route("/services/oauth2/token", post(token))
        .route(&format!("/services/data/{VERSION}/query"), get(query))
        .route(
            &format!("/services/data/{VERSION}/query/{{locator}}"),
            get(more),
        )
        .with_state(state.clone());
    (state, serve(router).await)
}

/// The org at `server`: tokens from its login URL, the REST API at its base URL.
fn config(server: &str) -> Value {
    json!({
        "my_domain": "acme.my.salesforce.com",
        "login_url": server,
        "base_url": format!("{server}/services/data/{VERSION}"),
        "api_version": "61.0",
    })
}

fn credentials(refresh: &'static str) -> [(&'static str, &'static str); 3] {
    [
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", refresh),
    ]
}

fn account(id: &str, name: &str, revenue: f64, modstamp: &str) -> Value {
    json!({
        "attributes": {"type": "Account", "url": format!("/services/data/{VERSION}/sobjects/Account/{id}")},
        "Id": id,
        "IsDeleted": false,
        "Name": name,
        "Type": "Customer - Direct",
        "Industry": "Manufacturing",
        "AnnualRevenue": revenue,
        "NumberOfEmployees": 120,
        "Phone": "",
        "Description": null,
        "BillingAddress": {"city": "San Francisco", "country": "US", "postalCode": "94105", "street": "415 Mission St"},
        "CreatedDate": "2023-06-01T09:00:00.000+0000",
        "SystemModstamp": modstamp,
    })
}

const ACCOUNT_COLUMNS: &[&str] = &[
    "attributes",
    "Id",
    "IsDeleted",
    "Name",
    "Type",
    "Industry",
    "AnnualRevenue",
    "NumberOfEmployees",
    "Phone",
    "Description",
    "BillingAddress",
    "CreatedDate",
    "SystemModstamp",
];

fn contact(id: &str, account: &str, email: &str, modstamp: &str) -> Value {
    json!({
        "attributes": {"type": "Contact", "url": format!("/services/data/{VERSION}/sobjects/Contact/{id}")},
        "Id": id,
        "AccountId": account,
        "FirstName": "Rose",
        "LastName": "González",
        "Email": email,
        "HasOptedOutOfEmail": true,
        "MailingAddress": null,
        "SystemModstamp": modstamp,
    })
}

const CONTACT_COLUMNS: &[&str] = &[
    "attributes",
    "Id",
    "AccountId",
    "FirstName",
    "LastName",
    "Email",
    "HasOptedOutOfEmail",
    "MailingAddress",
    "SystemModstamp",
];

fn the_org() -> BTreeMap<String, Vec<Value>> {
    let mut contacts = vec![
        contact(
            "003Dn00000B1aaaIAB",
            "001Dn00000A1aaaIAB",
            "rose@acme.com",
            "2024-01-02T11:00:00.000+0000",
        ),
        contact(
            "003Dn00000B1bbbIAB",
            "001Dn00000A1aaaIAB",
            "sean@acme.com",
            "2024-01-03T11:00:00.000+0000",
        ),
        contact(
            "003Dn00000B1cccIAB",
            "001Dn00000A1bbbIAB",
            "jack@globex.com",
            "2024-01-04T11:00:00.000+0000",
        ),
    ];
    contacts[1]["MailingAddress"] = json!({"city": "Austin", "country": "US"});
    BTreeMap::from([
        (
            "Account".to_string(),
            vec![
                account(
                    "001Dn00000A1aaaIAB",
                    "Acme",
                    1250000.5,
                    "2024-01-02T10:00:00.000+0000",
                ),
                account(
                    "001Dn00000A1bbbIAB",
                    "Globex",
                    0.0,
                    "2024-01-03T10:00:00.000+0000",
                ),
                account(
                    "001Dn00000A1cccIAB",
                    "Initech",
                    98765432.25,
                    "2024-01-04T10:00:00.000+0000",
                ),
                account(
                    "001Dn00000A1dddIAB",
                    "Umbrella",
                    1.0,
                    "2024-01-05T10:00:00.000+0000",
                ),
                account(
                    "001Dn00000A1eeeIAB",
                    "Hooli",
                    42.0,
                    "2024-01-06T10:00:00.000+0000",
                ),
            ],
        ),
        ("Contact".to_string(), contacts),
    ])
}

fn by_id(records: &[Value]) -> Vec<Value> {
    let mut r = records.to_vec();
    r.sort_by(|a, b| a["Id"].as_str().cmp(&b["Id"].as_str()));
    r
}

fn first_queries<'a>(org: &'a Org, object: &str) -> Vec<&'a Seen> {
    org.seen
        .iter()
        .filter(|r| {
            r.param("q")
                .and_then(parse_soql)
                .is_some_and(|(o, _)| o == object)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_verification_refreshes_a_token_and_refuses_a_revoked_one() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (org, instance) = org(the_org()).await;
    let good = connect(&app, "salesforce", config(&instance), &credentials(REFRESH)).await;
    let v = verify(&app, &good.id).await;
    assert_eq!(
        v.status(),
        ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    {
        let org = org.lock().unwrap();
        assert!(!org.grants.is_empty(), "no refresh-token grant");
        assert!(!org.seen.is_empty(), "verification ran no query");
        assert!(org.seen.iter().all(authorized), "{:?}", org.seen);
    }
    let revoked = "5Aep861TSESvWeug_revokedrevokedrevoked";
    let bad = connect_as(
        &app,
        "revoked",
        "salesforce",
        config(&instance),
        &credentials(revoked),
    )
    .await;
    refused_for_auth(&verify(&app, &bad.id).await, revoked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_accounts_and_contacts_land_whole_then_only_what_changed() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (org, instance) = org(the_org()).await;
    let conn = connect(&app, "salesforce", config(&instance), &credentials(REFRESH)).await;
    let sync = sync_of(&app, &conn.id, &["accounts", "contacts"]).await;

    run_ok(&app, &sync.id).await;
    let (accounts, contacts) = {
        let org = org.lock().unwrap();
        for object in ["Account", "Contact"] {
            let first = first_queries(&org, object);
            assert!(!first.is_empty(), "{object}: {:?}", org.seen);
            let (_, min) = parse_soql(first.last().unwrap().param("q").unwrap()).unwrap();
            assert_eq!(min, at("2000-01-01T00:00:00Z"), "the default start_date");
        }
        assert!(
            org.seen.iter().any(|r| r.path.starts_with("query/")),
            "no nextRecordsUrl followed"
        );
        (
            by_id(&org.records["Account"]),
            by_id(&org.records["Contact"]),
        )
    };
    warehouse_holds(&app, "accounts", "\"Id\"", ACCOUNT_COLUMNS, &accounts).await;
    warehouse_holds(&app, "contacts", "\"Id\"", CONTACT_COLUMNS, &contacts).await;

    // An account renamed, a new one, a contact's email changed.
    {
        let mut org = org.lock().unwrap();
        org.seen.clear();
        org.served.clear();
        let a = org.records.get_mut("Account").unwrap();
        a[1]["Name"] = json!("Globex Corporation");
        a[1]["AnnualRevenue"] = json!(5000000.75);
        a[1]["SystemModstamp"] = json!("2024-02-01T08:00:00.000+0000");
        a.push(account(
            "001Dn00000A1fffIAB",
            "Soylent",
            7.5,
            "2024-02-02T08:00:00.000+0000",
        ));
        let c = org.records.get_mut("Contact").unwrap();
        c[0]["Email"] = json!("rose.gonzalez@acme.com");
        c[0]["SystemModstamp"] = json!("2024-02-03T08:00:00.000+0000");
    }
    run_ok(&app, &sync.id).await;
    let (accounts, contacts) = {
        let org = org.lock().unwrap();
        for (object, cursor) in [
            ("Account", "2024-01-06T10:00:00Z"),
            ("Contact", "2024-01-04T11:00:00Z"),
        ] {
            let first = first_queries(&org, object);
            assert!(!first.is_empty(), "{object}: {:?}", org.seen);
            let (_, min) = parse_soql(first.last().unwrap().param("q").unwrap()).unwrap();
            assert_eq!(
                min,
                at(cursor),
                "{object} continues from the last SystemModstamp"
            );
        }
        // The run's connection check read a batch from start_date first.
        let cursors = [at("2024-01-06T10:00:00Z"), at("2024-01-04T11:00:00Z")];
        let mut served: Vec<String> = org
            .served
            .iter()
            .filter(|(min, _)| cursors.contains(min))
            .map(|(_, id)| id.clone())
            .collect();
        served.sort();
        assert_eq!(
            served,
            [
                "001Dn00000A1bbbIAB",
                "001Dn00000A1eeeIAB",
                "001Dn00000A1fffIAB",
                "003Dn00000B1aaaIAB",
                "003Dn00000B1cccIAB",
            ],
            "only the changed records and the boundary ones were served"
        );
        let (accounts, contacts) = (
            by_id(&org.records["Account"]),
            by_id(&org.records["Contact"]),
        );
        (accounts, contacts)
    };
    warehouse_holds(&app, "accounts", "\"Id\"", ACCOUNT_COLUMNS, &accounts).await;
    warehouse_holds(&app, "contacts", "\"Id\"", CONTACT_COLUMNS, &contacts).await;
}

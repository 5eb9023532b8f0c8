//! The klaviyo manifest against a local server of Klaviyo's JSON:API:
//! `Authorization: Klaviyo-API-Key …`, the `revision` header,
//! `filter=greater-than(updated,…)` (strictly greater), `sort`, and
//! `links.next` paging whose URL carries the whole query.

use std::collections::BTreeMap;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
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

const KEY: &str = "pk_0123456789abcdef0123456789abcdef01";
const REVISION: &str = "2024-10-15";
const PAGE: usize = 2;

#[derive(Default)]
struct Klaviyo {
    /// Records by resource path (`profiles`, `lists`).
    records: BTreeMap<String, Vec<Value>>,
    seen: Vec<Seen>,
    /// (filter bound of the read, id) of every record served.
    served: Vec<(Option<DateTime<FixedOffset>>, String)>,
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn errors(status: StatusCode, code: &str, detail: &str) -> Response {
    let body = json!({"errors": [{
        "id": "4f3b5c1e-0d3e-4c84-9f0e-2b8c2f1e0a11",
        "status": status.as_u16(),
        "code": code,
        "title": detail,
        "detail": detail,
        "source": {"pointer": "/data/"},
    }]});
    (status, Json(body)).into_response()
}

/// `greater-than(updated,2024-01-02T10:00:00+00:00)` → its bound.
fn greater_than(filter: &str, field: &str) -> Option<DateTime<FixedOffset>> {
    let inner = filter
        .strip_prefix(&format!("greater-than({field},"))?
        .strip_suffix(')')?;
    Some(at(inner.trim_matches('"')))
}

/// `GET /api/{resource}/`, as Klaviyo answers it.
async fn list(
    State(k): State<Shared<Klaviyo>>,
    Path(resource): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let mut k = k.lock().unwrap();
    let req = Seen::new(&resource, query, &headers);
    k.seen.push(req.clone());
    if req.header("authorization") != Some(&format!("Klaviyo-API-Key {KEY}")) {
        return errors(
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
            "Incorrect authentication credentials.",
        );
    }
    if req.header("revision") != Some(REVISION) {
        return errors(
            StatusCode::BAD_REQUEST,
            "invalid",
            "revision header missing or wrong",
        );
    }
    if !req
        .header("accept")
        .is_some_and(|a| a.contains("application/vnd.api+json"))
    {
        return errors(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            "accept JSON:API",
        );
    }
    let Some(records) = k.records.get(&resource).cloned() else {
        // Resources this test does not fill answer an empty page.
        return Json(json!({"data": [], "links": {"self": "", "next": null, "prev": null}}))
            .into_response();
    };
    let min = match req.param("filter") {
        Some(f) => match greater_than(f, "updated") {
            Some(m) => Some(m),
            None => return errors(StatusCode::BAD_REQUEST, "invalid", "filter"),
        },
        None => None,
    };
    if req.param("sort") != Some("updated") {
        return errors(StatusCode::BAD_REQUEST, "invalid", "sort by updated");
    }
    if resource == "profiles" && req.param("page[size]") != Some("100") {
        return errors(StatusCode::BAD_REQUEST, "invalid", "page[size]");
    }
    let mut matching: Vec<Value> = records
        .into_iter()
        .filter(|r| min.is_none_or(|m| at(r["attributes"]["updated"].as_str().unwrap()) > m))
        .collect();
    matching.sort_by_key(|r| at(r["attributes"]["updated"].as_str().unwrap()));
    let offset: usize = req
        .param("page[cursor]")
        .map(|c| c.parse().unwrap())
        .unwrap_or(0);
    let page: Vec<Value> = matching.iter().skip(offset).take(PAGE).cloned().collect();
    k.served.extend(
        page.iter()
            .map(|r| (min, r["id"].as_str().unwrap().to_string())),
    );
    let host = req.header("host").unwrap();
    // The next link repeats the query (filter, sort, page size) with the cursor.
    let next = (offset + PAGE < matching.len()).then(|| {
        let mut url = reqwest::Url::parse(&format!("http://{host}/api/{resource}/")).unwrap();
        for (name, value) in req.query.iter().filter(|(n, _)| n != "page[cursor]") {
            url.query_pairs_mut().append_pair(name, value);
        }
        url.query_pairs_mut()
            .append_pair("page[cursor]", &(offset + PAGE).to_string());
        url.to_string()
    });
    Json(json!({
        "data": page,
        "links": {"self": format!("http://{host}/api/{resource}/"), "next": next, "prev": null},
    }))
    .into_response()
}

async fn klaviyo_server(records: BTreeMap<String, Vec<Value>>) -> (Shared<Klaviyo>, String) {
    let state: Shared<Klaviyo> = Default::default();
    state.lock().unwrap().records = records;
    let router = Router::new()
        .route("/api/{resource}/", get(list))
        .route("/api/{resource}", get(list))
        .with_state(state.clone());
    let base = serve(router).await;
    (state, format!("{base}/api"))
}

fn config(base: &str) -> Value {
    json!({"revision": REVISION, "base_url": base})
}

fn profile(id: &str, email: &str, updated: &str) -> Value {
    json!({
        "type": "profile",
        "id": id,
        "attributes": {
            "email": email,
            "phone_number": null,
            "external_id": "",
            "first_name": "Sarah",
            "last_name": "Mason",
            "organization": "Klaviyo",
            "created": "2022-11-08T00:00:00+00:00",
            "updated": updated,
            "location": {"city": "Boston", "country": "United States", "latitude": 42.36, "zip": "02110"},
            "properties": {"plan": "gold", "pets": 2},
        },
        "relationships": {"lists": {"links": {"self": format!("https://a.klaviyo.com/api/profiles/{id}/relationships/lists/")}}},
        "links": {"self": format!("https://a.klaviyo.com/api/profiles/{id}/")},
    })
}

fn list_record(id: &str, name: &str, updated: &str) -> Value {
    json!({
        "type": "list",
        "id": id,
        "attributes": {"name": name, "created": "2023-01-01T00:00:00+00:00", "updated": updated, "opt_in_process": "double_opt_in"},
        "relationships": {"profiles": {"links": {"related": format!("https://a.klaviyo.com/api/lists/{id}/profiles/")}}},
        "links": {"self": format!("https://a.klaviyo.com/api/lists/{id}/")},
    })
}

const COLUMNS: &[&str] = &["type", "id", "attributes", "relationships", "links"];

fn the_account() -> BTreeMap<String, Vec<Value>> {
    BTreeMap::from([
        (
            "profiles".to_string(),
            vec![
                profile(
                    "01GDDKASAP8TKDDA2GRZDSVP4A",
                    "sarah@example.com",
                    "2024-01-02T10:00:00+00:00",
                ),
                profile(
                    "01GDDKASAP8TKDDA2GRZDSVP4B",
                    "tom@example.com",
                    "2024-01-03T10:00:00+00:00",
                ),
                profile(
                    "01GDDKASAP8TKDDA2GRZDSVP4C",
                    "ana@example.com",
                    "2024-01-04T10:00:00+00:00",
                ),
                profile(
                    "01GDDKASAP8TKDDA2GRZDSVP4D",
                    "li@example.com",
                    "2024-01-05T10:00:00+00:00",
                ),
                profile(
                    "01GDDKASAP8TKDDA2GRZDSVP4E",
                    "joe@example.com",
                    "2024-01-06T10:00:00+00:00",
                ),
            ],
        ),
        (
            "lists".to_string(),
            vec![
                list_record("Y6nRLr", "Newsletter", "2024-01-02T12:00:00+00:00"),
                list_record("Xy2QwA", "VIP", "2024-01-03T12:00:00+00:00"),
                list_record("Ab9ZzK", "Winback", "2024-01-04T12:00:00+00:00"),
            ],
        ),
    ])
}

fn by_id(records: &[Value]) -> Vec<Value> {
    let mut r = records.to_vec();
    r.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn klaviyo_verification_sends_the_key_and_revision_and_refuses_a_wrong_key() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (k, base) = klaviyo_server(the_account()).await;
    let good = connect_as(
        &app,
        "klaviyo",
        "klaviyo",
        config(&base),
        &[("api_key", KEY)],
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
        let k = k.lock().unwrap();
        assert!(!k.seen.is_empty(), "verification asked the server nothing");
        for r in &k.seen {
            assert_eq!(
                r.header("authorization"),
                Some(&*format!("Klaviyo-API-Key {KEY}"))
            );
            assert_eq!(r.header("revision"), Some(REVISION));
        }
    }
    let wrong = "pk_ffffffffffffffffffffffffffffffffff";
    let bad = connect_as(
        &app,
        "wrong",
        "klaviyo",
        config(&base),
        &[("api_key", wrong)],
    )
    .await;
    refused_for_auth(&verify(&app, &bad.id).await, wrong);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn klaviyo_profiles_and_lists_land_whole_then_only_what_changed() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (k, base) = klaviyo_server(the_account()).await;
    let conn = connect(&app, "klaviyo", config(&base), &[("api_key", KEY)]).await;
    let sync = sync_of(&app, &conn.id, &["profiles", "lists"]).await;

    run_ok(&app, &sync.id).await;
    let (profiles, lists) = {
        let k = k.lock().unwrap();
        // The first read starts at the default start_date and follows links.next.
        for resource in ["profiles", "lists"] {
            let first: Vec<&Seen> = k
                .seen
                .iter()
                .filter(|r| r.path == resource && r.param("page[cursor]").is_none())
                .collect();
            assert!(!first.is_empty(), "{resource}: {:?}", k.seen);
            assert_eq!(
                first
                    .last()
                    .unwrap()
                    .param("filter")
                    .and_then(|f| greater_than(f, "updated")),
                Some(at("2012-01-01T00:00:00+00:00")),
                "{resource}"
            );
        }
        assert!(k.seen.iter().any(|r| r.param("page[cursor]").is_some()));
        (by_id(&k.records["profiles"]), by_id(&k.records["lists"]))
    };
    warehouse_holds(&app, "profiles", "id", COLUMNS, &profiles).await;
    warehouse_holds(&app, "lists", "id", COLUMNS, &lists).await;

    // Changes in the account: a profile's email, a new profile, a renamed list.
    {
        let mut k = k.lock().unwrap();
        k.seen.clear();
        k.served.clear();
        let p = k.records.get_mut("profiles").unwrap();
        p[1]["attributes"]["email"] = json!("tom.new@example.com");
        p[1]["attributes"]["updated"] = json!("2024-02-01T08:00:00+00:00");
        p.push(profile(
            "01GDDKASAP8TKDDA2GRZDSVP4F",
            "new@example.com",
            "2024-02-02T08:00:00+00:00",
        ));
        let l = k.records.get_mut("lists").unwrap();
        l[0]["attributes"]["name"] = json!("Weekly newsletter");
        l[0]["attributes"]["updated"] = json!("2024-02-03T08:00:00+00:00");
    }
    run_ok(&app, &sync.id).await;
    let (profiles, lists) = {
        let k = k.lock().unwrap();
        for (resource, cursor) in [
            ("profiles", "2024-01-06T10:00:00+00:00"),
            ("lists", "2024-01-04T12:00:00+00:00"),
        ] {
            let first: Vec<&Seen> = k
                .seen
                .iter()
                .filter(|r| r.path == resource && r.param("page[cursor]").is_none())
                .collect();
            assert!(!first.is_empty(), "{resource}: {:?}", k.seen);
            assert_eq!(
                first
                    .last()
                    .unwrap()
                    .param("filter")
                    .and_then(|f| greater_than(f, "updated")),
                Some(at(cursor)),
                "{resource} continues after the first run's greatest updated"
            );
        }
        // The run's connection check read a page from start_date first.
        let mut served: Vec<String> = k
            .served
            .iter()
            .filter(|(min, id)| {
                let cursor = if id.starts_with("01G") {
                    "2024-01-06T10:00:00+00:00"
                } else {
                    "2024-01-04T12:00:00+00:00"
                };
                *min == Some(at(cursor))
            })
            .map(|(_, id)| id.clone())
            .collect();
        served.sort();
        assert_eq!(
            served,
            [
                "01GDDKASAP8TKDDA2GRZDSVP4B",
                "01GDDKASAP8TKDDA2GRZDSVP4F",
                "Y6nRLr"
            ],
            "only the changed records were served"
        );
        let (profiles, lists) = (by_id(&k.records["profiles"]), by_id(&k.records["lists"]));
        (profiles, lists)
    };
    warehouse_holds(&app, "profiles", "id", COLUMNS, &profiles).await;
    warehouse_holds(&app, "lists", "id", COLUMNS, &lists).await;
}

//! The gorgias manifest against a local helpdesk API: HTTP Basic with the
//! user's email and API key, `limit=100`, `order_by`, cursor paging by
//! `meta.next_cursor` → `cursor`, tickets read in full (Gorgias has no
//! updated-since filter) and events read from `created_datetime[gt]`.

use std::collections::BTreeMap;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::Engine as _;
use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};
use tributary::pb::ConnectionStatus;

use crate::{
    helpers::{Backend, spawn_executing},
    http_peer::{connect, run_ok, serve, sync_of},
    saas_checks::{Seen, Shared, connect_as, refused_for_auth, verify, warehouse_holds},
};

const USER: &str = "ops@acme.com";
const KEY: &str = "3f1c0ffee0ddba11c0ffee0ddba11c0ffee0ddba11c0ffee0ddba11c0ffee0d";
const PAGE: usize = 2;

#[derive(Default)]
struct Helpdesk {
    records: BTreeMap<String, Vec<Value>>,
    seen: Vec<Seen>,
    served: Vec<(String, i64)>,
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn basic(user: &str, key: &str) -> String {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{key}"));
    format!("Basic {pair}")
}

fn refused(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": {"msg": message}}))).into_response()
}

/// `GET /api/{resource}`, as Gorgias answers it.
async fn list(
    State(h): State<Shared<Helpdesk>>,
    Path(resource): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let mut h = h.lock().unwrap();
    let req = Seen::new(&resource, query, &headers);
    h.seen.push(req.clone());
    if req.header("authorization") != Some(&basic(USER, KEY)) {
        return refused(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let records = h.records.get(&resource).cloned().unwrap_or_default();
    if req.param("limit") != Some("100") {
        return refused(StatusCode::BAD_REQUEST, "limit: the manifest asks for 100");
    }
    if h.records.contains_key(&resource) && req.param("order_by") != Some("created_datetime:asc") {
        return refused(StatusCode::BAD_REQUEST, "order_by");
    }
    let after = req.param("created_datetime[gt]").map(at);
    let matching: Vec<Value> = records
        .into_iter()
        .filter(|r| after.is_none_or(|a| at(r["created_datetime"].as_str().unwrap()) > a))
        .collect();
    let offset = match req.param("cursor") {
        Some(c) => {
            let raw = base64::engine::general_purpose::STANDARD.decode(c).unwrap();
            String::from_utf8(raw)
                .unwrap()
                .strip_prefix("next__")
                .unwrap()
                .parse()
                .unwrap()
        }
        None => 0usize,
    };
    let page: Vec<Value> = matching.iter().skip(offset).take(PAGE).cloned().collect();
    h.served.extend(
        page.iter()
            .map(|r| (resource.clone(), r["id"].as_i64().unwrap())),
    );
    let cursor = |o: usize| base64::engine::general_purpose::STANDARD.encode(format!("next__{o}"));
    let next = (offset + PAGE < matching.len()).then(|| cursor(offset + PAGE));
    let prev = (offset > 0).then(|| cursor(offset.saturating_sub(PAGE)));
    Json(json!({
        "data": page,
        "meta": {"prev_cursor": prev, "next_cursor": next},
        "object": "list",
        "uri": format!("/api/{resource}"),
    }))
    .into_response()
}

async fn helpdesk(records: BTreeMap<String, Vec<Value>>) -> (Shared<Helpdesk>, String) {
    let state: Shared<Helpdesk> = Default::default();
    state.lock().unwrap().records = records;
    let router = Router::new()
        .route("/api/{resource}", get(list))
        .with_state(state.clone());
    let base = serve(router).await;
    (state, format!("{base}/api"))
}

fn config(base: &str) -> Value {
    json!({"subdomain": "acme", "username": USER, "base_url": base})
}

fn ticket(id: i64, subject: &str, status: &str, created: &str) -> Value {
    json!({
        "id": id,
        "uri": format!("/api/tickets/{id}/"),
        "external_id": null,
        "language": "en",
        "status": status,
        "priority": "normal",
        "channel": "email",
        "via": "email",
        "from_agent": false,
        "spam": false,
        "customer": {"id": 5, "email": "john@example.com", "name": "John Smith"},
        "assignee_user": {"id": 3, "name": "Ann Agent"},
        "subject": subject,
        "excerpt": "",
        "tags": [{"id": 1, "name": "refund"}],
        "messages_count": 2,
        "created_datetime": created,
        "updated_datetime": created,
        "closed_datetime": null,
    })
}

const TICKET_COLUMNS: &[&str] = &[
    "id",
    "uri",
    "external_id",
    "language",
    "status",
    "priority",
    "channel",
    "via",
    "from_agent",
    "spam",
    "customer",
    "assignee_user",
    "subject",
    "excerpt",
    "tags",
    "messages_count",
    "created_datetime",
    "updated_datetime",
    "closed_datetime",
];

fn event(id: i64, kind: &str, object_id: i64, created: &str) -> Value {
    json!({
        "id": id,
        "context": "be71cef8-ab02-4d89-b33c-1a00c387310d",
        "created_datetime": created,
        "data": if kind == "ticket-updated" { json!({"status": "closed"}) } else { Value::Null },
        "object_id": object_id,
        "object_type": "Ticket",
        "type": kind,
        "user_id": 3,
        "uri": format!("/api/events/{id}/"),
    })
}

const EVENT_COLUMNS: &[&str] = &[
    "id",
    "context",
    "created_datetime",
    "data",
    "object_id",
    "object_type",
    "type",
    "user_id",
    "uri",
];

fn the_helpdesk() -> BTreeMap<String, Vec<Value>> {
    let mut tickets = vec![
        ticket(
            101,
            "Refund request",
            "open",
            "2024-01-02T10:00:00.123456+00:00",
        ),
        ticket(
            102,
            "Where is my order?",
            "open",
            "2024-01-03T10:00:00.000001+00:00",
        ),
        ticket(103, "Wrong size", "closed", "2024-01-04T10:00:00+00:00"),
    ];
    tickets[2]["closed_datetime"] = json!("2024-01-05T09:00:00+00:00");
    tickets[1]["assignee_user"] = Value::Null;
    BTreeMap::from([
        ("tickets".to_string(), tickets),
        (
            "events".to_string(),
            vec![
                event(
                    768,
                    "ticket-created",
                    101,
                    "2024-01-02T10:00:00.123456+00:00",
                ),
                event(
                    769,
                    "ticket-created",
                    102,
                    "2024-01-03T10:00:00.000001+00:00",
                ),
                event(770, "ticket-created", 103, "2024-01-04T10:00:00+00:00"),
                event(771, "ticket-updated", 103, "2024-01-05T09:00:00+00:00"),
                event(772, "ticket-assigned", 101, "2024-01-05T09:30:00.5+00:00"),
            ],
        ),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gorgias_verification_sends_basic_auth_and_refuses_a_wrong_key() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (h, base) = helpdesk(the_helpdesk()).await;
    let good = connect_as(
        &app,
        "helpdesk",
        "gorgias",
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
        let h = h.lock().unwrap();
        assert!(!h.seen.is_empty(), "verification asked the server nothing");
        for r in &h.seen {
            assert_eq!(r.header("authorization"), Some(&*basic(USER, KEY)));
        }
    }
    let wrong = "0000000000000000000000000000000000000000000000000000000000000000";
    let bad = connect_as(
        &app,
        "wrong",
        "gorgias",
        config(&base),
        &[("api_key", wrong)],
    )
    .await;
    refused_for_auth(&verify(&app, &bad.id).await, wrong);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gorgias_tickets_land_in_full_and_events_only_after_the_last_one() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (h, base) = helpdesk(the_helpdesk()).await;
    let conn = connect(&app, "gorgias", config(&base), &[("api_key", KEY)]).await;
    let sync = sync_of(&app, &conn.id, &["tickets", "events"]).await;

    run_ok(&app, &sync.id).await;
    let (tickets, events) = {
        let h = h.lock().unwrap();
        let first_events: Vec<&Seen> = h
            .seen
            .iter()
            .filter(|r| r.path == "events" && r.param("cursor").is_none())
            .collect();
        assert_eq!(first_events.len(), 1, "{:?}", h.seen);
        assert_eq!(
            first_events[0].param("created_datetime[gt]"),
            None,
            "no start_date: from the start"
        );
        assert!(
            h.seen.iter().any(|r| r.param("cursor").is_some()),
            "no cursor page followed"
        );
        (h.records["tickets"].clone(), h.records["events"].clone())
    };
    warehouse_holds(&app, "tickets", "id", TICKET_COLUMNS, &tickets).await;
    warehouse_holds(&app, "events", "id", EVENT_COLUMNS, &events).await;

    // A ticket is closed and that makes two new events.
    {
        let mut h = h.lock().unwrap();
        h.seen.clear();
        h.served.clear();
        let t = &mut h.records.get_mut("tickets").unwrap()[0];
        t["status"] = json!("closed");
        t["closed_datetime"] = json!("2024-02-01T08:00:00+00:00");
        t["updated_datetime"] = json!("2024-02-01T08:00:00+00:00");
        let e = h.records.get_mut("events").unwrap();
        e.push(event(
            773,
            "ticket-updated",
            101,
            "2024-02-01T08:00:00+00:00",
        ));
        e.push(event(
            774,
            "ticket-closed",
            101,
            "2024-02-01T08:00:00.000002+00:00",
        ));
    }
    run_ok(&app, &sync.id).await;
    let (tickets, events) = {
        let h = h.lock().unwrap();
        let first_events: Vec<&Seen> = h
            .seen
            .iter()
            .filter(|r| r.path == "events" && r.param("cursor").is_none())
            .collect();
        assert_eq!(first_events.len(), 1, "{:?}", h.seen);
        assert_eq!(
            first_events[0].param("created_datetime[gt]").map(at),
            Some(at("2024-01-05T09:30:00.5+00:00")),
            "events continue after the first run's last one"
        );
        let mut served: Vec<i64> = h
            .served
            .iter()
            .filter(|(r, _)| r == "events")
            .map(|(_, id)| *id)
            .collect();
        served.sort_unstable();
        assert_eq!(served, [773, 774], "only the new events were served");
        let (tickets, events) = (h.records["tickets"].clone(), h.records["events"].clone());
        (tickets, events)
    };
    warehouse_holds(&app, "tickets", "id", TICKET_COLUMNS, &tickets).await;
    // Each event once: the bound is exclusive, so nothing is appended twice.
    warehouse_holds(&app, "events", "id", EVENT_COLUMNS, &events).await;
}

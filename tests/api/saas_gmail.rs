//! Gmail through its built-in manifest, against a local server shaped as
//! Google's: the OAuth 2.0 refresh-token grant at the token endpoint
//! (form-encoded, `invalid_grant` for a revoked token), then
//! `users/me/labels`, `users/me/messages` (ids only, `nextPageToken` →
//! `pageToken`) and `users/me/messages/{id}` per message (parent → child),
//! each with the bearer access token.

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

const CLIENT_ID: &str = "1234-abc.apps.googleusercontent.com";
const CLIENT_SECRET: &str = "GOCSPX-secret";
const REFRESH_TOKEN: &str = "1//0refresh-token";
const ACCESS_TOKEN: &str = "ya29.a0-access";
const PAGE: usize = 2;

#[derive(Default)]
struct Mailbox {
    labels: Vec<Value>,
    messages: Vec<Value>,
    /// Query strings of every users.messages.list call.
    lists: Vec<HashMap<String, String>>,
    token_grants: usize,
}

type Shared = Arc<Mutex<Mailbox>>;

fn google_error(status: StatusCode, message: &str) -> Response {
    let s = if status == StatusCode::UNAUTHORIZED {
        "UNAUTHENTICATED"
    } else {
        "NOT_FOUND"
    };
    (
        status,
        Json(json!({"error": {"code": status.as_u16(), "message": message, "status": s}})),
    )
        .into_response()
}

fn bearer_ok(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {ACCESS_TOKEN}"))
}

async fn token(State(mailbox): State<Shared>, headers: HeaderMap, body: String) -> Response {
    // A form body, read the way a URL's query is.
    let mut form: HashMap<String, String> = reqwest::Url::parse(&format!("http://form/?{body}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    // Google takes the client's id and secret in the body or as HTTP basic.
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
    if get("grant_type") != Some("refresh_token")
        || get("client_id") != Some(CLIENT_ID)
        || get("client_secret") != Some(CLIENT_SECRET)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    if get("refresh_token") != Some(REFRESH_TOKEN) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})),
        )
            .into_response();
    }
    mailbox.lock().unwrap().token_grants += 1;
    Json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3599,
                "scope": "https://www.googleapis.com/auth/gmail.readonly", "token_type": "Bearer"}))
    .into_response()
}

async fn labels(State(mailbox): State<Shared>, headers: HeaderMap) -> Response {
    if !bearer_ok(&headers) {
        return google_error(
            StatusCode::UNAUTHORIZED,
            "Request had invalid authentication credentials.",
        );
    }
    Json(json!({"labels": mailbox.lock().unwrap().labels})).into_response()
}

async fn list_messages(
    State(mailbox): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !bearer_ok(&headers) {
        return google_error(
            StatusCode::UNAUTHORIZED,
            "Request had invalid authentication credentials.",
        );
    }
    let mut m = mailbox.lock().unwrap();
    m.lists.push(q.clone());
    // The page token is the offset, opaque to the client.
    let from: usize = q
        .get("pageToken")
        .map(|t| t.trim_start_matches("tok-").parse().unwrap())
        .unwrap_or(0);
    let page: Vec<Value> = m
        .messages
        .iter()
        .skip(from)
        .take(PAGE)
        .map(|msg| json!({"id": msg["id"], "threadId": msg["threadId"]}))
        .collect();
    let mut body = json!({"messages": page, "resultSizeEstimate": m.messages.len()});
    if from + PAGE < m.messages.len() {
        body["nextPageToken"] = json!(format!("tok-{}", from + PAGE));
    }
    Json(body).into_response()
}

async fn get_message(
    State(mailbox): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !bearer_ok(&headers) {
        return google_error(
            StatusCode::UNAUTHORIZED,
            "Request had invalid authentication credentials.",
        );
    }
    assert_eq!(q.get("format").map(String::as_str), Some("full"));
    match mailbox
        .lock()
        .unwrap()
        .messages
        .iter()
        .find(|m| m["id"] == json!(id))
    {
        Some(m) => Json(m.clone()).into_response(),
        None => google_error(StatusCode::NOT_FOUND, "Requested entity was not found."),
    }
}

fn message(n: u64) -> Value {
    json!({
        "id": format!("18c{n:013x}"),
        "threadId": format!("18c{:013x}", n - n % 2),
        "labelIds": if n.is_multiple_of(2) { json!(["INBOX", "UNREAD"]) } else { json!(["INBOX"]) },
        "snippet": format!("Order #{n} has shipped — track it here"),
        "historyId": format!("{}", 9_000_000 + n),
        "internalDate": format!("{}", 1_704_067_200_000u64 + n * 60_000),
        "sizeEstimate": 4_000 + n,
        "payload": {
            "partId": "", "mimeType": "text/plain", "filename": "",
            "headers": [
                {"name": "From", "value": "Shop <orders@shop.example>"},
                {"name": "Subject", "value": format!("Order #{n}")}
            ],
            "body": {"size": 42, "data": "SGVsbG8sIHlvdXIgb3JkZXIgaGFzIHNoaXBwZWQu"}
        }
    })
}

fn mailbox() -> Mailbox {
    Mailbox {
        labels: vec![
            json!({"id": "INBOX", "name": "INBOX", "type": "system",
                   "messageListVisibility": "hide", "labelListVisibility": "labelShow"}),
            json!({"id": "Label_7", "name": "Receipts", "type": "user",
                   "messageListVisibility": "show", "labelListVisibility": "labelShow",
                   "color": {"textColor": "#ffffff", "backgroundColor": "#16a766"}}),
        ],
        messages: (1..=5).map(message).collect(),
        ..Default::default()
    }
}

async fn gmail_server() -> (Shared, String) {
    let state: Shared = Arc::new(Mutex::new(mailbox()));
    let base = serve(
        Router::new()
            .route("/token", post(token))
            .route("/gmail/v1/users/me/labels", get(labels))
            .route("/gmail/v1/users/me/messages", get(list_messages))
            .route("/gmail/v1/users/me/messages/{id}", get(get_message))
            .with_state(state.clone()),
    )
    .await;
    (state, base)
}

async fn gmail_connection(app: &TestApp, base: &str, refresh_token: &str) -> pb::Connection {
    connect(
        app,
        "gmail_inbox",
        json!({"base_url": format!("{base}/gmail/v1"), "token_url": format!("{base}/token")}),
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

#[tokio::test]
async fn gmail_verifies_with_a_refreshed_token_and_refuses_a_revoked_one() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (state, base) = gmail_server().await;
    let good = gmail_connection(&app, &base, REFRESH_TOKEN).await;
    let v = verify(&app, &good.id).await;
    assert_eq!(
        v.status(),
        pb::ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    assert!(state.lock().unwrap().token_grants >= 1);

    let bad = gmail_connection(&app, &base, "1//0revoked-token").await;
    verify_fails(&app, &bad.id, "1//0revoked-token").await;
}

#[tokio::test]
async fn gmail_syncs_labels_and_every_message_of_the_query() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (state, base) = gmail_server().await;
    let conn = gmail_connection(&app, &base, REFRESH_TOKEN).await;
    let sync = sync_of(&app, &conn.id, &["labels", "messages"]).await;
    run_ok(&app, &sync.id).await;

    let (labels, messages) = {
        let s = state.lock().unwrap();
        // Three list pages of two ids, with the configured query.
        assert_eq!(s.lists.len(), 3, "{:?}", s.lists);
        for (i, l) in s.lists.iter().enumerate() {
            assert_eq!(l.get("q").map(String::as_str), Some("in:inbox"));
            assert_eq!(l.get("includeSpamTrash").map(String::as_str), Some("false"));
            let token = (i > 0).then(|| format!("tok-{}", i * PAGE));
            assert_eq!(l.get("pageToken"), token.as_ref());
        }
        (s.labels.clone(), s.messages.clone())
    };
    assert_landed(&app, "labels", &labels, &["id"]).await;
    assert_landed(&app, "messages", &messages, &["id"]).await;

    // Read in full each run: a message gone from the mailbox leaves the table.
    {
        let mut s = state.lock().unwrap();
        s.messages.remove(0);
        s.messages[0]["labelIds"] = json!(["INBOX"]);
    }
    run_ok(&app, &sync.id).await;
    let messages = state.lock().unwrap().messages.clone();
    assert_landed(&app, "messages", &messages, &["id"]).await;
}

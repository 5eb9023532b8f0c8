use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex as StdMutex},
};

use reqwest::{Url, header::HeaderValue};
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use super::*;
use crate::connectors::http::manifest::Secret;

/// A local HTTP/1.1 server that answers its connections with `responses`
/// in order (the last one from then on) and keeps each request's text.
struct Server {
    base: String,
    requests: Arc<StdMutex<Vec<String>>>,
}

impl Server {
    async fn start(responses: Vec<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(StdMutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((stream, _)) = listener.accept().await {
                let answer = responses[n.min(responses.len() - 1)].clone();
                n += 1;
                serve_one(stream, answer, &seen).await;
            }
        });
        Self { base, requests }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.base)).unwrap()
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads one request (head and Content-Length body), keeps it, then
/// answers (so a test that got its answer sees the request) and closes.
async fn serve_one(mut stream: TcpStream, answer: String, seen: &StdMutex<Vec<String>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .map_or(0, |v| v.parse::<usize>().unwrap());
            if buf.len() >= end + 4 + length {
                break;
            }
        }
    }
    seen.lock()
        .unwrap()
        .push(String::from_utf8_lossy(&buf).to_string());
    stream.write_all(answer.as_bytes()).await.ok();
    stream.shutdown().await.ok();
}

fn http(status: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r
}

fn ok(body: &str) -> String {
    http("200 OK", &[("Content-Type", "application/json")], body)
}

fn client(auth: Option<Auth>) -> Client {
    let headers = BTreeMap::from([("Accept".to_string(), "application/json".to_string())]);
    Client::new(auth, &headers, Duration::from_secs(20)).unwrap()
}

fn request(server: &Server, path: &str) -> Request {
    Request::new(server.url(path), vec![("page".into(), "2".into())])
}

#[tokio::test]
async fn bearer_auth_and_default_headers_reach_the_server() {
    let server = Server::start(vec![http(
        "200 OK",
        &[("Link", r#"<http://x/items?page=3>; rel="next""#)],
        r#"{"data": [{"id": 1}]}"#,
    )])
    .await;
    let c = client(Some(Auth::Bearer {
        token: Secret("tok-123".into()),
    }));
    let page = c.send(&request(&server, "/items")).await.unwrap();
    assert_eq!(page.status, 200);
    assert_eq!(page.body, json!({"data": [{"id": 1}]}));
    assert_eq!(
        page.headers.get("link").unwrap(),
        r#"<http://x/items?page=3>; rel="next""#
    );
    let sent = server.requests()[0].to_ascii_lowercase();
    assert!(sent.starts_with("get /items?page=2 http/1.1\r\n"), "{sent}");
    assert!(
        sent.contains("\r\nauthorization: bearer tok-123\r\n"),
        "{sent}"
    );
    assert!(sent.contains("\r\naccept: application/json\r\n"), "{sent}");
}

#[tokio::test]
async fn api_keys_go_in_their_header_or_query_and_basic_auth_is_encoded() {
    let server = Server::start(vec![ok("[]")]).await;
    let query = client(Some(Auth::ApiKey {
        name: "api_key".into(),
        location: KeyLocation::Query,
        value: Secret("k&1".into()),
    }));
    query.send(&request(&server, "/a")).await.unwrap();
    let header = client(Some(Auth::ApiKey {
        name: "X-API-Key".into(),
        location: KeyLocation::Header,
        value: Secret("k2".into()),
    }));
    header.send(&request(&server, "/b")).await.unwrap();
    let basic = client(Some(Auth::Basic {
        username: "u".into(),
        password: Secret("p".into()),
    }));
    basic.send(&request(&server, "/c")).await.unwrap();
    let sent: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.to_ascii_lowercase())
        .collect();
    assert!(
        sent[0].starts_with("get /a?page=2&api_key=k%261 http/1.1\r\n"),
        "{}",
        sent[0]
    );
    assert!(sent[1].contains("\r\nx-api-key: k2\r\n"), "{}", sent[1]);
    assert!(
        sent[2].contains("\r\nauthorization: basic dtpw\r\n"),
        "{}",
        sent[2]
    );
}

#[tokio::test]
async fn statuses_become_typed_errors_without_secrets() {
    let server = Server::start(vec![
        http("429 Too Many Requests", &[("Retry-After", "7")], ""),
        http("401 Unauthorized", &[], r#"{"error": "bad key"}"#),
        http("503 Service Unavailable", &[], ""),
        http("404 Not Found", &[], ""),
        ok("<html>not json</html>"),
        ok(""),
    ])
    .await;
    let c = client(Some(Auth::ApiKey {
        name: "key".into(),
        location: KeyLocation::Query,
        value: Secret("topsecret".into()),
    }));
    let r = request(&server, "/items");
    let mut errors = Vec::new();
    for _ in 0..5 {
        errors.push(c.send(&r).await.unwrap_err());
    }
    assert!(
        matches!(&errors[0], ConnectorError::RateLimited { retry_after: Some(d), .. } if *d == Duration::from_secs(7)),
        "{:?}",
        errors[0]
    );
    assert!(
        matches!(errors[1], ConnectorError::Auth(_)),
        "{:?}",
        errors[1]
    );
    assert!(
        matches!(errors[2], ConnectorError::Transient(_)),
        "{:?}",
        errors[2]
    );
    assert!(
        matches!(errors[3], ConnectorError::Failed(_)),
        "{:?}",
        errors[3]
    );
    assert!(
        matches!(errors[4], ConnectorError::Failed(_)),
        "{:?}",
        errors[4]
    );
    for e in &errors {
        let text = e.to_string();
        assert!(text.contains("GET /items"), "{text}");
        assert!(!text.contains("topsecret"), "{text}");
    }
    let empty = c.send(&r).await.unwrap();
    assert_eq!(
        empty.body,
        Value::Null,
        "an empty body is no records, not an error"
    );
}

#[tokio::test]
async fn a_refused_connection_is_transient_and_names_no_query() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = client(Some(Auth::ApiKey {
        name: "key".into(),
        location: KeyLocation::Query,
        value: Secret("topsecret".into()),
    }));
    let url = Url::parse(&format!("http://{addr}/items")).unwrap();
    let err = c.send(&Request::new(url, vec![])).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Transient(_)), "{err:?}");
    assert!(!err.to_string().contains("topsecret"), "{err}");
}

#[tokio::test]
async fn client_credentials_fetch_one_token_and_reuse_it() {
    let server = Server::start(vec![
        ok(r#"{"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600}"#),
        ok("[]"),
    ])
    .await;
    let c = client(Some(Auth::Oauth2ClientCredentials {
        token_url: format!("{}/oauth/token", server.base),
        client_id: "cid".into(),
        client_secret: Secret("csecret".into()),
        scopes: vec!["read".into(), "write".into()],
        header: "Authorization".into(),
        prefix: "Bearer ".into(),
    }));
    c.send(&request(&server, "/one")).await.unwrap();
    c.send(&request(&server, "/two")).await.unwrap();
    let sent = server.requests();
    assert_eq!(sent.len(), 3, "one token request, two GETs: {sent:?}");
    assert!(
        sent[0].starts_with("POST /oauth/token HTTP/1.1\r\n"),
        "{}",
        sent[0]
    );
    assert!(
        sent[0].ends_with(
            "grant_type=client_credentials&client_id=cid&client_secret=csecret&scope=read+write"
        ),
        "{}",
        sent[0]
    );
    for get in &sent[1..] {
        assert!(
            get.to_ascii_lowercase()
                .contains("\r\nauthorization: bearer tok-1\r\n"),
            "{get}"
        );
    }
}

#[tokio::test]
async fn a_refused_client_secret_is_an_auth_error() {
    let server = Server::start(vec![http(
        "401 Unauthorized",
        &[],
        r#"{"error": "invalid_client"}"#,
    )])
    .await;
    let c = client(Some(Auth::Oauth2ClientCredentials {
        token_url: format!("{}/oauth/token", server.base),
        client_id: "cid".into(),
        client_secret: Secret("csecret".into()),
        scopes: vec![],
        header: "Authorization".into(),
        prefix: "Bearer ".into(),
    }));
    let err = c.send(&request(&server, "/one")).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Auth(_)), "{err:?}");
    assert!(!err.to_string().contains("csecret"), "{err}");
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00 UTC
    let with = |v: &'static str| {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static(v));
        retry_after(&h, now)
    };
    assert_eq!(with("120"), Some(Duration::from_secs(120)));
    assert_eq!(with(" 0 "), Some(Duration::ZERO));
    assert_eq!(
        with("Wed, 21 Oct 2015 07:28:30 GMT"),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        with("Wed, 21 Oct 2015 07:27:00 GMT"),
        Some(Duration::ZERO),
        "a past date"
    );
    assert_eq!(with("soon"), None);
    assert_eq!(with("-5"), None);
    assert_eq!(retry_after(&HeaderMap::new(), now), None);
}

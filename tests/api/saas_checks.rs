//! What the SaaS manifest tests share: the requests a vendor server saw,
//! VerifyConnection, and a warehouse table compared value by value with
//! the records the server served.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
};

use axum::http::HeaderMap;
use sea_orm::sqlx::{self, Row};
use serde_json::Value;
use tributary::pb;

use crate::{helpers::TestApp, rows::select_rows};

/// One request as a vendor server received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
}

impl Seen {
    pub fn new(path: &str, query: Vec<(String, String)>, headers: &HeaderMap) -> Self {
        Seen {
            path: path.into(),
            query,
            headers: headers.clone(),
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The names of its query parameters, sorted.
    pub fn param_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.query.iter().map(|(k, _)| k.as_str()).collect();
        names.sort_unstable();
        names
    }
}

/// A vendor server's state, shared with the test that changes and inspects it.
pub type Shared<T> = Arc<Mutex<T>>;

pub use crate::http_peer::verify;

/// A verification refused for its credentials: status ERROR, a message that
/// says so, and never the secret.
#[track_caller]
pub fn refused_for_auth(c: &pb::Connection, secret: &str) {
    assert_eq!(c.status(), pb::ConnectionStatus::Error, "{c:?}");
    let why = c.verification_error.clone().unwrap_or_default();
    let lower = why.to_lowercase();
    assert!(
        [
            "auth",
            "401",
            "403",
            "credential",
            "forbidden",
            "invalid_grant",
            "token"
        ]
        .iter()
        .any(|w| lower.contains(w)),
        "the error should say the credentials were refused: {why}"
    );
    assert!(!why.contains(secret), "the secret leaked: {why}");
}

/// Asserts that table `table` of the default SQLite warehouse holds exactly
/// `want` (records as the vendor served them, in the order of `order`),
/// each of `columns` equal: objects and arrays as JSON text, booleans as
/// SQLite stores them, NULL as NULL.
pub async fn warehouse_holds(
    app: &TestApp,
    table: &str,
    order: &str,
    columns: &[&str],
    want: &[Value],
) {
    let file = app.data_dir.path().join("warehouse.db");
    // A field null in every record has no column yet (its type is unknown
    // until a value comes): it must then be null in every record.
    let present = table_columns(&file, table).await;
    let (columns, absent): (Vec<&str>, Vec<&str>) = columns
        .iter()
        .partition(|c| present.iter().any(|p| p == *c));
    for col in absent {
        assert!(
            want.iter().all(|w| w.get(col).is_none_or(Value::is_null)),
            "{table}: no column {col} for values {want:?}"
        );
    }
    let cols: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    let select = format!("json_array({})", cols.join(", "));
    let rows = select_rows(&file, table, &select, order).await;
    let got: Vec<Vec<Value>> = rows
        .iter()
        .map(|r| serde_json::from_str(&sqlx::Row::get::<String, _>(r, 0)).unwrap())
        .collect();
    assert_eq!(got.len(), want.len(), "{table}: rows {got:?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        for (c, col) in columns.iter().enumerate() {
            let expected = w.get(col).unwrap_or(&Value::Null);
            assert!(
                same_cell(&g[c], expected),
                "{table}: row {i}, column {col}: warehouse {:?}, vendor {expected:?}",
                g[c]
            );
        }
    }
}

/// The column names of `table` in the SQLite file.
async fn table_columns(file: &std::path::Path, table: &str) -> Vec<String> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
        .bind(table)
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert!(!names.is_empty(), "no table {table}");
    names
}

/// Whether a warehouse cell holds the vendor's value: objects and arrays
/// as JSON text that parses back to them, booleans as SQLite's 0 or 1,
/// floats by value.
fn same_cell(got: &Value, want: &Value) -> bool {
    match want {
        Value::Object(_) | Value::Array(_) => {
            got == want
                || got
                    .as_str()
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
                    .as_ref()
                    == Some(want)
        }
        Value::Bool(b) => got == want || got.as_i64() == Some(i64::from(*b)),
        Value::Number(n) if n.is_f64() => got.as_f64() == n.as_f64(),
        _ => got == want,
    }
}

/// A connection of `provider` named `name`, with `config` and `credentials`.
pub async fn connect_as(
    app: &TestApp,
    name: &str,
    provider: &str,
    config: Value,
    credentials: &[(&str, &str)],
) -> pb::Connection {
    app.connections()
        .create_connection(pb::CreateConnectionRequest {
            name: name.into(),
            provider: provider.into(),
            config: Some(crate::helpers::json_struct(config)),
            credentials: credentials
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// The pairs of an `application/x-www-form-urlencoded` body (a token
/// request).
pub fn form_pairs(body: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://form.invalid/?{body}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Asserts a failed verification: the connection is ERROR with a reason
/// that never quotes the wrong secret.
pub async fn verify_fails(app: &TestApp, connection_id: &str, secret: &str) -> String {
    let c = verify(app, connection_id).await;
    assert_eq!(c.status(), pb::ConnectionStatus::Error, "{c:?}");
    let why = c.verification_error.unwrap_or_default();
    assert!(!why.is_empty(), "a failed verification says why");
    assert!(!why.contains(secret), "the secret leaked: {why}");
    why
}

/// Asserts the warehouse table `table` holds exactly `records` (JSON
/// objects as the vendor served them): same rows by `key`, and in each
/// row every field equal — a missing field is NULL, an object or array is
/// JSON text that parses back to the same value.
pub async fn assert_landed(app: &TestApp, table: &str, records: &[Value], key: &[&str]) {
    let file = app.data_dir.path().join("warehouse.db");
    let present = table_columns(&file, table).await;
    // A field that is null in every record may have no column at all.
    let columns: Vec<String> = records
        .iter()
        .flat_map(|r| r.as_object().expect("records are objects").keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|c| present.contains(c) || records.iter().any(|r| !r[c.as_str()].is_null()))
        .collect();
    for c in &columns {
        assert!(
            present.contains(c),
            "{table} has no column {c} (it has {present:?})"
        );
    }
    let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    let select = format!("json_array({})", quoted.join(", "));
    let mut got: Vec<Vec<Value>> = select_rows(&file, table, &select, "rowid")
        .await
        .iter()
        .map(|r| serde_json::from_str(&r.get::<String, _>(0)).unwrap())
        .collect();
    let mut want: Vec<Vec<Value>> = records
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| r.get(c).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    let at: Vec<usize> = key
        .iter()
        .map(|k| columns.iter().position(|c| c == k).expect("key column"))
        .collect();
    let key_of = |row: &Vec<Value>| -> String {
        at.iter()
            .map(|&i| match &row[i] {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            })
            .collect::<Vec<_>>()
            .join("|")
    };
    got.sort_by_key(key_of);
    want.sort_by_key(key_of);
    assert_eq!(
        got.iter().map(key_of).collect::<Vec<_>>(),
        want.iter().map(key_of).collect::<Vec<_>>(),
        "{table}: the rows by {key:?}"
    );
    for (g, w) in got.iter().zip(&want) {
        for (i, column) in columns.iter().enumerate() {
            assert!(
                same_cell(&g[i], &w[i]),
                "{table} row {}: {column} is {:?} in the warehouse, {:?} at the vendor",
                key_of(w),
                g[i],
                w[i]
            );
        }
    }
}

//! Checks shared by the SaaS provider tests: VerifyConnection, and the
//! records a vendor test server served compared cell by cell with what
//! landed in the SQLite warehouse.

use std::collections::BTreeSet;

use sea_orm::sqlx::Row;
use serde_json::Value;
use tributary::pb;

use crate::{helpers::TestApp, rows::select_rows};

pub use crate::http_peer::verify;

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
                same_cell(&w[i], &g[i]),
                "{table} row {}: {column} is {:?} in the warehouse, {:?} at the vendor",
                key_of(w),
                g[i],
                w[i]
            );
        }
    }
}

/// Whether a warehouse cell holds the vendor's JSON value.
fn same_cell(want: &Value, got: &Value) -> bool {
    match want {
        Value::Object(_) | Value::Array(_) => {
            got == want
                || got
                    .as_str()
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
                    .as_ref()
                    == Some(want)
        }
        // SQLite keeps a boolean as the integer 0 or 1.
        Value::Bool(b) => got == want || got.as_i64() == Some(i64::from(*b)),
        Value::Number(n) if n.is_f64() => got.as_f64() == n.as_f64(),
        _ => got == want,
    }
}

/// The column names of `table` in the SQLite file, opened read-only.
async fn table_columns(file: &std::path::Path, table: &str) -> BTreeSet<String> {
    let pool = sea_orm::sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let names = sea_orm::sqlx::query("SELECT name FROM pragma_table_info(?)")
        .bind(table)
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    pool.close().await;
    names
}

//! Rows, compared row by row: what the faker source produces for a config,
//! and what a SQLite warehouse file holds.

use std::path::Path;

use sea_orm::sqlx::{self, Row};
use serde_json::Value;
use tributary::connectors::{self, ReadRequest, Settings};

/// The faker's rows of `entity` under `config`, as JSON arrays by id, with
/// the column names.
pub async fn source_rows(config: Value, entity: &str) -> (Vec<String>, Vec<Vec<Value>>) {
    let map = config.as_object().unwrap().clone();
    let creds = Default::default();
    let src = connectors::source(&Settings {
        provider: "faker",
        config: &map,
        credentials: &creds,
        local_files: &connectors::LocalFiles::default(),
        context: None,
    })
    .unwrap();
    let schema = src.entity_schema(entity).await.unwrap();
    let mut stream = src
        .read(ReadRequest {
            entity_key: entity.into(),
            cursor_field: Some("updated_at".into()),
            after: None,
            up_to: None,
            batch_size: 5000,
            lookback: None,
        })
        .await
        .unwrap();
    let mut rows = Vec::new();
    while let Some(b) = futures::StreamExt::next(&mut stream).await {
        rows.extend(tributary::batch::json::rows(&b.unwrap().data).unwrap());
    }
    rows.sort_by_key(|r| r[0].as_i64());
    let names = schema.fields().iter().map(|f| f.name().clone()).collect();
    (names, rows)
}

/// The rows of `table` in the SQLite file `file`, opened read-only, as JSON
/// arrays of `columns` by id.
pub async fn table_rows(file: &Path, table: &str, columns: &[String]) -> Vec<Vec<Value>> {
    let cols: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    let select = format!("json_array({})", cols.join(", "));
    select_rows(file, table, &select, "id, rowid")
        .await
        .iter()
        .map(|r| serde_json::from_str(&r.get::<String, _>(0)).unwrap())
        .collect()
}

/// `SELECT select FROM table ORDER BY order` in the SQLite file, opened
/// read-only.
pub async fn select_rows(
    file: &Path,
    table: &str,
    select: &str,
    order: &str,
) -> Vec<sqlx::sqlite::SqliteRow> {
    assert!(file.exists(), "no SQLite file {}", file.display());
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let sql = format!("SELECT {select} FROM \"{table}\" ORDER BY {order}");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&pool)
        .await
        .unwrap_or_else(|e| panic!("reading {table} in {}: {e}", file.display()));
    pool.close().await;
    rows
}

/// Equal row sets, reported briefly (the rows are many).
#[track_caller]
pub fn same_rows(got: Vec<Vec<Value>>, want: &[Vec<Value>], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: row count");
    if let Some((g, w)) = got.iter().zip(want).find(|(g, w)| g != w) {
        panic!("{what}: first differing row: warehouse {g:?}, source {w:?}");
    }
}

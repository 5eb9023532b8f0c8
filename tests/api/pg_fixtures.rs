//! Fixtures of the data-plane tests: a PostgreSQL source database, a server
//! whose default warehouse is another PostgreSQL database, and readers that
//! return what either side holds, value by value (never counts).

use std::{path::Path, time::Duration};

use sea_orm::sqlx::{Row, TypeInfo, ValueRef};
use tributary::pb::{self, RunStatus};

use crate::helpers::{Backend, TestApp, fresh_postgres, postgres_config, spawn_app_with};

/// A fresh database holding `sql`'s tables, and a `postgres` connection to
/// it; None (skip) without a test cluster.
pub async fn pg_source(app: &TestApp, sql: &str) -> Option<(pb::Connection, String)> {
    let url = fresh_postgres().await?;
    execute(&url, sql).await;
    let conn = app
        .connection("source db", "postgres", postgres_config(&url))
        .await;
    Some((conn, url))
}

/// A server that executes runs and writes into a fresh PostgreSQL database
/// (`--warehouse-url postgres://…`, in `TestApp::warehouse_url`).
pub async fn spawn_with_pg_warehouse(backend: Backend) -> Option<TestApp> {
    let warehouse = fresh_postgres().await?;
    spawn_app_with(backend, move |a| {
        a.executor_concurrency = 2;
        a.engine.heartbeat_interval = Duration::from_millis(200);
        a.warehouse_url = Some(warehouse);
    })
    .await
}

/// The PostgreSQL warehouse schema of the app's (default) workspace.
pub async fn workspace_schema(app: &TestApp) -> String {
    let ws = app
        .workspaces()
        .get_workspace(pb::GetWorkspaceRequest::default())
        .await
        .unwrap()
        .into_inner();
    format!("ws_{}", ws.id.replace('-', ""))
}

/// A client on `url`, its session in UTC (timestamptz text is then the same
/// on both sides whatever the cluster's TimeZone).
pub async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    tokio::spawn(connection);
    client
        .batch_execute("SET TimeZone = 'UTC'; SET extra_float_digits = 1")
        .await
        .unwrap();
    client
}

pub async fn execute(url: &str, sql: &str) {
    pg_client(url)
        .await
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
}

/// Every row of `sql` (whose columns are all text), NULL as None.
pub async fn pg_text_rows(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let client = pg_client(url).await;
    let rows = client
        .query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.get::<_, Option<String>>(i))
                .collect()
        })
        .collect()
}

/// The rows of `schema.table` as the text of `columns`, ordered by `order`.
pub async fn pg_table(
    url: &str,
    schema: &str,
    table: &str,
    columns: &[&str],
    order: &str,
) -> Vec<Vec<Option<String>>> {
    let cols: Vec<String> = columns.iter().map(|c| format!("\"{c}\"::text")).collect();
    let sql = format!(
        "SELECT {} FROM \"{schema}\".\"{table}\" ORDER BY {order}",
        cols.join(", ")
    );
    pg_text_rows(url, &sql).await
}

/// Triggers a run of the sync (`mode`) and waits for its end.
pub async fn run_in_mode(app: &TestApp, sync_id: &str, mode: pb::RunMode) -> pb::Run {
    let run = app
        .syncs()
        .trigger_sync(pb::TriggerSyncRequest {
            sync_id: sync_id.into(),
            run_mode: mode.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    crate::engine::watch_to_end(app, &run.id).await;
    app.run(&run.id).await
}

/// Asserts a run succeeded, showing its error otherwise.
#[track_caller]
pub fn succeeded(run: &pb::Run) {
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
}

/// One SQLite value with its storage class. Reals compare by their bits:
/// NaN equals NaN, and -0.0 is not 0.0.
#[derive(Debug, Clone)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl PartialEq for Cell {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Cell::Null, Cell::Null) => true,
            (Cell::Int(a), Cell::Int(b)) => a == b,
            (Cell::Real(a), Cell::Real(b)) => a.to_bits() == b.to_bits(),
            (Cell::Text(a), Cell::Text(b)) => a == b,
            (Cell::Blob(a), Cell::Blob(b)) => a == b,
            _ => false,
        }
    }
}

/// The rows of `table` in the SQLite file, each value with its storage
/// class (as SQLite's `typeof` says), ordered by `order`.
pub async fn sqlite_cells(
    file: &Path,
    table: &str,
    columns: &[&str],
    order: &str,
) -> Vec<Vec<Cell>> {
    let cols: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    let rows = crate::rows::select_rows(file, table, &cols.join(", "), order).await;
    rows.iter()
        .map(|r| {
            (0..columns.len())
                .map(|i| {
                    let raw = r.try_get_raw(i).unwrap();
                    if raw.is_null() {
                        return Cell::Null;
                    }
                    match raw.type_info().name() {
                        "INTEGER" => Cell::Int(r.try_get_unchecked(i).unwrap()),
                        "REAL" => Cell::Real(r.try_get_unchecked(i).unwrap()),
                        "TEXT" => Cell::Text(r.try_get_unchecked(i).unwrap()),
                        "BLOB" => Cell::Blob(r.try_get_unchecked(i).unwrap()),
                        other => panic!("storage class {other}"),
                    }
                })
                .collect()
        })
        .collect()
}

/// Asserts equal tables, naming the first differing cell by row and column.
#[track_caller]
pub fn same_table<T: PartialEq + std::fmt::Debug>(
    got: &[Vec<T>],
    want: &[Vec<T>],
    columns: &[&str],
    what: &str,
) {
    for (r, (g, w)) in got.iter().zip(want).enumerate() {
        for (c, (gv, wv)) in g.iter().zip(w).enumerate() {
            assert_eq!(
                gv,
                wv,
                "{what}: row {r}, column {}: destination {gv:?}, expected {wv:?}",
                columns.get(c).unwrap_or(&"?")
            );
        }
        assert_eq!(g.len(), w.len(), "{what}: width of row {r}");
    }
    assert_eq!(got.len(), want.len(), "{what}: rows");
}

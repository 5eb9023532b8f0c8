//! The namespace layout on disk, one pool per namespace, and what the
//! warehouse refuses to open.

use std::path::Path;

use sea_orm::sqlx::Row;
use tempfile::TempDir;

use super::*;

const DEFAULT_WS: &str = "0190f5a0-0000-7000-8000-000000000001";
const OTHER_WS: &str = "0190f5a0-0000-7000-8000-000000000002";

fn warehouse(dir: &TempDir) -> Warehouse {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("warehouse.db").display()
    );
    Warehouse::new(&url, Some(DEFAULT_WS.into())).expect("a sqlite URL")
}

/// Whether `file` is a SQLite database with the positions table.
async fn is_warehouse_file(file: &Path) -> bool {
    let Ok(pool) =
        sea_orm::sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", file.display())).await
    else {
        return false;
    };
    sea_orm::sqlx::query("SELECT count(*) FROM sqlite_master WHERE name = '_tributary_positions'")
        .fetch_one(&pool)
        .await
        .and_then(|r| r.try_get::<i64, _>(0))
        .is_ok_and(|n| n == 1)
}

#[tokio::test]
async fn each_namespace_has_its_own_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = warehouse(&dir);
    let root = dir.path().join("warehouse.db");
    let d = dir.path().join("warehouse");
    for (ws, schema, file) in [
        (DEFAULT_WS, "", root.clone()),
        (DEFAULT_WS, "alpha", d.join(DEFAULT_WS).join("alpha.db")),
        (OTHER_WS, "", d.join(format!("{OTHER_WS}.db"))),
        (OTHER_WS, "alpha", d.join(OTHER_WS).join("alpha.db")),
    ] {
        assert!(!file.exists(), "{ws}/{schema:?} not opened yet");
        w.namespace(ws, schema).await.expect("opens");
        assert!(
            is_warehouse_file(&file).await,
            "{ws}/{schema:?} is {file:?}"
        );
    }
    // Upper-case ids name the same workspace.
    let again = w
        .namespace(&OTHER_WS.to_uppercase(), "")
        .await
        .expect("opens");
    let first = w.namespace(OTHER_WS, "").await.expect("opens");
    assert!(Arc::ptr_eq(&again, &first));
}

#[tokio::test]
async fn concurrent_first_uses_open_one_pool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Arc::new(warehouse(&dir));
    let opens: Vec<_> = (0..8)
        .map(|_| {
            let w = w.clone();
            tokio::spawn(async move { w.namespace(OTHER_WS, "beta").await })
        })
        .collect();
    let mut all = Vec::new();
    for o in opens {
        all.push(o.await.expect("joins").expect("opens"));
    }
    assert!(all.iter().all(|d| Arc::ptr_eq(d, &all[0])));
    assert_eq!(w.open.lock().expect("unpoisoned").len(), 1);
}

#[tokio::test]
async fn bad_namespaces_are_refused_before_any_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = warehouse(&dir);
    for (ws, schema) in [
        ("../etc", ""),
        ("not-a-uuid", "alpha"),
        (OTHER_WS, "../x"),
        (OTHER_WS, "Alpha"),
        (OTHER_WS, "_tributary_x"),
        (OTHER_WS, "a/b"),
    ] {
        assert!(w.namespace(ws, schema).await.is_err(), "{ws}/{schema:?}");
    }
    assert!(!dir.path().join("warehouse").exists());
}

#[test]
fn a_root_without_an_extension_keeps_namespaces_beside_it() {
    assert_eq!(
        namespace_dir(Path::new("/data/wh")),
        Path::new("/data/wh.d")
    );
    assert_eq!(
        namespace_dir(Path::new("/data/warehouse.db")),
        Path::new("/data/warehouse")
    );
    assert!(Warehouse::new("mysql://h/db", None).is_err());
    assert!(Warehouse::new("sqlite://", None).is_err());
}

#[tokio::test]
async fn in_memory_namespaces_are_separate() {
    let w = Warehouse::new("sqlite::memory:", None).expect("in memory");
    let a = w.namespace(DEFAULT_WS, "").await.expect("opens");
    let b = w.namespace(OTHER_WS, "").await.expect("opens");
    assert!(!Arc::ptr_eq(&a, &b));
}

#[test]
fn postgres_namespaces_are_schemas_named_after_the_workspace() {
    let ns = |schema: &str| Namespace {
        workspace: OTHER_WS.into(),
        schema: schema.into(),
    };
    let id = "0190f5a0000070008000000000000002";
    assert_eq!(pg_schema(&ns("")).expect("fits"), format!("ws_{id}"));
    assert_eq!(
        pg_schema(&ns("sales")).expect("fits"),
        format!("ws_{id}__sales")
    );
    // ws_ + 32 hex + __ leaves 26 bytes of PostgreSQL's 63.
    assert!(pg_schema(&ns(&"s".repeat(26))).is_ok());
    let e = pg_schema(&ns(&"s".repeat(27))).expect_err("too long");
    assert!(e.message.contains("63"), "{e}");
    // Only the URL is checked when the warehouse is made: no connection.
    assert!(Warehouse::new("postgres://u:pw@127.0.0.1:1/db", None).is_ok());
}

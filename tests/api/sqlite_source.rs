//! A `sqlite` connection's tables read into the default warehouse (issue
//! 11, item 4): declared types pick Arrow types by SQLite's affinity rules,
//! NUMERIC and undeclared columns are carried as text and named in the run
//! log, a value its column cannot hold fails the run naming the column, and
//! incremental runs resume by (cursor, key).

use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use tributary::pb::{self, LoadMode, ResultReasonCode, RunStatus};

use crate::{
    both,
    engine::{run_to_end, warehouse_rows},
    helpers::{TestApp, cursor_sync},
};

both!(
    spawn = crate::helpers::spawn_executing_with_files;
    a_sqlite_table_lands_typed_and_resumes_by_cursor_and_key,
);

async fn sql(path: &std::path::Path, sql: &str) {
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    db.execute_unprepared(sql).await.unwrap();
    db.close().await.unwrap();
}

async fn sync_of(app: &TestApp, conn: &str, table: &str) -> pb::Sync {
    let copy = format!("copy_{table}");
    app.new_sync(cursor_sync(
        conn,
        table,
        &copy,
        LoadMode::AppendEvent,
        "updated_at",
        2,
    ))
    .await
}

async fn a_sqlite_table_lands_typed_and_resumes_by_cursor_and_key(app: TestApp) {
    let path = app.files_dir().join("shop.db");
    sql(
        &path,
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, qty INT,
            misc NUMERIC, raw, updated_at TEXT NOT NULL);
         INSERT INTO items VALUES
            (1, 'a', 1.5, 3, 12.50, 7, '2024-05-01'),
            (2, '', NULL, NULL, '12.50', 'x', '2024-05-01'),
            (3, NULL, -0.25, -1, NULL, NULL, '2024-05-01'),
            (4, 'it''s', 2.0, 0, 1e3, 2.5, '2024-04-01');
         CREATE TABLE broken (id INTEGER PRIMARY KEY, qty INTEGER, updated_at TEXT);
         INSERT INTO broken VALUES (1, 'many', '2024-01-01');",
    )
    .await;
    let conn = app
        .connection("shop", "sqlite", json!({"path": path}))
        .await;
    // The rowid alias is never NULL, whatever pragma_table_info's notnull says.
    let columns = app
        .connections()
        .list_schema_columns(pb::ListSchemaColumnsRequest {
            connection_id: conn.id.clone(),
            schema: "main".into(),
            table: "items".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .columns;
    let nullable: Vec<(String, bool)> = columns
        .iter()
        .map(|c| (c.name.clone(), c.nullable))
        .collect();
    assert_eq!(nullable[0], ("id".to_string(), false));
    assert_eq!(nullable[6], ("updated_at".to_string(), false));
    assert!(nullable[1..6].iter().all(|(_, n)| *n), "{nullable:?}");

    let sync = sync_of(&app, &conn.id, "items").await;
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let cols: Vec<String> = ["id", "name", "price", "qty", "misc", "raw", "updated_at"]
        .iter()
        .map(|c| c.to_string())
        .collect();
    // misc (NUMERIC) and raw (undeclared) as SQLite's text of what each row stored.
    let want: Vec<Vec<serde_json::Value>> = vec![
        vec![
            json!(1),
            json!("a"),
            json!(1.5),
            json!(3),
            json!("12.5"),
            json!("7"),
            json!("2024-05-01"),
        ],
        vec![
            json!(2),
            json!(""),
            json!(null),
            json!(null),
            json!("12.5"),
            json!("x"),
            json!("2024-05-01"),
        ],
        vec![
            json!(3),
            json!(null),
            json!(-0.25),
            json!(-1),
            json!(null),
            json!(null),
            json!("2024-05-01"),
        ],
        vec![
            json!(4),
            json!("it's"),
            json!(2.0),
            json!(0),
            json!("1000"),
            json!("2.5"),
            json!("2024-04-01"),
        ],
    ];
    assert_eq!(warehouse_rows(&app, "copy_items", &cols).await, want);
    let lines = app.log_lines(&run.id).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("no faithful type for misc (NUMERIC), raw ((none))")),
        "{lines:#?}"
    );

    // Late rows with the cursor value the last run ended on: read exactly once.
    sql(
        &path,
        "INSERT INTO items (id, name, updated_at) VALUES (5, 'e', '2024-05-01'), (6, 'f', '2024-06-01');",
    )
    .await;
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let ids: Vec<i64> = warehouse_rows(&app, "copy_items", &cols)
        .await
        .iter()
        .map(|r| r[0].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);

    // A TEXT in an INTEGER column: the run fails naming it, nothing guessed.
    let broken = sync_of(&app, &conn.id, "broken").await;
    let (run, _) = run_to_end(&app, &broken.id).await;
    assert_eq!(
        (run.status(), run.result_reason_code()),
        (RunStatus::Failed, ResultReasonCode::ConfigError)
    );
    assert!(
        run.error().contains("broken.qty holds a TEXT value"),
        "{:?}",
        run.error
    );
}

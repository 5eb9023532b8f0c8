//! A `postgres` connection's tables read through binary COPY into the
//! default warehouse (issue 11, item 4): values land as the SQLite
//! warehouse's type table says, NULL and '' apart, and incremental runs
//! resume by (cursor, primary key), so rows that share a cursor value are
//! neither lost nor read twice.

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tributary::pb::{self, LoadMode, RunStatus};

use crate::{
    both,
    engine::{run_to_end, warehouse_rows},
    helpers::{TestApp, cursor_sync, fresh_postgres, json_struct},
    pg_fixtures::pg_source,
};

both!(
    spawn = crate::helpers::spawn_executing;
    a_postgres_table_lands_typed_and_resumes_by_cursor_and_key,
);

async fn a_postgres_table_lands_typed_and_resumes_by_cursor_and_key(app: TestApp) {
    let Some((conn, url)) = pg_source(
        &app,
        "CREATE TABLE customers (
            id int PRIMARY KEY, email text, note text, balance numeric(12,2),
            seen_at timestamptz, tags text[], meta jsonb, ip inet, updated_at timestamp NOT NULL);
         INSERT INTO customers VALUES
            (1, 'a@x', '', 12.50, '2024-01-02 03:04:05.123456+00', '{a,NULL}', '{\"k\": 1}', '10.0.0.1', '2024-05-01 00:00:00'),
            (2, 'b@x', NULL, -0.01, NULL, '{}', NULL, NULL, '2024-05-01 00:00:00'),
            (3, 'c@x', 'it''s', 0, '1969-12-31 23:59:59+00', NULL, '[]', '::1', '2024-05-01 00:00:00'),
            (4, 'd@x', 'x', 99999.99, NULL, NULL, NULL, NULL, '2024-05-01 00:00:00'),
            (5, 'e@x', 'y', NULL, NULL, NULL, NULL, NULL, '2024-04-01 00:00:00');",
    )
    .await
    else {
        return;
    };
    // APPEND_EVENT with batches of 2: a row read twice would be a second row.
    let sync = app
        .new_sync(cursor_sync(
            &conn.id,
            "public.customers",
            "customers",
            LoadMode::AppendEvent,
            "updated_at",
            2,
        ))
        .await;
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let cols: Vec<String> = [
        "id",
        "email",
        "note",
        "balance",
        "seen_at",
        "tags",
        "meta",
        "ip",
        "updated_at",
    ]
    .iter()
    .map(|c| c.to_string())
    .collect();
    let want = vec![
        json!([
            1,
            "a@x",
            "",
            "12.50",
            "2024-01-02T03:04:05.123456Z",
            "[\"a\",null]",
            "{\"k\": 1}",
            "10.0.0.1/32",
            "2024-05-01T00:00:00"
        ]),
        json!([
            2,
            "b@x",
            null,
            "-0.01",
            null,
            "[]",
            null,
            null,
            "2024-05-01T00:00:00"
        ]),
        json!([
            3,
            "c@x",
            "it's",
            "0.00",
            "1969-12-31T23:59:59Z",
            null,
            "[]",
            "::1/128",
            "2024-05-01T00:00:00"
        ]),
        json!([
            4,
            "d@x",
            "x",
            "99999.99",
            null,
            null,
            null,
            null,
            "2024-05-01T00:00:00"
        ]),
        json!([
            5,
            "e@x",
            "y",
            null,
            null,
            null,
            null,
            null,
            "2024-04-01T00:00:00"
        ]),
    ];
    let as_rows = |v: Vec<Value>| -> Vec<Vec<Value>> {
        v.into_iter()
            .map(|r| r.as_array().unwrap().clone())
            .collect()
    };
    assert_eq!(
        warehouse_rows(&app, "customers", &cols).await,
        as_rows(want.clone())
    );
    let lines = app.log_lines(&run.id).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("no faithful type for ip (inet)")),
        "{lines:#?}"
    );
    // The summary says where the rows are.
    let table = &run.summary.as_ref().unwrap().entities[0].destination_table;
    assert!(
        table.starts_with("main.\"customers\" in ") && table.contains("warehouse.db"),
        "{table}"
    );

    // Rows committed late with the cursor value the last run ended on, and
    // a larger key: the next run reads exactly those.
    let db = Database::connect(&url).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO customers (id, email, updated_at) VALUES
            (6, 'f@x', '2024-05-01 00:00:00'), (7, 'g@x', '2024-05-01 00:00:00'),
            (8, 'h@x', '2024-06-01 00:00:00');",
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let got = warehouse_rows(&app, "customers", &cols).await;
    let ids: Vec<i64> = got.iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7, 8], "each row exactly once");
}

both!(
    spawn = crate::helpers::spawn_app;
    postgres_to_a_postgres_warehouse_lands_in_each_workspaces_schema,
);

/// The rows of `schema.table` in the PostgreSQL database at `url`, each
/// column as its text, by id.
pub(crate) async fn pg_rows(
    url: &str,
    schema: &str,
    table: &str,
    columns: &[&str],
) -> Vec<Vec<Option<String>>> {
    use sea_orm::{FromQueryResult, JsonValue, Statement};
    let db = Database::connect(url).await.unwrap();
    let cols: Vec<String> = columns.iter().map(|c| format!("\"{c}\"::text")).collect();
    let sql = format!(
        "SELECT json_build_array({})::text AS j FROM \"{schema}\".\"{table}\" ORDER BY id",
        cols.join(", ")
    );
    let rows = JsonValue::find_by_statement(Statement::from_string(db.get_database_backend(), sql))
        .all(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
    rows.into_iter()
        .map(|r| {
            let j: Vec<Option<String>> = serde_json::from_str(r["j"].as_str().unwrap()).unwrap();
            j
        })
        .collect()
}

/// PostgreSQL → a PostgreSQL default warehouse: every value equal, and two
/// workspaces binding the same table name each get their own schema.
async fn postgres_to_a_postgres_warehouse_lands_in_each_workspaces_schema(app: TestApp) {
    let Some(warehouse) = fresh_postgres().await else {
        return;
    };
    let url = warehouse.clone();
    let Some(app) = crate::helpers::spawn_app_with(app.backend, move |a| {
        a.executor_concurrency = 2;
        a.warehouse_url = Some(url);
    })
    .await
    else {
        return;
    };
    let Some((conn, _)) = pg_source(
        &app,
        "CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), note text,
            at timestamptz, tags int[], doc jsonb, u uuid, d date, span interval);
         INSERT INTO orders VALUES
            (1, 10.50, '', '2024-01-02 03:04:05.123456+00', '{1,NULL}', '{\"a\": [1]}',
             '0191e9a8-7b0c-7d2e-9f00-0123456789ab', '1999-12-31', '1 mon 2 days 00:00:03.5'),
            (2, -0.01, NULL, NULL, '{}', NULL, NULL, NULL, NULL);",
    )
    .await
    else {
        return;
    };
    let sync = app
        .bound_sync(&conn.id, "public.orders", LoadMode::Replace, "orders")
        .await;
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let cols = [
        "id", "amount", "note", "at", "tags", "doc", "u", "d", "span",
    ];
    let ws = app
        .workspaces()
        .get_workspace(pb::GetWorkspaceRequest::default())
        .await
        .unwrap()
        .into_inner();
    let schema = format!("ws_{}", ws.id.replace('-', ""));
    let table = &run.summary.as_ref().unwrap().entities[0].destination_table;
    assert!(
        table.starts_with(&format!("\"{schema}\".\"orders\" in postgres://postgres@")),
        "{table}"
    );
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        pg_rows(&warehouse, &schema, "orders", &cols).await,
        vec![
            vec![
                s("1"),
                s("10.50"),
                s(""),
                s("2024-01-02 03:04:05.123456+00"),
                s("{1,NULL}"),
                s("{\"a\": [1]}"),
                s("0191e9a8-7b0c-7d2e-9f00-0123456789ab"),
                s("1999-12-31"),
                s("1 mon 2 days 00:00:03.5")
            ],
            vec![
                s("2"),
                s("-0.01"),
                None,
                None,
                s("{}"),
                None,
                None,
                None,
                None
            ],
        ]
    );

    // Another workspace binding the same table name writes its own schema.
    let other = app.other_workspace("Other").await;
    let their_conn = app
        .connections_as(&other.key)
        .create_connection(pb::CreateConnectionRequest {
            name: "demo".into(),
            provider: "faker".into(),
            config: Some(json_struct(json!({"row_count": 3}))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let theirs = app
        .syncs_as(&other.key)
        .create_sync(pb::CreateSyncRequest {
            name: "theirs".into(),
            connection_id: their_conn.id,
            entities: vec!["users".into()],
            table_bindings: vec![pb::TableBinding {
                entity_key: "users".into(),
                physical_table_name: "orders".into(),
                load_mode: LoadMode::Replace.into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let run = app
        .syncs_as(&other.key)
        .trigger_sync(pb::TriggerSyncRequest {
            sync_id: theirs.id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ended = crate::helpers::eventually(std::time::Duration::from_secs(60), || async {
        let r = app
            .runs_as(&other.key)
            .get_run(pb::GetRunRequest {
                run_id: run.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        matches!(r.status(), RunStatus::Succeeded | RunStatus::Failed).then_some(r)
    })
    .await;
    assert_eq!(ended.status(), RunStatus::Succeeded, "{:?}", ended.error);
    let their_schema = format!("ws_{}", other.workspace.unwrap().id.replace('-', ""));
    let ids = pg_rows(&warehouse, &their_schema, "orders", &["id"]).await;
    assert_eq!(ids, vec![vec![s("1")], vec![s("2")], vec![s("3")]]);
    // Ours is untouched.
    assert_eq!(
        pg_rows(&warehouse, &schema, "orders", &["id"]).await.len(),
        2
    );
}

both!(
    spawn = crate::helpers::spawn_executing;
    fan_out_window_splits_a_postgres_table_at_its_cursor_values,
);

/// FAN_OUT_WINDOW on a PostgreSQL source: windows end at cursor values the
/// table holds (rows that share one fall in one window), every row lands
/// exactly once, and the next run reads only what came since.
async fn fan_out_window_splits_a_postgres_table_at_its_cursor_values(app: TestApp) {
    let Some((conn, url)) = pg_source(
        &app,
        "CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL, v text);
         INSERT INTO events
            SELECT i, '2024-01-01'::timestamptz + (i / 10) * interval '1 minute', 'v' || i
            FROM generate_series(1, 1000) i;",
    )
    .await
    else {
        return;
    };
    let sync = app
        .new_sync(pb::CreateSyncRequest {
            execution_mode: pb::ExecutionMode::FanOutWindow.into(),
            execution_config: Some(json_struct(json!({"window_count": 4, "batch_size": 50}))),
            ..cursor_sync(
                &conn.id,
                "public.events",
                "events",
                LoadMode::AppendEvent,
                "at",
                50,
            )
        })
        .await;
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let lines = app.log_lines(&run.id).await;
    assert!(
        lines.iter().any(|l| l.contains("in 4 windows")),
        "{lines:#?}"
    );
    let cols: Vec<String> = ["id", "v"].iter().map(|c| c.to_string()).collect();
    let want: Vec<Vec<Value>> = (1..=1000)
        .map(|i| vec![json!(i), json!(format!("v{i}"))])
        .collect();
    assert_eq!(warehouse_rows(&app, "events", &cols).await, want);

    let db = Database::connect(&url).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO events SELECT i, '2024-01-01'::timestamptz + (i / 10) * interval '1 minute', 'v' || i
         FROM generate_series(1001, 1010) i;",
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let want: Vec<Vec<Value>> = (1..=1010)
        .map(|i| vec![json!(i), json!(format!("v{i}"))])
        .collect();
    assert_eq!(
        warehouse_rows(&app, "events", &cols).await,
        want,
        "each row once"
    );
}

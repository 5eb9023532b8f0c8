//! `source_config.lookback` (issue 11): an incremental run that starts from
//! a committed cursor first re-reads the trailing window below it, so rows
//! committed late with an older cursor value are caught, and UPSERT makes
//! the re-read harmless. A row older than the window is not caught: that
//! is the trade-off a lookback's length sets. Rows that share a cursor
//! value across batch boundaries (batches of 2, three rows at 10:30) are
//! each read once, by (cursor, key), on PostgreSQL and SQLite sources alike.

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tributary::pb::{self, LoadMode, ResultReasonCode, RunStatus};

use crate::{
    both,
    engine::{run_to_end, warehouse_rows},
    helpers::{TestApp, cursor_sync, expect_violation, json_struct},
    pg_fixtures::pg_source,
};

both!(
    spawn = crate::helpers::spawn_executing;
    a_postgres_lookback_catches_late_rows_inside_its_window,
);

both!(
    spawn = crate::helpers::spawn_executing_with_files;
    a_sqlite_lookback_catches_late_rows_inside_its_window,
);

both!(lookback_is_validated_against_the_bindings,);

async fn pg_exec(url: &str, sql: &str) {
    let db = Database::connect(url).await.unwrap();
    db.execute_unprepared(sql).await.unwrap();
    db.close().await.unwrap();
}

async fn sqlite_exec(path: &std::path::Path, sql: &str) {
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    db.execute_unprepared(sql).await.unwrap();
    db.close().await.unwrap();
}

/// An UPSERT sync of `entity` by `cursor` into `table`, in batches of 2,
/// with `lookback` in its source_config.
async fn upsert_sync(
    app: &TestApp,
    conn: &str,
    entity: &str,
    table: &str,
    cursor: &str,
    lookback: Value,
) -> pb::Sync {
    let mut req = cursor_sync(conn, entity, table, LoadMode::Upsert, cursor, 2);
    req.table_bindings[0].primary_key_columns = vec!["id".into()];
    req.source_config = Some(json_struct(json!({ "lookback": lookback })));
    app.new_sync(req).await
}

/// Runs the sync to its end, which must be a success; its one entity's
/// summary.
async fn succeeds(app: &TestApp, sync_id: &str) -> (pb::Run, pb::EntitySummary) {
    let (run, _) = run_to_end(app, sync_id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let entity = run.summary.as_ref().unwrap().entities[0].clone();
    (run, entity)
}

fn columns(names: &[&str]) -> Vec<String> {
    names.iter().map(|c| c.to_string()).collect()
}

/// `(id, note, cursor)` rows as the warehouse returns them.
fn rows(list: &[(i64, &str, Value)]) -> Vec<Vec<Value>> {
    list.iter()
        .map(|(id, note, at)| vec![json!(id), json!(note), at.clone()])
        .collect()
}

/// The timestamp scenario, on either source: five rows (three sharing
/// 10:30, across batches of 2), then a late row inside the 15 minutes
/// below the committed 10:40, a late row outside them, a row changed
/// without its cursor moving, and a new row at 11:00.
struct Times {
    /// The cursor value of `hh:mm` as the warehouse holds it.
    at: fn(&str) -> Value,
}

impl Times {
    fn first(&self) -> Vec<Vec<Value>> {
        let at = self.at;
        rows(&[
            (1, "a", at("10:00")),
            (2, "b", at("10:30")),
            (3, "c", at("10:30")),
            (4, "d", at("10:30")),
            (5, "e", at("10:40")),
        ])
    }

    /// After the late changes: every row but 7, which is older than the
    /// window and so never read.
    fn second(&self) -> Vec<Vec<Value>> {
        let at = self.at;
        rows(&[
            (1, "a", at("10:00")),
            (2, "b", at("10:30")),
            (3, "c changed", at("10:30")),
            (4, "d", at("10:30")),
            (5, "e", at("10:40")),
            (6, "late", at("10:30")),
            (8, "new", at("11:00")),
        ])
    }
}

/// The scenario's runs after the first: the late row inside the window is
/// caught, the one outside is not, nothing is duplicated, and the committed
/// position never moves back (a run with nothing new keeps it).
async fn runs_after_the_late_rows(
    app: &TestApp,
    sync: &pb::Sync,
    table: &str,
    times: &Times,
    first: &pb::EntitySummary,
) {
    let cols = columns(&["id", "note", "updated_at"]);
    let (run, second) = succeeds(app, &sync.id).await;
    assert_eq!(second.cursor_before, first.cursor_after);
    let lines = app.log_lines(&run.id).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("re-reading a lookback of PT15M before it")),
        "{lines:#?}"
    );
    assert_eq!(warehouse_rows(app, table, &cols).await, times.second());
    // The window from 10:25 up to (10:40, 5): rows 2, 3, 4, 6 and 5; then 8.
    assert_eq!(second.records_read, 6);
    assert!(second.cursor_after.contains("11:00"), "{second:?}");

    // Nothing new: the window (row 8) is read again, the position stays.
    let (_, third) = succeeds(app, &sync.id).await;
    assert_eq!(third.records_read, 1);
    assert_eq!(third.cursor_before, second.cursor_after);
    assert_eq!(third.cursor_after, second.cursor_after);
    assert_eq!(warehouse_rows(app, table, &cols).await, times.second());
}

async fn a_postgres_lookback_catches_late_rows_inside_its_window(app: TestApp) {
    let Some((conn, url)) = pg_source(
        &app,
        "CREATE TABLE orders (id int PRIMARY KEY, note text, updated_at timestamptz NOT NULL);
         INSERT INTO orders VALUES
            (1, 'a', '2024-05-01 10:00+00'), (2, 'b', '2024-05-01 10:30+00'),
            (3, 'c', '2024-05-01 10:30+00'), (4, 'd', '2024-05-01 10:30+00'),
            (5, 'e', '2024-05-01 10:40+00');
         CREATE TABLE versions (id int PRIMARY KEY, note text, version bigint NOT NULL);
         INSERT INTO versions VALUES (1, 'a', 100), (2, 'b', 105), (3, 'c', 120);
         CREATE TABLE labels (id int PRIMARY KEY, note text, tag text NOT NULL);
         INSERT INTO labels VALUES (1, 'a', 'x');",
    )
    .await
    else {
        return;
    };
    let times = Times {
        at: |hm| json!(format!("2024-05-01T{hm}:00Z")),
    };
    let sync = upsert_sync(
        &app,
        &conn.id,
        "public.orders",
        "orders",
        "updated_at",
        json!("PT15M"),
    )
    .await;
    let (_, first) = succeeds(&app, &sync.id).await;
    let cols = columns(&["id", "note", "updated_at"]);
    assert_eq!(warehouse_rows(&app, "orders", &cols).await, times.first());
    pg_exec(
        &url,
        "INSERT INTO orders VALUES
            (6, 'late', '2024-05-01 10:30+00'), (7, 'too late', '2024-05-01 10:00+00'),
            (8, 'new', '2024-05-01 11:00+00');
         UPDATE orders SET note = 'c changed' WHERE id = 3;",
    )
    .await;
    runs_after_the_late_rows(&app, &sync, "orders", &times, &first).await;

    // An integer cursor: a lookback of 10 versions below the committed 120.
    let sync = upsert_sync(
        &app,
        &conn.id,
        "public.versions",
        "versions",
        "version",
        json!(10),
    )
    .await;
    succeeds(&app, &sync.id).await;
    pg_exec(
        &url,
        "INSERT INTO versions VALUES (4, 'inside', 110), (5, 'outside', 109);",
    )
    .await;
    let (_, second) = succeeds(&app, &sync.id).await;
    assert_eq!(second.records_read, 2, "rows 4 and 3: {second:?}");
    let cols = columns(&["id", "note", "version"]);
    assert_eq!(
        warehouse_rows(&app, "versions", &cols).await,
        rows(&[
            (1, "a", json!(100)),
            (2, "b", json!(105)),
            (3, "c", json!(120)),
            (4, "inside", json!(110)),
        ])
    );

    // A text cursor has no time to subtract from: the run that would look
    // back fails, naming the column.
    let sync = upsert_sync(
        &app,
        &conn.id,
        "public.labels",
        "labels",
        "tag",
        json!("PT15M"),
    )
    .await;
    succeeds(&app, &sync.id).await;
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(
        (run.status(), run.result_reason_code()),
        (RunStatus::Failed, ResultReasonCode::ConfigError)
    );
    assert!(
        run.error()
            .contains("cursor field public.labels.tag of type text"),
        "{:?}",
        run.error
    );
}

async fn a_sqlite_lookback_catches_late_rows_inside_its_window(app: TestApp) {
    let path = app.files_dir().join("shop.db");
    // ISO-8601 text, as many applications store times in SQLite.
    sqlite_exec(
        &path,
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT, updated_at TEXT NOT NULL);
         INSERT INTO orders VALUES
            (1, 'a', '2024-05-01T10:00:00Z'), (2, 'b', '2024-05-01T10:30:00Z'),
            (3, 'c', '2024-05-01T10:30:00Z'), (4, 'd', '2024-05-01T10:30:00Z'),
            (5, 'e', '2024-05-01T10:40:00Z');
         CREATE TABLE versions (id INTEGER PRIMARY KEY, note TEXT, version INTEGER NOT NULL);
         INSERT INTO versions VALUES (1, 'a', 100), (2, 'b', 105), (3, 'c', 120);
         CREATE TABLE scores (id INTEGER PRIMARY KEY, note TEXT, score REAL NOT NULL);
         INSERT INTO scores VALUES (1, 'a', 1.5);",
    )
    .await;
    let conn = app
        .connection("shop", "sqlite", json!({"path": path}))
        .await;
    let times = Times {
        at: |hm| json!(format!("2024-05-01T{hm}:00Z")),
    };
    let sync = upsert_sync(
        &app,
        &conn.id,
        "orders",
        "orders",
        "updated_at",
        json!("PT15M"),
    )
    .await;
    let (_, first) = succeeds(&app, &sync.id).await;
    let cols = columns(&["id", "note", "updated_at"]);
    assert_eq!(warehouse_rows(&app, "orders", &cols).await, times.first());
    sqlite_exec(
        &path,
        "INSERT INTO orders VALUES
            (6, 'late', '2024-05-01T10:30:00Z'), (7, 'too late', '2024-05-01T10:00:00Z'),
            (8, 'new', '2024-05-01T11:00:00Z');
         UPDATE orders SET note = 'c changed' WHERE id = 3;",
    )
    .await;
    runs_after_the_late_rows(&app, &sync, "orders", &times, &first).await;

    let sync = upsert_sync(&app, &conn.id, "versions", "versions", "version", json!(10)).await;
    succeeds(&app, &sync.id).await;
    sqlite_exec(
        &path,
        "INSERT INTO versions VALUES (4, 'inside', 110), (5, 'outside', 109);",
    )
    .await;
    let (_, second) = succeeds(&app, &sync.id).await;
    assert_eq!(second.records_read, 2, "rows 4 and 3: {second:?}");
    let cols = columns(&["id", "note", "version"]);
    assert_eq!(
        warehouse_rows(&app, "versions", &cols).await,
        rows(&[
            (1, "a", json!(100)),
            (2, "b", json!(105)),
            (3, "c", json!(120)),
            (4, "inside", json!(110)),
        ])
    );

    // A REAL cursor allows no lookback arithmetic: the run names it.
    let sync = upsert_sync(&app, &conn.id, "scores", "scores", "score", json!(1)).await;
    succeeds(&app, &sync.id).await;
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(
        (run.status(), run.result_reason_code()),
        (RunStatus::Failed, ResultReasonCode::ConfigError)
    );
    assert!(
        run.error()
            .contains("cursor field scores.score (declared REAL"),
        "{:?}",
        run.error
    );
}

/// Malformed, negative, on an APPEND_EVENT binding, or with no binding
/// reading by a cursor: refused on create and on update, nothing written.
async fn lookback_is_validated_against_the_bindings(app: TestApp) {
    let conn = app.faker_connection("demo").await;
    let create =
        |entity: &str, mode: LoadMode, cursor: &str, lookback: Value| pb::CreateSyncRequest {
            name: format!("{entity} sync"),
            connection_id: conn.id.clone(),
            entities: vec![entity.into()],
            table_bindings: vec![pb::TableBinding {
                entity_key: entity.into(),
                physical_table_name: format!("t_{entity}"),
                load_mode: mode.into(),
                cursor_field: cursor.into(),
                primary_key_columns: vec!["id".into()],
                ..Default::default()
            }],
            source_config: Some(json_struct(json!({ "lookback": lookback }))),
            ..Default::default()
        };
    let field = "source_config.lookback";
    for (lookback, why) in [
        (json!("PT"), "a T must be followed"),
        (json!("15 minutes"), "must start with P"),
        (json!("P1M"), "years and months"),
        (json!("-PT15M"), "negative"),
        (json!(-5), "negative"),
        (json!(2.5), "whole number"),
        (json!(true), "ISO-8601 duration"),
    ] {
        let s = expect_violation(
            app.syncs()
                .create_sync(create("users", LoadMode::Upsert, "", lookback.clone()))
                .await,
            field,
        );
        assert!(s.message().contains(why), "{lookback}: {}", s.message());
    }
    let s = expect_violation(
        app.syncs()
            .create_sync(create("events", LoadMode::AppendEvent, "", json!("PT15M")))
            .await,
        field,
    );
    assert!(
        s.message()
            .contains("APPEND_EVENT binding table_bindings[0] ('events')")
            && s.message().contains("append its events a second time"),
        "{}",
        s.message()
    );
    let s = expect_violation(
        app.syncs()
            .create_sync(create("users", LoadMode::Replace, "", json!(5)))
            .await,
        field,
    );
    assert!(
        s.message().contains("no binding reads incrementally"),
        "{}",
        s.message()
    );
    let none = app
        .syncs()
        .list_syncs(pb::ListSyncsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(none.total, 0, "nothing refused was written");

    // Accepted on UPSERT, as a duration or a number, and kept as given.
    let sync = app
        .syncs()
        .create_sync(create("users", LoadMode::Upsert, "", json!("PT15M")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        sync.source_config.as_ref().unwrap().fields["lookback"],
        prost_types::Value::from("PT15M".to_string())
    );
    let update = |lookback: Value| pb::UpdateSyncRequest {
        sync_id: sync.id.clone(),
        source_config: Some(json_struct(json!({ "lookback": lookback }))),
        ..Default::default()
    };
    app.syncs().update_sync(update(json!(500))).await.unwrap();
    expect_violation(app.syncs().update_sync(update(json!("P1Y"))).await, field);
    // Turning the binding into APPEND_EVENT under a lookback is refused too.
    let s = expect_violation(
        app.syncs()
            .update_sync(pb::UpdateSyncRequest {
                sync_id: sync.id.clone(),
                table_bindings: vec![pb::TableBinding {
                    entity_key: "users".into(),
                    physical_table_name: "t_users".into(),
                    load_mode: LoadMode::AppendEvent.into(),
                    ..Default::default()
                }],
                update_table_bindings: true,
                ..Default::default()
            })
            .await,
        field,
    );
    assert!(s.message().contains("a second time"), "{}", s.message());
    let kept = app
        .syncs()
        .get_sync(pb::GetSyncRequest {
            sync_id: sync.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        kept.source_config.as_ref().unwrap().fields["lookback"],
        prost_types::Value::from(500.0)
    );
    assert_eq!(kept.table_bindings[0].load_mode(), LoadMode::Upsert);
}

/// The source itself: batches of the window carry the committed position,
/// not their last row's, so a run that stops inside the window never moves
/// its position back; the rows after it move it on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_batches_carry_the_committed_position() {
    use futures::StreamExt;
    use tributary::{
        connectors::{self, LocalFiles, ReadRequest, Settings},
        domain::lookback::Lookback,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    sqlite_exec(
        &path,
        "CREATE TABLE versions (id INTEGER PRIMARY KEY, version INTEGER NOT NULL);
         INSERT INTO versions VALUES (1, 100), (2, 105), (3, 120), (4, 110), (5, 99), (6, 130);",
    )
    .await;
    let config = json!({"path": path}).as_object().unwrap().clone();
    let files = LocalFiles::new(&[dir.path().to_path_buf()], &[]).unwrap();
    let source = connectors::source(&Settings {
        provider: "sqlite",
        config: &config,
        credentials: &Default::default(),
        local_files: &files,
        context: None,
    })
    .unwrap();
    let committed = r#"["120","3"]"#.to_string();
    let mut batches = source
        .read(ReadRequest {
            entity_key: "versions".into(),
            cursor_field: Some("version".into()),
            after: Some(committed.clone()),
            up_to: None,
            batch_size: 1,
            lookback: Some(Lookback::Units(20)),
        })
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(b) = batches.next().await {
        let b = b.unwrap();
        let ids = tributary::batch::json::rows(&b.data).unwrap();
        seen.push((ids[0][0].clone(), b.cursor.unwrap()));
    }
    let held = |id: i64| (json!(id), committed.clone());
    assert_eq!(
        seen,
        [
            // 120 less 20: from 100 inclusive (99 is older than the window).
            held(1),
            held(2),
            held(4),
            held(3),
            (json!(6), r#"["130","6"]"#.to_string())
        ]
    );
}

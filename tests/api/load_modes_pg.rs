//! Every load mode into a PostgreSQL warehouse (`--warehouse-url
//! postgres://…`, a database other than the source's), through the real
//! server and engine, asserting the whole destination table after each run:
//! APPEND_EVENT appends and merges nothing; UPSERT merges on the key and
//! reads rows that share the last cursor value exactly once; REPLACE
//! replaces (rows deleted at the source disappear); a FULL_REFRESH run of
//! an UPSERT sync replaces too; after ResetSyncState the next run reloads
//! the table in full instead of appending a second copy.

use tributary::pb::{self, LoadMode, RunMode};

use crate::{
    both,
    helpers::{TestApp, cursor_sync},
    pg_fixtures::{
        execute, pg_source, pg_table, pg_text_rows, run_in_mode, succeeded, workspace_schema,
    },
};

type Rows = Vec<Vec<Option<String>>>;

const COLUMNS: [&str; 4] = ["id", "name", "price", "updated_at"];

/// Rows 3 and 4 share a cursor value, and batches hold two rows: the
/// first run's last batch ends inside that tie.
const ITEMS: &str = "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2),
        updated_at timestamptz NOT NULL);
    INSERT INTO items VALUES
        (1, 'a', 1.10, '2024-01-01 00:00:00+00'),
        (2, '', NULL, '2024-01-02 00:00:00+00'),
        (3, NULL, 3.00, '2024-01-03 00:00:00+00'),
        (4, 'd', -4.50, '2024-01-03 00:00:00+00'),
        (5, 'e', 5.00, '2024-01-03 00:00:00+00');";

/// Rows as `(id, name, price, updated_at)` text, the way both sides print
/// them in UTC.
fn rows(r: &[(i32, Option<&str>, Option<&str>, &str)]) -> Rows {
    r.iter()
        .map(|(id, name, price, at)| {
            vec![
                Some(id.to_string()),
                name.map(str::to_string),
                price.map(str::to_string),
                Some(format!("2024-01-{at} 00:00:00+00")),
            ]
        })
        .collect()
}

/// The five rows of ITEMS.
fn initial() -> Vec<(
    i32,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
)> {
    vec![
        (1, Some("a"), Some("1.10"), "01"),
        (2, Some(""), None, "02"),
        (3, None, Some("3.00"), "03"),
        (4, Some("d"), Some("-4.50"), "03"),
        (5, Some("e"), Some("5.00"), "03"),
    ]
}

/// A source with ITEMS, and a sync of it into table `items` in `mode`
/// (cursor `updated_at`, key `id`, two rows per batch).
async fn setup(app: &TestApp, mode: LoadMode) -> Option<(pb::Sync, String)> {
    let (conn, source) = pg_source(app, ITEMS).await?;
    let mut req = cursor_sync(&conn.id, "public.items", "items", mode, "updated_at", 2);
    req.table_bindings[0].primary_key_columns = vec!["id".into()];
    let sync = app.new_sync(req).await;
    Some((sync, source))
}

/// The destination table, every row (by id, then cursor: APPEND_EVENT
/// keeps versions).
async fn destination(app: &TestApp) -> Rows {
    let schema = workspace_schema(app).await;
    pg_table(
        app.warehouse_url.as_deref().unwrap(),
        &schema,
        "items",
        &COLUMNS,
        "id, updated_at, name",
    )
    .await
}

/// The source table, every row by id.
async fn source_rows(source: &str) -> Rows {
    pg_text_rows(
        source,
        "SELECT id::text, name, price::text, updated_at::text FROM items ORDER BY id",
    )
    .await
}

/// The destination's tables other than `items` and the positions: a full
/// load leaves no staging table behind.
async fn leftover_tables(app: &TestApp) -> Rows {
    let schema = workspace_schema(app).await;
    pg_text_rows(
        app.warehouse_url.as_deref().unwrap(),
        &format!(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = '{schema}'
             AND tablename NOT IN ('items', '_tributary_positions') ORDER BY 1"
        ),
    )
    .await
}

both!(
    spawn = crate::pg_fixtures::spawn_with_pg_warehouse;
    append_event_appends_every_run_and_merges_nothing,
    upsert_merges_each_run_and_reads_cursor_ties_once,
    replace_replaces_the_table_and_drops_deleted_rows,
    a_full_refresh_of_an_upsert_sync_replaces_the_table,
    a_reset_sync_reloads_the_table_instead_of_appending_it_again,
    a_full_load_keeps_the_views_that_depend_on_the_table,
);

async fn append_event_appends_every_run_and_merges_nothing(app: TestApp) {
    let Some((sync, source)) = setup(&app, LoadMode::AppendEvent).await else {
        return;
    };
    succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
    assert_eq!(destination(&app).await, rows(&initial()));
    // A changed row, a row tying the last cursor, and a later one.
    execute(
        &source,
        "UPDATE items SET name = 'b2', updated_at = '2024-01-04 00:00:00+00' WHERE id = 2;
         INSERT INTO items VALUES (6, 'f', 6.00, '2024-01-03 00:00:00+00'),
                                  (7, 'g', NULL, '2024-01-05 00:00:00+00');",
    )
    .await;
    succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
    let mut want = initial();
    want.insert(2, (2, Some("b2"), None, "04"));
    want.extend([
        (6, Some("f"), Some("6.00"), "03"),
        (7, Some("g"), None, "05"),
    ]);
    assert_eq!(
        destination(&app).await,
        rows(&want),
        "both versions of row 2, the rest once"
    );
}

async fn upsert_merges_each_run_and_reads_cursor_ties_once(app: TestApp) {
    let Some((sync, source)) = setup(&app, LoadMode::Upsert).await else {
        return;
    };
    succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
    assert_eq!(destination(&app).await, rows(&initial()));
    // The merge key is the table's primary key.
    let schema = workspace_schema(&app).await;
    let key = pg_text_rows(
        app.warehouse_url.as_deref().unwrap(),
        &format!(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint
             WHERE conrelid = '\"{schema}\".items'::regclass AND contype = 'p'"
        ),
    )
    .await;
    assert_eq!(key, vec![vec![Some("PRIMARY KEY (id)".to_string())]]);
    // Row 2 changes (a NULL and '' swap places), row 6 ties the last
    // cursor value, row 1 is deleted (UPSERT keeps what it merged).
    execute(
        &source,
        "UPDATE items SET name = NULL, price = 0, updated_at = '2024-01-04 00:00:00+00' WHERE id = 2;
         UPDATE items SET name = '', updated_at = '2024-01-04 00:00:00+00' WHERE id = 3;
         INSERT INTO items VALUES (6, 'f', 6.00, '2024-01-03 00:00:00+00');
         DELETE FROM items WHERE id = 1;",
    )
    .await;
    succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
    let want = vec![
        (1, Some("a"), Some("1.10"), "01"),
        (2, None, Some("0.00"), "04"),
        (3, Some(""), Some("3.00"), "04"),
        (4, Some("d"), Some("-4.50"), "03"),
        (5, Some("e"), Some("5.00"), "03"),
        (6, Some("f"), Some("6.00"), "03"),
    ];
    assert_eq!(destination(&app).await, rows(&want));
}

async fn replace_replaces_the_table_and_drops_deleted_rows(app: TestApp) {
    let Some((sync, source)) = setup(&app, LoadMode::Replace).await else {
        return;
    };
    succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
    assert_eq!(destination(&app).await, rows(&initial()));
    execute(
        &source,
        "DELETE FROM items WHERE id IN (1, 4);
         UPDATE items SET price = 2.25 WHERE id = 2;
         INSERT INTO items VALUES (6, 'f', NULL, '2023-12-31 00:00:00+00');",
    )
    .await;
    succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
    let got = destination(&app).await;
    assert_eq!(got, source_rows(&source).await);
    assert_eq!(
        got.iter()
            .map(|r| r[0].clone().unwrap())
            .collect::<Vec<_>>(),
        ["2", "3", "5", "6"]
    );
    assert_eq!(got[0][2].as_deref(), Some("2.25"));
    assert!(leftover_tables(&app).await.is_empty());
}

async fn a_full_refresh_of_an_upsert_sync_replaces_the_table(app: TestApp) {
    let Some((sync, source)) = setup(&app, LoadMode::Upsert).await else {
        return;
    };
    succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
    // Changes no incremental run sees: a deletion, and an update that
    // leaves the cursor as it was.
    execute(
        &source,
        "DELETE FROM items WHERE id = 1; UPDATE items SET name = 'quiet' WHERE id = 4;",
    )
    .await;
    succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
    assert_eq!(destination(&app).await, rows(&initial()), "unseen");
    succeeded(&run_in_mode(&app, &sync.id, RunMode::FullRefresh).await);
    assert_eq!(destination(&app).await, source_rows(&source).await);
    assert_eq!(destination(&app).await.len(), 4);
    assert!(leftover_tables(&app).await.is_empty());
    // Incremental runs go on from the full load's cursor, merging.
    execute(
        &source,
        "INSERT INTO items VALUES (6, 'f', 6.00, '2024-01-03 00:00:00+00');
         UPDATE items SET name = 'e2', updated_at = '2024-01-09 00:00:00+00' WHERE id = 5;",
    )
    .await;
    let run = run_in_mode(&app, &sync.id, RunMode::Incremental).await;
    succeeded(&run);
    assert_eq!(
        run.summary.unwrap().records_read,
        2,
        "only what came since the full load"
    );
    assert_eq!(destination(&app).await, source_rows(&source).await);
}

async fn a_reset_sync_reloads_the_table_instead_of_appending_it_again(app: TestApp) {
    let Some((sync, source)) = setup(&app, LoadMode::AppendEvent).await else {
        return;
    };
    succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
    execute(&source, "DELETE FROM items WHERE id = 3;").await;
    let reset = app
        .syncs()
        .reset_sync_state(pb::ResetSyncStateRequest {
            sync_id: sync.id.clone(),
            entities: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(reset.sync.is_some());
    let run = run_in_mode(&app, &sync.id, RunMode::Incremental).await;
    succeeded(&run);
    assert_eq!(run.summary.unwrap().records_read, 4, "read in full");
    // Once each, and row 3 gone: the reload replaced the table.
    assert_eq!(destination(&app).await, source_rows(&source).await);
    assert_eq!(destination(&app).await.len(), 4);
    assert!(leftover_tables(&app).await.is_empty());
    // Then it appends again.
    execute(
        &source,
        "INSERT INTO items VALUES (6, 'f', 6.00, '2024-01-07 00:00:00+00');",
    )
    .await;
    succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
    assert_eq!(destination(&app).await, source_rows(&source).await);
}

/// A user's view over a warehouse table: full loads replace the table's
/// rows under it instead of failing to drop it (or dropping the view).
async fn a_full_load_keeps_the_views_that_depend_on_the_table(app: TestApp) {
    let Some((sync, source)) = setup(&app, LoadMode::Replace).await else {
        return;
    };
    succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
    let schema = workspace_schema(&app).await;
    let warehouse = app.warehouse_url.clone().unwrap();
    execute(
        &warehouse,
        &format!(
            "CREATE VIEW \"{schema}\".named AS SELECT id, name FROM \"{schema}\".items
                WHERE name IS NOT NULL;
             CREATE ROLE reader_{suffix}; GRANT SELECT ON \"{schema}\".items TO reader_{suffix};",
            suffix = &schema[3..15]
        ),
    )
    .await;
    let view = format!("SELECT id::text, name FROM \"{schema}\".named ORDER BY id");
    for change in [
        "DELETE FROM items WHERE id = 1; UPDATE items SET name = 'b' WHERE id = 2;",
        "INSERT INTO items VALUES (6, 'f', NULL, '2024-01-09 00:00:00+00');",
    ] {
        execute(&source, change).await;
        succeeded(&run_in_mode(&app, &sync.id, RunMode::Incremental).await);
        assert_eq!(destination(&app).await, source_rows(&source).await);
        assert_eq!(
            pg_text_rows(&warehouse, &view).await,
            pg_text_rows(
                &source,
                "SELECT id::text, name FROM items WHERE name IS NOT NULL ORDER BY id"
            )
            .await,
            "the view shows the new rows"
        );
        assert!(leftover_tables(&app).await.is_empty());
    }
    // The table kept its grants, and its primary key (a full load of a
    // keyed table makes it once).
    let grants = pg_text_rows(
        &warehouse,
        &format!(
            "SELECT has_table_privilege('reader_{}', '\"{schema}\".items', 'SELECT')::text",
            &schema[3..15]
        ),
    )
    .await;
    assert_eq!(grants, vec![vec![Some("true".to_string())]]);
}

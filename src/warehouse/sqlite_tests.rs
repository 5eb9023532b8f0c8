//! Tests of the SQLite warehouse, each on a fresh file.

use std::{sync::Arc, time::Instant};

use sea_orm::sqlx::{self, AssertSqlSafe, Row};
use serde_json::{Value, json};
use tempfile::TempDir;

use super::*;

async fn fresh() -> (TempDir, SqliteWarehouse) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("warehouse.db").display());
    let w = SqliteWarehouse::open(&url).await.expect("open");
    (dir, w)
}

fn col(name: &str, data_type: &str) -> ColumnInfo {
    ColumnInfo {
        name: name.into(),
        data_type: data_type.into(),
        nullable: true,
    }
}

fn spec(name: &str, mode: LoadMode, columns: Vec<ColumnInfo>, pk: &[&str]) -> TableSpec {
    TableSpec {
        name: name.into(),
        columns,
        primary_key: pk.iter().map(|s| s.to_string()).collect(),
        load_mode: mode,
    }
}

fn batch(spec: &TableSpec, rows: Vec<Vec<Value>>, cursor: &str) -> Batch {
    Batch {
        columns: Arc::new(spec.columns.clone()),
        rows,
        cursor: Some(cursor.into()),
        bytes: 0,
    }
}

fn slot(s: &str) -> Slot {
    Slot {
        sync_id: "sync-1".into(),
        entity_key: "users".into(),
        slot: s.into(),
    }
}

fn at(cursor: &str) -> Position {
    Position {
        generation: 1,
        cursor: Some(cursor.into()),
        up_to: None,
        done: false,
    }
}

fn users() -> Vec<ColumnInfo> {
    vec![
        col("id", "integer"),
        col("name", "text"),
        col("score", "real"),
    ]
}

async fn exec(w: &SqliteWarehouse, sql: &str) {
    sqlx::query(AssertSqlSafe(sql.to_string()))
        .execute(&w.pool)
        .await
        .expect(sql);
}

async fn count(w: &SqliteWarehouse, table: &str) -> i64 {
    sqlx::query(AssertSqlSafe(format!(
        "SELECT count(*) FROM {}",
        quote(table)
    )))
    .fetch_one(&w.pool)
    .await
    .expect("count")
    .get(0)
}

/// (id, name) of every row, by id.
async fn names(w: &SqliteWarehouse, table: &str) -> Vec<(i64, String)> {
    sqlx::query(AssertSqlSafe(format!(
        "SELECT id, name FROM {} ORDER BY id",
        quote(table)
    )))
    .fetch_all(&w.pool)
    .await
    .expect("select")
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

async fn position(w: &SqliteWarehouse, s: &str) -> Option<Position> {
    w.positions("sync-1", "users")
        .await
        .expect("positions")
        .remove(s)
}

fn rows(ids: std::ops::Range<i64>, tag: &str) -> Vec<Vec<Value>> {
    ids.map(|i| vec![json!(i), json!(format!("{tag}{i}")), json!(i as f64 / 2.0)])
        .collect()
}

#[tokio::test]
async fn open_creates_the_file_and_the_positions_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("new.db");
    assert!(!path.exists());
    let w = SqliteWarehouse::open(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("open");
    assert!(path.is_file());
    assert!(w.table_exists(POSITIONS).await.expect("exists"));
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&w.pool)
        .await
        .expect("pragma")
        .get(0);
    assert_eq!(mode, "wal");
    // Reopening an existing warehouse works too.
    drop(w);
    SqliteWarehouse::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("reopen");
}

#[tokio::test]
async fn open_refuses_bad_urls_and_unopenable_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![b'x'; 4096]).expect("write");
    let missing_dir = dir.path().join("no/such/dir/w.db");
    for url in [
        "postgres://localhost/db".to_string(),
        "sqlite://".to_string(),
        format!("sqlite://{}?bogus=1", dir.path().join("a.db").display()),
        format!("sqlite://{}?mode=nope", dir.path().join("a.db").display()),
        format!("sqlite://{}", missing_dir.display()),
        format!("sqlite://{}", garbage.display()),
        format!("sqlite://{}", dir.path().display()),
    ] {
        match SqliteWarehouse::open(&url).await {
            Ok(_) => panic!("{url} opened"),
            Err(e) => assert!(e.0.contains("warehouse"), "{url}: {e}"),
        }
    }
}

#[tokio::test]
async fn append_event_appends_every_batch_and_moves_the_position() {
    let (_dir, w) = fresh().await;
    let s = spec("events", LoadMode::AppendEvent, users(), &[]);
    w.prepare(&s).await.expect("prepare");

    let b1 = batch(&s, rows(0..3, "a"), "3");
    let b2 = batch(&s, rows(3..5, "b"), "5");
    assert_eq!(
        w.write("events", &s, &b1, &slot(""), &at("3"))
            .await
            .expect("w1"),
        3
    );
    assert_eq!(position(&w, "").await, Some(at("3")));
    assert_eq!(
        w.write("events", &s, &b2, &slot(""), &at("5"))
            .await
            .expect("w2"),
        2
    );
    assert_eq!(count(&w, "events").await, 5);
    assert_eq!(position(&w, "").await, Some(at("5")));

    // Append semantics: the same batch again duplicates its rows.
    w.write("events", &s, &b2, &slot(""), &at("5"))
        .await
        .expect("w3");
    assert_eq!(count(&w, "events").await, 7);
    let dup: i64 = sqlx::query("SELECT count(*) FROM events WHERE id = 4")
        .fetch_one(&w.pool)
        .await
        .expect("select")
        .get(0);
    assert_eq!(dup, 2);

    // An empty batch still moves the position.
    let empty = batch(&s, vec![], "9");
    assert_eq!(
        w.write("events", &s, &empty, &slot(""), &at("9"))
            .await
            .expect("w4"),
        0
    );
    assert_eq!(position(&w, "").await, Some(at("9")));
    assert_eq!(count(&w, "events").await, 7);
}

#[tokio::test]
async fn the_connection_keeps_a_bounded_number_of_statements() {
    // Every table's batch insert is a statement of its own, large enough
    // that keeping one per table ever written held memory for good.
    let (_dir, w) = fresh().await;
    for t in 0..STATEMENT_CACHE * 3 {
        let s = spec(&format!("t{t}"), LoadMode::AppendEvent, users(), &[]);
        w.prepare(&s).await.unwrap();
        let rows = vec![vec![json!(1), json!("a"), json!(0.5)]];
        let b = batch(&s, rows, "1");
        w.write(&s.name, &s, &b, &slot(""), &at("1")).await.unwrap();
    }
    let conn = w.pool.acquire().await.unwrap();
    let kept = sqlx::Connection::cached_statements_size(&*conn);
    assert!(kept <= STATEMENT_CACHE, "{kept} statements kept");
    assert!(kept > 0, "statements are still reused");
}

#[tokio::test]
async fn upsert_merges_on_the_key_and_keeps_the_newest_values() {
    let (_dir, w) = fresh().await;
    let s = spec("users", LoadMode::Upsert, users(), &["id"]);
    w.prepare(&s).await.expect("prepare");
    let index: i64 = sqlx::query(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'ux_users_pk'",
    )
    .fetch_one(&w.pool)
    .await
    .expect("index")
    .get(0);
    assert_eq!(index, 1);

    w.write(
        "users",
        &s,
        &batch(&s, rows(0..4, "old"), "4"),
        &slot(""),
        &at("4"),
    )
    .await
    .expect("w1");
    // Ids 2 and 3 again with new values, 4 and 5 new, and 5 twice in one batch.
    let mut second = rows(2..6, "new");
    second.push(vec![json!(5), json!("newest5"), json!(0.0)]);
    w.write("users", &s, &batch(&s, second, "6"), &slot(""), &at("6"))
        .await
        .expect("w2");

    assert_eq!(count(&w, "users").await, 6);
    assert_eq!(
        names(&w, "users").await,
        vec![
            (0, "old0".into()),
            (1, "old1".into()),
            (2, "new2".into()),
            (3, "new3".into()),
            (4, "new4".into()),
            (5, "newest5".into()),
        ]
    );
    let score: f64 = sqlx::query("SELECT score FROM users WHERE id = 3")
        .fetch_one(&w.pool)
        .await
        .expect("select")
        .get(0);
    assert_eq!(score, 1.5);
    assert_eq!(position(&w, "").await, Some(at("6")));

    // prepare() again is a no-op on an existing merge table.
    w.prepare(&s).await.expect("prepare again");
    assert_eq!(count(&w, "users").await, 6);
}

#[tokio::test]
async fn upsert_with_only_key_columns_ignores_duplicates() {
    let (_dir, w) = fresh().await;
    let s = spec(
        "keys",
        LoadMode::Upsert,
        vec![col("id", "integer")],
        &["id"],
    );
    w.prepare(&s).await.expect("prepare");
    let b = Batch {
        columns: Arc::new(s.columns.clone()),
        rows: vec![vec![json!(1)], vec![json!(2)], vec![json!(1)]],
        cursor: None,
        bytes: 0,
    };
    w.write("keys", &s, &b, &slot(""), &Position::default())
        .await
        .expect("write");
    assert_eq!(count(&w, "keys").await, 2);
}

#[tokio::test]
async fn upsert_without_a_key_is_refused() {
    let (_dir, w) = fresh().await;
    let s = spec("users", LoadMode::Upsert, users(), &[]);
    let e = w.prepare(&s).await.expect_err("no key");
    assert!(e.0.contains("primary key"), "{e}");
    let e = w
        .write(
            "users",
            &s,
            &batch(&s, rows(0..1, "a"), "1"),
            &slot(""),
            &at("1"),
        )
        .await
        .expect_err("no key");
    assert!(e.0.contains("primary key"), "{e}");
}

#[tokio::test]
async fn a_failed_write_leaves_neither_rows_nor_a_moved_position() {
    let (_dir, w) = fresh().await;
    let s = spec("users", LoadMode::AppendEvent, users(), &[]);
    w.prepare(&s).await.expect("prepare");
    w.write(
        "users",
        &s,
        &batch(&s, rows(0..2, "a"), "2"),
        &slot(""),
        &at("2"),
    )
    .await
    .expect("w1");

    // Into a missing table: nothing moves, and the message names the table.
    let e = w
        .write(
            "nowhere",
            &s,
            &batch(&s, rows(2..4, "b"), "4"),
            &slot(""),
            &at("4"),
        )
        .await
        .expect_err("missing table");
    assert!(e.0.contains("nowhere"), "{e}");
    assert_eq!(position(&w, "").await, Some(at("2")));

    // A row of the wrong arity.
    let mut bad = rows(2..5, "b");
    bad[1].pop();
    let e = w
        .write("users", &s, &batch(&s, bad, "5"), &slot(""), &at("5"))
        .await
        .expect_err("arity");
    assert!(e.0.contains("users"), "{e}");
    assert_eq!(count(&w, "users").await, 2);
    assert_eq!(position(&w, "").await, Some(at("2")));

    // The rows go in, then recording the position fails: the rows go too.
    exec(
        &w,
        "CREATE TRIGGER no_positions BEFORE UPDATE ON _tributary_positions \
         BEGIN SELECT RAISE(ABORT, 'positions are frozen'); END",
    )
    .await;
    let e = w
        .write(
            "users",
            &s,
            &batch(&s, rows(2..500, "c"), "500"),
            &slot(""),
            &at("500"),
        )
        .await
        .expect_err("frozen positions");
    assert!(e.0.contains("frozen"), "{e}");
    assert_eq!(count(&w, "users").await, 2);
    exec(&w, "DROP TRIGGER no_positions").await;
    assert_eq!(position(&w, "").await, Some(at("2")));
}

#[tokio::test]
async fn a_write_failing_in_a_later_statement_rolls_back_the_earlier_ones() {
    let (_dir, w) = fresh().await;
    // Two columns: 16,383 rows per statement, so 20,000 rows take two, and
    // the CHECK fails in the second.
    exec(
        &w,
        "CREATE TABLE checked (id INTEGER, v TEXT CHECK (v <> 'boom'))",
    )
    .await;
    let s = spec(
        "checked",
        LoadMode::AppendEvent,
        vec![col("id", "integer"), col("v", "text")],
        &[],
    );
    w.prepare(&s).await.expect("prepare");
    let mut rows: Vec<Vec<Value>> = (0..20_000).map(|i| vec![json!(i), json!("ok")]).collect();
    rows[19_000][1] = json!("boom");
    let e = w
        .write(
            "checked",
            &s,
            &batch(&s, rows, "20000"),
            &slot(""),
            &at("20000"),
        )
        .await
        .expect_err("check");
    assert!(e.0.contains("checked"), "{e}");
    assert_eq!(count(&w, "checked").await, 0);
    assert_eq!(position(&w, "").await, None);
}

#[tokio::test]
async fn a_full_load_swaps_in_its_staging_table() {
    let (_dir, w) = fresh().await;
    let s = spec("users", LoadMode::Replace, users(), &[]);
    let staging = w.staging_name(&s);
    assert_eq!(staging, "_tributary_staging_users");
    w.prepare(&s).await.expect("prepare");
    w.write(
        "users",
        &s,
        &batch(&s, rows(0..3, "old"), "3"),
        &slot(""),
        &at("3"),
    )
    .await
    .expect("old rows");
    w.set_positions(&[(slot("window:0"), at("1"))])
        .await
        .expect("window");

    for cycle in 0..2 {
        let tag = format!("new{cycle}_");
        assert!(!w.table_exists(&staging).await.expect("exists"));
        w.create_staging(&s).await.expect("staging");
        assert!(w.table_exists(&staging).await.expect("exists"));
        w.write(
            &staging,
            &s,
            &batch(&s, rows(10..12, &tag), "12"),
            &slot("full"),
            &at("12"),
        )
        .await
        .expect("staging 1");
        w.write(
            &staging,
            &s,
            &batch(&s, rows(12..15, &tag), "15"),
            &slot("full"),
            &at("15"),
        )
        .await
        .expect("staging 2");
        assert_eq!(position(&w, "full").await, Some(at("15")));
        // The live table is untouched until the swap.
        assert_eq!(count(&w, "users").await, if cycle == 0 { 3 } else { 5 });

        w.swap_in(&s, &slot(""), &at("15"), &[slot("full"), slot("window:0")])
            .await
            .expect("swap");
        let got = names(&w, "users").await;
        assert_eq!(got.len(), 5);
        assert!(got.iter().all(|(_, n)| n.starts_with(&tag)), "{got:?}");
        assert!(!w.table_exists(&staging).await.expect("exists"));
        let positions = w.positions("sync-1", "users").await.expect("positions");
        assert_eq!(positions.len(), 1, "{positions:?}");
        assert_eq!(positions.get(""), Some(&at("15")));

        w.prepare(&s).await.expect("prepare after swap");
        w.write("users", &s, &batch(&s, vec![], "15"), &slot(""), &at("15"))
            .await
            .expect("write after swap");
    }
}

#[tokio::test]
async fn a_full_load_of_a_merge_table_keeps_its_key_index() {
    let (_dir, w) = fresh().await;
    let s = spec("users", LoadMode::Upsert, users(), &["id"]);
    let staging = w.staging_name(&s);
    w.prepare(&s).await.expect("prepare");
    w.write(
        "users",
        &s,
        &batch(&s, rows(0..3, "old"), "3"),
        &slot(""),
        &at("3"),
    )
    .await
    .expect("old rows");

    for _ in 0..2 {
        w.create_staging(&s).await.expect("staging");
        // Merging into the staging table works (duplicates of a full read).
        w.write(
            &staging,
            &s,
            &batch(&s, rows(1..4, "new"), "4"),
            &slot("full"),
            &at("4"),
        )
        .await
        .expect("staging 1");
        w.write(
            &staging,
            &s,
            &batch(&s, rows(3..5, "newer"), "5"),
            &slot("full"),
            &at("5"),
        )
        .await
        .expect("staging 2");
        w.swap_in(&s, &slot(""), &at("5"), &[slot("full")])
            .await
            .expect("swap");

        let indexes: Vec<String> = sqlx::query(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users'",
        )
        .fetch_all(&w.pool)
        .await
        .expect("indexes")
        .iter()
        .map(|r| r.get(0))
        .collect();
        assert_eq!(indexes, vec!["ux_users_pk".to_string()]);

        w.prepare(&s).await.expect("prepare after swap");
        w.write(
            "users",
            &s,
            &batch(&s, rows(4..6, "merged"), "6"),
            &slot(""),
            &at("6"),
        )
        .await
        .expect("merge after swap");
        assert_eq!(
            names(&w, "users").await,
            vec![
                (1, "new1".into()),
                (2, "new2".into()),
                (3, "newer3".into()),
                (4, "merged4".into()),
                (5, "merged5".into()),
            ]
        );
    }
}

#[tokio::test]
async fn swap_in_keeps_a_users_view_working() {
    let (_dir, w) = fresh().await;
    let s = spec("users", LoadMode::Replace, users(), &[]);
    w.prepare(&s).await.expect("prepare");
    w.write(
        "users",
        &s,
        &batch(&s, rows(0..3, "old"), "3"),
        &slot(""),
        &at("3"),
    )
    .await
    .expect("old rows");
    exec(&w, "CREATE VIEW user_names AS SELECT name FROM users").await;

    w.create_staging(&s).await.expect("staging");
    let staging = w.staging_name(&s);
    w.write(
        &staging,
        &s,
        &batch(&s, rows(0..1, "new"), "1"),
        &slot("full"),
        &at("1"),
    )
    .await
    .expect("staging");
    w.swap_in(&s, &slot(""), &at("1"), &[]).await.expect("swap");
    let seen: String = sqlx::query("SELECT group_concat(name) FROM user_names")
        .fetch_one(&w.pool)
        .await
        .expect("view")
        .get(0);
    assert_eq!(seen, "new0");
}

#[tokio::test]
async fn swap_in_without_a_staging_table_keeps_the_live_one() {
    let (_dir, w) = fresh().await;
    let s = spec("users", LoadMode::Replace, users(), &[]);
    w.prepare(&s).await.expect("prepare");
    w.write(
        "users",
        &s,
        &batch(&s, rows(0..3, "old"), "3"),
        &slot(""),
        &at("3"),
    )
    .await
    .expect("old rows");
    let e = w
        .swap_in(&s, &slot(""), &at("9"), &[slot("")])
        .await
        .expect_err("no staging");
    assert!(e.0.contains("_tributary_staging_users"), "{e}");
    assert_eq!(count(&w, "users").await, 3);
    assert_eq!(position(&w, "").await, Some(at("3")));
}

#[tokio::test]
async fn positions_round_trip_through_set_positions_and_settle() {
    let (_dir, w) = fresh().await;
    assert!(
        w.positions("sync-1", "users")
            .await
            .expect("none")
            .is_empty()
    );
    let window = |up_to: Option<&str>| Position {
        generation: 2,
        cursor: None,
        up_to: up_to.map(str::to_string),
        done: false,
    };
    w.set_positions(&[
        (slot("window:0"), window(Some("100"))),
        (slot("window:1"), window(Some("200"))),
        (slot("window:2"), window(None)),
    ])
    .await
    .expect("declare");
    // Another entity's and another sync's slots stay apart.
    let other = Slot {
        sync_id: "sync-2".into(),
        entity_key: "users".into(),
        slot: "window:0".into(),
    };
    w.set_positions(&[(other.clone(), at("x"))])
        .await
        .expect("other");

    let got = w.positions("sync-1", "users").await.expect("positions");
    assert_eq!(got.len(), 3);
    assert_eq!(got.get("window:0"), Some(&window(Some("100"))));
    assert_eq!(got.get("window:2"), Some(&window(None)));

    let finished = Position {
        generation: 2,
        cursor: Some("100".into()),
        up_to: Some("100".into()),
        done: true,
    };
    w.set_positions(&[(slot("window:0"), finished.clone())])
        .await
        .expect("update");
    assert_eq!(position(&w, "window:0").await, Some(finished));

    w.settle(
        &slot(""),
        &at("200"),
        &[slot("window:0"), slot("window:1"), slot("window:2")],
    )
    .await
    .expect("settle");
    let got = w.positions("sync-1", "users").await.expect("positions");
    assert_eq!(
        got.into_iter().collect::<Vec<_>>(),
        vec![("".to_string(), at("200"))]
    );
    assert_eq!(
        w.positions("sync-2", "users")
            .await
            .expect("other")
            .get("window:0"),
        Some(&at("x"))
    );
}

#[tokio::test]
async fn prepare_adds_the_columns_a_table_lacks() {
    let (_dir, w) = fresh().await;
    let mut s = spec("users", LoadMode::AppendEvent, users(), &[]);
    w.prepare(&s).await.expect("prepare");
    w.write(
        "users",
        &s,
        &batch(&s, rows(0..2, "a"), "2"),
        &slot(""),
        &at("2"),
    )
    .await
    .expect("w1");

    s.columns.push(col("email", "character varying"));
    s.columns.push(col("Age", "bigint"));
    w.prepare(&s).await.expect("prepare with new columns");
    let cols: Vec<(String, String)> =
        sqlx::query("SELECT name, type FROM pragma_table_info('users')")
            .fetch_all(&w.pool)
            .await
            .expect("columns")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    assert_eq!(
        cols,
        vec![
            ("id".to_string(), "INTEGER".to_string()),
            ("name".into(), "TEXT".into()),
            ("score".into(), "REAL".into()),
            ("email".into(), "TEXT".into()),
            ("Age".into(), "INTEGER".into()),
        ]
    );
    let row = vec![json!(7), json!("n"), json!(1.0), json!("e@x"), json!(40)];
    w.write("users", &s, &batch(&s, vec![row], "7"), &slot(""), &at("7"))
        .await
        .expect("w2");
    assert_eq!(count(&w, "users").await, 3);
    // Preparing again (columns now present, whatever their case) changes nothing.
    s.columns[4].name = "age".into();
    w.prepare(&s).await.expect("prepare again");
}

#[tokio::test]
async fn identifiers_with_quotes_and_spaces_work() {
    let (_dir, w) = fresh().await;
    let table = "my \"odd\" table";
    let s = spec(
        table,
        LoadMode::Upsert,
        vec![col("the \"id\"", "integer"), col("a name", "text")],
        &["the \"id\""],
    );
    w.prepare(&s).await.expect("prepare");
    let b = |rows: Vec<Vec<Value>>| batch(&s, rows, "c");
    w.write(
        table,
        &s,
        &b(vec![vec![json!(1), json!("x")], vec![json!(2), json!("y")]]),
        &slot(""),
        &at("c"),
    )
    .await
    .expect("w1");
    w.write(
        table,
        &s,
        &b(vec![vec![json!(1), json!("z")]]),
        &slot(""),
        &at("c"),
    )
    .await
    .expect("w2");
    let got: Vec<(i64, String)> = sqlx::query(
        "SELECT \"the \"\"id\"\"\", \"a name\" FROM \"my \"\"odd\"\" table\" ORDER BY 1",
    )
    .fetch_all(&w.pool)
    .await
    .expect("select")
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    assert_eq!(got, vec![(1, "z".to_string()), (2, "y".to_string())]);

    // And a full load of it.
    w.create_staging(&s).await.expect("staging");
    let staging = w.staging_name(&s);
    w.write(
        &staging,
        &s,
        &b(vec![vec![json!(3), json!("w")]]),
        &slot("full"),
        &at("c"),
    )
    .await
    .expect("staging");
    w.swap_in(&s, &slot(""), &at("c"), &[slot("full")])
        .await
        .expect("swap");
    assert_eq!(count(&w, table).await, 1);
    w.prepare(&s).await.expect("prepare after swap");
}

#[tokio::test]
async fn json_values_bind_as_sqlite_values() {
    let (_dir, w) = fresh().await;
    let s = spec("vals", LoadMode::AppendEvent, vec![col("v", "json")], &[]);
    w.prepare(&s).await.expect("prepare");
    let values = vec![
        json!(null),
        json!(true),
        json!(false),
        json!(-42),
        json!(u64::MAX),
        json!(2.5),
        json!("text"),
        json!([1, "a"]),
        json!({"k": [null]}),
    ];
    let rows = values.iter().map(|v| vec![v.clone()]).collect();
    w.write("vals", &s, &batch(&s, rows, "c"), &slot(""), &at("c"))
        .await
        .expect("write");
    // Read back as typeof / text, in rowid order. The column is TEXT, so
    // numbers are stored as their text; what matters is their exact value.
    let got: Vec<(String, Option<String>)> =
        sqlx::query("SELECT typeof(v), CAST(v AS TEXT) FROM vals ORDER BY rowid")
            .fetch_all(&w.pool)
            .await
            .expect("select")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    let texts: Vec<Option<String>> = got.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(got[0].0, "null");
    assert_eq!(
        texts,
        vec![
            None,
            Some("1".into()),
            Some("0".into()),
            Some("-42".into()),
            Some(u64::MAX.to_string()),
            Some("2.5".into()),
            Some("text".into()),
            Some("[1,\"a\"]".into()),
            Some("{\"k\":[null]}".into()),
        ]
    );

    // In typed columns numbers stay numbers.
    let t = spec(
        "typed",
        LoadMode::AppendEvent,
        vec![
            col("i", "integer"),
            col("r", "double precision"),
            col("b", "boolean"),
        ],
        &[],
    );
    w.prepare(&t).await.expect("prepare");
    w.write(
        "typed",
        &t,
        &batch(&t, vec![vec![json!(5), json!(0.25), json!(true)]], "c"),
        &slot(""),
        &at("c"),
    )
    .await
    .expect("write");
    let r = sqlx::query("SELECT typeof(i), typeof(r), typeof(b), i, r, b FROM typed")
        .fetch_one(&w.pool)
        .await
        .expect("select");
    assert_eq!(
        (
            r.get::<String, _>(0),
            r.get::<String, _>(1),
            r.get::<String, _>(2)
        ),
        ("integer".into(), "real".into(), "integer".into())
    );
    assert_eq!(
        (r.get::<i64, _>(3), r.get::<f64, _>(4), r.get::<i64, _>(5)),
        (5, 0.25, 1)
    );
}

/// Throughput: 1,000,000 rows of 7 columns in 1,000-row batches. Run with
/// `cargo test --release --lib warehouse::sqlite::tests::throughput -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn throughput() {
    let (_dir, w) = fresh().await;
    let columns = vec![
        col("id", "integer"),
        col("name", "text"),
        col("email", "text"),
        col("score", "real"),
        col("age", "integer"),
        col("active", "boolean"),
        col("created_at", "text"),
    ];
    for mode in [LoadMode::AppendEvent, LoadMode::Upsert] {
        let name = format!("bench_{mode}");
        let s = spec(&name, mode, columns.clone(), &["id"]);
        w.prepare(&s).await.expect("prepare");
        let cols = Arc::new(columns.clone());
        let batches: Vec<Batch> = (0..1_000)
            .map(|b| {
                let rows = (b * 1_000..(b + 1) * 1_000)
                    .map(|i: i64| {
                        vec![
                            json!(i),
                            json!(format!("user {i}")),
                            json!(format!("user{i}@example.com")),
                            json!(i as f64 * 0.37),
                            json!(i % 90),
                            json!(i % 2 == 0),
                            json!("2024-05-01T12:34:56Z"),
                        ]
                    })
                    .collect();
                Batch {
                    columns: cols.clone(),
                    rows,
                    cursor: Some(((b + 1) * 1_000).to_string()),
                    bytes: 0,
                }
            })
            .collect();
        let started = Instant::now();
        for b in &batches {
            let cursor = b.cursor.clone().unwrap_or_default();
            w.write(&name, &s, b, &slot(&name), &at(&cursor))
                .await
                .expect("write");
        }
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(count(&w, &name).await, 1_000_000);
        println!(
            "{mode}: 1,000,000 rows in {secs:.2}s = {:.0} rows/s",
            1_000_000.0 / secs
        );
    }
}

#[tokio::test]
async fn an_in_memory_warehouse_keeps_its_data() {
    let w = SqliteWarehouse::open("sqlite::memory:")
        .await
        .expect("open");
    let s = spec("events", LoadMode::AppendEvent, users(), &[]);
    w.prepare(&s).await.expect("prepare");
    w.write(
        "events",
        &s,
        &batch(&s, rows(0..3, "a"), "3"),
        &slot(""),
        &at("3"),
    )
    .await
    .expect("write");
    assert_eq!(count(&w, "events").await, 3);
    assert_eq!(position(&w, "").await, Some(at("3")));
}

#[tokio::test]
async fn reserved_tables_are_refused_and_the_positions_table_stays_intact() {
    let (_dir, w) = fresh().await;
    let events = spec("events", LoadMode::AppendEvent, users(), &[]);
    w.prepare(&events).await.expect("prepare");
    w.write(
        "events",
        &events,
        &batch(&events, rows(0..1, "a"), "1"),
        &slot(""),
        &at("1"),
    )
    .await
    .expect("write");
    let columns = || count_columns(&w, POSITIONS);
    let before = columns().await;
    for name in [
        "_tributary_positions",
        "_TRIBUTARY_STAGING_users",
        "sqlite_master",
        "SQLITE_SEQUENCE",
        "pg_class",
        "information_schema",
    ] {
        let s = spec(name, LoadMode::AppendEvent, users(), &[]);
        let e = w.prepare(&s).await.expect_err(name);
        assert!(e.0.contains("reserved"), "{name}: {e}");
        let e = w
            .write(
                name,
                &s,
                &batch(&s, rows(0..1, "x"), "1"),
                &slot(""),
                &at("1"),
            )
            .await
            .expect_err(name);
        assert!(e.0.contains("reserved"), "{name}: {e}");
        assert!(w.create_staging(&s).await.is_err(), "{name}");
        assert!(
            w.swap_in(&s, &slot(""), &at("1"), &[]).await.is_err(),
            "{name}"
        );
    }
    // Nor can a good table's load be pointed at the positions table.
    let e = w
        .write(
            POSITIONS,
            &events,
            &batch(&events, rows(1..2, "x"), "2"),
            &slot(""),
            &at("2"),
        )
        .await
        .expect_err("into the positions table");
    assert!(e.0.contains("reserved"), "{e}");
    assert_eq!(
        columns().await,
        before,
        "the positions table kept its columns"
    );
    assert_eq!(position(&w, "").await, Some(at("1")));
}

async fn count_columns(w: &SqliteWarehouse, table: &str) -> i64 {
    sqlx::query("SELECT count(*) FROM pragma_table_info(?)")
        .bind(table)
        .fetch_one(&w.pool)
        .await
        .expect("columns")
        .get(0)
}

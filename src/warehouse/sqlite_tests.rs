//! Tests of the SQLite warehouse, each on a fresh file.

use std::{sync::Arc, time::Instant};

use sea_orm::sqlx::{self, AssertSqlSafe, Row};
use serde_json::{Value, json};
use tempfile::TempDir;

use arrow_schema::{DataType, Field, Schema};

use super::*;

async fn fresh() -> (TempDir, SqliteWarehouse) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("warehouse.db").display());
    let w = SqliteWarehouse::open(&url).await.expect("open");
    (dir, w)
}

/// A nullable column of a SQL-ish type name (as the tests used to say).
fn col(name: &str, data_type: &str) -> Field {
    let t = match data_type {
        "integer" | "bigint" => DataType::Int64,
        "real" | "double precision" => DataType::Float64,
        "boolean" => DataType::Boolean,
        _ => DataType::Utf8,
    };
    Field::new(name, t, true)
}

fn spec(name: &str, mode: LoadMode, columns: Vec<Field>, pk: &[&str]) -> TableSpec {
    TableSpec {
        name: name.into(),
        schema: Arc::new(Schema::new(columns)),
        primary_key: pk.iter().map(|s| s.to_string()).collect(),
        load_mode: mode,
    }
}

fn batch(spec: &TableSpec, rows: Vec<Vec<Value>>, cursor: &str) -> Batch {
    Batch {
        data: crate::batch::json::batch(spec.schema.clone(), &rows).expect("rows fit the schema"),
        cursor: Some(cursor.into()),
        bytes: 0,
    }
}

/// `s` with `more` columns after its own.
fn with_columns(s: &TableSpec, more: Vec<Field>) -> TableSpec {
    let mut fields: Vec<Field> = s
        .schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.extend(more);
    TableSpec {
        schema: Arc::new(Schema::new(fields)),
        ..s.clone()
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

fn users() -> Vec<Field> {
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
            Err(e) => assert!(e.message.contains("warehouse"), "{url}: {e}"),
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
        cursor: None,
        ..batch(&s, vec![vec![json!(1)], vec![json!(2)], vec![json!(1)]], "")
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
    assert!(e.message.contains("primary key"), "{e}");
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
    assert!(e.message.contains("primary key"), "{e}");
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
    assert!(e.message.contains("nowhere"), "{e}");
    assert_eq!(position(&w, "").await, Some(at("2")));

    // A batch with a column the table lacks (its spec was not prepared).
    let wider = with_columns(&s, vec![col("ghost", "text")]);
    let bad: Vec<Vec<Value>> = rows(2..5, "b")
        .into_iter()
        .map(|mut r| {
            r.push(json!("boo"));
            r
        })
        .collect();
    let e = w
        .write("users", &s, &batch(&wider, bad, "5"), &slot(""), &at("5"))
        .await
        .expect_err("unknown column");
    assert!(e.message.contains("users"), "{e}");
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
    assert!(e.message.contains("frozen"), "{e}");
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
    assert!(e.message.contains("checked"), "{e}");
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
    assert!(e.message.contains("_tributary_staging_users"), "{e}");
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

    let s = with_columns(
        &s,
        vec![col("email", "character varying"), col("Age", "bigint")],
    );
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
    let mut fields: Vec<Field> = s
        .schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[4] = col("age", "bigint");
    let s = TableSpec {
        schema: Arc::new(Schema::new(fields)),
        ..s
    };
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
async fn every_arrow_type_is_stored_as_the_table_says() {
    use arrow_array::{
        ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, FixedSizeBinaryArray,
        Float64Array, Int16Array, Int64Array, IntervalMonthDayNanoArray, ListArray, RecordBatch,
        StringArray, Time64MicrosecondArray, TimestampMicrosecondArray, UInt64Array,
        types::{Int64Type, IntervalMonthDayNano},
    };
    use arrow_schema::{IntervalUnit, TimeUnit};

    let (_dir, w) = fresh().await;
    let uuid = uuid::Uuid::parse_str("0191e9a8-7b0c-7d2e-9f00-0123456789ab").unwrap();
    let ts = 1_700_000_000_123_456; // 2023-11-14T22:13:20.123456
    let columns: Vec<(Field, ArrayRef, &str, &str)> = vec![
        (
            Field::new("b", DataType::Boolean, true),
            Arc::new(BooleanArray::from(vec![Some(true)])),
            "integer",
            "1",
        ),
        (
            Field::new("i16", DataType::Int16, true),
            Arc::new(Int16Array::from(vec![-7])),
            "integer",
            "-7",
        ),
        (
            Field::new("i64", DataType::Int64, true),
            Arc::new(Int64Array::from(vec![i64::MIN])),
            "integer",
            "-9223372036854775808",
        ),
        (
            Field::new("u64", DataType::UInt64, true),
            Arc::new(UInt64Array::from(vec![u64::MAX])),
            "text",
            "18446744073709551615",
        ),
        (
            Field::new("f", DataType::Float64, true),
            Arc::new(Float64Array::from(vec![0.25])),
            "real",
            "0.25",
        ),
        (
            Field::new("d", DataType::Decimal128(38, 10), true),
            Arc::new(
                Decimal128Array::from(vec![-12_345_678_901_234_567_890_123_456_789i128])
                    .with_precision_and_scale(38, 10)
                    .unwrap(),
            ),
            "text",
            "-1234567890123456789.0123456789",
        ),
        (
            Field::new("empty", DataType::Utf8, true),
            Arc::new(StringArray::from(vec![""])),
            "text",
            "",
        ),
        (
            Field::new("null_text", DataType::Utf8, true),
            Arc::new(StringArray::from(vec![None::<&str>])),
            "null",
            "",
        ),
        (
            Field::new("bytes", DataType::Binary, true),
            Arc::new(BinaryArray::from(vec![&b"a\0b"[..]])),
            "blob",
            "a\0b",
        ),
        (
            Field::new("u", DataType::FixedSizeBinary(16), true),
            Arc::new(FixedSizeBinaryArray::try_from_iter([uuid.as_bytes()].into_iter()).unwrap()),
            "text",
            "0191e9a8-7b0c-7d2e-9f00-0123456789ab",
        ),
        (
            Field::new("day", DataType::Date32, true),
            Arc::new(Date32Array::from(vec![-1])),
            "text",
            "1969-12-31",
        ),
        (
            Field::new("t", DataType::Time64(TimeUnit::Microsecond), true),
            Arc::new(Time64MicrosecondArray::from(vec![45_296_000_007])),
            "text",
            "12:34:56.000007",
        ),
        (
            Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), true),
            Arc::new(TimestampMicrosecondArray::from(vec![ts])),
            "text",
            "2023-11-14T22:13:20.123456",
        ),
        (
            Field::new(
                "tstz",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Arc::new(TimestampMicrosecondArray::from(vec![ts]).with_timezone("UTC")),
            "text",
            "2023-11-14T22:13:20.123456Z",
        ),
        (
            Field::new("iv", DataType::Interval(IntervalUnit::MonthDayNano), true),
            Arc::new(IntervalMonthDayNanoArray::from(vec![
                IntervalMonthDayNano::new(14, 3, 4_000_005_000),
            ])),
            "text",
            "P14M3DT4.000005S",
        ),
        (
            Field::new(
                "list",
                DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
                true,
            ),
            Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
                Some(vec![Some(1), None, Some(3)]),
            ])),
            "text",
            "[1,null,3]",
        ),
    ];
    let fields: Vec<Field> = columns.iter().map(|c| c.0.clone()).collect();
    let s = spec("every_type", LoadMode::AppendEvent, fields, &[]);
    w.prepare(&s).await.expect("prepare");
    let data = RecordBatch::try_new(
        s.schema.clone(),
        columns.iter().map(|c| c.1.clone()).collect(),
    )
    .expect("batch");
    let b = Batch {
        data,
        cursor: None,
        bytes: 0,
    };
    w.write("every_type", &s, &b, &slot(""), &Position::default())
        .await
        .expect("write");
    for (field, _, class, text) in &columns {
        let q = format!(
            "SELECT typeof({0}), coalesce(CAST({0} AS TEXT), '') FROM every_type",
            quote(field.name())
        );
        let r = sqlx::query(AssertSqlSafe(q))
            .fetch_one(&w.pool)
            .await
            .expect("select");
        assert_eq!(
            (r.get::<String, _>(0), r.get::<String, _>(1)),
            (class.to_string(), text.to_string()),
            "{}",
            field.name()
        );
    }
    // A type the table has no row for is refused, naming the column.
    let odd = spec(
        "odd",
        LoadMode::AppendEvent,
        vec![Field::new(
            "dur",
            DataType::Duration(TimeUnit::Second),
            true,
        )],
        &[],
    );
    let e = w.prepare(&odd).await.unwrap_err();
    assert!(
        e.message.contains("dur") && e.message.contains("cannot store"),
        "{e}"
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
                batch(&s, rows, &((b + 1) * 1_000).to_string())
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
        assert!(e.message.contains("reserved"), "{name}: {e}");
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
        assert!(e.message.contains("reserved"), "{name}: {e}");
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
    assert!(e.message.contains("reserved"), "{e}");
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

/// Workers starting together open one new warehouse file at once: each
/// waits out the others' switch to WAL instead of failing with
/// SQLITE_BUSY (seen as `database is locked` in the workers test).
#[tokio::test]
async fn many_openers_of_one_new_file_all_succeed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let opens: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { SqliteWarehouse::open(&url).await.map(drop) })
        })
        .collect();
    for o in opens {
        o.await.expect("joined").expect("opened");
    }
}

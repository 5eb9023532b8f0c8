//! The PostgreSQL warehouse against a real cluster, each test in a fresh
//! database (see `test_db`): exactly once, merges, full loads, positions,
//! reserved names and namespaces.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use serde_json::{Value, json};

use super::super::{
    pool::POOL_SIZE,
    test_db::{TestDb, expect_rows, fresh},
};
use super::*;
use crate::{
    domain::failure::FailureKind,
    warehouse::{Warehouse, postgres::options_of},
};

const SCHEMA: &str = "wh";

async fn open(db: &TestDb) -> PostgresWarehouse {
    let options = options_of(&db.config()).expect("options");
    PostgresWarehouse::open_with(options, SCHEMA)
        .await
        .expect("open")
}

fn users() -> Vec<Field> {
    vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
    ]
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

fn rows(ids: std::ops::Range<i64>, tag: &str) -> Vec<Vec<Value>> {
    ids.map(|i| vec![json!(i), json!(format!("{tag}{i}")), json!(i as f64 / 2.0)])
        .collect()
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

async fn position(w: &PostgresWarehouse, s: &str) -> Option<Position> {
    w.positions("sync-1", "users")
        .await
        .expect("positions")
        .remove(s)
}

/// (id, name) of every row of `schema`.`table`, by id, as text.
async fn names(db: &TestDb, schema: &str, table: &str) -> Vec<Vec<Option<String>>> {
    db.text_rows(&format!(
        "SELECT id::text AS id_text, name FROM \"{schema}\".\"{table}\" ORDER BY id"
    ))
    .await
}

/// The expected (id, name) rows of `rows(ids, tag)`.
fn named(ids: std::ops::Range<i64>, tag: &str) -> Vec<Vec<Option<String>>> {
    ids.map(|i| vec![Some(i.to_string()), Some(format!("{tag}{i}"))])
        .collect()
}

#[tokio::test]
async fn append_moves_rows_and_position_together() {
    let Some(db) = fresh("append_moves_rows_and_position_together").await else {
        return;
    };
    let w = open(&db).await;
    let s = spec("users", LoadMode::AppendEvent, users(), &[]);
    w.prepare(&s).await.expect("prepare");
    let n = w
        .write(
            "users",
            &s,
            &batch(&s, rows(0..3, "a"), "3"),
            &slot(""),
            &at("3"),
        )
        .await
        .expect("w1");
    assert_eq!(n, 3);
    assert_eq!(position(&w, "").await, Some(at("3")));
    w.write(
        "users",
        &s,
        &batch(&s, rows(3..5, "b"), "5"),
        &slot(""),
        &at("5"),
    )
    .await
    .expect("w2");
    let mut want = named(0..3, "a");
    want.extend(named(3..5, "b"));
    assert_eq!(names(&db, SCHEMA, "users").await, want);
    assert_eq!(position(&w, "").await, Some(at("5")));
    // Preparing again keeps the rows.
    w.prepare(&s).await.expect("prepare again");
    assert_eq!(names(&db, SCHEMA, "users").await, want);
}

#[tokio::test]
async fn upsert_merges_on_the_key_and_keeps_the_newest() {
    let Some(db) = fresh("upsert_merges_on_the_key_and_keeps_the_newest").await else {
        return;
    };
    let w = open(&db).await;
    let s = spec("users", LoadMode::Upsert, users(), &["id"]);
    w.prepare(&s).await.expect("prepare");
    w.write(
        "users",
        &s,
        &batch(&s, rows(0..3, "a"), "3"),
        &slot(""),
        &at("3"),
    )
    .await
    .expect("w1");
    // Key 1 twice in one batch: the later version wins; 3 is new.
    let update = vec![
        vec![json!(1), json!("old1"), json!(0.0)],
        vec![json!(1), json!("new1"), json!(1.5)],
        vec![json!(3), json!("b3"), json!(3.0)],
    ];
    w.write("users", &s, &batch(&s, update, "6"), &slot(""), &at("6"))
        .await
        .expect("w2");
    assert_eq!(
        names(&db, SCHEMA, "users").await,
        expect_rows(&[&["0", "a0"], &["1", "new1"], &["2", "a2"], &["3", "b3"]])
    );
    assert_eq!(position(&w, "").await, Some(at("6")));

    let no_key = spec("nokey", LoadMode::Upsert, users(), &[]);
    let e = w.prepare(&no_key).await.expect_err("no key");
    assert!(e.message.contains("primary key"), "{e}");
}

#[tokio::test]
async fn a_failed_write_leaves_neither_rows_nor_a_moved_position() {
    let Some(db) = fresh("a_failed_write_leaves_neither_rows_nor_a_moved_position").await else {
        return;
    };
    let w = open(&db).await;
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
    assert_eq!(e.kind, FailureKind::Failed);
    assert_eq!(position(&w, "").await, Some(at("2")));

    // A batch with a column the table lacks (its spec was not prepared).
    let mut fields = users();
    fields.push(Field::new("ghost", DataType::Utf8, true));
    let wider = spec("users", LoadMode::AppendEvent, fields, &[]);
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
    assert!(e.message.contains("ghost"), "{e}");
    assert_eq!(names(&db, SCHEMA, "users").await, named(0..2, "a"));
    assert_eq!(position(&w, "").await, Some(at("2")));

    // The rows go in, then recording the position fails: the rows go too.
    db.client
        .batch_execute(&format!(
            "CREATE FUNCTION {SCHEMA}.frozen() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN RAISE EXCEPTION 'positions are frozen'; END $$;
             CREATE TRIGGER no_positions BEFORE UPDATE ON {SCHEMA}.{POSITIONS}
               FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.frozen()"
        ))
        .await
        .expect("trigger");
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
    assert_eq!(e.kind, FailureKind::Failed);
    assert_eq!(names(&db, SCHEMA, "users").await, named(0..2, "a"));
    db.client
        .batch_execute(&format!(
            "DROP TRIGGER no_positions ON {SCHEMA}.{POSITIONS}"
        ))
        .await
        .expect("drop trigger");
    assert_eq!(position(&w, "").await, Some(at("2")));
    // The pooled clients are still good after the rollbacks.
    w.write(
        "users",
        &s,
        &batch(&s, rows(2..3, "d"), "3"),
        &slot(""),
        &at("3"),
    )
    .await
    .expect("after the failures");
    assert_eq!(position(&w, "").await, Some(at("3")));
}

#[tokio::test]
async fn a_copy_the_server_refuses_midway_rolls_back_and_the_pool_goes_on() {
    let Some(db) = fresh("a_copy_the_server_refuses_midway_rolls_back_and_the_pool_goes_on").await
    else {
        return;
    };
    let w = open(&db).await;
    let s = spec("users", LoadMode::AppendEvent, users(), &[]);
    w.prepare(&s).await.expect("prepare");
    db.client
        .batch_execute(&format!(
            "ALTER TABLE {SCHEMA}.users ADD CONSTRAINT small_ids CHECK (id < 5000)"
        ))
        .await
        .expect("check constraint");
    // The server refuses the COPY at row 5000, after 5000 rows went in.
    let e = w
        .write(
            "users",
            &s,
            &batch(&s, rows(0..6000, "x"), "6000"),
            &slot(""),
            &at("6000"),
        )
        .await
        .expect_err("check violated");
    assert_eq!(e.kind, FailureKind::Failed);
    assert!(e.message.contains("small_ids"), "{e}");
    assert_eq!(
        names(&db, SCHEMA, "users").await,
        Vec::<Vec<Option<String>>>::new()
    );
    assert_eq!(position(&w, "").await, None);
    // Every pooled client is usable again.
    for n in 0..2 * POOL_SIZE as i64 {
        let last = n.to_string();
        w.write(
            "users",
            &s,
            &batch(&s, rows(n..n + 1, "ok"), &last),
            &slot(""),
            &at(&last),
        )
        .await
        .expect("after the failed COPY");
    }
    assert_eq!(
        names(&db, SCHEMA, "users").await,
        named(0..2 * POOL_SIZE as i64, "ok")
    );
}

#[tokio::test]
async fn a_full_load_into_staging_swapped_in_keeps_the_key() {
    let Some(db) = fresh("a_full_load_into_staging_swapped_in_keeps_the_key").await else {
        return;
    };
    let w = open(&db).await;
    let s = spec("users", LoadMode::Upsert, users(), &["id"]);
    w.prepare(&s).await.expect("prepare");
    w.write(
        "users",
        &s,
        &batch(&s, rows(0..5, "old"), "5"),
        &slot(""),
        &at("5"),
    )
    .await
    .expect("live rows");

    let staging = w.staging_name(&s);
    assert!(!w.table_exists(&staging).await.expect("exists?"));
    w.create_staging(&s).await.expect("staging");
    assert!(w.table_exists(&staging).await.expect("exists?"));
    w.write(
        &staging,
        &s,
        &batch(&s, rows(0..2, "new"), "2"),
        &slot("full"),
        &at("2"),
    )
    .await
    .expect("staging w1");
    w.write(
        &staging,
        &s,
        &batch(&s, rows(1..3, "newer"), "3"),
        &slot("full"),
        &at("3"),
    )
    .await
    .expect("staging w2");
    // Until the swap, readers see the live table.
    assert_eq!(names(&db, SCHEMA, "users").await, named(0..5, "old"));

    w.swap_in(&s, &slot(""), &at("3"), &[slot("full")])
        .await
        .expect("swap in");
    let mut want = named(0..1, "new");
    want.extend(named(1..3, "newer"));
    assert_eq!(names(&db, SCHEMA, "users").await, want);
    assert!(!w.table_exists(&staging).await.expect("exists?"));
    let positions = w.positions("sync-1", "users").await.expect("positions");
    assert_eq!(positions.get(""), Some(&at("3")));
    assert!(!positions.contains_key("full"));

    // The key came along: merges still work, and under the table's name.
    w.write(
        "users",
        &s,
        &batch(&s, vec![vec![json!(2), json!("merged"), json!(0)]], "4"),
        &slot(""),
        &at("4"),
    )
    .await
    .expect("merge after the swap");
    assert_eq!(
        names(&db, SCHEMA, "users").await,
        expect_rows(&[&["0", "new0"], &["1", "newer1"], &["2", "merged"]])
    );
    assert_eq!(
        db.text_rows(&format!(
            "SELECT conname::text FROM pg_constraint WHERE conrelid = '{SCHEMA}.users'::regclass AND contype = 'p'"
        ))
        .await,
        expect_rows(&[&["users_pkey"]])
    );

    // Swapping in without a staging table keeps the live one.
    let e = w
        .swap_in(&s, &slot(""), &at("9"), &[])
        .await
        .expect_err("no staging");
    assert!(e.message.contains("does not exist"), "{e}");
    assert_eq!(names(&db, SCHEMA, "users").await.len(), 3);
    assert_eq!(position(&w, "").await, Some(at("4")));
}

#[tokio::test]
async fn windows_writing_at_once_share_the_pool_and_each_commit_their_slot() {
    let Some(db) = fresh("windows_writing_at_once_share_the_pool_and_each_commit_their_slot").await
    else {
        return;
    };
    let w = Arc::new(open(&db).await);
    let s = spec("users", LoadMode::AppendEvent, users(), &[]);
    w.prepare(&s).await.expect("prepare");
    // Twice as many writers as connections: some wait for a free client.
    let writers = 2 * POOL_SIZE as i64;
    let tasks: Vec<_> = (0..writers)
        .map(|n| {
            let (w, s) = (w.clone(), s.clone());
            tokio::spawn(async move {
                let ids = n * 10..n * 10 + 10;
                let last = (ids.end - 1).to_string();
                w.write(
                    "users",
                    &s,
                    &batch(&s, rows(ids, "w"), &last),
                    &slot(&format!("window:{n}")),
                    &at(&last),
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("joined").expect("write");
    }
    assert_eq!(
        names(&db, SCHEMA, "users").await,
        named(0..writers * 10, "w")
    );
    let got = w.positions("sync-1", "users").await.expect("positions");
    assert_eq!(got.len(), writers as usize);
    for n in 0..writers {
        let last = (n * 10 + 9).to_string();
        assert_eq!(
            got.get(&format!("window:{n}")),
            Some(&at(&last)),
            "window {n}"
        );
    }
}

#[tokio::test]
async fn positions_round_trip_through_set_positions_and_settle() {
    let Some(db) = fresh("positions_round_trip_through_set_positions_and_settle").await else {
        return;
    };
    let w = open(&db).await;
    let window = |up_to: Option<&str>| Position {
        generation: 7,
        cursor: None,
        up_to: up_to.map(str::to_string),
        done: false,
    };
    w.set_positions(&[
        (slot("window:0"), window(Some("100"))),
        (slot("window:1"), window(None)),
    ])
    .await
    .expect("declare windows");
    let got = w.positions("sync-1", "users").await.expect("positions");
    assert_eq!(got.len(), 2);
    assert_eq!(got.get("window:0"), Some(&window(Some("100"))));
    assert_eq!(got.get("window:1"), Some(&window(None)));
    // Another sync's positions are its own.
    assert!(
        w.positions("sync-2", "users")
            .await
            .expect("none")
            .is_empty()
    );

    let done = Position {
        generation: 7,
        cursor: Some("100".into()),
        up_to: Some("100".into()),
        done: true,
    };
    w.settle(&slot("window:0"), &done, &[])
        .await
        .expect("settle");
    assert_eq!(position(&w, "window:0").await, Some(done.clone()));

    w.settle(&slot(""), &at("100"), &[slot("window:0"), slot("window:1")])
        .await
        .expect("settle and forget");
    let got = w.positions("sync-1", "users").await.expect("positions");
    assert_eq!(got, BTreeMap::from([(String::new(), at("100"))]));
}

#[tokio::test]
async fn prepare_adds_columns_and_refuses_an_impossible_change() {
    let Some(db) = fresh("prepare_adds_columns_and_refuses_an_impossible_change").await else {
        return;
    };
    let w = open(&db).await;
    let s = spec("users", LoadMode::AppendEvent, users(), &[]);
    w.prepare(&s).await.expect("prepare");
    w.write(
        "users",
        &s,
        &batch(&s, rows(0..1, "a"), "1"),
        &slot(""),
        &at("1"),
    )
    .await
    .expect("w1");

    let mut fields = users();
    fields.push(Field::new("email", DataType::Utf8, true));
    let wider = spec("users", LoadMode::AppendEvent, fields, &[]);
    w.prepare(&wider).await.expect("adds email");
    let row = vec![vec![json!(1), json!("b"), json!(0.5), json!("b@x")]];
    w.write(
        "users",
        &wider,
        &batch(&wider, row, "2"),
        &slot(""),
        &at("2"),
    )
    .await
    .expect("w2");
    assert_eq!(
        db.text_rows(&format!(
            "SELECT id::text AS id_text, email FROM {SCHEMA}.users ORDER BY id"
        ))
        .await,
        expect_rows(&[&["0", "NULL"], &["1", "b@x"]])
    );

    // name is text: it cannot become an integer without losing values.
    let changed = spec(
        "users",
        LoadMode::AppendEvent,
        vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Int64, true),
        ],
        &[],
    );
    let e = w.prepare(&changed).await.expect_err("text to integer");
    assert_eq!(e.kind, FailureKind::Failed);
    assert!(e.message.contains("\"name\""), "{e}");
}

#[tokio::test]
async fn prepare_gives_a_table_turned_upsert_its_merge_key() {
    let Some(db) = fresh("prepare_gives_a_table_turned_upsert_its_merge_key").await else {
        return;
    };
    let w = open(&db).await;
    let appended = spec("users", LoadMode::AppendEvent, users(), &[]);
    w.prepare(&appended).await.expect("prepare");
    w.write(
        "users",
        &appended,
        &batch(&appended, rows(0..3, "a"), "3"),
        &slot(""),
        &at("3"),
    )
    .await
    .expect("w1");

    // The sync becomes an UPSERT on id: prepare adds the key, merges work.
    let by_id = spec("users", LoadMode::Upsert, users(), &["id"]);
    w.prepare(&by_id).await.expect("key on id");
    w.write(
        "users",
        &by_id,
        &batch(&by_id, rows(2..4, "b"), "4"),
        &slot(""),
        &at("4"),
    )
    .await
    .expect("merge on id");
    let mut want = named(0..2, "a");
    want.extend(named(2..4, "b"));
    assert_eq!(names(&db, SCHEMA, "users").await, want);

    // Then on name: the key changes with it.
    let by_name = spec("users", LoadMode::Upsert, users(), &["name"]);
    w.prepare(&by_name).await.expect("key on name");
    let row = vec![vec![json!(9), json!("a0"), json!(0)]];
    w.write(
        "users",
        &by_name,
        &batch(&by_name, row, "5"),
        &slot(""),
        &at("5"),
    )
    .await
    .expect("merge on name");
    assert_eq!(
        names(&db, SCHEMA, "users").await,
        expect_rows(&[&["1", "a1"], &["2", "b2"], &["3", "b3"], &["9", "a0"]])
    );

    // A key the rows hold twice cannot be one: refused for good, and the
    // table keeps its key.
    let by_score = spec("users", LoadMode::Upsert, users(), &["score"]);
    let twice = vec![
        vec![json!(10), json!("x"), json!(1.0)],
        vec![json!(11), json!("y"), json!(1.0)],
    ];
    w.write(
        "users",
        &by_name,
        &batch(&by_name, twice, "6"),
        &slot(""),
        &at("6"),
    )
    .await
    .expect("rows with one score twice");
    let e = w.prepare(&by_score).await.expect_err("duplicate scores");
    assert_eq!(e.kind, FailureKind::Failed);
    assert!(e.message.contains("score"), "{e}");
    assert_eq!(
        db.text_rows(&format!(
            "SELECT a.attname::text FROM pg_constraint k JOIN pg_attribute a
             ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
             WHERE k.conrelid = '{SCHEMA}.users'::regclass AND k.contype = 'p'"
        ))
        .await,
        expect_rows(&[&["name"]])
    );
}

#[tokio::test]
async fn a_role_the_server_refuses_fails_for_good() {
    let Some(db) = fresh("a_role_the_server_refuses_fails_for_good").await else {
        return;
    };
    let mut options = options_of(&db.config()).expect("options");
    options.username = "no_such_role_here".into();
    let e = PostgresWarehouse::open_with(options, SCHEMA)
        .await
        .err()
        .expect("refused");
    // A refused role is an AUTH_ERROR, for good: no retry mends it.
    assert_eq!(e.kind, FailureKind::Auth, "{e}");
    assert!(e.message.contains("no_such_role_here"), "{e}");
}

#[test]
fn broken_connections_and_retryable_states_pass_others_fail() {
    let with = |code: Option<&str>| PgWriteError::Postgres {
        context: "writing".into(),
        code: code.map(str::to_string),
        message: "m".into(),
    };
    for code in [
        None,
        Some("40001"),
        Some("40P01"),
        Some("08006"),
        Some("57P01"),
    ] {
        assert!(passes(&with(code), PASSING_STATES), "{code:?}");
    }
    for code in [Some("23505"), Some("42P01"), Some("22003")] {
        assert!(!passes(&with(code), PASSING_STATES), "{code:?}");
    }
    assert!(passes(&with(Some("42P07")), RACED_DDL_STATES));
    assert!(!passes(&PgWriteError::Invalid("no".into()), PASSING_STATES));
}

#[tokio::test]
async fn reserved_tables_are_refused_and_the_positions_table_stays_intact() {
    let Some(db) = fresh("reserved_tables_are_refused_and_the_positions_table_stays_intact").await
    else {
        return;
    };
    let w = open(&db).await;
    w.set_positions(&[(slot(""), at("1"))]).await.expect("set");
    for name in [POSITIONS, "_Tributary_x", "pg_users", "information_schema"] {
        let s = spec(name, LoadMode::AppendEvent, users(), &[]);
        let e = w.prepare(&s).await.expect_err(name);
        assert!(e.message.contains("reserved"), "{e}");
        let e = w
            .write(
                name,
                &s,
                &batch(&s, rows(0..1, "x"), "1"),
                &slot(""),
                &at("9"),
            )
            .await
            .expect_err(name);
        assert!(e.message.contains("reserved"), "{e}");
        assert!(w.create_staging(&s).await.is_err(), "{name}");
    }
    // A good spec writing into a reserved table other than its staging one.
    let s = spec("users", LoadMode::AppendEvent, users(), &[]);
    w.prepare(&s).await.expect("prepare");
    let e = w
        .write(
            POSITIONS,
            &s,
            &batch(&s, rows(0..1, "x"), "1"),
            &slot(""),
            &at("9"),
        )
        .await
        .expect_err("into the positions table");
    assert!(e.message.contains("reserved"), "{e}");
    assert_eq!(position(&w, "").await, Some(at("1")));
    assert!(
        PostgresWarehouse::open_with(options_of(&db.config()).unwrap(), "pg_x")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn two_workspaces_writing_one_table_name_get_separate_tables() {
    let Some(db) = fresh("two_workspaces_writing_one_table_name_get_separate_tables").await else {
        return;
    };
    const A: &str = "0190f5a0-0000-7000-8000-00000000000a";
    const B: &str = "0190f5a0-0000-7000-8000-00000000000b";
    let warehouse = Warehouse::new(&db.url(), Some(A.into())).expect("a postgres URL");
    let s = spec("users", LoadMode::AppendEvent, users(), &[]);
    for (ws, schema, tag) in [(A, "", "a"), (B, "", "b"), (A, "sales", "s")] {
        let d = warehouse.namespace(ws, schema).await.expect("opens");
        d.prepare(&s).await.expect("prepare");
        d.write(
            "users",
            &s,
            &batch(&s, rows(0..2, tag), "2"),
            &slot(""),
            &at("2"),
        )
        .await
        .expect("write");
    }
    let a = &format!("ws_{}", A.replace('-', ""));
    let b = &format!("ws_{}", B.replace('-', ""));
    assert_eq!(a, "ws_0190f5a000007000800000000000000a");
    assert_eq!(names(&db, a, "users").await, named(0..2, "a"));
    assert_eq!(names(&db, b, "users").await, named(0..2, "b"));
    assert_eq!(
        names(&db, &format!("{a}__sales"), "users").await,
        named(0..2, "s")
    );
    // Each namespace keeps its own positions.
    let pos = db
        .text_rows(&format!("SELECT cursor FROM {b}.{POSITIONS}"))
        .await;
    assert_eq!(pos, expect_rows(&[&["2"]]));

    // A schema name that would not fit PostgreSQL's 63 bytes is refused.
    let long = "s".repeat(30);
    let e = warehouse.namespace(A, &long).await.err().expect("too long");
    assert!(e.message.contains("63"), "{e}");
}

#[test]
fn urls_are_parsed_and_never_repeated_with_their_password() {
    let o = parse_url("postgres://loader:s3cret@db.example:6543/dw?sslmode=require").unwrap();
    assert_eq!(
        (
            o.host.as_str(),
            o.port,
            o.database.as_str(),
            o.username.as_str()
        ),
        ("db.example", 6543, "dw", "loader")
    );
    assert_eq!(o.password.as_deref(), Some("s3cret"));
    assert!(!super::super::pool::label(&o).contains("s3cret"));
    let e = parse_url("postgres://loader:s3cret@db.example:notaport/dw").expect_err("bad port");
    assert!(!e.message.contains("s3cret"), "{e}");
    assert!(parse_url("mysql://x").is_err());
    assert!(Warehouse::new("postgres://loader:s3cret@db.example/dw", None).is_ok());
}

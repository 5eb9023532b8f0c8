//! A full load of an UPSERT table: staged without its key, keyed at the
//! swap, and still each key's last version, as merging into the live
//! table would keep it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use serde_json::{Value, json};

use super::super::{
    options_of,
    test_db::{TestDb, expect_rows, fresh},
};
use super::*;

const SCHEMA: &str = "wh";

fn spec() -> TableSpec {
    TableSpec {
        name: "users".into(),
        schema: Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
        ])),
        primary_key: vec!["id".into()],
        load_mode: LoadMode::Upsert,
    }
}

fn batch(spec: &TableSpec, rows: &[(i64, &str)]) -> Batch {
    let rows: Vec<Vec<Value>> = rows.iter().map(|(i, n)| vec![json!(i), json!(n)]).collect();
    Batch {
        data: crate::batch::json::batch(spec.schema.clone(), &rows).expect("rows fit the schema"),
        cursor: Some("c".into()),
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

/// The indexes of `schema`.`table`, by name.
async fn indexes(db: &TestDb, table: &str) -> Vec<Vec<Option<String>>> {
    db.text_rows(&format!(
        "SELECT indexrelid::regclass::text FROM pg_index
         WHERE indrelid = '{SCHEMA}.\"{table}\"'::regclass ORDER BY 1"
    ))
    .await
}

async fn users(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.text_rows(&format!(
        "SELECT id::text AS id_text, name FROM {SCHEMA}.users ORDER BY id"
    ))
    .await
}

#[tokio::test]
async fn a_full_upsert_load_is_keyed_at_the_swap_and_keeps_each_keys_last_version() {
    let Some(db) =
        fresh("a_full_upsert_load_is_keyed_at_the_swap_and_keeps_each_keys_last_version").await
    else {
        return;
    };
    let w = PostgresWarehouse::open_with(options_of(&db.config()).expect("options"), SCHEMA)
        .await
        .expect("open");
    let s = spec();
    w.prepare(&s).await.expect("prepare");
    w.write("users", &s, &batch(&s, &[(9, "live")]), &slot(""), &at("0"))
        .await
        .expect("live row");
    w.create_staging(&s).await.expect("staging");
    let staging = w.staging_name(&s);
    // Key 1 twice in one batch, key 2 in two batches.
    let first = batch(&s, &[(1, "a"), (2, "b"), (1, "c"), (0, "d")]);
    let written = w
        .write(&staging, &s, &first, &slot("full"), &at("1"))
        .await
        .expect("first batch");
    assert_eq!(
        written, 3,
        "the batch's first version of key 1 is not written"
    );
    w.write(
        &staging,
        &s,
        &batch(&s, &[(2, "e"), (3, "f")]),
        &slot("full"),
        &at("2"),
    )
    .await
    .expect("second batch");
    assert_eq!(
        indexes(&db, &staging).await,
        expect_rows(&[]),
        "staged without a key"
    );
    assert_eq!(users(&db).await, expect_rows(&[&["9", "live"]]));

    w.swap_in(&s, &slot(""), &at("2"), &[slot("full")])
        .await
        .expect("swap in");
    assert_eq!(
        users(&db).await,
        expect_rows(&[&["0", "d"], &["1", "c"], &["2", "e"], &["3", "f"]])
    );
    assert_eq!(
        indexes(&db, "users").await,
        expect_rows(&[&["wh.users_pkey"]])
    );
    assert_eq!(
        w.positions("sync-1", "users")
            .await
            .expect("positions")
            .get(""),
        Some(&at("2"))
    );
    // Keyed: the next incremental batch merges.
    w.write("users", &s, &batch(&s, &[(3, "g")]), &slot(""), &at("3"))
        .await
        .expect("merge");
    assert_eq!(
        users(&db).await.last(),
        Some(&vec![Some("3".into()), Some("g".into())])
    );
}

#[tokio::test]
async fn a_staged_key_with_a_null_fails_the_swap_and_keeps_the_live_table() {
    let Some(db) = fresh("a_staged_key_with_a_null_fails_the_swap_and_keeps_the_live_table").await
    else {
        return;
    };
    let w = PostgresWarehouse::open_with(options_of(&db.config()).expect("options"), SCHEMA)
        .await
        .expect("open");
    let s = spec();
    w.prepare(&s).await.expect("prepare");
    w.write("users", &s, &batch(&s, &[(9, "live")]), &slot(""), &at("0"))
        .await
        .expect("live row");
    w.create_staging(&s).await.expect("staging");
    let rows = vec![vec![Value::Null, json!("no key")]];
    let keyless = Batch {
        data: crate::batch::json::batch(s.schema.clone(), &rows).expect("rows fit the schema"),
        cursor: Some("1".into()),
        bytes: 0,
    };
    w.write(&w.staging_name(&s), &s, &keyless, &slot("full"), &at("1"))
        .await
        .expect("staged");
    let e = w
        .swap_in(&s, &slot(""), &at("1"), &[slot("full")])
        .await
        .expect_err("a NULL key");
    assert!(e.message.contains("null value"), "{e}");
    assert_eq!(users(&db).await, expect_rows(&[&["9", "live"]]));
    assert_eq!(
        w.positions("sync-1", "users")
            .await
            .expect("positions")
            .get(""),
        Some(&at("0"))
    );
}

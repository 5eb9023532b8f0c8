//! The load modes' statements against a real PostgreSQL: upsert, replace,
//! schema changes, and composition with the caller's transaction.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::super::test_db::{TestDb, expect_rows, fresh};
use super::*;

fn users_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("Tenant", DataType::Utf8, false),
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("score", DataType::Int32, true),
    ]))
}

fn users(rows: &[(&str, i64, Option<&str>, Option<i32>)]) -> RecordBatch {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(users_schema(), cols).unwrap()
}

fn key() -> Vec<String> {
    vec!["Tenant".to_string(), "id".to_string()]
}

/// A table named with a space and a quote, in its own schema.
async fn users_table(db: &mut TestDb) -> TableName {
    let table = TableName::new("sales \"eu\"", "User Events").unwrap();
    let tx = db.client.transaction().await.unwrap();
    create_schema(&tx, table.schema()).await.unwrap();
    let columns = prepare_table(&tx, &table, &users_schema(), &key())
        .await
        .unwrap();
    let seed = users(&[
        ("acme", 1, Some("a"), Some(10)),
        ("acme", 2, Some("b"), Some(20)),
        ("acme", 3, Some("c"), Some(30)),
    ]);
    assert_eq!(append(&tx, &table, &columns, &[seed]).await.unwrap(), 3);
    tx.commit().await.unwrap();
    table
}

async fn all_users(db: &TestDb, table: &TableName) -> Vec<Vec<Option<String>>> {
    db.text_rows(&format!(
        "SELECT \"Tenant\", id::text, name, score::text FROM {} ORDER BY 1, 2",
        table.qualified()
    ))
    .await
}

#[tokio::test]
async fn upsert_updates_and_inserts_and_the_last_version_of_a_key_wins() {
    let Some(mut db) = fresh("upsert_updates_and_inserts_and_the_last_version_of_a_key_wins").await
    else {
        return;
    };
    let table = users_table(&mut db).await;
    let first = users(&[
        ("acme", 2, Some("B"), Some(21)),
        ("acme", 4, Some("d"), Some(40)),
        ("acme", 2, Some("B2"), Some(22)),
        ("globex", 1, None, Some(50)),
        ("acme", 4, Some("d2"), None),
    ]);
    // A second batch of the same call: later still.
    let second = users(&[("acme", 1, Some("a-last"), Some(11))]);

    let tx = db.client.transaction().await.unwrap();
    let columns = ensure_columns(&tx, &table, &users_schema()).await.unwrap();
    let merged = upsert(&tx, &table, &columns, &key(), &[first, second])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(merged, 4, "one row per distinct key");
    assert_eq!(
        all_users(&db, &table).await,
        expect_rows(&[
            &["acme", "1", "a-last", "11"],
            &["acme", "2", "B2", "22"],
            &["acme", "3", "c", "30"],
            &["acme", "4", "d2", "NULL"],
            &["globex", "1", "NULL", "50"],
        ])
    );

    // Twice in one transaction: the temporary tables do not collide.
    let tx = db.client.transaction().await.unwrap();
    let columns = ensure_columns(&tx, &table, &users_schema()).await.unwrap();
    upsert(
        &tx,
        &table,
        &columns,
        &key(),
        &[users(&[("acme", 3, Some("x"), None)])],
    )
    .await
    .unwrap();
    upsert(
        &tx,
        &table,
        &columns,
        &key(),
        &[users(&[("acme", 3, Some("y"), Some(3))])],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        all_users(&db, &table).await[2],
        expect_rows(&[&["acme", "3", "y", "3"]])[0]
    );
}

#[tokio::test]
async fn upsert_with_only_key_columns_keeps_existing_rows() {
    let Some(mut db) = fresh("upsert_with_only_key_columns_keeps_existing_rows").await else {
        return;
    };
    let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int32, false)]));
    let table = TableName::new("public", "keys").unwrap();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int32Array::from(vec![1, 2, 1]))],
    )
    .unwrap();
    let tx = db.client.transaction().await.unwrap();
    let columns = prepare_table(&tx, &table, &schema, &["k".to_string()])
        .await
        .unwrap();
    assert_eq!(
        upsert(
            &tx,
            &table,
            &columns,
            &["k".to_string()],
            std::slice::from_ref(&batch)
        )
        .await
        .unwrap(),
        2
    );
    assert_eq!(
        upsert(&tx, &table, &columns, &["k".to_string()], &[batch])
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
    assert_eq!(
        db.text_rows("SELECT k::text FROM keys ORDER BY k").await,
        expect_rows(&[&["1"], &["2"]])
    );
}

async fn primary_key_of(db: &TestDb, table: &TableName) -> Vec<Vec<Option<String>>> {
    db.text_rows(&format!(
        "SELECT k.conname::text, pg_get_constraintdef(k.oid) FROM pg_constraint k
         WHERE k.conrelid = '{}'::regclass AND k.contype = 'p'",
        table.qualified().replace('\'', "''")
    ))
    .await
}

#[tokio::test]
async fn replace_swaps_in_exactly_the_new_rows_and_keeps_the_primary_key() {
    let Some(mut db) =
        fresh("replace_swaps_in_exactly_the_new_rows_and_keeps_the_primary_key").await
    else {
        return;
    };
    let table = users_table(&mut db).await;

    // One transaction.
    let tx = db.client.transaction().await.unwrap();
    let rows = replace(
        &tx,
        &table,
        &users_schema(),
        &key(),
        &[users(&[("acme", 10, Some("new"), Some(1))])],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(rows, 1);
    assert_eq!(
        all_users(&db, &table).await,
        expect_rows(&[&["acme", "10", "new", "1"]])
    );

    // A full load over several transactions: staging, batches, swap.
    let staging = staging_table(&table).unwrap();
    let tx = db.client.transaction().await.unwrap();
    let columns = create_staging(&tx, &staging, &users_schema(), &key())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for (i, name) in ["x", "y"].iter().enumerate() {
        let tx = db.client.transaction().await.unwrap();
        append(
            &tx,
            &staging,
            &columns,
            &[users(&[("acme", 20 + i as i64, Some(name), None)])],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    // Readers still see the old table until the swap.
    assert_eq!(all_users(&db, &table).await.len(), 1);
    let tx = db.client.transaction().await.unwrap();
    swap_in(&tx, &table, &staging).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        all_users(&db, &table).await,
        expect_rows(&[&["acme", "20", "x", "NULL"], &["acme", "21", "y", "NULL"]])
    );
    let tx = db.client.transaction().await.unwrap();
    assert!(
        !table_exists(&tx, &staging).await.unwrap(),
        "the staging table is gone"
    );
    drop(tx);
    assert_eq!(
        primary_key_of(&db, &table).await,
        expect_rows(&[&["User Events_pkey", "PRIMARY KEY (\"Tenant\", id)"]])
    );
    // The key is enforced.
    let dup = db
        .client
        .batch_execute(&format!(
            "INSERT INTO {} VALUES ('acme', 20, 'dup', 0)",
            table.qualified()
        ))
        .await;
    assert!(dup.is_err());
}

#[tokio::test]
async fn a_new_column_is_added_and_a_narrower_column_widened() {
    let Some(mut db) = fresh("a_new_column_is_added_and_a_narrower_column_widened").await else {
        return;
    };
    let table = TableName::new("public", "evolving").unwrap();
    let v1 = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    let tx = db.client.transaction().await.unwrap();
    let columns = prepare_table(&tx, &table, &v1, &["id".to_string()])
        .await
        .unwrap();
    let b1 = RecordBatch::try_new(
        v1.clone(),
        vec![
            Arc::new(Int32Array::from(vec![1])),
            Arc::new(StringArray::from(vec!["one"])),
        ],
    )
    .unwrap();
    append(&tx, &table, &columns, std::slice::from_ref(&b1))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // id becomes Int64 (integer → bigint) and a Float64 column appears.
    let v2 = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("weight", DataType::Float64, true),
    ]));
    let tx = db.client.transaction().await.unwrap();
    let columns = prepare_table(&tx, &table, &v2, &["id".to_string()])
        .await
        .unwrap();
    assert_eq!(columns[0].pg_type, PgType::Int8);
    assert_eq!(columns[2].pg_type, PgType::Float8);
    let b2 = RecordBatch::try_new(
        v2.clone(),
        vec![
            Arc::new(Int64Array::from(vec![5_000_000_000])),
            Arc::new(StringArray::from(vec!["big"])),
            Arc::new(Float64Array::from(vec![1.5])),
        ],
    )
    .unwrap();
    append(&tx, &table, &columns, &[b2]).await.unwrap();
    tx.commit().await.unwrap();

    // An Int32 batch still goes into the now bigint column.
    let tx = db.client.transaction().await.unwrap();
    let columns = ensure_columns(&tx, &table, &v1).await.unwrap();
    assert_eq!(columns[0].pg_type, PgType::Int8);
    let b3 = RecordBatch::try_new(
        v1.clone(),
        vec![
            Arc::new(Int32Array::from(vec![2])),
            Arc::new(StringArray::from(vec!["two"])),
        ],
    )
    .unwrap();
    append(&tx, &table, &columns, &[b3]).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        db.text_rows(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = 'public.evolving'::regclass AND attnum > 0 ORDER BY attnum"
        )
        .await,
        expect_rows(&[
            &["id", "bigint"],
            &["name", "text"],
            &["weight", "double precision"]
        ])
    );
    assert_eq!(
        db.text_rows("SELECT id::text, name, weight::text FROM evolving ORDER BY id")
            .await,
        expect_rows(&[
            &["1", "one", "NULL"],
            &["2", "two", "NULL"],
            &["5000000000", "big", "1.5"]
        ])
    );
}

#[tokio::test]
async fn a_change_that_cannot_widen_is_an_error_naming_the_column() {
    let Some(mut db) = fresh("a_change_that_cannot_widen_is_an_error_naming_the_column").await
    else {
        return;
    };
    let table = TableName::new("public", "fixed").unwrap();
    let v1 = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("code", DataType::Utf8, true),
    ]));
    let tx = db.client.transaction().await.unwrap();
    prepare_table(&tx, &table, &v1, &[]).await.unwrap();
    tx.commit().await.unwrap();

    // text → integer.
    let v2 = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("code", DataType::Int32, true),
    ]));
    let tx = db.client.transaction().await.unwrap();
    let err = ensure_columns(&tx, &table, &v2).await.unwrap_err();
    assert!(
        matches!(&err, PgWriteError::IncompatibleChange { column, .. } if column == "code"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("\"code\"") && message.contains("text") && message.contains("integer"),
        "{message}"
    );

    // An Arrow type with no column type, also named.
    let v3 = Arc::new(Schema::new(vec![Field::new(
        "tags",
        DataType::Struct(Vec::<Field>::new().into()),
        true,
    )]));
    let err = ensure_columns(&tx, &table, &v3).await.unwrap_err();
    assert!(err.to_string().contains("\"tags\""), "{err}");
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_the_table_unchanged() {
    let Some(mut db) = fresh("a_rolled_back_transaction_leaves_the_table_unchanged").await else {
        return;
    };
    let table = users_table(&mut db).await;
    let before = all_users(&db, &table).await;

    let wider = Arc::new(Schema::new(vec![
        Field::new("Tenant", DataType::Utf8, false),
        Field::new("id", DataType::Int64, false),
        Field::new("note", DataType::Utf8, true),
    ]));
    let tx = db.client.transaction().await.unwrap();
    let columns = ensure_columns(&tx, &table, &users_schema()).await.unwrap();
    append(
        &tx,
        &table,
        &columns,
        &[users(&[("acme", 9, Some("appended"), None)])],
    )
    .await
    .unwrap();
    upsert(
        &tx,
        &table,
        &columns,
        &key(),
        &[users(&[("acme", 1, Some("changed"), Some(0))])],
    )
    .await
    .unwrap();
    ensure_columns(&tx, &table, &wider).await.unwrap();
    tx.rollback().await.unwrap();

    let tx = db.client.transaction().await.unwrap();
    replace(
        &tx,
        &table,
        &users_schema(),
        &key(),
        &[users(&[("acme", 7, None, None)])],
    )
    .await
    .unwrap();
    drop(tx); // rolled back by drop

    assert_eq!(all_users(&db, &table).await, before);
    let tx = db.client.transaction().await.unwrap();
    let names: Vec<String> = table_columns(&tx, &table)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["Tenant", "id", "name", "score"]);
    assert!(
        !table_exists(&tx, &staging_table(&table).unwrap())
            .await
            .unwrap()
    );
}

#[test]
fn staging_names_fit_postgres_identifiers() {
    let short = TableName::new("s", "users").unwrap();
    assert_eq!(
        staging_table(&short).unwrap().name(),
        "_tributary_staging_users"
    );
    // 63 bytes with multi-byte characters: shortened on a character
    // boundary, told apart by a hash.
    let long_a = TableName::new("s", &format!("{}a", "é".repeat(31))).unwrap();
    let long_b = TableName::new("s", &format!("{}b", "é".repeat(31))).unwrap();
    let (a, b) = (
        staging_table(&long_a).unwrap(),
        staging_table(&long_b).unwrap(),
    );
    assert!(a.name().len() <= MAX_IDENT_BYTES && a.name().starts_with("_tributary_staging_é"));
    assert_ne!(a.name(), b.name());
}

#[test]
fn identifiers_are_quoted_and_checked() {
    let t = TableName::new("my schema", "we\"ird").unwrap();
    assert_eq!(t.qualified(), "\"my schema\".\"we\"\"ird\"");
    assert!(quote_ident("").is_err());
    assert!(quote_ident("a\0b").is_err());
    assert!(quote_ident(&"x".repeat(64)).is_err());
    assert!(quote_ident(&"x".repeat(63)).is_ok());
}

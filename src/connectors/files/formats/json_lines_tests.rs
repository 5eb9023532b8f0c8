//! JSON Lines through a real file store: inference, nested values as JSON
//! text, absent and unknown keys, resuming, batch sizes, gzip and errors.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, TimeUnit};
use serde_json::{Value, json};

use super::test_store::{
    DirStore, collect_err, format, gzip, read_batches, read_rows, rows, shape,
};
use super::{infer, merge, parse_columns};
use crate::batch::{DECIMAL, JSON, extension};
use crate::connectors::ConnectorError;

fn types(schema: &Schema) -> Vec<(&str, DataType, Option<&str>)> {
    schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type().clone(), extension(f)))
        .collect()
}

#[tokio::test]
async fn types_are_inferred_and_nested_values_become_json_text() {
    let store = DirStore::new(4);
    let jsonl = concat!(
        r#"{"id": 1, "name": "ann", "score": 1, "ok": true, "tags": ["a", "b"], "meta": {"k": [1, 2.50], "s": "q\"uote\n"}, "none": null, "big": 18446744073709551615, "mixed": 1}"#,
        "\n\n",
        r#"{"id": 2, "name": "bob", "score": 2.5, "ok": false, "tags": [], "meta": "plain", "none": null, "big": 1, "mixed": "x"}"#,
        "\n  \n",
        r#"{"name": null, "id": 3, "extra_null": null}"#,
        "\n"
    );
    let entry = store.put("people.jsonl", jsonl.as_bytes());
    let (schema, rows) = read_rows(&store, &entry, &format(json!({}))).await;
    assert_eq!(
        types(&schema),
        vec![
            ("id", DataType::Int64, None),
            ("name", DataType::Utf8, None),
            ("score", DataType::Float64, None),
            ("ok", DataType::Boolean, None),
            ("tags", DataType::Utf8, Some(JSON)),
            ("meta", DataType::Utf8, Some(JSON)),
            ("none", DataType::Utf8, None),
            ("big", DataType::Utf8, Some(DECIMAL)),
            ("mixed", DataType::Utf8, None),
            ("extra_null", DataType::Utf8, None),
        ]
    );
    assert_eq!(
        rows,
        vec![
            vec![
                json!(1),
                json!("ann"),
                json!(1.0),
                json!(true),
                json!(r#"["a","b"]"#),
                json!(r#"{"k":[1,2.50],"s":"q\"uote\n"}"#),
                Value::Null,
                json!("18446744073709551615"),
                json!("1"),
                Value::Null,
            ],
            vec![
                json!(2),
                json!("bob"),
                json!(2.5),
                json!(false),
                json!("[]"),
                json!(r#""plain""#),
                Value::Null,
                json!("1"),
                json!("x"),
                Value::Null,
            ],
            vec![
                json!(3),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ],
        ]
    );
    // The JSON text parses back to the value written.
    let meta: Value = serde_json::from_str(rows[0][5].as_str().unwrap()).unwrap();
    assert_eq!(meta, json!({"k": [1, 2.5], "s": "q\"uote\n"}));
}

#[tokio::test]
async fn keys_are_matched_by_name_whatever_their_order() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("order.ndjson", b"{\"b\": \"x\", \"a\": 1}\n{\"a\": 2}\n");
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("missing", DataType::Float64, true),
        Field::new("b", DataType::Utf8, true),
    ]));
    let batches = read_batches(&store, &entry, &format(json!({})), schema.clone(), 10, 0)
        .await
        .unwrap();
    assert_eq!(batches[0].data.schema(), schema);
    assert_eq!(
        rows(&batches),
        vec![
            vec![json!(1), Value::Null, json!("x")],
            vec![json!(2), Value::Null, Value::Null]
        ]
    );
}

#[tokio::test]
async fn a_key_the_schema_lacks_is_an_error_naming_file_row_and_key() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put(
        "extra.jsonl",
        b"{\"a\": 1, \"gone\": null}\n{\"a\": 2, \"surprise\": 5}\n",
    );
    let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
    let err = collect_err(&store, &entry, &format(json!({})), schema).await;
    let ConnectorError::Config(message) = err else {
        panic!("not Config: {err:?}");
    };
    assert!(message.contains("extra.jsonl"), "{message}");
    assert!(message.contains("row 2"), "{message}");
    assert!(message.contains("surprise"), "{message}");
}

#[tokio::test]
async fn a_fraction_in_an_integer_column_is_an_error_not_a_truncation() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("n.jsonl", b"{\"n\": 1}\n{\"n\": 2}\n{\"n\": 1.5}\n");
    let schema = Arc::new(Schema::new(parse_columns(&json!({"n": "int64"})).unwrap()));
    let err = collect_err(&store, &entry, &format(json!({})), schema).await;
    let ConnectorError::Config(message) = err else {
        panic!("not Config: {err:?}");
    };
    assert!(message.contains("n.jsonl"), "{message}");
    assert!(message.contains("row 3, column n"), "{message}");
    assert!(message.contains("1.5"), "{message}");
}

#[tokio::test]
async fn malformed_json_fails_naming_the_row() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("bad.jsonl", b"{\"a\": 1}\n{\"a\": 2}\n{\"a\": ]\n");
    let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
    let err = collect_err(&store, &entry, &format(json!({})), schema.clone()).await;
    let ConnectorError::Failed(message) = err else {
        panic!("not Failed: {err:?}");
    };
    assert!(message.contains("bad.jsonl"), "{message}");
    assert!(message.contains("row 3"), "{message}");

    let err = infer(store.as_ref(), &entry, &format(json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Failed(m) if m.contains("row 3")),
        "{err:?}"
    );

    let entry = store.put("array.jsonl", b"{\"a\": 1}\n[1, 2]\n");
    let err = collect_err(&store, &entry, &format(json!({})), schema).await;
    assert!(
        matches!(&err, ConnectorError::Failed(m) if m.contains("row 2 is not a JSON object")),
        "{err:?}"
    );
}

#[tokio::test]
async fn resuming_skips_rows_and_batches_hold_batch_size_rows() {
    let store = DirStore::new(9);
    let mut jsonl = String::new();
    for i in 1..=10 {
        jsonl.push_str(&format!("{{\"n\": {i}, \"s\": \"row {i}\"}}\n"));
        if i == 4 {
            jsonl.push('\n');
        }
    }
    let entry = store.put("ten.jsonl", jsonl.as_bytes());
    let format = format(json!({}));
    let schema = Arc::new(infer(store.as_ref(), &entry, &format).await.unwrap());
    let all = read_batches(&store, &entry, &format, schema.clone(), 4, 0)
        .await
        .unwrap();
    assert_eq!(shape(&all), vec![(1, 4), (5, 4), (9, 2)]);
    assert_eq!(all.iter().map(|b| b.bytes).sum::<u64>(), jsonl.len() as u64);

    let resumed = read_batches(&store, &entry, &format, schema.clone(), 4, 3)
        .await
        .unwrap();
    assert_eq!(shape(&resumed), vec![(4, 4), (8, 3)]);
    let expected: Vec<Vec<Value>> = (4..=10)
        .map(|i| vec![json!(i), json!(format!("row {i}"))])
        .collect();
    assert_eq!(rows(&resumed), expected);

    let done = read_batches(&store, &entry, &format, schema, 4, 10)
        .await
        .unwrap();
    assert!(done.is_empty());
}

#[tokio::test]
async fn gzipped_json_lines_are_read_transparently() {
    let store = DirStore::new(50);
    let mut jsonl = String::new();
    for i in 0..300 {
        jsonl.push_str(&format!("{{\"i\": {i}, \"obj\": {{\"x\": {i}}}}}\n"));
    }
    let entry = store.put("events.jsonl.gz", &gzip(jsonl.as_bytes()).await);
    let format = format(json!({}));
    let schema = Arc::new(infer(store.as_ref(), &entry, &format).await.unwrap());
    let batches = read_batches(&store, &entry, &format, schema, 128, 0)
        .await
        .unwrap();
    assert_eq!(shape(&batches), vec![(1, 128), (129, 128), (257, 44)]);
    let rows = rows(&batches);
    assert_eq!(rows[299], vec![json!(299), json!("{\"x\":299}")]);
    assert_eq!(batches.iter().map(|b| b.bytes).sum::<u64>(), entry.size);
}

#[tokio::test]
async fn overrides_decode_dates_times_and_decimals() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put(
        "o.jsonl",
        b"{\"d\": \"2024-03-01\", \"t\": \"2024-03-01T02:00:00+02:00\", \"p\": 12.50, \"q\": \"-0.001\"}\n",
    );
    let format = format(json!({}));
    let inferred = infer(store.as_ref(), &entry, &format).await.unwrap();
    let overrides = parse_columns(&json!({
        "d": "date", "t": "timestamptz", "p": "decimal", "q": "decimal"
    }))
    .unwrap();
    let schema = Arc::new(merge(&[inferred], &overrides).unwrap());
    assert_eq!(
        schema.field(1).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    let batches = read_batches(&store, &entry, &format, schema, 10, 0)
        .await
        .unwrap();
    assert_eq!(
        rows(&batches),
        vec![vec![
            json!("2024-03-01"),
            json!("2024-03-01T00:00:00Z"),
            json!("12.50"),
            json!("-0.001")
        ]]
    );
}

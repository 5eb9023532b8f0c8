//! CSV through a real file store: inference, quoting, NULLs, per-file
//! headers, resuming, batch sizes, gzip and errors.

use std::sync::Arc;

use arrow_array::{Array, cast::AsArray, types::TimestampMicrosecondType};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use serde_json::{Value, json};

use super::test_store::{
    DirStore, collect_err, format, gzip, read_batches, read_rows, rows, shape,
};
use super::{infer, merge, parse_columns};
use crate::batch::{DECIMAL, extension};
use crate::connectors::ConnectorError;

fn types(schema: &Schema) -> Vec<(String, DataType, Option<String>)> {
    schema
        .fields()
        .iter()
        .map(|f| {
            (
                f.name().clone(),
                f.data_type().clone(),
                extension(f).map(str::to_string),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_type_is_inferred_and_decimals_keep_their_text() {
    let store = DirStore::new(64 * 1024);
    let csv = "text,int,dec,float,bool,date,ts,tsz,empty,code\n\
        hello,1,12.50,1e5,true,2024-01-31,2024-01-31T10:00:00.123456,2024-01-31T10:00:00Z,,007\n\
        world,-42,-0.001,2.5E-3,FALSE,2024-02-29,2024-02-29 23:59:59,2024-02-29T12:00:00+02:00,,012\n\
        ,9223372036854775807,123456789012345678901234.567890,,,,,,,\n";
    let entry = store.put("types.csv", csv.as_bytes());
    let (schema, rows) = read_rows(&store, &entry, &format(json!({"type": "csv"}))).await;

    let utc = Some(Arc::from("UTC"));
    let decimal = Some(DECIMAL.to_string());
    assert_eq!(
        types(&schema),
        vec![
            ("text".into(), DataType::Utf8, None),
            ("int".into(), DataType::Int64, None),
            ("dec".into(), DataType::Utf8, decimal),
            ("float".into(), DataType::Float64, None),
            ("bool".into(), DataType::Boolean, None),
            ("date".into(), DataType::Date32, None),
            (
                "ts".into(),
                DataType::Timestamp(TimeUnit::Microsecond, None),
                None
            ),
            (
                "tsz".into(),
                DataType::Timestamp(TimeUnit::Microsecond, utc),
                None
            ),
            ("empty".into(), DataType::Utf8, None),
            ("code".into(), DataType::Utf8, None),
        ]
    );
    assert_eq!(
        rows,
        vec![
            vec![
                json!("hello"),
                json!(1),
                json!("12.50"),
                json!(100000.0),
                json!(true),
                json!("2024-01-31"),
                json!("2024-01-31T10:00:00.123456"),
                json!("2024-01-31T10:00:00Z"),
                Value::Null,
                json!("007"),
            ],
            vec![
                json!("world"),
                json!(-42),
                json!("-0.001"),
                json!(0.0025),
                json!(false),
                json!("2024-02-29"),
                json!("2024-02-29T23:59:59"),
                json!("2024-02-29T10:00:00Z"),
                Value::Null,
                json!("012"),
            ],
            vec![
                Value::Null,
                json!(9223372036854775807_i64),
                json!("123456789012345678901234.567890"),
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
}

#[tokio::test]
async fn a_number_too_wide_for_int64_is_a_decimal_and_mixed_kinds_widen() {
    let store = DirStore::new(64 * 1024);
    let csv = "big,mix,num,when\n\
        123456789012345678901234567890,1,1,2024-01-01\n\
        1,x,2.5,2024-01-01 10:00:00\n";
    let entry = store.put("wide.csv", csv.as_bytes());
    let (schema, rows) = read_rows(&store, &entry, &format(json!({}))).await;
    let fields: Vec<_> = types(&schema).into_iter().map(|(_, t, e)| (t, e)).collect();
    assert_eq!(
        fields,
        vec![
            (DataType::Utf8, Some(DECIMAL.to_string())),
            (DataType::Utf8, None),
            (DataType::Utf8, Some(DECIMAL.to_string())),
            (DataType::Timestamp(TimeUnit::Microsecond, None), None),
        ]
    );
    assert_eq!(rows[0][0], json!("123456789012345678901234567890"));
    assert_eq!(rows[1][1], json!("x"));
    assert_eq!(rows[0][2], json!("1"));
    assert_eq!(rows[0][3], json!("2024-01-01T00:00:00"));
}

#[tokio::test]
async fn quoted_fields_keep_delimiters_newlines_and_quotes_and_rows_count_records() {
    // Tiny chunks: records straddle every chunk boundary.
    let store = DirStore::new(3);
    let csv = "id\tnote\n\
        1\t\"a\ttab\"\n\
        2\t\"two\nlines\"\n\
        3\t\"say \"\"hi\"\"\"\n\
        4\tplain\n";
    let entry = store.put("notes.tsv", csv.as_bytes());
    let format = format(json!({"type": "auto"}));
    let schema = Arc::new(infer(store.as_ref(), &entry, &format).await.unwrap());
    let batches = read_batches(&store, &entry, &format, schema, 1, 0)
        .await
        .unwrap();
    assert_eq!(shape(&batches), vec![(1, 1), (2, 1), (3, 1), (4, 1)]);
    assert_eq!(
        rows(&batches),
        vec![
            vec![json!(1), json!("a\ttab")],
            vec![json!(2), json!("two\nlines")],
            vec![json!(3), json!("say \"hi\"")],
            vec![json!(4), json!("plain")],
        ]
    );
}

#[tokio::test]
async fn an_escape_character_escapes_quotes() {
    let store = DirStore::new(64 * 1024);
    let csv = "a;b\n\"x \\\"q\\\" y\";'z'\n";
    let entry = store.put("esc.csv", csv.as_bytes());
    let format = format(json!({"type": "csv", "delimiter": ";", "escape": "\\"}));
    let (_, rows) = read_rows(&store, &entry, &format).await;
    assert_eq!(rows, vec![vec![json!("x \"q\" y"), json!("'z'")]]);
}

#[tokio::test]
async fn by_default_an_empty_field_is_null() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("n.csv", b"a,b,n\n,x,\nv,,5\n");
    let (schema, rows) = read_rows(&store, &entry, &format(json!({}))).await;
    assert_eq!(schema.field(2).data_type(), &DataType::Int64);
    assert_eq!(
        rows,
        vec![
            vec![Value::Null, json!("x"), Value::Null],
            vec![json!("v"), Value::Null, json!(5)],
        ]
    );
}

#[tokio::test]
async fn with_a_null_marker_null_and_empty_text_stay_distinct() {
    let store = DirStore::new(5);
    let csv = "a,b,n,d,t\n\
        \\N,,\\N,,\\N\n\
        x,\"\",,2024-01-02,2024-01-02T03:04:05Z\n\
        y,\\N,7,\\N,\n";
    let entry = store.put("marker.csv", csv.as_bytes());
    let format = format(json!({"null_marker": "\\N"}));
    let (schema, rows) = read_rows(&store, &entry, &format).await;
    assert_eq!(schema.field(2).data_type(), &DataType::Int64);
    assert_eq!(schema.field(3).data_type(), &DataType::Date32);
    assert_eq!(
        rows,
        vec![
            vec![
                Value::Null,
                json!(""),
                Value::Null,
                Value::Null,
                Value::Null
            ],
            vec![
                json!("x"),
                json!(""),
                Value::Null,
                json!("2024-01-02"),
                json!("2024-01-02T03:04:05Z")
            ],
            vec![json!("y"), Value::Null, json!(7), Value::Null, Value::Null],
        ]
    );
}

#[tokio::test]
async fn each_file_is_matched_by_its_own_header() {
    let store = DirStore::new(64 * 1024);
    let first = store.put("one.csv", b"id,name,amount\n1,ann,1.50\n");
    let second = store.put("two.csv", b"\xEF\xBB\xBFamount,id\n2.25,2\n");
    let format = format(json!({}));
    let schemas = vec![
        infer(store.as_ref(), &first, &format).await.unwrap(),
        infer(store.as_ref(), &second, &format).await.unwrap(),
    ];
    let schema = Arc::new(merge(&schemas, &[]).unwrap());
    assert_eq!(
        schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>(),
        ["id", "name", "amount"]
    );
    let one = read_batches(&store, &first, &format, schema.clone(), 10, 0)
        .await
        .unwrap();
    let two = read_batches(&store, &second, &format, schema.clone(), 10, 0)
        .await
        .unwrap();
    assert_eq!(
        rows(&one),
        vec![vec![json!(1), json!("ann"), json!("1.50")]]
    );
    assert_eq!(rows(&two), vec![vec![json!(2), Value::Null, json!("2.25")]]);
    assert_eq!(two[0].data.schema(), schema);
}

#[tokio::test]
async fn a_column_the_schema_lacks_is_an_error_naming_it() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("extra.csv", b"id,surprise,other\n1,2,3\n");
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
    let err = collect_err(&store, &entry, &format(json!({})), schema).await;
    let ConnectorError::Config(message) = err else {
        panic!("not a Config error: {err:?}");
    };
    assert!(message.contains("extra.csv"), "{message}");
    assert!(message.contains("surprise, other"), "{message}");
}

#[tokio::test]
async fn resuming_skips_rows_and_batches_hold_batch_size_rows() {
    let store = DirStore::new(7);
    let mut csv = String::from("n,quoted\n");
    for i in 1..=10 {
        csv.push_str(&format!("{i},\"line\n{i}\"\n"));
    }
    let entry = store.put("ten.csv", csv.as_bytes());
    let format = format(json!({}));
    let schema = Arc::new(infer(store.as_ref(), &entry, &format).await.unwrap());

    let all = read_batches(&store, &entry, &format, schema.clone(), 3, 0)
        .await
        .unwrap();
    assert_eq!(shape(&all), vec![(1, 3), (4, 3), (7, 3), (10, 1)]);
    assert_eq!(all.iter().map(|b| b.bytes).sum::<u64>(), csv.len() as u64);

    let resumed = read_batches(&store, &entry, &format, schema.clone(), 3, 4)
        .await
        .unwrap();
    assert_eq!(shape(&resumed), vec![(5, 3), (8, 3)]);
    let expected: Vec<Vec<Value>> = (5..=10)
        .map(|i| vec![json!(i), json!(format!("line\n{i}"))])
        .collect();
    assert_eq!(rows(&resumed), expected);

    let past_the_end = read_batches(&store, &entry, &format, schema, 3, 10)
        .await
        .unwrap();
    assert!(past_the_end.is_empty());
}

#[tokio::test]
async fn without_a_header_columns_are_numbered() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("raw.csv", b"1,a\n2,b");
    let (schema, rows) = read_rows(&store, &entry, &format(json!({"header": false}))).await;
    assert_eq!(schema.field(0).name(), "column_1");
    assert_eq!(schema.field(1).name(), "column_2");
    assert_eq!(
        rows,
        vec![vec![json!(1), json!("a")], vec![json!(2), json!("b")]]
    );
}

#[tokio::test]
async fn gzipped_csv_is_read_transparently() {
    let store = DirStore::new(100);
    let mut csv = String::from("id,v\n");
    for i in 0..500 {
        csv.push_str(&format!("{i},{}.5\n", i * 3));
    }
    let entry = store.put("big.csv.gz", &gzip(csv.as_bytes()).await);
    let format = format(json!({}));
    let schema = Arc::new(infer(store.as_ref(), &entry, &format).await.unwrap());
    let batches = read_batches(&store, &entry, &format, schema, 200, 0)
        .await
        .unwrap();
    assert_eq!(shape(&batches), vec![(1, 200), (201, 200), (401, 100)]);
    let rows = rows(&batches);
    assert_eq!(rows[499], vec![json!(499), json!("1497.5")]);
    assert_eq!(
        batches.iter().map(|b| b.bytes).sum::<u64>(),
        entry.size,
        "bytes count the compressed file"
    );
}

#[tokio::test]
async fn a_file_that_is_not_gzip_fails() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("bad.csv.gz", b"id\n1\n2\n");
    let err = infer(store.as_ref(), &entry, &format(json!({})))
        .await
        .unwrap_err();
    let ConnectorError::Failed(message) = err else {
        panic!("not Failed: {err:?}");
    };
    assert!(message.contains("bad.csv.gz"), "{message}");
    assert!(message.contains("gzip"), "{message}");
}

#[tokio::test]
async fn a_value_that_does_not_fit_its_column_names_file_row_and_column() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("bad.csv", b"id,n\n1,2\n2,3\n3,oops\n");
    let format = format(json!({}));
    let overrides = parse_columns(&json!({"n": "int64"})).unwrap();
    let schema = Arc::new(
        merge(
            &[infer(store.as_ref(), &entry, &format).await.unwrap()],
            &overrides,
        )
        .unwrap(),
    );
    let err = collect_err(&store, &entry, &format, schema).await;
    let ConnectorError::Config(message) = err else {
        panic!("not Config: {err:?}");
    };
    assert!(message.contains("bad.csv"), "{message}");
    assert!(message.contains("row 3"), "{message}");
    assert!(message.contains("\"n\""), "{message}");
    assert!(message.contains("oops"), "{message}");
    assert!(!message.contains("Row data"), "{message}");

    // The same with a null marker, where values are parsed after decoding.
    let marked = super::test_store::format(json!({"null_marker": "NULL"}));
    let schema = Arc::new(Schema::new(overrides_with_id(&overrides)));
    let err = collect_err(&store, &entry, &marked, schema).await;
    let ConnectorError::Config(message) = err else {
        panic!("not Config: {err:?}");
    };
    assert!(message.contains("row 3, column n"), "{message}");
}

fn overrides_with_id(overrides: &[Field]) -> Vec<Field> {
    let mut fields = vec![Field::new("id", DataType::Int64, true)];
    fields.extend(overrides.iter().cloned());
    fields
}

#[tokio::test]
async fn a_row_with_too_many_fields_fails_naming_it() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("ragged.csv", b"a,b\n1,2\n3,4,5\n");
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Int64, true),
    ]));
    let err = collect_err(&store, &entry, &format(json!({})), schema).await;
    let ConnectorError::Failed(message) = err else {
        panic!("not Failed: {err:?}");
    };
    assert!(message.contains("ragged.csv"), "{message}");
    assert!(message.contains("row 2"), "{message}");
}

#[tokio::test]
async fn a_decimal_column_refuses_text_that_is_no_number() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("dec.csv", b"price\n1.50\nfree\n");
    let schema = Arc::new(Schema::new(
        parse_columns(&json!({"price": "decimal"})).unwrap(),
    ));
    let err = collect_err(&store, &entry, &format(json!({})), schema).await;
    assert!(
        matches!(&err, ConnectorError::Config(m) if m.contains("row 2") && m.contains("free")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_empty_decimal_or_json_field_is_null_whatever_the_marker() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("ext.csv", b"price,doc,note\n,,\n1.50,\"{\"\"a\"\":1}\",x\n");
    let columns = parse_columns(&json!({"price": "decimal", "doc": "json", "note": "string"}));
    let schema = Arc::new(Schema::new(columns.unwrap()));
    let format = format(json!({"null_marker": "NULL"}));
    let batches = read_batches(&store, &entry, &format, schema, 10, 0)
        .await
        .unwrap();
    assert_eq!(
        rows(&batches),
        vec![
            // Columns in name order: `columns` is a JSON object.
            vec![Value::Null, json!(""), Value::Null],
            vec![json!("{\"a\":1}"), json!("x"), json!("1.50")],
        ]
    );
}

#[tokio::test]
async fn timestamptz_overrides_take_offsets_into_account() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put(
        "t.csv",
        b"at\n2024-01-01T02:00:00+02:00\n2024-01-01T00:00:00\n",
    );
    let schema = Arc::new(Schema::new(
        parse_columns(&json!({"at": "timestamptz"})).unwrap(),
    ));
    let batches = read_batches(&store, &entry, &format(json!({})), schema, 10, 0)
        .await
        .unwrap();
    let at = batches[0]
        .data
        .column(0)
        .as_primitive::<TimestampMicrosecondType>();
    assert_eq!(at.value(0), 1_704_067_200_000_000);
    assert_eq!(at.value(1), 1_704_067_200_000_000);
    assert!(!at.is_null(1));
}

#[tokio::test]
async fn an_empty_file_has_no_columns_and_no_rows() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("empty.csv", b"");
    let format = format(json!({}));
    let schema = infer(store.as_ref(), &entry, &format).await.unwrap();
    assert!(schema.fields().is_empty());
    let batches = read_batches(&store, &entry, &format, Arc::new(schema), 10, 0)
        .await
        .unwrap();
    assert!(batches.is_empty());

    // A header alone: its columns (text, nothing says otherwise), no rows.
    let entry = store.put("header.csv", b"a,b\n");
    let schema = infer(store.as_ref(), &entry, &format).await.unwrap();
    assert_eq!(
        types(&schema),
        vec![
            ("a".into(), DataType::Utf8, None),
            ("b".into(), DataType::Utf8, None)
        ]
    );
    let batches = read_batches(&store, &entry, &format, Arc::new(schema), 10, 0)
        .await
        .unwrap();
    assert!(batches.is_empty());
}

#[tokio::test]
async fn every_form_inference_accepts_also_decodes() {
    let store = DirStore::new(64 * 1024);
    let csv = "tz,naive,int,dec\r\n\
        2024-01-31T10:00:00+0200,2024-01-31 10:00:00.5,+5,.5\r\n\
        2024-01-31 10:00:00+02,2024-01-31T10:00:00.123456789,-0,5.\r\n\
        2024-01-31T10:00:00.123456789Z,2024-01-31T10:00:00,0,-0.0\r\n\
        2024-01-31T10:00:00z,2024-01-31,7,1.25\r\n";
    let entry = store.put("forms.csv", csv.as_bytes());
    let (schema, rows) = read_rows(&store, &entry, &format(json!({}))).await;
    assert_eq!(
        types(&schema)
            .into_iter()
            .map(|(_, t, e)| (t, e))
            .collect::<Vec<_>>(),
        vec![
            (
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                None
            ),
            (DataType::Timestamp(TimeUnit::Microsecond, None), None),
            (DataType::Int64, None),
            (DataType::Utf8, Some(DECIMAL.to_string())),
        ]
    );
    assert_eq!(
        rows,
        vec![
            vec![
                json!("2024-01-31T08:00:00Z"),
                json!("2024-01-31T10:00:00.500000"),
                json!(5),
                json!(".5")
            ],
            vec![
                json!("2024-01-31T08:00:00Z"),
                json!("2024-01-31T10:00:00.123456"),
                json!(0),
                json!("5.")
            ],
            vec![
                json!("2024-01-31T10:00:00.123456Z"),
                json!("2024-01-31T10:00:00"),
                json!(0),
                json!("-0.0")
            ],
            vec![
                json!("2024-01-31T10:00:00Z"),
                json!("2024-01-31T00:00:00"),
                json!(7),
                json!("1.25")
            ],
        ]
    );
}

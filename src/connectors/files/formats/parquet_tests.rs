//! Parquet through a real file store: files written by parquet's own
//! ArrowWriter in several row groups, read back value for value.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use serde_json::{Value, json};

use super::test_store::{DirStore, collect_err, format, read_batches, rows, shape};
use super::{infer, merge};
use crate::connectors::ConnectorError;

/// Ten rows of every common type, NULLs included.
fn sample() -> RecordBatch {
    let n = 10;
    let utc = Some(Arc::from("UTC"));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("price", DataType::Decimal128(12, 2), true),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Microsecond, utc.clone()),
            true,
        ),
        Field::new("ok", DataType::Boolean, true),
        Field::new("ratio", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(1..=n)),
        Arc::new(StringArray::from_iter((1..=n).map(|i| match i % 4 {
            0 => None,
            1 => Some(String::new()),
            _ => Some(format!("name {i}")),
        }))),
        Arc::new(
            Decimal128Array::from_iter(
                (1..=n).map(|i| (i % 3 != 0).then_some(i128::from(i) * 1050)),
            )
            .with_precision_and_scale(12, 2)
            .unwrap(),
        ),
        Arc::new(
            TimestampMicrosecondArray::from_iter((1..=n).map(|i| Some(i * 86_400_000_000)))
                .with_timezone_opt(utc),
        ),
        Arc::new(BooleanArray::from_iter(
            (1..=n).map(|i| (i % 5 != 0).then_some(i % 2 == 0)),
        )),
        Arc::new(Float64Array::from_iter(
            (1..=n).map(|i| Some(i as f64 / 4.0)),
        )),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

/// The file of `batch`, in row groups of 4 rows.
fn parquet_file(batch: &RecordBatch) -> Vec<u8> {
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(4))
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(properties)).unwrap();
    writer.write(batch).unwrap();
    writer.into_inner().unwrap()
}

async fn schema_of(store: &Arc<DirStore>, entry: &super::Entry) -> SchemaRef {
    let format = format(json!({"type": "parquet"}));
    Arc::new(merge(&[infer(store.as_ref(), entry, &format).await.unwrap()], &[]).unwrap())
}

#[tokio::test]
async fn a_file_of_several_row_groups_reads_back_equal() {
    let store = DirStore::new(64 * 1024);
    let batch = sample();
    let entry = store.put("data/items.parquet", &parquet_file(&batch));
    let schema = schema_of(&store, &entry).await;
    assert_eq!(
        schema
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect::<Vec<_>>(),
        batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect::<Vec<_>>(),
        "types pass through as Parquet's reader gives them"
    );
    let batches = read_batches(&store, &entry, &format(json!({})), schema, 3, 0)
        .await
        .unwrap();
    assert_eq!(
        shape(&batches),
        vec![(1, 3), (4, 1), (5, 3), (8, 1), (9, 2)]
    );
    let expected = crate::batch::json::rows(&batch).unwrap();
    assert_eq!(rows(&batches), expected);
    assert_eq!(expected[0][2], json!("10.50"));
    assert_eq!(expected[3][1], Value::Null);
    assert_eq!(expected[0][1], json!(""));
    assert_eq!(batches.iter().map(|b| b.bytes).sum::<u64>(), entry.size);
}

#[tokio::test]
async fn resuming_skips_row_groups_and_rows() {
    let store = DirStore::new(64 * 1024);
    let batch = sample();
    let entry = store.put("items.parquet", &parquet_file(&batch));
    let schema = schema_of(&store, &entry).await;
    let format = format(json!({}));
    let expected = crate::batch::json::rows(&batch).unwrap();
    for skip in [0_u64, 3, 4, 5, 9, 10, 12] {
        let batches = read_batches(&store, &entry, &format, schema.clone(), 100, skip)
            .await
            .unwrap();
        let got = rows(&batches);
        let skipped = usize::try_from(skip).unwrap().min(expected.len());
        assert_eq!(got, expected[skipped..].to_vec(), "skip {skip}");
        if let Some(first) = batches.first() {
            assert_eq!(first.first_row, skip + 1, "skip {skip}");
        }
    }
}

#[tokio::test]
async fn columns_are_matched_by_name_missing_ones_null_and_types_widened() {
    let store = DirStore::new(64 * 1024);
    let batch = sample();
    let entry = store.put("items.parquet", &parquet_file(&batch));
    let schema = Arc::new(Schema::new(vec![
        Field::new("ratio", DataType::Float64, true),
        Field::new("absent", DataType::Utf8, true),
        Field::new("id", DataType::Float64, true),
        Field::new("price", DataType::Decimal128(12, 2), true),
        Field::new("name", DataType::Utf8, true),
        Field::new("ok", DataType::Boolean, true),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
    ]));
    let batches = read_batches(&store, &entry, &format(json!({})), schema.clone(), 4, 6)
        .await
        .unwrap();
    assert_eq!(shape(&batches), vec![(7, 2), (9, 2)]);
    assert_eq!(batches[0].data.schema(), schema);
    let got = rows(&batches);
    assert_eq!(
        got[0][..4],
        [json!(1.75), Value::Null, json!(7.0), json!("73.50")]
    );
}

#[tokio::test]
async fn a_column_the_schema_lacks_is_an_error_naming_it() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("items.parquet", &parquet_file(&sample()));
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
    let err = collect_err(&store, &entry, &format(json!({})), schema).await;
    assert!(
        matches!(&err, ConnectorError::Config(m) if m.contains("items.parquet") && m.contains("name, price")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_file_that_is_not_parquet_fails_naming_it() {
    let store = DirStore::new(64 * 1024);
    let entry = store.put("fake.parquet", b"id,name\n1,a\n");
    let err = infer(store.as_ref(), &entry, &format(json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Failed(m) if m.contains("fake.parquet")),
        "{err:?}"
    );
}

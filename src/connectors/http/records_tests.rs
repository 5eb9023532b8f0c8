use arrow_array::{Array, BooleanArray, Float64Array, Int64Array, cast::AsArray};
use serde_json::json;

use super::*;

fn records(v: Value) -> Vec<Value> {
    v.as_array().unwrap().clone()
}

fn described(schema: &Schema) -> Vec<(String, DataType, Option<String>)> {
    schema
        .fields()
        .iter()
        .map(|f| {
            (
                f.name().clone(),
                f.data_type().clone(),
                batch::extension(f).map(str::to_string),
            )
        })
        .collect()
}

fn col(name: &str, t: DataType) -> (String, DataType, Option<String>) {
    (name.into(), t, None)
}

fn json_col(name: &str) -> (String, DataType, Option<String>) {
    (name.into(), DataType::Utf8, Some(JSON.into()))
}

fn strings(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    b.column_by_name(name)
        .unwrap()
        .as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

#[test]
fn infers_scalar_types_and_json_columns_in_first_seen_order() {
    // serde_json's maps iterate in key order, so a record's new fields do too.
    let rs = records(json!([
        {"id": 1, "price": 1.5, "ok": true, "name": "a", "tags": ["x"], "addr": {"city": "Oslo"}, "gone": null},
        {"id": 2, "price": 2, "ok": false, "name": "", "tags": [], "addr": null, "extra": 7}
    ]));
    let schema = infer(&rs);
    assert_eq!(
        described(&schema),
        vec![
            json_col("addr"),
            col("id", DataType::Int64),
            col("name", DataType::Utf8),
            col("ok", DataType::Boolean),
            col("price", DataType::Float64),
            json_col("tags"),
            col("extra", DataType::Int64),
        ],
        "a field only ever null waits for a value to give it a type"
    );
    let b = to_batch(Arc::new(schema), &rs).unwrap();
    assert_eq!(b.num_rows(), 2);
    let id = b
        .column_by_name("id")
        .unwrap()
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(id.iter().collect::<Vec<_>>(), vec![Some(1), Some(2)]);
    let price = b
        .column_by_name("price")
        .unwrap()
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert_eq!(price.iter().collect::<Vec<_>>(), vec![Some(1.5), Some(2.0)]);
    let ok = b
        .column_by_name("ok")
        .unwrap()
        .as_any()
        .downcast_ref::<BooleanArray>()
        .unwrap();
    assert_eq!(ok.iter().collect::<Vec<_>>(), vec![Some(true), Some(false)]);
    assert_eq!(
        strings(&b, "name"),
        vec![Some("a".into()), Some("".into())],
        "'' is not NULL"
    );
    assert_eq!(
        strings(&b, "tags"),
        vec![Some(r#"["x"]"#.into()), Some("[]".into())]
    );
    assert_eq!(
        strings(&b, "addr"),
        vec![Some(r#"{"city":"Oslo"}"#.into()), None]
    );
    let extra = b
        .column_by_name("extra")
        .unwrap()
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(extra.iter().collect::<Vec<_>>(), vec![None, Some(7)]);
}

#[test]
fn conflicting_values_make_text_and_keep_every_value_exact() {
    let rs = records(json!([
        {"a": 1, "b": true, "c": {"k": 1}, "big": 18446744073709551615u64, "n": i64::MIN},
        {"a": "x", "b": 0, "c": "plain", "big": 1, "n": 9007199254740993i64}
    ]));
    let schema = Arc::new(infer(&rs));
    assert_eq!(
        described(&schema),
        vec![
            col("a", DataType::Utf8),
            col("b", DataType::Utf8),
            col("big", DataType::Utf8),
            col("c", DataType::Utf8),
            col("n", DataType::Int64),
        ]
    );
    let b = to_batch(schema, &rs).unwrap();
    assert_eq!(strings(&b, "a"), vec![Some("1".into()), Some("x".into())]);
    assert_eq!(
        strings(&b, "b"),
        vec![Some("true".into()), Some("0".into())]
    );
    assert_eq!(
        strings(&b, "c"),
        vec![Some(r#"{"k":1}"#.into()), Some("plain".into())]
    );
    assert_eq!(
        strings(&b, "big"),
        vec![Some("18446744073709551615".into()), Some("1".into())]
    );
    let n = b
        .column_by_name("n")
        .unwrap()
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(n.values().to_vec(), vec![i64::MIN, 9007199254740993]);
}

#[test]
fn widening_adds_columns_and_widens_but_never_narrows() {
    let page1 = records(json!([{"id": 1, "amount": 10, "meta": {"a": 1}, "flag": true}]));
    let s1 = infer(&page1);
    let page2 =
        records(json!([{"id": 2, "amount": 10.25, "meta": [1], "flag": "yes", "new": "n"}]));
    let s2 = widen(&s1, &page2);
    assert_eq!(
        described(&s2),
        vec![
            col("amount", DataType::Float64),
            col("flag", DataType::Utf8),
            col("id", DataType::Int64),
            json_col("meta"),
            col("new", DataType::Utf8),
        ]
    );
    // A later page of narrower values or missing fields changes nothing.
    let page3 = records(json!([{"amount": 3, "id": null}, {}]));
    assert_eq!(widen(&s2, &page3), s2);
    // An earlier page still fits the widened schema.
    let b = to_batch(Arc::new(s2.clone()), &page1).unwrap();
    let amount = b
        .column_by_name("amount")
        .unwrap()
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert_eq!(amount.value(0), 10.0);
    assert_eq!(strings(&b, "flag"), vec![Some("true".into())]);
    assert!(b.column_by_name("new").unwrap().is_null(0));
    // A JSON column that meets a scalar becomes plain text, extension dropped.
    let s3 = widen(&s2, &records(json!([{"meta": 5}])));
    assert_eq!(described(&s3)[3], col("meta", DataType::Utf8));
}

#[test]
fn widening_keeps_other_metadata_of_a_field() {
    let f = Field::new("x", DataType::Int64, true).with_metadata(std::collections::HashMap::from(
        [("note".to_string(), "kept".to_string())],
    ));
    let s = widen(&Schema::new(vec![f]), &records(json!([{"x": 0.5}])));
    assert_eq!(s.field(0).data_type(), &DataType::Float64);
    assert_eq!(
        s.field(0).metadata().get("note").map(String::as_str),
        Some("kept")
    );
}

#[test]
fn values_that_do_not_fit_an_unwidened_schema_are_errors() {
    let s = Arc::new(infer(&records(json!([{"n": 1}]))));
    let err = to_batch(s, &records(json!([{"n": "one"}]))).unwrap_err();
    assert!(err.contains("string") && err.contains("column n"), "{err}");
}

#[test]
fn non_object_records_are_one_value_column_and_empty_pages_have_rows_zero() {
    let rs = records(json!([1, 2, null]));
    let s = Arc::new(infer(&rs));
    assert_eq!(described(&s), vec![col(SCALAR_COLUMN, DataType::Int64)]);
    let b = to_batch(s, &rs).unwrap();
    assert_eq!(b.column(0).null_count(), 1);
    let empty = to_batch(Arc::new(Schema::empty()), &records(json!([{}, {}]))).unwrap();
    assert_eq!((empty.num_rows(), empty.num_columns()), (2, 0));
}

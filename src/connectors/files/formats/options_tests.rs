//! The `format` and `columns` options, a file's format by its name, and
//! merged schemas.

use arrow_schema::{DataType, Field, Schema, TimeUnit};
use serde_json::json;

use super::{Compression, CsvOptions, Format, FormatKind, merge, parse_columns};
use crate::batch::{DECIMAL, JSON, extension};
use crate::connectors::ConnectorError;

fn fields_of(violations: &[(String, String)]) -> Vec<&str> {
    violations.iter().map(|(f, _)| f.as_str()).collect()
}

#[test]
fn defaults_are_auto_by_extension_with_csv_defaults() {
    let format = Format::parse(&json!(null)).unwrap();
    assert_eq!(format.kind, FormatKind::Auto(CsvOptions::default()));
    assert_eq!(format.compression, Compression::ByExtension);
    let csv = CsvOptions::default();
    assert!(csv.header);
    assert_eq!((csv.delimiter, csv.quote, csv.escape), (b',', b'"', None));
    assert_eq!(csv.null_marker, "");
}

#[test]
fn csv_options_are_read() {
    let format = Format::parse(&json!({
        "type": "csv", "compression": "gzip", "header": false, "delimiter": "\t",
        "quote": "'", "escape": "\\", "null_marker": "\\N", "encoding": "UTF-8"
    }))
    .unwrap();
    assert_eq!(
        format,
        Format {
            kind: FormatKind::Csv(CsvOptions {
                header: false,
                delimiter: b'\t',
                quote: b'\'',
                escape: Some(b'\\'),
                null_marker: "\\N".into(),
            }),
            compression: Compression::Gzip,
        }
    );
    // A tab written as backslash and t.
    let format = Format::parse(&json!({"type": "csv", "delimiter": "\\t"})).unwrap();
    assert!(matches!(
        format.kind,
        FormatKind::Csv(CsvOptions {
            delimiter: b'\t',
            ..
        })
    ));
}

#[test]
fn every_bad_option_is_a_violation_naming_its_field() {
    let violations = Format::parse(&json!({
        "type": "xml", "compression": "zip", "header": "yes", "delimiter": ";;",
        "quote": "é", "null_marker": 5, "encoding": "latin1", "colour": "red"
    }))
    .unwrap_err();
    let mut fields = fields_of(&violations);
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "colour",
            "compression",
            "delimiter",
            "encoding",
            "header",
            "null_marker",
            "quote",
            "type"
        ]
    );
    let encoding = violations.iter().find(|(f, _)| f == "encoding").unwrap();
    assert!(encoding.1.contains("utf-8"), "{}", encoding.1);

    let violations = Format::parse(&json!({"type": "jsonl", "delimiter": ";"})).unwrap_err();
    assert_eq!(fields_of(&violations), ["delimiter"]);
    let violations = Format::parse(&json!({"type": "csv", "delimiter": "\""})).unwrap_err();
    assert_eq!(fields_of(&violations), ["quote"]);
    let violations = Format::parse(&json!({"type": "parquet", "compression": "gzip"})).unwrap_err();
    assert_eq!(fields_of(&violations), ["compression"]);
    assert!(Format::parse(&json!("csv")).is_err());
}

#[test]
fn auto_resolves_by_extension_and_gz() {
    let auto = Format::parse(&json!({"delimiter": ";"})).unwrap();
    let csv = auto.for_path("a/b.CSV.gz").unwrap();
    assert_eq!(csv.compression, Compression::Gzip);
    assert!(matches!(
        csv.kind,
        FormatKind::Csv(CsvOptions {
            delimiter: b';',
            ..
        })
    ));
    let tsv = auto.for_path("x.tsv").unwrap();
    assert_eq!(tsv.compression, Compression::None);
    assert!(matches!(
        tsv.kind,
        FormatKind::Csv(CsvOptions {
            delimiter: b'\t',
            ..
        })
    ));
    assert_eq!(
        auto.for_path("x.ndjson.gz").unwrap().kind,
        FormatKind::JsonLines
    );
    assert_eq!(
        auto.for_path("x.jsonl").unwrap().kind,
        FormatKind::JsonLines
    );
    assert_eq!(
        auto.for_path("x.parquet").unwrap().kind,
        FormatKind::Parquet
    );
    let err = auto.for_path("notes.txt").unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Config(m) if m.contains("notes.txt")),
        "{err:?}"
    );
    assert!(matches!(
        auto.for_path("x.parquet.gz"),
        Err(ConnectorError::Config(_))
    ));

    // An explicit type and compression win over the name.
    let jsonl = Format::parse(&json!({"type": "jsonl", "compression": "none"})).unwrap();
    let resolved = jsonl.for_path("data.gz").unwrap();
    assert_eq!(
        (resolved.kind, resolved.compression),
        (FormatKind::JsonLines, Compression::None)
    );
}

#[test]
fn columns_name_types() {
    let fields = parse_columns(&json!({
        "a": "string", "b": "int64", "c": "float64", "d": "boolean", "e": "date",
        "f": "timestamp", "g": "timestamptz", "h": "decimal", "i": "json"
    }))
    .unwrap();
    let types: Vec<_> = fields
        .iter()
        .map(|f| (f.name().as_str(), f.data_type().clone(), extension(f)))
        .collect();
    assert_eq!(
        types,
        vec![
            ("a", DataType::Utf8, None),
            ("b", DataType::Int64, None),
            ("c", DataType::Float64, None),
            ("d", DataType::Boolean, None),
            ("e", DataType::Date32, None),
            ("f", DataType::Timestamp(TimeUnit::Microsecond, None), None),
            (
                "g",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                None
            ),
            ("h", DataType::Utf8, Some(DECIMAL)),
            ("i", DataType::Utf8, Some(JSON)),
        ]
    );
    let violations = parse_columns(&json!({"x": "money", "y": 3, "ok": "int64"})).unwrap_err();
    assert_eq!(fields_of(&violations), ["x", "y"]);
    assert!(
        violations[0].1.contains("timestamptz"),
        "{}",
        violations[0].1
    );
    assert!(parse_columns(&json!(null)).unwrap().is_empty());
    assert!(parse_columns(&json!([1])).is_err());
}

#[test]
fn merge_unites_by_name_widens_and_applies_overrides() {
    let decimal = crate::batch::with_extension(Field::new("d", DataType::Utf8, true), DECIMAL);
    let one = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("x", DataType::Int64, true),
        decimal.clone(),
        Field::new("s", DataType::Boolean, true),
    ]);
    let two = Schema::new(vec![
        Field::new("new", DataType::Utf8, true),
        Field::new("x", DataType::Float64, true),
        Field::new("d", DataType::Int64, true),
        Field::new("s", DataType::Int64, true),
        Field::new("id", DataType::Int32, true),
    ]);
    let overrides = parse_columns(&json!({"s": "string", "extra": "json"})).unwrap();
    let merged = merge(&[one, two], &overrides).unwrap();
    let got: Vec<_> = merged
        .fields()
        .iter()
        .map(|f| {
            (
                f.name().as_str(),
                f.data_type().clone(),
                extension(f),
                f.is_nullable(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("id", DataType::Int64, None, true),
            ("x", DataType::Float64, None, true),
            ("d", DataType::Utf8, Some(DECIMAL), true),
            ("s", DataType::Utf8, None, true),
            ("new", DataType::Utf8, None, true),
            ("extra", DataType::Utf8, Some(JSON), true),
        ]
    );
}

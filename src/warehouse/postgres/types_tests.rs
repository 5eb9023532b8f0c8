//! The type table and the widening rule, without a database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use arrow_schema::{IntervalUnit, TimeUnit};

use super::*;

fn field(dt: DataType) -> Field {
    Field::new("c", dt, true)
}

fn ext(dt: DataType, name: &str) -> Field {
    field(dt).with_metadata([(EXTENSION_NAME, name)])
}

#[test]
fn the_type_table() {
    let list = |dt: DataType| DataType::List(Arc::new(Field::new("item", dt, true)));
    let cases: Vec<(Field, &str)> = vec![
        (field(DataType::Boolean), "boolean"),
        (field(DataType::Int8), "smallint"),
        (field(DataType::Int16), "smallint"),
        (field(DataType::Int32), "integer"),
        (field(DataType::Int64), "bigint"),
        (field(DataType::UInt8), "integer"),
        (field(DataType::UInt16), "integer"),
        (field(DataType::UInt32), "bigint"),
        (field(DataType::UInt64), "numeric(20,0)"),
        (field(DataType::Float16), "real"),
        (field(DataType::Float32), "real"),
        (field(DataType::Float64), "double precision"),
        (field(DataType::Decimal128(38, 10)), "numeric(38,10)"),
        (field(DataType::Decimal128(5, -2)), "numeric(7,0)"),
        (field(DataType::Decimal128(3, 5)), "numeric(5,5)"),
        (field(DataType::Decimal256(76, 0)), "numeric(76,0)"),
        (field(DataType::Utf8), "text"),
        (field(DataType::LargeUtf8), "text"),
        (field(DataType::Utf8View), "text"),
        (ext(DataType::Utf8, JSON_EXTENSION), "jsonb"),
        (ext(DataType::LargeUtf8, JSON_EXTENSION), "jsonb"),
        (ext(DataType::Utf8, DECIMAL_EXTENSION), "numeric"),
        (field(DataType::Binary), "bytea"),
        (field(DataType::LargeBinary), "bytea"),
        (ext(DataType::FixedSizeBinary(16), UUID_EXTENSION), "uuid"),
        (field(DataType::FixedSizeBinary(16)), "bytea"),
        (field(DataType::Date32), "date"),
        (field(DataType::Date64), "date"),
        (field(DataType::Time32(TimeUnit::Second)), "time"),
        (field(DataType::Time64(TimeUnit::Nanosecond)), "time"),
        (
            field(DataType::Timestamp(TimeUnit::Microsecond, None)),
            "timestamp",
        ),
        (
            field(DataType::Timestamp(TimeUnit::Second, Some("UTC".into()))),
            "timestamptz",
        ),
        (
            field(DataType::Interval(IntervalUnit::MonthDayNano)),
            "interval",
        ),
        (
            field(DataType::Interval(IntervalUnit::YearMonth)),
            "interval",
        ),
        (field(DataType::Duration(TimeUnit::Millisecond)), "interval"),
        (field(list(DataType::Int32)), "integer[]"),
        (
            field(DataType::LargeList(Arc::new(Field::new(
                "item",
                DataType::Utf8,
                true,
            )))),
            "text[]",
        ),
    ];
    for (f, want) in cases {
        assert_eq!(pg_type(&f).unwrap().ddl(), want, "{}", f.data_type());
    }
}

#[test]
fn a_type_outside_the_table_is_an_error_naming_column_and_type() {
    let nested = DataType::List(Arc::new(Field::new(
        "item",
        DataType::List(Arc::new(Field::new("item", DataType::Int32, true))),
        true,
    )));
    for dt in [
        DataType::Null,
        DataType::Struct(Vec::<Field>::new().into()),
        DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        nested,
    ] {
        let f = Field::new("Weird Col", dt.clone(), true);
        let err = pg_type(&f).unwrap_err().to_string();
        assert!(
            err.contains("\"Weird Col\"") && err.contains(&dt.to_string()),
            "{err}"
        );
    }
    let bad_uuid = ext(DataType::FixedSizeBinary(8), UUID_EXTENSION);
    assert!(pg_type(&bad_uuid).is_err());
}

#[test]
fn widening_only_ever_gains_values() {
    use PgType::*;
    let num = |p, s| Numeric(Some((p, s)));
    for (from, to) in [
        (Int2, Int4),
        (Int4, Int8),
        (Int2, Int8),
        (Int4, num(10, 0)),
        (Int8, Numeric(None)),
        (Float4, Float8),
        (Int4, Float8),
        (num(10, 2), num(12, 4)),
        (num(10, 2), Numeric(None)),
        (Varchar, Text),
        (Array(Box::new(Int4)), Array(Box::new(Int8))),
    ] {
        assert!(widens(&from, &to), "{from} → {to}");
    }
    for (from, to) in [
        (Int8, Int4),
        (Text, Int4),
        (Int4, Text),
        (Int8, Float8),
        (Int8, num(18, 0)),
        (num(10, 2), num(10, 4)),
        (Numeric(None), num(38, 10)),
        (Float8, Float4),
        (Timestamp, Timestamptz),
        (Jsonb, Text),
        (Array(Box::new(Text)), Array(Box::new(Int4))),
    ] {
        assert!(!widens(&from, &to), "{from} → {to}");
    }
}

#[test]
fn column_changes_keep_widen_or_refuse() {
    let int64 = Field::new("n", DataType::Int64, true);
    let int32 = Field::new("n", DataType::Int32, true);
    assert_eq!(
        column_change(&PgType::Int4, &int64).unwrap(),
        ColumnChange::Widen(PgType::Int8)
    );
    assert_eq!(
        column_change(&PgType::Int8, &int32).unwrap(),
        ColumnChange::Keep
    );
    assert_eq!(
        column_change(&PgType::Numeric(None), &int64).unwrap(),
        ColumnChange::Keep
    );
    let json = ext(DataType::Utf8, JSON_EXTENSION);
    assert_eq!(
        column_change(&PgType::Json, &json).unwrap(),
        ColumnChange::Keep
    );
    let err = column_change(&PgType::Text, &int32).unwrap_err();
    assert!(matches!(err, PgWriteError::IncompatibleChange { ref column, .. } if column == "n"));
}

#[test]
fn catalog_types_decode() {
    // numeric(12,4): ((12 << 16) | 4) + 4.
    assert_eq!(
        PgType::from_catalog(1700, (12 << 16 | 4) + 4, None, "numeric(12,4)"),
        PgType::Numeric(Some((12, 4)))
    );
    assert_eq!(
        PgType::from_catalog(1700, -1, None, "numeric"),
        PgType::Numeric(None)
    );
    assert_eq!(
        PgType::from_catalog(1007, -1, Some(23), "integer[]"),
        PgType::Array(Box::new(PgType::Int4))
    );
    assert_eq!(
        PgType::from_catalog(600, -1, None, "point"),
        PgType::Other("point".into())
    );
}

//! Binary COPY of every Arrow type of the type table into a real
//! PostgreSQL, read back as text value by value.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use arrow_array::{
    ArrayRef, ArrowPrimitiveType, BinaryArray, BinaryViewArray, BooleanArray, Date32Array,
    Date64Array, Decimal32Array, Decimal64Array, Decimal128Array, Decimal256Array,
    DurationMicrosecondArray, DurationSecondArray, FixedSizeBinaryArray, Float16Array,
    Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array,
    IntervalDayTimeArray, IntervalMonthDayNanoArray, IntervalYearMonthArray, LargeBinaryArray,
    LargeListArray, LargeStringArray, ListArray, RecordBatch, StringArray, StringViewArray,
    Time32MillisecondArray, Time32SecondArray, Time64MicrosecondArray, Time64NanosecondArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
    builder::{ListBuilder, StringBuilder},
    types::{Float16Type, Int32Type, Int64Type},
};
use arrow_buffer::{IntervalDayTime, IntervalMonthDayNano, OffsetBuffer, i256};
use arrow_schema::{DataType, Field, Schema};
use chrono::NaiveDateTime;

use super::super::{
    ident::TableName,
    load::{columns_of, create_table},
    test_db::fresh,
    types::{EXTENSION_NAME, JSON_EXTENSION, UUID_EXTENSION},
};
use super::*;
use crate::warehouse::postgres::PgWriteError;

type F16 = <Float16Type as ArrowPrimitiveType>::Native;

/// One column of the all-types batch: its array, and the PostgreSQL type
/// and text each of the 4 rows must read back as.
struct Col {
    field: Field,
    array: ArrayRef,
    ddl: &'static str,
    text: [&'static str; 4],
}

fn col(name: &str, array: ArrayRef, ddl: &'static str, text: [&'static str; 4]) -> Col {
    Col {
        field: Field::new(name, array.data_type().clone(), true),
        array,
        ddl,
        text,
    }
}

fn tagged(mut c: Col, extension: &str) -> Col {
    c.field = c.field.with_metadata([(EXTENSION_NAME, extension)]);
    c
}

fn micros(ts: &str) -> i64 {
    NaiveDateTime::parse_from_str(ts, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

fn uuid(s: &str) -> Vec<u8> {
    uuid::Uuid::parse_str(s).unwrap().as_bytes().to_vec()
}

fn decimal128(values: Vec<Option<i128>>, p: u8, s: i8) -> ArrayRef {
    Arc::new(
        Decimal128Array::from(values)
            .with_precision_and_scale(p, s)
            .unwrap(),
    )
}

/// Every type of the type table; the last row is NULL in every column but
/// the id.
#[rustfmt::skip]
fn all_types() -> Vec<Col> {
    let n = "NULL";
    let max38 = 10i128.pow(38) - 1;
    let big256: i256 = "9".repeat(76).parse().unwrap();
    let uuids = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
        vec![
            Some(uuid("550e8400-e29b-41d4-a716-446655440000")),
            Some(vec![0; 16]),
            Some(vec![0xff; 16]),
            None,
        ]
        .into_iter(),
        16,
    )
    .unwrap();
    let fixed = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
        vec![
            Some(vec![0u8, 1, 2]),
            Some(vec![0, 0, 0]),
            Some(vec![255, 0, 9]),
            None,
        ]
        .into_iter(),
        3,
    )
    .unwrap();
    let ints = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), None, Some(3)]),
        Some(vec![]),
        Some(vec![None]),
        None,
    ]);
    let large_ints = LargeListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(i64::MAX), Some(i64::MIN)]),
        Some(vec![]),
        Some(vec![Some(0)]),
        None,
    ]);
    let mut texts = ListBuilder::new(StringBuilder::new());
    texts.append_value([Some("a"), None, Some("b c")]);
    texts.append_value([Some(""), Some("ü\"q")]);
    texts.append_value(Vec::<Option<&str>>::new());
    texts.append_null();
    // A list of uuids: the element field carries the extension.
    let uuid_item = Arc::new(
        Field::new("item", DataType::FixedSizeBinary(16), true)
            .with_metadata([(EXTENSION_NAME, UUID_EXTENSION)]),
    );
    let uuid_list = ListArray::new(
        uuid_item,
        OffsetBuffer::from_lengths([2, 0, 1, 0]),
        Arc::new(
            FixedSizeBinaryArray::try_from_sparse_iter_with_size(
                vec![Some(vec![0x11; 16]), None, Some(vec![0xab; 16])].into_iter(),
                16,
            )
            .unwrap(),
        ),
        Some(vec![true, true, true, false].into()),
    );
    let decimal_list = ListArray::new(
        Arc::new(Field::new("item", DataType::Decimal128(10, 2), true)),
        OffsetBuffer::from_lengths([2, 1, 0, 0]),
        decimal128(vec![Some(150), Some(-1), None], 10, 2),
        Some(vec![true, true, true, false].into()),
    );
    let mdn = |m, d, ns| IntervalMonthDayNano::new(m, d, ns);

    // Rows: name, array, the column's DDL, then each row's text.
    vec![
        col("b", Arc::new(BooleanArray::from(vec![Some(true), Some(false), Some(true), None])), "boolean", ["true", "false", "true", n]),
        col("i8", Arc::new(Int8Array::from(vec![Some(i8::MIN), Some(i8::MAX), Some(0), None])), "smallint", ["-128", "127", "0", n]),
        col("i16", Arc::new(Int16Array::from(vec![Some(i16::MIN), Some(i16::MAX), Some(0), None])), "smallint", ["-32768", "32767", "0", n]),
        col("i32", Arc::new(Int32Array::from(vec![Some(i32::MIN), Some(i32::MAX), Some(0), None])), "integer", ["-2147483648", "2147483647", "0", n]),
        col("i64", Arc::new(Int64Array::from(vec![Some(i64::MIN), Some(i64::MAX), Some(0), None])), "bigint", ["-9223372036854775808", "9223372036854775807", "0", n]),
        col("u8", Arc::new(UInt8Array::from(vec![Some(0), Some(u8::MAX), Some(7), None])), "integer", ["0", "255", "7", n]),
        col("u16", Arc::new(UInt16Array::from(vec![Some(0), Some(u16::MAX), Some(7), None])), "integer", ["0", "65535", "7", n]),
        col("u32", Arc::new(UInt32Array::from(vec![Some(0), Some(u32::MAX), Some(7), None])), "bigint", ["0", "4294967295", "7", n]),
        col("u64", Arc::new(UInt64Array::from(vec![Some(0), Some(u64::MAX), Some(7), None])), "numeric(20,0)", ["0", "18446744073709551615", "7", n]),
        col("f16", Arc::new(Float16Array::from(vec![Some(F16::from_f32(1.5)), Some(F16::from_f32(-0.25)), Some(F16::from_f32(0.0)), None])), "real", ["1.5", "-0.25", "0", n]),
        col("f32", Arc::new(Float32Array::from(vec![Some(3.25), Some(f32::INFINITY), Some(f32::NAN), None])), "real", ["3.25", "Infinity", "NaN", n]),
        col("f64", Arc::new(Float64Array::from(vec![Some(0.1), Some(-2.5e-300), Some(f64::NEG_INFINITY), None])), "double precision", ["0.1", "-2.5e-300", "-Infinity", n]),
        col("d38", decimal128(vec![Some(max38), Some(-12_345_678_901_234_567_890_123_456_789_012_345_678), Some(0), None], 38, 10), "numeric(38,10)",
            ["9999999999999999999999999999.9999999999", "-1234567890123456789012345678.9012345678", "0.0000000000", n]),
        col("d38_small", decimal128(vec![Some(-1), Some(10_000_000_000), Some(123_450_000), None], 38, 10), "numeric(38,10)",
            ["-0.0000000001", "1.0000000000", "0.0123450000", n]),
        col("d38_min", decimal128(vec![Some(-max38), Some(5), Some(100_000_000_000_000_000_000), None], 38, 10), "numeric(38,10)",
            ["-9999999999999999999999999999.9999999999", "0.0000000005", "10000000000.0000000000", n]),
        col("d10", decimal128(vec![Some(1_234_567_890), Some(-1), Some(0), None], 10, 0), "numeric(10,0)", ["1234567890", "-1", "0", n]),
        col("d_neg_scale", decimal128(vec![Some(12_345), Some(-1), Some(0), None], 5, -2), "numeric(7,0)", ["1234500", "-100", "0", n]),
        col("d_scale3", decimal128(vec![Some(10_001), Some(-99_999), Some(1), None], 9, 3), "numeric(9,3)", ["10.001", "-99.999", "0.001", n]),
        col("d256", Arc::new(Decimal256Array::from(vec![Some(big256), Some(i256::from_i128(-123_456_789)), Some(i256::ZERO), None]).with_precision_and_scale(76, 20).unwrap()), "numeric(76,20)",
            ["99999999999999999999999999999999999999999999999999999999.99999999999999999999", "-0.00000000000123456789", "0.00000000000000000000", n]),
        col("d32", Arc::new(Decimal32Array::from(vec![Some(12_345), Some(-5), Some(0), None]).with_precision_and_scale(9, 2).unwrap()), "numeric(9,2)", ["123.45", "-0.05", "0.00", n]),
        col("d64", Arc::new(Decimal64Array::from(vec![Some(-5), Some(999_999_999_999_999_999), Some(0), None]).with_precision_and_scale(18, 4).unwrap()), "numeric(18,4)", ["-0.0005", "99999999999999.9999", "0.0000", n]),
        col("s", Arc::new(StringArray::from(vec![Some("héllo ✓ 日本 🎉"), Some(""), Some("quote ' \" \\ tab\t new\nline"), None])), "text", ["héllo ✓ 日本 🎉", "", "quote ' \" \\ tab\t new\nline", n]),
        col("ls", Arc::new(LargeStringArray::from(vec![Some("large"), Some(""), Some("x"), None])), "text", ["large", "", "x", n]),
        col("sv", Arc::new(StringViewArray::from(vec![Some("a string view longer than twelve bytes"), Some(""), Some("short"), None])), "text", ["a string view longer than twelve bytes", "", "short", n]),
        tagged(col("j", Arc::new(StringArray::from(vec![Some(r#"{"b": [true, null], "a": 1}"#), Some(r#""ß""#), Some("[]"), None])), "jsonb", [r#"{"a": 1, "b": [true, null]}"#, r#""ß""#, "[]", n]), JSON_EXTENSION),
        tagged(col("jl", Arc::new(LargeStringArray::from(vec![Some(r#"{"n": {"deep": 1.50}}"#), Some("null"), Some("0"), None])), "jsonb", [r#"{"n": {"deep": 1.50}}"#, "null", "0", n]), JSON_EXTENSION),
        col("bin", Arc::new(BinaryArray::from(vec![Some(&[0u8, 1, 0, 255][..]), Some(&[][..]), Some(&[0u8][..]), None])), "bytea", ["\\x000100ff", "\\x", "\\x00", n]),
        col("lbin", Arc::new(LargeBinaryArray::from(vec![Some(&b"a\0b"[..]), Some(&[][..]), Some(&[0u8, 0][..]), None])), "bytea", ["\\x610062", "\\x", "\\x0000", n]),
        col("binv", Arc::new(BinaryViewArray::from(vec![Some(&[7u8; 20][..]), Some(&[][..]), Some(&[0u8][..]), None])), "bytea", ["\\x0707070707070707070707070707070707070707", "\\x", "\\x00", n]),
        col("fixed", Arc::new(fixed), "bytea", ["\\x000102", "\\x000000", "\\xff0009", n]),
        tagged(col("id_uuid", Arc::new(uuids), "uuid", ["550e8400-e29b-41d4-a716-446655440000", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", n]), UUID_EXTENSION),
        col("date32", Arc::new(Date32Array::from(vec![Some(-1), Some(10_957 + 31), Some(-719_162), None])), "date", ["1969-12-31", "2000-02-01", "0001-01-01", n]),
        col("date64", Arc::new(Date64Array::from(vec![Some(86_400_000), Some(-86_400_000), Some(951_782_400_000), None])), "date", ["1970-01-02", "1969-12-31", "2000-02-29", n]),
        col("t32s", Arc::new(Time32SecondArray::from(vec![Some(0), Some(86_399), Some(3_661), None])), "time without time zone", ["00:00:00", "23:59:59", "01:01:01", n]),
        col("t32ms", Arc::new(Time32MillisecondArray::from(vec![Some(1), Some(86_399_999), Some(0), None])), "time without time zone", ["00:00:00.001", "23:59:59.999", "00:00:00", n]),
        col("t64us", Arc::new(Time64MicrosecondArray::from(vec![Some(1), Some(86_400_000_000), Some(45_296_789_012), None])), "time without time zone", ["00:00:00.000001", "24:00:00", "12:34:56.789012", n]),
        col("t64ns", Arc::new(Time64NanosecondArray::from(vec![Some(1_500), Some(999), Some(0), None])), "time without time zone", ["00:00:00.000001", "00:00:00", "00:00:00", n]),
        col("ts", Arc::new(TimestampMicrosecondArray::from(vec![Some(micros("1999-12-31 23:59:59.999999")), Some(micros("1969-07-20 20:17:40.123456")), Some(micros("2024-02-29 12:00:00.000001")), None])), "timestamp without time zone",
            ["1999-12-31 23:59:59.999999", "1969-07-20 20:17:40.123456", "2024-02-29 12:00:00.000001", n]),
        col("tstz", Arc::new(TimestampMicrosecondArray::from(vec![Some(micros("1900-01-01 00:00:00.000001")), Some(micros("1969-12-31 23:59:59.999999")), Some(micros("2000-01-01 00:00:00")), None]).with_timezone("UTC")), "timestamp with time zone",
            ["1900-01-01 00:00:00.000001+00", "1969-12-31 23:59:59.999999+00", "2000-01-01 00:00:00+00", n]),
        col("ts_s", Arc::new(TimestampSecondArray::from(vec![Some(-1), Some(0), Some(946_684_800), None])), "timestamp without time zone", ["1969-12-31 23:59:59", "1970-01-01 00:00:00", "2000-01-01 00:00:00", n]),
        col("ts_ms", Arc::new(TimestampMillisecondArray::from(vec![Some(-1), Some(1), Some(0), None]).with_timezone("+02:00")), "timestamp with time zone",
            ["1969-12-31 23:59:59.999+00", "1970-01-01 00:00:00.001+00", "1970-01-01 00:00:00+00", n]),
        col("ts_ns", Arc::new(TimestampNanosecondArray::from(vec![Some(-1), Some(1_999), Some(0), None])), "timestamp without time zone",
            ["1969-12-31 23:59:59.999999", "1970-01-01 00:00:00.000001", "1970-01-01 00:00:00", n]),
        col("iv", Arc::new(IntervalMonthDayNanoArray::from(vec![Some(mdn(14, 3, 14_706_789_012_000)), Some(mdn(-1, -2, -1_000)), Some(mdn(0, 0, 0)), None])), "interval",
            ["1 year 2 mons 3 days 04:05:06.789012", "-1 mons -2 days -00:00:00.000001", "00:00:00", n]),
        col("iv_ym", Arc::new(IntervalYearMonthArray::from(vec![Some(13), Some(-1), Some(0), None])), "interval", ["1 year 1 mon", "-1 mons", "00:00:00", n]),
        col("iv_dt", Arc::new(IntervalDayTimeArray::from(vec![Some(IntervalDayTime::new(2, 1_500)), Some(IntervalDayTime::new(0, -1)), Some(IntervalDayTime::new(0, 0)), None])), "interval",
            ["2 days 00:00:01.5", "-00:00:00.001", "00:00:00", n]),
        col("dur_us", Arc::new(DurationMicrosecondArray::from(vec![Some(90_061_000_001), Some(-1), Some(0), None])), "interval", ["25:01:01.000001", "-00:00:00.000001", "00:00:00", n]),
        col("dur_s", Arc::new(DurationSecondArray::from(vec![Some(-3_600), Some(59), Some(0), None])), "interval", ["-01:00:00", "00:00:59", "00:00:00", n]),
        col("l_int", Arc::new(ints), "integer[]", ["{1,NULL,3}", "{}", "{NULL}", n]),
        col("l_big", Arc::new(large_ints), "bigint[]", ["{9223372036854775807,-9223372036854775808}", "{}", "{0}", n]),
        col("l_text", Arc::new(texts.finish()), "text[]", [r#"{a,NULL,"b c"}"#, r#"{"","ü\"q"}"#, "{}", n]),
        col("l_uuid", Arc::new(uuid_list), "uuid[]", ["{11111111-1111-1111-1111-111111111111,NULL}", "{}", "{abababab-abab-abab-abab-abababababab}", n]),
        col("l_dec", Arc::new(decimal_list), "numeric(10,2)[]", ["{1.50,-0.01}", "{NULL}", "{}", n]),
    ]
}

#[tokio::test]
async fn every_arrow_type_round_trips_through_binary_copy() {
    let Some(mut db) = fresh("every_arrow_type_round_trips_through_binary_copy").await else {
        return;
    };
    db.set_text_output().await;
    let cols = all_types();
    let id = Col {
        field: Field::new("id", DataType::Int32, false),
        array: Arc::new(Int32Array::from(vec![1, 2, 3, 4])),
        ddl: "integer",
        text: ["1", "2", "3", "4"],
    };
    let cols: Vec<Col> = std::iter::once(id).chain(cols).collect();
    let schema = Arc::new(Schema::new(
        cols.iter().map(|c| c.field.clone()).collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        cols.iter().map(|c| c.array.clone()).collect(),
    )
    .unwrap();

    let table = TableName::new("public", "All Types").unwrap();
    let tx = db.client.transaction().await.unwrap();
    create_table(&tx, &table, &schema, &["id".to_string()])
        .await
        .unwrap();
    let columns = columns_of(&schema).unwrap();
    let rows = copy_batches(&tx, &table, &columns, &[batch]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(rows, 4);

    // The DDL is the type table's.
    let types = db
        .text_rows(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = 'public.\"All Types\"'::regclass AND attnum > 0 ORDER BY attnum",
        )
        .await;
    for (c, t) in cols.iter().zip(&types) {
        assert_eq!(t[0].as_deref(), Some(c.field.name().as_str()));
        assert_eq!(
            t[1].as_deref(),
            Some(c.ddl),
            "type of column {}",
            c.field.name()
        );
    }

    let select: Vec<String> = cols
        .iter()
        .map(|c| format!("\"{}\"::text", c.field.name()))
        .collect();
    let got = db
        .text_rows(&format!(
            "SELECT {} FROM public.\"All Types\" ORDER BY id",
            select.join(", ")
        ))
        .await;
    assert_eq!(got.len(), 4);
    for (r, row) in got.iter().enumerate() {
        for (c, value) in cols.iter().zip(row) {
            let want = (c.text[r] != "NULL").then(|| c.text[r].to_string());
            assert_eq!(value, &want, "row {}, column {}", r + 1, c.field.name());
        }
    }
}

#[tokio::test]
async fn two_hundred_thousand_rows_go_in_one_copy_in_bounded_chunks() {
    let Some(mut db) = fresh("two_hundred_thousand_rows_go_in_one_copy_in_bounded_chunks").await
    else {
        return;
    };
    const N: i64 = 200_000;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(18, 2), true),
        Field::new(
            "at",
            DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
    ]));
    let ids: Vec<i64> = (0..N).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(StringArray::from_iter_values(
                ids.iter().map(|i| format!("name number {i}")),
            )),
            decimal128(
                ids.iter().map(|i| Some(i128::from(*i) * 101)).collect(),
                18,
                2,
            ),
            Arc::new(
                TimestampMicrosecondArray::from(
                    ids.iter().map(|i| i * 1_000_003).collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
        ],
    )
    .unwrap();
    let table = TableName::new("public", "big").unwrap();
    let tx = db.client.transaction().await.unwrap();
    create_table(&tx, &table, &schema, &[]).await.unwrap();
    let mut copy = CopyIn::start(&tx, &table, &columns_of(&schema).unwrap())
        .await
        .unwrap();
    copy.write(&batch).await.unwrap();
    // Some 12 MB of rows went out in ~1 MiB chunks; what is left is less
    // than one chunk.
    assert!(
        copy.chunks_sent() >= 8,
        "chunks sent: {}",
        copy.chunks_sent()
    );
    assert!(
        copy.buffered() < CHUNK_BYTES,
        "buffered: {}",
        copy.buffered()
    );
    assert_eq!(copy.finish().await.unwrap(), N as u64);
    tx.commit().await.unwrap();

    let got = db
        .text_rows("SELECT count(*)::text, sum(id)::text, sum(amount)::text, max(name), max(at)::text FROM big")
        .await;
    let sum_ids = N * (N - 1) / 2;
    assert_eq!(
        got,
        vec![vec![
            Some(N.to_string()),
            Some(sum_ids.to_string()),
            Some(format!(
                "{}.{:02}",
                sum_ids * 101 / 100,
                sum_ids * 101 % 100
            )),
            Some("name number 99999".to_string()),
            Some("1970-01-03 07:33:19.599997+00".to_string()),
        ]]
    );
}

#[tokio::test]
async fn a_batch_that_does_not_match_the_columns_is_refused() {
    let Some(mut db) = fresh("a_batch_that_does_not_match_the_columns_is_refused").await else {
        return;
    };
    let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Utf8, true)]));
    let table = TableName::new("public", "t").unwrap();
    let tx = db.client.transaction().await.unwrap();
    create_table(&tx, &table, &schema, &[]).await.unwrap();
    let batch =
        RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(vec!["x"]))]).unwrap();
    // Text cannot go into an integer column.
    let wrong = [PgColumn {
        name: "a".into(),
        pg_type: PgType::Int4,
    }];
    let err = copy_batches(&tx, &table, &wrong, std::slice::from_ref(&batch))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("\"a\""), "{err}");
    drop(tx);
    // Another name at that place.
    let two = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Utf8, true),
        Field::new("b", DataType::Utf8, true),
    ]));
    let tx = db.client.transaction().await.unwrap();
    create_table(&tx, &table, &two, &[]).await.unwrap();
    let other = [PgColumn {
        name: "b".into(),
        pg_type: PgType::Text,
    }];
    let err = copy_batches(&tx, &table, &other, &[batch])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expects \"b\""), "{err}");
}

#[tokio::test]
async fn a_value_the_column_cannot_hold_is_an_error_naming_column_and_row() {
    let Some(mut db) =
        fresh("a_value_the_column_cannot_hold_is_an_error_naming_column_and_row").await
    else {
        return;
    };
    let schema = Arc::new(Schema::new(vec![Field::new(
        "at",
        DataType::Time64(arrow_schema::TimeUnit::Microsecond),
        true,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Time64MicrosecondArray::from(vec![
            0,
            90_000_000_000,
        ]))],
    )
    .unwrap();
    let table = TableName::new("public", "times").unwrap();
    let tx = db.client.transaction().await.unwrap();
    create_table(&tx, &table, &schema, &[]).await.unwrap();
    let err = copy_batches(&tx, &table, &columns_of(&schema).unwrap(), &[batch])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PgWriteError::Value { column, row: 1, .. } if column == "at"),
        "{err:?}"
    );
    // The aborted COPY leaves the connection usable once the transaction ends.
    drop(tx);
    db.client.simple_query("SELECT 1").await.unwrap();
}

#[test]
fn numeric_encoding_of_extreme_decimals_does_not_panic() {
    let mut buf = bytes::BytesMut::new();
    for scale in [i8::MIN, -1, 0, 1, 38, i8::MAX] {
        super::super::numeric::put_i256(&mut buf, i256::MIN, scale);
        super::super::numeric::put_i256(&mut buf, i256::MAX, scale);
        super::super::numeric::put_i128(&mut buf, i128::MIN, scale);
        super::super::numeric::put_i128(&mut buf, i128::MAX, scale);
    }
    assert!(!buf.is_empty());
}

#[tokio::test]
async fn a_value_postgres_refuses_fails_the_copy_with_its_sqlstate() {
    let Some(mut db) = fresh("a_value_postgres_refuses_fails_the_copy_with_its_sqlstate").await
    else {
        return;
    };
    // Arrow does not check a decimal's precision; numeric(5,2) does.
    let schema = Arc::new(Schema::new(vec![Field::new(
        "amount",
        DataType::Decimal128(5, 2),
        true,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![decimal128(vec![Some(1), Some(10_000_000_000)], 5, 2)],
    )
    .unwrap();
    let table = TableName::new("public", "amounts").unwrap();
    let tx = db.client.transaction().await.unwrap();
    create_table(&tx, &table, &schema, &[]).await.unwrap();
    let err = copy_batches(&tx, &table, &columns_of(&schema).unwrap(), &[batch])
        .await
        .unwrap_err();
    match &err {
        PgWriteError::Postgres { code, message, .. } => {
            assert_eq!(code.as_deref(), Some("22003"), "{err}");
            assert!(message.contains("numeric field overflow"), "{err}");
        }
        other => panic!("{other:?}"),
    }
}

//! The read path against a real PostgreSQL: every decoded value is compared
//! with PostgreSQL's own text form of it, row by row. Each test creates and
//! drops its own database. Skipped (with a line saying so) when
//! TRIBUTARY_TEST_POSTGRES_URL is unset, unless TRIBUTARY_REQUIRE_POSTGRES=1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{panic::AssertUnwindSafe, str::FromStr, time::Duration};

use arrow_array::{
    Array, RecordBatch,
    cast::AsArray,
    types::{
        Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
        IntervalMonthDayNanoType, Time64MicrosecondType, TimestampMicrosecondType,
    },
};
use arrow_schema::{DataType, IntervalUnit, TimeUnit};
use futures::{FutureExt, TryStreamExt};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use super::*;
use crate::connectors::postgres::{
    connect::{ConnectOptions, SslMode, connect},
    discover::table_columns,
    error::PgReadError,
    quote::quote_literal,
    types::{EXTENSION_NAME_KEY, SOURCE_TYPE_KEY},
};

fn test_url() -> Option<String> {
    match std::env::var("TRIBUTARY_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("TRIBUTARY_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "TRIBUTARY_REQUIRE_POSTGRES=1 but TRIBUTARY_TEST_POSTGRES_URL is unset"
            );
            println!("skipped: TRIBUTARY_TEST_POSTGRES_URL is unset");
            None
        }
    }
}

/// Runs `body` with the options of a fresh database, dropped afterwards
/// even when `body` panics.
async fn with_database<F, Fut>(body: F)
where
    F: FnOnce(ConnectOptions) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(url) = test_url() else { return };
    let (admin, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    let name = format!("t_pgread_{}", uuid::Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let config = tokio_postgres::Config::from_str(&url).unwrap();
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_string(),
    };
    let options = ConnectOptions {
        host,
        port: config.get_ports().first().copied().unwrap_or(5432),
        database: name.clone(),
        username: config.get_user().unwrap_or("postgres").to_string(),
        password: config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        sslmode: SslMode::Disable,
        root_cert_pem: None,
        connect_timeout: Duration::from_secs(10),
    };
    let outcome = AssertUnwindSafe(body(options)).catch_unwind().await;
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn read_all(
    client: &Client,
    table: &str,
    selection: &RowSelection,
    batch_size: usize,
) -> Result<(CopyOut, Vec<RecordBatch>), PgReadError> {
    let columns = table_columns(client, "public", table).await?;
    let mut read = copy_out(client, "public", table, &columns, selection, batch_size).await?;
    let mut batches = Vec::new();
    while let Some(b) = read.batches.try_next().await? {
        batches.push(b);
    }
    Ok((read, batches))
}

/// PostgreSQL's text output of `select_list` over `table`, row by row.
async fn pg_text(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    client
        .batch_execute("SET TimeZone = 'UTC'; SET IntervalStyle = 'iso_8601'")
        .await
        .unwrap();
    client
        .simple_query(sql)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect()
}

const ALL_TYPES: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE TABLE "All types" (
    id int4 PRIMARY KEY,
    i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, b bool,
    n38 numeric(38,10), n numeric, n52 numeric(5,2),
    t text, vc varchar(20), c char(5), nm name,
    d date, tm time, ts timestamp, tstz timestamptz, iv interval,
    u uuid, j json, jb jsonb, by bytea,
    ai int4[], at text[], an numeric(10,2)[], au uuid[],
    m money, ip inet, md mood, ipa inet[], a2 int4[][], dom posint
);
INSERT INTO "All types" (id) VALUES (1);
INSERT INTO "All types" VALUES (2,
    -32768, 2147483647, -9223372036854775808, 'NaN', 'Infinity', true,
    '1234567890123456789012345678.0123456789',
    '123456789012345678901234567890.123456789012345678901234567890', -123.45,
    '', 'héllo ✓', 'ab', 'a name',
    '1969-07-20', '23:59:59.999999', '1950-01-01 00:00:00.000001',
    '2024-02-29 12:34:56.123456+05:30', '1 year 2 months 3 days 04:05:06.789',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2, {"b": null}]}',
    '{"z": 1, "a": "x\"y", "n": null}', '\x00ff00'::bytea,
    '{}', '{a,NULL,"","b c","q\"uote","back\\slash"}', '{1.50,NULL,-2.25}',
    '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}',
    '1234.56', '192.168.0.1', 'happy', '{10.0.0.1/8,::1}', '{{1,2},{3,4}}', 5);
INSERT INTO "All types" VALUES (3,
    0, -1, 0, '-Infinity', 'NaN', false,
    '-9999999999999999999999999999.9999999999',
    '-0.000000000000000000000000000000000000000000000000000000000001', 0,
    NULL, '', 'abcde', '',
    'infinity', '00:00:00', '-infinity', 'infinity',
    '-1 mons +2 days -00:00:00.000001',
    '00000000-0000-0000-0000-000000000000', '[]', '[]', ''::bytea,
    '{1,NULL,-3}', '{}', '{}', '{}',
    '-0.01', '::ffff:1.2.3.4/128', 'sad', '{}', '{}', 1);
INSERT INTO "All types" VALUES (4,
    1, 1, 1, 1.5, -0.0, NULL,
    '0.0000000001', 'NaN', 999.99,
    'Ωmega 😀 tab	and
newline', NULL, NULL, NULL,
    '1900-02-28', '12:00:00.5', '2000-01-01 00:00:00', '1901-12-13 20:45:52.000001+00',
    '0', NULL, 'null', '"text"', '\x'::bytea,
    NULL, '{NULL}', NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO "All types" (id, n, iv, f8, f4) VALUES
    (5, '-Infinity', '-178000000 years', 1e308, 3.4e38),
    (6, 'Infinity', '100 days 23:59:59', 5e-324, 1e-45);
"#;

#[tokio::test]
async fn every_type_decodes_to_what_postgres_says() {
    with_database(|options| async move {
        let client = connect(&options).await.unwrap();
        client.batch_execute(ALL_TYPES).await.unwrap();
        let selection = RowSelection {
            where_clause: None,
            order_by: Some("id".into()),
        };
        let (read, batches) = read_all(&client, "All types", &selection, 2).await.unwrap();

        // The schema: the type table, nullability and metadata.
        let schema = read.schema.clone();
        let expect = [
            ("id", DataType::Int32),
            ("i2", DataType::Int16),
            ("i8", DataType::Int64),
            ("f4", DataType::Float32),
            ("f8", DataType::Float64),
            ("b", DataType::Boolean),
            ("n38", DataType::Decimal128(38, 10)),
            ("n", DataType::Utf8),
            ("n52", DataType::Decimal128(5, 2)),
            ("c", DataType::Utf8),
            ("nm", DataType::Utf8),
            ("d", DataType::Date32),
            ("tm", DataType::Time64(TimeUnit::Microsecond)),
            ("ts", DataType::Timestamp(TimeUnit::Microsecond, None)),
            (
                "tstz",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ),
            ("iv", DataType::Interval(IntervalUnit::MonthDayNano)),
            ("u", DataType::FixedSizeBinary(16)),
            ("jb", DataType::Utf8),
            ("by", DataType::Binary),
            ("m", DataType::Utf8),
            ("md", DataType::Utf8),
            ("a2", DataType::Utf8),
            ("dom", DataType::Int32),
        ];
        for (name, data_type) in expect {
            assert_eq!(
                schema.field_with_name(name).unwrap().data_type(),
                &data_type,
                "{name}"
            );
        }
        for (name, item) in [
            ("ai", DataType::Int32),
            ("at", DataType::Utf8),
            ("an", DataType::Decimal128(10, 2)),
            ("au", DataType::FixedSizeBinary(16)),
            ("ipa", DataType::Utf8),
        ] {
            let DataType::List(f) = schema.field_with_name(name).unwrap().data_type() else {
                panic!("{name} is not a list");
            };
            assert_eq!(f.data_type(), &item, "{name}");
        }
        let meta = |name: &str, key: &str| {
            schema
                .field_with_name(name)
                .unwrap()
                .metadata()
                .get(key)
                .cloned()
        };
        assert!(!schema.field_with_name("id").unwrap().is_nullable());
        assert!(schema.field_with_name("i2").unwrap().is_nullable());
        assert_eq!(
            meta("n38", SOURCE_TYPE_KEY).as_deref(),
            Some("numeric(38,10)")
        );
        assert_eq!(meta("dom", SOURCE_TYPE_KEY).as_deref(), Some("posint"));
        assert_eq!(meta("u", EXTENSION_NAME_KEY).as_deref(), Some("arrow.uuid"));
        assert_eq!(meta("j", EXTENSION_NAME_KEY).as_deref(), Some("arrow.json"));
        assert_eq!(
            meta("jb", EXTENSION_NAME_KEY).as_deref(),
            Some("arrow.json")
        );
        assert_eq!(meta("t", EXTENSION_NAME_KEY), None);
        assert_eq!(read.carried_as_text, ["m", "ip", "md", "ipa", "a2"]);

        // Every value, against PostgreSQL's text of it.
        assert_eq!(batches.len(), 3, "6 rows in batches of 2");
        let select = schema
            .fields()
            .iter()
            .map(|f| {
                let q = quote_ident(f.name());
                if read.carried_as_text.contains(f.name()) {
                    // What was read: the column cast to text.
                    match f.data_type() {
                        DataType::List(_) => format!("{q}::text[]"),
                        _ => format!("{q}::text"),
                    }
                } else {
                    q
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let expected = pg_text(
            &client,
            &format!("SELECT {select} FROM \"All types\" ORDER BY id"),
        )
        .await;
        let rows: Vec<(&RecordBatch, usize)> = batches
            .iter()
            .flat_map(|b| (0..b.num_rows()).map(move |r| (b, r)))
            .collect();
        assert_eq!(rows.len(), expected.len());
        for ((batch, r), want) in rows.into_iter().zip(&expected) {
            for (c, field) in schema.fields().iter().enumerate() {
                let got = text_of(batch.column(c).as_ref(), r);
                let want = want[c].clone();
                let same = match (field.data_type(), &got, &want) {
                    (DataType::Float32 | DataType::Float64, Some(g), Some(w)) => same_float(g, w),
                    _ => got == want,
                };
                assert!(
                    same,
                    "row {} column {}: arrow {got:?}, postgres {want:?}",
                    batch.column(0).as_primitive::<Int32Type>().value(r),
                    field.name()
                );
            }
        }
        // NULL and '' stay distinct.
        assert_eq!(schema.field(10).name(), "t");
        let row_2 = batches[0].column(10).as_string::<i32>();
        assert!(!row_2.is_null(1) && row_2.value(1).is_empty());
        assert!(batches[1].column(10).is_null(0), "row 3");
        // Row 1: NULL in every column but id.
        assert!((1..schema.fields().len()).all(|c| batches[0].column(c).is_null(0)));
    })
    .await;
}

fn same_float(got: &str, want: &str) -> bool {
    let (g, w): (f64, f64) = (got.parse().unwrap(), want.parse().unwrap());
    (g.is_nan() && w.is_nan()) || g.to_bits() == w.to_bits()
}

/// An Arrow value in PostgreSQL's text form (TimeZone UTC, IntervalStyle
/// iso_8601, bytea_output hex); None for NULL.
fn text_of(array: &dyn Array, i: usize) -> Option<String> {
    if array.is_null(i) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Int16 => array.as_primitive::<Int16Type>().value(i).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(i).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Float32 => array.as_primitive::<Float32Type>().value(i).to_string(),
        DataType::Float64 => array.as_primitive::<Float64Type>().value(i).to_string(),
        DataType::Boolean => if array.as_boolean().value(i) {
            "t"
        } else {
            "f"
        }
        .into(),
        DataType::Decimal128(_, scale) => {
            decimal_text(array.as_primitive::<Decimal128Type>().value(i), *scale)
        }
        DataType::Utf8 => array.as_string::<i32>().value(i).to_string(),
        DataType::Date32 => match array.as_primitive::<Date32Type>().value(i) {
            i32::MAX => "infinity".into(),
            i32::MIN => "-infinity".into(),
            days => chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
                .unwrap()
                .format("%Y-%m-%d")
                .to_string(),
        },
        DataType::Time64(_) => {
            let us = array.as_primitive::<Time64MicrosecondType>().value(i);
            time_text(us)
        }
        DataType::Timestamp(_, tz) => {
            match array.as_primitive::<TimestampMicrosecondType>().value(i) {
                i64::MAX => "infinity".into(),
                i64::MIN => "-infinity".into(),
                us => {
                    let dt = chrono::DateTime::from_timestamp_micros(us).unwrap();
                    let day = dt.format("%Y-%m-%d").to_string();
                    let since_midnight = us.rem_euclid(86_400_000_000);
                    let zone = if tz.is_some() { "+00" } else { "" };
                    format!("{day} {}{zone}", time_text(since_midnight))
                }
            }
        }
        DataType::Interval(_) => {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(i);
            assert_eq!(v.nanoseconds % 1000, 0);
            iso_interval(v.months, v.days, v.nanoseconds / 1000)
        }
        DataType::FixedSizeBinary(16) => {
            uuid::Uuid::from_slice(array.as_fixed_size_binary().value(i))
                .unwrap()
                .hyphenated()
                .to_string()
        }
        DataType::Binary => format!("\\x{}", hex::encode(array.as_binary::<i32>().value(i))),
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(i);
            let texts = (0..items.len())
                .map(|k| match text_of(items.as_ref(), k) {
                    None => "NULL".to_string(),
                    Some(t) => array_item(&t),
                })
                .collect::<Vec<_>>();
            format!("{{{}}}", texts.join(","))
        }
        other => panic!("no text form for {other:?}"),
    })
}

fn decimal_text(v: i128, scale: i8) -> String {
    let scale = scale as usize;
    let digits = format!("{:0>width$}", v.unsigned_abs(), width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    let sign = if v < 0 { "-" } else { "" };
    if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

fn time_text(us: i64) -> String {
    let (s, frac) = (us / 1_000_000, us % 1_000_000);
    let mut out = format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    if frac != 0 {
        out.push_str(format!(".{frac:06}").trim_end_matches('0'));
    }
    out
}

/// PostgreSQL's IntervalStyle iso_8601 (EncodeInterval).
fn iso_interval(months: i32, days: i32, us: i64) -> String {
    if months == 0 && days == 0 && us == 0 {
        return "PT0S".into();
    }
    let mut out = "P".to_string();
    for (v, unit) in [
        (i64::from(months / 12), 'Y'),
        (i64::from(months % 12), 'M'),
        (i64::from(days), 'D'),
    ] {
        if v != 0 {
            out.push_str(&format!("{v}{unit}"));
        }
    }
    let (h, m) = (us / 3_600_000_000, us % 3_600_000_000 / 60_000_000);
    let (s, f) = (us % 60_000_000 / 1_000_000, us % 1_000_000);
    if us != 0 {
        out.push('T');
    }
    for (v, unit) in [(h, 'H'), (m, 'M')] {
        if v != 0 {
            out.push_str(&format!("{v}{unit}"));
        }
    }
    if s != 0 || f != 0 {
        if s < 0 || f < 0 {
            out.push('-');
        }
        out.push_str(&s.abs().to_string());
        if f != 0 {
            out.push_str(format!(".{:06}", f.abs()).trim_end_matches('0'));
        }
        out.push('S');
    }
    out
}

/// An array element as array_out writes it.
fn array_item(t: &str) -> String {
    let plain = !t.is_empty()
        && !t.eq_ignore_ascii_case("NULL")
        && !t
            .chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_ascii_whitespace());
    if plain {
        t.to_string()
    } else {
        format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[tokio::test]
async fn many_rows_stream_in_full_batches_whatever_the_chunking() {
    with_database(|options| async move {
        let client = connect(&options).await.unwrap();
        client
            .batch_execute(
                "CREATE TABLE big (id int8 NOT NULL, label text, payload bytea, amount numeric(12,3));
                 INSERT INTO big SELECT i, 'row ' || i || repeat('x', i % 50),
                        decode(repeat('00ff', i % 300), 'hex'), i * 1.5
                 FROM generate_series(1, 25000) AS i",
            )
            .await
            .unwrap();
        let columns = table_columns(&client, "public", "big").await.unwrap();
        let selection = RowSelection {
            where_clause: None,
            order_by: Some("id".into()),
        };
        let read = copy_out(&client, "public", "big", &columns, &selection, 1000)
            .await
            .unwrap();
        // The client lives as long as the read: dropping it ends the COPY
        // (see `connect::PgClient`).
        let batches: Vec<RecordBatch> = read.batches.try_collect().await.unwrap();
        drop(client);
        assert_eq!(batches.len(), 25);
        let mut next = 1i64;
        for b in &batches {
            assert_eq!(b.num_rows(), 1000);
            let ids = b.column(0).as_primitive::<Int64Type>();
            let labels = b.column(1).as_string::<i32>();
            let payloads = b.column(2).as_binary::<i32>();
            let amounts = b.column(3).as_primitive::<Decimal128Type>();
            for r in 0..b.num_rows() {
                assert_eq!(ids.value(r), next);
                let x = "x".repeat((next % 50) as usize);
                assert_eq!(labels.value(r), format!("row {next}{x}"));
                assert_eq!(payloads.value(r), [0u8, 0xff].repeat((next % 300) as usize));
                assert_eq!(amounts.value(r), i128::from(next) * 1500);
                next += 1;
            }
        }
        assert_eq!(next, 25_001);

        // The same COPY data cut anywhere decodes to the same batches.
        let client = connect(&options).await.unwrap();
        let plan = plan(&columns);
        let statement = copy_statement("public", "big", &plan, &selection);
        let raw: Vec<u8> = client
            .copy_out(statement.as_str())
            .await
            .unwrap()
            .try_fold(Vec::new(), |mut all, chunk| async move {
                all.extend_from_slice(&chunk);
                Ok(all)
            })
            .await
            .unwrap();
        for cut in [1usize, 7, 4093, 65_536] {
            let mut decoder = BatchDecoder::new(&plan, 1000).unwrap();
            let mut again = Vec::new();
            for chunk in raw.chunks(cut) {
                decoder.push(chunk);
                while let Some(b) = decoder.next_batch().unwrap() {
                    again.push(b);
                }
            }
            again.extend(decoder.finish().unwrap());
            assert!(again == batches, "chunks of {cut} bytes");
        }
        // Cut short, it is an error.
        let mut decoder = BatchDecoder::new(&plan, 1000).unwrap();
        decoder.push(&raw[..raw.len() - 1]);
        while decoder.next_batch().unwrap().is_some() {}
        assert!(decoder.finish().is_err());
    })
    .await;
}

#[tokio::test]
async fn where_and_order_by_take_quoted_literals() {
    with_database(|options| async move {
        let client = connect(&options).await.unwrap();
        client
            .batch_execute(
                r"CREATE TABLE people (id int4, name text);
                  INSERT INTO people VALUES (1, 'O''Brien\x'), (2, 'plain'), (3, 'back\slash'''), (4, 'O''Brien')",
            )
            .await
            .unwrap();
        let wanted = [r"O'Brien\x", r"back\slash'"];
        let selection = RowSelection {
            where_clause: Some(format!(
                "{} IN ({}, {})",
                quote_ident("name"),
                quote_literal(wanted[0]),
                quote_literal(wanted[1])
            )),
            order_by: Some(format!("{} DESC", quote_ident("name"))),
        };
        // The literals mean the same whatever standard_conforming_strings says.
        for setting in ["on", "off"] {
            client
                .batch_execute(&format!("SET standard_conforming_strings = {setting}"))
                .await
                .unwrap();
            let (_, batches) = read_all(&client, "people", &selection, 10).await.unwrap();
            assert_eq!(batches.len(), 1);
            let names = batches[0].column(1).as_string::<i32>();
            let names: Vec<&str> = (0..names.len()).map(|i| names.value(i)).collect();
            assert_eq!(names, [wanted[1], wanted[0]], "standard_conforming_strings={setting}");
        }

        // No rows, no batch.
        let none = RowSelection {
            where_clause: Some("false".into()),
            order_by: None,
        };
        let (_, batches) = read_all(&client, "people", &none, 10).await.unwrap();
        assert!(batches.is_empty());

        // Config errors: an unknown table, an unknown column.
        let missing = table_columns(&client, "public", "nobody").await;
        assert!(matches!(missing, Err(PgReadError::Config(ref m)) if m.contains("public.nobody")));
        let columns = table_columns(&client, "public", "people").await.unwrap();
        let bad = RowSelection {
            where_clause: Some("\"nope\" = 1".into()),
            order_by: None,
        };
        let err = copy_out(&client, "public", "people", &columns, &bad, 10).await.err();
        assert!(matches!(err, Some(PgReadError::Config(ref m)) if m.contains("nope")), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn unrepresentable_values_fail_naming_the_column() {
    with_database(|options| async move {
        let client = connect(&options).await.unwrap();
        client
            .batch_execute(
                "CREATE TABLE prices (id int4, \"unit price\" numeric(10,2));
                 INSERT INTO prices VALUES (1, 1.25), (2, 'NaN')",
            )
            .await
            .unwrap();
        let err = read_all(&client, "prices", &RowSelection::default(), 10)
            .await
            .err()
            .unwrap();
        let PgReadError::Config(message) = err else {
            panic!("{err:?}")
        };
        assert!(
            message.contains("\"unit price\"") && message.contains("NaN"),
            "{message}"
        );

        // A 2-D value in a column declared 1-D cannot be a list.
        client
            .batch_execute(
                "CREATE TABLE grids (id int4, cells int4[]);
                 INSERT INTO grids VALUES (1, '{1,2}'), (2, '{{1,2},{3,4}}')",
            )
            .await
            .unwrap();
        let err = read_all(&client, "grids", &RowSelection::default(), 10)
            .await
            .err()
            .unwrap();
        let PgReadError::Config(message) = err else {
            panic!("{err:?}")
        };
        assert!(
            message.contains("\"cells\"") && message.contains("2-dimensional"),
            "{message}"
        );
    })
    .await;
}

#[tokio::test]
async fn sslmode_disable_and_prefer_connect_and_require_fails_clearly() {
    with_database(|options| async move {
        for mode in [SslMode::Disable, SslMode::Prefer] {
            let client = connect(&ConnectOptions {
                sslmode: mode,
                ..options.clone()
            })
            .await
            .unwrap();
            let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
            assert_eq!(one, 1, "{mode:?}");
        }
        // The test cluster offers no TLS.
        for mode in [SslMode::Require, SslMode::VerifyFull] {
            let err = connect(&ConnectOptions {
                sslmode: mode,
                ..options.clone()
            })
            .await
            .err()
            .unwrap();
            let message = err.to_string();
            assert!(
                message.contains("the server does not support TLS, and sslmode requires it"),
                "{mode:?}: {message}"
            );
        }
        let secret = ConnectOptions {
            password: Some("s3cret-pw".into()),
            ..options.clone()
        };
        assert!(!format!("{secret:?}").contains("s3cret-pw"));
        assert!(SslMode::parse(Some("verify-everything")).is_err());
        assert_eq!(SslMode::parse(None).unwrap(), SslMode::Prefer);
    })
    .await;
}

/// Random bytes as every type's value: an error or a value, never a panic.
#[test]
fn garbage_values_are_errors_never_panics() {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    use tokio_postgres::types::Type;

    let types = [
        Type::INT2,
        Type::INT4,
        Type::INT8,
        Type::FLOAT4,
        Type::FLOAT8,
        Type::BOOL,
        Type::NUMERIC,
        Type::TEXT,
        Type::JSONB,
        Type::DATE,
        Type::TIME,
        Type::TIMESTAMPTZ,
        Type::INTERVAL,
        Type::UUID,
        Type::BYTEA,
        Type::INT4_ARRAY,
        Type::NUMERIC_ARRAY,
        Type::TEXT_ARRAY,
    ];
    let mut rng = StdRng::seed_from_u64(11);
    for ty in types {
        for typmod in [-1, (38 << 16 | 10) + 4] {
            let column = PgColumn {
                name: "c".into(),
                ty: ty.clone(),
                typmod,
                nullable: true,
                dims: 0,
                type_name: ty.name().into(),
            };
            let plan = plan(&[column]);
            for _ in 0..300 {
                let len = rng.gen_range(0..40usize);
                let mut value: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
                // Plausible array headers reach deeper into the decoder.
                if ty.name().starts_with('_') && len >= 12 && rng.gen_bool(0.5) {
                    value[..4].copy_from_slice(&1i32.to_be_bytes());
                }
                let mut data = b"PGCOPY\n\xff\r\n\0".to_vec();
                data.extend_from_slice(&[0; 8]);
                data.extend_from_slice(&1i16.to_be_bytes());
                data.extend_from_slice(&(len as i32).to_be_bytes());
                data.extend_from_slice(&value);
                data.extend_from_slice(&(-1i16).to_be_bytes());
                let mut decoder = BatchDecoder::new(&plan, 10).unwrap();
                decoder.push(&data);
                if decoder.next_batch().is_ok() {
                    let _ = decoder.finish();
                }
            }
        }
    }
}

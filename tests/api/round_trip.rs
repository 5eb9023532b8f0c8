//! Every type round-trips through the real server and engine (issue 11):
//! PostgreSQL → a PostgreSQL warehouse in another database, PostgreSQL →
//! the SQLite warehouse, and a SQLite file → the SQLite warehouse. Each
//! destination is read back and compared value by value with what the
//! source holds, under an explicit expectation per type:
//!
//! PostgreSQL warehouse (`WIDE[..].pg_dest` is the column type it gets):
//! every type keeps its PostgreSQL type and value — numeric(p,s) with its
//! scale, unbounded numeric (NaN and ±Infinity included), floats to the
//! bit (NaN, ±Infinity, -0), ±infinity dates and timestamps, 1-D arrays
//! with NULL elements — except that varchar(n) and char(n) become text
//! (char(n) with the padding PostgreSQL stores), json becomes jsonb (equal
//! as JSON), and a type without an Arrow mapping (inet, point, int[][]) is
//! carried as its text and named in the run log. Text equality of two
//! values of one type is value equality here: each type's output is
//! canonical (numeric keeps its scale; floats print shortest-exact).
//!
//! SQLite warehouse (`WIDE[..].sqlite`): integers and booleans INTEGER;
//! floats REAL (float4 widened exactly; NaN, which SQLite would store as
//! NULL, is the TEXT `NaN`); numeric TEXT with every digit and its scale;
//! text TEXT; bytea BLOB; uuid hyphenated TEXT; json its text as sent;
//! date, time and timestamps ISO 8601 TEXT (timestamptz in UTC with `Z`,
//! expanded years with a sign, ±infinity as `infinity`/`-infinity`);
//! interval ISO 8601 `P<months>M<days>DT<seconds>S`; arrays a JSON array
//! TEXT of their elements; carried types their PostgreSQL text.

use tributary::pb::{self, LoadMode};

use crate::{
    both,
    helpers::{Backend, TestApp, json_struct},
    pg_fixtures::{
        Cell, pg_source, pg_text_rows, run_in_mode, same_table, sqlite_cells, succeeded,
        workspace_schema,
    },
};

const ROWS: usize = 5;

/// A column of the wide table: its PostgreSQL source type, five values as
/// SQL literals (row 1 ordinary, row 2 large, row 3 NULL, row 4 small,
/// empty or negative, row 5 special), what each becomes in the SQLite
/// warehouse, and the column type in a PostgreSQL warehouse.
struct Col {
    name: &'static str,
    pg: &'static str,
    values: [&'static str; ROWS],
    sqlite: [Cell; ROWS],
    pg_dest: &'static str,
    /// The source expression whose text the PostgreSQL warehouse's column
    /// holds, where that is not the column's own text.
    pg_expect: Option<&'static str>,
}

fn t(s: &str) -> Cell {
    Cell::Text(s.to_string())
}
fn i(v: i64) -> Cell {
    Cell::Int(v)
}
fn r(v: f64) -> Cell {
    Cell::Real(v)
}
fn b(v: &[u8]) -> Cell {
    Cell::Blob(v.to_vec())
}
use Cell::Null as N;

#[allow(clippy::too_many_lines)]
fn wide() -> Vec<Col> {
    let col = |name, pg, values, sqlite, pg_dest| Col {
        name,
        pg,
        values,
        sqlite,
        pg_dest,
        pg_expect: None,
    };
    let huge = "123456789012345678901234567890123456789012345678901234567890.123456789012345678901234567890";
    let tiny = "-0.000000000000000000000000000000000000000001";
    vec![
        col(
            "id",
            "int PRIMARY KEY",
            ["1", "2", "3", "4", "5"],
            [i(1), i(2), i(3), i(4), i(5)],
            "integer",
        ),
        col(
            "i2",
            "smallint",
            ["1", "32767", "NULL", "-32768", "0"],
            [i(1), i(32767), N, i(-32768), i(0)],
            "smallint",
        ),
        col(
            "i4",
            "integer",
            ["42", "2147483647", "NULL", "-2147483648", "0"],
            [i(42), i(2147483647), N, i(-2147483648), i(0)],
            "integer",
        ),
        col(
            "i8",
            "bigint",
            [
                "7",
                "9223372036854775807",
                "NULL",
                "-9223372036854775808",
                "0",
            ],
            [i(7), i(i64::MAX), N, i(i64::MIN), i(0)],
            "bigint",
        ),
        col(
            "n",
            "numeric(38,10)",
            [
                "12345.6789",
                "9999999999999999999999999999.9999999999",
                "NULL",
                "-0.0000000001",
                "0",
            ],
            [
                t("12345.6789000000"),
                t("9999999999999999999999999999.9999999999"),
                N,
                t("-0.0000000001"),
                t("0.0000000000"),
            ],
            "numeric(38,10)",
        ),
        col(
            "n2",
            "numeric(6,2)",
            ["1.10", "9999.99", "NULL", "-0.01", "0"],
            [t("1.10"), t("9999.99"), N, t("-0.01"), t("0.00")],
            "numeric(6,2)",
        ),
        col(
            "nf",
            "numeric",
            [
                "1.10",
                "'123456789012345678901234567890123456789012345678901234567890.123456789012345678901234567890'",
                "NULL",
                "'-0.000000000000000000000000000000000000000001'",
                "'NaN'",
            ],
            [t("1.10"), t(huge), N, t(tiny), t("NaN")],
            "numeric",
        ),
        col(
            "nf2",
            "numeric",
            ["'Infinity'", "'-Infinity'", "NULL", "0.000", "'1e100'"],
            [
                t("Infinity"),
                t("-Infinity"),
                N,
                t("0.000"),
                t(&format!("1{}", "0".repeat(100))),
            ],
            "numeric",
        ),
        col(
            "f4",
            "real",
            ["1.1", "'Infinity'", "NULL", "'-0'", "'NaN'"],
            // SQLite has no -0.0 (it reads back 0.0), and NaN would be NULL.
            [r(f64::from(1.1f32)), r(f64::INFINITY), N, r(0.0), t("NaN")],
            "real",
        ),
        col(
            "f8",
            "double precision",
            [
                "0.30000000000000004",
                "'-Infinity'",
                "NULL",
                "-1.7976931348623157e308",
                "5e-324",
            ],
            [
                r(0.30000000000000004),
                r(f64::NEG_INFINITY),
                N,
                r(-1.7976931348623157e308),
                r(5e-324),
            ],
            "double precision",
        ),
        col(
            "t",
            "text",
            [
                "'héllo wörld 🌍 中文'",
                r"E'tab\there ''quoted'' back\\slash\nnewline'",
                "NULL",
                "''",
                "'NULL'",
            ],
            [
                t("héllo wörld 🌍 中文"),
                t("tab\there 'quoted' back\\slash\nnewline"),
                N,
                t(""),
                t("NULL"),
            ],
            "text",
        ),
        col(
            "vc",
            "varchar(20)",
            [
                "'abc'",
                "'12345678901234567890'",
                "NULL",
                "''",
                "' spaced '",
            ],
            [t("abc"), t("12345678901234567890"), N, t(""), t(" spaced ")],
            "text",
        ),
        Col {
            pg_expect: Some("rpad(c::text, 5)"),
            ..col(
                "c",
                "char(5)",
                ["'ab'", "'abcde'", "NULL", "''", "' x'"],
                [t("ab   "), t("abcde"), N, t("     "), t(" x   ")],
                "text",
            )
        },
        col(
            "b",
            "boolean",
            ["true", "false", "NULL", "false", "true"],
            [i(1), i(0), N, i(0), i(1)],
            "boolean",
        ),
        col(
            "d",
            "date",
            [
                "'2024-02-29'",
                "'5874897-12-31'",
                "NULL",
                "'4713-01-01 BC'",
                "'infinity'",
            ],
            [
                t("2024-02-29"),
                t("+5874897-12-31"),
                N,
                t("-4712-01-01"),
                t("infinity"),
            ],
            "date",
        ),
        col(
            "tm",
            "time",
            [
                "'12:34:56.789'",
                "'24:00:00'",
                "NULL",
                "'00:00:00'",
                "'23:59:59.999999'",
            ],
            [
                t("12:34:56.789000"),
                t("24:00:00"),
                N,
                t("00:00:00"),
                t("23:59:59.999999"),
            ],
            "time without time zone",
        ),
        col(
            "ts",
            "timestamp",
            [
                "'2024-01-02 03:04:05.123456'",
                "'294246-12-31 23:59:59.999999'",
                "NULL",
                "'4713-01-01 00:00:00 BC'",
                "'-infinity'",
            ],
            [
                t("2024-01-02T03:04:05.123456"),
                t("+294246-12-31T23:59:59.999999"),
                N,
                t("-4712-01-01T00:00:00"),
                t("-infinity"),
            ],
            "timestamp without time zone",
        ),
        col(
            "tstz",
            "timestamptz",
            [
                "'2024-01-02 03:04:05.123456+02'",
                "'1969-12-31 23:59:59.999999+00'",
                "NULL",
                "'1970-01-01 00:00:00+00'",
                "'infinity'",
            ],
            [
                t("2024-01-02T01:04:05.123456Z"),
                t("1969-12-31T23:59:59.999999Z"),
                N,
                t("1970-01-01T00:00:00Z"),
                t("infinity"),
            ],
            "timestamp with time zone",
        ),
        col(
            "iv",
            "interval",
            [
                "'1 year 2 mons 3 days 04:05:06.789'",
                "'178000000 years'",
                "NULL",
                "'-1 mon -2 days -00:00:03.5'",
                "'1 day -00:00:01'",
            ],
            [
                t("P14M3DT14706.789S"),
                t("P2136000000M0DT0S"),
                N,
                t("P-1M-2DT-3.5S"),
                t("P0M1DT-1S"),
            ],
            "interval",
        ),
        col(
            "u",
            "uuid",
            [
                "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
                "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
                "NULL",
                "'00000000-0000-0000-0000-000000000000'",
                "'0191E9A8-7B0C-7D2E-9F00-0123456789AB'",
            ],
            [
                t("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                t("ffffffff-ffff-ffff-ffff-ffffffffffff"),
                N,
                t("00000000-0000-0000-0000-000000000000"),
                t("0191e9a8-7b0c-7d2e-9f00-0123456789ab"),
            ],
            "uuid",
        ),
        Col {
            pg_expect: Some("j::jsonb::text"),
            ..col(
                "j",
                "json",
                [
                    r#"'{"b": 1,  "a": [1, {"c": null}]}'"#,
                    r#"'"just a string"'"#,
                    "NULL",
                    "'null'",
                    r#"'[1, 2.50, "x", true, null]'"#,
                ],
                [
                    t(r#"{"b": 1,  "a": [1, {"c": null}]}"#),
                    t(r#""just a string""#),
                    N,
                    t("null"),
                    t(r#"[1, 2.50, "x", true, null]"#),
                ],
                "jsonb",
            )
        },
        col(
            "jb",
            "jsonb",
            [
                r#"'{"nested": {"deep": [1, 2, {"x": "ü"}]}, "n": 1.10}'"#,
                "'[]'",
                "NULL",
                "'{}'",
                "'null'",
            ],
            [
                t(r#"{"n": 1.10, "nested": {"deep": [1, 2, {"x": "ü"}]}}"#),
                t("[]"),
                N,
                t("{}"),
                t("null"),
            ],
            "jsonb",
        ),
        col(
            "by",
            "bytea",
            [r"'\x00ff00'", r"'\x'", "NULL", r"'\x00'", r"'\x68656c6c6f'"],
            [b(&[0, 255, 0]), b(&[]), N, b(&[0]), b(b"hello")],
            "bytea",
        ),
        col(
            "ai",
            "integer[]",
            [
                "'{1,NULL,3}'",
                "'{}'",
                "NULL",
                "'{-2147483648}'",
                "'{NULL}'",
            ],
            [t("[1,null,3]"), t("[]"), N, t("[-2147483648]"), t("[null]")],
            "integer[]",
        ),
        col(
            "at",
            "text[]",
            [
                r#"'{"a","",NULL,"with,comma","q\"uote"}'"#,
                "'{}'",
                "NULL",
                r#"'{""}'"#,
                r#"'{"NULL"}'"#,
            ],
            [
                t(r#"["a","",null,"with,comma","q\"uote"]"#),
                t("[]"),
                N,
                t(r#"[""]"#),
                t(r#"["NULL"]"#),
            ],
            "text[]",
        ),
        col(
            "an",
            "numeric(10,2)[]",
            [
                "'{1.10,NULL,-0.01}'",
                "'{}'",
                "NULL",
                "'{99999999.99}'",
                "'{0}'",
            ],
            [
                t(r#"["1.10",null,"-0.01"]"#),
                t("[]"),
                N,
                t(r#"["99999999.99"]"#),
                t(r#"["0.00"]"#),
            ],
            "numeric(10,2)[]",
        ),
        col(
            "anf",
            "numeric[]",
            [
                "'{1.10,NaN,NULL,-1e-20}'",
                "'{}'",
                "NULL",
                "'{0.000}'",
                "'{Infinity}'",
            ],
            [
                t(r#"["1.10","NaN",null,"-0.00000000000000000001"]"#),
                t("[]"),
                N,
                t(r#"["0.000"]"#),
                t(r#"["Infinity"]"#),
            ],
            "numeric[]",
        ),
        col(
            "ad",
            "date[]",
            [
                "'{2024-01-01,infinity,NULL}'",
                "'{}'",
                "NULL",
                "'{-infinity}'",
                "'{0001-01-01 BC}'",
            ],
            [
                t(r#"["2024-01-01","infinity",null]"#),
                t("[]"),
                N,
                t(r#"["-infinity"]"#),
                t(r#"["0000-01-01"]"#),
            ],
            "date[]",
        ),
        col(
            "ats",
            "timestamptz[]",
            [
                r#"'{"2024-01-02 03:04:05+00",NULL}'"#,
                "'{}'",
                "NULL",
                r#"'{"1900-01-01 00:00:00.5+00"}'"#,
                "'{infinity}'",
            ],
            [
                t(r#"["2024-01-02T03:04:05Z",null]"#),
                t("[]"),
                N,
                t(r#"["1900-01-01T00:00:00.500000Z"]"#),
                t(r#"["infinity"]"#),
            ],
            "timestamp with time zone[]",
        ),
        col(
            "ab",
            "boolean[]",
            ["'{t,f,NULL}'", "'{}'", "NULL", "'{f}'", "'{NULL,NULL}'"],
            [
                t("[true,false,null]"),
                t("[]"),
                N,
                t("[false]"),
                t("[null,null]"),
            ],
            "boolean[]",
        ),
        col(
            "au",
            "uuid[]",
            [
                "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'",
                "'{}'",
                "NULL",
                "'{00000000-0000-0000-0000-000000000000}'",
                "'{}'",
            ],
            [
                t(r#"["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",null]"#),
                t("[]"),
                N,
                t(r#"["00000000-0000-0000-0000-000000000000"]"#),
                t("[]"),
            ],
            "uuid[]",
        ),
        col(
            "afl",
            "float8[]",
            [
                "'{1.5,NaN,-Infinity,NULL}'",
                "'{}'",
                "NULL",
                "'{-0}'",
                "'{Infinity}'",
            ],
            [
                t(r#"[1.5,"NaN","-Infinity",null]"#),
                t("[]"),
                N,
                t("[-0.0]"),
                t(r#"["Infinity"]"#),
            ],
            "double precision[]",
        ),
        col(
            "ip",
            "inet",
            [
                "'10.0.0.1'",
                "'::1'",
                "NULL",
                "'192.168.0.0/16'",
                "'2001:db8::/32'",
            ],
            [
                t("10.0.0.1/32"),
                t("::1/128"),
                N,
                t("192.168.0.0/16"),
                t("2001:db8::/32"),
            ],
            "text",
        ),
        col(
            "pt",
            "point",
            [
                "'(1,2)'",
                "'(-1.5,0)'",
                "NULL",
                "'(0,0)'",
                "'(1e+300,-1e-300)'",
            ],
            [
                t("(1,2)"),
                t("(-1.5,0)"),
                N,
                t("(0,0)"),
                t("(1e+300,-1e-300)"),
            ],
            "text",
        ),
        col(
            "grid",
            "integer[][]",
            ["'{{1,2},{3,4}}'", "'{}'", "NULL", "'{{NULL}}'", "'{{5}}'"],
            [t("{{1,2},{3,4}}"), t("{}"), N, t("{{NULL}}"), t("{{5}}")],
            "text",
        ),
    ]
}

/// The run log's line for the columns carried as text.
const CARRIED: &str = "no faithful type for ip (inet), pt (point), grid (integer[])";

/// The wide table's DDL and rows.
fn wide_sql(cols: &[Col]) -> String {
    let defs: Vec<String> = cols
        .iter()
        .map(|c| format!("\"{}\" {}", c.name, c.pg))
        .collect();
    let rows: Vec<String> = (0..ROWS)
        .map(|row| {
            let values: Vec<&str> = cols.iter().map(|c| c.values[row]).collect();
            format!("({})", values.join(", "))
        })
        .collect();
    format!(
        "CREATE TABLE wide ({}); INSERT INTO wide VALUES {};",
        defs.join(", "),
        rows.join(", ")
    )
}

/// A REPLACE sync of `entity` into `table`, two rows per batch (so values
/// cross batch boundaries).
async fn replace_sync(app: &TestApp, conn: &str, entity: &str, table: &str) -> pb::Sync {
    app.syncs()
        .create_sync(pb::CreateSyncRequest {
            name: table.into(),
            connection_id: conn.into(),
            entities: vec![entity.into()],
            table_bindings: vec![pb::TableBinding {
                entity_key: entity.into(),
                physical_table_name: table.into(),
                load_mode: LoadMode::Replace.into(),
                ..Default::default()
            }],
            execution_config: Some(json_struct(serde_json::json!({"batch_size": 2}))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

both!(
    spawn = crate::pg_fixtures::spawn_with_pg_warehouse;
    every_postgres_type_round_trips_into_a_postgres_warehouse,
);

async fn every_postgres_type_round_trips_into_a_postgres_warehouse(app: TestApp) {
    let cols = wide();
    let Some((conn, source)) = pg_source(&app, &wide_sql(&cols)).await else {
        return;
    };
    let warehouse = app.warehouse_url.clone().unwrap();
    let sync = replace_sync(&app, &conn.id, "public.wide", "wide").await;
    let run = run_in_mode(&app, &sync.id, pb::RunMode::Incremental).await;
    succeeded(&run);
    let lines = app.log_lines(&run.id).await;
    assert!(lines.iter().any(|l| l.contains(CARRIED)), "{lines:#?}");

    let schema = workspace_schema(&app).await;
    let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
    // The destination's column types: the faithful ones.
    let types = pg_text_rows(
        &warehouse,
        &format!(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = '\"{schema}\".wide'::regclass AND attnum > 0 AND NOT attisdropped
             ORDER BY attnum"
        ),
    )
    .await;
    let want_types: Vec<Vec<Option<String>>> = cols
        .iter()
        .map(|c| vec![Some(c.name.to_string()), Some(c.pg_dest.to_string())])
        .collect();
    same_table(
        &types,
        &want_types,
        &["column", "type"],
        "destination column types",
    );

    // Every value, as its type's canonical text on both sides.
    let source_exprs: Vec<String> = cols
        .iter()
        .map(|c| match c.pg_expect {
            Some(e) => e.to_string(),
            None => format!("\"{}\"::text", c.name),
        })
        .collect();
    let want = pg_text_rows(
        &source,
        &format!("SELECT {} FROM wide ORDER BY id", source_exprs.join(", ")),
    )
    .await;
    let dest_exprs: Vec<String> = names.iter().map(|c| format!("\"{c}\"::text")).collect();
    let got = pg_text_rows(
        &warehouse,
        &format!(
            "SELECT {} FROM \"{schema}\".wide ORDER BY id",
            dest_exprs.join(", ")
        ),
    )
    .await;
    assert_eq!(want.len(), ROWS);
    same_table(&got, &want, &names, "PostgreSQL → PostgreSQL");
    // And NULL is not '' anywhere: row 3 is NULL but for its key, row 4's
    // text columns are ''.
    assert!(got[2][1..].iter().all(Option::is_none), "{:?}", got[2]);
    assert_eq!(got[3][10].as_deref(), Some(""));
}

both!(
    spawn = crate::helpers::spawn_executing;
    every_postgres_type_round_trips_into_the_sqlite_warehouse,
);

async fn every_postgres_type_round_trips_into_the_sqlite_warehouse(app: TestApp) {
    let cols = wide();
    let Some((conn, _)) = pg_source(&app, &wide_sql(&cols)).await else {
        return;
    };
    let sync = replace_sync(&app, &conn.id, "public.wide", "wide").await;
    let run = run_in_mode(&app, &sync.id, pb::RunMode::Incremental).await;
    succeeded(&run);
    let lines = app.log_lines(&run.id).await;
    assert!(lines.iter().any(|l| l.contains(CARRIED)), "{lines:#?}");
    let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
    let got = sqlite_cells(
        &app.data_dir.path().join("warehouse.db"),
        "wide",
        &names,
        "id",
    )
    .await;
    let want: Vec<Vec<Cell>> = (0..ROWS)
        .map(|row| cols.iter().map(|c| c.sqlite[row].clone()).collect())
        .collect();
    same_table(&got, &want, &names, "PostgreSQL → SQLite");
}

both!(
    spawn = crate::helpers::spawn_executing_with_files;
    every_sqlite_type_round_trips_into_the_sqlite_warehouse,
);

/// A SQLite source's declared types, by affinity: INTEGER, REAL, TEXT and
/// BLOB columns keep their storage class; NUMERIC-affinity columns
/// (NUMERIC, DECIMAL(12,2), DATETIME, BOOLEAN) and undeclared ones are
/// carried as SQLite's text of what each row stored (SQLite itself turned
/// '1.10' in a DECIMAL column into the REAL 1.1), and named in the run log.
async fn every_sqlite_type_round_trips_into_the_sqlite_warehouse(app: TestApp) {
    let path = app.files_dir().join("types.db");
    let db = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        "CREATE TABLE src (id INTEGER PRIMARY KEY, i INT, r REAL, dbl DOUBLE, t TEXT,
            vc VARCHAR(10), bl BLOB, n NUMERIC, dec DECIMAL(12,2), dt DATETIME, flag BOOLEAN, raw);
         INSERT INTO src VALUES
            (1, 42, 1.5, 0.30000000000000004, 'héllo 🌍', 'abc', x'00ff00', 12.50, '1.10',
             '2024-01-02 03:04:05', 1, 7),
            (2, 9223372036854775807, 9e999, -9e999, 'it''s', '', x'', 'abc', 0.25,
             '2024-01-02T03:04:05.123Z', 'true', 'text'),
            (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
            (4, -9223372036854775808, -0.0, 5e-324, '', ' ', x'00', '', -1, 20240102, 0, 2.5);",
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let conn = app
        .connection("types", "sqlite", serde_json::json!({"path": path}))
        .await;
    let sync = replace_sync(&app, &conn.id, "src", "copy").await;
    let run = run_in_mode(&app, &sync.id, pb::RunMode::Incremental).await;
    succeeded(&run);
    let lines = app.log_lines(&run.id).await;
    assert!(
        lines.iter().any(|l| l.contains(
            "no faithful type for n (NUMERIC), dec (DECIMAL(12,2)), dt (DATETIME), flag (BOOLEAN), raw ((none))"
        )),
        "{lines:#?}"
    );
    let names = [
        "id", "i", "r", "dbl", "t", "vc", "bl", "n", "dec", "dt", "flag", "raw",
    ];
    let want = vec![
        vec![
            i(1),
            i(42),
            r(1.5),
            r(0.30000000000000004),
            t("héllo 🌍"),
            t("abc"),
            b(&[0, 255, 0]),
            t("12.5"),
            t("1.1"),
            t("2024-01-02 03:04:05"),
            t("1"),
            t("7"),
        ],
        vec![
            i(2),
            i(i64::MAX),
            r(f64::INFINITY),
            r(f64::NEG_INFINITY),
            t("it's"),
            t(""),
            b(&[]),
            t("abc"),
            t("0.25"),
            t("2024-01-02T03:04:05.123Z"),
            t("true"),
            t("text"),
        ],
        vec![i(3), N, N, N, N, N, N, N, N, N, N, N],
        vec![
            i(4),
            i(i64::MIN),
            // SQLite has no -0.0: it stored 0.0.
            r(0.0),
            r(5e-324),
            t(""),
            t(" "),
            b(&[0]),
            t(""),
            t("-1"),
            t("20240102"),
            t("0"),
            t("2.5"),
        ],
    ];
    // The source holds what the expectation says (SQLite's own conversions).
    let source = sqlite_cells(&path, "src", &names[..7], "id").await;
    let source_prefix: Vec<Vec<Cell>> = want.iter().map(|r| r[..7].to_vec()).collect();
    same_table(&source, &source_prefix, &names[..7], "the SQLite source");
    let got = sqlite_cells(
        &app.data_dir.path().join("warehouse.db"),
        "copy",
        &names,
        "id",
    )
    .await;
    same_table(&got, &want, &names, "SQLite → SQLite");
}

/// A REAL in a NUMERIC-affinity column is carried as text with every digit
/// of the stored double: SQLite's own `CAST(x AS TEXT)` prints 15
/// significant digits, which would land 0.30000000000000004 as "0.3".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_in_a_numeric_affinity_column_keeps_every_digit() {
    let app = crate::helpers::spawn_executing_with_files(Backend::Sqlite)
        .await
        .unwrap();
    let path = app.files_dir().join("reals.db");
    let db = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        "CREATE TABLE src (id INTEGER PRIMARY KEY, dec DECIMAL(12,2));
         INSERT INTO src VALUES (1, 0.30000000000000004), (2, 123456789.123456789);",
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let conn = app
        .connection("reals", "sqlite", serde_json::json!({"path": path}))
        .await;
    let sync = replace_sync(&app, &conn.id, "src", "reals").await;
    succeeded(&run_in_mode(&app, &sync.id, pb::RunMode::Incremental).await);
    let got = sqlite_cells(
        &app.data_dir.path().join("warehouse.db"),
        "reals",
        &["dec"],
        "id",
    )
    .await;
    // What SQLite stored: the REALs nearest each literal, printed
    // shortest-exact.
    let want = vec![
        vec![t("0.30000000000000004")],
        vec![t("123456789.12345679")],
    ];
    same_table(&got, &want, &["dec"], "REALs carried as text");
}

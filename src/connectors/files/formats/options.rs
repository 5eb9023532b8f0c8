//! A file set's `format` and `columns` options, parsed; and the format of
//! one file, resolved from its name where the options leave it to "auto".

use std::sync::Arc;

use arrow_schema::{DataType, Field, TimeUnit};
use serde_json::{Map, Value};

use super::{Compression, CsvOptions, Format, FormatKind, OptionViolation};
use crate::batch::{DECIMAL, JSON, with_extension};
use crate::connectors::ConnectorError;

/// The keys a `format` object may have.
const FORMAT_KEYS: [&str; 8] = [
    "type",
    "compression",
    "header",
    "delimiter",
    "quote",
    "escape",
    "null_marker",
    "encoding",
];
/// The keys that apply to CSV only.
const CSV_KEYS: [&str; 6] = [
    "header",
    "delimiter",
    "quote",
    "escape",
    "null_marker",
    "encoding",
];

/// The type names of the `columns` option.
pub const COLUMN_TYPES: [&str; 9] = [
    "string",
    "int64",
    "float64",
    "boolean",
    "date",
    "timestamp",
    "timestamptz",
    "decimal",
    "json",
];

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            header: true,
            delimiter: b',',
            quote: b'"',
            escape: None,
            null_marker: String::new(),
        }
    }
}

impl Format {
    /// Parses a file set's `format` object (absent or null: every default,
    /// type "auto"). A violation's field is the key below `format`; an
    /// empty field is the option itself.
    pub fn parse(config: &Value) -> Result<Format, Vec<OptionViolation>> {
        let empty = Map::new();
        let object = match config {
            Value::Null => &empty,
            Value::Object(object) => object,
            _ => return Err(vec![(String::new(), "must be an object".into())]),
        };
        let mut violations = Vec::new();
        let mut bad = |field: &str, why: String| violations.push((field.to_string(), why));

        for key in object.keys() {
            if !FORMAT_KEYS.contains(&key.as_str()) {
                bad(
                    key,
                    format!(
                        "is not an option of format; known: {}",
                        FORMAT_KEYS.join(", ")
                    ),
                );
            }
        }

        let kind_name = match object.get("type") {
            None | Some(Value::Null) => "auto",
            Some(Value::String(s)) if ["csv", "jsonl", "parquet", "auto"].contains(&s.as_str()) => {
                s.as_str()
            }
            Some(_) => {
                bad(
                    "type",
                    "must be one of csv, jsonl, parquet, auto (by each file's extension)".into(),
                );
                "auto"
            }
        };

        let compression = match object.get("compression") {
            None | Some(Value::Null) => Compression::ByExtension,
            Some(Value::String(s)) if s == "auto" => Compression::ByExtension,
            Some(Value::String(s)) if s == "gzip" => Compression::Gzip,
            Some(Value::String(s)) if s == "none" => Compression::None,
            Some(_) => {
                bad(
                    "compression",
                    "must be one of none, gzip, auto (gzip for names ending in .gz)".into(),
                );
                Compression::ByExtension
            }
        };
        if kind_name == "parquet" && compression == Compression::Gzip {
            bad(
                "compression",
                "Parquet files compress their pages themselves and cannot be read gzipped".into(),
            );
        }

        let mut csv = CsvOptions::default();
        if matches!(kind_name, "jsonl" | "parquet") {
            for key in CSV_KEYS {
                if object.get(key).is_some_and(|v| !v.is_null()) {
                    bad(key, format!("applies to csv only, not {kind_name}"));
                }
            }
        } else {
            parse_csv(object, &mut csv, &mut bad);
        }

        if !violations.is_empty() {
            return Err(violations);
        }
        let kind = match kind_name {
            "csv" => FormatKind::Csv(csv),
            "jsonl" => FormatKind::JsonLines,
            "parquet" => FormatKind::Parquet,
            _ => FormatKind::Auto(csv),
        };
        Ok(Format { kind, compression })
    }

    /// The format of the file at `path`: "auto" resolved by its extension
    /// (ignoring a trailing ".gz": .csv, .tsv (tab-delimited), .jsonl,
    /// .ndjson, .parquet), and compression resolved to None or Gzip.
    pub fn for_path(&self, path: &str) -> Result<Format, ConnectorError> {
        let lower = path.to_ascii_lowercase();
        let gz = lower.ends_with(".gz");
        let compression = match self.compression {
            Compression::ByExtension if gz => Compression::Gzip,
            Compression::ByExtension => Compression::None,
            other => other,
        };
        let kind = match &self.kind {
            FormatKind::Auto(csv) => {
                let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
                let extension = stem.rsplit_once('.').map_or("", |(_, e)| e);
                match extension {
                    "csv" => FormatKind::Csv(csv.clone()),
                    "tsv" => FormatKind::Csv(CsvOptions {
                        delimiter: b'\t',
                        ..csv.clone()
                    }),
                    "jsonl" | "ndjson" => FormatKind::JsonLines,
                    "parquet" => FormatKind::Parquet,
                    _ => {
                        return Err(ConnectorError::Config(format!(
                            "{path}: cannot tell the file's format from its name (known \
                             extensions: .csv, .tsv, .jsonl, .ndjson, .parquet, each optionally \
                             .gz); set format.type to csv, jsonl or parquet"
                        )));
                    }
                }
            }
            other => other.clone(),
        };
        if kind == FormatKind::Parquet && compression == Compression::Gzip {
            return Err(ConnectorError::Config(format!(
                "{path}: a gzipped Parquet file cannot be read (Parquet compresses its pages \
                 itself and needs random access)"
            )));
        }
        Ok(Format { kind, compression })
    }
}

fn parse_csv(
    object: &Map<String, Value>,
    csv: &mut CsvOptions,
    bad: &mut impl FnMut(&str, String),
) {
    match object.get("header") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => csv.header = *b,
        Some(_) => bad("header", "must be true or false".into()),
    }
    if let Some(c) = one_char(object, "delimiter", bad) {
        csv.delimiter = c;
    }
    if let Some(c) = one_char(object, "quote", bad) {
        csv.quote = c;
    }
    csv.escape = one_char(object, "escape", bad);
    match object.get("null_marker") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => csv.null_marker = s.clone(),
        Some(_) => bad("null_marker", "must be a string".into()),
    }
    match object.get("encoding") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if ["utf-8", "utf8"].contains(&s.to_ascii_lowercase().as_str()) => {}
        Some(_) => bad("encoding", "only utf-8 is supported".into()),
    }
    if csv.delimiter == csv.quote {
        bad("quote", "must differ from the delimiter".into());
    }
    if csv.escape == Some(csv.delimiter) {
        bad("escape", "must differ from the delimiter".into());
    }
}

/// One ASCII character (a tab may be written as "\t" or as the two
/// characters backslash and t); not a line break.
fn one_char(
    object: &Map<String, Value>,
    key: &str,
    bad: &mut impl FnMut(&str, String),
) -> Option<u8> {
    let value = object.get(key)?;
    let s = match value {
        Value::Null => return None,
        Value::String(s) => s.as_str(),
        _ => {
            bad(key, "must be one ASCII character".into());
            return None;
        }
    };
    let c = match s.as_bytes() {
        [b'\\', b't'] => b'\t',
        [c] if c.is_ascii() => *c,
        _ => {
            bad(key, format!("must be one ASCII character, not {s:?}"));
            return None;
        }
    };
    if c == b'\n' || c == b'\r' {
        bad(key, "may not be a line break".into());
        return None;
    }
    Some(c)
}

/// A file set's `columns` option: column name → type name, overriding the
/// inferred type (or adding the column). A violation's field is the
/// column's name.
pub fn parse_columns(config: &Value) -> Result<Vec<Field>, Vec<OptionViolation>> {
    let object = match config {
        Value::Null => return Ok(Vec::new()),
        Value::Object(object) => object,
        _ => {
            return Err(vec![(
                String::new(),
                "must be an object of column name to type name".into(),
            )]);
        }
    };
    let mut fields = Vec::with_capacity(object.len());
    let mut violations = Vec::new();
    for (name, value) in object {
        if name.is_empty() {
            violations.push((name.clone(), "a column needs a name".into()));
            continue;
        }
        match value.as_str().and_then(|t| column_field(name, t)) {
            Some(field) => fields.push(field),
            None => violations.push((
                name.clone(),
                format!("must be one of {}", COLUMN_TYPES.join(", ")),
            )),
        }
    }
    if violations.is_empty() {
        Ok(fields)
    } else {
        Err(violations)
    }
}

/// The field of a column of type `type_name` (one of `COLUMN_TYPES`).
pub(super) fn column_field(name: &str, type_name: &str) -> Option<Field> {
    let field = |t| Field::new(name, t, true);
    Some(match type_name {
        "string" => field(DataType::Utf8),
        "int64" => field(DataType::Int64),
        "float64" => field(DataType::Float64),
        "boolean" => field(DataType::Boolean),
        "date" => field(DataType::Date32),
        "timestamp" => field(DataType::Timestamp(TimeUnit::Microsecond, None)),
        "timestamptz" => field(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some(Arc::from("UTC")),
        )),
        "decimal" => with_extension(field(DataType::Utf8), DECIMAL),
        "json" => with_extension(field(DataType::Utf8), JSON),
        _ => return None,
    })
}

//! JSON Lines: a schema inferred from a sample of objects, and files
//! decoded with arrow-json's push decoder through our column decoders.

use std::fmt;
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use arrow_json::reader::Decoder;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::input::{CHUNK, Input, SAMPLE_BYTES, SAMPLE_ROWS};
use super::json_columns::Factory;
use super::{Compression, Decoded, DecodedStream, FileStore};
use crate::batch::{DECIMAL, JSON, with_extension};
use crate::connectors::ConnectorError;

/// Most rows skipped per pass when resuming (bounds the skipper's tape).
const SKIP_BATCH: u64 = 16 * 1024;

pub(super) async fn infer(
    store: &dyn FileStore,
    path: &str,
    compression: Compression,
) -> Result<Schema, ConnectorError> {
    let mut input = Input::open(store, path, compression).await?;
    let (sample, eof) = input.sample(SAMPLE_BYTES).await?;
    // Whole lines only: the sample may end inside one.
    let whole = if eof {
        &sample[..]
    } else {
        let end = sample
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        &sample[..end]
    };
    let text = std::str::from_utf8(whole).map_err(|e| {
        let row = count_rows(&whole[..e.valid_up_to()]) + 1;
        ConnectorError::Failed(format!("{path}: row {row} is not UTF-8 text"))
    })?;
    let mut columns: Vec<(String, Kind)> = Vec::new();
    let lines = text.lines().filter(|l| !l.trim().is_empty());
    for (i, line) in lines.take(SAMPLE_ROWS).enumerate() {
        let Row(keys) = serde_json::from_str(line).map_err(|e| {
            ConnectorError::Failed(format!("{path}: row {} is not a JSON object: {e}", i + 1))
        })?;
        for (key, kind) in keys {
            match columns.iter_mut().find(|(k, _)| *k == key) {
                Some((_, known)) => *known = known.join(kind),
                None => columns.push((key, kind)),
            }
        }
    }
    Ok(Schema::new(
        columns
            .into_iter()
            .map(|(name, kind)| kind.field(&name))
            .collect::<Vec<_>>(),
    ))
}

fn count_rows(bytes: &[u8]) -> usize {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .count()
}

/// What the values of a key seen so far have in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Boolean,
    Int,
    /// An integer beyond Int64: an exact decimal.
    BigInt,
    Float,
    Text,
    /// Objects and arrays (and anything mixed with them): JSON text.
    Json,
}

impl Kind {
    fn join(self, other: Kind) -> Kind {
        use Kind::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Null, k) | (k, Null) => k,
            (Json, _) | (_, Json) => Json,
            (Int, BigInt) | (BigInt, Int) => BigInt,
            (Int | BigInt, Float) | (Float, Int | BigInt) => Float,
            _ => Text,
        }
    }

    fn field(self, name: &str) -> Field {
        let field = |t| Field::new(name, t, true);
        match self {
            Kind::Null | Kind::Text => field(DataType::Utf8),
            Kind::Boolean => field(DataType::Boolean),
            Kind::Int => field(DataType::Int64),
            Kind::BigInt => with_extension(field(DataType::Utf8), DECIMAL),
            Kind::Float => field(DataType::Float64),
            Kind::Json => with_extension(field(DataType::Utf8), JSON),
        }
    }
}

/// A JSON object's keys in the order written, each with its value's kind
/// (serde_json's own map would sort them).
struct Row(Vec<(String, Kind)>);

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RowVisitor;
        impl<'de> Visitor<'de> for RowVisitor {
            type Value = Row;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let kind = map.next_value::<Kind>()?;
                    keys.push((key, kind));
                }
                Ok(Row(keys))
            }
        }
        deserializer.deserialize_map(RowVisitor)
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KindVisitor;
        impl<'de> Visitor<'de> for KindVisitor {
            type Value = Kind;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Kind, E> {
                Ok(Kind::Boolean)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Kind, E> {
                Ok(Kind::Int)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Kind, E> {
                Ok(if i64::try_from(v).is_ok() {
                    Kind::Int
                } else {
                    Kind::BigInt
                })
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Kind, E> {
                Ok(Kind::Float)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Kind, E> {
                Ok(Kind::Text)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
                Ok(Kind::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Kind, E> {
                Ok(Kind::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Kind::Json)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Kind::Json)
            }
        }
        deserializer.deserialize_any(KindVisitor)
    }
}

pub(super) async fn decode(
    store: Arc<dyn FileStore>,
    path: String,
    compression: Compression,
    schema: SchemaRef,
    batch_size: usize,
    skip_rows: u64,
) -> Result<DecodedStream, ConnectorError> {
    let mut input = Input::open(&*store, &path, compression).await?;
    let first_row = Arc::new(AtomicU64::new(skip_rows + 1));
    let factory = Factory {
        path: Arc::from(path.as_str()),
        first_row: first_row.clone(),
    };
    let mut decoder = arrow_json::ReaderBuilder::new(schema)
        .with_batch_size(batch_size)
        .with_decoder_factory(Arc::new(factory))
        .build_decoder()
        .map_err(|e| ConnectorError::Config(format!("{path}: {e}")))?;

    let stream = async_stream::try_stream! {
        let mut buf = vec![0u8; CHUNK];
        let (mut at, mut len, mut eof) = (0, 0, false);

        // Resuming: rows parsed (their tape only, no columns) and dropped.
        let mut to_skip = skip_rows;
        while to_skip > 0 && !(eof && at == len) {
            let size = to_skip.min(SKIP_BATCH) as usize;
            let mut skipper = skip_decoder(size, &path)?;
            loop {
                if at == len {
                    if eof {
                        break;
                    }
                    len = input.read(&mut buf).await?;
                    at = 0;
                    eof = len == 0;
                    continue;
                }
                at += skipper
                    .decode(&buf[at..len])
                    .map_err(|e| {
                        let begun = (skipper.len() as u64).max(1);
                        syntax(&path, skip_rows - to_skip + begun, e)
                    })?;
                if skipper.len() >= size && !skipper.has_partial_record() {
                    break;
                }
            }
            if skipper.has_partial_record() {
                Err(ConnectorError::Failed(format!("{path}: the last row is cut short")))?;
            }
            to_skip -= skipper.len() as u64;
        }

        let mut row = skip_rows + 1;
        loop {
            if at == len && !eof {
                len = input.read(&mut buf).await?;
                at = 0;
                eof = len == 0;
            }
            let mut used = 0;
            if at < len {
                used = decoder
                    .decode(&buf[at..len])
                    .map_err(|e| {
                        // The row in error is the last one begun.
                        let begun = (decoder.len() as u64).max(1);
                        syntax(&path, row + begun - 1, e)
                    })?;
                at += used;
            }
            let full = decoder.len() >= batch_size && !decoder.has_partial_record();
            let end = eof && at == len;
            if full || (end && !decoder.is_empty()) {
                if decoder.has_partial_record() {
                    Err(ConnectorError::Failed(format!(
                        "{path}: row {} is cut short at the end of the file",
                        row + decoder.len() as u64 - 1
                    )))?;
                }
                first_row.store(row, Ordering::Relaxed);
                if let Some(data) = decoder.flush().map_err(|e| values(&path, e))? {
                    let rows = data.num_rows() as u64;
                    yield Decoded { data, first_row: row, bytes: input.consumed_since() };
                    row += rows;
                }
            } else if end {
                break;
            } else if used == 0 && at < len {
                Err(ConnectorError::Failed(format!("{path}: the JSON decoder stalled")))?;
            }
        }
    };
    Ok(Box::pin(stream))
}

/// A decoder of rows into no columns: parses, builds nothing.
fn skip_decoder(size: usize, path: &str) -> Result<Decoder, ConnectorError> {
    arrow_json::ReaderBuilder::new(Arc::new(Schema::empty()))
        .with_batch_size(size)
        .build_decoder()
        .map_err(|e| ConnectorError::Failed(format!("{path}: {e}")))
}

/// Malformed JSON around row `row`.
fn syntax(path: &str, row: u64, e: ArrowError) -> ConnectorError {
    ConnectorError::Failed(format!("{path}: row {row} is not valid JSON: {e}"))
}

/// A value that does not fit its column (Config), or our decoders' own
/// verdict.
fn values(path: &str, e: ArrowError) -> ConnectorError {
    match e {
        ArrowError::ExternalError(inner) => match inner.downcast::<ConnectorError>() {
            Ok(e) => *e,
            Err(other) => ConnectorError::Failed(format!("{path}: {other}")),
        },
        other => ConnectorError::Config(format!("{path}: {other}")),
    }
}

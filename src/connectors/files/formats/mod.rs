//! File formats (CSV, JSON Lines, Parquet; `.gz` read transparently) into
//! Arrow batches: a file set's `format` and `columns` options, schema
//! inference from a sample or from Parquet metadata, and streaming decode
//! with bounded memory.
//!
//! A `Format` whose type is "auto" is resolved per file by its name
//! (`Format::for_path`); `infer` and `decode` do that themselves.
//!
//! Every column is nullable. Rows are numbered from 1: the first row after
//! a CSV header, the first non-empty line of JSON Lines, the first row of a
//! Parquet file. A file's column the file set's schema lacks is an error in
//! every format (Config, naming the file and the columns); a schema column
//! a file lacks is NULL. A value that does not fit its column's type is
//! Config (a `columns` override fixes it), malformed content is Failed.
//!
//! CSV inference (first 1000 rows or 1 MiB): integers Int64; numbers with
//! a fraction, or integers beyond Int64 (up to 38 digits), exact decimals
//! kept as their text (Utf8 with the DECIMAL extension: "12.50" stays
//! "12.50"); exponents Float64; true/false Boolean; YYYY-MM-DD Date32;
//! timestamps without a zone Timestamp(µs), with Z or an offset
//! Timestamp(µs, UTC); numbers with leading zeros ("007") and all else
//! text. An empty field is NULL in a typed column; in a text column it is
//! NULL with the default null marker "" (a quoted "" too: arrow-csv cannot
//! tell them apart) and '' with any other marker.
//!
//! JSON Lines inference: integers Int64 (beyond it, decimal text), floats
//! (or floats mixed with integers) Float64, strings and mixed scalars
//! text, objects and arrays (or anything mixed with them) compact JSON
//! text (the JSON extension), NULL-only text. A key the schema lacks is an
//! error unless its value is null.

mod csv;
mod csv_infer;
mod csv_records;
mod csv_values;
mod input;
mod json_columns;
mod json_lines;
mod merge;
mod options;
mod parquet;

#[cfg(test)]
mod csv_tests;
#[cfg(test)]
mod json_lines_tests;
#[cfg(test)]
mod options_tests;
#[cfg(test)]
mod parquet_tests;
#[cfg(test)]
mod test_store;

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};

use super::{Entry, FileStore};
use crate::connectors::ConnectorError;

pub use merge::merge;
pub use options::{COLUMN_TYPES, parse_columns};

/// A file set's `format` option, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Format {
    pub kind: FormatKind,
    pub compression: Compression,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FormatKind {
    Csv(CsvOptions),
    JsonLines,
    Parquet,
    /// Each file's by its extension (see `Format::for_path`); the options
    /// are for the CSV files among them.
    Auto(CsvOptions),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CsvOptions {
    /// The first row names the columns (default true); without one,
    /// columns are named column_1, column_2, …
    pub header: bool,
    pub delimiter: u8,
    pub quote: u8,
    pub escape: Option<u8>,
    /// A field equal to this is NULL (default "": an empty field).
    pub null_marker: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    /// Gzip for names ending in ".gz", none otherwise (the default).
    ByExtension,
}

/// A violation of an option: the field's path below the option (e.g.
/// "delimiter", "amount") and why.
pub type OptionViolation = (String, String);

/// The schema of one file: inferred from a sample of its first rows (CSV,
/// JSON Lines) or read from its metadata (Parquet).
pub async fn infer(
    store: &dyn FileStore,
    entry: &Entry,
    format: &Format,
) -> Result<Schema, ConnectorError> {
    let format = format.for_path(&entry.path)?;
    match &format.kind {
        FormatKind::Csv(options) => {
            csv::infer(store, &entry.path, options, format.compression).await
        }
        FormatKind::JsonLines => json_lines::infer(store, &entry.path, format.compression).await,
        FormatKind::Parquet => parquet::infer(store, entry).await,
        FormatKind::Auto(_) => Err(unresolved(&entry.path)),
    }
}

/// Rows of one file decoded into `schema`.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub data: RecordBatch,
    /// 1-based number of the batch's first row in the file.
    pub first_row: u64,
    /// Bytes of the file consumed for this batch (before decompression).
    pub bytes: u64,
}

pub type DecodedStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<Decoded, ConnectorError>> + Send>>;

/// Decodes `entry` into batches of at most `batch_size` rows of `schema`
/// (columns matched by name), skipping its first `skip_rows` rows.
pub async fn decode(
    store: Arc<dyn FileStore>,
    entry: Entry,
    format: Format,
    schema: SchemaRef,
    batch_size: usize,
    skip_rows: u64,
) -> Result<DecodedStream, ConnectorError> {
    let format = format.for_path(&entry.path)?;
    let batch_size = batch_size.max(1);
    match format.kind {
        FormatKind::Csv(options) => {
            csv::decode(
                store,
                entry.path,
                options,
                format.compression,
                schema,
                batch_size,
                skip_rows,
            )
            .await
        }
        FormatKind::JsonLines => {
            json_lines::decode(
                store,
                entry.path,
                format.compression,
                schema,
                batch_size,
                skip_rows,
            )
            .await
        }
        FormatKind::Parquet => parquet::decode(store, entry, schema, batch_size, skip_rows).await,
        FormatKind::Auto(_) => Err(unresolved(&entry.path)),
    }
}

/// `Format::for_path` never leaves "auto"; this is its error if it did.
fn unresolved(path: &str) -> ConnectorError {
    ConnectorError::Config(format!("{path}: the file's format could not be resolved"))
}

//! CSV: a schema inferred from a sample, and files decoded with
//! arrow-csv's push decoder, each with its own header matched to the file
//! set's schema by name.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, new_null_array};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::csv_infer::Kind;
use super::csv_records::split;
use super::csv_values::{empty_as_null, relabel, text_to_typed, validate_decimals};
use super::input::{CHUNK, Input, SAMPLE_BYTES, SAMPLE_ROWS};
use super::{Compression, CsvOptions, Decoded, DecodedStream, FileStore};
use crate::batch::{DECIMAL, extension};
use crate::connectors::ConnectorError;

/// Longest header row read (a file whose first record is longer is not
/// CSV worth reading).
const MAX_HEADER_BYTES: usize = 16 * 1024 * 1024;

pub(super) async fn infer(
    store: &dyn FileStore,
    path: &str,
    options: &CsvOptions,
    compression: Compression,
) -> Result<Schema, ConnectorError> {
    let mut input = Input::open(store, path, compression).await?;
    let (sample, eof) = input.sample(SAMPLE_BYTES).await?;
    let header = usize::from(options.header);
    let split = split(options, &sample, eof, SAMPLE_ROWS + header);
    if let Some(record) = split.not_utf8 {
        return Err(not_utf8(path, record, options.header));
    }
    let mut rows = split.rows.into_iter();
    let names = match (options.header, rows.next()) {
        (true, Some(first)) => column_names(path, first)?,
        (true, None) if !eof => {
            return Err(ConnectorError::Failed(format!(
                "{path}: the header row is longer than {SAMPLE_BYTES} bytes"
            )));
        }
        (true, None) => return Ok(Schema::empty()),
        (false, first) => {
            let width = first.as_ref().map_or(0, Vec::len);
            let names = (1..=width).map(|i| format!("column_{i}")).collect();
            rows = first
                .into_iter()
                .chain(rows)
                .collect::<Vec<_>>()
                .into_iter();
            names
        }
    };
    let mut kinds = vec![Kind::Nothing; names.len()];
    for (i, row) in rows.enumerate() {
        if row.len() != names.len() {
            return Err(ConnectorError::Failed(format!(
                "{path}: row {} has {} fields, not {} like the {}",
                i + 1,
                row.len(),
                names.len(),
                if options.header {
                    "header"
                } else {
                    "first row"
                }
            )));
        }
        for (kind, value) in kinds.iter_mut().zip(&row) {
            // NULLs, and empty fields (NULL in any typed column), say nothing.
            if value.is_empty() || *value == options.null_marker {
                continue;
            }
            *kind = kind.join(Kind::of(value));
        }
    }
    Ok(Schema::new(
        names
            .iter()
            .zip(kinds)
            .map(|(name, kind)| kind.field(name))
            .collect::<Vec<_>>(),
    ))
}

/// A header's names: an empty one is column_N (its 1-based position), a
/// name twice is an error.
fn column_names(path: &str, header: Vec<String>) -> Result<Vec<String>, ConnectorError> {
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    for (i, name) in header.into_iter().enumerate() {
        let name = if name.is_empty() {
            format!("column_{}", i + 1)
        } else {
            name
        };
        if names.contains(&name) {
            return Err(ConnectorError::Config(format!(
                "{path}: the header names column {name:?} twice"
            )));
        }
        names.push(name);
    }
    Ok(names)
}

fn not_utf8(path: &str, record: usize, header: bool) -> ConnectorError {
    let what = match (header, record) {
        (true, 1) => "the header".to_string(),
        (true, n) => format!("row {}", n - 1),
        (false, n) => format!("row {n}"),
    };
    ConnectorError::Failed(format!(
        "{path}: {what} is not UTF-8 text (the only encoding read)"
    ))
}

/// How one file's columns become the file set's: the file's column
/// decoded at each schema position, if it has one.
struct Layout {
    path: String,
    /// The file's column names, in its order.
    names: Vec<String>,
    /// Per schema field: the file's column index.
    sources: Vec<Option<usize>>,
    schema: SchemaRef,
}

pub(super) async fn decode(
    store: Arc<dyn FileStore>,
    path: String,
    options: CsvOptions,
    compression: Compression,
    schema: SchemaRef,
    batch_size: usize,
    skip_rows: u64,
) -> Result<DecodedStream, ConnectorError> {
    let mut input = Input::open(&*store, &path, compression).await?;
    let mut buf = vec![0u8; CHUNK];

    // The first record: the header, or the first row that says how many
    // columns a file without one has.
    let mut pending = Vec::new();
    let mut eof = false;
    let first = loop {
        let first = split(&options, &pending, eof, 1);
        if !first.rows.is_empty() || first.not_utf8.is_some() || eof {
            break first;
        }
        if pending.len() > MAX_HEADER_BYTES {
            return Err(ConnectorError::Failed(format!(
                "{path}: the first row is longer than {MAX_HEADER_BYTES} bytes"
            )));
        }
        let n = input.read(&mut buf).await?;
        eof = n == 0;
        pending.extend_from_slice(&buf[..n]);
    };
    if let Some(record) = first.not_utf8 {
        return Err(not_utf8(&path, record, options.header));
    }
    let Some(first_record) = first.rows.into_iter().next() else {
        // An empty file.
        return Ok(Box::pin(futures::stream::empty()));
    };
    let names = if options.header {
        pending.drain(..first.consumed);
        column_names(&path, first_record)?
    } else {
        (1..=first_record.len())
            .map(|i| format!("column_{i}"))
            .collect()
    };

    let layout = layout(&path, names, schema)?;
    let mut decoder = decoder(&layout, &options, batch_size, skip_rows)?;

    let stream = async_stream::try_stream! {
        let mut first_row = skip_rows + 1;
        let mut full = Vec::new();
        let mut data = pending;
        loop {
            feed(&mut decoder, &data, eof, &mut full).map_err(|e| layout.error(e))?;
            for batch in full.drain(..) {
                let rows = batch.num_rows() as u64;
                let out = layout.finish(batch, first_row)?;
                yield Decoded { data: out, first_row, bytes: input.consumed_since() };
                first_row += rows;
            }
            if eof {
                break;
            }
            data.resize(CHUNK, 0);
            let n = input.read(&mut data).await?;
            data.truncate(n);
            eof = n == 0;
        }
    };
    Ok(Box::pin(stream))
}

fn layout(path: &str, names: Vec<String>, schema: SchemaRef) -> Result<Layout, ConnectorError> {
    let extra: Vec<&str> = names
        .iter()
        .filter(|n| schema.index_of(n).is_err())
        .map(String::as_str)
        .collect();
    if !extra.is_empty() {
        return Err(ConnectorError::Config(format!(
            "{path}: the file has column(s) {} that the file set's schema lacks; add them to \
             `columns` or read the file in a file set of its own",
            extra.join(", ")
        )));
    }
    let sources = schema
        .fields()
        .iter()
        .map(|f| names.iter().position(|n| n == f.name()))
        .collect();
    Ok(Layout {
        path: path.to_string(),
        names,
        sources,
        schema,
    })
}

/// arrow-csv's decoder for one file: its columns in its order, each of the
/// schema's type, or text where the null marker is not "" (arrow-csv
/// applies one NULL pattern to every column, so an empty field in a typed
/// column would fail to parse there) or where the field is text of an
/// extension. Time zones are labelled afterwards (parsing "UTC" would need
/// arrow's chrono-tz feature).
fn decoder(
    layout: &Layout,
    options: &CsvOptions,
    batch_size: usize,
    skip_rows: u64,
) -> Result<arrow_csv::reader::Decoder, ConnectorError> {
    let marker = !options.null_marker.is_empty();
    let fields: Vec<Field> = layout
        .names
        .iter()
        .map(|name| {
            let target = layout
                .schema
                .field_with_name(name)
                .map(|f| f.data_type().clone())
                .unwrap_or(DataType::Utf8);
            let data_type = match target {
                DataType::Utf8 => DataType::Utf8,
                _ if marker => DataType::Utf8,
                DataType::Timestamp(unit, Some(_)) => DataType::Timestamp(unit, None),
                other => other,
            };
            Field::new(name, data_type, true)
        })
        .collect();
    let mut builder = arrow_csv::ReaderBuilder::new(Arc::new(Schema::new(fields)))
        .with_header(false)
        .with_delimiter(options.delimiter)
        .with_quote(options.quote)
        .with_batch_size(batch_size.max(1))
        .with_bounds(usize::try_from(skip_rows).unwrap_or(usize::MAX), usize::MAX);
    if let Some(escape) = options.escape {
        builder = builder.with_escape(escape);
    }
    if marker {
        let pattern = format!("^{}$", regex::escape(&options.null_marker));
        let regex = regex::Regex::new(&pattern)
            .map_err(|e| ConnectorError::Config(format!("null_marker: {e}")))?;
        builder = builder.with_null_regex(regex);
    }
    Ok(builder.build_decoder())
}

/// Decodes all of `data` (at the end of the file when `eof`), pushing each
/// full batch, and at the end the last one.
fn feed(
    decoder: &mut arrow_csv::reader::Decoder,
    mut data: &[u8],
    eof: bool,
    full: &mut Vec<RecordBatch>,
) -> Result<(), ArrowError> {
    loop {
        // An empty buffer tells the decoder the file ended.
        if data.is_empty() && !eof {
            return Ok(());
        }
        let used = decoder.decode(data)?;
        data = &data[used..];
        if decoder.capacity() == 0 {
            full.extend(decoder.flush()?);
            continue;
        }
        if data.is_empty() && eof {
            full.extend(decoder.flush()?);
            return Ok(());
        }
        if used == 0 {
            return Ok(());
        }
    }
}

impl Layout {
    /// A decoded batch as the file set's schema: columns in its order,
    /// NULL where the file has none, text parsed where the null marker
    /// made the decoder read it as text, time zones labelled.
    fn finish(&self, batch: RecordBatch, first_row: u64) -> Result<RecordBatch, ConnectorError> {
        let rows = batch.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.sources.len());
        for (field, source) in self.schema.fields().iter().zip(&self.sources) {
            let Some(index) = source else {
                columns.push(new_null_array(field.data_type(), rows));
                continue;
            };
            let column = batch.column(*index);
            let bad = |row: usize, why: String| {
                ConnectorError::Config(format!(
                    "{}: row {}, column {}: {why}",
                    self.path,
                    first_row + row as u64,
                    field.name()
                ))
            };
            let column = if extension(field).is_some() && column.data_type() == &DataType::Utf8 {
                // A decimal or JSON document is typed: an empty field is
                // NULL there whatever the null marker.
                empty_as_null(column)
            } else if column.data_type() == field.data_type() {
                column.clone()
            } else if column.data_type() == &DataType::Utf8 {
                text_to_typed(column.as_ref(), field.data_type())
                    .map_err(|(row, why)| bad(row, why))?
            } else {
                relabel(column, field.data_type()).map_err(|e| bad(0, e.to_string()))?
            };
            if extension(field) == Some(DECIMAL) {
                validate_decimals(column.as_ref()).map_err(|(row, why)| bad(row, why))?;
            }
            columns.push(column);
        }
        RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(|e| ConnectorError::Failed(format!("{}: {e}", self.path)))
    }

    /// arrow-csv's error with the file's path, its row numbers (from 1 for
    /// the first row after the header) and column names.
    fn error(&self, e: ArrowError) -> ConnectorError {
        match e {
            // A value that does not parse as its column's type: the column
            // type is the configuration to change.
            ArrowError::ParseError(message) => {
                ConnectorError::Config(format!("{}: {}", self.path, self.locate(&message, 1)))
            }
            ArrowError::CsvError(message) => {
                ConnectorError::Failed(format!("{}: {}", self.path, self.locate(&message, 0)))
            }
            other => ConnectorError::Failed(format!("{}: {other}", self.path)),
        }
    }

    /// `message` with arrow-csv's "line N" as our row number (arrow-csv
    /// counts from 0 when parsing values, from 1 when splitting records)
    /// and its column indexes as names.
    fn locate(&self, message: &str, base: u64) -> String {
        // The whole row arrow-csv appends may be long; row and column say
        // where to look.
        let message = message.split(". Row data:").next().unwrap_or(message);
        let mut out = String::with_capacity(message.len());
        let mut rest = message;
        while let Some(at) = rest.find(|c: char| c.is_ascii_digit()) {
            let before = &rest[..at];
            let end = rest[at..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(rest.len(), |e| at + e);
            let number: u64 = rest[at..end].parse().unwrap_or(0);
            if let Some(lead) = before.strip_suffix("line ") {
                out.push_str(lead);
                out.push_str(&format!("row {}", number + base));
            } else if before.ends_with("for column ") || before.ends_with("parsing column ") {
                let name = usize::try_from(number)
                    .ok()
                    .and_then(|i| self.names.get(i))
                    .map_or_else(|| number.to_string(), |n| format!("{n:?}"));
                out.push_str(before);
                out.push_str(&name);
            } else {
                out.push_str(&rest[..end]);
            }
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }
}

//! Parquet: the schema from a file's metadata, and its record batches
//! streamed through parquet's async reader over the store's byte ranges
//! (the footer, then each row group's column chunks).

use std::ops::Range;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow_schema::{Field, Schema, SchemaRef};
use bytes::Bytes;
use futures::{FutureExt, StreamExt, future::BoxFuture};
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use super::{Decoded, DecodedStream, Entry, FileStore};
use crate::batch::EXTENSION;
use crate::connectors::ConnectorError;

/// Bytes read from the end of a file at first: the footer and usually all
/// the metadata in one request.
const FOOTER_HINT: usize = 64 * 1024;

/// A store, borrowed (inference) or shared (a decode stream outlives its
/// caller).
trait Store: Send + Sync {
    fn store(&self) -> &dyn FileStore;
}

impl Store for Arc<dyn FileStore> {
    fn store(&self) -> &dyn FileStore {
        self.as_ref()
    }
}

impl Store for &dyn FileStore {
    fn store(&self) -> &dyn FileStore {
        *self
    }
}

/// A Parquet file as parquet's async reader reads it: ranges of a file.
struct StoreReader<S> {
    store: S,
    path: String,
    size: u64,
}

impl<S: Store> AsyncFileReader for StoreReader<S> {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.store
                .store()
                .read_range(&self.path, range)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_prefetch_hint(Some(FOOTER_HINT))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// parquet's error with the file's path; the store's own error as it was.
fn error(path: &str, e: ParquetError) -> ConnectorError {
    if let ParquetError::External(inner) = e {
        return match inner.downcast::<ConnectorError>() {
            Ok(store_error) => *store_error,
            Err(other) => ConnectorError::Failed(format!("{path}: {other}")),
        };
    }
    ConnectorError::Failed(format!("{path}: not a readable Parquet file: {e}"))
}

pub(super) async fn infer(store: &dyn FileStore, entry: &Entry) -> Result<Schema, ConnectorError> {
    let mut reader = StoreReader {
        store,
        path: entry.path.clone(),
        size: entry.size,
    };
    let metadata = ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
        .await
        .map_err(|e| error(&entry.path, e))?;
    // Field metadata of Parquet's own (field ids) is no concern of a
    // table; an extension type is.
    let fields: Vec<Field> = metadata
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let keep: std::collections::HashMap<String, String> = f
                .metadata()
                .iter()
                .filter(|(k, _)| *k == EXTENSION)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            f.as_ref().clone().with_metadata(keep).with_nullable(true)
        })
        .collect();
    Ok(Schema::new(fields))
}

pub(super) async fn decode(
    store: Arc<dyn FileStore>,
    entry: Entry,
    schema: SchemaRef,
    batch_size: usize,
    skip_rows: u64,
) -> Result<DecodedStream, ConnectorError> {
    let path = entry.path.clone();
    let reader = StoreReader {
        store,
        path: path.clone(),
        size: entry.size,
    };
    let builder = ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(|e| error(&path, e))?;

    let file_schema = builder.schema().clone();
    let extra: Vec<&str> = file_schema
        .fields()
        .iter()
        .filter(|f| schema.index_of(f.name()).is_err())
        .map(|f| f.name().as_str())
        .collect();
    if !extra.is_empty() {
        return Err(ConnectorError::Config(format!(
            "{path}: the file has column(s) {} that the file set's schema lacks; add them to \
             `columns` or read the file in a file set of its own",
            extra.join(", ")
        )));
    }

    // Resuming: whole row groups skipped unread, then rows of the next.
    let metadata = builder.metadata().clone();
    let total_rows = u64::try_from(metadata.file_metadata().num_rows()).unwrap_or(0);
    let mut offset = skip_rows;
    let mut groups = Vec::new();
    for (i, group) in metadata.row_groups().iter().enumerate() {
        let rows = u64::try_from(group.num_rows()).unwrap_or(0);
        if groups.is_empty() && offset >= rows {
            offset -= rows;
        } else {
            groups.push(i);
        }
    }
    let stream = builder
        .with_row_groups(groups)
        .with_offset(usize::try_from(offset).unwrap_or(usize::MAX))
        .with_batch_size(batch_size)
        .build()
        .map_err(|e| error(&path, e))?;

    let mut row = skip_rows + 1;
    let stream = stream.map(move |batch| {
        let batch = batch.map_err(|e| error(&path, e))?;
        let rows = batch.num_rows() as u64;
        let data = to_schema(&path, &batch, &schema)?;
        // Bytes are the file's share for these rows (Parquet reads by
        // column chunk, not by row), from cumulative shares so they add up.
        let share = |rows: u64| {
            if total_rows == 0 {
                0
            } else {
                u64::try_from(u128::from(entry.size) * u128::from(rows) / u128::from(total_rows))
                    .unwrap_or(entry.size)
            }
        };
        let bytes = share(row - 1 + rows) - share(row - 1);
        let decoded = Decoded {
            data,
            first_row: row,
            bytes,
        };
        row += rows;
        Ok(decoded)
    });
    Ok(Box::pin(stream))
}

/// A file's batch as the file set's schema: columns by name, NULL where
/// the file has none, cast where the set's type is wider.
fn to_schema(
    path: &str,
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, ConnectorError> {
    let rows = batch.num_rows();
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            let Some(column) = batch.column_by_name(field.name()) else {
                return Ok(new_null_array(field.data_type(), rows));
            };
            if column.data_type() == field.data_type() {
                return Ok(column.clone());
            }
            arrow_cast::cast(column, field.data_type()).map_err(|e| {
                ConnectorError::Config(format!(
                    "{path}: column {} ({}) cannot be read as {}: {e}",
                    field.name(),
                    column.data_type(),
                    field.data_type()
                ))
            })
        })
        .collect::<Result<Vec<ArrayRef>, _>>()?;
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(|e| ConnectorError::Failed(format!("{path}: {e}")))
}

//! The one source of every file store: verification through the store,
//! and each file set (an entity) read file after file in (modified, path)
//! order, every row carrying its file, row number and the file's time.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use futures::StreamExt;
use serde_json::{Map, Value};

use super::{
    Entry, FileStore,
    file_set::{self, FileSet},
    formats,
    position::{Position, Resume},
};
use crate::connectors::{Batch, BatchStream, ConnectorError, ReadRequest, Source};

/// Columns every row of a file set carries.
pub const FILE_COLUMN: &str = "_tributary_file";
pub const ROW_COLUMN: &str = "_tributary_row";
pub const MODIFIED_COLUMN: &str = "_tributary_modified";
/// Files whose schemas are inferred: the first and the last few in reading
/// order (an incremental run's new files are the last).
const SAMPLED_FILES: usize = 8;

pub struct FileSource {
    store: Arc<dyn FileStore>,
    sets: BTreeMap<String, FileSet>,
    /// Each entity's files and schema, listed and inferred once per run
    /// (the engine asks for the schema, then reads, maybe more than once).
    listings: Mutex<HashMap<String, Arc<Listing>>>,
}

/// A file set as a run sees it.
struct Listing {
    /// In reading order.
    files: Vec<Entry>,
    /// The data columns.
    data: SchemaRef,
    /// The data columns and the three every row carries.
    schema: SchemaRef,
}

impl FileSource {
    pub fn new(store: Arc<dyn FileStore>) -> Self {
        Self {
            store,
            sets: BTreeMap::new(),
            listings: Mutex::new(HashMap::new()),
        }
    }

    fn set(&self, entity: &str) -> Result<&FileSet, ConnectorError> {
        self.sets.get(entity).ok_or_else(|| {
            ConnectorError::Config(format!(
                "{entity} has no file set: describe it in the sync's source_config.{}.{entity}",
                file_set::KEY
            ))
        })
    }

    /// The set's files and schema: listed and inferred on first use.
    async fn listing(&self, entity: &str) -> Result<Arc<Listing>, ConnectorError> {
        if let Some(l) = self
            .listings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(entity)
        {
            return Ok(l.clone());
        }
        let set = self.set(entity)?;
        let files = set.files(self.store.as_ref()).await?;
        let sample: Vec<&Entry> = if files.len() <= 2 * SAMPLED_FILES {
            files.iter().collect()
        } else {
            files[..SAMPLED_FILES]
                .iter()
                .chain(&files[files.len() - SAMPLED_FILES..])
                .collect()
        };
        let mut schemas = Vec::with_capacity(sample.len());
        for f in sample {
            schemas.push(formats::infer(self.store.as_ref(), f, &set.format).await?);
        }
        let data = if schemas.is_empty() && set.columns.is_empty() {
            Schema::empty()
        } else {
            formats::merge(&schemas, &set.columns)?
        };
        if let Some(f) = data
            .fields()
            .iter()
            .find(|f| f.name().starts_with("_tributary_"))
        {
            return Err(ConnectorError::Config(format!(
                "the files have a column {}: names starting with _tributary_ are the columns Tributary adds",
                f.name()
            )));
        }
        let listing = Arc::new(Listing {
            files,
            schema: Arc::new(with_row_columns(&data)),
            data: Arc::new(data),
        });
        self.listings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(entity.to_string(), listing.clone());
        Ok(listing)
    }
}

/// `data`'s columns followed by the three every row carries.
fn with_row_columns(data: &Schema) -> Schema {
    let mut fields: Vec<Arc<Field>> = data.fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new(FILE_COLUMN, DataType::Utf8, false)));
    fields.push(Arc::new(Field::new(ROW_COLUMN, DataType::Int64, false)));
    fields.push(Arc::new(Field::new(
        MODIFIED_COLUMN,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        true,
    )));
    Schema::new(fields)
}

#[async_trait::async_trait]
impl Source for FileSource {
    async fn check(&self) -> Result<(), ConnectorError> {
        self.store.check().await
    }

    fn files(&self) -> Option<Arc<dyn FileStore>> {
        Some(self.store.clone())
    }

    fn configure(&mut self, source_config: &Map<String, Value>) -> Result<(), ConnectorError> {
        self.sets = file_set::parse_all(source_config).map_err(|vs| {
            let (field, why) = &vs[0];
            ConnectorError::Config(format!("source_config.{field} {why}"))
        })?;
        Ok(())
    }

    async fn entity_schema(&self, entity_key: &str) -> Result<SchemaRef, ConnectorError> {
        Ok(self.listing(entity_key).await?.schema.clone())
    }

    async fn read(&self, req: ReadRequest) -> Result<BatchStream, ConnectorError> {
        if req.lookback.is_some() {
            return Err(ConnectorError::Config(
                "lookback does not apply to file sets: a file rewritten in place is read again by its new modified time".into(),
            ));
        }
        let format = self.set(&req.entity_key)?.format.clone();
        let after = req.after.as_deref().map(Position::parse).transpose()?;
        let listing = self.listing(&req.entity_key).await?;
        let store = self.store.clone();
        let batch_size = req.batch_size.max(1);
        Ok(Box::pin(async_stream::try_stream! {
            for f in &listing.files {
                let skip = match &after {
                    Some(p) => match p.resume(f.modified_micros, &f.path)? {
                        Resume::Skip => continue,
                        Resume::From(n) => n,
                    },
                    None => 0,
                };
                let mut decoded = formats::decode(
                    store.clone(), f.clone(), format.clone(), listing.data.clone(), batch_size, skip,
                ).await?;
                // One batch held back: the file's last carries a position
                // that marks the whole file done.
                let mut held: Option<formats::Decoded> = None;
                while let Some(d) = decoded.next().await {
                    let d = d?;
                    if let Some(prev) = held.replace(d) {
                        yield batch_of(&listing.schema, f, prev, false)?;
                    }
                }
                if let Some(last) = held {
                    yield batch_of(&listing.schema, f, last, true)?;
                }
            }
        }))
    }
}

/// A decoded batch with the row columns added and its position.
fn batch_of(
    schema: &SchemaRef,
    file: &Entry,
    d: formats::Decoded,
    last: bool,
) -> Result<Batch, ConnectorError> {
    let n = d.data.num_rows();
    let mut columns: Vec<ArrayRef> = d.data.columns().to_vec();
    columns.push(Arc::new(StringArray::from_iter_values(
        std::iter::repeat_n(file.path.as_str(), n),
    )));
    let first = i64::try_from(d.first_row).unwrap_or(i64::MAX);
    columns.push(Arc::new(Int64Array::from_iter_values(
        first..first + n as i64,
    )));
    columns.push(Arc::new(
        TimestampMicrosecondArray::from(vec![file.modified_micros; n]).with_timezone("UTC"),
    ));
    let data = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| ConnectorError::Failed(format!("{}: {e}", file.path)))?;
    let rows_done = d.first_row.saturating_sub(1) + n as u64;
    Ok(Batch {
        data,
        cursor: Some(
            Position::new(
                file.modified_micros,
                &file.path,
                (!last).then_some(rows_done),
            )
            .text(),
        ),
        bytes: d.bytes,
    })
}

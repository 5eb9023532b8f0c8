//! A table read through binary COPY into Arrow record batches:
//! `COPY (SELECT …) TO STDOUT (FORMAT binary)`, decoded as it streams, a
//! batch emitted every `batch_size` rows, so memory holds one batch and one
//! chunk whatever the table's size.

use std::{pin::Pin, sync::Arc};

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use futures::{Stream, StreamExt};
use tokio_postgres::Client;

use super::{
    copy_format::{CopyParser, Step},
    decode::{ColumnBuilder, ValueError},
    error::PgReadError,
    quote::{quote_ident, quote_table},
    types::{ColumnRead, PgColumn, arrow_field, column_read},
};

/// Record batches of a read, in the order of the SELECT.
pub type ArrowBatchStream = Pin<Box<dyn Stream<Item = Result<RecordBatch, PgReadError>> + Send>>;

/// How a table's columns are selected and what batches they make.
#[derive(Debug, Clone)]
pub struct ReadPlan {
    pub schema: SchemaRef,
    /// Columns whose type has no Arrow mapping and which are read as their
    /// PostgreSQL text form (for the run log).
    pub carried_as_text: Vec<String>,
    columns: Vec<(String, ColumnRead)>,
}

/// Which rows, in which order: SQL the caller builds (values quoted with
/// `quote_literal`, names with `quote_ident`), without the keywords.
#[derive(Debug, Clone, Default)]
pub struct RowSelection {
    /// A condition, e.g. `"updated_at" > '2024-01-01'`.
    pub where_clause: Option<String>,
    /// A list of sort keys, e.g. `"updated_at", "id"`.
    pub order_by: Option<String>,
}

/// A started read: its schema, the columns carried as text, its batches.
pub struct CopyOut {
    pub schema: SchemaRef,
    pub carried_as_text: Vec<String>,
    pub batches: ArrowBatchStream,
}

/// The schema and select list of a read of `columns`.
pub fn plan(columns: &[PgColumn]) -> ReadPlan {
    let mut fields = Vec::with_capacity(columns.len());
    let mut planned = Vec::with_capacity(columns.len());
    let mut carried_as_text = Vec::new();
    for c in columns {
        let read = column_read(&c.ty, c.typmod, c.dims);
        fields.push(arrow_field(c, &read));
        if read.carried_as_text {
            carried_as_text.push(c.name.clone());
        }
        planned.push((c.name.clone(), read));
    }
    ReadPlan {
        schema: Arc::new(Schema::new(fields)),
        carried_as_text,
        columns: planned,
    }
}

/// The COPY statement of a read of `schema.table`.
pub fn copy_statement(
    schema: &str,
    table: &str,
    plan: &ReadPlan,
    selection: &RowSelection,
) -> String {
    let list = plan
        .columns
        .iter()
        .map(|(name, read)| match read.cast {
            Some(cast) => format!("{}::{cast}", quote_ident(name)),
            None => quote_ident(name),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut select = format!("SELECT {list} FROM {}", quote_table(schema, table));
    if let Some(w) = &selection.where_clause {
        select.push_str(&format!(" WHERE {w}"));
    }
    if let Some(o) = &selection.order_by {
        select.push_str(&format!(" ORDER BY {o}"));
    }
    format!("COPY ({select}) TO STDOUT (FORMAT binary)")
}

/// Reads `schema.table`'s `columns` (see `discover::table_columns`) as
/// record batches of `batch_size` rows (the last may be shorter; no rows,
/// no batch). A value the column's Arrow type cannot hold (NaN in a
/// decimal, a 2-D array in a list column) is a Config error naming the
/// column; malformed data is Failed. The
/// stream needs nothing borrowed: the client may be dropped meanwhile, its
/// connection lives until the COPY ends.
pub async fn copy_out(
    client: &Client,
    schema: &str,
    table: &str,
    columns: &[PgColumn],
    selection: &RowSelection,
    batch_size: usize,
) -> Result<CopyOut, PgReadError> {
    let plan = plan(columns);
    let mut decoder = BatchDecoder::new(&plan, batch_size)?;
    let statement = copy_statement(schema, table, &plan, selection);
    let copy = client
        .copy_out(statement.as_str())
        .await
        .map_err(|e| PgReadError::driver(&format!("cannot read {schema}.{table}"), &e))?;
    let what = format!("reading {schema}.{table} failed");
    let batches = async_stream::try_stream! {
        let mut copy = std::pin::pin!(copy);
        while let Some(chunk) = copy.next().await {
            let chunk = chunk.map_err(|e| PgReadError::driver(&what, &e))?;
            decoder.push(&chunk);
            while let Some(batch) = decoder.next_batch()? {
                yield batch;
            }
        }
        if let Some(batch) = decoder.finish()? {
            yield batch;
        }
    };
    Ok(CopyOut {
        schema: plan.schema.clone(),
        carried_as_text: plan.carried_as_text,
        batches: Box::pin(batches),
    })
}

/// Binary COPY data in, record batches out; independent of where the
/// chunks come from and how they are cut.
pub(super) struct BatchDecoder {
    schema: SchemaRef,
    names: Vec<String>,
    builders: Vec<ColumnBuilder>,
    parser: CopyParser,
    rows: usize,
    batch_size: usize,
}

impl BatchDecoder {
    pub(super) fn new(plan: &ReadPlan, batch_size: usize) -> Result<Self, PgReadError> {
        let batch_size = batch_size.max(1);
        let builders = plan
            .columns
            .iter()
            .map(|(name, read)| {
                ColumnBuilder::new(&read.read, batch_size)
                    .map_err(|e| PgReadError::Config(format!("column {}: {e}", quote_ident(name))))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            schema: plan.schema.clone(),
            names: plan.columns.iter().map(|(n, _)| n.clone()).collect(),
            parser: CopyParser::new(builders.len()),
            builders,
            rows: 0,
            batch_size,
        })
    }

    pub(super) fn push(&mut self, chunk: &[u8]) {
        self.parser.push(chunk);
    }

    /// The next full batch, if the data pushed so far completes one.
    pub(super) fn next_batch(&mut self) -> Result<Option<RecordBatch>, PgReadError> {
        loop {
            if self.rows >= self.batch_size {
                return self.flush().map(Some);
            }
            let (builders, names) = (&mut self.builders, &self.names);
            let step = self.parser.next_tuple(
                |m| PgReadError::Failed(format!("the COPY data is malformed: {m}")),
                |i, value| {
                    let (Some(builder), Some(name)) = (builders.get_mut(i), names.get(i)) else {
                        return Err(PgReadError::Failed("a tuple has too many fields".into()));
                    };
                    builder.append(value).map_err(|e| match e {
                        ValueError::Malformed(m) => PgReadError::Failed(format!(
                            "column {} holds a malformed value: {m}",
                            quote_ident(name)
                        )),
                        ValueError::Unrepresentable(m) => {
                            PgReadError::Config(format!("column {} {m}", quote_ident(name)))
                        }
                    })
                },
            )?;
            match step {
                Step::Tuple => self.rows += 1,
                Step::NeedMore | Step::End => return Ok(None),
            }
        }
    }

    /// The last rows, once all data was pushed; an error if it ended early.
    pub(super) fn finish(&mut self) -> Result<Option<RecordBatch>, PgReadError> {
        self.parser
            .finish()
            .map_err(|m| PgReadError::Failed(format!("the COPY data is malformed: {m}")))?;
        if self.rows == 0 {
            return Ok(None);
        }
        self.flush().map(Some)
    }

    fn flush(&mut self) -> Result<RecordBatch, PgReadError> {
        let failed = |e: String| PgReadError::Failed(format!("cannot build a batch: {e}"));
        let arrays = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed)?;
        // The row count is explicit so that a table without columns counts too.
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        self.rows = 0;
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
            .map_err(|e| failed(e.to_string()))
    }
}

#[cfg(test)]
#[path = "copy_out_tests.rs"]
mod tests;

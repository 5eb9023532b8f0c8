//! Loads RecordBatches with `COPY … FROM STDIN (FORMAT binary)`: the
//! fastest way into PostgreSQL. Rows are encoded straight from the Arrow
//! arrays into ~1 MiB chunks that are sent as they fill, so memory stays
//! bounded whatever the number of rows.
//!
//! The binary format: the signature `PGCOPY\n\xff\r\n\0`, flags (i32 0),
//! header extension length (i32 0); per row the field count (i16) and per
//! field its length (i32, -1 for NULL) and its binary send format; the
//! trailer i16 -1.

use std::{future::Future, pin::Pin};

use arrow_array::{Array, RecordBatch};
use bytes::{BufMut, Bytes, BytesMut};
use futures::SinkExt;
use tokio_postgres::{Client, CopyInSink, Transaction};

use super::{
    encode::{EncodeFn, encoder, put_with_len},
    error::{PgWriteError, Result, pg},
    ident::{TableName, quote_list},
    types::{PgType, accepts, pg_type},
};

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// Bytes gathered before they are sent.
pub const CHUNK_BYTES: usize = 1 << 20;

/// A column COPY writes, with the type it has in the table (which decides
/// the encoding: an Int32 goes into a bigint column as 8 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgColumn {
    pub name: String,
    pub pg_type: PgType,
}

/// What can run a COPY: a `Client` or a `Transaction` (tokio-postgres's
/// `GenericClient` has no `copy_in`).
pub trait CopyClient: Sync {
    fn copy_in_sink(
        &self,
        sql: &str,
    ) -> impl Future<Output = std::result::Result<CopyInSink<Bytes>, tokio_postgres::Error>> + Send;
}

impl CopyClient for Client {
    fn copy_in_sink(
        &self,
        sql: &str,
    ) -> impl Future<Output = std::result::Result<CopyInSink<Bytes>, tokio_postgres::Error>> + Send
    {
        self.copy_in(sql)
    }
}

impl CopyClient for Transaction<'_> {
    fn copy_in_sink(
        &self,
        sql: &str,
    ) -> impl Future<Output = std::result::Result<CopyInSink<Bytes>, tokio_postgres::Error>> + Send
    {
        self.copy_in(sql)
    }
}

/// One running COPY into a table: `write` batches, then `finish`. Dropped
/// unfinished, the COPY is aborted (and with it the caller's transaction).
pub struct CopyIn {
    sink: Pin<Box<CopyInSink<Bytes>>>,
    buf: BytesMut,
    columns: Vec<PgColumn>,
    table: String,
    chunks_sent: u64,
}

impl CopyIn {
    /// Starts `COPY table (columns…) FROM STDIN (FORMAT binary)`.
    pub async fn start<C: CopyClient>(
        client: &C,
        table: &TableName,
        columns: &[PgColumn],
    ) -> Result<Self> {
        if columns.is_empty() {
            return Err(PgWriteError::Invalid(format!(
                "COPY into {table} names no column"
            )));
        }
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let sql = format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            table.qualified(),
            quote_list(&names)?
        );
        let sink = client
            .copy_in_sink(&sql)
            .await
            .map_err(pg(format!("starting COPY into {table}")))?;
        let mut buf = BytesMut::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 8);
        buf.put_slice(SIGNATURE);
        buf.put_i32(0);
        buf.put_i32(0);
        Ok(Self {
            sink: Box::pin(sink),
            buf,
            columns: columns.to_vec(),
            table: table.to_string(),
            chunks_sent: 0,
        })
    }

    /// Encodes and sends a batch whose columns are the COPY's columns, in
    /// order and by name. After an error, drop the `CopyIn`: the COPY is
    /// aborted and the caller's transaction with it.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.write_rows(batch, None).await
    }

    /// `write`, of the rows whose `keep` is true only (all of them without
    /// a mask; see `last_of_each_key`).
    pub async fn write_rows(&mut self, batch: &RecordBatch, keep: Option<&[bool]>) -> Result<()> {
        let field_count = i16::try_from(self.columns.len())
            .map_err(|_| PgWriteError::Invalid("too many columns for one COPY".into()))?;
        let encoders = encoders(batch, &self.columns, &self.table)?;
        for row in 0..batch.num_rows() {
            if keep.is_some_and(|k| !k.get(row).copied().unwrap_or(true)) {
                continue;
            }
            self.buf.put_i16(field_count);
            for ((array, enc), column) in encoders.iter().zip(&self.columns) {
                put_value(&mut self.buf, *array, enc, row, column)?;
            }
            if self.buf.len() >= CHUNK_BYTES {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// Bytes encoded and not sent yet (under a chunk and a row).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Chunks sent so far.
    pub fn chunks_sent(&self) -> u64 {
        self.chunks_sent
    }

    async fn flush(&mut self) -> Result<()> {
        let chunk = self.buf.split().freeze();
        self.chunks_sent += 1;
        self.buf.reserve(CHUNK_BYTES + CHUNK_BYTES / 8);
        let table = &self.table;
        self.sink
            .send(chunk)
            .await
            .map_err(pg(format!("COPY into {table}")))
    }

    /// Sends the trailer and ends the COPY; returns the rows PostgreSQL
    /// stored.
    pub async fn finish(mut self) -> Result<u64> {
        self.buf.put_i16(-1);
        self.flush().await?;
        let table = self.table.clone();
        self.sink
            .as_mut()
            .finish()
            .await
            .map_err(pg(format!("finishing COPY into {table}")))
    }
}

/// COPYs `batches` into `table` (one COPY); returns the rows written.
pub async fn copy_batches<C: CopyClient>(
    client: &C,
    table: &TableName,
    columns: &[PgColumn],
    batches: &[RecordBatch],
) -> Result<u64> {
    let mut copy = CopyIn::start(client, table, columns).await?;
    for batch in batches {
        copy.write(batch).await?;
    }
    copy.finish().await
}

/// The encoder of each column of `batch`, checked against the COPY's
/// `columns` (same names, in order; types the columns accept).
fn encoders<'b>(
    batch: &'b RecordBatch,
    columns: &[PgColumn],
    table: &str,
) -> Result<Vec<(&'b dyn Array, EncodeFn<'b>)>> {
    let schema = batch.schema_ref();
    if schema.fields().len() != columns.len() {
        return Err(PgWriteError::Invalid(format!(
            "a batch of {} columns for a COPY into {table} of {}",
            schema.fields().len(),
            columns.len()
        )));
    }
    let mut encoders: Vec<(&dyn Array, EncodeFn<'_>)> = Vec::with_capacity(columns.len());
    for ((field, array), column) in schema.fields().iter().zip(batch.columns()).zip(columns) {
        if field.name() != &column.name {
            return Err(PgWriteError::Invalid(format!(
                "the batch's column {:?} stands where the COPY into {table} expects {:?}",
                field.name(),
                column.name
            )));
        }
        let cannot = || PgWriteError::IncompatibleChange {
            column: column.name.clone(),
            existing: column.pg_type.ddl(),
            arrow_type: field.data_type().to_string(),
            wanted: pg_type(field).map(|t| t.ddl()).unwrap_or_default(),
        };
        if !accepts(&column.pg_type, &pg_type(field)?) {
            return Err(cannot());
        }
        let enc = encoder(array.as_ref(), &column.pg_type).ok_or_else(cannot)?;
        encoders.push((array.as_ref(), enc));
    }
    Ok(encoders)
}

/// One field of a row: its length (-1 for NULL), then its value.
fn put_value(
    buf: &mut BytesMut,
    array: &dyn Array,
    enc: &EncodeFn<'_>,
    row: usize,
    column: &PgColumn,
) -> Result<()> {
    if array.is_null(row) {
        buf.put_i32(-1);
        return Ok(());
    }
    put_with_len(buf, |buf| enc(buf, row)).map_err(|reason| PgWriteError::Value {
        column: column.name.clone(),
        row,
        reason,
    })
}

/// Which rows of `batch` to write so that each value of the `key` columns
/// comes once: its last row, the version a merge keeps. None when every
/// key is unique already (the usual case): write them all. Keys compare by
/// their binary COPY encoding, which is one per value for the key types
/// (integers, text, uuid, times); a pair it tells apart that PostgreSQL
/// deems equal (`-0.0` and `0.0`) is left for the key's unique index.
pub fn last_of_each_key(
    batch: &RecordBatch,
    columns: &[PgColumn],
    key: &[String],
) -> Result<Option<Vec<bool>>> {
    let encoders = encoders(batch, columns, "a table")?;
    let key_columns = key
        .iter()
        .map(|k| {
            columns.iter().position(|c| &c.name == k).ok_or_else(|| {
                PgWriteError::Invalid(format!("primary key column {k:?} is not a column"))
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    let rows = batch.num_rows();
    // Every row's encoded key, end to end, and where each ends.
    let mut keys = BytesMut::new();
    let mut ends = Vec::with_capacity(rows);
    for row in 0..rows {
        for &i in &key_columns {
            let (array, enc) = &encoders[i];
            put_value(&mut keys, *array, enc, row, &columns[i])?;
        }
        ends.push(keys.len());
    }
    let key_of = |row: usize| &keys[if row == 0 { 0 } else { ends[row - 1] }..ends[row]];
    let mut seen = std::collections::HashSet::with_capacity(rows);
    let mut keep = vec![true; rows];
    let mut dropped = false;
    for row in (0..rows).rev() {
        if !seen.insert(key_of(row)) {
            keep[row] = false;
            dropped = true;
        }
    }
    Ok(dropped.then_some(keep))
}

#[cfg(test)]
#[path = "copy_in_tests.rs"]
mod tests;

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
        let schema = batch.schema();
        if schema.fields().len() != self.columns.len() {
            return Err(PgWriteError::Invalid(format!(
                "a batch of {} columns for a COPY into {} of {}",
                schema.fields().len(),
                self.table,
                self.columns.len()
            )));
        }
        let field_count = i16::try_from(self.columns.len())
            .map_err(|_| PgWriteError::Invalid("too many columns for one COPY".into()))?;
        let mut encoders: Vec<(&dyn Array, EncodeFn<'_>)> = Vec::with_capacity(self.columns.len());
        for ((field, array), column) in schema
            .fields()
            .iter()
            .zip(batch.columns())
            .zip(&self.columns)
        {
            if field.name() != &column.name {
                return Err(PgWriteError::Invalid(format!(
                    "the batch's column {:?} stands where the COPY into {} expects {:?}",
                    field.name(),
                    self.table,
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
        for row in 0..batch.num_rows() {
            self.buf.put_i16(field_count);
            for ((array, enc), column) in encoders.iter().zip(&self.columns) {
                if array.is_null(row) {
                    self.buf.put_i32(-1);
                } else {
                    put_with_len(&mut self.buf, |buf| enc(buf, row)).map_err(|reason| {
                        PgWriteError::Value {
                            column: column.name.clone(),
                            row,
                            reason,
                        }
                    })?;
                }
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

#[cfg(test)]
#[path = "copy_in_tests.rs"]
mod tests;

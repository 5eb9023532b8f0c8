//! Building blocks of the PostgreSQL destination: the Arrow → PostgreSQL
//! type table (`types`), binary COPY of RecordBatches (`copy_in`), and the
//! DDL and load statements of each load mode (`load`); and the
//! `Destination` built from them (`destination`, over a small `pool`). Every statement
//! runs on the caller's transaction, so a batch commits together with its
//! position.

mod copy_in;
mod destination;
mod encode;
mod error;
mod ident;
mod load;
mod numeric;
mod pool;
mod staging;
mod types;

#[cfg(test)]
mod test_db;

pub use copy_in::{CHUNK_BYTES, CopyClient, CopyIn, PgColumn, copy_batches};
pub use destination::{POSITIONS, PostgresWarehouse};
pub use error::{PgWriteError, Result};
pub use ident::{MAX_IDENT_BYTES, TableName, quote_ident};
pub use load::{
    append, columns_of, create_schema, create_staging, create_table, ensure_columns,
    ensure_primary_key, prepare_table, replace, staging_table, swap_in, table_columns,
    table_exists, upsert,
};
pub use pool::{POOL_SIZE, options_of, parse_url};
pub use types::{
    ColumnChange, EXTENSION_NAME, JSON_EXTENSION, PgType, UUID_EXTENSION, accepts, column_change,
    pg_type, widens,
};

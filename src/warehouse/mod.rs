//! Destinations: where runs write. One trait; the SQLite warehouse is the
//! embedded default (`warehouse.db` in the data dir), split into one
//! namespace per workspace and schema (see `namespaces`).
//!
//! Exactly once: every batch is written together with the position it
//! reaches, in one destination transaction, into a positions table that
//! lives in the destination itself. A run resumes from those positions, so
//! a crash at any point loses and duplicates nothing.
//!
//! Positions are kept per (sync, entity, slot). Slot `""` is the entity's
//! cursor; `"full"` tracks a full load into a staging table (REPLACE, a
//! FULL_REFRESH run, or the first run after ResetSyncState), which is
//! swapped in atomically at the end; `"window:N"` tracks one window of
//! FAN_OUT_WINDOW.

mod connections;
mod namespaces;
pub mod postgres;
mod sqlite;
mod sqlite_types;

use std::collections::BTreeMap;

use arrow_schema::SchemaRef;

use crate::{
    connectors::Batch,
    domain::{destination::reserved, enums::LoadMode, failure::FailureKind},
};

pub use connections::open_connection;
pub use namespaces::{Warehouse, namespace_dir};
pub use sqlite::SqliteWarehouse;

/// A destination table, as a binding and the source's columns define it.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// The binding's physical_table_name (a valid identifier, never a
    /// reserved one: see `domain::destination::reserved`).
    pub name: String,
    /// The source's schema of the entity (see `batch`).
    pub schema: SchemaRef,
    /// Merge key of UPSERT; may be empty for the other modes.
    pub primary_key: Vec<String>,
    pub load_mode: LoadMode,
}

/// Where a position is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub sync_id: String,
    pub entity_key: String,
    /// "" (the entity's cursor), "full", or "window:N".
    pub slot: String,
}

/// `sync/entity/"slot"`, for messages.
impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{:?}", self.sync_id, self.entity_key, self.slot)
    }
}

/// How far a slot got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// The control store's entity generation it was written under
    /// (ResetSyncState bumps it; older positions are ignored).
    pub generation: i64,
    /// The cursor of the last record written; None before any.
    pub cursor: Option<String>,
    /// A window's inclusive upper bound (None: open).
    pub up_to: Option<String>,
    /// The slot finished (a window read to its end).
    pub done: bool,
}

/// Why a destination could not do what was asked, and what kind of failure
/// that is (see `domain::failure`).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DestinationError {
    pub kind: FailureKind,
    pub message: String,
}

impl DestinationError {
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Failed,
            message: message.into(),
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Config,
            message: message.into(),
        }
    }

    pub fn auth(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Auth,
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Transient,
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, DestinationError>;

/// Refuses a table the warehouse reserves: a sync stored before CreateSync
/// refused such names must still not write into the positions table.
fn check_table(spec: &TableSpec) -> Result<()> {
    match reserved(&spec.name) {
        Some(why) => Err(DestinationError::failed(format!(
            "cannot write the table {}: {why}",
            spec.name
        ))),
        None => Ok(()),
    }
}

/// Refuses a write of `spec` into `into` when either has a reserved name;
/// of those, a load writes only its own staging table (`staging`).
fn check_target(spec: &TableSpec, into: &str, staging: &str) -> Result<()> {
    check_table(spec)?;
    match reserved(into) {
        Some(why) if into != staging => Err(DestinationError::failed(format!(
            "cannot write into the table {into}: {why}"
        ))),
        _ => Ok(()),
    }
}

#[async_trait::async_trait]
pub trait Destination: Send + Sync {
    /// Creates the table if it is missing (UPSERT: with a unique index on
    /// the primary key), and the positions table.
    async fn prepare(&self, spec: &TableSpec) -> Result<()>;

    /// Every slot's position of a sync's entity.
    async fn positions(
        &self,
        sync_id: &str,
        entity_key: &str,
    ) -> Result<BTreeMap<String, Position>>;

    /// Records positions without data (declaring windows), in one transaction.
    async fn set_positions(&self, slots: &[(Slot, Position)]) -> Result<()>;

    /// Writes `batch` into table `into` (the spec's table or its staging
    /// table) by the spec's load mode — APPEND_EVENT and REPLACE insert,
    /// UPSERT merges on the primary key — and sets `slot` to `pos`, in one
    /// transaction. Returns the rows written.
    async fn write(
        &self,
        into: &str,
        spec: &TableSpec,
        batch: &Batch,
        slot: &Slot,
        pos: &Position,
    ) -> Result<u64>;

    /// Creates table `into` (the spec's table or its staging table) if it
    /// is missing and adds the columns of `spec` it lacks: a source whose
    /// schema comes with its data (HTTP records) found new fields part way
    /// through a read.
    async fn extend_table(&self, into: &str, spec: &TableSpec) -> Result<()>;

    /// The staging table of a full load of `spec`.
    fn staging_name(&self, spec: &TableSpec) -> String;

    /// Where `table` is, fully qualified, for users to find it.
    fn qualified_name(&self, table: &str) -> String;

    /// (Re)creates the empty staging table of `spec` (dropping an old one).
    async fn create_staging(&self, spec: &TableSpec) -> Result<()>;

    /// Whether a table exists (a resumed full load reuses its staging table).
    async fn table_exists(&self, name: &str) -> Result<bool>;

    /// In one transaction: replaces the table with its staging table, sets
    /// `slot` to `pos`, and deletes the slots named in `forget`.
    async fn swap_in(
        &self,
        spec: &TableSpec,
        slot: &Slot,
        pos: &Position,
        forget: &[Slot],
    ) -> Result<()>;

    /// In one transaction: sets `slot` to `pos` and deletes `forget`.
    async fn settle(&self, slot: &Slot, pos: &Position, forget: &[Slot]) -> Result<()>;

    /// Proves that tables may be created where this destination writes, by
    /// creating one in a transaction that is rolled back.
    async fn probe(&self) -> Result<()>;
}

/// The table `probe` creates and never keeps.
const PROBE: &str = "_tributary_probe";

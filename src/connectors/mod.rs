//! Connectors: one module per provider behind the `Source` trait, plus the
//! provider catalog. Connectors never touch the control store.

pub mod catalog;
mod driver_errors;
mod faker;
pub mod files;
pub mod http;
pub mod local_files;
pub(crate) mod postgres;
pub mod registry;
mod sqlite;
mod sqlite_read;

use std::{collections::BTreeMap, pin::Pin};

use arrow_schema::SchemaRef;

use crate::domain::{
    connector_settings::ConnectorSettings, failure::FailureKind, lookback::Lookback,
};

use futures::Stream;
use serde_json::{Map, Value};

pub use local_files::LocalFiles;

pub use crate::batch::Batch;

/// A connection's settings, as a connector needs them, and what this
/// process lets connectors reach.
pub struct Settings<'a> {
    pub provider: &'a str,
    pub config: &'a Map<String, Value>,
    pub credentials: &'a BTreeMap<String, String>,
    pub local_files: &'a LocalFiles,
    /// Which stored connection this is, with its connector settings (HTTP
    /// sources need them); None for a connection not stored (a test's).
    pub context: Option<&'a ConnectionContext>,
}

/// A stored connection as HTTP sources see it beyond config and
/// credentials: its id (rate limits are shared per connection), seed
/// 004's settings (variables in the clear), and where a rotated credential
/// is written.
pub struct ConnectionContext {
    pub connection_id: String,
    pub settings: ConnectorSettings,
    pub credential_store: Option<std::sync::Arc<dyn CredentialStore>>,
}

/// Writes a connection's rotated credential (an OAuth2 refresh token)
/// back to its encrypted credentials. Connectors never touch the control
/// store; the engine hands them this.
#[async_trait::async_trait]
pub trait CredentialStore: Send + Sync {
    /// Sets credential `key` to `new` if it still holds `old`, atomically;
    /// a value that moved on meanwhile is left as it is.
    async fn rotate(&self, key: &str, old: &str, new: &str) -> Result<(), String>;
}

/// Why a connector could not do what was asked. Messages are shown to
/// users, so connectors build them from a driver error's kind, never its
/// text (see `driver_errors`), and scrub secrets from them (see `scrub`).
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The provider has no connector for this operation (yet).
    #[error("{0}")]
    Unsupported(String),
    /// The external system refused or failed.
    #[error("{0}")]
    Failed(String),
    /// The external system refused the connection's credentials.
    #[error("{0}")]
    Auth(String),
    /// The connection or sync asks for something the source cannot do (an
    /// entity or cursor field it lacks, a setting out of its range): no
    /// retry helps until someone changes the configuration.
    #[error("{0}")]
    Config(String),
    /// The connection needs a local file, and this server allows none
    /// (no `--allow-local-files`).
    #[error("{}", local_files::NOT_ALLOWED)]
    LocalFilesNotAllowed,
    /// A file, folder or other named item does not exist (its name, as
    /// the user gave it).
    #[error("{0} does not exist")]
    NotFound(String),
    /// The external system asks us to slow down.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Option<std::time::Duration>,
    },
    /// The source kept being told to slow down until its budget for
    /// waiting ran out: final.
    #[error("{0}")]
    RateLimitSpent(String),
    /// A failure that may pass (a dropped connection, a server error of the
    /// moment): the run tries again before it fails.
    #[error("{0}")]
    Transient(String),
}

impl ConnectorError {
    /// What kind of failure this is (see `domain::failure`).
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::Unsupported(_) => FailureKind::Unsupported,
            Self::Failed(_) => FailureKind::Failed,
            Self::Auth(_) => FailureKind::Auth,
            // The server's configuration, not the source, stops the run.
            Self::Config(_) | Self::LocalFilesNotAllowed | Self::NotFound(_) => FailureKind::Config,
            Self::RateLimited { retry_after, .. } => FailureKind::RateLimited {
                retry_after: *retry_after,
            },
            Self::RateLimitSpent(_) => FailureKind::RateLimitSpent,
            Self::Transient(_) => FailureKind::Transient,
        }
    }
}

/// A table of a database source.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub schema: String,
    pub table: String,
}

#[derive(Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
}

/// What a run asks a source for: one entity's records, in ascending order
/// of the cursor field, after `after` and up to `up_to` (both optional),
/// with `lookback`'s trailing window below `after` read again first.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    pub entity_key: String,
    /// The field records are ordered and resumed by; None reads in full in
    /// the source's own order.
    pub cursor_field: Option<String>,
    /// Exclusive lower bound: the cursor committed by the previous read.
    pub after: Option<String>,
    /// Inclusive upper bound (a window of FAN_OUT_WINDOW).
    pub up_to: Option<String>,
    /// Records per batch the source aims for.
    pub batch_size: usize,
    /// An incremental run's start only (never within a run): first the rows
    /// whose cursor is at least `after`'s cursor less this, up to `after`,
    /// their batches carrying `after` itself as their cursor (the committed
    /// position never moves back); then the rows after `after`. A source
    /// whose cursor cannot do this arithmetic fails with `Config`.
    pub lookback: Option<Lookback>,
}

pub type BatchStream = Pin<Box<dyn Stream<Item = Result<Batch, ConnectorError>> + Send>>;

/// A slice of an entity's cursor range: (after, up_to], either end open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub after: Option<String>,
    pub up_to: Option<String>,
}

/// What every provider's connector offers.
#[async_trait::async_trait]
pub trait Source: Send + Sync {
    /// Really connects and authenticates (VerifyConnection).
    async fn check(&self) -> Result<(), ConnectorError>;

    async fn list_tables(&self, _include_system: bool) -> Result<Vec<TableInfo>, ConnectorError> {
        Err(ConnectorError::Unsupported(
            "this provider has no schema to browse".into(),
        ))
    }

    async fn list_columns(
        &self,
        _schema: &str,
        _table: &str,
    ) -> Result<Vec<ColumnInfo>, ConnectorError> {
        Err(ConnectorError::Unsupported(
            "this provider has no schema to browse".into(),
        ))
    }

    /// The schema of an entity's batches: destination tables are created
    /// from it.
    async fn entity_schema(&self, entity_key: &str) -> Result<SchemaRef, ConnectorError> {
        Err(ConnectorError::Unsupported(format!(
            "reading {entity_key} is not available for this provider in this version"
        )))
    }

    /// Reads an entity (see `ReadRequest`) as a stream of batches.
    async fn read(&self, req: ReadRequest) -> Result<BatchStream, ConnectorError> {
        Err(ConnectorError::Unsupported(format!(
            "reading {} is not available for this provider in this version",
            req.entity_key
        )))
    }

    /// Takes a sync's source_config before a run reads (a file store's
    /// file sets); other sources need nothing from it.
    fn configure(&mut self, _source_config: &Map<String, Value>) -> Result<(), ConnectorError> {
        Ok(())
    }

    /// The store of a file-store provider (s3, sftp): ListFiles and
    /// ValidateFileSelection browse it.
    fn files(&self) -> Option<std::sync::Arc<dyn files::FileStore>> {
        None
    }

    /// Splits the cursor range after `after` into at most `n` windows that
    /// together cover it, in order (FAN_OUT_WINDOW). One window by default.
    async fn windows(
        &self,
        _entity_key: &str,
        _cursor_field: &str,
        after: Option<&str>,
        _n: usize,
    ) -> Result<Vec<Window>, ConnectorError> {
        Ok(vec![Window {
            after: after.map(str::to_string),
            up_to: None,
        }])
    }
}

/// The connector of a connection's provider (see `registry`).
pub fn source(s: &Settings<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    registry::open(s)
}

/// Whether this process could ever serve a connection of `provider`: a
/// provider of local files needs `--allow-local-files`. Checked before a
/// connection's settings are written, so nothing unusable is stored.
pub fn permitted(provider: &str, local_files: &LocalFiles) -> Result<(), ConnectorError> {
    match provider {
        "sqlite" => local_files.ensure_enabled(),
        _ => Ok(()),
    }
}

/// The text of column `name`'s value in row `row`: what a resume position
/// records of a cursor or key (read back as a literal of the column's type).
pub(crate) fn cursor_text(
    data: &arrow_array::RecordBatch,
    name: &str,
    row: usize,
) -> Result<String, ConnectorError> {
    let column = data
        .column_by_name(name)
        .ok_or_else(|| ConnectorError::Failed(format!("the batch lacks column {name}")))?;
    match crate::batch::json::value(column.as_ref(), row).map_err(ConnectorError::Failed)? {
        Value::String(s) => Ok(s),
        Value::Null => Err(ConnectorError::Config(format!(
            "the cursor field {name} is NULL in a row: a cursor must have a value"
        ))),
        other => Ok(other.to_string()),
    }
}

/// Removes every credential value from a message before it is shown or
/// logged. A second line of defence: messages built from driver errors quote
/// no part of the settings in the first place (see `driver_errors`).
pub fn scrub(message: &str, credentials: &BTreeMap<String, String>) -> String {
    let mut out = message.to_string();
    for v in credentials.values().filter(|v| v.len() >= 3) {
        out = out.replace(v.as_str(), "***");
    }
    out
}

pub(crate) fn config_str<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    config.get(key).and_then(Value::as_str)
}

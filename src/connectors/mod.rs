//! Connectors: one module per provider behind the `Source` trait, plus the
//! provider catalog. Connectors never touch the control store.

pub mod catalog;
mod postgres;
mod sqlite;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A connection's settings, as a connector needs them.
pub struct Settings<'a> {
    pub provider: &'a str,
    pub config: &'a Map<String, Value>,
    pub credentials: &'a BTreeMap<String, String>,
}

/// Why a connector could not do what was asked. Messages are shown to
/// users, so connectors scrub secrets from them (see `scrub`).
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The provider has no connector for this operation (yet).
    #[error("{0}")]
    Unsupported(String),
    /// The external system refused or failed.
    #[error("{0}")]
    Failed(String),
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

/// What every provider's connector offers. Reads arrive with the run engine.
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
}

/// Faker needs no external system: its data is a function of its config.
struct Faker;

#[async_trait::async_trait]
impl Source for Faker {
    async fn check(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// The connector of a connection's provider.
pub fn source(s: &Settings<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    match s.provider {
        "postgres" => Ok(Box::new(postgres::Postgres::new(s))),
        "sqlite" => Ok(Box::new(sqlite::Sqlite::new(s))),
        "faker" => Ok(Box::new(Faker)),
        other => Err(ConnectorError::Unsupported(format!(
            "verifying {other} connections is not available in this version; sqlite, postgres and faker are"
        ))),
    }
}

/// Removes every credential value from a message before it is shown or logged.
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

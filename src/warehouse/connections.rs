//! Destination connections: a sync that names one writes into that
//! connection's PostgreSQL database or SQLite file instead of the server's
//! warehouse. Opened per run from the connection's current settings, so an
//! updated password or host applies at the next run.

use std::sync::Arc;

use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use serde_json::{Map, Value};

use super::{Destination, DestinationError, Result, postgres::PostgresWarehouse, sqlite};
use crate::{
    connectors::{
        ConnectorError, Settings, config_str, postgres::connect::ConnectOptions,
        postgres::error::PgReadError,
    },
    domain::destination,
};

/// The destination of a connection, writing into the schema a sync's
/// `destination_config` names, else the connection's own (see
/// `destination::connection_schema`; created if missing on PostgreSQL, and
/// moot for a SQLite file, which has one). Errors never quote the
/// connection's credentials.
pub async fn open_connection(
    s: &Settings<'_>,
    destination_config: &Map<String, Value>,
) -> Result<Arc<dyn Destination>> {
    let schema = &destination::connection_schema(destination_config, s.config);
    match s.provider {
        "postgres" => {
            let options =
                ConnectOptions::from_settings(s.config, s.credentials).map_err(|e| match e {
                    PgReadError::Auth(m) => DestinationError::auth(m),
                    PgReadError::Config(m) | PgReadError::Failed(m) => DestinationError::config(m),
                })?;
            Ok(Arc::new(
                PostgresWarehouse::open_with(options, schema).await?,
            ))
        }
        "sqlite" => {
            let path = config_str(s.config, "path").unwrap_or_default();
            let path = s
                .local_files
                .resolve_for_writing(path)
                .map_err(|e: ConnectorError| DestinationError::config(e.to_string()))?;
            let label = path.display().to_string();
            let opts = SqliteConnectOptions::new().filename(&path);
            Ok(Arc::new(
                sqlite::SqliteWarehouse::open_with(opts, &label).await?,
            ))
        }
        other => Err(DestinationError::config(format!(
            "a {other} connection cannot be a destination"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use crate::connectors::{catalog, registry};

    /// The providers `open_connection` opens.
    const OPENS: [&str; 2] = ["postgres", "sqlite"];

    #[test]
    fn the_registry_advertises_exactly_the_destinations_that_open() {
        for provider in catalog::all().keys() {
            assert_eq!(
                registry::support(provider).destination,
                OPENS.contains(&provider.as_str()),
                "{provider}"
            );
        }
    }
}

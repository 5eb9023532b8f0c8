//! PostgreSQL sources: verifying and browsing (sqlx, below) and the Arrow
//! read path (tokio-postgres, binary COPY): `connect`, `discover`,
//! `copy_out`, with the type table in `types`.

// The Arrow read path is integrated into `Source` separately (issue 11);
// until then nothing outside calls it, hence the allows.
#[allow(dead_code)]
pub mod connect;
#[allow(dead_code)]
pub mod copy_out;
#[allow(dead_code)]
pub mod discover;
#[allow(dead_code)]
pub mod error;
#[allow(dead_code)]
pub mod quote;
#[allow(dead_code)]
pub mod types;

#[allow(dead_code)]
mod copy_format;
#[allow(dead_code)]
mod decode;
#[allow(dead_code)]
mod numeric;

use std::{collections::BTreeMap, time::Duration};

use sea_orm::sqlx::{
    self, Connection, PgConnection, Row,
    postgres::{PgConnectOptions, PgSslMode},
};

use super::{ColumnInfo, ConnectorError, Settings, Source, TableInfo, config_str, driver_errors};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Postgres {
    opts: PgConnectOptions,
    schema: String,
    credentials: BTreeMap<String, String>,
}

impl Postgres {
    pub fn new(s: &Settings<'_>) -> Self {
        let port = s
            .config
            .get("port")
            .and_then(|p| p.as_u64())
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(5432);
        let ssl = match config_str(s.config, "sslmode") {
            Some("disable") => PgSslMode::Disable,
            Some("require") => PgSslMode::Require,
            _ => PgSslMode::Prefer,
        };
        let mut opts = PgConnectOptions::new_without_pgpass()
            .host(config_str(s.config, "host").unwrap_or("localhost"))
            .port(port)
            .database(config_str(s.config, "database").unwrap_or("postgres"))
            .username(config_str(s.config, "username").unwrap_or("postgres"))
            .ssl_mode(ssl)
            .application_name("tributary");
        if let Some(pw) = s.credentials.get("password") {
            opts = opts.password(pw);
        }
        Self {
            opts,
            schema: config_str(s.config, "schema")
                .unwrap_or("public")
                .to_string(),
            credentials: s.credentials.clone(),
        }
    }

    fn failed(&self, what: &str, e: sqlx::Error) -> ConnectorError {
        driver_errors::failed(what, &e, &self.credentials)
    }

    async fn connect(&self) -> Result<PgConnection, ConnectorError> {
        match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&self.opts)).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(self.failed("cannot connect", e)),
            Err(_) => Err(ConnectorError::Failed(format!(
                "cannot connect: no answer within {CONNECT_TIMEOUT:?}"
            ))),
        }
    }
}

#[async_trait::async_trait]
impl Source for Postgres {
    async fn check(&self) -> Result<(), ConnectorError> {
        let mut conn = self.connect().await?;
        let found: Option<String> =
            sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname = $1")
                .bind(&self.schema)
                .fetch_optional(&mut conn)
                .await
                .map_err(|e| self.failed("connected, but cannot read the catalog", e))?;
        if found.is_none() {
            return Err(ConnectorError::Failed(format!(
                "connected, but schema '{}' does not exist",
                self.schema
            )));
        }
        let _ = conn.close().await;
        Ok(())
    }

    async fn list_tables(&self, include_system: bool) -> Result<Vec<TableInfo>, ConnectorError> {
        let mut conn = self.connect().await?;
        let rows = sqlx::query(
            "SELECT table_schema::text, table_name::text FROM information_schema.tables \
             WHERE $1 OR table_schema NOT IN ('pg_catalog', 'information_schema') \
             ORDER BY table_schema, table_name",
        )
        .bind(include_system)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| self.failed("cannot list tables", e))?;
        Ok(rows
            .into_iter()
            .map(|r| TableInfo {
                schema: r.try_get(0).unwrap_or_default(),
                table: r.try_get(1).unwrap_or_default(),
            })
            .collect())
    }

    async fn list_columns(
        &self,
        schema: &str,
        table: &str,
    ) -> Result<Vec<ColumnInfo>, ConnectorError> {
        let mut conn = self.connect().await?;
        let rows = sqlx::query(
            "SELECT column_name::text, data_type::text, is_nullable = 'YES' FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
        )
        .bind(schema)
        .bind(table)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| self.failed("cannot list columns", e))?;
        Ok(rows
            .into_iter()
            .map(|r| ColumnInfo {
                name: r.try_get(0).unwrap_or_default(),
                data_type: r.try_get(1).unwrap_or_default(),
                nullable: r.try_get(2).unwrap_or(true),
            })
            .collect())
    }
}

//! PostgreSQL sources: verifying and browsing (sqlx, below) and the Arrow
//! read path (tokio-postgres, binary COPY): `connect`, `discover`,
//! `copy_out`, with the type table in `types`.

pub mod connect;
pub mod copy_out;
pub mod discover;
pub mod error;
pub mod quote;
pub mod read;
pub mod types;

mod copy_format;
mod decode;
mod numeric;

use std::{collections::BTreeMap, time::Duration};

use sea_orm::sqlx::{
    self, Connection, PgConnection, Row,
    postgres::{PgConnectOptions, PgSslMode},
};

use arrow_schema::SchemaRef;

use super::{
    BatchStream, ColumnInfo, ConnectorError, ReadRequest, Settings, Source, TableInfo, Window,
    config_str, driver_errors,
};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Postgres {
    opts: PgConnectOptions,
    /// The read path's options (tokio-postgres), or why the settings
    /// cannot make them.
    read_opts: Result<connect::ConnectOptions, String>,
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
        // The same sslmode as the read path (see `connect`): a check never
        // passes with less TLS than the reads will insist on.
        let ssl = match config_str(s.config, "sslmode") {
            Some("disable") => PgSslMode::Disable,
            Some("require") => PgSslMode::Require,
            Some("verify-ca") => PgSslMode::VerifyCa,
            Some("verify-full") => PgSslMode::VerifyFull,
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
        if let Some(pem) = config_str(s.config, "root_cert_pem") {
            opts = opts.ssl_root_cert_from_pem(pem.as_bytes().to_vec());
        }
        Self {
            opts,
            read_opts: connect::ConnectOptions::from_settings(s.config, s.credentials)
                .map_err(|e| e.to_string()),
            schema: config_str(s.config, "schema")
                .unwrap_or("public")
                .to_string(),
            credentials: s.credentials.clone(),
        }
    }

    async fn reader(&self) -> Result<connect::PgClient, ConnectorError> {
        let opts = self
            .read_opts
            .as_ref()
            .map_err(|e| ConnectorError::Config(e.clone()))?;
        // The read path's messages quote no setting (see `error`).
        read::open(opts).await
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
    async fn entity_schema(&self, entity_key: &str) -> Result<SchemaRef, ConnectorError> {
        let (schema, table) = read::entity_table(entity_key, &self.schema);
        read::entity_schema(&*self.reader().await?, schema, table).await
    }

    async fn read(&self, req: ReadRequest) -> Result<BatchStream, ConnectorError> {
        let (schema, table) = read::entity_table(&req.entity_key, &self.schema);
        let (schema, table) = (schema.to_string(), table.to_string());
        read::read(self.reader().await?, &schema, &table, req).await
    }

    async fn windows(
        &self,
        entity_key: &str,
        cursor_field: &str,
        after: Option<&str>,
        n: usize,
    ) -> Result<Vec<Window>, ConnectorError> {
        let (schema, table) = read::entity_table(entity_key, &self.schema);
        let client = self.reader().await?;
        read::windows(&client, schema, table, cursor_field, after, n).await
    }

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

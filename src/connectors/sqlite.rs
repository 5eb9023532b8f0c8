//! SQLite sources: a database file on the server's disk, opened only where
//! the operator allows (see `local_files`).

use std::collections::BTreeMap;

use sea_orm::sqlx::{self, Connection, Row, SqliteConnection, sqlite::SqliteConnectOptions};

use arrow_schema::SchemaRef;

use super::{
    BatchStream, ColumnInfo, ConnectorError, LocalFiles, ReadRequest, Settings, Source, TableInfo,
    config_str, driver_errors, sqlite_read,
};

/// The table of an entity key: `table` or `main.table`.
fn table_of(key: &str) -> &str {
    key.strip_prefix("main.").unwrap_or(key)
}

pub struct Sqlite {
    path: String,
    local_files: LocalFiles,
}

impl Sqlite {
    pub fn new(s: &Settings<'_>) -> Result<Self, ConnectorError> {
        s.local_files.ensure_enabled()?;
        Ok(Self {
            path: config_str(s.config, "path").unwrap_or_default().to_string(),
            local_files: s.local_files.clone(),
        })
    }

    async fn open(&self) -> Result<SqliteConnection, ConnectorError> {
        let path = self.local_files.resolve(&self.path)?;
        // Read-only: verifying or browsing must never create or change the file.
        let opts = SqliteConnectOptions::new().filename(&path).read_only(true);
        SqliteConnection::connect_with(&opts)
            .await
            .map_err(|e| failed("cannot open the database", &e))
    }
}

/// A SQLite connection has no credentials to scrub.
fn failed(what: &str, e: &sqlx::Error) -> ConnectorError {
    driver_errors::failed(what, e, &BTreeMap::new())
}

#[async_trait::async_trait]
impl Source for Sqlite {
    async fn entity_schema(&self, entity_key: &str) -> Result<SchemaRef, ConnectorError> {
        let mut conn = self.open().await?;
        let cols = sqlite_read::columns(&mut conn, table_of(entity_key)).await?;
        Ok(sqlite_read::schema(&cols))
    }

    async fn read(&self, req: ReadRequest) -> Result<BatchStream, ConnectorError> {
        let conn = self.open().await?;
        let table = table_of(&req.entity_key).to_string();
        sqlite_read::read(conn, &table, req).await
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        let mut conn = self.open().await?;
        // Reading the schema proves the file is a SQLite database.
        sqlx::query("SELECT count(*) FROM sqlite_master")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| failed("not a readable SQLite database", &e))?;
        Ok(())
    }

    async fn list_tables(&self, include_system: bool) -> Result<Vec<TableInfo>, ConnectorError> {
        let mut conn = self.open().await?;
        let rows = sqlx::query(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name",
        )
        .fetch_all(&mut conn)
        .await
        .map_err(|e| failed("cannot list tables", &e))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok())
            .filter(|n| include_system || !n.starts_with("sqlite_"))
            .map(|table| TableInfo {
                schema: "main".into(),
                table,
            })
            .collect())
    }

    async fn list_columns(
        &self,
        _schema: &str,
        table: &str,
    ) -> Result<Vec<ColumnInfo>, ConnectorError> {
        let mut conn = self.open().await?;
        let cols = match sqlite_read::columns(&mut conn, table).await {
            Err(ConnectorError::Config(_)) => return Ok(Vec::new()),
            other => other?,
        };
        Ok(cols
            .iter()
            .map(|c| ColumnInfo {
                name: c.name.clone(),
                data_type: c.declared.clone(),
                nullable: c.nullable(&cols),
            })
            .collect())
    }
}

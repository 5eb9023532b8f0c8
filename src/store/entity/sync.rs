//! The `syncs` table.

use sea_orm::entity::prelude::*;

use crate::domain::enums::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "syncs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub slug: String,
    pub connection_id: String,
    /// The destination connection; None writes into the default warehouse.
    pub destination_connection_id: Option<String>,
    pub provider_key: String,
    pub entities: String,
    pub source_config: String,
    pub destination_config: String,
    pub execution_backend: ExecutionBackend,
    pub execution_mode: ExecutionMode,
    pub execution_config: String,
    pub freshness_sla_seconds: Option<i64>,
    pub schedule: Option<String>,
    pub status: SyncStatus,
    pub trigger_mode: TriggerMode,
    pub task_slug: String,
    pub last_error: Option<String>,
    pub last_success_at: Option<i64>,
    pub next_run_at: Option<i64>,
    /// When the current freshness SLA breach began; None while fresh.
    pub freshness_breached_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: String,
    pub updated_by: String,
    pub etag: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

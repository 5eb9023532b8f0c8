//! The `runs` table.

use sea_orm::entity::prelude::*;

use crate::domain::enums::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub workspace_id: String,
    pub sync_id: String,
    pub status: RunStatus,
    pub run_mode: RunMode,
    pub triggered_by: TriggeredBy,
    pub trigger_ref: String,
    pub attempt_number: i64,
    pub attempt_root_run_id: String,
    pub previous_attempt_run_id: Option<String>,
    pub next_attempt_run_id: Option<String>,
    pub max_auto_resume_attempts: i64,
    pub execution_backend: ExecutionBackend,
    pub execution_mode: ExecutionMode,
    pub executor_id: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub backend_run_ref: Option<String>,
    pub backend_run_url: Option<String>,
    pub backend_status: Option<String>,
    pub backend_heartbeat_at: Option<i64>,
    pub last_heartbeat_at: Option<i64>,
    pub cancel_requested_at: Option<i64>,
    pub cancel_requested_by: Option<String>,
    pub cancel_reason: Option<String>,
    /// The result_reason_code the run ends with once the cancel completes.
    pub cancel_reason_code: Option<ResultReasonCode>,
    pub result_class: Option<ResultClass>,
    pub result_reason_code: Option<ResultReasonCode>,
    pub error: Option<String>,
    pub summary: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub updated_at: i64,
    pub last_event_sequence: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

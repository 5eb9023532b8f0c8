//! The `connections` table.

use sea_orm::entity::prelude::*;

use crate::domain::enums::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub slug: String,
    pub provider: String,
    pub config: String,
    pub credentials_ciphertext: Option<String>,
    pub status: ConnectionStatus,
    pub verification_error: Option<String>,
    pub is_default: bool,
    pub is_from_template: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: String,
    pub updated_by: String,
    pub last_used_at: Option<i64>,
    pub last_verified_at: Option<i64>,
    pub etag: String,
    pub timezone: Option<String>,
    pub date_format: Option<String>,
    /// second, minute or hour (see `domain::connector_settings`).
    pub rate_limit_unit: Option<String>,
    pub rate_limit_duration: Option<i32>,
    /// A JSON array of `domain::connector_settings::Variable`, secret values left out.
    pub variables: String,
    /// The secret variables' values, sealed as credentials are.
    pub variables_ciphertext: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! The `table_bindings` table.

use sea_orm::entity::prelude::*;

use crate::domain::enums::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "table_bindings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub sync_id: String,
    pub position: i64,
    pub entity_key: String,
    pub source_instance_key: String,
    pub logical_table_name: String,
    pub physical_table_name: String,
    pub table_name: String,
    pub primary_key_columns: String,
    pub cursor_field: String,
    pub load_mode: LoadMode,
    pub table_naming_version: TableNamingVersion,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! The `entity_states` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "entity_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sync_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub entity_key: String,
    pub generation: i64,
    pub cursor: Option<String>,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

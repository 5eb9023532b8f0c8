//! Per-entity state of a sync in the control store: the generation that
//! ResetSyncState bumps, and the committed cursor external executors report
//! (the native executor keeps its positions in the destination).

use std::collections::BTreeMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, sea_query::OnConflict,
};

use super::entity::entity_state;
use crate::error::Result;

/// Entity → committed cursor of the sync's entities that have one.
pub async fn cursors(db: &impl ConnectionTrait, sync_id: &str) -> Result<BTreeMap<String, String>> {
    Ok(entity_state::Entity::find()
        .filter(entity_state::Column::SyncId.eq(sync_id))
        .filter(entity_state::Column::Cursor.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .filter_map(|s| Some((s.entity_key, s.cursor?)))
        .collect())
}

/// Commits `cursor` as the entity's cursor; a missing row starts at
/// generation 0 (no reset yet).
pub async fn set_cursor(
    db: &impl ConnectionTrait,
    sync_id: &str,
    entity_key: &str,
    cursor: &str,
    now: i64,
) -> Result<()> {
    let row = entity_state::Model {
        sync_id: sync_id.to_string(),
        entity_key: entity_key.to_string(),
        generation: 0,
        cursor: Some(cursor.to_string()),
        updated_at: now,
    };
    entity_state::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([
                entity_state::Column::SyncId,
                entity_state::Column::EntityKey,
            ])
            .update_columns([
                entity_state::Column::Cursor,
                entity_state::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

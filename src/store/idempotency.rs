//! request_id records: a repeat of CreateConnection, CreateSync, TriggerSync
//! or RetryRun with the same request_id and caller within 24 hours returns
//! the first call's resource and acts only once.
//!
//! The record is inserted first in the action's transaction, with the id
//! the action will create. A racing repeat then blocks on the unique key
//! (PostgreSQL) or on the single writer (SQLite) until the first commits,
//! fails, and reads the winner's record.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};

use super::{entity::idempotency_key, is_unique_violation};
use crate::{domain::now_micros, error::Result};

pub const WINDOW_MICROS: i64 = 24 * 3600 * 1_000_000;

/// The resource id a live record of `scope` points at.
pub async fn lookup(db: &impl ConnectionTrait, scope: &str) -> Result<Option<String>> {
    Ok(idempotency_key::Entity::find_by_id(scope.to_string())
        .filter(idempotency_key::Column::CreatedAt.gt(now_micros() - WINDOW_MICROS))
        .one(db)
        .await?
        .map(|r| r.resource_id))
}

/// Claims `scope` for `resource_id`. Ok(false) when another call holds it.
pub async fn claim(
    db: &impl ConnectionTrait,
    scope: &str,
    workspace_id: &str,
    resource_id: &str,
) -> Result<bool> {
    let now = now_micros();
    // An expired record no longer binds the request_id.
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::CreatedAt.lte(now - WINDOW_MICROS))
        .exec(db)
        .await?;
    let rec = idempotency_key::Model {
        scope: scope.to_string(),
        workspace_id: workspace_id.to_string(),
        resource_id: resource_id.to_string(),
        created_at: now,
    };
    match idempotency_key::Entity::insert(rec.into_active_model())
        .exec(db)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The scope of a request: caller, method and request_id.
pub fn scope(principal: &str, method: &str, request_id: &str) -> String {
    format!("{principal}/{method}/{request_id}")
}

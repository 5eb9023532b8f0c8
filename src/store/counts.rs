//! Exact list totals without a scan per call. Every write to a workspace's
//! resources of one kind bumps a version row after the data changed; a total
//! is cached in-process under (workspace, kind, filters, version) and reused
//! while the version stands. A reader that raced a write at worst caches a
//! total newer than its version, which the write's bump then retires; since
//! the version lives in the shared store, replicas never serve each other's
//! stale totals.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use super::entity::list_version;
use crate::error::Result;

/// Kinds of resources whose list totals are cached.
pub const CONNECTIONS: &str = "connections";
pub const SYNCS: &str = "syncs";

/// The kind constant named `s`.
pub fn kind(s: &str) -> Option<&'static str> {
    [CONNECTIONS, SYNCS].into_iter().find(|k| *k == s)
}

/// A safety net: a total is recounted at least this often.
const TTL: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct CountCache {
    entries: Mutex<HashMap<String, (i64, i64, Instant)>>,
}

impl CountCache {
    /// The total for `key` under `version`, counting with `count` on a miss.
    pub async fn total<F, Fut>(&self, key: String, version: i64, count: F) -> Result<i64>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<i64>>,
    {
        {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(&(v, total, at)) = entries.get(&key)
                && v == version
                && at.elapsed() < TTL
            {
                return Ok(total);
            }
        }
        let total = count().await?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (version, total, Instant::now()));
        Ok(total)
    }
}

/// The current version of a workspace's `kind` lists (0 before any write).
pub async fn version(db: &impl ConnectionTrait, workspace_id: &str, kind: &str) -> Result<i64> {
    Ok(list_version::Entity::find()
        .select_only()
        .column(list_version::Column::Version)
        .filter(list_version::Column::WorkspaceId.eq(workspace_id))
        .filter(list_version::Column::Kind.eq(kind))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0))
}

/// Retires the cached totals of a workspace's `kind` lists, in the
/// transaction of the write (see `Tx::changed`).
pub(super) async fn bump(db: &impl ConnectionTrait, workspace_id: &str, kind: &str) -> Result<()> {
    let row = list_version::ActiveModel {
        workspace_id: sea_orm::Set(workspace_id.to_string()),
        kind: sea_orm::Set(kind.to_string()),
        version: sea_orm::Set(1),
    };
    list_version::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                list_version::Column::WorkspaceId,
                list_version::Column::Kind,
            ])
            .value(
                list_version::Column::Version,
                Expr::col((list_version::Entity, list_version::Column::Version)).add(1),
            )
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

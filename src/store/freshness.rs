//! Freshness breaches recorded on syncs (see `domain::freshness`). Each
//! change is a compare-and-set on every column it was decided from, so of
//! the replicas (and run completions) that decide one change only one
//! records it, and only that one announces it: through `Tx::emit`, at its
//! commit, to the watchers of every replica.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Condition, Expr, ExprTrait, Func},
};

use super::{counts, entity::sync, tx::Tx};
use crate::{
    domain::{
        enums::SyncStatus,
        freshness::{Change, Freshness},
        limits::MAX_FRESHNESS_SLA_SECONDS,
    },
    error::Result,
};

/// Up to `limit` syncs whose recorded breach is out of date at `now`: a
/// cheap read, so an idle monitor never takes the write lock. The domain
/// decides again, with checked time math, under the write.
pub async fn out_of_date(db: &impl ConnectionTrait, now: i64, limit: u64) -> Result<Vec<String>> {
    let since = Func::coalesce([
        Expr::col(sync::Column::LastSuccessAt),
        Expr::col(sync::Column::CreatedAt),
    ]);
    // Never NULL (so NOT works), and never overflows: SLAs are bounded.
    let overdue = Condition::all()
        .add(sync::Column::Status.eq(SyncStatus::Active))
        .add(sync::Column::FreshnessSlaSeconds.is_not_null())
        .add(sync::Column::FreshnessSlaSeconds.lte(MAX_FRESHNESS_SLA_SECONDS))
        .add(Expr::expr(since).lt(
            Expr::val(now).sub(Expr::col(sync::Column::FreshnessSlaSeconds).mul(1_000_000i64)),
        ));
    let recorded = sync::Column::FreshnessBreachedAt;
    Ok(sync::Entity::find()
        .select_only()
        .column(sync::Column::Id)
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(recorded.is_null())
                        .add(overdue.clone()),
                )
                .add(
                    Condition::all()
                        .add(recorded.is_not_null())
                        .add(overdue.not()),
                ),
        )
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?)
}

fn freshness_of(s: &sync::Model) -> Freshness {
    Freshness {
        // An unknown status is not ACTIVE: the SLA does not bind it.
        status: s.status,
        sla_seconds: s.freshness_sla_seconds,
        last_success_at: s.last_success_at,
        created_at: s.created_at,
        breached_at: s.freshness_breached_at,
    }
}

/// `col` holds `value`, NULL included.
fn holds(col: sync::Column, value: Option<i64>) -> Expr {
    match value {
        Some(v) => col.eq(v),
        None => col.is_null(),
    }
}

/// Records the freshness change of sync `id` due at `now`, if one is, and
/// announces it when `tx` commits. None when nothing changed: the sync is
/// as it should be, is gone, or changed since it was read here (the next
/// decision sees that).
pub async fn settle(tx: &Tx, id: &str, now: i64) -> Result<Option<Change>> {
    let Some(row) = sync::Entity::find_by_id(id.to_string()).one(tx).await? else {
        return Ok(None);
    };
    let seen = freshness_of(&row);
    let Some(change) = seen.change(now) else {
        return Ok(None);
    };
    let breached_at = match change {
        Change::Breached { at } => Some(at),
        Change::Recovered => None,
    };
    let updated = sync::Entity::update_many()
        .col_expr(sync::Column::FreshnessBreachedAt, Expr::value(breached_at))
        .filter(sync::Column::Id.eq(id))
        .filter(sync::Column::Status.eq(row.status))
        .filter(holds(
            sync::Column::FreshnessSlaSeconds,
            row.freshness_sla_seconds,
        ))
        .filter(holds(sync::Column::LastSuccessAt, row.last_success_at))
        .filter(holds(
            sync::Column::FreshnessBreachedAt,
            row.freshness_breached_at,
        ))
        .exec(tx)
        .await?;
    if updated.rows_affected != 1 {
        return Ok(None);
    }
    // Caches first: a watcher told of the change then reads it anywhere.
    tx.changed(&row.workspace_id, counts::SYNCS).await?;
    tx.emit(seen.event(&row.id, &row.workspace_id, change, now))
        .await?;
    Ok(Some(change))
}

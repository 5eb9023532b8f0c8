//! What a run's end writes on its sync and its connection, in the
//! transaction of the run's terminal transition (see `runs::move_status`),
//! whichever executor ended it: the sync's last success or error and its
//! status, and what the run proved about its connection (see
//! `domain::run_outcome`).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use super::{
    connections, counts,
    entity::{connection, sync},
    runs::RunRecord,
    tx::Tx,
};
use crate::{
    domain::{
        enums::{ConnectionStatus, ResultReasonCode, RunStatus, SyncStatus, TriggerMode},
        new_etag,
        run_outcome::{self, Proof},
        schedule::{Schedule, next_slot},
    },
    error::Result,
};

/// Records the end of `rec` (already in its terminal status) on its sync
/// and connection.
pub async fn record(tx: &Tx, rec: &RunRecord) -> Result<()> {
    let to = rec.status;
    if !to.is_terminal() {
        return Ok(());
    }
    let reason = rec.result_reason_code;
    let Some(s) = sync::Entity::find_by_id(rec.sync_id.clone())
        .one(tx)
        .await?
    else {
        return Ok(());
    };
    on_sync(tx, rec, &s, to, reason).await?;
    // A run that never started never used its connection.
    if rec.started_at.is_some() {
        on_connection(tx, rec, &s.connection_id, to, reason).await?;
    }
    Ok(())
}

/// The sync's last success or error, and ERROR or back to ACTIVE.
async fn on_sync(
    tx: &Tx,
    rec: &RunRecord,
    s: &sync::Model,
    to: RunStatus,
    reason: Option<ResultReasonCode>,
) -> Result<()> {
    let q = sync::Entity::update_many().filter(sync::Column::Id.eq(s.id.clone()));
    let q = match to {
        RunStatus::Succeeded => q
            .col_expr(sync::Column::LastSuccessAt, Expr::value(rec.completed_at))
            .col_expr(sync::Column::LastError, Expr::value(Option::<String>::None)),
        RunStatus::Failed => q.col_expr(sync::Column::LastError, Expr::value(rec.error.clone())),
        // A cancel says nothing about the sync.
        _ => return Ok(()),
    };
    q.exec(tx).await?;
    let status = s.status;
    let after = run_outcome::sync_status_after(status, to, reason);
    if after != status {
        let moved = set_status::<sync::Entity>(
            tx,
            &s.id,
            (sync::Column::Id, sync::Column::Status, sync::Column::Etag),
            (status.as_str(), after.as_str()),
        )
        .await?;
        if moved {
            tracing::info!(sync_id = %s.id, run_id = %rec.id, from = %status, to = %after, "the sync's status follows its run");
        }
        if moved && after == SyncStatus::Active {
            resume_schedule(tx, s, rec.completed_at.unwrap_or(rec.updated_at)).await?;
        }
    }
    // A success ends a freshness breach at once, in this transaction,
    // rather than at the monitor's next look.
    if let (RunStatus::Succeeded, Some(at)) = (to, rec.completed_at) {
        super::freshness::settle(tx, &s.id, at).await?;
    }
    tx.changed(&s.workspace_id, counts::SYNCS).await
}

/// An ACTIVE scheduled sync fires at its next slot after `now`: the slots
/// that passed while it was in ERROR are not made up for.
async fn resume_schedule(tx: &Tx, s: &sync::Model, now: i64) -> Result<()> {
    let schedule: Option<Schedule> = s
        .schedule
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    let next = schedule
        .filter(|_| s.trigger_mode == TriggerMode::Scheduled)
        .and_then(|sc| next_slot(&sc, s.created_at, now));
    sync::Entity::update_many()
        .col_expr(sync::Column::NextRunAt, Expr::value(next))
        .filter(sync::Column::Id.eq(s.id.clone()))
        .exec(tx)
        .await?;
    Ok(())
}

/// Moves a row's status `from -> to` compare-and-set (a user's change
/// committed meanwhile wins), with a new etag, so that an update read
/// before this change cannot undo it. True when it moved.
async fn set_status<E: EntityTrait>(
    tx: &Tx,
    id: &str,
    (id_col, status_col, etag_col): (E::Column, E::Column, E::Column),
    (from, to): (&str, &str),
) -> Result<bool> {
    let r = E::update_many()
        .col_expr(status_col, Expr::value(to))
        .col_expr(etag_col, Expr::value(new_etag()))
        .filter(id_col.eq(id))
        .filter(status_col.eq(from))
        .exec(tx)
        .await?;
    Ok(r.rows_affected == 1)
}

/// When the run used the connection, and what it proved: a success that
/// it works (ACTIVE, verified now), an authentication failure that it does
/// not (ERROR, with the run's error, which never holds a secret). Nothing
/// is proved about settings changed since the run started.
async fn on_connection(
    tx: &Tx,
    rec: &RunRecord,
    connection_id: &str,
    to: RunStatus,
    reason: Option<ResultReasonCode>,
) -> Result<()> {
    let Some(c) = connections::find(tx, connection_id).await? else {
        return Ok(());
    };
    let now = rec.completed_at.unwrap_or(rec.updated_at);
    let mut q = connection::Entity::update_many()
        .filter(connection::Column::Id.eq(c.id.clone()))
        .col_expr(connection::Column::LastUsedAt, Expr::value(now));
    let unchanged_since_start = rec.started_at.is_some_and(|s| c.updated_at <= s);
    let proof = run_outcome::proof(to, reason).filter(|_| unchanged_since_start);
    let status = c.status;
    let after = proof.map_or(status, |p| run_outcome::connection_status_after(status, p));
    q = match proof {
        Some(Proof::Works) if after == ConnectionStatus::Active => q
            .col_expr(connection::Column::LastVerifiedAt, Expr::value(now))
            .col_expr(
                connection::Column::VerificationError,
                Expr::value(Option::<String>::None),
            ),
        Some(Proof::AuthRefused) if after == ConnectionStatus::Error => q.col_expr(
            connection::Column::VerificationError,
            Expr::value(rec.error.clone()),
        ),
        _ => q,
    };
    q.exec(tx).await?;
    if after != status {
        let moved = set_status::<connection::Entity>(
            tx,
            &c.id,
            (
                connection::Column::Id,
                connection::Column::Status,
                connection::Column::Etag,
            ),
            (status.as_str(), after.as_str()),
        )
        .await?;
        if moved {
            tracing::info!(connection_id = %c.id, run_id = %rec.id, from = %status, to = %after, "the connection's status follows what a run proved");
        }
    }
    tx.changed(&c.workspace_id, counts::CONNECTIONS).await
}

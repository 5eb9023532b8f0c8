//! The reaper: a live run whose executor stopped heartbeating for
//! `--heartbeat-timeout` is failed with HEARTBEAT_TIMEOUT (a CANCELLING one
//! is cancelled), and while attempts remain its next attempt is created
//! (AUTO_RESUME) in the same transaction. Timed-out runs are never revived:
//! the work goes on only as that new attempt, which any executor may claim.
//! Every replica and worker reaps; the status compare-and-set lets one win.

use std::{sync::Arc, time::Duration};

use super::Engine;
use crate::{
    domain::{
        connection::check_runnable,
        enums::{
            ConnectionStatus, ResultClass, ResultReasonCode, RunMode, RunStatus, SyncStatus,
            TriggeredBy,
        },
        now_micros,
        sync::check_triggerable,
    },
    error::Result,
    service::runs::new_run,
    store::{self, runs::RunRecord},
};

impl Engine {
    /// Reaps every `heartbeat_interval` until the task is dropped.
    pub async fn run_reaper(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.heartbeat_interval.min(Duration::from_secs(5)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.reap().await {
                tracing::warn!(error = %e, "reaper pass failed");
            }
        }
    }

    async fn reap(&self) -> Result<()> {
        let before = now_micros() - self.heartbeat_timeout.as_micros() as i64;
        for run in store::runs::timed_out(&self.store.read, before).await? {
            if let Some(next) = self.expire(run.clone(), before).await? {
                tracing::warn!(run_id = %run.id, next_attempt = ?next, "run timed out (no heartbeat)");
            }
        }
        Ok(())
    }

    /// Ends a timed-out run; Some(next attempt id or None) when this call did.
    async fn expire(&self, seen: RunRecord, before: i64) -> Result<Option<Option<String>>> {
        let tx = self.store.begin().await?;
        let Some(mut r) = store::runs::find(&tx, &seen.id).await? else {
            return Ok(None);
        };
        let from = RunStatus::parse(&r.status).unwrap_or(RunStatus::Failed);
        // Recheck under the transaction: it may have beaten or ended meanwhile.
        if from.is_terminal() || r.last_heartbeat_at.is_some_and(|t| t >= before) {
            return Ok(None);
        }
        let now = now_micros();
        let cancelling = from == RunStatus::Cancelling;
        let (to, class, reason) = if cancelling {
            (
                RunStatus::Cancelled,
                ResultClass::Cancelled,
                store::runs::cancel_code(&r),
            )
        } else {
            (
                RunStatus::Failed,
                ResultClass::Failure,
                ResultReasonCode::HeartbeatTimeout,
            )
        };
        let error = format!(
            "no heartbeat from executor {} for {:?}",
            r.executor_id.as_deref().unwrap_or("?"),
            self.heartbeat_timeout
        );
        store::runs::end(&mut r, to, class, Some(reason), Some(error), now);
        let Some(r) = store::runs::move_status(&tx, r, from).await? else {
            return Ok(None);
        };
        let mut next_id = None;
        if !cancelling
            && r.attempt_number <= r.max_auto_resume_attempts
            && let Some(next) = self.next_attempt(&tx, &r).await?
        {
            let next = store::runs::insert(&tx, next).await?;
            store::runs::link_next(&tx, &r.id, &next.id, now).await?;
            next_id = Some(next.id);
        }
        tx.commit().await?;
        Ok(Some(next_id))
    }

    /// The AUTO_RESUME attempt after `r`, unless its sync may not run now.
    async fn next_attempt(&self, tx: &store::tx::Tx, r: &RunRecord) -> Result<Option<RunRecord>> {
        let Some(sync) = store::syncs::find(tx, &r.sync_id).await? else {
            return Ok(None);
        };
        let status = SyncStatus::parse(&sync.sync.status).unwrap_or(SyncStatus::Error);
        // A plain read, not `connections::shared`: this transaction holds the
        // run's row, which a DisableConnection holding the connection's row
        // may be waiting for. A disable this read misses is caught by the
        // claim of the new attempt.
        let conn = store::connections::status_of(tx, &sync.sync.connection_id)
            .await?
            .and_then(|s| ConnectionStatus::parse(&s));
        if check_triggerable(status).is_err() || conn.is_none_or(|c| check_runnable(c).is_err()) {
            return Ok(None);
        }
        let mode = RunMode::parse(&r.run_mode).unwrap_or(RunMode::Incremental);
        Ok(Some(new_run(
            &sync,
            TriggeredBy::AutoResume,
            mode,
            r.id.clone(),
            Some(r),
        )))
    }
}

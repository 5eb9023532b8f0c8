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
        enums::{ResultClass, ResultReasonCode, RunStatus},
        now_micros,
    },
    error::Result,
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
        let from = r.status;
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
        let next_id = if cancelling {
            None
        } else {
            self.continue_chain(&tx, &r, now).await?
        };
        tx.commit().await?;
        Ok(Some(next_id))
    }
}

//! The freshness monitor: notices, within a tick, the ACTIVE syncs that
//! breach their freshness SLA and the breached syncs that recovered (a
//! newer success, a raised or removed SLA, a sync no longer ACTIVE), and
//! records each change on the sync, which announces it on WatchRuns (see
//! `store::freshness`). It runs wherever the scheduler runs; any number of
//! replicas may run it, as each change is recorded and announced once.

use std::{sync::Arc, time::Duration};

use super::Engine;
use crate::{
    domain::{freshness::Change, now_micros, rfc3339_micros},
    error::Result,
    store,
};

/// Syncs looked at per pass; the rest wait for the next tick.
const BATCH: u64 = 100;

impl Engine {
    /// Looks every `tick` until the task is dropped.
    pub async fn run_freshness_monitor(self: Arc<Self>, tick: Duration) {
        let mut tick = tokio::time::interval(tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.settle_freshness().await {
                tracing::warn!(error = %e, "freshness pass failed");
            }
        }
    }

    async fn settle_freshness(&self) -> Result<()> {
        let now = now_micros();
        for id in store::freshness::out_of_date(&self.store.read, now, BATCH).await? {
            // One transaction per change: rare, and no two replicas ever
            // wait on each other's locks in opposite orders.
            let tx = self.store.begin().await?;
            let change = store::freshness::settle(&tx, &id, now).await?;
            tx.commit().await?;
            match change {
                Some(Change::Breached { at }) => {
                    tracing::info!(sync_id = %id, since = %rfc3339_micros(at), "sync breached its freshness SLA");
                }
                Some(Change::Recovered) => tracing::info!(sync_id = %id, "sync is fresh again"),
                None => {}
            }
        }
        Ok(())
    }
}

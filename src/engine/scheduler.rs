//! The scheduler: fires ACTIVE SCHEDULED syncs on their slots (cron or
//! interval, in their time zone; see `domain::schedule`). A slot fires at
//! most once however many replicas schedule: its run is created in the
//! transaction that moves the sync's next slot, compare-and-set. A slot
//! that comes while a run is in progress is skipped; missed slots (the
//! server was down) fire once, not once each.

use std::{sync::Arc, time::Duration};

use super::Engine;
use crate::{
    domain::{
        connection::check_runnable,
        enums::{RunMode, TriggeredBy},
        now_micros,
        schedule::{Schedule, next_slot},
        sync::check_backend,
    },
    error::Result,
    service::runs::new_run,
    store,
};

/// How often due slots are looked for: the precision of firing.
const TICK: Duration = Duration::from_millis(250);
/// Syncs fired per transaction.
const BATCH: u64 = 100;

impl Engine {
    pub async fn run_scheduler(self: Arc<Self>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.fire_due().await {
                tracing::warn!(error = %e, "scheduler pass failed");
            }
        }
    }

    async fn fire_due(&self) -> Result<()> {
        let now = now_micros();
        if !store::syncs::any_due(&self.store.read, now).await? {
            return Ok(());
        }
        let tx = self.store.begin().await?;
        for s in store::syncs::due(&tx, now, BATCH).await? {
            let Some(slot) = s.next_run_at else { continue };
            let schedule: Option<Schedule> = s
                .schedule
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok());
            let next = schedule.and_then(|sc| next_slot(&sc, s.created_at, now));
            if !store::syncs::advance_slot(&tx, &s.id, slot, next).await? {
                continue; // another scheduler fired it
            }
            let slot_name = crate::domain::rfc3339_micros(slot);
            if let Some(active) = store::runs::active_for_sync(&tx, &s.id).await? {
                tracing::info!(sync_id = %s.id, slot = %slot_name, run_id = %active.id, "skipped a slot: a run is in progress");
                continue;
            }
            let conns = store::connections::of_run_start(&tx, &s.id).await?;
            if conns.is_empty() || conns.iter().any(|c| check_runnable(c.status).is_err()) {
                tracing::info!(sync_id = %s.id, slot = %slot_name, "skipped a slot: the connection cannot run");
                continue;
            }
            if check_backend(s.execution_backend).is_err() {
                tracing::info!(sync_id = %s.id, slot = %slot_name, "skipped a slot: nothing executes the sync's backend");
                continue;
            }
            let sync = store::syncs::get(&tx, &s.workspace_id, &s.id).await?;
            let run = new_run(
                &sync,
                TriggeredBy::Schedule,
                RunMode::Incremental,
                slot_name,
                None,
            );
            let run = store::runs::insert(&tx, run).await?;
            tracing::info!(sync_id = %s.id, run_id = %run.id, "fired a scheduled run");
        }
        tx.commit().await
    }
}

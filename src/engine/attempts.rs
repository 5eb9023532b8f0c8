//! The AUTO_RESUME attempt that continues a run its executor could not
//! finish (its heartbeats stopped, or its server shut down): created in the
//! transaction that ends the run, while attempts remain, and resuming from
//! the run's committed positions.

use super::Engine;
use crate::{
    domain::{connection::check_runnable, enums::TriggeredBy, sync::check_triggerable},
    error::Result,
    service::runs::new_run,
    store::{self, runs::RunRecord, tx::Tx},
};

impl Engine {
    /// Creates and links the next attempt after `ended` (just ended in
    /// `tx`) when attempts remain and its sync may still run; its id.
    pub(super) async fn continue_chain(
        &self,
        tx: &Tx,
        ended: &RunRecord,
        now: i64,
    ) -> Result<Option<String>> {
        if ended.attempt_number > ended.max_auto_resume_attempts {
            return Ok(None);
        }
        let Some(next) = self.next_attempt(tx, ended).await? else {
            return Ok(None);
        };
        let next = store::runs::insert(tx, next).await?;
        store::runs::link_next(tx, &ended.id, &next.id, now).await?;
        Ok(Some(next.id))
    }

    /// The AUTO_RESUME attempt after `r`, unless its sync may not run now.
    async fn next_attempt(&self, tx: &Tx, r: &RunRecord) -> Result<Option<RunRecord>> {
        let Some(sync) = store::syncs::find(tx, &r.sync_id).await? else {
            return Ok(None);
        };
        let status = sync.sync.status;
        // A plain read, not `connections::shared`: this transaction holds the
        // run's row, which a DisableConnection holding the connection's row
        // may be waiting for. A disable this read misses is caught by the
        // claim of the new attempt.
        let conn = store::connections::status_of(tx, &sync.sync.connection_id).await?;
        if check_triggerable(status).is_err() || conn.is_none_or(|c| check_runnable(c).is_err()) {
            return Ok(None);
        }
        let mode = r.run_mode;
        Ok(Some(new_run(
            &sync,
            TriggeredBy::AutoResume,
            mode,
            r.id.clone(),
            Some(r),
        )))
    }
}

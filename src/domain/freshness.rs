//! Freshness SLAs. An ACTIVE sync with freshness_sla_seconds is breached
//! once its last success (or, before any, its creation) is older than the
//! SLA. The server records each breach on the sync (freshness_breached_at)
//! and clears it on recovery, once each; this module decides which, given
//! what is stored and the time.

use super::{
    enums::SyncStatus,
    run_event::{EventBody, RunEvent},
};

/// What decides a sync's freshness, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freshness {
    pub status: SyncStatus,
    pub sla_seconds: Option<i64>,
    pub last_success_at: Option<i64>,
    pub created_at: i64,
    /// The breach recorded on the sync, if any.
    pub breached_at: Option<i64>,
}

/// A change of freshness to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The sync went stale at `at`: the deadline it missed.
    Breached { at: i64 },
    /// A newer success, a raised or removed SLA, or a sync no longer ACTIVE.
    Recovered,
}

impl Freshness {
    /// When the sync goes stale, if the SLA binds it: ACTIVE syncs only (a
    /// paused, draft, errored or archived sync is not expected to deliver).
    /// Checked: a deadline past any representable time binds nothing.
    pub fn deadline(&self) -> Option<i64> {
        if self.status != SyncStatus::Active {
            return None;
        }
        let since = self.last_success_at.unwrap_or(self.created_at);
        self.sla_seconds?
            .checked_mul(1_000_000)
            .and_then(|d| since.checked_add(d))
    }

    /// What to record at `now`, if the stored breach is out of date.
    pub fn change(&self, now: i64) -> Option<Change> {
        let deadline = self.deadline();
        match self.breached_at {
            None => deadline
                .filter(|&d| d < now)
                .map(|at| Change::Breached { at }),
            Some(_) if deadline.is_none() => Some(Change::Recovered),
            // Time alone never ends a breach, only a later deadline (a newer
            // success, a raised SLA) not yet passed: a replica whose clock
            // lags cannot undo the breach another recorded.
            Some(began) => deadline
                .filter(|&d| d > began && d >= now)
                .map(|_| Change::Recovered),
        }
    }

    /// The WatchRuns event announcing `change` of sync `sync_id`: an event
    /// of no run (empty run_id and status, sequence 0), never persisted.
    pub fn event(&self, sync_id: &str, workspace_id: &str, change: Change, now: i64) -> RunEvent {
        let (breached, breached_at) = match change {
            Change::Breached { at } => (true, Some(at)),
            // The breach that ended.
            Change::Recovered => (false, self.breached_at),
        };
        RunEvent {
            run_id: String::new(),
            sync_id: sync_id.into(),
            workspace_id: workspace_id.into(),
            sequence: 0,
            emitted_at: now,
            status: None,
            body: EventBody::FreshnessChanged {
                breached,
                freshness_sla_seconds: self.sla_seconds,
                last_success_at: self.last_success_at,
                breached_at,
                sync_status: self.status,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::limits::MAX_FRESHNESS_SLA_SECONDS;

    const NOW: i64 = 1_800_000_000_000_000;
    const SEC: i64 = 1_000_000;

    fn active(sla: i64, last_success_at: Option<i64>) -> Freshness {
        Freshness {
            status: SyncStatus::Active,
            sla_seconds: Some(sla),
            last_success_at,
            created_at: NOW - 3600 * SEC,
            breached_at: None,
        }
    }

    #[test]
    fn an_overdue_sync_breaches_at_the_deadline_it_missed() {
        let f = active(60, Some(NOW - 61 * SEC));
        assert_eq!(
            f.change(NOW),
            Some(Change::Breached { at: NOW - SEC }),
            "the deadline, not the time it was noticed"
        );
        // Exactly at the deadline it is still fresh.
        assert_eq!(active(60, Some(NOW - 60 * SEC)).change(NOW), None);
        // Before any success the clock runs from the sync's creation.
        let never = active(60, None);
        assert_eq!(
            never.change(NOW),
            Some(Change::Breached {
                at: never.created_at + 60 * SEC
            })
        );
    }

    #[test]
    fn a_recorded_breach_is_recorded_once_and_stays_while_overdue() {
        let mut f = active(60, Some(NOW - 61 * SEC));
        f.breached_at = Some(NOW - SEC);
        assert_eq!(f.change(NOW), None);
        // A raised SLA that is still missed keeps the breach as it began.
        f.sla_seconds = Some(30);
        assert_eq!(f.change(NOW), None);
    }

    #[test]
    fn a_clock_behind_the_one_that_recorded_a_breach_keeps_it() {
        let f = active(60, Some(NOW - 60 * SEC));
        let recorded = Freshness {
            breached_at: f.deadline(),
            ..f
        };
        assert_eq!(recorded.change(NOW - 10_000), None);
    }

    #[test]
    fn every_way_back_to_fresh_is_a_recovery() {
        let breached = Freshness {
            breached_at: Some(NOW - SEC),
            ..active(60, Some(NOW - 61 * SEC))
        };
        let newer_success = Freshness {
            last_success_at: Some(NOW),
            ..breached.clone()
        };
        let raised = Freshness {
            sla_seconds: Some(120),
            ..breached.clone()
        };
        let removed = Freshness {
            sla_seconds: None,
            ..breached.clone()
        };
        assert_eq!(newer_success.change(NOW), Some(Change::Recovered));
        assert_eq!(raised.change(NOW), Some(Change::Recovered));
        assert_eq!(removed.change(NOW), Some(Change::Recovered));
        for status in [
            SyncStatus::Draft,
            SyncStatus::Paused,
            SyncStatus::Error,
            SyncStatus::Archived,
        ] {
            let left = Freshness {
                status,
                ..breached.clone()
            };
            assert_eq!(left.change(NOW), Some(Change::Recovered), "{status}");
            assert_eq!(
                Freshness {
                    breached_at: None,
                    ..left
                }
                .change(NOW),
                None,
                "an inactive {status} sync never breaches"
            );
        }
    }

    #[test]
    fn no_sla_no_breach() {
        let f = Freshness {
            sla_seconds: None,
            ..active(1, None)
        };
        assert_eq!(f.change(NOW), None);
    }

    #[test]
    fn deadlines_never_wrap() {
        // i64::MAX seconds once wrapped to a deadline in the past.
        assert_eq!(active(i64::MAX, None).change(NOW), None);
        assert_eq!(active(i64::MAX / SEC, None).change(NOW), None);
        let late = Freshness {
            created_at: i64::MAX - 1,
            ..active(MAX_FRESHNESS_SLA_SECONDS, None)
        };
        assert_eq!(late.change(i64::MAX), None);
    }

    #[test]
    fn events_carry_the_breach_and_no_run() {
        let f = active(60, Some(NOW - 61 * SEC));
        let e = f.event("s", "w", Change::Breached { at: NOW - SEC }, NOW);
        assert_eq!((e.run_id.as_str(), e.sequence), ("", 0));
        assert!(!e.body.is_persisted());
        assert!(e.matches_statuses(&[]));
        assert!(!e.matches_statuses(&[crate::domain::enums::RunStatus::Running]));
        assert!(matches!(
            e.body,
            EventBody::FreshnessChanged {
                breached: true,
                breached_at: Some(at),
                freshness_sla_seconds: Some(60),
                ..
            } if at == NOW - SEC
        ));
        let ended = Freshness {
            breached_at: Some(NOW - SEC),
            sla_seconds: None,
            ..f
        };
        let e = ended.event("s", "w", Change::Recovered, NOW);
        assert!(matches!(
            e.body,
            EventBody::FreshnessChanged {
                breached: false,
                breached_at: Some(at),
                freshness_sla_seconds: None,
                ..
            } if at == NOW - SEC
        ));
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<RunEvent>(&json).unwrap(), e);
    }
}

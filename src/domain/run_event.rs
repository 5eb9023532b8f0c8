//! What happens to a run, as watchers see it. Status changes, progress and
//! log lines are persisted and numbered 1, 2, 3 … per run without gaps;
//! heartbeats are live only and carry the number of the last persisted
//! event they follow. A sync's freshness changes travel as events of no
//! run (WatchRuns only; see `freshness`). Stored and sent between replicas
//! as JSON.

use serde::{Deserialize, Serialize};

use super::enums::{LogLevel, ResultClass, ResultReasonCode, RunStatus, SyncStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    /// Empty for an event of no run (FreshnessChanged).
    pub run_id: String,
    pub sync_id: String,
    pub workspace_id: String,
    pub sequence: i64,
    /// Microseconds since the epoch.
    pub emitted_at: i64,
    /// The run's status once this event happened (for WatchRuns' filter);
    /// empty for an event of no run.
    /// The run's status after this event; None for events of no run.
    #[serde(default)]
    pub status: Option<RunStatus>,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    StatusChanged {
        /// None for the run's first event (its creation).
        from: Option<RunStatus>,
        to: RunStatus,
        result_class: Option<ResultClass>,
        result_reason_code: Option<ResultReasonCode>,
        error: Option<String>,
    },
    Heartbeat {
        executor_id: String,
        #[serde(flatten)]
        totals: Totals,
    },
    Progress {
        entity_key: String,
        #[serde(flatten)]
        totals: Totals,
    },
    Log {
        level: LogLevel,
        message: String,
        entity_key: String,
    },
    /// A sync breached its freshness SLA or recovered; the sync as it is
    /// after the change. Live only: the sync keeps the state.
    FreshnessChanged {
        breached: bool,
        freshness_sla_seconds: Option<i64>,
        last_success_at: Option<i64>,
        /// When the breach began (on a recovery: the one that ended).
        breached_at: Option<i64>,
        sync_status: SyncStatus,
    },
}

/// Running totals (not deltas), for one entity or a whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub records_read: i64,
    pub records_written: i64,
    pub bytes: i64,
}

impl EventBody {
    /// The `kind` column of a persisted event.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::StatusChanged { .. } => "status_changed",
            Self::Heartbeat { .. } => "heartbeat",
            Self::Progress { .. } => "progress",
            Self::Log { .. } => "log",
            Self::FreshnessChanged { .. } => "freshness_changed",
        }
    }

    /// Heartbeats and freshness changes are live only; everything else is
    /// persisted and numbered.
    pub fn is_persisted(&self) -> bool {
        !matches!(self, Self::Heartbeat { .. } | Self::FreshnessChanged { .. })
    }

    pub fn log(level: LogLevel, message: impl Into<String>, entity_key: &str) -> Self {
        Self::Log {
            level,
            message: message.into(),
            entity_key: entity_key.into(),
        }
    }
}

impl RunEvent {
    /// Whether this event ends the run's stream: a move to a terminal status.
    pub fn is_terminal(&self) -> bool {
        matches!(&self.body, EventBody::StatusChanged { to, .. }
            if to.is_terminal())
    }

    /// Whether a WatchRuns filter on `statuses` lets this event through: the
    /// run is in one of them, or a status change leaves one of them. An
    /// event of no run (a freshness change) passes no status filter: it
    /// reaches only watchers that filter on none.
    pub fn matches_statuses(&self, statuses: &[RunStatus]) -> bool {
        if statuses.is_empty() {
            return true;
        }
        self.status.is_some_and(|s| statuses.contains(&s))
            || matches!(&self.body, EventBody::StatusChanged { from: Some(f), .. } if statuses.contains(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(body: EventBody, status: RunStatus) -> RunEvent {
        RunEvent {
            run_id: "r".into(),
            sync_id: "s".into(),
            workspace_id: "w".into(),
            sequence: 3,
            emitted_at: 1,
            status: Some(status),
            body,
        }
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let e = ev(
            EventBody::Progress {
                entity_key: "users".into(),
                totals: Totals {
                    records_read: 5,
                    records_written: 4,
                    bytes: 300,
                },
            },
            RunStatus::Running,
        );
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains(r#""kind":"progress""#), "{json}");
        assert_eq!(serde_json::from_str::<RunEvent>(&json).unwrap(), e);
    }

    #[test]
    fn enums_travel_as_their_stored_strings_and_unknown_ones_are_refused() {
        let e = ev(
            EventBody::log(LogLevel::Warn, "x", ""),
            RunStatus::Cancelling,
        );
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains(r#""status":"cancelling""#), "{json}");
        assert!(json.contains(r#""level":"warn""#), "{json}");
        let bad = json.replace("cancelling", "halted");
        let err = serde_json::from_str::<RunEvent>(&bad).unwrap_err();
        assert!(
            err.to_string().contains(r#"unknown RunStatus "halted""#),
            "{err}"
        );
    }

    #[test]
    fn terminal_and_status_filters() {
        let done = ev(
            EventBody::StatusChanged {
                from: Some(RunStatus::Running),
                to: RunStatus::Succeeded,
                result_class: Some(ResultClass::Success),
                result_reason_code: None,
                error: None,
            },
            RunStatus::Succeeded,
        );
        assert!(done.is_terminal());
        assert!(done.matches_statuses(&[RunStatus::Running]));
        assert!(!done.matches_statuses(&[RunStatus::Pending]));
        let log = ev(EventBody::log(LogLevel::Info, "hi", ""), RunStatus::Running);
        assert!(!log.is_terminal());
        assert!(log.matches_statuses(&[]));
    }
}

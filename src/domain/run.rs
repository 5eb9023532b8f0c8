//! Run lifecycle:
//!
//! ```text
//! PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELLED
//! PENDING -> CANCELLED
//! RUNNING -> CANCELLING -> CANCELLED | SUCCEEDED | FAILED
//! ```
//! Terminal runs never change.

use super::enums::{ResultReasonCode, RunStatus};

impl RunStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    /// The statuses a sync may have at most one run in.
    pub const ACTIVE: &'static [RunStatus] = &[Self::Pending, Self::Running, Self::Cancelling];

    /// Whether `self -> to` is a transition of the lifecycle above.
    pub fn can_become(self, to: RunStatus) -> bool {
        use RunStatus::*;
        matches!(
            (self, to),
            (Pending, Running | Cancelled)
                | (Running, Cancelling | Succeeded | Failed | Cancelled)
                // A run asked to stop may still finish or fail before it notices.
                | (Cancelling, Cancelled | Succeeded | Failed)
        )
    }

    /// What CancelRun does to a run in this status: the next status, or None
    /// when the run is terminal. CANCELLING stays as it is.
    pub fn on_cancel(self) -> Option<RunStatus> {
        match self {
            Self::Pending => Some(Self::Cancelled),
            Self::Running | Self::Cancelling => Some(Self::Cancelling),
            _ => None,
        }
    }

    /// Whether RetryRun accepts a run in this status.
    pub fn can_retry(self) -> bool {
        matches!(self, Self::Failed | Self::Cancelled)
    }
}

/// A request that a run stop: who asked, why, and the result reason the
/// run ends CANCELLED with, whoever ends it (a PENDING run at once; a
/// RUNNING one through its executor, or the reaper).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRequest {
    pub by: String,
    pub reason: Option<String>,
    pub code: ResultReasonCode,
}

impl CancelRequest {
    /// CancelRun, with the user's reason if they gave one.
    pub fn by_user(by: &str, reason: &str) -> Self {
        Self {
            by: by.to_string(),
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            code: ResultReasonCode::UserCancelled,
        }
    }

    /// The run's connection is disabled, so its syncs cannot run: a fault
    /// of configuration, not the user's cancel.
    pub fn connection_disabled(by: &str, name: &str, slug: &str) -> Self {
        Self {
            by: by.to_string(),
            reason: Some(format!("the connection '{name}' ({slug}) is disabled")),
            code: ResultReasonCode::ConfigError,
        }
    }
}

/// RunSummary as stored (JSON).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct StoredSummary {
    pub entities: Vec<StoredEntitySummary>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct StoredEntitySummary {
    pub entity_key: String,
    pub records_read: i64,
    pub records_written: i64,
    pub bytes: i64,
    pub cursor_before: String,
    pub cursor_after: String,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    /// The destination table, fully qualified (see `Destination::qualified_name`).
    #[serde(default)]
    pub destination_table: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_table() {
        use RunStatus::*;
        let allowed = [
            (Pending, Running),
            (Pending, Cancelled),
            (Running, Cancelling),
            (Running, Succeeded),
            (Running, Failed),
            (Running, Cancelled),
            (Cancelling, Cancelled),
            (Cancelling, Succeeded),
            (Cancelling, Failed),
        ];
        for &from in RunStatus::ALL {
            for &to in RunStatus::ALL {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
        for &s in RunStatus::ALL {
            assert_eq!(
                s.is_terminal(),
                !s.can_become(Cancelled) && !s.can_become(Succeeded),
                "{s}"
            );
        }
    }

    #[test]
    fn cancel_and_retry() {
        use RunStatus::*;
        assert_eq!(Pending.on_cancel(), Some(Cancelled));
        assert_eq!(Running.on_cancel(), Some(Cancelling));
        assert_eq!(Succeeded.on_cancel(), None);
        assert!(Failed.can_retry() && Cancelled.can_retry());
        assert!(!Succeeded.can_retry() && !Running.can_retry());
    }

    #[test]
    fn cancel_requests_say_how_the_run_ends() {
        let user = CancelRequest::by_user("k", "");
        assert_eq!(user.code, ResultReasonCode::UserCancelled);
        assert_eq!(user.reason, None);
        let off = CancelRequest::connection_disabled("k", "Shop EU", "shop-eu");
        assert_eq!(off.code, ResultReasonCode::ConfigError);
        let why = off.reason.unwrap_or_default();
        assert!(why.contains("Shop EU") && why.contains("shop-eu"), "{why}");
    }
}

//! What the end of a run says about its sync and its connection: the
//! engine's own status changes, applied with the run's terminal transition.

use super::enums::{ConnectionStatus, ResultReasonCode, RunStatus, SyncStatus};

/// Failures no retry can fix: someone must change the sync or connection.
/// They are never auto-resumed, so such a run always ends its attempt chain.
fn needs_a_person(reason: Option<ResultReasonCode>) -> bool {
    matches!(
        reason,
        Some(ResultReasonCode::ConfigError | ResultReasonCode::AuthError)
    )
}

/// The sync's status after its run ended in `to` for `reason`: an ACTIVE
/// sync whose run failed for its configuration or credentials becomes
/// ERROR (and the scheduler stops firing it); the next success returns it
/// to ACTIVE. Statuses users set (DRAFT, PAUSED, ARCHIVED) are kept.
pub fn sync_status_after(
    status: SyncStatus,
    to: RunStatus,
    reason: Option<ResultReasonCode>,
) -> SyncStatus {
    match (status, to) {
        (SyncStatus::Error, RunStatus::Succeeded) => SyncStatus::Active,
        (SyncStatus::Active, RunStatus::Failed) if needs_a_person(reason) => SyncStatus::Error,
        _ => status,
    }
}

/// What a run's end proved about its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// It succeeded: the connection works, as a verification would show.
    Works,
    /// The source refused its credentials.
    AuthRefused,
}

pub fn proof(to: RunStatus, reason: Option<ResultReasonCode>) -> Option<Proof> {
    match (to, reason) {
        (RunStatus::Succeeded, _) => Some(Proof::Works),
        (RunStatus::Failed, Some(ResultReasonCode::AuthError)) => Some(Proof::AuthRefused),
        _ => None,
    }
}

/// The connection's status after `proof`; a DISABLED connection stays so.
pub fn connection_status_after(status: ConnectionStatus, proof: Proof) -> ConnectionStatus {
    match (status, proof) {
        (ConnectionStatus::Disabled, _) => status,
        (_, Proof::Works) => ConnectionStatus::Active,
        (_, Proof::AuthRefused) => ConnectionStatus::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ResultReasonCode as R;
    use RunStatus::{Cancelled, Failed, Succeeded};
    use SyncStatus::*;

    #[test]
    fn sync_status_follows_the_ends_of_its_runs() {
        let cases = [
            (Active, Failed, Some(R::ConfigError), Error),
            (Active, Failed, Some(R::AuthError), Error),
            (Active, Failed, Some(R::SourceError), Active),
            (Active, Failed, Some(R::HeartbeatTimeout), Active),
            (Active, Failed, Some(R::ServerShutdown), Active),
            (Active, Cancelled, Some(R::UserCancelled), Active),
            (Error, Failed, Some(R::ConfigError), Error),
            (Error, Cancelled, Some(R::UserCancelled), Error),
            (Error, Succeeded, None, Active),
            (Draft, Failed, Some(R::ConfigError), Draft),
            (Paused, Failed, Some(R::AuthError), Paused),
            (Archived, Succeeded, None, Archived),
            (Draft, Succeeded, None, Draft),
        ];
        for (from, to, reason, want) in cases {
            assert_eq!(
                sync_status_after(from, to, reason),
                want,
                "{from} after {to} {reason:?}"
            );
        }
    }

    #[test]
    fn connection_status_follows_what_runs_prove() {
        use ConnectionStatus as C;
        assert_eq!(proof(Succeeded, None), Some(Proof::Works));
        assert_eq!(proof(Failed, Some(R::AuthError)), Some(Proof::AuthRefused));
        assert_eq!(proof(Failed, Some(R::ConfigError)), None);
        assert_eq!(proof(Cancelled, Some(R::UserCancelled)), None);
        for from in [C::NeedsVerification, C::Active, C::Error] {
            assert_eq!(connection_status_after(from, Proof::Works), C::Active);
            assert_eq!(connection_status_after(from, Proof::AuthRefused), C::Error);
        }
        assert_eq!(
            connection_status_after(C::Disabled, Proof::Works),
            C::Disabled
        );
    }
}

//! What went wrong in a run's data plane, by kind, and what follows from
//! each kind: the run's result reason code and whether trying again inside
//! the run can help. Connectors and destinations say the kind; this is the
//! one place that decides.

use std::time::Duration;

use super::enums::ResultReasonCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The connection or sync asks for something impossible; no retry helps
    /// until someone changes it.
    Config,
    /// The external system refused the credentials.
    Auth,
    /// The external system asks us to slow down, perhaps saying for how long.
    RateLimited { retry_after: Option<Duration> },
    /// The source already waited out its rate-limit budget: the run ends
    /// RATE_LIMITED without trying again.
    RateLimitSpent,
    /// A failure that may pass: a dropped connection, a busy database, a
    /// server error of the moment.
    Transient,
    /// The provider cannot do this (yet).
    Unsupported,
    /// Anything else the external system refused.
    Failed,
}

/// Which end of the run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Destination,
}

/// Tries of one step (a batch's read or write) before the run fails.
pub const MAX_TRIES: u32 = 5;
/// The first wait before trying again; it doubles up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The longest Retry-After a run waits for; a longer one fails the run.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

impl FailureKind {
    /// The reason code of a run that ends with this failure.
    pub fn reason(self, side: Side) -> ResultReasonCode {
        match (self, side) {
            (Self::Config, _) => ResultReasonCode::ConfigError,
            (Self::Auth, _) => ResultReasonCode::AuthError,
            (Self::RateLimited { .. } | Self::RateLimitSpent, _) => ResultReasonCode::RateLimited,
            (Self::Transient | Self::Unsupported | Self::Failed, Side::Source) => {
                ResultReasonCode::SourceError
            }
            (Self::Transient | Self::Unsupported | Self::Failed, Side::Destination) => {
                ResultReasonCode::DestinationError
            }
        }
    }

    /// How long to wait before try number `tries + 1` (after `tries`
    /// failures), or None when this failure is final.
    pub fn retry_in(self, tries: u32) -> Option<Duration> {
        if tries >= MAX_TRIES {
            return None;
        }
        let backoff = FIRST_BACKOFF
            .saturating_mul(1 << tries.saturating_sub(1).min(16))
            .min(MAX_BACKOFF);
        match self {
            Self::Transient => Some(backoff),
            Self::RateLimited { retry_after: None } => Some(backoff),
            Self::RateLimited {
                retry_after: Some(after),
            } => (after <= MAX_RETRY_AFTER).then_some(after),
            Self::Config | Self::Auth | Self::Unsupported | Self::Failed | Self::RateLimitSpent => {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_reason_codes_by_side() {
        use ResultReasonCode::*;
        let rl = FailureKind::RateLimited { retry_after: None };
        for side in [Side::Source, Side::Destination] {
            assert_eq!(FailureKind::Config.reason(side), ConfigError);
            assert_eq!(FailureKind::Auth.reason(side), AuthError);
            assert_eq!(rl.reason(side), RateLimited);
        }
        assert_eq!(FailureKind::Transient.reason(Side::Source), SourceError);
        assert_eq!(
            FailureKind::Failed.reason(Side::Destination),
            DestinationError
        );
        assert_eq!(FailureKind::Unsupported.reason(Side::Source), SourceError);
    }

    #[test]
    fn only_passing_failures_are_retried_with_growing_waits() {
        let t = FailureKind::Transient;
        let waits: Vec<_> = (1..=MAX_TRIES).map(|n| t.retry_in(n)).collect();
        assert_eq!(
            waits,
            [
                Some(Duration::from_millis(500)),
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(2)),
                Some(Duration::from_secs(4)),
                None
            ]
        );
        for final_kind in [
            FailureKind::Config,
            FailureKind::Auth,
            FailureKind::Unsupported,
            FailureKind::Failed,
        ] {
            assert_eq!(final_kind.retry_in(1), None, "{final_kind:?}");
        }
        let said = FailureKind::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(said.retry_in(1), Some(Duration::from_secs(7)));
        let too_long = FailureKind::RateLimited {
            retry_after: Some(MAX_RETRY_AFTER + Duration::from_secs(1)),
        };
        assert_eq!(too_long.retry_in(1), None);
    }
}

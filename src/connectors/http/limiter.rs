//! The per-connection request rate (seed 004's `rate_limit_unit` and
//! `rate_limit_duration`): one GCRA limiter per connection in this
//! process, shared by every run and verification of it, so N runs together
//! stay within the limit the vendor gave the account.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::domain::connector_settings::{ConnectorSettings, RateLimitUnit};

pub type Limiter = DefaultDirectRateLimiter;

/// Every connection's limiter, with the quota it was made for.
type Registry = Mutex<HashMap<String, (Quota, Arc<Limiter>)>>;

/// The quota of `settings`: requests spread evenly over the unit (no
/// burst, so no window of one unit ever holds more than the limit), or
/// None without a limit.
pub fn quota(settings: &ConnectorSettings) -> Option<Quota> {
    let n = NonZeroU32::new(u32::try_from(settings.rate_limit_duration?).ok()?)?;
    let unit = match settings.rate_limit_unit? {
        RateLimitUnit::Second => Duration::from_secs(1),
        RateLimitUnit::Minute => Duration::from_secs(60),
        RateLimitUnit::Hour => Duration::from_secs(3600),
    };
    Quota::with_period(unit / n.get()).map(|q| q.allow_burst(NonZeroU32::MIN))
}

/// The limiter of connection `id` under `quota`: the one its other runs
/// use, or a new one when there is none or its quota changed.
pub fn shared(id: &str, quota: Quota) -> Arc<Limiter> {
    static LIMITERS: OnceLock<Registry> = OnceLock::new();
    let mut all = LIMITERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    // Connections come and go: forget limiters no run holds any more.
    all.retain(|_, (_, l)| Arc::strong_count(l) > 1);
    match all.get(id) {
        Some((q, l)) if *q == quota => l.clone(),
        _ => {
            let l = Arc::new(RateLimiter::direct(quota));
            all.insert(id.to_string(), (quota, l.clone()));
            l
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(unit: RateLimitUnit, n: i32) -> ConnectorSettings {
        ConnectorSettings {
            rate_limit_unit: Some(unit),
            rate_limit_duration: Some(n),
            ..Default::default()
        }
    }

    #[test]
    fn a_quota_spreads_the_limit_over_its_unit() {
        let q = quota(&settings(RateLimitUnit::Minute, 120)).unwrap();
        assert_eq!(q.replenish_interval(), Duration::from_millis(500));
        assert_eq!(q.burst_size().get(), 1);
        assert!(quota(&ConnectorSettings::default()).is_none());
        assert!(quota(&settings(RateLimitUnit::Second, 0)).is_none());
    }

    #[test]
    fn runs_of_one_connection_share_its_limiter_until_its_quota_changes() {
        let q = quota(&settings(RateLimitUnit::Second, 5)).unwrap();
        let a = shared("conn-shared", q);
        let b = shared("conn-shared", q);
        assert!(Arc::ptr_eq(&a, &b));
        let other = shared("conn-other", q);
        assert!(!Arc::ptr_eq(&a, &other));
        let faster = shared(
            "conn-shared",
            quota(&settings(RateLimitUnit::Second, 10)).unwrap(),
        );
        assert!(!Arc::ptr_eq(&a, &faster));
    }
}

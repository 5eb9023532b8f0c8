//! Schedules: a cron expression or a fixed interval, in an IANA time zone.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::enums::TimeUnit;
use crate::error::Violations;

/// A sync's schedule as stored (JSON in the control store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<Interval>,
    pub timezone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    pub units: i32,
    pub time_unit: String,
}

/// Parses a 5-field (minute precision) or 6-field (with seconds) cron expression.
pub fn parse_cron(expr: &str) -> Result<cron::Schedule, String> {
    let fields = expr.split_whitespace().count();
    let full = match fields {
        5 => format!("0 {expr}"),
        6 | 7 => expr.to_string(),
        _ => {
            return Err(
                "must have 5 fields (minute hour day month weekday) or 6 with seconds".into(),
            );
        }
    };
    cron::Schedule::from_str(&full).map_err(|e| format!("is not a valid cron expression: {e}"))
}

/// Checks a schedule under `field` (`schedule`).
pub fn check(s: &Schedule, field: &str, v: &mut Violations) {
    match (&s.cron, &s.every) {
        (Some(expr), None) => {
            if let Err(why) = parse_cron(expr) {
                v.add(format!("{field}.cron"), why);
            }
        }
        (None, Some(every)) => {
            if every.units < 1 {
                v.add(format!("{field}.every.units"), "must be 1 or more");
            }
            if TimeUnit::parse(&every.time_unit).is_none() {
                v.add(format!("{field}.every.time_unit"), "must be set");
            }
        }
        _ => v.add(field, "must set exactly one of cron or every"),
    }
    if s.timezone.parse::<chrono_tz::Tz>().is_err() {
        v.add(
            format!("{field}.timezone"),
            "must be an IANA time zone such as UTC or Europe/Berlin",
        );
    }
}

/// The first slot of `s` strictly after `after` (microseconds since the
/// epoch). Cron slots are the expression's times in the schedule's time zone;
/// interval slots are `anchor` plus whole intervals (calendar months for
/// MONTHS), so every replica computes the same slots. None when the
/// schedule is invalid or has no further slot.
pub fn next_slot(s: &Schedule, anchor: i64, after: i64) -> Option<i64> {
    let tz: chrono_tz::Tz = s.timezone.parse().ok()?;
    let after_dt = chrono::DateTime::from_timestamp_micros(after)?.with_timezone(&tz);
    match (&s.cron, &s.every) {
        (Some(expr), None) => {
            let next = parse_cron(expr).ok()?.after(&after_dt).next()?;
            Some(next.timestamp_micros())
        }
        (None, Some(every)) if every.units >= 1 => {
            let units = i64::from(every.units);
            let step = match TimeUnit::parse(&every.time_unit)? {
                TimeUnit::Minutes => 60,
                TimeUnit::Hours => 3_600,
                TimeUnit::Days => 86_400,
                TimeUnit::Weeks => 7 * 86_400,
                TimeUnit::Months => {
                    let start = chrono::DateTime::from_timestamp_micros(anchor)?.with_timezone(&tz);
                    // Whole months since the anchor, then step until past `after`.
                    let mut k =
                        ((after - anchor).max(0) / (28 * 86_400 * 1_000_000) / units) * units;
                    loop {
                        let t = start
                            .checked_add_months(chrono::Months::new(u32::try_from(k).ok()?))?;
                        if t.timestamp_micros() > after {
                            return Some(t.timestamp_micros());
                        }
                        k += units;
                    }
                }
            } * units
                * 1_000_000;
            let k = if after < anchor {
                0
            } else {
                (after - anchor) / step + 1
            };
            Some(anchor + k * step)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_micros()
    }

    #[test]
    fn slots_follow_cron_in_the_time_zone_and_intervals_from_the_anchor() {
        let cron = Schedule {
            cron: Some("30 9 * * *".into()),
            every: None,
            timezone: "Europe/Berlin".into(),
        };
        // 09:30 in Berlin is 08:30 UTC in winter.
        let t = micros("2026-11-22T12:00:00Z");
        assert_eq!(next_slot(&cron, 0, t), Some(micros("2026-11-23T08:30:00Z")));
        let every = |units, unit: &str| Schedule {
            cron: None,
            every: Some(Interval {
                units,
                time_unit: unit.into(),
            }),
            timezone: "UTC".into(),
        };
        let anchor = micros("2026-01-31T10:00:00Z");
        let s = every(15, "minutes");
        assert_eq!(
            next_slot(&s, anchor, anchor),
            Some(anchor + 15 * 60_000_000)
        );
        assert_eq!(
            next_slot(&s, anchor, anchor + 16 * 60_000_000),
            Some(anchor + 30 * 60_000_000),
            "missed slots are skipped, not replayed"
        );
        assert_eq!(next_slot(&s, anchor, anchor - 1), Some(anchor));
        let m = every(1, "months");
        assert_eq!(
            next_slot(&m, anchor, anchor),
            Some(micros("2026-02-28T10:00:00Z"))
        );
        assert_eq!(
            next_slot(&m, anchor, micros("2026-05-01T00:00:00Z")),
            Some(micros("2026-05-31T10:00:00Z"))
        );
    }

    #[test]
    fn cron_and_intervals() {
        assert!(parse_cron("*/5 * * * *").is_ok());
        assert!(parse_cron("0 */5 * * * *").is_ok());
        assert!(parse_cron("* *").is_err());
        assert!(parse_cron("61 * * * *").is_err());
        let mut v = Violations::new();
        let s = Schedule {
            cron: None,
            every: Some(Interval {
                units: 0,
                time_unit: "".into(),
            }),
            timezone: "Mars/Base".into(),
        };
        check(&s, "schedule", &mut v);
        let fields: Vec<_> = v.fields().collect();
        assert_eq!(
            fields,
            [
                "schedule.every.units",
                "schedule.every.time_unit",
                "schedule.timezone"
            ]
        );
    }
}

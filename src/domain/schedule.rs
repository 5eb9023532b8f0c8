//! Schedules: a cron expression or a fixed interval, in an IANA time zone.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{
    enums::TimeUnit,
    limits::{MAX_CRON_BYTES, in_timestamp_range, max_interval_units, unit_seconds},
};
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
            if expr.len() > MAX_CRON_BYTES {
                v.add(
                    format!("{field}.cron"),
                    format!("must be at most {MAX_CRON_BYTES} bytes"),
                );
            } else if let Err(why) = parse_cron(expr) {
                v.add(format!("{field}.cron"), why);
            }
        }
        (None, Some(every)) => {
            let unit = TimeUnit::parse(&every.time_unit);
            if every.units < 1 {
                v.add(format!("{field}.every.units"), "must be 1 or more");
            } else if let Some(unit) = unit
                && i64::from(every.units) > max_interval_units(unit)
            {
                // Longer intervals reach past any useful horizon, and their
                // slots past what a Timestamp can say.
                v.add(
                    format!("{field}.every.units"),
                    format!(
                        "must be at most {} {unit}: an interval spans at most one year",
                        max_interval_units(unit)
                    ),
                );
            }
            if unit.is_none() {
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
/// schedule is invalid or has no further slot within Timestamp's range: all
/// arithmetic is checked, so a schedule stored before intervals were
/// bounded stops firing instead of wrapping around.
pub fn next_slot(s: &Schedule, anchor: i64, after: i64) -> Option<i64> {
    let tz: chrono_tz::Tz = s.timezone.parse().ok()?;
    let next = match (&s.cron, &s.every) {
        (Some(expr), None) => {
            let after_dt = chrono::DateTime::from_timestamp_micros(after)?.with_timezone(&tz);
            parse_cron(expr)
                .ok()?
                .after(&after_dt)
                .next()?
                .timestamp_micros()
        }
        (None, Some(every)) if every.units >= 1 => {
            let units = i64::from(every.units);
            match unit_seconds(TimeUnit::parse(&every.time_unit)?) {
                Some(secs) => {
                    let step = secs.checked_mul(units)?.checked_mul(1_000_000)?;
                    let k = if after < anchor {
                        0
                    } else {
                        after.checked_sub(anchor)? / step + 1
                    };
                    anchor.checked_add(k.checked_mul(step)?)?
                }
                None => next_month_slot(tz, units, anchor, after)?,
            }
        }
        _ => return None,
    };
    in_timestamp_range(next).then_some(next)
}

/// The first of `anchor` + k·`units` calendar months (in `tz`) after `after`.
fn next_month_slot(tz: chrono_tz::Tz, units: i64, anchor: i64, after: i64) -> Option<i64> {
    const LONGEST_MONTH: i64 = 31 * 86_400 * 1_000_000;
    let start = chrono::DateTime::from_timestamp_micros(anchor)?.with_timezone(&tz);
    // Whole intervals that surely end by `after` (no month is longer than
    // 31 days), then step until past it.
    let elapsed = after.checked_sub(anchor)?.max(0);
    let mut k = (elapsed / LONGEST_MONTH / units).checked_mul(units)?;
    loop {
        let t = start
            .checked_add_months(chrono::Months::new(u32::try_from(k).ok()?))?
            .timestamp_micros();
        if t > after {
            return Some(t);
        }
        k = k.checked_add(units)?;
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

    fn every(units: i32, unit: &str) -> Schedule {
        Schedule {
            cron: None,
            every: Some(Interval {
                units,
                time_unit: unit.into(),
            }),
            timezone: "UTC".into(),
        }
    }

    #[test]
    fn intervals_are_bounded_to_a_year() {
        let fields = |s: &Schedule| {
            let mut v = Violations::new();
            check(s, "schedule", &mut v);
            v.fields().map(str::to_string).collect::<Vec<_>>()
        };
        for (units, unit) in [
            (527_040, "minutes"),
            (8_784, "hours"),
            (366, "days"),
            (52, "weeks"),
            (12, "months"),
        ] {
            assert!(fields(&every(units, unit)).is_empty(), "{units} {unit}");
            assert_eq!(fields(&every(units + 1, unit)), ["schedule.every.units"]);
        }
        for (units, unit) in [
            (150_000_000, "days"),
            (5_000_000, "days"),
            (i32::MAX, "weeks"),
            (i32::MAX, "months"),
        ] {
            assert_eq!(fields(&every(units, unit)), ["schedule.every.units"]);
        }
        let long = Schedule {
            cron: Some(format!("0 0 * * {}", "1,".repeat(200))),
            every: None,
            timezone: "UTC".into(),
        };
        assert_eq!(fields(&long), ["schedule.cron"]);
    }

    #[test]
    fn slots_at_the_extremes_stay_in_timestamp_range() {
        let now = micros("2026-03-01T00:00:00Z");
        let year = 366 * 86_400 * 1_000_000;
        // The longest valid intervals land one year out.
        for (units, unit) in [(527_040, "minutes"), (8_784, "hours"), (366, "days")] {
            assert_eq!(next_slot(&every(units, unit), now, now), Some(now + year));
        }
        assert_eq!(
            next_slot(&every(52, "weeks"), now, now),
            Some(now + 52 * 7 * 86_400 * 1_000_000)
        );
        assert_eq!(
            next_slot(&every(12, "months"), now, now),
            Some(micros("2027-03-01T00:00:00Z"))
        );
        // Schedules stored before intervals were bounded: no slot, never a
        // wrapped one (150M days overflowed to a slot in year -171842).
        for (units, unit) in [
            (150_000_000, "days"),
            (5_000_000, "days"),
            (i32::MAX, "weeks"),
            (i32::MAX, "months"),
        ] {
            assert_eq!(
                next_slot(&every(units, unit), now, now),
                None,
                "{units} {unit}"
            );
        }
        // Near the end of Timestamp's range, and with times no clock shows.
        let last = crate::domain::limits::MAX_TIMESTAMP_MICROS;
        assert_eq!(next_slot(&every(1, "days"), last - 1, last - 1), None);
        assert_eq!(next_slot(&every(1, "months"), last - 1, last - 1), None);
        assert_eq!(next_slot(&every(1, "minutes"), i64::MIN, i64::MAX), None);
        assert_eq!(next_slot(&every(1, "months"), i64::MIN, i64::MAX), None);
        let cron = Schedule {
            cron: Some("0 0 1 1 *".into()),
            every: None,
            timezone: "UTC".into(),
        };
        assert_eq!(next_slot(&cron, 0, last), None);
    }

    #[test]
    fn month_slots_are_never_skipped_however_long_ago_the_anchor() {
        let anchor = micros("2020-01-15T00:00:00Z");
        // 33 months after the anchor is the first slot after this.
        let after = micros("2022-10-01T00:00:00Z");
        assert_eq!(
            next_slot(&every(1, "months"), anchor, after),
            Some(micros("2022-10-15T00:00:00Z"))
        );
        assert_eq!(
            next_slot(&every(5, "months"), anchor, after),
            Some(micros("2022-12-15T00:00:00Z"))
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

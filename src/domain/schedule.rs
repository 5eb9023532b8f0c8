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

#[cfg(test)]
mod tests {
    use super::*;

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

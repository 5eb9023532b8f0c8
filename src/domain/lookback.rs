//! `lookback`: how far below its committed cursor an incremental run starts
//! reading again, so that rows committed late with an older cursor value
//! are still read (UPSERT makes the re-read harmless).
//!
//! For a date or timestamp cursor it is an ISO-8601 duration of whole
//! weeks, days, hours, minutes and seconds (`"PT15M"`, `"P1D"`, `"P1DT12H"`);
//! years and months are refused, having no fixed length. For an integer
//! cursor it is a non-negative number of cursor units (`500`).

use std::fmt;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde_json::{Map, Value};

/// The key in a sync's source_config.
pub const KEY: &str = "lookback";

/// Longest duration accepted: ten years of days keeps every cursor's
/// arithmetic far from overflow.
pub const MAX_SECONDS: i64 = 3650 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookback {
    /// A span of time in whole seconds: for date and timestamp cursors.
    Duration { seconds: i64 },
    /// A number of cursor units: for integer cursors.
    Units(u64),
}

impl Lookback {
    /// The lookback a source_config asks for, if any.
    pub fn of_config(config: &Map<String, Value>) -> Result<Option<Self>, String> {
        config.get(KEY).map(Self::parse).transpose()
    }

    /// A lookback from its JSON: a duration string or a non-negative integer.
    pub fn parse(v: &Value) -> Result<Self, String> {
        match v {
            Value::String(s) => parse_duration(s).map(|seconds| Self::Duration { seconds }),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Ok(Self::Units(u)),
                (None, Some(_)) => Err("must not be negative".into()),
                _ => Err("a number of cursor units must be a whole number".into()),
            },
            _ => Err(
                "must be an ISO-8601 duration (\"PT15M\") for a date or timestamp cursor, \
                 or a non-negative integer of cursor units for an integer cursor"
                    .into(),
            ),
        }
    }
}

impl fmt::Display for Lookback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Units(n) => write!(f, "{n} cursor units"),
            Self::Duration { seconds } => {
                let (d, rest) = (seconds / 86_400, seconds % 86_400);
                let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
                write!(f, "P")?;
                if d > 0 {
                    write!(f, "{d}D")?;
                }
                if rest > 0 || d == 0 {
                    write!(f, "T")?;
                    for (n, unit) in [(h, 'H'), (m, 'M'), (s, 'S')] {
                        if n > 0 {
                            write!(f, "{n}{unit}")?;
                        }
                    }
                    if rest == 0 {
                        write!(f, "0S")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// The seconds of an ISO-8601 duration `P[nW][nD][T[nH][nM][nS]]`, each
/// part a whole number, in that order, at least one present.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let bad = |why: &str| {
        Err(format!(
            "{text:?} is not an ISO-8601 duration such as \"PT15M\" or \"P1D\": {why}"
        ))
    };
    let s = text.trim().to_ascii_uppercase();
    if s.starts_with('-') {
        return Err("must not be negative".into());
    }
    let Some(body) = s.strip_prefix('P') else {
        return bad("it must start with P");
    };
    let (date, time) = match body.split_once('T') {
        Some((_, "")) => return bad("a T must be followed by hours, minutes or seconds"),
        Some((d, t)) => (d, Some(t)),
        None => (body, None),
    };
    let mut total: i64 = 0;
    let mut parts = 0;
    for (in_date, section, units) in [
        (true, date, &[('W', 7 * 86_400), ('D', 86_400)][..]),
        (
            false,
            time.unwrap_or(""),
            &[('H', 3600), ('M', 60), ('S', 1)][..],
        ),
    ] {
        let mut rest = section;
        let mut allowed = units;
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let Some(unit) = rest[digits..].chars().next() else {
                return bad("a number must be followed by its unit");
            };
            if digits == 0 {
                return match unit {
                    '.' | ',' => bad("parts must be whole numbers"),
                    _ => bad(&format!("{unit} must follow a number")),
                };
            }
            if matches!(unit, '.' | ',') {
                return bad("parts must be whole numbers");
            }
            if in_date && matches!(unit, 'Y' | 'M') {
                return bad("years and months have no fixed length; use days (\"P30D\")");
            }
            let Some(at) = allowed.iter().position(|(u, _)| *u == unit) else {
                return bad(&format!(
                    "unexpected {unit:?} (units go W, D, then T, H, M, S)"
                ));
            };
            let n: i64 = match rest[..digits].parse() {
                Ok(n) => n,
                Err(_) => {
                    return Err(format!(
                        "must be at most {}",
                        Lookback::Duration {
                            seconds: MAX_SECONDS
                        }
                    ));
                }
            };
            total = n
                .checked_mul(allowed[at].1)
                .and_then(|x| total.checked_add(x))
                .filter(|t| *t <= MAX_SECONDS)
                .ok_or_else(|| {
                    format!(
                        "must be at most {}",
                        Lookback::Duration {
                            seconds: MAX_SECONDS
                        }
                    )
                })?;
            allowed = &allowed[at + 1..];
            rest = &rest[digits + unit.len_utf8()..];
            parts += 1;
        }
    }
    if parts == 0 {
        return bad("it names no weeks, days, hours, minutes or seconds");
    }
    Ok(total)
}

/// How precise an ISO-8601 text is: the unit its last digit counts.
#[derive(Debug, Clone, Copy)]
enum Precision {
    Day,
    Minute,
    Second,
    /// Digits after the decimal point.
    Fraction(usize),
}

/// The smallest text of `text`'s shape (date, or date and time with the
/// same separator, precision and zone suffix) at or after `text` less
/// `seconds`: the lower bound of a lookback over ISO-8601 text, which
/// compares as text only between values of one shape. None when `text` is
/// no ISO-8601 date or timestamp, or the bound falls outside years 0–9999.
pub fn earlier_iso_text(text: &str, seconds: i64) -> Option<String> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10))
    {
        return None;
    }
    let date = NaiveDate::parse_from_str(&text[..10], "%Y-%m-%d").ok()?;
    let rest = &text[10..];
    let (sep, time, precision, suffix) = if rest.is_empty() {
        (None, NaiveTime::MIN, Precision::Day, "")
    } else {
        let sep = *rest.as_bytes().first()?;
        if !(sep == b'T' || sep == b' ') {
            return None;
        }
        let t = &rest[1..];
        let tb = t.as_bytes();
        let two = |at: usize| {
            tb.get(at..at + 2)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        };
        if !(two(0) && tb.get(2) == Some(&b':') && two(3)) {
            return None;
        }
        let (mut end, mut precision) = (5, Precision::Minute);
        if tb.get(5) == Some(&b':') && two(6) {
            end = 8;
            precision = Precision::Second;
            if tb.get(8) == Some(&b'.') {
                let n = tb[9..].iter().take_while(|c| c.is_ascii_digit()).count();
                if n == 0 || n > 9 {
                    return None;
                }
                end = 9 + n;
                precision = Precision::Fraction(n);
            }
        }
        let suffix = &t[end..];
        if !zone_suffix(suffix) {
            return None;
        }
        let time = NaiveTime::parse_from_str(
            &t[..end],
            match precision {
                Precision::Minute => "%H:%M",
                Precision::Second => "%H:%M:%S",
                _ => "%H:%M:%S%.f",
            },
        )
        .ok()?;
        (Some(sep as char), time, precision, suffix)
    };
    let lo = NaiveDateTime::new(date, time).checked_sub_signed(Duration::seconds(seconds))?;
    let lo = ceil(lo, precision)?;
    if !(0..=9999).contains(&chrono::Datelike::year(&lo)) {
        return None;
    }
    let mut out = lo.format("%Y-%m-%d").to_string();
    if let Some(sep) = sep {
        out.push(sep);
        out.push_str(&lo.format("%H:%M").to_string());
        match precision {
            Precision::Second => out.push_str(&lo.format(":%S").to_string()),
            Precision::Fraction(n) => {
                out.push_str(&lo.format(":%S").to_string());
                let nanos = format!("{:09}", lo.nanosecond());
                out.push('.');
                out.push_str(&nanos[..n]);
            }
            _ => {}
        }
        out.push_str(suffix);
    }
    Some(out)
}

/// `t` rounded up to a whole unit of `precision`.
fn ceil(t: NaiveDateTime, precision: Precision) -> Option<NaiveDateTime> {
    let unit_nanos: i64 = match precision {
        Precision::Day => 86_400 * 1_000_000_000,
        Precision::Minute => 60 * 1_000_000_000,
        Precision::Second => 1_000_000_000,
        Precision::Fraction(n) => 10_i64.pow(9 - n as u32),
    };
    let since_midnight = i64::from(t.num_seconds_from_midnight()) * 1_000_000_000
        + i64::from(t.nanosecond() % 1_000_000_000);
    let over = since_midnight % unit_nanos;
    if over == 0 {
        Some(t)
    } else {
        t.checked_add_signed(Duration::nanoseconds(unit_nanos - over))
    }
}

/// "", "Z", or an offset `+HH:MM`, `+HHMM`, `+HH` (or with `-`).
fn zone_suffix(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    match b.first() {
        None => true,
        Some(b'Z') => b.len() == 1,
        Some(b'+' | b'-') => match b.len() {
            3 => digits(1..3),
            5 => digits(1..5),
            6 => digits(1..3) && b[3] == b':' && digits(4..6),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn durations_parse_to_seconds() {
        for (text, seconds) in [
            ("PT15M", 900),
            ("P1D", 86_400),
            ("P1W", 604_800),
            ("PT1H30M", 5_400),
            ("P1DT2H3M4S", 93_784),
            ("PT0S", 0),
            ("pt90s", 90),
            ("P2W3D", 17 * 86_400),
            ("P3650D", MAX_SECONDS),
        ] {
            assert_eq!(parse_duration(text), Ok(seconds), "{text}");
        }
    }

    #[test]
    fn malformed_durations_are_refused_with_why() {
        for (text, why) in [
            ("", "must start with P"),
            ("15M", "must start with P"),
            ("P", "names no"),
            ("PT", "a T must be followed"),
            ("P1Y", "years and months"),
            ("P1M", "years and months"),
            ("PT1.5S", "whole numbers"),
            ("PT1,5S", "whole numbers"),
            ("PT15", "followed by its unit"),
            ("PTM", "must follow a number"),
            ("PT1M1H", "unexpected 'H'"),
            ("P1D1W", "unexpected 'W'"),
            ("PT1D", "unexpected 'D'"),
            ("P1H", "unexpected 'H'"),
            ("PT1M1M", "unexpected 'M'"),
            ("-PT15M", "negative"),
            ("P3651D", "at most P3650D"),
            ("P99999999999999999999D", "at most"),
        ] {
            let e = parse_duration(text).expect_err(text);
            assert!(e.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn json_values() {
        assert_eq!(
            Lookback::parse(&json!("PT15M")),
            Ok(Lookback::Duration { seconds: 900 })
        );
        assert_eq!(Lookback::parse(&json!(500)), Ok(Lookback::Units(500)));
        assert_eq!(Lookback::parse(&json!(0)), Ok(Lookback::Units(0)));
        assert!(
            Lookback::parse(&json!(-1))
                .unwrap_err()
                .contains("negative")
        );
        assert!(Lookback::parse(&json!(1.5)).unwrap_err().contains("whole"));
        assert!(
            Lookback::parse(&json!(true))
                .unwrap_err()
                .contains("ISO-8601")
        );
        assert!(Lookback::parse(&json!(null)).is_err());
        let config = json!({"lookback": "P1D"});
        assert_eq!(
            Lookback::of_config(config.as_object().unwrap()),
            Ok(Some(Lookback::Duration { seconds: 86_400 }))
        );
        assert_eq!(Lookback::of_config(&Map::new()), Ok(None));
    }

    #[test]
    fn display_is_a_canonical_duration() {
        for (seconds, text) in [
            (900, "PT15M"),
            (86_400, "P1D"),
            (93_784, "P1DT2H3M4S"),
            (0, "PT0S"),
        ] {
            assert_eq!(Lookback::Duration { seconds }.to_string(), text);
            assert_eq!(parse_duration(text), Ok(seconds));
        }
        assert_eq!(Lookback::Units(5).to_string(), "5 cursor units");
    }

    #[test]
    fn iso_text_keeps_its_shape() {
        for (text, seconds, want) in [
            ("2024-05-01T10:00:00Z", 900, "2024-05-01T09:45:00Z"),
            ("2024-05-01 10:00:00", 86_400, "2024-04-30 10:00:00"),
            (
                "2024-03-01T00:00:00.250+02:00",
                1,
                "2024-02-29T23:59:59.250+02:00",
            ),
            (
                "2024-05-01T10:00:00.123456",
                60,
                "2024-05-01T09:59:00.123456",
            ),
            ("2024-05-01T10:00", 900, "2024-05-01T09:45"),
            // Rounded up to the shape's unit: a stored value of that shape
            // is at least the exact bound exactly when it is at least this.
            ("2024-05-01T10:00", 30, "2024-05-01T10:00"),
            ("2024-05-01T10:00", 90, "2024-05-01T09:59"),
            ("2024-05-05", 86_400, "2024-05-04"),
            ("2024-05-05", 900, "2024-05-05"),
            ("2024-05-05", 86_400 + 1, "2024-05-04"),
            ("2024-01-01", 0, "2024-01-01"),
            ("2024-05-01T10:00:00-0500", 3600, "2024-05-01T09:00:00-0500"),
        ] {
            assert_eq!(
                earlier_iso_text(text, seconds).as_deref(),
                Some(want),
                "{text} - {seconds}s"
            );
        }
    }

    #[test]
    fn iso_text_that_is_no_timestamp_has_no_bound() {
        for text in [
            "",
            "yesterday",
            "2024-5-1",
            "2024-05-01X10:00",
            "2024-05-01T10",
            "2024-05-01T10:00:00.",
            "2024-05-01T10:00:00.1234567891",
            "2024-05-01T10:00:00+5",
            "2024-02-30",
            "2024-05-01T25:00",
            "12345",
        ] {
            assert_eq!(earlier_iso_text(text, 60), None, "{text}");
        }
        assert_eq!(earlier_iso_text("0000-01-01", 86_400), None);
    }
}

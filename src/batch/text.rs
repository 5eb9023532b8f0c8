//! The canonical text of Arrow values that have no native counterpart in a
//! destination (SQLite keeps times and exact decimals as TEXT): ISO 8601
//! times, exact decimal digits. One place, so a destination and the tests
//! that compare against it agree.

use std::fmt::Write;

use arrow_array::types::IntervalMonthDayNano;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The day a Date32 of `i32::MAX` stands for: PostgreSQL's `infinity`
/// (`i32::MIN` is `-infinity`). No finite date of a source maps there.
pub const DATE_INFINITY: i32 = i32::MAX;
/// The instant an i64 timestamp of `i64::MAX` stands for: `infinity`
/// (`i64::MIN` is `-infinity`), whatever its unit.
pub const TIMESTAMP_INFINITY: i64 = i64::MAX;

/// `days` since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian; years
/// below 0 or above 9999 print with their sign and more digits), or
/// `infinity` / `-infinity` for the sentinels.
pub fn date(days: i64, out: &mut String) {
    if let Some(s) = infinity(days, DATE_INFINITY.into(), i32::MIN.into()) {
        out.push_str(s);
        return;
    }
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        digits(out, y as u64, 4);
    } else {
        let _ = write!(out, "{y:+05}");
    }
    out.push('-');
    digits(out, u64::from(m), 2);
    out.push('-');
    digits(out, u64::from(d), 2);
}

/// Microseconds since midnight as `HH:MM:SS[.ffffff]`.
pub fn time_of_day(micros: i64, out: &mut String) {
    let secs = micros.div_euclid(1_000_000).unsigned_abs();
    let frac = micros.rem_euclid(1_000_000);
    digits(out, secs / 3600, 2);
    out.push(':');
    digits(out, secs / 60 % 60, 2);
    out.push(':');
    digits(out, secs % 60, 2);
    fraction(frac, out);
}

/// The last `width` decimal digits of `v`, zero-padded (no formatting
/// machinery: timestamps are formatted once per value per load).
fn digits(out: &mut String, v: u64, width: u32) {
    for i in (0..width).rev() {
        let d = (v / 10u64.pow(i)) % 10;
        out.push(char::from(b'0' + d as u8));
    }
}

/// Microseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS[.ffffff]`,
/// with `Z` when the value is an instant (a time zone was given); the
/// sentinels as `infinity` / `-infinity`.
pub fn timestamp(micros: i64, instant: bool, out: &mut String) {
    if let Some(s) = infinity(micros, TIMESTAMP_INFINITY, i64::MIN) {
        out.push_str(s);
        return;
    }
    date(micros.div_euclid(MICROS_PER_DAY), out);
    out.push('T');
    time_of_day(micros.rem_euclid(MICROS_PER_DAY), out);
    if instant {
        out.push('Z');
    }
}

/// An interval as ISO 8601 `P…M…DT…S` (months, days and an exact seconds
/// part kept apart: a month is not a number of days).
pub fn interval(v: IntervalMonthDayNano, out: &mut String) {
    let _ = write!(out, "P{}M{}DT", v.months, v.days);
    let sign = if v.nanoseconds < 0 { "-" } else { "" };
    let n = v.nanoseconds.unsigned_abs();
    let _ = write!(out, "{sign}{}", n / 1_000_000_000);
    let frac = n % 1_000_000_000;
    if frac != 0 {
        let digits = format!("{frac:09}");
        let _ = write!(out, ".{}", digits.trim_end_matches('0'));
    }
    out.push('S');
}

/// An unscaled decimal integer with `scale` digits after the point, exactly.
pub fn decimal(unscaled: i128, scale: i8, out: &mut String) {
    let digits = unscaled.unsigned_abs().to_string();
    if unscaled < 0 {
        out.push('-');
    }
    if scale <= 0 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', usize::from(scale.unsigned_abs())));
        return;
    }
    let scale = usize::from(scale.unsigned_abs());
    if digits.len() <= scale {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(&digits);
    } else {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
}

/// 16 bytes as the canonical hyphenated lowercase UUID.
pub fn uuid(bytes: &[u8], out: &mut String) {
    match uuid::Uuid::from_slice(bytes) {
        Ok(u) => {
            let _ = write!(out, "{}", u.hyphenated());
        }
        Err(_) => out.push_str(&hex::encode(bytes)),
    }
}

fn infinity(v: i64, plus: i64, minus: i64) -> Option<&'static str> {
    match v {
        v if v == plus => Some("infinity"),
        v if v == minus => Some("-infinity"),
        _ => None,
    }
}

/// A float JSON has no number for, spelled as PostgreSQL spells it.
pub fn non_finite(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

fn fraction(micros: i64, out: &mut String) {
    if micros != 0 {
        out.push('.');
        digits(out, micros.unsigned_abs(), 6);
    }
}

/// Howard Hinnant's civil_from_days: (year, month, day) of days since
/// 1970-01-01, for any i64 that a timestamp in microseconds can reach.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut String)) -> String {
        let mut out = String::new();
        f(&mut out);
        out
    }

    #[test]
    fn times_are_iso_8601_and_agree_with_chrono() {
        for micros in [
            0,
            1,
            -1,
            1_700_000_000_123_456,
            -2_208_988_800_000_000,  // 1900-01-01
            253_402_300_799_999_999, // 9999-12-31T23:59:59.999999
            951_782_400_000_000,     // 2000-02-29
        ] {
            let want = chrono::DateTime::from_timestamp_micros(micros)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S%.6f")
                .to_string();
            let want = want.trim_end_matches(".000000").to_string();
            assert_eq!(s(|o| timestamp(micros, false, o)), want, "{micros}");
            assert_eq!(s(|o| timestamp(micros, true, o)), format!("{want}Z"));
        }
        assert_eq!(s(|o| date(-719_528, o)), "0000-01-01");
        assert_eq!(s(|o| date(-719_529, o)), "-0001-12-31");
        assert_eq!(s(|o| time_of_day(45_296_000_007, o)), "12:34:56.000007");
    }

    #[test]
    fn the_infinity_sentinels_print_as_postgresql_spells_them() {
        assert_eq!(s(|o| date(i64::from(i32::MAX), o)), "infinity");
        assert_eq!(s(|o| date(i64::from(i32::MIN), o)), "-infinity");
        assert_eq!(s(|o| timestamp(i64::MAX, true, o)), "infinity");
        assert_eq!(s(|o| timestamp(i64::MIN, false, o)), "-infinity");
        assert_eq!(non_finite(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(non_finite(f64::NAN), "NaN");
    }

    #[test]
    fn decimals_keep_every_digit() {
        assert_eq!(s(|o| decimal(12_345, 2, o)), "123.45");
        assert_eq!(s(|o| decimal(-5, 3, o)), "-0.005");
        assert_eq!(s(|o| decimal(0, 2, o)), "0.00");
        assert_eq!(s(|o| decimal(7, -2, o)), "700");
        assert_eq!(
            s(|o| decimal(i128::MAX, 10, o)),
            "17014118346046923173168730371.5884105727"
        );
    }

    #[test]
    fn intervals_keep_months_days_and_seconds_apart() {
        let v = IntervalMonthDayNano::new(14, 3, 4_000_005_000);
        assert_eq!(s(|o| interval(v, o)), "P14M3DT4.000005S");
        let v = IntervalMonthDayNano::new(0, -1, -1_500_000_000);
        assert_eq!(s(|o| interval(v, o)), "P0M-1DT-1.5S");
    }

    #[test]
    fn uuids_are_hyphenated() {
        let u = uuid::Uuid::now_v7();
        assert_eq!(s(|o| uuid(u.as_bytes(), o)), u.to_string());
    }
}

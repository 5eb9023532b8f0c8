//! The type of a CSV column from sample values. Numbers with a fraction
//! are exact decimals kept as text ("12.50" stays "12.50"), unlike
//! arrow-csv's own inference, which makes them Float64.

use std::sync::Arc;

use arrow_schema::{DataType, Field, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime};

use crate::batch::{DECIMAL, with_extension};

/// Most significant digits of an exact decimal (the warehouses' NUMERIC).
const MAX_DECIMAL_DIGITS: usize = 38;

/// What the values of a column seen so far have in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// No value yet (only NULLs).
    Nothing,
    Boolean,
    Int,
    Decimal,
    Float,
    Date,
    Timestamp,
    TimestampTz,
    Text,
}

impl Kind {
    /// The kind of one (non-NULL, non-empty) value.
    pub(super) fn of(value: &str) -> Kind {
        let bytes = value.as_bytes();
        match bytes.first() {
            Some(b'0'..=b'9' | b'+' | b'-' | b'.') => {}
            Some(b't' | b'T' | b'f' | b'F')
                if value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false") =>
            {
                return Kind::Boolean;
            }
            _ => return Kind::Text,
        }
        number(value)
            .or_else(|| temporal(value))
            .unwrap_or(Kind::Text)
    }

    /// The kind of values of kinds `self` and `other`.
    pub(super) fn join(self, other: Kind) -> Kind {
        use Kind::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Nothing, k) | (k, Nothing) => k,
            (Int, Decimal) | (Decimal, Int) => Decimal,
            (Int | Decimal, Float) | (Float, Int | Decimal) => Float,
            (Date, Timestamp) | (Timestamp, Date) => Timestamp,
            _ => Text,
        }
    }

    pub(super) fn field(self, name: &str) -> Field {
        let field = |t| Field::new(name, t, true);
        match self {
            Kind::Nothing | Kind::Text => field(DataType::Utf8),
            Kind::Boolean => field(DataType::Boolean),
            Kind::Int => field(DataType::Int64),
            Kind::Decimal => with_extension(field(DataType::Utf8), DECIMAL),
            Kind::Float => field(DataType::Float64),
            Kind::Date => field(DataType::Date32),
            Kind::Timestamp => field(DataType::Timestamp(TimeUnit::Microsecond, None)),
            Kind::TimestampTz => field(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some(Arc::from("UTC")),
            )),
        }
    }
}

/// An integer (Int64, or Decimal beyond its range), a decimal or a float
/// with an exponent. Leading zeros ("007") make text: such codes are not
/// numbers, and a number would lose them.
fn number(value: &str) -> Option<Kind> {
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !fraction.is_none_or(digits) {
        return None;
    }
    let fraction_len = fraction.map_or(0, str::len);
    if whole.len() + fraction_len == 0 {
        return None;
    }
    if whole.len() > 1 && whole.starts_with('0') {
        return Some(Kind::Text);
    }
    if let Some(exponent) = exponent {
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        return (!exponent.is_empty() && digits(exponent)).then_some(Kind::Float);
    }
    let significant = whole.trim_start_matches('0').len() + fraction_len;
    if fraction.is_none() && value.parse::<i64>().is_ok() {
        Some(Kind::Int)
    } else if significant <= MAX_DECIMAL_DIGITS {
        Some(Kind::Decimal)
    } else {
        Some(Kind::Text)
    }
}

/// YYYY-MM-DD, or a date and a time of day (seconds required, a fraction
/// optional) joined by 'T' or ' ', with a zone (Z, ±HH:MM, ±HHMM, ±HH) or
/// without.
fn temporal(value: &str) -> Option<Kind> {
    let b = value.as_bytes();
    let date_shape = b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    if !date_shape {
        return None;
    }
    if b.len() == 10 {
        return NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .ok()
            .map(|_| Kind::Date);
    }
    if !(b[10] == b'T' || b[10] == b' ') || b.len() < 19 {
        return None;
    }
    // The local part ends where the fraction's digits end.
    let mut end = 19;
    if b.get(19) == Some(&b'.') {
        end = 20;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == 20 || end > 29 {
            return None;
        }
    }
    let local = format!("{} {}", &value[..10], &value[11..end]);
    NaiveDateTime::parse_from_str(&local, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    let zone = &value[end..];
    if zone.is_empty() {
        return Some(Kind::Timestamp);
    }
    let zb = zone.as_bytes();
    let two_digits = |s: &[u8]| s.len() == 2 && s.iter().all(u8::is_ascii_digit);
    let offset = matches!(zb[0], b'+' | b'-')
        && match zb.len() {
            3 => two_digits(&zb[1..3]),
            5 => two_digits(&zb[1..3]) && two_digits(&zb[3..5]),
            6 => two_digits(&zb[1..3]) && zb[3] == b':' && two_digits(&zb[4..6]),
            _ => false,
        };
    (zone == "Z" || zone == "z" || offset).then_some(Kind::TimestampTz)
}

/// Whether `value` is an exact decimal number's text (as a DECIMAL column
/// holds it): digits with an optional sign, fraction and exponent, any
/// number of them, or NaN, Infinity, -Infinity.
pub(super) fn is_decimal_text(value: &str) -> bool {
    if matches!(value, "NaN" | "Infinity" | "-Infinity") {
        return true;
    }
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    digits(whole) && digits(fraction) && whole.len() + fraction.len() > 0 && exponent_ok
}

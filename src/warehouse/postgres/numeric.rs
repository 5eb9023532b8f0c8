//! numeric's binary send format, computed exactly from a decimal's unscaled
//! integer or from exact decimal text: ndigits, weight, sign, dscale, then
//! base-10000 digits, most significant first (see PostgreSQL's
//! numeric_send).

use arrow_array::{Array, cast::AsArray};
use arrow_buffer::i256;
use arrow_schema::DataType;
use bytes::{BufMut, BytesMut};

use super::encode::EncodeFn;

const NBASE: u64 = 10_000;
const POSITIVE: u16 = 0x0000;
const NEGATIVE: u16 = 0x4000;
const NAN: u16 = 0xC000;
const PINF: u16 = 0xD000;
const NINF: u16 = 0xF000;
/// numeric's largest display scale (NUMERIC_DSCALE_MAX).
const MAX_DSCALE: usize = 0x3FFF;
/// Base-10000 digits of the largest magnitude (2^256 < 10^78), plus one
/// for the alignment shift.
const MAX_DIGITS: usize = 21;

/// Writes `unscaled × 10^-scale`.
pub fn put_i128(buf: &mut BytesMut, unscaled: i128, scale: i8) {
    let m = unscaled.unsigned_abs();
    put_magnitude(buf, unscaled < 0, [(m >> 64) as u64, m as u64], scale);
}

/// Writes `unscaled × 10^-scale` for a 256-bit decimal.
pub fn put_i256(buf: &mut BytesMut, unscaled: i256, scale: i8) {
    let (low, high) = unscaled.to_parts();
    let negative = high < 0;
    let high = high as u128;
    let mut limbs = [
        (high >> 64) as u64,
        high as u64,
        (low >> 64) as u64,
        low as u64,
    ];
    if negative {
        // Two's complement: the magnitude is !x + 1 (i256::MIN included).
        let mut carry = true;
        for limb in limbs.iter_mut().rev() {
            let (v, c) = (!*limb).overflowing_add(u64::from(carry));
            *limb = v;
            carry = c;
        }
    }
    put_magnitude(buf, negative, limbs, scale);
}

/// `limbs` is the magnitude, most significant 64 bits first.
fn put_magnitude<const N: usize>(
    buf: &mut BytesMut,
    negative: bool,
    mut limbs: [u64; N],
    scale: i8,
) {
    let dscale = u16::try_from(scale.max(0)).unwrap_or(0);
    if limbs.iter().all(|&l| l == 0) {
        buf.put_i16(0);
        buf.put_i16(0);
        buf.put_u16(POSITIVE);
        buf.put_u16(dscale);
        return;
    }
    // Base-10000 digits must align on the decimal point: the value is
    // magnitude × 10^e = (magnitude × 10^shift) × 10000^group.
    let e = -i32::from(scale);
    let group = e.div_euclid(4);
    let shift = e.rem_euclid(4) as u32;
    let mut digits = [0u16; MAX_DIGITS];
    let mut n = 0;
    if shift > 0 {
        // The lowest digit is the magnitude's last (4 - shift) decimal
        // digits times 10^shift; multiplying first could overflow.
        let low = divmod(&mut limbs, 10u64.pow(4 - shift));
        digits[n] = (low * 10u64.pow(shift)) as u16;
        n += 1;
    }
    while n < MAX_DIGITS && limbs.iter().any(|&l| l != 0) {
        digits[n] = divmod(&mut limbs, NBASE) as u16;
        n += 1;
    }
    // Trailing zero digits carry no information (numeric_send strips them).
    let lowest = digits[..n].iter().position(|&d| d != 0).unwrap_or(0);
    let weight = n as i32 - 1 + group;
    buf.put_i16((n - lowest) as i16);
    buf.put_i16(weight as i16);
    buf.put_u16(if negative { NEGATIVE } else { POSITIVE });
    buf.put_u16(dscale);
    for &d in digits[lowest..n].iter().rev() {
        buf.put_u16(d);
    }
}

/// Divides the big-endian limbs by `d` in place; returns the remainder.
fn divmod<const N: usize>(limbs: &mut [u64; N], d: u64) -> u64 {
    let mut rem: u64 = 0;
    for limb in limbs.iter_mut() {
        let cur = (u128::from(rem) << 64) | u128::from(*limb);
        // rem < d, so the quotient fits in 64 bits.
        *limb = (cur / u128::from(d)) as u64;
        rem = (cur % u128::from(d)) as u64;
    }
    rem
}

/// The encoder of decimal text (`batch::DECIMAL`: `-12.50`, `NaN`,
/// `Infinity`, `-Infinity`) into numeric, keeping every digit and the
/// scale as written.
pub fn text<'a>(array: &'a dyn Array) -> Option<EncodeFn<'a>> {
    match array.data_type() {
        DataType::Utf8 => {
            let a = array.as_string_opt::<i32>()?;
            Some(Box::new(move |buf, i| put_text(buf, a.value(i))))
        }
        DataType::LargeUtf8 => {
            let a = array.as_string_opt::<i64>()?;
            Some(Box::new(move |buf, i| put_text(buf, a.value(i))))
        }
        DataType::Utf8View => {
            let a = array.as_string_view_opt()?;
            Some(Box::new(move |buf, i| put_text(buf, a.value(i))))
        }
        _ => None,
    }
}

/// Writes the numeric `text` spells: an optional sign, digits with an
/// optional point, or one of `NaN`, `Infinity`, `-Infinity` (as PostgreSQL
/// prints them; case-insensitive, `inf` too, as numeric_in reads them).
pub fn put_text(buf: &mut BytesMut, text: &str) -> Result<(), String> {
    let bad = || format!("{text:?} is not a decimal number");
    let special = |buf: &mut BytesMut, sign: u16| {
        buf.put_i16(0);
        buf.put_i16(0);
        buf.put_u16(sign);
        buf.put_u16(0);
        Ok(())
    };
    let t = text.trim();
    let (negative, unsigned) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if unsigned.eq_ignore_ascii_case("nan") && unsigned.len() == t.len() {
        return special(buf, NAN);
    }
    if unsigned.eq_ignore_ascii_case("infinity") || unsigned.eq_ignore_ascii_case("inf") {
        return special(buf, if negative { NINF } else { PINF });
    }
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    if frac.len() > MAX_DSCALE {
        return Err(format!("{text:?} has more decimals than numeric holds"));
    }
    let int = int.trim_start_matches('0');
    // Base-10000 groups aligned on the point: the integer part padded on
    // the left, the fraction on the right, to whole groups.
    let int_groups = int.len().div_ceil(4);
    let mut digits: Vec<u16> = Vec::with_capacity(int_groups + frac.len().div_ceil(4));
    let padded_int = format!("{}{int}", "0".repeat(int_groups * 4 - int.len()));
    let padded_frac = format!(
        "{frac}{}",
        "0".repeat(frac.len().div_ceil(4) * 4 - frac.len())
    );
    for chunk in padded_int
        .as_bytes()
        .chunks(4)
        .chain(padded_frac.as_bytes().chunks(4))
    {
        digits.push(chunk.iter().fold(0u16, |v, d| v * 10 + u16::from(d - b'0')));
    }
    let mut weight = i64::try_from(int_groups).map_err(|_| bad())? - 1;
    // Zero groups at either end carry no digits (numeric_send strips them).
    let lead = digits.iter().take_while(|&&d| d == 0).count();
    weight -= i64::try_from(lead).map_err(|_| bad())?;
    let trail = digits[lead..].iter().rev().take_while(|&&d| d == 0).count();
    let kept = &digits[lead..digits.len() - trail];
    let dscale = u16::try_from(frac.len()).map_err(|_| bad())?;
    if kept.is_empty() {
        buf.put_i16(0);
        buf.put_i16(0);
        buf.put_u16(POSITIVE);
        buf.put_u16(dscale);
        return Ok(());
    }
    let weight = i16::try_from(weight)
        .map_err(|_| format!("{text:?} has more digits than numeric holds"))?;
    let ndigits = i16::try_from(kept.len())
        .map_err(|_| format!("{text:?} has more digits than numeric holds"))?;
    buf.put_i16(ndigits);
    buf.put_i16(weight);
    buf.put_u16(if negative { NEGATIVE } else { POSITIVE });
    buf.put_u16(dscale);
    for &d in kept {
        buf.put_u16(d);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(text: &str) -> Vec<u16> {
        let mut buf = BytesMut::new();
        put_text(&mut buf, text).unwrap();
        buf.chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect()
    }

    fn from_i128(unscaled: i128, scale: i8) -> Vec<u16> {
        let mut buf = BytesMut::new();
        put_i128(&mut buf, unscaled, scale);
        buf.chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect()
    }

    #[test]
    fn decimal_text_is_written_as_numeric_send_writes_it() {
        // ndigits, weight, sign, dscale, digits.
        assert_eq!(wire("12345.678"), [3, 1, 0, 3, 1, 2345, 6780]);
        assert_eq!(wire("-0.0001"), [1, 0xFFFF, 0x4000, 4, 1]);
        assert_eq!(wire("10000000"), [1, 1, 0, 0, 1000]);
        assert_eq!(wire("0.00"), [0, 0, 0, 2]);
        assert_eq!(wire("-0"), [0, 0, 0, 0]);
        assert_eq!(wire("NaN"), [0, 0, 0xC000, 0]);
        assert_eq!(wire("-Infinity"), [0, 0, 0xF000, 0]);
        assert_eq!(wire("Infinity"), [0, 0, 0xD000, 0]);
        // The same bytes as from the decimal's integer.
        for (text, unscaled, scale) in [
            ("1.10", 110, 2),
            ("-99999.99", -9_999_999, 2),
            (
                "123456789012345678901234567890",
                123_456_789_012_345_678_901_234_567_890,
                0,
            ),
            ("0.000000000000000000000000000000000001", 1, 36),
        ] {
            assert_eq!(wire(text), from_i128(unscaled, scale), "{text}");
        }
    }

    #[test]
    fn what_is_not_a_decimal_is_an_error() {
        for bad in ["", "-", ".", "1e5", "1.2.3", "abc", "--1", "-NaN"] {
            assert!(put_text(&mut BytesMut::new(), bad).is_err(), "{bad:?}");
        }
        assert!(put_text(&mut BytesMut::new(), ".5").is_ok());
    }
}

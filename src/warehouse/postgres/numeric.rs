//! numeric's binary send format, computed exactly from a decimal's unscaled
//! integer: ndigits, weight, sign, dscale, then base-10000 digits, most
//! significant first (see PostgreSQL's numeric_send).

use arrow_buffer::i256;
use bytes::{BufMut, BytesMut};

const NBASE: u64 = 10_000;
const POSITIVE: u16 = 0x0000;
const NEGATIVE: u16 = 0x4000;
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

//! Binary PostgreSQL values into Arrow builders, one builder per column,
//! as the type table (`types`) says. postgres-protocol decodes the wire
//! forms; Arrow's builders build the arrays.

use std::sync::Arc;

use arrow_array::types::ByteArrayType;
use arrow_array::{
    ArrayRef, ListArray,
    builder::{
        BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, FixedSizeBinaryBuilder,
        Float32Builder, Float64Builder, GenericByteBuilder, Int16Builder, Int32Builder,
        Int64Builder, IntervalMonthDayNanoBuilder, StringBuilder, Time64MicrosecondBuilder,
        TimestampMicrosecondBuilder,
    },
};
use arrow_buffer::{IntervalMonthDayNano, NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use postgres_protocol::types as wire;
use tokio_postgres::fallible_iterator::FallibleIterator;

use super::{numeric, types::Read};

/// Days from PostgreSQL's epoch (2000-01-01) back to Unix's.
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from PostgreSQL's epoch back to Unix's.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

type Decoded = Result<(), ValueError>;

/// What is wrong with a value; the caller names the column.
#[derive(Debug)]
pub enum ValueError {
    /// The bytes are not a value of the column's type: the data is corrupt.
    Malformed(String),
    /// A valid value that the column's Arrow type cannot hold (a predicate:
    /// "holds NaN, which …").
    Unrepresentable(String),
}

use ValueError::{Malformed, Unrepresentable};

/// The Arrow builder of one column (or of a list's items).
pub enum ColumnBuilder {
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Boolean(BooleanBuilder),
    Decimal(Decimal128Builder, usize),
    NumericText(StringBuilder),
    Text(StringBuilder),
    Jsonb(StringBuilder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Interval(IntervalMonthDayNanoBuilder),
    Uuid(FixedSizeBinaryBuilder),
    Bytea(BinaryBuilder),
    List(Box<ListBuilder>),
}

/// A list column: offsets and validity here, the items in their own builder.
pub struct ListBuilder {
    read: Read,
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
    items: ColumnBuilder,
}

impl ColumnBuilder {
    pub fn new(read: &Read, capacity: usize) -> Result<Self, String> {
        Ok(match read {
            Read::Int16 => Self::Int16(Int16Builder::with_capacity(capacity)),
            Read::Int32 => Self::Int32(Int32Builder::with_capacity(capacity)),
            Read::Int64 => Self::Int64(Int64Builder::with_capacity(capacity)),
            Read::Float32 => Self::Float32(Float32Builder::with_capacity(capacity)),
            Read::Float64 => Self::Float64(Float64Builder::with_capacity(capacity)),
            Read::Boolean => Self::Boolean(BooleanBuilder::with_capacity(capacity)),
            Read::Decimal { precision, scale } => Self::Decimal(
                Decimal128Builder::with_capacity(capacity)
                    .with_precision_and_scale(*precision, *scale)
                    .map_err(|e| e.to_string())?,
                usize::try_from(*scale).map_err(|e| e.to_string())?,
            ),
            Read::NumericText => Self::NumericText(StringBuilder::new()),
            Read::Text | Read::Json => Self::Text(StringBuilder::new()),
            Read::Jsonb => Self::Jsonb(StringBuilder::new()),
            Read::Date => Self::Date(Date32Builder::with_capacity(capacity)),
            Read::Time => Self::Time(Time64MicrosecondBuilder::with_capacity(capacity)),
            Read::Timestamp => {
                Self::Timestamp(TimestampMicrosecondBuilder::with_capacity(capacity))
            }
            Read::TimestampTz => Self::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            ),
            Read::Interval => Self::Interval(IntervalMonthDayNanoBuilder::with_capacity(capacity)),
            Read::Uuid => Self::Uuid(FixedSizeBinaryBuilder::with_capacity(capacity, 16)),
            Read::Bytea => Self::Bytea(BinaryBuilder::new()),
            Read::List(item) => {
                let mut offsets = Vec::with_capacity(capacity + 1);
                offsets.push(0);
                Self::List(Box::new(ListBuilder {
                    read: read.clone(),
                    offsets,
                    nulls: NullBufferBuilder::new(capacity),
                    items: ColumnBuilder::new(item, capacity)?,
                }))
            }
        })
    }

    /// Appends one value (None for NULL); the error says what is wrong
    /// with the value, the caller names the column.
    pub fn append(&mut self, raw: Option<&[u8]>) -> Decoded {
        let Some(raw) = raw else {
            self.append_null();
            return Ok(());
        };
        match self {
            Self::Int16(b) => b.append_value(wire::int2_from_sql(raw).map_err(bad)?),
            Self::Int32(b) => b.append_value(wire::int4_from_sql(raw).map_err(bad)?),
            Self::Int64(b) => b.append_value(wire::int8_from_sql(raw).map_err(bad)?),
            Self::Float32(b) => b.append_value(wire::float4_from_sql(raw).map_err(bad)?),
            Self::Float64(b) => b.append_value(wire::float8_from_sql(raw).map_err(bad)?),
            Self::Boolean(b) => b.append_value(wire::bool_from_sql(raw).map_err(bad)?),
            Self::Decimal(b, scale) => b.append_value(match decimal_fast(raw, *scale) {
                Some(v) => v,
                // Whatever the fast path leaves (NaN, too many decimals, an
                // overflow, malformed bytes) gets its exact error here.
                None => numeric::decode(raw)
                    .map_err(Malformed)?
                    .to_i128(*scale)
                    .map_err(Unrepresentable)?,
            }),
            Self::NumericText(b) => {
                let text = numeric::decode(raw).map_err(Malformed)?.to_text();
                room(b, text.len())?;
                b.append_value(text)
            }
            Self::Text(b) => {
                room(b, raw.len())?;
                b.append_value(wire::text_from_sql(raw).map_err(bad)?)
            }
            Self::Jsonb(b) => match raw.split_first() {
                Some((1, json)) => {
                    room(b, json.len())?;
                    b.append_value(wire::text_from_sql(json).map_err(bad)?)
                }
                _ => {
                    return Err(Malformed(
                        "a jsonb value has an unknown format version".into(),
                    ));
                }
            },
            Self::Date(b) => b.append_value(date(wire::date_from_sql(raw).map_err(bad)?)?),
            Self::Time(b) => b.append_value(wire::time_from_sql(raw).map_err(bad)?),
            Self::Timestamp(b) => {
                b.append_value(timestamp(wire::timestamp_from_sql(raw).map_err(bad)?)?)
            }
            Self::Interval(b) => b.append_value(interval(raw)?),
            Self::Uuid(b) => b
                .append_value(wire::uuid_from_sql(raw).map_err(bad)?)
                .map_err(|e| Malformed(e.to_string()))?,
            Self::Bytea(b) => {
                room(b, raw.len())?;
                b.append_value(wire::bytea_from_sql(raw))
            }
            Self::List(l) => l.append(raw)?,
        }
        Ok(())
    }

    fn append_null(&mut self) {
        match self {
            Self::Int16(b) => b.append_null(),
            Self::Int32(b) => b.append_null(),
            Self::Int64(b) => b.append_null(),
            Self::Float32(b) => b.append_null(),
            Self::Float64(b) => b.append_null(),
            Self::Boolean(b) => b.append_null(),
            Self::Decimal(b, _) => b.append_null(),
            Self::NumericText(b) | Self::Text(b) | Self::Jsonb(b) => b.append_null(),
            Self::Date(b) => b.append_null(),
            Self::Time(b) => b.append_null(),
            Self::Timestamp(b) => b.append_null(),
            Self::Interval(b) => b.append_null(),
            Self::Uuid(b) => b.append_null(),
            Self::Bytea(b) => b.append_null(),
            Self::List(l) => {
                l.nulls.append_null();
                l.offsets.push(l.offsets.last().copied().unwrap_or(0));
            }
        }
    }

    /// The values appended since the last finish, as an array.
    pub fn finish(&mut self) -> Result<ArrayRef, String> {
        Ok(match self {
            Self::Int16(b) => Arc::new(b.finish()),
            Self::Int32(b) => Arc::new(b.finish()),
            Self::Int64(b) => Arc::new(b.finish()),
            Self::Float32(b) => Arc::new(b.finish()),
            Self::Float64(b) => Arc::new(b.finish()),
            Self::Boolean(b) => Arc::new(b.finish()),
            Self::Decimal(b, _) => Arc::new(b.finish()),
            Self::NumericText(b) | Self::Text(b) | Self::Jsonb(b) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
            Self::Time(b) => Arc::new(b.finish()),
            Self::Timestamp(b) => Arc::new(b.finish()),
            Self::Interval(b) => Arc::new(b.finish()),
            Self::Uuid(b) => Arc::new(b.finish()),
            Self::Bytea(b) => Arc::new(b.finish()),
            Self::List(l) => l.finish()?,
        })
    }
}

impl ListBuilder {
    fn append(&mut self, raw: &[u8]) -> Decoded {
        let array = wire::array_from_sql(raw).map_err(bad)?;
        let dims = array.dimensions().count().map_err(bad)?;
        if dims > 1 {
            return Err(Unrepresentable(format!(
                "holds a {dims}-dimensional array; only 1-dimensional arrays are read as lists \
                 (a column declared with more dimensions, e.g. int[][], is carried as text)"
            )));
        }
        let mut values = array.values();
        let mut count: i32 = 0;
        while let Some(value) = values.next().map_err(bad)? {
            self.items.append(value)?;
            count += 1;
        }
        let end = self
            .offsets
            .last()
            .copied()
            .unwrap_or(0)
            .checked_add(count)
            .ok_or_else(|| {
                Unrepresentable(
                    "holds more list items in one batch than Arrow's 32-bit offsets allow".into(),
                )
            })?;
        self.offsets.push(end);
        self.nulls.append_non_null();
        Ok(())
    }

    fn finish(&mut self) -> Result<ArrayRef, String> {
        let Read::List(item) = &self.read else {
            return Err("a list builder lost its item type".into());
        };
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let list = ListArray::try_new(
            Arc::new(item.item_field()),
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            self.items.finish()?,
            self.nulls.finish(),
        )
        .map_err(|e| e.to_string())?;
        Ok(Arc::new(list))
    }
}

/// Arrow's builders panic past 2 GiB of bytes in one array (32-bit
/// offsets): refuse the value before that.
fn room<T: ByteArrayType<Offset = i32>>(
    b: &GenericByteBuilder<T>,
    more: usize,
) -> Result<(), ValueError> {
    match b.values_slice().len().checked_add(more) {
        Some(total) if i32::try_from(total).is_ok() => Ok(()),
        _ => Err(Unrepresentable(
            "holds more than 2 GiB in one batch, more than an Arrow array holds; \
             read with a smaller batch size"
                .into(),
        )),
    }
}

/// A finite numeric's value times 10^scale, summed straight from its
/// base-10000 digits (no text on the way, no allocation): the common case
/// of a numeric(p,s) column. None when it is not that simple, for
/// `numeric::decode` and `to_i128` to answer exactly: not finite, a digit
/// below the scale or the display scale, an overflow, malformed bytes.
fn decimal_fast(raw: &[u8], scale: usize) -> Option<i128> {
    let word = |i: usize| -> Option<u16> {
        let b = raw.get(i * 2..i * 2 + 2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(1)? as i16);
    let negative = match word(2)? {
        0x0000 => false,
        0x4000 => true,
        _ => return None,
    };
    let dscale = i32::from(word(3)?);
    if raw.len() != 8 + 2 * ndigits {
        return None;
    }
    let scale = i32::try_from(scale).ok()?;
    // Digits below the display scale are not part of the value's text.
    let kept = scale.min(dscale);
    let mut value: i128 = 0;
    for k in 0..ndigits {
        let d = word(4 + k)?;
        if d > 9999 {
            return None;
        }
        let d = i128::from(d);
        // Group k is worth 10000^(weight - k).
        let exp = 4 * (weight - i32::try_from(k).ok()?);
        let below = exp + kept;
        if below < 0 && d % 10i128.checked_pow(below.unsigned_abs())? != 0 {
            return None;
        }
        let scaled = exp + scale;
        let term = if scaled >= 0 {
            d.checked_mul(10i128.checked_pow(scaled.unsigned_abs())?)?
        } else {
            d / 10i128.checked_pow(scaled.unsigned_abs())?
        };
        value = value.checked_add(term)?;
    }
    Some(if negative { -value } else { value })
}

fn bad(e: Box<dyn std::error::Error + Send + Sync>) -> ValueError {
    Malformed(e.to_string())
}

/// Days since 2000-01-01 to days since 1970-01-01; ±infinity stays at
/// `i32::MAX` / `i32::MIN` (see `types`).
fn date(days: i32) -> Result<i32, ValueError> {
    match days {
        i32::MAX | i32::MIN => Ok(days),
        d => d.checked_add(PG_EPOCH_DAYS).ok_or_else(|| {
            Unrepresentable(format!(
                "holds date {d} (days since 2000), out of Arrow's range"
            ))
        }),
    }
}

/// Microseconds since 2000-01-01 to since 1970-01-01; ±infinity stays at
/// `i64::MAX` / `i64::MIN` (see `types`).
fn timestamp(micros: i64) -> Result<i64, ValueError> {
    match micros {
        i64::MAX | i64::MIN => Ok(micros),
        m => m.checked_add(PG_EPOCH_MICROS).ok_or_else(|| {
            Unrepresentable(format!(
                "holds timestamp {m} (microseconds since 2000), out of Arrow's range"
            ))
        }),
    }
}

/// interval's wire form: microseconds (i64), days (i32), months (i32).
fn interval(raw: &[u8]) -> Result<IntervalMonthDayNano, ValueError> {
    let bytes: [u8; 16] = raw
        .try_into()
        .map_err(|_| Malformed("an interval has the wrong length".into()))?;
    let [
        m0,
        m1,
        m2,
        m3,
        m4,
        m5,
        m6,
        m7,
        d0,
        d1,
        d2,
        d3,
        n0,
        n1,
        n2,
        n3,
    ] = bytes;
    let micros = i64::from_be_bytes([m0, m1, m2, m3, m4, m5, m6, m7]);
    let days = i32::from_be_bytes([d0, d1, d2, d3]);
    let months = i32::from_be_bytes([n0, n1, n2, n3]);
    let nanoseconds = micros.checked_mul(1000).ok_or_else(|| {
        Unrepresentable(format!(
            "holds interval ({months} months, {days} days, {micros} µs) whose time part \
             exceeds Arrow's nanosecond range"
        ))
    })?;
    Ok(IntervalMonthDayNano::new(months, days, nanoseconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        for w in [digits.len() as u16, weight as u16, sign, dscale]
            .into_iter()
            .chain(digits.iter().copied())
        {
            out.extend_from_slice(&w.to_be_bytes());
        }
        out
    }

    /// The fast path agrees with the exact one wherever it answers, and
    /// leaves every value the exact one refuses.
    #[test]
    fn decimals_decode_fast_exactly_as_through_text() {
        let cases: &[(i16, u16, u16, &[u16], usize)] = &[
            (0, 0, 2, &[1234, 5600], 2),      // 1234.56
            (0, 0x4000, 2, &[1234, 5600], 2), // -1234.56
            (0, 0, 2, &[1234, 5600], 4),      // more scale than dscale
            (-1, 0, 2, &[100], 2),            // 0.01
            (-2, 0, 6, &[12], 6),             // 0.000012
            (1, 0, 0, &[12, 3456], 0),        // 123456
            (2, 0, 0, &[1], 3),               // 10^8
            (0, 0, 0, &[], 2),                // 0
            (0, 0x4000, 3, &[], 3),           // -0
            (0, 0, 3, &[1, 2345], 2),         // 1.2345: too many decimals
            (0, 0, 1, &[1, 2500], 2),         // 1.25 shown as 1.2 (dscale 1)
            (0, 0xC000, 0, &[], 2),           // NaN
            (0, 0xD000, 0, &[], 2),           // Infinity
            (9, 0, 0, &[9999; 10], 0),        // 10^40 - 1: overflows
            (0, 0, 2, &[10_000], 2),          // malformed digit
            (-9, 0, 40, &[1], 38),            // 10^-36, dscale 40
        ];
        for &(weight, sign, dscale, digits, scale) in cases {
            let raw = wire(weight, sign, dscale, digits);
            let exact = numeric::decode(&raw).and_then(|n| n.to_i128(scale));
            match (decimal_fast(&raw, scale), exact) {
                (Some(fast), Ok(exact)) => assert_eq!(fast, exact, "{raw:?} at {scale}"),
                (Some(fast), Err(e)) => panic!("fast {fast} where exact refuses: {e}"),
                (None, _) => {}
            }
        }
        // The common shapes do take the fast path.
        assert_eq!(
            decimal_fast(&wire(0, 0, 2, &[1234, 5600]), 2),
            Some(123_456)
        );
        assert_eq!(decimal_fast(&wire(0, 0x4000, 2, &[7, 500]), 2), Some(-705));
        assert_eq!(decimal_fast(&wire(-1, 0, 2, &[100]), 2), Some(1));
        // Wrong length.
        assert_eq!(decimal_fast(&wire(0, 0, 2, &[1])[..9], 2), None);
    }
}

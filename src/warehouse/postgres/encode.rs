//! Per-column value encoders: each turns one non-null Arrow value into the
//! binary send format of the target PostgreSQL type, straight from the
//! Arrow buffers (no text or JSON detour).

use arrow_array::{
    Array, ArrowPrimitiveType, GenericListArray, OffsetSizeTrait, PrimitiveArray,
    cast::AsArray,
    types::{
        Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type,
        DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType,
        DurationSecondType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
        Int64Type, IntervalDayTimeType, IntervalMonthDayNanoType, IntervalYearMonthType,
        Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
        UInt8Type, UInt16Type, UInt32Type, UInt64Type,
    },
};
use arrow_schema::{DataType, IntervalUnit, TimeUnit};
use bytes::{BufMut, BytesMut};

use super::{numeric, types::PgType};

/// Writes the value at a row (never a null one), without its length
/// prefix; a value the target cannot hold is an error saying why.
pub type EncodeFn<'a> = Box<dyn Fn(&mut BytesMut, usize) -> Result<(), String> + Send + Sync + 'a>;

/// PostgreSQL's epoch, 2000-01-01, from Unix's.
const PG_EPOCH_DAYS: i64 = 10_957;
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * 86_400 * 1_000_000;
const DAY_MICROS: i64 = 86_400 * 1_000_000;
/// jsonb's binary format version, before the JSON text.
const JSONB_VERSION: u8 = 1;

/// The encoder of `array`'s values into a `target` column, or None when
/// the pair is not supported (the caller names the column).
pub fn encoder<'a>(array: &'a dyn Array, target: &PgType) -> Option<EncodeFn<'a>> {
    use DataType as D;
    match (array.data_type(), target) {
        (D::Boolean, PgType::Bool) => {
            let a = array.as_boolean_opt()?;
            Some(Box::new(move |buf, i| {
                buf.put_u8(u8::from(a.value(i)));
                Ok(())
            }))
        }
        (D::Int8, _) => ints::<Int8Type>(array, target),
        (D::Int16, _) => ints::<Int16Type>(array, target),
        (D::Int32, _) => ints::<Int32Type>(array, target),
        (D::Int64, _) => ints::<Int64Type>(array, target),
        (D::UInt8, _) => ints::<UInt8Type>(array, target),
        (D::UInt16, _) => ints::<UInt16Type>(array, target),
        (D::UInt32, _) => ints::<UInt32Type>(array, target),
        (D::UInt64, _) => ints::<UInt64Type>(array, target),
        (D::Float16, _) => floats::<Float16Type>(array, target, |v| v.to_f64()),
        (D::Float32, _) => floats::<Float32Type>(array, target, f64::from),
        (D::Float64, PgType::Float8) => floats::<Float64Type>(array, target, |v| v),
        (D::Decimal32(_, s), PgType::Numeric(_)) => {
            decimals::<Decimal32Type>(array, *s, i128::from)
        }
        (D::Decimal64(_, s), PgType::Numeric(_)) => {
            decimals::<Decimal64Type>(array, *s, i128::from)
        }
        (D::Decimal128(_, s), PgType::Numeric(_)) => decimals::<Decimal128Type>(array, *s, |v| v),
        (D::Decimal256(_, s), PgType::Numeric(_)) => {
            let a = array.as_primitive_opt::<Decimal256Type>()?;
            let scale = *s;
            Some(Box::new(move |buf, i| {
                numeric::put_i256(buf, a.value(i), scale);
                Ok(())
            }))
        }
        (D::Utf8 | D::LargeUtf8 | D::Utf8View, PgType::Numeric(_)) => numeric::text(array),
        (D::Utf8 | D::LargeUtf8 | D::Utf8View, _) => text(array, target),
        (D::Binary, PgType::Bytea) => bytes_of(array.as_binary_opt::<i32>()?, |a, i| a.value(i)),
        (D::LargeBinary, PgType::Bytea) => {
            bytes_of(array.as_binary_opt::<i64>()?, |a, i| a.value(i))
        }
        (D::BinaryView, PgType::Bytea) => bytes_of(array.as_binary_view_opt()?, |a, i| a.value(i)),
        (D::FixedSizeBinary(16), PgType::Uuid) | (D::FixedSizeBinary(_), PgType::Bytea) => {
            bytes_of(array.as_fixed_size_binary_opt()?, |a, i| a.value(i))
        }
        (D::Date32, PgType::Date) => {
            let a = array.as_primitive_opt::<Date32Type>()?;
            Some(Box::new(move |buf, i| put_date(buf, i64::from(a.value(i)))))
        }
        (D::Date64, PgType::Date) => {
            let a = array.as_primitive_opt::<Date64Type>()?;
            Some(Box::new(move |buf, i| {
                put_date(buf, a.value(i).div_euclid(86_400_000))
            }))
        }
        (D::Time32(unit), PgType::Time) => match unit {
            TimeUnit::Second => time::<Time32SecondType>(array, |v| i64::from(v) * 1_000_000),
            TimeUnit::Millisecond => time::<Time32MillisecondType>(array, |v| i64::from(v) * 1_000),
            _ => None,
        },
        (D::Time64(unit), PgType::Time) => match unit {
            TimeUnit::Microsecond => time::<Time64MicrosecondType>(array, |v| v),
            TimeUnit::Nanosecond => time::<Time64NanosecondType>(array, |v| v.div_euclid(1_000)),
            _ => None,
        },
        (D::Timestamp(unit, None), PgType::Timestamp)
        | (D::Timestamp(unit, Some(_)), PgType::Timestamptz) => timestamp(array, *unit),
        (D::Duration(unit), PgType::Interval) => duration(array, *unit),
        (D::Interval(unit), PgType::Interval) => interval(array, *unit),
        (D::List(_), PgType::Array(item)) => list::<i32>(array.as_list_opt::<i32>()?, item),
        (D::LargeList(_), PgType::Array(item)) => list::<i64>(array.as_list_opt::<i64>()?, item),
        _ => None,
    }
}

fn ints<'a, T>(array: &'a dyn Array, target: &PgType) -> Option<EncodeFn<'a>>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i128>,
{
    let a: &'a PrimitiveArray<T> = array.as_primitive_opt::<T>()?;
    let put: fn(&mut BytesMut, i128) -> Result<(), String> = match target {
        PgType::Int2 => |buf, v| {
            buf.put_i16(i16::try_from(v).map_err(|_| format!("{v} is out of smallint's range"))?);
            Ok(())
        },
        PgType::Int4 => |buf, v| {
            buf.put_i32(i32::try_from(v).map_err(|_| format!("{v} is out of integer's range"))?);
            Ok(())
        },
        PgType::Int8 => |buf, v| {
            buf.put_i64(i64::try_from(v).map_err(|_| format!("{v} is out of bigint's range"))?);
            Ok(())
        },
        PgType::Numeric(_) => |buf, v| {
            numeric::put_i128(buf, v, 0);
            Ok(())
        },
        // Only types a float holds exactly get here (see types::widens).
        PgType::Float4 => |buf, v| {
            buf.put_f32(v as f32);
            Ok(())
        },
        PgType::Float8 => |buf, v| {
            buf.put_f64(v as f64);
            Ok(())
        },
        _ => return None,
    };
    Some(Box::new(move |buf, i| put(buf, a.value(i).into())))
}

fn floats<'a, T>(
    array: &'a dyn Array,
    target: &PgType,
    to_f64: fn(T::Native) -> f64,
) -> Option<EncodeFn<'a>>
where
    T: ArrowPrimitiveType,
{
    let a: &'a PrimitiveArray<T> = array.as_primitive_opt::<T>()?;
    match target {
        // Float16 and Float32 only: f64 → f32 is exact for them.
        PgType::Float4 => Some(Box::new(move |buf, i| {
            buf.put_f32(to_f64(a.value(i)) as f32);
            Ok(())
        })),
        PgType::Float8 => Some(Box::new(move |buf, i| {
            buf.put_f64(to_f64(a.value(i)));
            Ok(())
        })),
        _ => None,
    }
}

fn decimals<'a, T>(
    array: &'a dyn Array,
    scale: i8,
    to_i128: fn(T::Native) -> i128,
) -> Option<EncodeFn<'a>>
where
    T: ArrowPrimitiveType,
{
    let a: &'a PrimitiveArray<T> = array.as_primitive_opt::<T>()?;
    Some(Box::new(move |buf, i| {
        numeric::put_i128(buf, to_i128(a.value(i)), scale);
        Ok(())
    }))
}

fn text<'a>(array: &'a dyn Array, target: &PgType) -> Option<EncodeFn<'a>> {
    let put: fn(&mut BytesMut, &str) = match target {
        PgType::Text | PgType::Varchar | PgType::Json => |buf, s| buf.put_slice(s.as_bytes()),
        PgType::Jsonb => |buf, s| {
            buf.put_u8(JSONB_VERSION);
            buf.put_slice(s.as_bytes());
        },
        _ => return None,
    };
    match array.data_type() {
        DataType::Utf8 => {
            let a = array.as_string_opt::<i32>()?;
            Some(Box::new(move |buf, i| {
                put(buf, a.value(i));
                Ok(())
            }))
        }
        DataType::LargeUtf8 => {
            let a = array.as_string_opt::<i64>()?;
            Some(Box::new(move |buf, i| {
                put(buf, a.value(i));
                Ok(())
            }))
        }
        DataType::Utf8View => {
            let a = array.as_string_view_opt()?;
            Some(Box::new(move |buf, i| {
                put(buf, a.value(i));
                Ok(())
            }))
        }
        _ => None,
    }
}

fn bytes_of<'a, A: Send + Sync>(
    a: &'a A,
    value: fn(&'a A, usize) -> &'a [u8],
) -> Option<EncodeFn<'a>> {
    Some(Box::new(move |buf, i| {
        buf.put_slice(value(a, i));
        Ok(())
    }))
}

fn put_date(buf: &mut BytesMut, unix_days: i64) -> Result<(), String> {
    // The ±infinity sentinels (batch::text) are PostgreSQL's own.
    if unix_days == i64::from(i32::MAX) || unix_days == i64::from(i32::MIN) {
        buf.put_i32(unix_days as i32);
        return Ok(());
    }
    let days = i32::try_from(unix_days - PG_EPOCH_DAYS)
        .map_err(|_| format!("{unix_days} days from 1970-01-01 is out of date's range"))?;
    buf.put_i32(days);
    Ok(())
}

fn time<'a, T>(array: &'a dyn Array, to_micros: fn(T::Native) -> i64) -> Option<EncodeFn<'a>>
where
    T: ArrowPrimitiveType,
{
    let a: &'a PrimitiveArray<T> = array.as_primitive_opt::<T>()?;
    Some(Box::new(move |buf, i| {
        let micros = to_micros(a.value(i));
        // 24:00:00 is a valid time in PostgreSQL.
        if !(0..=DAY_MICROS).contains(&micros) {
            return Err(format!("{micros} microseconds is not a time of day"));
        }
        buf.put_i64(micros);
        Ok(())
    }))
}

/// Microseconds from a count of `unit`; nanoseconds are truncated to the
/// microsecond below (PostgreSQL keeps microseconds).
fn to_micros(v: i64, unit: TimeUnit) -> Result<i64, String> {
    match unit {
        TimeUnit::Second => v.checked_mul(1_000_000),
        TimeUnit::Millisecond => v.checked_mul(1_000),
        TimeUnit::Microsecond => Some(v),
        TimeUnit::Nanosecond => Some(v.div_euclid(1_000)),
    }
    .ok_or_else(|| format!("{v} {unit:?}s overflow microseconds"))
}

fn timestamp<'a>(array: &'a dyn Array, unit: TimeUnit) -> Option<EncodeFn<'a>> {
    use arrow_array::types::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    fn enc<'a, T: ArrowPrimitiveType<Native = i64>>(
        array: &'a dyn Array,
        unit: TimeUnit,
    ) -> Option<EncodeFn<'a>> {
        let a: &'a PrimitiveArray<T> = array.as_primitive_opt::<T>()?;
        Some(Box::new(move |buf, i| {
            let v = a.value(i);
            // The ±infinity sentinels (batch::text) are PostgreSQL's own.
            if v == i64::MAX || v == i64::MIN {
                buf.put_i64(v);
                return Ok(());
            }
            let micros = to_micros(v, unit)?
                .checked_sub(PG_EPOCH_MICROS)
                .ok_or("timestamp out of range")?;
            buf.put_i64(micros);
            Ok(())
        }))
    }
    match unit {
        TimeUnit::Second => enc::<TimestampSecondType>(array, unit),
        TimeUnit::Millisecond => enc::<TimestampMillisecondType>(array, unit),
        TimeUnit::Microsecond => enc::<TimestampMicrosecondType>(array, unit),
        TimeUnit::Nanosecond => enc::<TimestampNanosecondType>(array, unit),
    }
}

/// interval's binary format: microseconds (i64), days (i32), months (i32).
fn put_interval(buf: &mut BytesMut, micros: i64, days: i32, months: i32) {
    buf.put_i64(micros);
    buf.put_i32(days);
    buf.put_i32(months);
}

fn duration<'a>(array: &'a dyn Array, unit: TimeUnit) -> Option<EncodeFn<'a>> {
    fn enc<'a, T: ArrowPrimitiveType<Native = i64>>(
        array: &'a dyn Array,
        unit: TimeUnit,
    ) -> Option<EncodeFn<'a>> {
        let a: &'a PrimitiveArray<T> = array.as_primitive_opt::<T>()?;
        Some(Box::new(move |buf, i| {
            let v = a.value(i);
            // Toward zero, as a displayed duration is truncated.
            let micros = match unit {
                TimeUnit::Nanosecond => v / 1_000,
                _ => to_micros(v, unit)?,
            };
            put_interval(buf, micros, 0, 0);
            Ok(())
        }))
    }
    match unit {
        TimeUnit::Second => enc::<DurationSecondType>(array, unit),
        TimeUnit::Millisecond => enc::<DurationMillisecondType>(array, unit),
        TimeUnit::Microsecond => enc::<DurationMicrosecondType>(array, unit),
        TimeUnit::Nanosecond => enc::<DurationNanosecondType>(array, unit),
    }
}

fn interval<'a>(array: &'a dyn Array, unit: IntervalUnit) -> Option<EncodeFn<'a>> {
    match unit {
        IntervalUnit::YearMonth => {
            let a = array.as_primitive_opt::<IntervalYearMonthType>()?;
            Some(Box::new(move |buf, i| {
                put_interval(buf, 0, 0, a.value(i));
                Ok(())
            }))
        }
        IntervalUnit::DayTime => {
            let a = array.as_primitive_opt::<IntervalDayTimeType>()?;
            Some(Box::new(move |buf, i| {
                let v = a.value(i);
                put_interval(buf, i64::from(v.milliseconds) * 1_000, v.days, 0);
                Ok(())
            }))
        }
        IntervalUnit::MonthDayNano => {
            let a = array.as_primitive_opt::<IntervalMonthDayNanoType>()?;
            Some(Box::new(move |buf, i| {
                let v = a.value(i);
                put_interval(buf, v.nanoseconds / 1_000, v.days, v.months);
                Ok(())
            }))
        }
    }
}

/// The binary array format: ndim, has-null flag, element OID, then per
/// dimension its size and lower bound (1), then the elements, each with
/// its length (-1 for NULL). An empty list is a zero-dimension array, as
/// PostgreSQL sends it.
fn list<'a, O: OffsetSizeTrait>(a: &'a GenericListArray<O>, item: &PgType) -> Option<EncodeFn<'a>> {
    let elem_oid = item.oid()?;
    let values: &'a dyn Array = a.values().as_ref();
    let elem = encoder(values, item)?;
    Some(Box::new(move |buf, i| {
        let offsets = a.value_offsets();
        let (start, end) = (offsets[i].as_usize(), offsets[i + 1].as_usize());
        if start == end {
            buf.put_i32(0);
            buf.put_i32(0);
            buf.put_u32(elem_oid);
            return Ok(());
        }
        let len = i32::try_from(end - start).map_err(|_| "array too long".to_string())?;
        let has_null = (start..end).any(|j| values.is_null(j));
        buf.put_i32(1);
        buf.put_i32(i32::from(has_null));
        buf.put_u32(elem_oid);
        buf.put_i32(len);
        buf.put_i32(1);
        for j in start..end {
            if values.is_null(j) {
                buf.put_i32(-1);
            } else {
                put_with_len(buf, |buf| elem(buf, j))?;
            }
        }
        Ok(())
    }))
}

/// Writes a value's i32 length, then the value: the length is patched in
/// once the value is written.
pub fn put_with_len(
    buf: &mut BytesMut,
    write: impl FnOnce(&mut BytesMut) -> Result<(), String>,
) -> Result<(), String> {
    let at = buf.len();
    buf.put_i32(0);
    write(buf)?;
    let len = i32::try_from(buf.len() - at - 4)
        .map_err(|_| "a value is larger than PostgreSQL's 1 GB field limit".to_string())?;
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

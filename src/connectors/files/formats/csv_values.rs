//! Column fix-ups after arrow-csv: text parsed into a typed column (where
//! a null marker made the decoder read it as text), time zones labelled,
//! decimal text checked. Errors carry the row's index in the batch.

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, PrimitiveArray, StringArray,
    cast::AsArray,
    make_array,
    types::{ArrowPrimitiveType, Date32Type, Float64Type, Int64Type, TimestampMicrosecondType},
};
use arrow_cast::parse::{Parser, string_to_datetime};
use arrow_schema::{ArrowError, DataType, TimeUnit};
use chrono::Utc;

use super::csv_infer::is_decimal_text;

/// A row's index in the batch, and what is wrong with its value.
pub(super) type BadValue = (usize, String);

/// `column` as `to`, a type with the same values (a timestamp with a zone
/// label from one without).
pub(super) fn relabel(column: &ArrayRef, to: &DataType) -> Result<ArrayRef, ArrowError> {
    let data = column
        .to_data()
        .into_builder()
        .data_type(to.clone())
        .build()?;
    Ok(make_array(data))
}

/// The text of a column parsed as `to`: an empty field is NULL there, as
/// is a NULL (the null marker); the rest parses as arrow-csv parses it.
pub(super) fn text_to_typed(column: &dyn Array, to: &DataType) -> Result<ArrayRef, BadValue> {
    let text = column.as_string::<i32>();
    let values = || text.iter().map(|v| v.filter(|s| !s.is_empty())).enumerate();
    let bad = |row: usize, s: &str| (row, format!("{s:?} is not a {to} value"));
    Ok(match to {
        DataType::Int64 => primitive::<Int64Type>(text, to)?,
        DataType::Float64 => primitive::<Float64Type>(text, to)?,
        DataType::Date32 => primitive::<Date32Type>(text, to)?,
        DataType::Boolean => Arc::new(
            values()
                .map(|(row, v)| match v {
                    None => Ok(None),
                    Some(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
                    Some(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
                    Some(s) => Err(bad(row, s)),
                })
                .collect::<Result<BooleanArray, _>>()?,
        ),
        DataType::Timestamp(TimeUnit::Microsecond, zone) => Arc::new(
            values()
                .map(|(row, v)| match v {
                    None => Ok(None),
                    Some(s) => string_to_datetime(&Utc, s)
                        .map(|t| Some(t.timestamp_micros()))
                        .map_err(|_| bad(row, s)),
                })
                .collect::<Result<PrimitiveArray<TimestampMicrosecondType>, _>>()?
                .with_timezone_opt(zone.clone()),
        ),
        other => cast_text(text, other)?,
    })
}

fn primitive<T: ArrowPrimitiveType + Parser>(
    text: &StringArray,
    to: &DataType,
) -> Result<ArrayRef, BadValue> {
    let array = text
        .iter()
        .enumerate()
        .map(|(row, v)| match v.filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => T::parse(s)
                .map(Some)
                .ok_or_else(|| (row, format!("{s:?} is not a {to} value"))),
        })
        .collect::<Result<PrimitiveArray<T>, _>>()?;
    Ok(Arc::new(array))
}

/// Any other type by arrow's cast, the row of a failure found one by one.
fn cast_text(text: &StringArray, to: &DataType) -> Result<ArrayRef, BadValue> {
    let text: StringArray = text.iter().map(|v| v.filter(|s| !s.is_empty())).collect();
    let options = arrow_cast::CastOptions {
        safe: false,
        ..Default::default()
    };
    arrow_cast::cast_with_options(&text, to, &options).map_err(|e| {
        let row = (0..text.len())
            .find(|&i| arrow_cast::cast_with_options(&text.slice(i, 1), to, &options).is_err())
            .unwrap_or(0);
        (row, e.to_string())
    })
}

/// A text column with its empty strings NULL (unchanged when it has none).
pub(super) fn empty_as_null(column: &ArrayRef) -> ArrayRef {
    let text = column.as_string::<i32>();
    if !text.iter().any(|v| v == Some("")) {
        return column.clone();
    }
    Arc::new(
        text.iter()
            .map(|v| v.filter(|s| !s.is_empty()))
            .collect::<StringArray>(),
    )
}

/// Every value of a DECIMAL column is a number's text.
pub(super) fn validate_decimals(column: &dyn Array) -> Result<(), BadValue> {
    let Some(text) = column.as_string_opt::<i32>() else {
        return Ok(());
    };
    for (row, value) in text.iter().enumerate() {
        if let Some(s) = value
            && !is_decimal_text(s)
        {
            return Err((row, format!("{s:?} is not a decimal number")));
        }
    }
    Ok(())
}

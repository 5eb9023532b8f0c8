//! Column decoders for arrow-json's tape: the row (each key matched to a
//! schema column, an unknown key with a value refused), JSON text for
//! objects and arrays, text that takes any scalar, exact integers and
//! decimals, and time zones labelled. arrow-json itself would refuse an
//! object in a Utf8 column and truncate 1.5 in an Int64 one.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use arrow_array::{
    ArrayRef, StructArray,
    builder::{Int64Builder, StringBuilder},
};
use arrow_json::reader::{ArrayDecoder, DecoderContext, DecoderFactory, Tape, TapeElement};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields};

use super::csv_infer::is_decimal_text;
use super::csv_values::relabel;
use crate::batch::{DECIMAL, JSON, extension};
use crate::connectors::ConnectorError;

/// Builds our decoder for the row (the nameless root struct) and leaves
/// nothing else to arrow-json's own choice.
#[derive(Debug)]
pub(super) struct Factory {
    pub path: Arc<str>,
    /// The file's row number of the batch being decoded's first row.
    pub first_row: Arc<AtomicU64>,
}

impl DecoderFactory for Factory {
    fn make_default_decoder(
        &self,
        ctx: &DecoderContext,
        field: &FieldRef,
        _is_nullable: bool,
    ) -> Result<Option<Box<dyn ArrayDecoder>>, ArrowError> {
        let DataType::Struct(fields) = field.data_type() else {
            return Ok(None);
        };
        if !field.name().is_empty() {
            return Ok(None);
        }
        let columns = fields
            .iter()
            .map(|f| column(ctx, f))
            .collect::<Result<_, _>>()?;
        let index = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name().clone(), i))
            .collect();
        Ok(Some(Box::new(RowDecoder {
            fields: fields.clone(),
            columns,
            index,
            positions: Vec::new(),
            path: self.path.clone(),
            first_row: self.first_row.clone(),
        })))
    }
}

fn column(ctx: &DecoderContext, field: &FieldRef) -> Result<Box<dyn ArrayDecoder>, ArrowError> {
    Ok(match (field.data_type(), extension(field)) {
        (DataType::Utf8, Some(JSON)) => Box::new(TextDecoder(Text::Json)),
        (DataType::Utf8, Some(DECIMAL)) => Box::new(TextDecoder(Text::Decimal)),
        (DataType::Utf8, _) => Box::new(TextDecoder(Text::Plain)),
        (DataType::Int64, _) => Box::new(Int64Decoder),
        (DataType::Timestamp(unit, Some(_)), _) => {
            // arrow-json would parse the zone's name, which needs chrono-tz;
            // text with an offset is converted to UTC either way.
            let naive = Field::new(field.name(), DataType::Timestamp(*unit, None), true);
            Box::new(Labelled {
                inner: ctx.make_builtin_decoder(&Arc::new(naive), true)?,
                data_type: field.data_type().clone(),
            })
        }
        _ => ctx.make_builtin_decoder(field, true)?,
    })
}

/// A Config error travelling through arrow's error type.
fn config(message: String) -> ArrowError {
    ArrowError::ExternalError(Box::new(ConnectorError::Config(message)))
}

struct RowDecoder {
    fields: Fields,
    columns: Vec<Box<dyn ArrayDecoder>>,
    index: HashMap<String, usize>,
    /// Per column, each row's value on the tape (0, the tape's NULL, when
    /// the row lacks the key); kept between batches.
    positions: Vec<Vec<u32>>,
    path: Arc<str>,
    first_row: Arc<AtomicU64>,
}

impl ArrayDecoder for RowDecoder {
    fn decode(&mut self, tape: &Tape<'_>, pos: &[u32]) -> Result<ArrayRef, ArrowError> {
        let first_row = self.first_row.load(Ordering::Relaxed);
        self.positions.resize(self.fields.len(), Vec::new());
        for positions in &mut self.positions {
            positions.clear();
            positions.resize(pos.len(), 0);
        }
        for (row, &p) in pos.iter().enumerate() {
            let TapeElement::StartObject(end) = tape.get(p) else {
                return Err(ArrowError::ExternalError(Box::new(ConnectorError::Failed(
                    format!(
                        "{}: row {} is not a JSON object",
                        self.path,
                        first_row + row as u64
                    ),
                ))));
            };
            let mut at = p + 1;
            while at < end {
                let TapeElement::String(key) = tape.get(at) else {
                    return Err(tape.error(at, "a key"));
                };
                let key = tape.get_string(key);
                let value = at + 1;
                match self.index.get(key) {
                    Some(&column) => self.positions[column][row] = value,
                    None if matches!(tape.get(value), TapeElement::Null) => {}
                    None => {
                        return Err(config(format!(
                            "{}: row {}: key {key:?} is not a column of the file set's schema; \
                             add it to `columns` or read the file in a file set of its own",
                            self.path,
                            first_row + row as u64
                        )));
                    }
                }
                at = tape.next(value, "a value")?;
            }
        }
        let mut arrays = Vec::with_capacity(self.columns.len());
        for ((decoder, positions), field) in self
            .columns
            .iter_mut()
            .zip(&self.positions)
            .zip(&self.fields)
        {
            match decoder.decode(tape, positions) {
                Ok(array) => arrays.push(array),
                Err(e) => {
                    // Find the row: decode them one by one (errors only).
                    let row = (0..positions.len())
                        .find(|&r| decoder.decode(tape, &positions[r..=r]).is_err())
                        .unwrap_or(0);
                    return Err(config(format!(
                        "{}: row {}, column {}: {e}",
                        self.path,
                        first_row + row as u64,
                        field.name()
                    )));
                }
            }
        }
        Ok(Arc::new(StructArray::try_new_with_length(
            self.fields.clone(),
            arrays,
            None,
            pos.len(),
        )?))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Text {
    /// Strings as they are, anything else as its JSON text.
    Plain,
    /// Every value as its JSON text (a string quoted).
    Json,
    /// Numbers as written, and strings that are numbers.
    Decimal,
}

struct TextDecoder(Text);

impl ArrayDecoder for TextDecoder {
    fn decode(&mut self, tape: &Tape<'_>, pos: &[u32]) -> Result<ArrayRef, ArrowError> {
        let mut builder = StringBuilder::with_capacity(pos.len(), pos.len() * 8);
        let mut json = String::new();
        for &p in pos {
            match (tape.get(p), self.0) {
                (TapeElement::Null, _) => builder.append_null(),
                (TapeElement::Number(n), _) => builder.append_value(tape.get_string(n)),
                (TapeElement::String(s), Text::Plain) => builder.append_value(tape.get_string(s)),
                (TapeElement::String(s), Text::Decimal) => {
                    let s = tape.get_string(s);
                    if !is_decimal_text(s) {
                        return Err(ArrowError::JsonError(format!(
                            "{s:?} is not a decimal number"
                        )));
                    }
                    builder.append_value(s);
                }
                (_, Text::Decimal) => return Err(tape.error(p, "a decimal number")),
                _ => {
                    json.clear();
                    write_json(tape, p, &mut json);
                    builder.append_value(&json);
                }
            }
        }
        Ok(Arc::new(builder.finish()))
    }
}

/// The compact JSON text of the value at `at`; returns the index after it.
fn write_json(tape: &Tape<'_>, at: u32, out: &mut String) -> u32 {
    match tape.get(at) {
        TapeElement::StartObject(end) => {
            out.push('{');
            let mut i = at + 1;
            while i < end {
                if i > at + 1 {
                    out.push(',');
                }
                i = write_json(tape, i, out);
                out.push(':');
                i = write_json(tape, i, out);
            }
            out.push('}');
            end + 1
        }
        TapeElement::StartList(end) => {
            out.push('[');
            let mut i = at + 1;
            while i < end {
                if i > at + 1 {
                    out.push(',');
                }
                i = write_json(tape, i, out);
            }
            out.push(']');
            end + 1
        }
        TapeElement::String(s) => {
            quote(tape.get_string(s), out);
            at + 1
        }
        TapeElement::Number(n) => {
            out.push_str(tape.get_string(n));
            at + 1
        }
        TapeElement::True => {
            out.push_str("true");
            at + 1
        }
        TapeElement::False => {
            out.push_str("false");
            at + 1
        }
        TapeElement::I64(high) => {
            let low = match tape.get(at + 1) {
                TapeElement::I32(low) => low,
                _ => 0,
            };
            let _ = write!(out, "{}", (i64::from(high) << 32) | i64::from(low as u32));
            at + 2
        }
        TapeElement::I32(v) => {
            let _ = write!(out, "{v}");
            at + 1
        }
        TapeElement::F64(high) => {
            let low = match tape.get(at + 1) {
                TapeElement::F32(low) => low,
                _ => 0,
            };
            let _ = write!(
                out,
                "{}",
                f64::from_bits((u64::from(high) << 32) | u64::from(low))
            );
            at + 2
        }
        TapeElement::F32(v) => {
            let _ = write!(out, "{}", f32::from_bits(v));
            at + 1
        }
        // Null, and ends that a well-formed tape never starts a value with.
        _ => {
            out.push_str("null");
            at + 1
        }
    }
}

/// `s` as a JSON string.
fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Integers exactly: 1.5 or 1e3 is no Int64 (arrow-json would truncate).
struct Int64Decoder;

impl ArrayDecoder for Int64Decoder {
    fn decode(&mut self, tape: &Tape<'_>, pos: &[u32]) -> Result<ArrayRef, ArrowError> {
        let mut builder = Int64Builder::with_capacity(pos.len());
        for &p in pos {
            match tape.get(p) {
                TapeElement::Null => builder.append_null(),
                TapeElement::Number(n) | TapeElement::String(n) => {
                    let s = tape.get_string(n);
                    let v = s.parse::<i64>().map_err(|_| {
                        ArrowError::JsonError(format!("{s} is not a 64-bit integer"))
                    })?;
                    builder.append_value(v);
                }
                TapeElement::I32(v) => builder.append_value(i64::from(v)),
                TapeElement::I64(high) => {
                    let low = match tape.get(p + 1) {
                        TapeElement::I32(low) => low,
                        _ => 0,
                    };
                    builder.append_value((i64::from(high) << 32) | i64::from(low as u32));
                }
                _ => return Err(tape.error(p, "an integer")),
            }
        }
        Ok(Arc::new(builder.finish()))
    }
}

/// A decoder's array with its type relabelled (a time zone added).
struct Labelled {
    inner: Box<dyn ArrayDecoder>,
    data_type: DataType,
}

impl ArrayDecoder for Labelled {
    fn decode(&mut self, tape: &Tape<'_>, pos: &[u32]) -> Result<ArrayRef, ArrowError> {
        relabel(&self.inner.decode(tape, pos)?, &self.data_type)
    }
}

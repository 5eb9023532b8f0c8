//! CSV records split with csv-core, configured exactly as arrow-csv's
//! decoder configures it, for what the decoder does not do: reading a
//! file's header and the sample a schema is inferred from.

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

use super::CsvOptions;

pub(super) fn parser(options: &CsvOptions) -> Reader {
    ReaderBuilder::new()
        .delimiter(options.delimiter)
        .quote(options.quote)
        .escape(options.escape)
        .build()
}

/// Complete records at the start of `input`, at most `limit`: a record cut
/// by the end of `input` counts only when `eof` says nothing follows.
pub(super) struct Split {
    pub rows: Vec<Vec<String>>,
    /// Bytes of `input` the complete records took.
    pub consumed: usize,
    /// The first record is not UTF-8 text (its 1-based number).
    pub not_utf8: Option<usize>,
}

pub(super) fn split(options: &CsvOptions, input: &[u8], eof: bool, limit: usize) -> Split {
    let mut reader = parser(options);
    let mut out = vec![0u8; 4096];
    let mut ends = vec![0usize; 64];
    let (mut at, mut out_len, mut ends_len) = (0, 0, 0);
    let mut split = Split {
        rows: Vec::new(),
        consumed: 0,
        not_utf8: None,
    };
    while split.rows.len() < limit {
        let rest = &input[at..];
        if rest.is_empty() && !eof {
            break;
        }
        let (result, read, written, ended) =
            reader.read_record(rest, &mut out[out_len..], &mut ends[ends_len..]);
        at += read;
        out_len += written;
        ends_len += ended;
        match result {
            ReadRecordResult::InputEmpty => {
                if !eof {
                    break;
                }
            }
            ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
            ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            ReadRecordResult::Record => {
                let mut row = Vec::with_capacity(ends_len);
                let mut start = 0;
                for &end in &ends[..ends_len] {
                    match std::str::from_utf8(&out[start..end]) {
                        Ok(s) => row.push(s.to_string()),
                        Err(_) => {
                            split.not_utf8 = Some(split.rows.len() + 1);
                            return split;
                        }
                    }
                    start = end;
                }
                split.rows.push(row);
                split.consumed = at;
                out_len = 0;
                ends_len = 0;
            }
            ReadRecordResult::End => break,
        }
    }
    split
}

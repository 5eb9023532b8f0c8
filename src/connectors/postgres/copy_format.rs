//! PostgreSQL's binary COPY format, parsed from chunks however they are cut:
//! the signature, flags and header extension, then tuples (a field count,
//! then per field a length, -1 for NULL, and its bytes), then a trailer
//! (field count -1). Only what one tuple needs is buffered.

use bytes::{Buf, BytesMut};

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// Flags bit 16: each tuple carries an OID first (WITH OIDS, before PG 12).
const HAS_OIDS: u32 = 1 << 16;
/// Flags bits 16-31 are critical: a reader must refuse any it does not know.
const CRITICAL: u32 = 0xffff_0000;

#[derive(Debug, PartialEq, Eq)]
enum State {
    Header,
    Tuples,
    Done,
}

/// What the next call found.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// A whole tuple was handed over.
    Tuple,
    /// The buffer holds no whole tuple yet: push more data.
    NeedMore,
    /// The trailer was read: no more tuples.
    End,
}

pub struct CopyParser {
    buf: BytesMut,
    state: State,
    fields: usize,
    ranges: Vec<Option<(usize, usize)>>,
}

impl CopyParser {
    /// A parser of tuples of `fields` fields.
    pub fn new(fields: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            state: State::Header,
            fields,
            ranges: Vec::with_capacity(fields),
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Hands the next whole tuple's fields, in order, to `field` (None for
    /// NULL). The error of `field` is passed on; malformed data is an error
    /// made by `malformed`.
    pub fn next_tuple<E>(
        &mut self,
        malformed: impl Fn(&str) -> E,
        mut field: impl FnMut(usize, Option<&[u8]>) -> Result<(), E>,
    ) -> Result<Step, E> {
        if self.state == State::Header && !self.header().map_err(&malformed)? {
            return Ok(Step::NeedMore);
        }
        if self.state == State::Done {
            return Ok(Step::End);
        }
        let Some(count) = read_i16(&self.buf, 0) else {
            return Ok(Step::NeedMore);
        };
        if count == -1 {
            self.buf.advance(2);
            self.state = State::Done;
            return Ok(Step::End);
        }
        if usize::try_from(count).ok() != Some(self.fields) {
            return Err(malformed(&format!(
                "a tuple has {count} fields, {} were selected",
                self.fields
            )));
        }
        // First find the whole tuple, then hand it over: a tuple cut by a
        // chunk boundary is never half-decoded.
        self.ranges.clear();
        let mut pos = 2;
        for _ in 0..self.fields {
            let Some(len) = read_i32(&self.buf, pos) else {
                return Ok(Step::NeedMore);
            };
            pos += 4;
            if len == -1 {
                self.ranges.push(None);
                continue;
            }
            let len =
                usize::try_from(len).map_err(|_| malformed("a field has a negative length"))?;
            let end = pos
                .checked_add(len)
                .ok_or_else(|| malformed("a field is too long"))?;
            if end > self.buf.len() {
                return Ok(Step::NeedMore);
            }
            self.ranges.push(Some((pos, end)));
            pos = end;
        }
        for (i, range) in self.ranges.iter().enumerate() {
            let value = match range {
                Some((start, end)) => Some(
                    self.buf
                        .get(*start..*end)
                        .ok_or_else(|| malformed("a field lies outside its tuple"))?,
                ),
                None => None,
            };
            field(i, value)?;
        }
        self.buf.advance(pos);
        Ok(Step::Tuple)
    }

    /// Reads the header if whole; false when more data is needed.
    fn header(&mut self) -> Result<bool, &'static str> {
        let fixed = SIGNATURE.len() + 8;
        if self.buf.len() < SIGNATURE.len() {
            return Ok(false);
        }
        if !self.buf.starts_with(SIGNATURE) {
            return Err("the COPY signature is missing");
        }
        let (Some(flags), Some(extension)) = (
            read_i32(&self.buf, SIGNATURE.len()),
            read_i32(&self.buf, SIGNATURE.len() + 4),
        ) else {
            return Ok(false);
        };
        let flags = flags as u32;
        if flags & HAS_OIDS != 0 || flags & CRITICAL != 0 {
            return Err("the COPY header has flags this reader does not know");
        }
        let extension = usize::try_from(extension).map_err(|_| "the COPY header is malformed")?;
        let Some(total) = fixed.checked_add(extension) else {
            return Err("the COPY header is malformed");
        };
        if self.buf.len() < total {
            return Ok(false);
        }
        self.buf.advance(total);
        self.state = State::Tuples;
        Ok(true)
    }

    /// Checks that the data ended where it should: after the trailer, with
    /// nothing following it.
    pub fn finish(&self) -> Result<(), &'static str> {
        match self.state {
            State::Done if self.buf.is_empty() => Ok(()),
            State::Done => Err("data follows the COPY trailer"),
            _ => Err("the COPY data ended before its trailer"),
        }
    }
}

fn read_i16(buf: &[u8], at: usize) -> Option<i16> {
    let b = buf.get(at..at.checked_add(2)?)?;
    Some(i16::from_be_bytes(b.try_into().ok()?))
}

fn read_i32(buf: &[u8], at: usize) -> Option<i32> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(i32::from_be_bytes(b.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header, a tuple (7, NULL, "ab"), another (NULL, 0-length, "c"), trailer.
    fn sample() -> Vec<u8> {
        let mut v = SIGNATURE.to_vec();
        v.extend_from_slice(&0i32.to_be_bytes());
        v.extend_from_slice(&3i32.to_be_bytes());
        v.extend_from_slice(b"xyz"); // a header extension, skipped
        for tuple in [
            [Some(&[7u8][..]), None, Some(&b"ab"[..])],
            [None, Some(&b""[..]), Some(&b"c"[..])],
        ] {
            v.extend_from_slice(&3i16.to_be_bytes());
            for f in tuple {
                match f {
                    None => v.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(b) => {
                        v.extend_from_slice(&(b.len() as i32).to_be_bytes());
                        v.extend_from_slice(b);
                    }
                }
            }
        }
        v.extend_from_slice(&(-1i16).to_be_bytes());
        v
    }

    fn parse(data: &[u8], chunk: usize) -> Result<Vec<Vec<Option<Vec<u8>>>>, String> {
        let mut p = CopyParser::new(3);
        let mut rows = Vec::new();
        let mut ended = false;
        for piece in data.chunks(chunk) {
            p.push(piece);
            loop {
                let mut row = Vec::new();
                match p.next_tuple(str::to_string, |_, v| {
                    row.push(v.map(<[u8]>::to_vec));
                    Ok(())
                })? {
                    Step::Tuple => rows.push(row),
                    Step::NeedMore => break,
                    Step::End => {
                        ended = true;
                        break;
                    }
                }
            }
        }
        assert!(ended || p.finish().is_err());
        p.finish()?;
        Ok(rows)
    }

    #[test]
    fn any_chunking_gives_the_same_tuples() {
        let data = sample();
        let whole = parse(&data, data.len()).unwrap();
        assert_eq!(
            whole,
            vec![
                vec![Some(vec![7]), None, Some(b"ab".to_vec())],
                vec![None, Some(vec![]), Some(b"c".to_vec())],
            ]
        );
        for chunk in 1..data.len() {
            assert_eq!(parse(&data, chunk).unwrap(), whole, "chunks of {chunk}");
        }
    }

    #[test]
    fn malformed_data_is_an_error_never_a_panic() {
        let data = sample();
        // Every truncation: an error (never a panic, never a silent success).
        for cut in 0..data.len() {
            assert!(parse(&data[..cut], 5).is_err(), "cut at {cut}");
        }
        let mut trailing = data.clone();
        trailing.push(0);
        assert!(parse(&trailing, 4).is_err());
        let mut bad_sig = data.clone();
        bad_sig[0] = b'X';
        assert!(parse(&bad_sig, 64).is_err());
        // A negative length other than -1, a huge length, a wrong field count.
        let first_len = SIGNATURE.len() + 8 + 3 + 2;
        for len in [-2i32, i32::MAX] {
            let mut d = data.clone();
            d[first_len..first_len + 4].copy_from_slice(&len.to_be_bytes());
            assert!(parse(&d, 64).is_err());
        }
        let mut d = data.clone();
        d[first_len - 2..first_len].copy_from_slice(&2i16.to_be_bytes());
        assert!(parse(&d, 64).is_err());
        // Every single byte flipped: decoding may fail, but must not panic.
        for i in 0..data.len() {
            let mut d = data.clone();
            d[i] ^= 0xff;
            let _ = parse(&d, 7);
        }
    }
}

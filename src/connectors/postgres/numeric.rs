//! PostgreSQL's binary numeric, decoded exactly: to its decimal text or to
//! an i128 at a given scale. The wire form is ndigits, weight, sign and
//! display scale (i16, i16, u16, u16), then ndigits base-10000 digits, the
//! first worth 10000^weight.

/// A numeric value.
#[derive(Debug, PartialEq, Eq)]
pub enum Numeric {
    NaN,
    Infinity,
    NegativeInfinity,
    Finite {
        negative: bool,
        /// Decimal digits before the point, without leading zeros ("0" for none).
        integer: String,
        /// Exactly `dscale` decimal digits after the point.
        fraction: String,
    },
}

const POSITIVE: u16 = 0x0000;
const NEGATIVE: u16 = 0x4000;
const NAN: u16 = 0xC000;
const PINF: u16 = 0xD000;
const NINF: u16 = 0xF000;

pub fn decode(raw: &[u8]) -> Result<Numeric, String> {
    let word = |i: usize| -> Result<u16, String> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a numeric value is truncated".to_string())
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(1)? as i16);
    let sign = word(2)?;
    let dscale = usize::from(word(3)?);
    if raw.len() != 8 + 2 * ndigits {
        return Err("a numeric value has the wrong length".into());
    }
    let negative = match sign {
        POSITIVE => false,
        NEGATIVE => true,
        NAN => return Ok(Numeric::NaN),
        PINF => return Ok(Numeric::Infinity),
        NINF => return Ok(Numeric::NegativeInfinity),
        _ => return Err("a numeric value has an invalid sign".into()),
    };
    let mut digits = Vec::with_capacity(ndigits);
    for i in 0..ndigits {
        let d = word(4 + i)?;
        if d > 9999 {
            return Err("a numeric value has an invalid digit".into());
        }
        digits.push(d);
    }
    // Group k (k = 0 first) is worth 10000^(weight - k).
    let group = |k: i32| -> u16 {
        usize::try_from(k)
            .ok()
            .and_then(|k| digits.get(k).copied())
            .unwrap_or(0)
    };
    let mut integer = String::new();
    for k in 0..=weight {
        let g = group(k);
        if integer.is_empty() {
            if g != 0 {
                integer.push_str(&g.to_string());
            }
        } else {
            integer.push_str(&format!("{g:04}"));
        }
    }
    if integer.is_empty() {
        integer.push('0');
    }
    let mut fraction = String::with_capacity(dscale + 4);
    let mut k = weight + 1;
    while fraction.len() < dscale {
        fraction.push_str(&format!("{:04}", group(k)));
        k += 1;
    }
    fraction.truncate(dscale);
    Ok(Numeric::Finite {
        negative,
        integer,
        fraction,
    })
}

impl Numeric {
    /// PostgreSQL's text form of the value.
    pub fn to_text(&self) -> String {
        match self {
            Numeric::NaN => "NaN".into(),
            Numeric::Infinity => "Infinity".into(),
            Numeric::NegativeInfinity => "-Infinity".into(),
            Numeric::Finite {
                negative,
                integer,
                fraction,
            } => {
                let sign = if *negative { "-" } else { "" };
                if fraction.is_empty() {
                    format!("{sign}{integer}")
                } else {
                    format!("{sign}{integer}.{fraction}")
                }
            }
        }
    }

    /// The value times 10^scale, if that is an exact i128 (no digit below
    /// the scale is dropped) and the value is finite.
    pub fn to_i128(&self, scale: usize) -> Result<i128, String> {
        let Numeric::Finite {
            negative,
            integer,
            fraction,
        } = self
        else {
            return Err(format!(
                "holds {}, which a Decimal128 column cannot represent",
                self.to_text()
            ));
        };
        let (kept, dropped) = fraction.split_at(fraction.len().min(scale));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(format!(
                "holds {}, which has more than {scale} decimals",
                self.to_text()
            ));
        }
        let padding = scale - kept.len();
        let overflow = || format!("holds {}, which does not fit 128 bits", self.to_text());
        let mut v: i128 = 0;
        for b in integer
            .bytes()
            .chain(kept.bytes())
            .chain(std::iter::repeat_n(b'0', padding))
        {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(i128::from(b - b'0')))
                .ok_or_else(overflow)?;
        }
        Ok(if *negative { -v } else { v })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [digits.len() as u16, weight as u16, sign, dscale]
            .into_iter()
            .chain(digits.iter().copied())
        {
            v.extend_from_slice(&w.to_be_bytes());
        }
        v
    }

    #[test]
    fn decodes_exactly() {
        // 12345.678 = [1][2345].[6780], weight 1
        let n = decode(&wire(1, POSITIVE, 3, &[1, 2345, 6780])).unwrap();
        assert_eq!(n.to_text(), "12345.678");
        assert_eq!(n.to_i128(5).unwrap(), 1_234_567_800);
        assert!(n.to_i128(2).is_err());
        // -0.0001 = weight -1, [1]
        let n = decode(&wire(-1, NEGATIVE, 4, &[1])).unwrap();
        assert_eq!(n.to_text(), "-0.0001");
        // 10000000 = weight 1, [1000] (trailing zero groups stripped)
        let n = decode(&wire(1, POSITIVE, 0, &[1000])).unwrap();
        assert_eq!(n.to_text(), "10000000");
        assert_eq!(
            decode(&wire(0, POSITIVE, 2, &[])).unwrap().to_text(),
            "0.00"
        );
        assert_eq!(decode(&wire(0, NAN, 0, &[])).unwrap(), Numeric::NaN);
    }

    #[test]
    fn malformed_is_an_error_not_a_panic() {
        assert!(decode(&[0, 1, 0]).is_err());
        assert!(decode(&wire(0, POSITIVE, 0, &[10000])).is_err());
        assert!(decode(&wire(0, 0x1234, 0, &[1])).is_err());
        let mut long = wire(0, POSITIVE, 0, &[1]);
        long.push(0);
        assert!(decode(&long).is_err());
    }
}

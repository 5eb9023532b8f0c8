//! List paging: offset mode, and keyset mode through opaque page tokens.
//!
//! A page token names the last row of the previous page by its sort value
//! and id, so rows inserted meanwhile never shift a page (no row is missed
//! or repeated). Tokens are HMAC-signed and bound to the request's filters
//! and sort: a token replayed with other filters is INVALID_ARGUMENT.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Violations};

/// The value a list is sorted by, for the row a page ended on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

/// The last row of a page: where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub value: SortValue,
    pub id: String,
}

#[derive(Serialize, Deserialize)]
struct TokenBody {
    /// Fingerprint of filters + sort.
    f: String,
    v: SortValue,
    id: String,
}

/// Bytes of a token's tag: HMAC-SHA256 cut to its first 16 bytes.
const TAG_LEN: usize = 16;

/// Signs and checks page tokens with a server-held key.
#[derive(Clone)]
pub struct TokenCodec {
    key: [u8; 32],
}

impl TokenCodec {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, body: &[u8]) -> Vec<u8> {
        // new_from_slice accepts keys of any length; 32 bytes cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(body);
        mac.finalize().into_bytes()[..TAG_LEN].to_vec()
    }

    pub fn encode(&self, fingerprint: &str, cursor: &Cursor) -> String {
        let body = TokenBody {
            f: fingerprint.to_string(),
            v: cursor.value.clone(),
            id: cursor.id.clone(),
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(self.mac(&json))
        )
    }

    /// The cursor of a token issued for the same filters and sort, or why not.
    pub fn decode(&self, fingerprint: &str, token: &str) -> Result<Cursor, &'static str> {
        let (body, sig) = token
            .split_once('.')
            .ok_or("is not a page token of this list")?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| "is not a page token of this list")?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| "is not a page token of this list")?;
        // verify_truncated_left accepts a tag of any length up to the MAC's,
        // down to a single byte (forged in 256 tries): only the full tag
        // this codec issues is checked, in constant time.
        if sig.len() != TAG_LEN {
            return Err("is not a page token of this list");
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(&json);
        mac.verify_truncated_left(&sig)
            .map_err(|_| "is not a page token of this list")?;
        let body: TokenBody =
            serde_json::from_slice(&json).map_err(|_| "is not a page token of this list")?;
        if body.f != fingerprint {
            return Err(
                "was issued for other filters or sort order; repeat the request that returned it",
            );
        }
        Ok(Cursor {
            value: body.v,
            id: body.id,
        })
    }
}

/// A stable fingerprint of a list request's filters and sort.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..12])
}

/// What one list call asks for.
#[derive(Debug, Clone)]
pub struct Page {
    pub limit: u64,
    pub offset: u64,
    /// Keyset mode: continue after this row (offset is then ignored).
    pub after: Option<Cursor>,
}

/// Checks limit (1..=max), offset (>= 0) and page_token, collecting violations.
pub fn parse(
    limit: Option<i32>,
    offset: Option<i32>,
    page_token: &str,
    default_limit: u64,
    max_limit: u64,
    codec: &TokenCodec,
    fingerprint: &str,
) -> Result<Page, Error> {
    let mut v = Violations::new();
    let limit = match limit {
        None => default_limit,
        Some(l) if l >= 1 && (l as u64) <= max_limit => l as u64,
        Some(_) => {
            v.add("limit", format!("must be between 1 and {max_limit}"));
            default_limit
        }
    };
    let offset = match offset {
        None => 0,
        Some(o) if o >= 0 => o as u64,
        Some(_) => {
            v.add("offset", "must be 0 or more");
            0
        }
    };
    let after = if page_token.is_empty() {
        None
    } else {
        match codec.decode(fingerprint, page_token) {
            Ok(c) => Some(c),
            Err(why) => {
                v.add("page_token", why);
                None
            }
        }
    };
    v.check()?;
    Ok(Page {
        limit,
        offset: if after.is_some() { 0 } else { offset },
        after,
    })
}

/// Sort direction of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "asc" => Some(Self::Asc),
            "desc" => Some(Self::Desc),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bind_to_filters() {
        let codec = TokenCodec::new([7; 32]);
        let c = Cursor {
            value: SortValue::Text("acme".into()),
            id: "x".into(),
        };
        let t = codec.encode("f1", &c);
        assert_eq!(codec.decode("f1", &t), Ok(c));
        assert!(codec.decode("f2", &t).is_err());
        let other = TokenCodec::new([8; 32]);
        assert!(other.decode("f1", &t).is_err());
        assert!(codec.decode("f1", "garbage").is_err());
    }

    #[test]
    fn only_the_full_tag_is_accepted() {
        let codec = TokenCodec::new([7; 32]);
        let c = Cursor {
            value: SortValue::Int(42),
            id: "x".into(),
        };
        let t = codec.encode("f", &c);
        let (body, sig) = t.split_once('.').unwrap();
        let tag = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert_eq!(tag.len(), TAG_LEN);
        let with = |tag: &[u8]| format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag));
        assert_eq!(codec.decode("f", &with(&tag)), Ok(c));
        // A prefix of the right tag, however long, is no tag.
        for n in [0, 1, 2, 8, TAG_LEN - 1] {
            assert!(codec.decode("f", &with(&tag[..n])).is_err(), "{n} bytes");
        }
        // Nor is the whole HMAC, or the tag with one bit flipped.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[7; 32]).unwrap();
        mac.update(&URL_SAFE_NO_PAD.decode(body).unwrap());
        assert!(
            codec
                .decode("f", &with(&mac.finalize().into_bytes()))
                .is_err()
        );
        let mut flipped = tag.clone();
        flipped[TAG_LEN - 1] ^= 1;
        assert!(codec.decode("f", &with(&flipped)).is_err());
    }

    #[test]
    fn limits_and_offsets_are_checked() {
        let codec = TokenCodec::new([0; 32]);
        assert_eq!(
            parse(None, None, "", 50, 100, &codec, "f")
                .map(|p| p.limit)
                .ok(),
            Some(50)
        );
        for bad in [0, 101, -1] {
            let Err(Error::InvalidArgument(v)) = parse(Some(bad), None, "", 50, 100, &codec, "f")
            else {
                panic!("limit {bad} accepted")
            };
            assert_eq!(v.fields().collect::<Vec<_>>(), ["limit"]);
        }
        assert!(parse(None, Some(-1), "", 50, 100, &codec, "f").is_err());
    }
}

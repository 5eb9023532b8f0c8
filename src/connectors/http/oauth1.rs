//! OAuth 1.0a request signing with HMAC-SHA256 (RFC 5849 §3.4), as
//! NetSuite's token-based authentication asks: one `Authorization: OAuth …`
//! header per request, signed over the method, the URL and its query
//! parameters. Pure: the caller brings the nonce and the timestamp, so a
//! signature can be recomputed (tests, the vendor test servers).

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use reqwest::Url;
use sha2::Sha256;

/// The `Authorization` header value for one request: `OAuth realm="…",
/// oauth_consumer_key="…", …, oauth_signature="…"`. The realm is sent but
/// not signed (RFC 5849 §3.4.1.3.1).
#[allow(clippy::too_many_arguments)]
pub fn authorization(
    method: &str,
    url: &Url,
    realm: &str,
    consumer_key: &str,
    consumer_secret: &str,
    token_id: &str,
    token_secret: &str,
    nonce: &str,
    timestamp: u64,
) -> String {
    let timestamp = timestamp.to_string();
    let oauth = [
        ("oauth_consumer_key", consumer_key),
        ("oauth_token", token_id),
        ("oauth_signature_method", "HMAC-SHA256"),
        ("oauth_timestamp", timestamp.as_str()),
        ("oauth_nonce", nonce),
        ("oauth_version", "1.0"),
    ];
    let base = base_string(method, url, &oauth);
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    // HMAC takes a key of any length: this never fails.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(base.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());

    let mut header = format!("OAuth realm=\"{}\"", realm.replace(['"', '\\'], ""));
    for (name, value) in oauth
        .iter()
        .copied()
        .chain([("oauth_signature", signature.as_str())])
    {
        header.push_str(&format!(", {name}=\"{}\"", encode(value)));
    }
    header
}

/// The signature base string (RFC 5849 §3.4.1): the uppercase method, the
/// base string URI and the normalized parameters, each encoded, joined by
/// `&`.
pub fn base_string(method: &str, url: &Url, oauth: &[(&str, &str)]) -> String {
    let mut params: Vec<(String, String)> = oauth
        .iter()
        .map(|(k, v)| (encode(k), encode(v)))
        .chain(url.query_pairs().map(|(k, v)| (encode(&k), encode(&v))))
        .collect();
    params.sort();
    let normalized = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(&base_uri(url)),
        encode(&normalized)
    )
}

/// Scheme and host in lowercase, the port only when not the scheme's
/// default, the path; no query, no fragment (RFC 5849 §3.4.1.2).
fn base_uri(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{host}{port}{}", url.scheme(), url.path())
}

/// RFC 3986 percent-encoding as RFC 5849 §3.6 asks (and as a value inside
/// one path segment needs): the unreserved characters stay, every other
/// byte of the UTF-8 text is `%XX` in uppercase hex (a space is `%20`,
/// never `+`).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[path = "oauth1_tests.rs"]
mod tests;

//! Domain rules: validation, state machines, slugs, paging. No I/O, no tonic,
//! no SQL — everything here is a pure function of its inputs.

pub mod api_key;
pub mod catalog;
pub mod connection;
pub mod connector_settings;
pub mod destination;
pub mod enums;
pub mod execution;
pub mod failure;
pub mod freshness;
pub mod limits;
pub mod load_order;
pub mod lookback;
pub mod paging;
pub mod run;
pub mod run_event;
pub mod run_outcome;
pub mod schedule;
pub mod schema;
pub mod slug;
pub mod sync;

/// Microseconds since the Unix epoch: how the control store keeps time.
/// A stored JSON object (a config), or an empty one.
pub fn json_object(text: &str) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A fresh, time-ordered id (UUID v7).
/// A time in microseconds as RFC 3339 UTC (`2026-01-01T09:30:00Z`).
pub fn rfc3339_micros(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether `s` is a UUID, as every id of the API is.
pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// A new etag for a resource version.
pub fn new_etag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
}

/// Text a client sends is stored as is, but PostgreSQL stores no NUL
/// character: refuse it up front, on every engine alike.
pub fn check_text(value: &str, field: &str, v: &mut crate::error::Violations) {
    if value.contains('\0') {
        v.add(field, "must not contain NUL (\\0) characters");
    }
}

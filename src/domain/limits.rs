//! Bounds on what a request may carry. Every free-form value (JSON configs,
//! credentials), every count and every duration the API accepts is bounded
//! here, once, so that whatever is stored can be sent back: the largest
//! sync, connection or run encodes to a fraction of one response (a page of
//! a list stops early at `api::lists::PAGE_BUDGET`). README.md "Limits" and
//! the proto field comments document the same numbers.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::enums::TimeUnit;
use crate::error::Violations;

// === free-form JSON: every google.protobuf.Struct a request carries ===

/// Largest Struct field (config, source_config, destination_config,
/// execution_config, backend_status), serialized as JSON.
pub const MAX_JSON_BYTES: usize = 64 * 1024;
/// Deepest nesting of objects and lists; the field's own object is level 1.
pub const MAX_JSON_DEPTH: usize = 10;
/// Most keys of one object.
pub const MAX_JSON_KEYS: usize = 256;
/// Most items of one list.
pub const MAX_JSON_ITEMS: usize = 1000;
/// Longest object key, in UTF-8 bytes.
pub const MAX_JSON_KEY_BYTES: usize = 256;

// === credentials: map<string, string> ===

/// Most entries of a connection's credentials.
pub const MAX_CREDENTIALS: usize = 64;
/// Longest credential name, in UTF-8 bytes.
pub const MAX_CREDENTIAL_KEY_BYTES: usize = 256;
/// Longest credential value (a PEM key or a service account's JSON fits).
pub const MAX_CREDENTIAL_VALUE_BYTES: usize = 16 * 1024;
/// All names and values together.
pub const MAX_CREDENTIALS_BYTES: usize = 64 * 1024;

// === syncs and runs ===

/// Most entities of a sync (and entity summaries of a run).
pub const MAX_ENTITIES: usize = 256;
/// Most table bindings of a sync.
pub const MAX_TABLE_BINDINGS: usize = 256;
/// Longest entity key and binding name (source_instance_key,
/// logical_table_name, table_name, cursor_field, a primary key column), in
/// UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 255;
/// Most primary key columns of a binding.
pub const MAX_PRIMARY_KEY_COLUMNS: usize = 16;
/// Longest cron expression, in bytes.
pub const MAX_CRON_BYTES: usize = 255;
/// Longest reason of a CancelRun, in characters.
pub const MAX_CANCEL_REASON: usize = 1000;
/// Most values of one repeated filter of a list (statuses, providers, ids…).
pub const MAX_FILTER_VALUES: usize = 100;

// === durations and counters ===

/// Longest schedule interval: one (leap) year, whatever the unit.
pub const MAX_INTERVAL_SECONDS: i64 = 366 * 86_400;
/// Longest MONTHS interval.
pub const MAX_INTERVAL_MONTHS: i64 = 12;
/// Longest freshness_sla_seconds: one (leap) year.
pub const MAX_FRESHNESS_SLA_SECONDS: i64 = 366 * 86_400;
/// Longest API key lifetime: ten years.
pub const MAX_API_KEY_TTL_SECONDS: i64 = 3_650 * 86_400;
/// Largest records or bytes counter an executor reports: 2^53 - 1, the
/// largest integer every JSON client reads exactly.
pub const MAX_COUNTER: i64 = (1 << 53) - 1;

// === time ===

/// google.protobuf.Timestamp's range, in microseconds since the epoch:
/// 0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59.999999Z.
pub const MIN_TIMESTAMP_MICROS: i64 = -62_135_596_800_000_000;
pub const MAX_TIMESTAMP_MICROS: i64 = 253_402_300_799_999_999;

/// Whether a time can travel as a google.protobuf.Timestamp.
pub fn in_timestamp_range(micros: i64) -> bool {
    (MIN_TIMESTAMP_MICROS..=MAX_TIMESTAMP_MICROS).contains(&micros)
}

/// Seconds of one unit of an interval (None for MONTHS, which vary).
pub fn unit_seconds(unit: TimeUnit) -> Option<i64> {
    match unit {
        TimeUnit::Minutes => Some(60),
        TimeUnit::Hours => Some(3_600),
        TimeUnit::Days => Some(86_400),
        TimeUnit::Weeks => Some(7 * 86_400),
        TimeUnit::Months => None,
    }
}

/// Most units of an interval in `unit`: one year's worth (52 WEEKS, 12 MONTHS).
pub fn max_interval_units(unit: TimeUnit) -> i64 {
    unit_seconds(unit).map_or(MAX_INTERVAL_MONTHS, |s| MAX_INTERVAL_SECONDS / s)
}

// === checks ===

/// Checks a Struct field's JSON under `field`: one violation at most, naming
/// the first bound it breaks.
pub fn check_json(m: &Map<String, Value>, field: &str, v: &mut Violations) {
    // The shape first: it bounds the walk and the serialization below.
    if let Err(why) = check_object(m, 1) {
        v.add(field, why);
        return;
    }
    let bytes = json_bytes(m);
    if bytes > MAX_JSON_BYTES {
        v.add(
            field,
            format!("must be at most {MAX_JSON_BYTES} bytes as JSON (is {bytes})"),
        );
    }
}

fn check_object(m: &Map<String, Value>, depth: usize) -> Result<(), String> {
    if depth > MAX_JSON_DEPTH {
        return Err(format!("must nest at most {MAX_JSON_DEPTH} levels deep"));
    }
    if m.len() > MAX_JSON_KEYS {
        return Err(format!(
            "has an object of {} keys; at most {MAX_JSON_KEYS}",
            m.len()
        ));
    }
    for (k, val) in m {
        if k.len() > MAX_JSON_KEY_BYTES {
            return Err(format!(
                "has a key of {} bytes; at most {MAX_JSON_KEY_BYTES}",
                k.len()
            ));
        }
        check_value(val, depth)?;
    }
    Ok(())
}

/// `val` sits inside a container at `depth`.
fn check_value(val: &Value, depth: usize) -> Result<(), String> {
    match val {
        Value::Object(o) => check_object(o, depth + 1),
        Value::Array(a) => {
            if depth + 1 > MAX_JSON_DEPTH {
                return Err(format!("must nest at most {MAX_JSON_DEPTH} levels deep"));
            }
            if a.len() > MAX_JSON_ITEMS {
                return Err(format!(
                    "has a list of {} items; at most {MAX_JSON_ITEMS}",
                    a.len()
                ));
            }
            a.iter().try_for_each(|x| check_value(x, depth + 1))
        }
        _ => Ok(()),
    }
}

/// The length of `m` serialized as JSON, without building the text.
fn json_bytes(m: &Map<String, Value>) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    // Writing into a counter cannot fail; a failure counts as too large.
    match serde_json::to_writer(&mut n, m) {
        Ok(()) => n.0,
        Err(_) => usize::MAX,
    }
}

/// Checks a credentials map under `field`: one violation at most.
pub fn check_credentials(c: &BTreeMap<String, String>, field: &str, v: &mut Violations) {
    if c.len() > MAX_CREDENTIALS {
        v.add(
            field,
            format!(
                "must have at most {MAX_CREDENTIALS} entries (has {})",
                c.len()
            ),
        );
        return;
    }
    let mut total = 0usize;
    for (k, val) in c {
        let why = if k.len() > MAX_CREDENTIAL_KEY_BYTES {
            format!(
                "has a name of {} bytes; at most {MAX_CREDENTIAL_KEY_BYTES}",
                k.len()
            )
        } else if val.len() > MAX_CREDENTIAL_VALUE_BYTES {
            // The name only: the value is a secret.
            format!(
                "{k}: must be at most {MAX_CREDENTIAL_VALUE_BYTES} bytes (is {})",
                val.len()
            )
        } else {
            total += k.len() + val.len();
            continue;
        };
        v.add(field, why);
        return;
    }
    if total > MAX_CREDENTIALS_BYTES {
        v.add(
            field,
            format!("must hold at most {MAX_CREDENTIALS_BYTES} bytes in all (holds {total})"),
        );
    }
}

/// Checks that `value` is at most `max` UTF-8 bytes.
pub fn check_bytes(value: &str, field: &str, max: usize, v: &mut Violations) {
    if value.len() > max {
        v.add(
            field,
            format!("must be at most {max} bytes (is {})", value.len()),
        );
    }
}

/// Checks that a list holds at most `max` items.
pub fn check_count<T>(items: &[T], field: &str, max: usize, v: &mut Violations) {
    if items.len() > max {
        v.add(
            field,
            format!("must hold at most {max} items (holds {})", items.len()),
        );
    }
}

/// Checks a records or bytes counter: 0 ..= MAX_COUNTER.
pub fn check_counter(n: i64, field: &str, v: &mut Violations) {
    if !(0..=MAX_COUNTER).contains(&n) {
        v.add(field, format!("must be between 0 and {MAX_COUNTER}"));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn problems(j: Value) -> Vec<String> {
        let mut v = Violations::new();
        check_json(j.as_object().unwrap(), "config", &mut v);
        v.0.into_iter().map(|x| x.description).collect()
    }

    fn nested(levels: usize) -> Value {
        let mut j = json!("leaf");
        for _ in 0..levels {
            j = json!({ "n": j });
        }
        j
    }

    #[test]
    fn json_is_bounded_in_size_depth_keys_and_items() {
        assert!(problems(json!({"host": "db", "port": 5432, "tags": ["a"]})).is_empty());
        assert!(problems(nested(MAX_JSON_DEPTH)).is_empty());
        assert!(problems(nested(MAX_JSON_DEPTH + 1))[0].contains("levels deep"));
        // A list counts as a level too.
        let mut j = json!(["leaf"]);
        for _ in 0..MAX_JSON_DEPTH - 1 {
            j = json!({ "n": j });
        }
        assert!(problems(j.clone()).is_empty());
        assert!(problems(json!({ "n": j }))[0].contains("levels deep"));
        let keys: Map<String, Value> = (0..=MAX_JSON_KEYS)
            .map(|i| (format!("k{i}"), json!(i)))
            .collect();
        assert!(problems(Value::Object(keys))[0].contains("keys"));
        assert!(problems(json!({"l": vec![0; MAX_JSON_ITEMS]})).is_empty());
        assert!(problems(json!({"l": vec![0; MAX_JSON_ITEMS + 1]}))[0].contains("items"));
        assert!(problems(json!({ "k".repeat(MAX_JSON_KEY_BYTES + 1): 1 }))[0].contains("key"));
        let fits = "x".repeat(MAX_JSON_BYTES - r#"{"pad":""}"#.len());
        assert!(problems(json!({ "pad": fits })).is_empty());
        let over = "x".repeat(MAX_JSON_BYTES);
        assert!(problems(json!({ "pad": over }))[0].contains("bytes as JSON"));
    }

    #[test]
    fn credentials_are_bounded_without_echoing_values() {
        let check = |c: BTreeMap<String, String>| {
            let mut v = Violations::new();
            check_credentials(&c, "credentials", &mut v);
            v.0
        };
        let secret = "s".repeat(MAX_CREDENTIAL_VALUE_BYTES + 1);
        let one = |k: &str, val: &str| BTreeMap::from([(k.to_string(), val.to_string())]);
        assert!(check(one("password", "pw")).is_empty());
        let v = check(one("password", &secret));
        assert_eq!(v.len(), 1);
        assert!(!v[0].description.contains("sss"));
        assert_eq!(check(one(&"k".repeat(257), "x")).len(), 1);
        let many = (0..=MAX_CREDENTIALS)
            .map(|i| (format!("k{i}"), String::new()))
            .collect();
        assert_eq!(check(many).len(), 1);
        let big = (0..5)
            .map(|i| (format!("k{i}"), "v".repeat(MAX_CREDENTIAL_VALUE_BYTES)))
            .collect();
        assert!(check(big)[0].description.contains("in all"));
    }

    #[test]
    fn intervals_span_at_most_a_year_in_any_unit() {
        assert_eq!(max_interval_units(TimeUnit::Minutes), 527_040);
        assert_eq!(max_interval_units(TimeUnit::Hours), 8_784);
        assert_eq!(max_interval_units(TimeUnit::Days), 366);
        assert_eq!(max_interval_units(TimeUnit::Weeks), 52);
        assert_eq!(max_interval_units(TimeUnit::Months), 12);
        let at = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .timestamp_micros()
        };
        assert_eq!(at("0001-01-01T00:00:00Z"), MIN_TIMESTAMP_MICROS);
        assert_eq!(at("9999-12-31T23:59:59.999999Z"), MAX_TIMESTAMP_MICROS);
        assert!(in_timestamp_range(0));
        assert!(in_timestamp_range(MAX_TIMESTAMP_MICROS));
        assert!(!in_timestamp_range(MAX_TIMESTAMP_MICROS + 1));
        assert!(!in_timestamp_range(MIN_TIMESTAMP_MICROS - 1));
    }
}

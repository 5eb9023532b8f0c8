//! A small dot-path selector over JSON bodies: `data.items`, `links.next`,
//! `items.0` (an array index), and `$` or an empty path for the body itself.
//! Manifests point at records, cursors and next links with it.

use serde_json::Value;

/// The value at `path` in `value`, if every step exists.
pub fn select<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.strip_prefix('$').unwrap_or(path);
    let path = path.strip_prefix('.').unwrap_or(path);
    if path.is_empty() {
        return Some(value);
    }
    path.split('.').try_fold(value, |v, step| match v {
        Value::Object(m) => m.get(step),
        Value::Array(a) => step.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// Why `path` cannot be a selector, if it cannot (an empty step: `a..b`).
pub fn check(path: &str) -> Result<(), String> {
    let rest = path.strip_prefix('$').unwrap_or(path);
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    if !rest.is_empty() && rest.split('.').any(str::is_empty) {
        return Err(format!("`{path}` has an empty step; write steps as a.b.0"));
    }
    Ok(())
}

/// The value at `path` as query-parameter text: strings as they are,
/// numbers and booleans as JSON writes them; None when missing, null or
/// an empty string (a paginator stops there).
pub fn select_text(value: &Value, path: &str) -> Option<String> {
    match select(value, path)? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `value` put at `path` in `body`, objects made on the way (a POST
/// body's page token). A step through a non-object replaces it.
pub fn set(body: &mut Value, path: &str, value: Value) {
    let path = path.strip_prefix('$').unwrap_or(path);
    let path = path.strip_prefix('.').unwrap_or(path);
    let mut at = body;
    for step in path.split('.') {
        if !at.is_object() {
            *at = Value::Object(Default::default());
        }
        let Value::Object(map) = at else { return };
        at = map.entry(step.to_string()).or_insert(Value::Null);
    }
    *at = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_nested_fields_indices_and_the_root() {
        let body =
            json!({"data": {"items": [{"id": 1}, {"id": 2}]}, "links": {"next": "https://x/2"}});
        assert_eq!(select(&body, "data.items.1.id"), Some(&json!(2)));
        assert_eq!(select(&body, "links.next"), Some(&json!("https://x/2")));
        assert_eq!(select(&body, "$"), Some(&body));
        assert_eq!(select(&body, ""), Some(&body));
        assert_eq!(select(&body, "$.links.next"), Some(&json!("https://x/2")));
        assert_eq!(select(&body, "data.items.2"), None);
        assert_eq!(select(&body, "data.items.x"), None);
        assert_eq!(select(&body, "links.next.more"), None);
        assert_eq!(select(&body, "missing"), None);
    }

    #[test]
    fn selects_a_top_level_array_by_index() {
        let body = json!([{"a": "x"}, {"a": "y"}]);
        assert_eq!(select(&body, "1.a"), Some(&json!("y")));
    }

    #[test]
    fn text_of_scalars_and_none_for_empty_or_null() {
        let body = json!({"s": "abc", "n": 42, "f": 1.5, "b": true, "e": "", "z": null, "o": {}});
        assert_eq!(select_text(&body, "s").as_deref(), Some("abc"));
        assert_eq!(select_text(&body, "n").as_deref(), Some("42"));
        assert_eq!(select_text(&body, "f").as_deref(), Some("1.5"));
        assert_eq!(select_text(&body, "b").as_deref(), Some("true"));
        assert_eq!(select_text(&body, "e"), None);
        assert_eq!(select_text(&body, "z"), None);
        assert_eq!(select_text(&body, "o"), None);
        assert_eq!(select_text(&body, "absent"), None);
    }

    #[test]
    fn check_rejects_empty_steps_only() {
        assert!(check("a.b.0").is_ok());
        assert!(check("$").is_ok());
        assert!(check("").is_ok());
        assert!(check("a..b").is_err());
        assert!(check("a.").is_err());
    }

    #[test]
    fn set_makes_the_objects_on_its_way() {
        let mut body = json!({"max_results": 10});
        set(&mut body, "page_token", json!("t1"));
        set(&mut body, "paging.next.token", json!("t2"));
        assert_eq!(
            body,
            json!({"max_results": 10, "page_token": "t1", "paging": {"next": {"token": "t2"}}})
        );
        let mut none = Value::Null;
        set(&mut none, "a", json!(1));
        assert_eq!(none, json!({"a": 1}));
    }
}

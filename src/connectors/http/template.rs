//! `{namespace.key}` references in a manifest's strings (see MANIFEST.md):
//! config, credentials and variables are filled once when a connection's
//! manifest is opened; incremental bounds and a parent's field per
//! request. One pass, so a value that holds braces is never read as a
//! reference itself.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Namespaces filled when the manifest is opened.
pub const OPEN: &[&str] = &["config", "credentials", "variables"];
/// Namespaces filled per request.
pub const REQUEST: &[&str] = &["incremental"];

/// Whether `{name}` in a path is a reference the engine fills (a path
/// never carries a credential: URLs end up in logs and proxies).
pub fn is_path_reference(name: &str) -> bool {
    matches!(
        name.split_once('.'),
        Some(("config" | "variables" | "incremental", key)) if !key.is_empty()
    )
}

/// Values by reference name (`config.shop`, `incremental.start_value`, or
/// a parent's placeholder).
#[derive(Default, Clone)]
pub struct Values(BTreeMap<String, String>);

impl std::fmt::Debug for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials are among them.
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Values {
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    /// Each of `map`'s entries as `namespace.key` (non-strings as JSON text).
    pub fn set_all(&mut self, namespace: &str, map: &Map<String, Value>) {
        for (k, v) in map {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            self.set(format!("{namespace}.{k}"), text);
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

/// `text` with its references filled: a known one by its value, an
/// unknown one of a namespace in `resolve` by nothing, any other left as
/// written (a later stage fills it).
pub fn render(text: &str, values: &Values, resolve: &[&str]) -> String {
    if !text.contains('{') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find(['{', '}'])
            .filter(|&c| after[c..].starts_with('}'))
        {
            Some(close) => {
                let name = &after[..close];
                match values.get(name) {
                    Some(v) => out.push_str(v),
                    None if name
                        .split_once('.')
                        .is_some_and(|(ns, _)| resolve.contains(&ns)) => {}
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every string in `value` rendered, but for the keys in `skip` (paths,
/// which `endpoint::url` fills percent-encoded).
pub fn render_tree(value: &Value, values: &Values, resolve: &[&str], skip: &[&str]) -> Value {
    match value {
        Value::String(s) => Value::String(render(s, values, resolve)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_tree(v, values, resolve, skip))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if skip.contains(&k.as_str()) {
                        v.clone()
                    } else {
                        render_tree(v, values, resolve, skip)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether `text` names `{name}`.
pub fn mentions(text: &str, name: &str) -> bool {
    text.contains(&format!("{{{name}}}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values() -> Values {
        let mut v = Values::default();
        v.set("config.shop", "acme");
        v.set("credentials.token", "s3cr{et}");
        v
    }

    #[test]
    fn known_references_are_filled_once_and_unknown_ones_wait_or_vanish() {
        let v = values();
        assert_eq!(
            render("https://{config.shop}.example/{id}", &v, OPEN),
            "https://acme.example/{id}"
        );
        // A value's braces are not read again.
        assert_eq!(
            render("Bearer {credentials.token}", &v, OPEN),
            "Bearer s3cr{et}"
        );
        // Not set, in a namespace filled now: nothing.
        assert_eq!(render("v={config.missing}", &v, OPEN), "v=");
        // A later stage's namespace is kept for it.
        assert_eq!(
            render("greater-than(updated,{incremental.start_value})", &v, OPEN),
            "greater-than(updated,{incremental.start_value})"
        );
        assert_eq!(render("a{b", &v, OPEN), "a{b");
        assert_eq!(render("}{", &v, OPEN), "}{");
    }

    #[test]
    fn a_tree_is_rendered_but_for_its_paths() {
        let t = json!({"path": "/{config.shop}", "params": {"s": "{config.shop}", "n": 3}});
        assert_eq!(
            render_tree(&t, &values(), OPEN, &["path"]),
            json!({"path": "/{config.shop}", "params": {"s": "acme", "n": 3}})
        );
    }

    #[test]
    fn paths_take_config_variables_and_incremental_references_only() {
        assert!(is_path_reference("config.shop"));
        assert!(is_path_reference("incremental.start_value"));
        assert!(!is_path_reference("credentials.token"));
        assert!(!is_path_reference("config."));
        assert!(!is_path_reference("id"));
    }
}

//! JSON Schema checks of connection config and credentials, reported as
//! field violations. Messages never quote the offending value, so a secret
//! typed into the wrong field is not echoed back.

use serde_json::Value;

use crate::error::Violations;

/// Adds one violation per schema error of `instance`, under `root`
/// (`config.port`, `credentials.password`).
pub fn check(schema: &Value, instance: &Value, root: &str, v: &mut Violations) {
    let validator = match jsonschema::validator_for(schema) {
        Ok(validator) => validator,
        Err(_) => {
            v.add(root, "the provider's schema is invalid");
            return;
        }
    };
    for err in validator.iter_errors(instance) {
        let mut path = pointer_to_path(root, err.instance_path().as_str());
        let description = match err.kind() {
            jsonschema::error::ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                path = format!("{path}.{name}");
                "is required".to_string()
            }
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                if let Some(name) = unexpected.first() {
                    path = format!("{path}.{name}");
                }
                "is not a known field of this provider".to_string()
            }
            _ => format!(
                "does not satisfy the provider's schema ({})",
                err.kind().keyword()
            ),
        };
        v.add(path, description);
    }
}

/// `/streams/0/name` under `config` -> `config.streams[0].name`.
fn pointer_to_path(root: &str, pointer: &str) -> String {
    let mut out = root.to_string();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.bytes().all(|b| b.is_ascii_digit()) && !seg.is_empty() {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push('.');
            out.push_str(&seg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reports_paths_without_values() {
        let schema = json!({
            "type": "object",
            "properties": {"port": {"type": "integer"}, "streams": {"type": "array", "items": {"type": "object", "required": ["name"]}}},
            "required": ["host"],
            "additionalProperties": false
        });
        let mut v = Violations::new();
        check(
            &schema,
            &json!({"port": "s3cr3t", "streams": [{}], "extra": 1}),
            "config",
            &mut v,
        );
        let mut fields: Vec<_> = v.fields().map(str::to_string).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "config.extra",
                "config.host",
                "config.port",
                "config.streams[0].name"
            ]
        );
        assert!(v.0.iter().all(|x| !x.description.contains("s3cr3t")));
    }
}

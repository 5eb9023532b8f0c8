//! A resource's URL: the manifest's base URL and endpoint path joined, the
//! path's `{placeholders}` filled (from config or a parent's record) and
//! percent-encoded, so a value never adds a path segment or a query.

use std::collections::BTreeMap;

use reqwest::Url;

use super::{manifest::placeholders, oauth1::encode};

/// `base_url` and `path` joined by exactly one `/` (a base's own path is
/// kept: `https://h/v1` + `/items` is `https://h/v1/items`), with every
/// placeholder replaced by its value in `values`. A path that is already
/// a full URL is taken as it is.
pub fn url(base_url: &str, path: &str, values: &BTreeMap<String, String>) -> Result<Url, String> {
    let mut filled = String::with_capacity(path.len());
    let mut rest = path;
    for name in placeholders(path)? {
        let marker = format!("{{{name}}}");
        let at = rest.find(&marker).ok_or("placeholders out of order")?;
        let value = values
            .get(name)
            .ok_or_else(|| format!("no value for the path's {{{name}}}"))?;
        filled.push_str(&rest[..at]);
        filled.push_str(&encode(value));
        rest = &rest[at + marker.len()..];
    }
    filled.push_str(rest);
    let joined = if filled.starts_with("http://") || filled.starts_with("https://") {
        filled
    } else {
        format!(
            "{}/{}",
            base_url.trim_end_matches('/'),
            filled.trim_start_matches('/')
        )
    };
    Url::parse(&joined).map_err(|e| format!("the endpoint's URL is not valid ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn joins_base_and_path_with_one_slash_keeping_the_base_path() {
        let none = BTreeMap::new();
        for (base, path) in [
            ("https://h.example/v1", "/items"),
            ("https://h.example/v1/", "items"),
            ("https://h.example/v1/", "/items"),
            ("https://h.example/v1", "items"),
        ] {
            assert_eq!(
                url(base, path, &none).unwrap().as_str(),
                "https://h.example/v1/items"
            );
        }
        assert_eq!(
            url("https://h.example", "items?fields=a,b", &none)
                .unwrap()
                .as_str(),
            "https://h.example/items?fields=a,b"
        );
        assert_eq!(
            url("https://h.example/v1", "https://other.example/x", &none)
                .unwrap()
                .as_str(),
            "https://other.example/x"
        );
    }

    #[test]
    fn fills_placeholders_percent_encoded() {
        let v = values(&[("owner", "a b/c?d"), ("number", "42"), ("id", "é")]);
        assert_eq!(
            url(
                "http://127.0.0.1:9/api",
                "repos/{owner}/issues/{number}/x{id}.json",
                &v
            )
            .unwrap()
            .as_str(),
            "http://127.0.0.1:9/api/repos/a%20b%2Fc%3Fd/issues/42/x%C3%A9.json"
        );
    }

    #[test]
    fn a_placeholder_without_a_value_or_a_broken_path_is_an_error() {
        let err = url("https://h.example", "a/{missing}", &BTreeMap::new()).unwrap_err();
        assert!(err.contains("{missing}"), "{err}");
        assert!(url("https://h.example", "a/{open", &BTreeMap::new()).is_err());
        assert!(url("not a url", "a", &BTreeMap::new()).is_err());
    }
}

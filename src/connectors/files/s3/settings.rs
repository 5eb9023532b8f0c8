//! An `s3` connection's settings, read from its config and credentials.
//! Pure rules: no I/O.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::connectors::{ConnectorError, config_str, files::paths};

/// Who the requests are signed as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Unsigned requests: a public bucket.
    Anonymous,
    Key {
        access_key_id: String,
        secret_access_key: String,
        session_token: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// The URL requests go to, when not AWS's own: already holding the
    /// bucket as a host name for virtual-hosted addressing.
    pub endpoint: Option<String>,
    pub path_style: bool,
    /// Whether the endpoint is plain http (a local MinIO, say).
    pub allow_http: bool,
    /// The store's root: a key prefix, normalised ("" is the whole bucket).
    pub root: String,
    pub access: Access,
}

impl S3Settings {
    pub fn read(
        config: &Map<String, Value>,
        credentials: &BTreeMap<String, String>,
    ) -> Result<Self, ConnectorError> {
        let bucket = non_empty(config_str(config, "bucket"))
            .ok_or_else(|| ConnectorError::Config("the bucket is not set".into()))?
            .to_string();
        let region = non_empty(config_str(config, "region"))
            .unwrap_or("us-east-1")
            .to_string();
        let path_style = config
            .get("path_style")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let root = paths::normalize(config_str(config, "prefix").unwrap_or(""))
            .map_err(|e| ConnectorError::Config(format!("the prefix {e}")))?;
        let (endpoint, allow_http) = match non_empty(config_str(config, "endpoint_url")) {
            None => (None, false),
            Some(url) => {
                let (scheme, rest) = url.split_once("://").ok_or_else(bad_endpoint)?;
                let rest = rest.trim_end_matches('/');
                if !matches!(scheme, "http" | "https") || rest.is_empty() {
                    return Err(bad_endpoint());
                }
                // object_store takes a virtual-hosted endpoint with the
                // bucket already in its host name.
                let endpoint = if path_style {
                    format!("{scheme}://{rest}")
                } else {
                    format!("{scheme}://{bucket}.{rest}")
                };
                (Some(endpoint), scheme == "http")
            }
        };
        Ok(Self {
            bucket,
            region,
            endpoint,
            path_style,
            allow_http,
            root,
            access: access(credentials)?,
        })
    }
}

fn access(credentials: &BTreeMap<String, String>) -> Result<Access, ConnectorError> {
    let get = |k: &str| non_empty(credentials.get(k).map(String::as_str)).map(str::to_string);
    match (get("access_key_id"), get("secret_access_key")) {
        (None, None) if get("session_token").is_none() => Ok(Access::Anonymous),
        (Some(access_key_id), Some(secret_access_key)) => Ok(Access::Key {
            access_key_id,
            secret_access_key,
            session_token: get("session_token"),
        }),
        _ => Err(ConnectorError::Config(
            "give both the access key ID and the secret access key, or neither (anonymous access to a public bucket)"
                .into(),
        )),
    }
}

fn non_empty(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

fn bad_endpoint() -> ConnectorError {
    ConnectorError::Config("the endpoint URL must start with http:// or https://".into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(config: Value, creds: &[(&str, &str)]) -> Result<S3Settings, ConnectorError> {
        let creds = creds
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        S3Settings::read(config.as_object().unwrap(), &creds)
    }

    #[test]
    fn defaults_are_aws_in_us_east_1_for_the_whole_bucket_anonymously() {
        let s = read(json!({"bucket": "b"}), &[]).unwrap();
        assert_eq!(s.region, "us-east-1");
        assert_eq!(
            (s.endpoint, s.root, s.access),
            (None, String::new(), Access::Anonymous)
        );
    }

    #[test]
    fn the_prefix_is_normalised_and_may_not_escape() {
        let s = read(json!({"bucket": "b", "prefix": "/exports//2024/"}), &[]).unwrap();
        assert_eq!(s.root, "exports/2024");
        assert!(matches!(
            read(json!({"bucket": "b", "prefix": "../x"}), &[]),
            Err(ConnectorError::Config(_))
        ));
    }

    #[test]
    fn endpoints_put_the_bucket_in_the_host_unless_path_style() {
        let s = read(
            json!({"bucket": "b", "endpoint_url": "http://minio:9000/", "path_style": true}),
            &[],
        )
        .unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("http://minio:9000"));
        assert!(s.allow_http);
        let s = read(
            json!({"bucket": "b", "endpoint_url": "https://s3.example.com"}),
            &[],
        )
        .unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("https://b.s3.example.com"));
        assert!(!s.allow_http);
        assert!(read(json!({"bucket": "b", "endpoint_url": "minio:9000"}), &[]).is_err());
    }

    #[test]
    fn a_key_needs_its_secret() {
        let s = read(
            json!({"bucket": "b"}),
            &[
                ("access_key_id", "AK"),
                ("secret_access_key", "sk"),
                ("session_token", ""),
            ],
        )
        .unwrap();
        assert!(matches!(
            s.access,
            Access::Key {
                session_token: None,
                ..
            }
        ));
        let e = read(json!({"bucket": "b"}), &[("access_key_id", "AK")]).unwrap_err();
        assert!(matches!(e, ConnectorError::Config(_)));
    }
}

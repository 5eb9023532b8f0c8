//! The provider catalog: one JSON file per provider in `catalog/`, embedded
//! at build time and parsed once.

use std::{collections::BTreeMap, sync::OnceLock};

use include_dir::{Dir, include_dir};

use crate::domain::catalog::ProviderCatalog;

static FILES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/src/connectors/catalog");

/// Every provider, by key. A file that does not parse is a build defect,
/// caught by the unit test below; at run time it is skipped and logged.
pub fn all() -> &'static BTreeMap<String, ProviderCatalog> {
    static CATALOG: OnceLock<BTreeMap<String, ProviderCatalog>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut out = BTreeMap::new();
        for f in FILES.files().filter(|f| f.path().extension().is_some_and(|e| e == "json")) {
            match serde_json::from_slice::<ProviderCatalog>(f.contents()) {
                Ok(c) => {
                    out.insert(c.provider.clone(), c);
                }
                Err(e) => tracing::error!(file = %f.path().display(), error = %e, "skipping an unreadable catalog entry"),
            }
        }
        out
    })
}

pub fn get(provider: &str) -> Option<&'static ProviderCatalog> {
    all().get(provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVIDERS: &[&str] = &[
        "shopify",
        "http_api",
        "flexiroam",
        "starlink",
        "s3",
        "google_drive",
        "msft_sharepoint",
        "klaviyo",
        "amazon_sp",
        "salesforce",
        "netsuite",
        "sqlserver",
        "postgres",
        "mlflow",
        "sftp",
        "gmail_inbox",
        "dropbox",
        "rydership",
        "gorgias",
        "redo",
        "bullhorn",
        "sqlite",
        "faker",
    ];

    #[test]
    fn every_provider_has_a_valid_entry() {
        assert_eq!(
            FILES.files().count(),
            PROVIDERS.len(),
            "one file per provider"
        );
        for p in PROVIDERS {
            let c = get(p).unwrap_or_else(|| panic!("{p} is missing or does not parse"));
            assert!(
                jsonschema::validator_for(&c.config_schema).is_ok(),
                "{p} config_schema"
            );
            assert!(
                jsonschema::validator_for(&c.credentials_schema).is_ok(),
                "{p} credentials_schema"
            );
            assert!(
                c.dynamic_resources || !c.resources.is_empty(),
                "{p} has no resources"
            );
        }
        let faker = get("faker").map(|c| c.available_resources());
        assert_eq!(
            faker,
            Some(vec!["users".to_string(), "orders".into(), "events".into()])
        );
    }

    /// A sync created without entities takes the defaults: they must be
    /// valid together, and every dependency must name a real resource.
    #[test]
    fn default_resources_include_their_parents() {
        for (p, c) in all() {
            let available = c.available_resources();
            for r in &c.resources {
                for d in &r.depends_on {
                    assert!(
                        available.contains(d),
                        "{p}: {} depends on unknown {d}",
                        r.entity_key
                    );
                }
            }
            let mut v = crate::error::Violations::new();
            crate::domain::load_order::check_parents_selected(&c.default_resources(), c, &mut v);
            assert!(v.is_empty(), "{p}: {:?}", v.0);
        }
    }
}

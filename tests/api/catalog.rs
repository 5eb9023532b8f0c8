//! CatalogService: every provider with its schemas and capabilities, one
//! provider's catalog, and the errors of unknown or missing keys.

use prost_types::value::Kind;
use tonic::Code;
use tributary::pb::{self, ApiKeyRole};

use crate::{
    both,
    helpers::{TestApp, domain, expect_code, expect_violation, reason, violations},
};

both!(
    list_providers_returns_every_provider_sorted,
    shopify_catalog_has_its_resources_and_cursors,
    databases_have_dynamic_resources,
    faker_catalog_matches_the_design,
    unknown_or_missing_provider_is_an_error,
    any_role_can_read_the_catalog,
    the_catalog_says_what_this_build_supports_and_filters_on_it,
);

/// `supported` comes from the connectors, not the manifests: a provider
/// with no connector says it cannot be read, and ListProviders can ask for
/// only those that can.
async fn the_catalog_says_what_this_build_supports_and_filters_on_it(app: TestApp) {
    use pb::ProviderFeature as F;
    let list = |features: Vec<F>| {
        let mut c = app.catalog();
        async move {
            c.list_providers(pb::ListProvidersRequest {
                supports: features.into_iter().map(i32::from).collect(),
            })
            .await
        }
    };
    let all = list(vec![]).await.unwrap().into_inner().providers;
    let support = |key: &str| {
        all.iter()
            .find(|p| p.provider == key)
            .and_then(|p| p.supported)
            .unwrap_or_else(|| panic!("{key} has no supported"))
    };
    let postgres = support("postgres");
    assert!(postgres.verify && postgres.browse_schema && postgres.read);
    assert!(!postgres.list_files && !postgres.oauth);
    let faker = support("faker");
    assert!(faker.verify && faker.read && !faker.browse_schema);
    // Its catalog file advertises entities; this build has no connector.
    assert_eq!(support("dropbox"), pb::ProviderSupport::default());
    let http = support("http_api");
    assert!(http.verify && http.read && !http.destination && !http.list_files);

    let readable: Vec<String> = list(vec![F::Read])
        .await
        .unwrap()
        .into_inner()
        .providers
        .into_iter()
        .map(|p| p.provider)
        .collect();
    for key in ["faker", "http_api", "postgres", "s3", "sftp", "sqlite"] {
        assert!(readable.iter().any(|r| r == key), "{key} is readable");
    }
    for key in ["dropbox", "google_drive", "msft_sharepoint", "sqlserver"] {
        assert!(!readable.iter().any(|r| r == key), "{key} is not readable");
    }
    // The same list the registry holds: a SaaS provider reads once its
    // catalog file carries a manifest.
    let registry: Vec<&str> = PROVIDERS
        .iter()
        .copied()
        .filter(|p| tributary::connectors::registry::support(p).read)
        .collect();
    let mut sorted = registry.clone();
    sorted.sort_unstable();
    assert_eq!(readable, sorted);
    for key in ["s3", "sftp"] {
        let s = support(key);
        assert!(s.verify && s.list_files && s.read, "{key}");
        assert!(!s.browse_schema && !s.destination && !s.oauth, "{key}");
    }
    let browsable: Vec<String> = list(vec![F::Read, F::BrowseSchema])
        .await
        .unwrap()
        .into_inner()
        .providers
        .into_iter()
        .map(|p| p.provider)
        .collect();
    assert_eq!(browsable, ["postgres", "sqlite"]);
    let st = expect_violation(
        app.catalog()
            .list_providers(pb::ListProvidersRequest { supports: vec![99] })
            .await,
        "supports[0]",
    );
    assert_eq!(violations(&st), ["supports[0]"]);
}

const PROVIDERS: [&str; 23] = [
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

fn text(s: &prost_types::Struct, key: &str) -> Option<String> {
    match s.fields.get(key)?.kind.as_ref()? {
        Kind::StringValue(v) => Some(v.clone()),
        _ => None,
    }
}

fn keys_of(s: &prost_types::Struct, key: &str) -> Vec<String> {
    match s.fields.get(key).and_then(|v| v.kind.as_ref()) {
        Some(Kind::StructValue(o)) => {
            let mut k: Vec<String> = o.fields.keys().cloned().collect();
            k.sort();
            k
        }
        _ => vec![],
    }
}

fn strings(s: &prost_types::Struct, key: &str) -> Vec<String> {
    match s.fields.get(key).and_then(|v| v.kind.as_ref()) {
        Some(Kind::ListValue(l)) => l
            .values
            .iter()
            .filter_map(|v| match &v.kind {
                Some(Kind::StringValue(s)) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

async fn get(app: &TestApp, provider: &str) -> pb::ProviderCatalog {
    app.catalog()
        .get_provider_catalog(pb::GetProviderCatalogRequest {
            provider: provider.into(),
        })
        .await
        .unwrap_or_else(|s| panic!("{provider}: {s:?}"))
        .into_inner()
}

async fn list_providers_returns_every_provider_sorted(app: TestApp) {
    let list = app
        .catalog()
        .list_providers(pb::ListProvidersRequest::default())
        .await
        .unwrap()
        .into_inner();
    let keys: Vec<&str> = list.providers.iter().map(|p| p.provider.as_str()).collect();
    let mut want = PROVIDERS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want, "all 23 providers, sorted by key");

    for p in &list.providers {
        let key = &p.provider;
        assert!(!p.name.is_empty() && !p.display_name.is_empty(), "{key}");
        assert!(
            ["saas", "database", "file_store", "demo"].contains(&p.category.as_str()),
            "{key}: category {}",
            p.category
        );
        let config = p
            .config_schema
            .as_ref()
            .unwrap_or_else(|| panic!("{key}: no config_schema"));
        assert_eq!(text(config, "type").as_deref(), Some("object"), "{key}");
        let creds = p
            .credentials_schema
            .as_ref()
            .unwrap_or_else(|| panic!("{key}: no credentials_schema"));
        assert_eq!(text(creds, "type").as_deref(), Some("object"), "{key}");
        // Every required field of a schema is one of its properties.
        for schema in [config, creds] {
            let props = keys_of(schema, "properties");
            for r in strings(schema, "required") {
                assert!(props.contains(&r), "{key}: required {r} is not a property");
            }
        }
        let caps = p
            .capabilities
            .as_ref()
            .unwrap_or_else(|| panic!("{key}: no capabilities"));
        // A static catalog lists its resources; a dynamic one may list none.
        if !p.dynamic_resources {
            assert!(!p.resources.is_empty(), "{key}: no resources");
        }
        // A file store's `*` resource is the template of its file sets.
        let available: Vec<&str> = p
            .resources
            .iter()
            .map(|r| r.entity_key.as_str())
            .filter(|k| *k != "*")
            .collect();
        assert_eq!(p.available_resources, available, "{key}");
        for d in &p.default_resources {
            assert!(available.contains(&d.as_str()), "{key}: default {d}");
        }
        for r in &p.resources {
            assert!(
                !r.entity_key.is_empty() && !r.display_name.is_empty(),
                "{key}"
            );
            for dep in &r.depends_on {
                assert!(
                    available.contains(&dep.as_str()),
                    "{key}.{}: {dep}",
                    r.entity_key
                );
            }
        }
        // File stores browse files; databases browse schemas.
        match p.category.as_str() {
            "file_store" => assert!(caps.files, "{key}"),
            "database" => assert!(caps.schema, "{key}"),
            _ => {}
        }
        // The list and the single lookup agree.
        assert_eq!(&get(&app, key).await, p, "{key}");
    }
}

async fn shopify_catalog_has_its_resources_and_cursors(app: TestApp) {
    let c = get(&app, "shopify").await;
    assert_eq!(c.provider, "shopify");
    assert_eq!(c.category, "saas");
    assert!(!c.dynamic_resources);
    let caps = c.capabilities.unwrap();
    assert!(caps.incremental && caps.oauth && !caps.files && !caps.schema);
    for entity in ["orders", "customers", "products"] {
        let r = c
            .resources
            .iter()
            .find(|r| r.entity_key == entity)
            .unwrap_or_else(|| panic!("no {entity}"));
        assert_eq!(r.cursor_field, "updated_at", "{entity}");
        assert_eq!(r.primary_key, ["id"], "{entity}");
        assert_eq!(r.load_mode(), pb::LoadMode::Upsert, "{entity}");
        assert_ne!(r.size_class(), pb::SizeClass::Unspecified, "{entity}");
        assert!(c.available_resources.contains(&entity.to_string()));
    }
    let config = c.config_schema.unwrap();
    assert_eq!(strings(&config, "required"), ["shop_domain"]);
    assert!(keys_of(&config, "properties").contains(&"api_version".to_string()));
    let creds = c.credentials_schema.unwrap();
    assert_eq!(keys_of(&creds, "properties"), ["access_token"]);
    assert_eq!(strings(&creds, "required"), ["access_token"]);
    // Defaults fill config (CreateConnection applies them).
    let defaults = c.defaults.unwrap();
    assert!(text(&defaults, "api_version").is_some_and(|v| !v.is_empty()));
}

async fn databases_have_dynamic_resources(app: TestApp) {
    for key in ["postgres", "sqlite", "sqlserver"] {
        let c = get(&app, key).await;
        assert!(c.dynamic_resources, "{key}");
        assert_eq!(c.category, "database", "{key}");
        let caps = c.capabilities.unwrap();
        assert!(caps.schema && caps.incremental && !caps.files, "{key}");
    }
    // File stores discover their entities too.
    for key in ["s3", "sftp", "google_drive", "dropbox", "msft_sharepoint"] {
        let c = get(&app, key).await;
        assert!(c.dynamic_resources, "{key}");
        assert!(c.capabilities.unwrap().files, "{key}");
    }
    // The postgres password is a write-only credential, not config.
    let pg = get(&app, "postgres").await;
    assert_eq!(
        keys_of(pg.credentials_schema.as_ref().unwrap(), "properties"),
        ["password"]
    );
    let mut required = strings(pg.config_schema.as_ref().unwrap(), "required");
    required.sort();
    assert_eq!(required, ["database", "host", "username"]);
    // A SaaS catalog is static.
    assert!(!get(&app, "klaviyo").await.dynamic_resources);
}

async fn faker_catalog_matches_the_design(app: TestApp) {
    let c = get(&app, "faker").await;
    assert_eq!(c.category, "demo");
    let entities: Vec<&str> = c.resources.iter().map(|r| r.entity_key.as_str()).collect();
    assert_eq!(entities, ["users", "orders", "events"]);
    for r in &c.resources {
        assert_eq!(r.primary_key, ["id"], "{}", r.entity_key);
        assert_eq!(r.cursor_field, "updated_at", "{}", r.entity_key);
    }
    let config = keys_of(c.config_schema.as_ref().unwrap(), "properties");
    for field in ["row_count", "seed", "rows_per_second"] {
        assert!(config.contains(&field.to_string()), "{field} in {config:?}");
    }
    assert!(keys_of(c.credentials_schema.as_ref().unwrap(), "properties").is_empty());
}

async fn unknown_or_missing_provider_is_an_error(app: TestApp) {
    let mut cat = app.catalog();
    for unknown in ["oracle", "Shopify", "shopify ", "../shopify"] {
        let s = expect_code(
            cat.get_provider_catalog(pb::GetProviderCatalogRequest {
                provider: unknown.into(),
            })
            .await,
            Code::NotFound,
        );
        assert_eq!(reason(&s), "NOT_FOUND");
        assert_eq!(domain(&s), "tributary.dev");
        let info = tonic_types::StatusExt::get_details_resource_info(&s).unwrap();
        assert_eq!(info.resource_type, "provider");
        assert_eq!(info.resource_name, unknown);
    }
    expect_violation(
        cat.get_provider_catalog(pb::GetProviderCatalogRequest {
            provider: String::new(),
        })
        .await,
        "provider",
    );
}

async fn any_role_can_read_the_catalog(app: TestApp) {
    for role in [ApiKeyRole::Viewer, ApiKeyRole::Editor, ApiKeyRole::Executor] {
        let key = app.key_with_role(role).await;
        let mut cat = app.catalog_as(&key);
        let list = cat
            .list_providers(pb::ListProvidersRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(list.providers.len(), PROVIDERS.len(), "{role:?}");
        let shopify = cat
            .get_provider_catalog(pb::GetProviderCatalogRequest {
                provider: "shopify".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(shopify.provider, "shopify");
    }
    // But not without a key.
    expect_code(
        app.catalog_as("")
            .list_providers(pb::ListProvidersRequest::default())
            .await,
        Code::Unauthenticated,
    );
}

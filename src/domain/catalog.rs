//! The provider catalog's data model: what a provider offers. Entries are
//! data files (`src/connectors/catalog/*.json`), loaded by `connectors::catalog`.

use serde::Deserialize;
use serde_json::Value;

use super::enums::LoadMode;

#[derive(Debug, Clone, Deserialize)]
pub struct ProviderCatalog {
    pub provider: String,
    pub name: String,
    pub display_name: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub documentation_url: String,
    pub config_schema: Value,
    pub credentials_schema: Value,
    #[serde(default)]
    pub defaults: Value,
    #[serde(default)]
    pub dynamic_resources: bool,
    #[serde(default)]
    pub capabilities: Capabilities,
    #[serde(default)]
    pub resources: Vec<ResourceSpec>,
    /// How an HTTP provider's resources are read: an http_api manifest
    /// (`connectors::http::manifest`), kept as data beside the resources.
    #[serde(default)]
    pub manifest: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Capabilities {
    #[serde(default)]
    pub files: bool,
    #[serde(default)]
    pub schema: bool,
    #[serde(default)]
    pub oauth: bool,
    #[serde(default)]
    pub incremental: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResourceSpec {
    pub entity_key: String,
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub cursor_field: String,
    #[serde(default)]
    pub primary_key: Vec<String>,
    #[serde(default)]
    pub default_selected: bool,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default = "default_load_mode")]
    pub load_mode: String,
    #[serde(default)]
    pub size_class: String,
    #[serde(default)]
    pub slicing: Value,
    #[serde(default)]
    pub storage_kind: String,
    #[serde(default)]
    pub storage_description: String,
    #[serde(default)]
    pub config_schema: Value,
}

fn default_load_mode() -> String {
    "upsert".into()
}

impl ResourceSpec {
    pub fn load_mode(&self) -> LoadMode {
        LoadMode::parse(&self.load_mode).unwrap_or(LoadMode::Upsert)
    }
}

/// The entity key of a dynamic provider's template resource: the defaults
/// (cursor, key, load mode) and settings schema of every entity a sync
/// names itself, e.g. a file store's file sets.
pub const TEMPLATE: &str = "*";

impl ProviderCatalog {
    pub fn resource(&self, entity: &str) -> Option<&ResourceSpec> {
        self.resources.iter().find(|r| r.entity_key == entity)
    }

    /// The resource an entity takes its defaults from: its own, or for a
    /// dynamic provider the template's.
    pub fn resource_or_template(&self, entity: &str) -> Option<&ResourceSpec> {
        self.resource(entity).or_else(|| {
            self.dynamic_resources
                .then(|| self.resource(TEMPLATE))
                .flatten()
        })
    }

    pub fn available_resources(&self) -> Vec<String> {
        self.resources
            .iter()
            .filter(|r| r.entity_key != TEMPLATE)
            .map(|r| r.entity_key.clone())
            .collect()
    }

    pub fn default_resources(&self) -> Vec<String> {
        self.resources
            .iter()
            .filter(|r| r.default_selected)
            .map(|r| r.entity_key.clone())
            .collect()
    }
}

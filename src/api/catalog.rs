//! CatalogService: the providers and what each offers.

use tonic::{Request, Response, Status};

use super::convert::json_to_struct;
use crate::{
    connectors::{
        catalog,
        registry::{self, Support},
    },
    domain::catalog::{ProviderCatalog, ResourceSpec},
    error::Error,
    pb::{self, catalog_service_server::CatalogService},
};

pub struct Catalog;

fn object(v: &serde_json::Value) -> Option<prost_types::Struct> {
    v.as_object().map(json_to_struct)
}

fn size_class(s: &str) -> i32 {
    match s {
        "xs" => pb::SizeClass::Xs,
        "s" => pb::SizeClass::S,
        "m" => pb::SizeClass::M,
        "l" => pb::SizeClass::L,
        "xl" => pb::SizeClass::Xl,
        _ => pb::SizeClass::Unspecified,
    }
    .into()
}

fn resource(r: &ResourceSpec) -> pb::ResourceSpec {
    pb::ResourceSpec {
        entity_key: r.entity_key.clone(),
        display_name: r.display_name.clone(),
        description: r.description.clone(),
        cursor_field: r.cursor_field.clone(),
        default_selected: r.default_selected,
        depends_on: r.depends_on.clone(),
        load_mode: pb::LoadMode::from(r.load_mode()).into(),
        size_class: size_class(&r.size_class),
        slicing: object(&r.slicing),
        storage_kind: r.storage_kind.clone(),
        storage_description: r.storage_description.clone(),
        config_schema: object(&r.config_schema),
        primary_key: r.primary_key.clone(),
    }
}

pub fn provider(c: &ProviderCatalog) -> pb::ProviderCatalog {
    pb::ProviderCatalog {
        provider: c.provider.clone(),
        name: c.name.clone(),
        display_name: c.display_name.clone(),
        config_schema: object(&c.config_schema),
        credentials_schema: object(&c.credentials_schema),
        defaults: object(&c.defaults),
        resources: c.resources.iter().map(resource).collect(),
        available_resources: c.available_resources(),
        default_resources: c.default_resources(),
        dynamic_resources: c.dynamic_resources,
        capabilities: Some(pb::ProviderCapabilities {
            files: c.capabilities.files,
            schema: c.capabilities.schema,
            oauth: c.capabilities.oauth,
            incremental: c.capabilities.incremental,
        }),
        category: c.category.clone(),
        documentation_url: c.documentation_url.clone(),
        supported: Some(supported(registry::support(&c.provider))),
    }
}

fn supported(s: Support) -> pb::ProviderSupport {
    pb::ProviderSupport {
        verify: s.verify,
        browse_schema: s.browse_schema,
        list_files: s.list_files,
        read: s.read,
        destination: s.destination,
        oauth: s.oauth,
    }
}

/// Whether `s` has `feature` (UNSPECIFIED: always).
fn has(s: Support, feature: pb::ProviderFeature) -> bool {
    use pb::ProviderFeature as F;
    match feature {
        F::Unspecified => true,
        F::Verify => s.verify,
        F::BrowseSchema => s.browse_schema,
        F::ListFiles => s.list_files,
        F::Read => s.read,
        F::Destination => s.destination,
        F::Oauth => s.oauth,
    }
}

#[tonic::async_trait]
impl CatalogService for Catalog {
    async fn list_providers(
        &self,
        req: Request<pb::ListProvidersRequest>,
    ) -> Result<Response<pb::ListProvidersResponse>, Status> {
        let req = req.into_inner();
        let mut wanted = Vec::with_capacity(req.supports.len());
        for (i, f) in req.supports.iter().enumerate() {
            match pb::ProviderFeature::try_from(*f) {
                Ok(f) => wanted.push(f),
                Err(_) => {
                    let mut v = crate::error::Violations::default();
                    v.add(
                        format!("supports[{i}]"),
                        format!("{f} is not a ProviderFeature"),
                    );
                    return Err(Error::InvalidArgument(v).into());
                }
            }
        }
        Ok(Response::new(pb::ListProvidersResponse {
            providers: catalog::all()
                .values()
                .filter(|c| {
                    let s = registry::support(&c.provider);
                    wanted.iter().all(|f| has(s, *f))
                })
                .map(provider)
                .collect(),
        }))
    }

    async fn get_provider_catalog(
        &self,
        req: Request<pb::GetProviderCatalogRequest>,
    ) -> Result<Response<pb::ProviderCatalog>, Status> {
        let key = &req.get_ref().provider;
        if key.is_empty() {
            return Err(crate::error::invalid("provider", "is required").into());
        }
        let c = catalog::get(key).ok_or_else(|| Error::not_found("provider", key))?;
        Ok(Response::new(provider(c)))
    }
}

//! The gRPC surface: tonic service impls (thin: decode, authorize, call a
//! use case, encode), the layers around them, health and reflection.

pub mod admission;
pub mod auth_layer;
pub mod catalog;
pub mod codec;
pub mod connections;
pub mod convert;
pub mod executor;
mod file_items;
pub mod health;
pub mod layers;
pub mod lists;
pub mod runs;
pub mod status;
pub mod streams;
pub mod syncs;
pub mod workspaces;

use tonic::{Request, Status, service::Routes};
use tonic_health::server::HealthReporter;

use crate::{auth::Principal, pb, service::Services};

/// Largest message a call may send or receive.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Every public service's name, as health reports them.
pub const SERVICE_NAMES: &[&str] = &[
    "tributary.v1.ConnectionService",
    "tributary.v1.CatalogService",
    "tributary.v1.SyncService",
    "tributary.v1.RunService",
    "tributary.v1.ExecutorService",
    "tributary.v1.WorkspaceService",
];

/// The caller, as the auth layer attached it.
pub(crate) fn principal<T>(req: &Request<T>) -> Result<Principal, Status> {
    req.extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("an API key is required"))
}

macro_rules! limited {
    ($server:expr) => {
        $server
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    };
}

/// The routes of every service: ours, health, and reflection v1 + v1alpha
/// (which also serves google.rpc's error details, so grpcurl can decode them).
/// `lease` is how long an external executor's lease lasts without a
/// heartbeat (the reaper's heartbeat timeout).
pub fn routes(
    svc: Services,
    limits: streams::StreamLimits,
    lease: std::time::Duration,
    health: tonic_health::pb::health_server::HealthServer<health::Health>,
) -> anyhow::Result<Routes> {
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let mut b = Routes::builder();
    b.add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(limited!(
            pb::connection_service_server::ConnectionServiceServer::new(connections::Connections(
                svc.clone()
            ))
        ))
        .add_service(limited!(
            pb::catalog_service_server::CatalogServiceServer::new(catalog::Catalog)
        ))
        .add_service(limited!(pb::sync_service_server::SyncServiceServer::new(
            syncs::Syncs(svc.clone())
        )))
        .add_service(limited!(pb::run_service_server::RunServiceServer::new(
            runs::Runs {
                svc: svc.clone(),
                limits,
            }
        )))
        .add_service(limited!(
            pb::executor_service_server::ExecutorServiceServer::new(executor::Executor {
                svc: svc.clone(),
                lease,
            })
        ))
        .add_service(limited!(
            pb::workspace_service_server::WorkspaceServiceServer::new(workspaces::Workspaces(svc))
        ));
    Ok(b.routes())
}

/// Marks every service (and the server as a whole, "") SERVING or NOT_SERVING.
pub async fn set_health(reporter: &HealthReporter, serving: bool) {
    use tonic_health::ServingStatus;
    let status = if serving {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    };
    for name in SERVICE_NAMES.iter().chain(std::iter::once(&"")) {
        reporter.set_service_status(*name, status).await;
    }
}

//! The baseline of `bench/run`: a bare tonic server with one trivial unary
//! RPC (grpc.health.v1.Health/Check) and reflection, so the load tool can
//! call it exactly as it calls Tributary. No auth, no store, no logging.

use std::net::SocketAddr;

use tonic::transport::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:50052".into())
        .parse()?;
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    eprintln!("echo baseline listening on {addr}");
    Server::builder()
        .add_service(health)
        .add_service(reflection)
        .serve(addr)
        .await?;
    Ok(())
}

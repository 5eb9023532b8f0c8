//! Integration tests of the gRPC API: one binary, each test against a real
//! server on SQLite and on PostgreSQL (see `helpers`).

// Tests fail loudly: unwrap and expect are the point here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod file_peers;
mod helpers;
mod http_peer;
mod pg_fixtures;
mod raw;
mod rows;
mod s3_fixtures;
mod saas_rows;
mod sftp_fixtures;

mod architecture;
mod auth;
mod bounds;
mod cache;
mod catalog;
mod connections;
mod connector_settings;
mod control;
mod destinations;
mod engine;
mod errors;
mod every_rpc;
mod executor;
mod failures;
mod files;
mod freshness;
mod fuzz;
mod http_api;
mod idempotency;
mod lifecycle;
mod load_modes_pg;
mod local_files;
mod lookback;
mod mlflow;
mod namespaces;
mod paging;
mod pg_crash;
mod pg_source;
mod pg_source_tls;
mod round_trip;
mod runs;
mod s3_store;
mod saas_bullhorn;
mod saas_gmail;
mod saas_netsuite;
mod saas_redo;
mod saas_rydership;
mod saas_starlink;
mod scheduler;
mod sftp_store;
mod sqlite_source;
mod states;
mod syncs;
mod tls;
mod transport;
mod watch;
mod workers;

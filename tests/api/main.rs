//! Integration tests of the gRPC API: one binary, each test against a real
//! server on SQLite and on PostgreSQL (see `helpers`).

mod helpers;

mod auth;
mod catalog;
mod connections;
mod errors;
mod idempotency;
mod paging;
mod runs;
mod syncs;

//! Tributary: a control plane for data syncs, served over gRPC.
//!
//! Layers, top to bottom (each only calls the ones below it):
//! - `api`: tonic services — decode, authorize, call a use case, encode.
//! - `service`: use cases — domain rules plus store calls, one transaction each.
//! - `domain`: validation, state machines, slugs, paging. Pure: no I/O.
//! - `store`: SeaORM over SQLite or PostgreSQL; the only code that speaks SQL.
//! - `connectors`: external systems behind the `Source` trait, and the catalog.
//! - `auth`: API keys, roles, the tower layer, credential encryption.
//! - `events`: what replicas tell each other (PostgreSQL LISTEN/NOTIFY).

pub mod api;
pub mod app;
pub mod auth;
pub mod batch;
pub mod config;
pub mod connectors;
pub mod domain;
pub mod engine;
pub mod error;
pub mod events;
pub mod pb;
pub mod service;
pub mod store;
pub mod warehouse;

//! Schema migrations of Tributary's control store. They run on SQLite and
//! PostgreSQL alike, so the schema sticks to portable types: ids are UUID
//! text, times are i64 microseconds since the Unix epoch (exact keyset
//! paging, same ordering on both engines), and JSON documents are text.
//! Migrations are frozen once merged: add a new one instead of editing.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_control_store;
mod m20261122_000002_create_list_versions;
mod m20261122_000003_add_run_event_level;
mod m20261123_000001_add_run_cancel_reason_code;
mod m20261123_000002_add_sync_freshness_breached_at;
mod m20261206_000001_add_sync_destination_connection;
mod m20261207_000001_add_connection_settings;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_control_store::Migration),
            Box::new(m20261122_000002_create_list_versions::Migration),
            Box::new(m20261122_000003_add_run_event_level::Migration),
            Box::new(m20261123_000001_add_run_cancel_reason_code::Migration),
            Box::new(m20261123_000002_add_sync_freshness_breached_at::Migration),
            Box::new(m20261206_000001_add_sync_destination_connection::Migration),
            Box::new(m20261207_000001_add_connection_settings::Migration),
        ]
    }
}

//! SeaORM entities of the control store, one per table (see `migrations/`).

pub mod api_key;
pub mod connection;
pub mod entity_state;
pub mod idempotency_key;
pub mod list_version;
pub mod run;
pub mod run_event;
pub mod sync;
pub mod table_binding;
pub mod workspace;

//! Run events and what replicas tell each other.
//!
//! `hub` fans run events out to this process's watchers. Where the events
//! come from depends on the store: on SQLite (one process) a transaction
//! publishes its events to the hub once committed; on PostgreSQL every
//! replica runs one listener (`pg::follow`) through which all committed
//! events arrive, its own included, together with revoked API keys and
//! changed resources that retire this replica's caches.

pub mod hub;
pub mod pg;

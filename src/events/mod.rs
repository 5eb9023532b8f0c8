//! What replicas tell each other. On PostgreSQL every replica runs one
//! listener (`pg::follow`) through which all committed run events arrive,
//! its own included, and are handed to the store's hub (`store::hub`),
//! together with revoked API keys and changed resources that retire this
//! replica's caches. On SQLite (one process) a transaction publishes its
//! events to the hub itself once committed.

pub mod pg;

//! Events between replicas. On PostgreSQL every replica runs one listener
//! (`pg::follow`) that hears what other replicas (and `worker`s) commit:
//! revoked API keys and changed resources, which retire this replica's
//! caches. On SQLite there is one process, so nothing needs to travel.

pub mod pg;

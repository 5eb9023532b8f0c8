//! The LISTEN/NOTIFY bridge: one dedicated connection per replica.

use std::{sync::Arc, time::Duration};

use sea_orm::sqlx::postgres::PgListener;

use crate::store::hub::Hub;
use crate::{
    auth::cache::KeyCache,
    store::{
        cache::ReadCache,
        tx::{CHANGES_CHANNEL, REVOKED_CHANNEL, RUN_EVENTS_CHANNEL, apply_notification},
    },
};

/// What the listener keeps fresh.
pub struct Followers {
    pub keys: Arc<KeyCache>,
    pub reads: Arc<ReadCache>,
    pub hub: Arc<Hub>,
}

impl Followers {
    /// A listener that is down may miss notifications: the caches are
    /// emptied and bypassed until it is back (and emptied again then).
    fn set_live(&self, live: bool) {
        self.keys.set_live(live);
        self.reads.set_live(live);
        // Watchers may have missed events too: they catch up from the store.
        self.hub.set_live(live);
    }
}

/// Follows other replicas' commits for as long as the process runs,
/// reconnecting with backoff. `server` names this replica in the logs.
pub async fn follow(database_url: String, server: String, f: Followers) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match PgListener::connect(&database_url).await {
            Ok(mut listener) => match listener
                .listen_all([REVOKED_CHANNEL, CHANGES_CHANNEL, RUN_EVENTS_CHANNEL])
                .await
            {
                Ok(()) => {
                    f.set_live(true);
                    tracing::info!(%server, "caches live: following other replicas' changes");
                    backoff = Duration::from_millis(100);
                    // None: the connection dropped and notifications may be lost.
                    while let Ok(Some(n)) = listener.try_recv().await {
                        match n.channel() {
                            REVOKED_CHANNEL => f.keys.evict_key(n.payload()),
                            CHANGES_CHANNEL => apply_notification(&f.reads, n.payload()),
                            _ => match serde_json::from_str(n.payload()) {
                                Ok(event) => f.hub.publish(event),
                                Err(e) => tracing::warn!(error = %e, "undecodable run event"),
                            },
                        }
                    }
                    tracing::warn!("lost the change listener; bypassing caches until it is back");
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen for changes"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot connect the change listener"),
        }
        f.set_live(false);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

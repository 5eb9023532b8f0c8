//! Write transactions that announce what they changed. Every write to a
//! workspace's resources goes through a `Tx` and calls `changed`; the
//! commit then retires the read cache and cached list totals of those
//! resources, here at once and (through NOTIFY) on every other replica.

use std::sync::{Arc, Mutex};

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
    TransactionTrait,
};

use super::{Store, cache::ReadCache, counts};
use crate::{domain::run_event::RunEvent, error::Result, store::hub::Hub};

/// The PostgreSQL channel that carries "kind:workspace_id" of each change.
pub const CHANGES_CHANNEL: &str = "tributary_changes";
/// The PostgreSQL channel that carries revoked API key ids.
pub const REVOKED_CHANNEL: &str = "tributary_api_key_revoked";
/// The PostgreSQL channel that carries run events (JSON `RunEvent`s).
pub const RUN_EVENTS_CHANNEL: &str = "tributary_run_events";

pub struct Tx {
    txn: DatabaseTransaction,
    cache: Arc<ReadCache>,
    hub: Arc<Hub>,
    changes: Mutex<Vec<(String, &'static str)>>,
    events: Mutex<Vec<RunEvent>>,
}

impl Store {
    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx {
            txn: self.write.begin().await?,
            cache: self.cache.clone(),
            hub: self.hub.clone(),
            changes: Mutex::default(),
            events: Mutex::default(),
        })
    }

    /// Sends a live-only event (a heartbeat) to every replica's watchers.
    pub async fn emit_live(&self, event: RunEvent) -> Result<()> {
        if self.is_postgres() {
            notify(&self.write, RUN_EVENTS_CHANNEL, event_payload(&event)).await
        } else {
            self.hub.publish(event);
            Ok(())
        }
    }
}

/// `SELECT pg_notify(channel, payload)`: delivered at the commit of `db`'s
/// transaction (at once outside one), to every listener.
async fn notify(db: &impl ConnectionTrait, channel: &str, payload: String) -> Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

/// NOTIFY payloads are limited to 8000 bytes; run events keep their text
/// short (see `run_events::append`), so they always fit.
fn event_payload(event: &RunEvent) -> String {
    serde_json::to_string(event).unwrap_or_default()
}

impl Tx {
    /// Records that the workspace's resources of `kind` (`counts::CONNECTIONS`…)
    /// change in this transaction.
    pub async fn changed(&self, workspace_id: &str, kind: &'static str) -> Result<()> {
        counts::bump(&self.txn, workspace_id, kind).await?;
        if self.txn.get_database_backend() == DbBackend::Postgres {
            // Delivered to every listener, this replica's included, at commit.
            self.txn
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [
                        CHANGES_CHANNEL.into(),
                        format!("{kind}:{workspace_id}").into(),
                    ],
                ))
                .await?;
        }
        let mut changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        changes.push((workspace_id.to_string(), kind));
        Ok(())
    }

    /// Publishes a persisted run event once this transaction commits.
    pub async fn emit(&self, event: RunEvent) -> Result<()> {
        if self.is_postgres() {
            notify(&self.txn, RUN_EVENTS_CHANNEL, event_payload(&event)).await
        } else {
            let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
            events.push(event);
            Ok(())
        }
    }

    fn is_postgres(&self) -> bool {
        self.txn.get_database_backend() == DbBackend::Postgres
    }

    /// Commits, then retires this replica's cached reads of what changed
    /// before the caller answers: a replica always reads its own writes.
    pub async fn commit(self) -> Result<()> {
        self.txn.commit().await?;
        let changes = self.changes.into_inner().unwrap_or_else(|e| e.into_inner());
        for (workspace_id, kind) in changes {
            self.cache.invalidate(&workspace_id, kind);
        }
        let events = self.events.into_inner().unwrap_or_else(|e| e.into_inner());
        for event in events {
            self.hub.publish(event);
        }
        Ok(())
    }
}

impl Tx {
    pub async fn rollback(self) -> Result<()> {
        Ok(self.txn.rollback().await?)
    }
}

/// Invalidates the cache for a "kind:workspace_id" notification payload.
pub fn apply_notification(cache: &ReadCache, payload: &str) {
    if let Some((kind, workspace_id)) = payload.split_once(':')
        && let Some(kind) = counts::kind(kind)
    {
        cache.invalidate(workspace_id, kind);
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Tx {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(
        &self,
        stmt: Statement,
    ) -> std::result::Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}

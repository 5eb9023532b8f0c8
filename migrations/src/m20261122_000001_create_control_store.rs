//! The first schema: workspaces, API keys, connections, syncs, table
//! bindings, runs, run events, entity cursor state and idempotency records.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_create_control_store"
    }
}

fn id(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string()
        .not_null()
        .primary_key()
        .to_owned()
}
fn text(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .text()
        .not_null()
        .to_owned()
}
fn text_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).text().null().to_owned()
}
fn int(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .to_owned()
}
fn int_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .null()
        .to_owned()
}
fn flag(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

fn table(name: &str, columns: Vec<ColumnDef>) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(Alias::new(name)).if_not_exists();
    for mut c in columns {
        t.col(&mut c);
    }
    t.to_owned()
}

fn index(name: &str, table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(Alias::new(table)).if_not_exists();
    for c in columns {
        i.col(Alias::new(*c));
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table(
                "workspaces",
                vec![
                    id("id"),
                    text("name"),
                    text("slug"),
                    text_null("parent_workspace_id"),
                    int("created_at"),
                    int("updated_at"),
                ],
            ),
            table(
                "api_keys",
                vec![
                    id("id"),
                    text("workspace_id"),
                    text("name"),
                    text("role"),
                    text("prefix"),
                    // SHA-256 of the key: keys are high-entropy random, so no slow hash is needed.
                    text("key_hash"),
                    int("created_at"),
                    text("created_by"),
                    int_null("last_used_at"),
                    int_null("revoked_at"),
                    int_null("expires_at"),
                ],
            ),
            table(
                "connections",
                vec![
                    id("id"),
                    text("workspace_id"),
                    text("name"),
                    text("slug"),
                    text("provider"),
                    text("config"),
                    // AES-256-GCM: base64(nonce || ciphertext) of the JSON credentials map.
                    text_null("credentials_ciphertext"),
                    text("status"),
                    text_null("verification_error"),
                    flag("is_default"),
                    flag("is_from_template"),
                    int("created_at"),
                    int("updated_at"),
                    text("created_by"),
                    text("updated_by"),
                    int_null("last_used_at"),
                    int_null("last_verified_at"),
                    text("etag"),
                ],
            ),
            table(
                "syncs",
                vec![
                    id("id"),
                    text("workspace_id"),
                    text("name"),
                    text("slug"),
                    text("connection_id"),
                    text("provider_key"),
                    text("entities"),
                    text("source_config"),
                    text("destination_config"),
                    text("execution_backend"),
                    text("execution_mode"),
                    text("execution_config"),
                    int_null("freshness_sla_seconds"),
                    text_null("schedule"),
                    text("status"),
                    text("trigger_mode"),
                    text("task_slug"),
                    text_null("last_error"),
                    int_null("last_success_at"),
                    int_null("next_run_at"),
                    int("created_at"),
                    int("updated_at"),
                    text("created_by"),
                    text("updated_by"),
                    text("etag"),
                ],
            ),
            table(
                "table_bindings",
                vec![
                    id("id"),
                    text("sync_id"),
                    int("position"),
                    text("entity_key"),
                    text("source_instance_key"),
                    text("logical_table_name"),
                    text("physical_table_name"),
                    text("table_name"),
                    text("primary_key_columns"),
                    text("cursor_field"),
                    text("load_mode"),
                    text("table_naming_version"),
                    int("created_at"),
                    int("updated_at"),
                ],
            ),
            table(
                "runs",
                vec![
                    id("id"),
                    text("workspace_id"),
                    text("sync_id"),
                    text("status"),
                    text("run_mode"),
                    text("triggered_by"),
                    text("trigger_ref"),
                    int("attempt_number"),
                    text("attempt_root_run_id"),
                    text_null("previous_attempt_run_id"),
                    text_null("next_attempt_run_id"),
                    int("max_auto_resume_attempts"),
                    text("execution_backend"),
                    text("execution_mode"),
                    text_null("executor_id"),
                    int_null("lease_expires_at"),
                    text_null("backend_run_ref"),
                    text_null("backend_run_url"),
                    text_null("backend_status"),
                    int_null("backend_heartbeat_at"),
                    int_null("last_heartbeat_at"),
                    int_null("cancel_requested_at"),
                    text_null("cancel_requested_by"),
                    text_null("cancel_reason"),
                    text_null("result_class"),
                    text_null("result_reason_code"),
                    text_null("error"),
                    text_null("summary"),
                    int("created_at"),
                    int_null("started_at"),
                    int_null("completed_at"),
                    int("updated_at"),
                    int("last_event_sequence"),
                ],
            ),
            table(
                "run_events",
                vec![
                    ColumnDef::new(Alias::new("run_id"))
                        .string()
                        .not_null()
                        .to_owned(),
                    int("sequence"),
                    text("kind"),
                    // The encoded event body (JSON).
                    text("payload"),
                    int("emitted_at"),
                ],
            ),
            table(
                "entity_states",
                vec![
                    ColumnDef::new(Alias::new("sync_id"))
                        .string()
                        .not_null()
                        .to_owned(),
                    ColumnDef::new(Alias::new("entity_key"))
                        .string()
                        .not_null()
                        .to_owned(),
                    // Bumped by ResetSyncState; a destination cursor of an older
                    // generation is ignored, so the next run reads in full.
                    int("generation"),
                    text_null("cursor"),
                    int("updated_at"),
                ],
            ),
            table(
                "idempotency_keys",
                vec![
                    // principal / method / request_id
                    id("scope"),
                    text("workspace_id"),
                    text("resource_id"),
                    int("created_at"),
                ],
            ),
        ];
        for t in tables {
            manager.create_table(t).await?;
        }
        // Composite primary keys, as unique indexes (portable across engines).
        let indexes = vec![
            index("ux_workspaces_slug", "workspaces", &["slug"], true),
            index("ux_api_keys_hash", "api_keys", &["key_hash"], true),
            index(
                "ix_api_keys_workspace",
                "api_keys",
                &["workspace_id", "created_at"],
                false,
            ),
            index(
                "ux_connections_slug",
                "connections",
                &["workspace_id", "slug"],
                true,
            ),
            index(
                "ix_connections_name",
                "connections",
                &["workspace_id", "name", "id"],
                false,
            ),
            index(
                "ix_connections_created",
                "connections",
                &["workspace_id", "created_at", "id"],
                false,
            ),
            index("ux_syncs_slug", "syncs", &["workspace_id", "slug"], true),
            index(
                "ix_syncs_name",
                "syncs",
                &["workspace_id", "name", "id"],
                false,
            ),
            index("ix_syncs_connection", "syncs", &["connection_id"], false),
            index(
                "ix_bindings_sync",
                "table_bindings",
                &["sync_id", "position"],
                false,
            ),
            index(
                "ix_runs_workspace",
                "runs",
                &["workspace_id", "created_at", "id"],
                false,
            ),
            index(
                "ix_runs_sync",
                "runs",
                &["sync_id", "created_at", "id"],
                false,
            ),
            index("ix_runs_status", "runs", &["status", "created_at"], false),
            index(
                "ux_run_events_seq",
                "run_events",
                &["run_id", "sequence"],
                true,
            ),
            index(
                "ux_entity_states",
                "entity_states",
                &["sync_id", "entity_key"],
                true,
            ),
        ];
        for i in indexes {
            manager.create_index(i).await?;
        }
        // Invariants the database enforces, so concurrent writers cannot break
        // them: one default connection per (workspace, provider), and at most
        // one non-terminal run per sync. Partial indexes: same SQL on both engines.
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_connections_default \
             ON connections (workspace_id, provider) WHERE is_default",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_runs_one_active \
             ON runs (sync_id) WHERE status IN ('pending', 'running', 'cancelling')",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "idempotency_keys",
            "entity_states",
            "run_events",
            "runs",
            "table_bindings",
            "syncs",
            "connections",
            "api_keys",
            "workspaces",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}

//! Where a sync writes: a destination connection of its workspace, or
//! (NULL) the server's default warehouse. Indexed because disabling or
//! deleting a connection looks up the syncs that write into it.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000001_add_sync_destination_connection"
    }
}

const INDEX: &str = "syncs_destination_connection_id_idx";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("syncs"))
                    .add_column(
                        ColumnDef::new(Alias::new("destination_connection_id"))
                            .string()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Alias::new("syncs"))
                    .col(Alias::new("destination_connection_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(Alias::new("syncs"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("syncs"))
                    .drop_column(Alias::new("destination_connection_id"))
                    .to_owned(),
            )
            .await
    }
}

//! When a sync's freshness SLA breach began, while it lasts: the server
//! records breaches and recoveries itself (once each, across replicas)
//! instead of computing them on every read.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_add_sync_freshness_breached_at"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("syncs"))
                    .add_column(
                        ColumnDef::new(Alias::new("freshness_breached_at"))
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("syncs"))
                    .drop_column(Alias::new("freshness_breached_at"))
                    .to_owned(),
            )
            .await
    }
}

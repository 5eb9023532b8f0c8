//! List versions: one counter per (workspace, kind of resource), bumped after
//! every write to those resources, under which list totals are cached.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000002_create_list_versions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("list_versions"))
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Alias::new("workspace_id"))
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Alias::new("kind")).string().not_null())
                    .col(
                        ColumnDef::new(Alias::new("version"))
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_list_versions")
                    .table(Alias::new("list_versions"))
                    .col(Alias::new("workspace_id"))
                    .col(Alias::new("kind"))
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("list_versions")).to_owned())
            .await
    }
}

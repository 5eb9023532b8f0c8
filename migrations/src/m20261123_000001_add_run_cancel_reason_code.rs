//! The result reason a cancel asked for, kept on the run until it ends: a
//! user's CancelRun ends USER_CANCELLED, a disabled connection's CONFIG_ERROR,
//! whichever executor (native, external, the reaper) ends the run.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_add_run_cancel_reason_code"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("runs"))
                    .add_column(
                        ColumnDef::new(Alias::new("cancel_reason_code"))
                            .string()
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
                    .table(Alias::new("runs"))
                    .drop_column(Alias::new("cancel_reason_code"))
                    .to_owned(),
            )
            .await
    }
}

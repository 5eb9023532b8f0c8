//! Seed 004's connector settings on connections: time zone, date format,
//! rate limit, and variables (a JSON array as text, with secret values
//! left out) whose secret values are sealed apart like credentials.
//! SQLite adds one column per ALTER TABLE, so each has its own.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000001_add_connection_settings"
    }
}

fn columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new(Alias::new("timezone"))
            .string()
            .null()
            .to_owned(),
        ColumnDef::new(Alias::new("date_format"))
            .string()
            .null()
            .to_owned(),
        ColumnDef::new(Alias::new("rate_limit_unit"))
            .string()
            .null()
            .to_owned(),
        ColumnDef::new(Alias::new("rate_limit_duration"))
            .integer()
            .null()
            .to_owned(),
        ColumnDef::new(Alias::new("variables"))
            .text()
            .not_null()
            .default("[]")
            .to_owned(),
        ColumnDef::new(Alias::new("variables_ciphertext"))
            .text()
            .null()
            .to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut col in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("connections"))
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in columns().iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("connections"))
                        .drop_column(Alias::new(col.get_column_name()))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

//! The SQLite warehouse.

use std::collections::BTreeMap;

use super::{Destination, DestinationError, Position, Result, Slot, TableSpec};
use crate::connectors::Batch;

pub struct SqliteWarehouse {}

impl SqliteWarehouse {
    pub async fn open(_url: &str) -> Result<Self> {
        Err(DestinationError("not built yet".into()))
    }
}

#[async_trait::async_trait]
impl Destination for SqliteWarehouse {
    async fn prepare(&self, _spec: &TableSpec) -> Result<()> {
        todo!()
    }
    async fn positions(&self, _s: &str, _e: &str) -> Result<BTreeMap<String, Position>> {
        todo!()
    }
    async fn set_positions(&self, _slots: &[(Slot, Position)]) -> Result<()> {
        todo!()
    }
    async fn write(
        &self,
        _i: &str,
        _s: &TableSpec,
        _b: &Batch,
        _sl: &Slot,
        _p: &Position,
    ) -> Result<u64> {
        todo!()
    }
    fn staging_name(&self, spec: &TableSpec) -> String {
        format!("_tributary_staging_{}", spec.name)
    }
    async fn create_staging(&self, _spec: &TableSpec) -> Result<()> {
        todo!()
    }
    async fn table_exists(&self, _name: &str) -> Result<bool> {
        todo!()
    }
    async fn swap_in(&self, _s: &TableSpec, _sl: &Slot, _p: &Position, _f: &[Slot]) -> Result<()> {
        todo!()
    }
    async fn settle(&self, _sl: &Slot, _p: &Position, _f: &[Slot]) -> Result<()> {
        todo!()
    }
}

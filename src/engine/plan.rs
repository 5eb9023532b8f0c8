//! How one run loads: its sync's execution_config knobs (or this
//! executor's defaults, `BATCH_SIZE` and `FAN_OUT`) and the order of its
//! entities, parents before children (the catalog's `depends_on`).

use serde_json::{Map, Value};

use super::Engine;
use crate::{
    connectors::catalog,
    domain::{enums::ExecutionMode, execution::Knobs, load_order, lookback::Lookback},
    store::syncs::SyncRecord,
};

#[derive(Debug, Clone)]
pub(super) struct Plan {
    /// Records per source batch and destination transaction.
    pub batch_size: usize,
    /// Entities (FAN_OUT_ENTITY) or windows (FAN_OUT_WINDOW) loaded at once.
    pub max_concurrency: usize,
    /// Windows an entity's cursor range is split into (FAN_OUT_WINDOW).
    pub window_count: usize,
    /// Indexes into the sync's bindings: waves loaded one after another,
    /// the entities of one wave `concurrency` at a time.
    pub waves: Vec<Vec<usize>>,
    pub concurrency: usize,
    /// The sync's source_config.lookback, re-read at an incremental run's
    /// start; a value stored before it was validated fails such a read.
    pub lookback: Result<Option<Lookback>, String>,
}

/// Records per batch of a `postgres` source whose sync sets no batch_size.
/// Each batch is one destination transaction, and each commit waits for a
/// WAL flush (milliseconds): at the executor's 1000 a full copy spent
/// about as long committing as copying (bench/pg-sync).
pub(super) const POSTGRES_BATCH_SIZE: usize = 20_000;

/// The batch size of a sync without the knob: the executor's, or for a
/// binary-COPY source at least `POSTGRES_BATCH_SIZE`.
fn default_batch_size(provider: &str, executor_default: usize) -> usize {
    match provider {
        "postgres" => executor_default.max(POSTGRES_BATCH_SIZE),
        _ => executor_default,
    }
}

impl Engine {
    pub(super) fn plan(&self, sync: &SyncRecord, mode: ExecutionMode) -> Plan {
        let config: Map<String, Value> =
            serde_json::from_str(&sync.sync.execution_config).unwrap_or_default();
        let knobs = Knobs::of(&config);
        let max_concurrency = knobs.max_concurrency.unwrap_or(self.fan_out);
        let entities: Vec<String> = sync.bindings.iter().map(|b| b.entity_key.clone()).collect();
        let catalog = catalog::get(&sync.sync.provider_key);
        let (waves, concurrency) = match mode {
            ExecutionMode::FanOutEntity => (load_order::waves(&entities, catalog), max_concurrency),
            // One entity at a time (FAN_OUT_WINDOW fans out inside each).
            _ => (
                load_order::sequential(&entities, catalog)
                    .into_iter()
                    .map(|i| vec![i])
                    .collect(),
                1,
            ),
        };
        Plan {
            batch_size: knobs
                .batch_size
                .unwrap_or_else(|| default_batch_size(&sync.sync.provider_key, self.batch_size)),
            max_concurrency,
            window_count: knobs.window_count.unwrap_or(self.fan_out),
            waves,
            concurrency,
            lookback: Lookback::of_config(&crate::domain::json_object(&sync.sync.source_config))
                .map_err(|why| format!("source_config.lookback {why}")),
        }
    }
}

//! The execution_config knobs the native executor honours per sync
//! (validated by `sync::validate`); an absent knob takes the executor's
//! default.

use serde_json::{Map, Value};

/// How a sync's runs read and load, as its execution_config sets it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Knobs {
    /// Records per source batch, and so per destination transaction.
    pub batch_size: Option<usize>,
    /// Entities (FAN_OUT_ENTITY) or windows (FAN_OUT_WINDOW) loaded at once.
    pub max_concurrency: Option<usize>,
    /// Windows one entity's cursor range is split into (FAN_OUT_WINDOW).
    pub window_count: Option<usize>,
}

impl Knobs {
    pub fn of(execution_config: &Map<String, Value>) -> Self {
        let knob = |key: &str| {
            execution_config
                .get(key)
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .filter(|&n| n > 0)
        };
        Self {
            batch_size: knob("batch_size"),
            max_concurrency: knob("max_concurrency"),
            window_count: knob("window_count"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_are_read_and_absent_ones_left_to_the_executor() {
        let cfg = serde_json::json!({"batch_size": 250, "max_concurrency": 1, "other": 3});
        let k = Knobs::of(cfg.as_object().unwrap_or(&Map::new()));
        assert_eq!(
            k,
            Knobs {
                batch_size: Some(250),
                max_concurrency: Some(1),
                window_count: None
            }
        );
        assert_eq!(Knobs::of(&Map::new()), Knobs::default());
    }
}

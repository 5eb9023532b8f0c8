//! Entity dependencies (the catalog's `depends_on`): a child entity is read
//! with what its parent loaded, so a sync that selects a child must select
//! its parents, and a run loads parents before their children.

use super::catalog::ProviderCatalog;
use crate::error::Violations;

/// Adds a violation for every selected entity whose parent is not selected.
pub fn check_parents_selected(entities: &[String], catalog: &ProviderCatalog, v: &mut Violations) {
    for (i, e) in entities.iter().enumerate() {
        let Some(resource) = catalog.resource(e) else {
            continue;
        };
        for parent in resource.depends_on.iter().filter(|p| !entities.contains(p)) {
            v.add(
                format!("entities[{i}]"),
                format!("'{e}' depends on '{parent}': select '{parent}' too"),
            );
        }
    }
}

/// The selected parents of each entity (by index into `entities`).
fn parents(entities: &[String], catalog: Option<&ProviderCatalog>) -> Vec<Vec<usize>> {
    entities
        .iter()
        .map(|e| {
            let deps = catalog
                .and_then(|c| c.resource(e))
                .map(|r| r.depends_on.as_slice())
                .unwrap_or_default();
            (0..entities.len())
                .filter(|&j| deps.contains(&entities[j]))
                .collect()
        })
        .collect()
}

/// The order a SEQUENTIAL run loads `entities` in (indexes): parents
/// first, otherwise as selected. A cycle (a catalog defect) keeps the
/// selection order for the entities in it.
pub fn sequential(entities: &[String], catalog: Option<&ProviderCatalog>) -> Vec<usize> {
    let parents = parents(entities, catalog);
    let mut done = vec![false; entities.len()];
    let mut order = Vec::with_capacity(entities.len());
    while order.len() < entities.len() {
        let ready = (0..entities.len())
            .find(|&i| !done[i] && parents[i].iter().all(|&p| done[p]))
            .or_else(|| (0..entities.len()).find(|&i| !done[i]));
        let Some(i) = ready else { break };
        done[i] = true;
        order.push(i);
    }
    order
}

/// The waves a FAN_OUT_ENTITY run loads `entities` in (indexes): each wave's
/// entities load concurrently, once every parent finished in an earlier wave.
pub fn waves(entities: &[String], catalog: Option<&ProviderCatalog>) -> Vec<Vec<usize>> {
    let parents = parents(entities, catalog);
    let mut level = vec![0usize; entities.len()];
    // Parents come first in `sequential`, so their levels are known.
    for i in sequential(entities, catalog) {
        level[i] = parents[i].iter().map(|&p| level[p] + 1).max().unwrap_or(0);
    }
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); level.iter().max().map_or(0, |m| m + 1)];
    for (i, l) in level.into_iter().enumerate() {
        out[l].push(i);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> ProviderCatalog {
        serde_json::from_value(serde_json::json!({
            "provider": "p", "name": "p", "display_name": "P",
            "config_schema": {}, "credentials_schema": {},
            "resources": [
                {"entity_key": "users", "display_name": "Users"},
                {"entity_key": "orders", "display_name": "Orders", "depends_on": ["users"]},
                {"entity_key": "refunds", "display_name": "Refunds", "depends_on": ["orders"]},
                {"entity_key": "events", "display_name": "Events"}
            ]
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn keys(s: &[&str]) -> Vec<String> {
        s.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn a_child_needs_its_parents_selected() {
        let c = catalog();
        let mut v = Violations::new();
        check_parents_selected(&keys(&["users", "orders", "events"]), &c, &mut v);
        assert!(v.is_empty());
        check_parents_selected(&keys(&["events", "refunds"]), &c, &mut v);
        assert_eq!(v.0.len(), 1);
        assert_eq!(v.0[0].field, "entities[1]");
        assert!(v.0[0].description.contains("'refunds' depends on 'orders'"));
    }

    #[test]
    fn parents_load_first_and_the_rest_as_selected() {
        let c = catalog();
        let e = keys(&["refunds", "events", "orders", "users"]);
        let order: Vec<&str> = sequential(&e, Some(&c))
            .into_iter()
            .map(|i| e[i].as_str())
            .collect();
        assert_eq!(order, ["events", "users", "orders", "refunds"]);
        // Without a catalog, or without dependencies, the selection order.
        assert_eq!(sequential(&e, None), [0, 1, 2, 3]);
    }

    #[test]
    fn waves_hold_back_children_until_their_parents_are_done() {
        let c = catalog();
        let e = keys(&["refunds", "events", "orders", "users"]);
        assert_eq!(waves(&e, Some(&c)), vec![vec![1, 3], vec![2], vec![0]]);
        assert_eq!(waves(&e, None), vec![vec![0, 1, 2, 3]]);
        assert!(waves(&[], Some(&c)).is_empty());
    }
}

//! The layering of `src/`, checked on the source: modules depend only
//! downward (no import cycles between top-level modules, nor between the
//! files of one module), and `domain` depends on nothing but `error`.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Module path of each `.rs` file under `src/` (`store/mod.rs` is `store`),
/// with its text up to its unit tests.
fn sources() -> Vec<(Vec<String>, String)> {
    fn walk(dir: &Path, out: &mut Vec<(Vec<String>, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
                    .unwrap();
                let mut module: Vec<String> = rel
                    .with_extension("")
                    .iter()
                    .map(|s| s.to_string_lossy().into_owned())
                    .collect();
                if module.last().is_some_and(|m| m == "mod") {
                    module.pop();
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let text = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
                out.push((module, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut out,
    );
    out
}

/// The paths a file names through `crate::` (expanding one level of
/// `crate::{a::b, c}`) and, for a file inside a module, `super::`.
fn imports(module: &[String], text: &str) -> Vec<Vec<String>> {
    let ident = |s: &str| -> Vec<String> {
        s.split("::")
            .map(str::trim)
            .take_while(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .map(str::to_string)
            .collect()
    };
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut item) = (1, String::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    out.push(ident(&item));
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else {
                    item.push(c);
                }
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            out.push(ident(&rest[..end]));
        }
    }
    if module.len() > 1 {
        for (i, _) in text.match_indices("super::") {
            let rest = &text[i + "super::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let mut path = module[..module.len() - 1].to_vec();
            path.push(name);
            out.push(path);
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// Dependencies between modules cut at `depth` path segments.
fn graph(depth: usize) -> Graph {
    let mut g = Graph::new();
    for (module, text) in sources() {
        if ["main", "lib", "pb", "app"].contains(&module[0].as_str()) {
            continue;
        }
        let from = module[..module.len().min(depth)].join("/");
        for path in imports(&module, &text) {
            let to = path[..path.len().min(depth)].join("/");
            let nested = to.starts_with(&format!("{from}/")) || from.starts_with(&format!("{to}/"));
            if to != from && !nested {
                g.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    g
}

/// Each edge a → b of `g` that lies on a cycle (b reaches a back).
fn cycles(g: &Graph) -> Vec<(String, String)> {
    let reaches = |from: &str, to: &str| {
        let (mut seen, mut todo) = (BTreeSet::new(), vec![from.to_string()]);
        while let Some(n) = todo.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                todo.extend(g.get(&n).into_iter().flatten().cloned());
            }
        }
        false
    };
    g.iter()
        .flat_map(|(a, bs)| bs.iter().map(move |b| (a.clone(), b.clone())))
        .filter(|(a, b)| reaches(b, a))
        .collect()
}

#[test]
fn modules_depend_only_downward() {
    for depth in [1, 2, 3] {
        let g = graph(depth);
        assert!(g.len() > 5, "the scan found the modules: {g:?}");
        assert_eq!(
            cycles(&g),
            [],
            "import cycles between modules at depth {depth}"
        );
    }
    let top = graph(1);
    assert_eq!(
        top["domain"].iter().collect::<Vec<_>>(),
        ["error"],
        "domain rules do no I/O and know no other layer"
    );
    assert!(
        top["store"]
            .iter()
            .all(|m| ["domain", "error"].contains(&m.as_str())),
        "{top:?}"
    );
}

#[test]
fn the_scan_sees_a_cycle() {
    let module = ["service".to_string(), "a".to_string()];
    let found = imports(
        &module,
        "use crate::{store::{self, runs}, error::Result};\nuse super::b::X;",
    );
    let names: Vec<String> = found.iter().map(|p| p.join("/")).collect();
    assert_eq!(names, ["store", "error/Result", "service/b"]);
    let g: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .iter()
        .fold(Graph::new(), |mut g, (a, b)| {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g
        });
    assert_eq!(cycles(&g).len(), 3);
}

//! Keeps the API crate's layering true: routes never import another route module, services never
//! import routes, and no two modules import each other, directly or in a longer circle.
//!
//! The check reads the crate's source as text: every `crate::…` and `super::…` path, in `use`
//! statements (braces expanded) and inline, names the module it points into.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `routes/payouts.rs` → `routes::payouts`; `services/mod.rs` → `services`; `lib.rs` → ``.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(source_root()).expect("under src");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_owned());
    }
    parts.join("::")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Drops comments so a path named in prose is not taken for an import.
fn strip_comments(src: &str) -> String {
    src.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Expands `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else { return vec![tree.to_owned()] };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').expect("balanced braces")];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .flat_map(|item| expand(item).into_iter().map(move |rest| format!("{prefix}{}", rest.trim())))
        .collect()
}

/// Every module path (as written after `crate::` or resolved from `super::`) a file refers to.
fn referenced_paths(module: &str, src: &str) -> Vec<String> {
    let src = strip_comments(src);
    let mut paths = Vec::new();
    let mut lines = src.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let Some(tree) = ["use ", "pub use ", "pub(crate) use "].iter().find_map(|p| trimmed.strip_prefix(p)) else {
            continue;
        };
        let mut statement = tree.to_owned();
        while !statement.contains(';') {
            let Some(next) = lines.next() else { break };
            statement.push_str(next);
        }
        let statement = statement.split(';').next().unwrap_or_default().replace(char::is_whitespace, "");
        paths.extend(expand(&statement));
    }
    for prefix in ["crate::", "super::"] {
        for (i, _) in src.match_indices(prefix) {
            let tail: String = src[i..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            paths.push(tail);
        }
    }
    let parent = module.rsplit_once("::").map(|(p, _)| p.to_owned()).unwrap_or_default();
    paths
        .into_iter()
        .filter_map(|p| {
            if let Some(r) = p.strip_prefix("crate::") {
                Some(r.to_owned())
            } else {
                p.strip_prefix("super::")
                    .map(|r| if parent.is_empty() { r.to_owned() } else { format!("{parent}::{r}") })
            }
        })
        .collect()
}

/// The longest known module that `path` lies in.
fn owning_module<'a>(path: &str, modules: &'a BTreeSet<String>) -> Option<&'a String> {
    let segments: Vec<&str> = path.split("::").collect();
    (1..=segments.len()).rev().map(|n| segments[..n].join("::")).find_map(|candidate| modules.get(&candidate))
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&source_root(), &mut files);
    let files: Vec<(String, String)> = files
        .into_iter()
        .filter(|f| !f.ends_with("main.rs"))
        .map(|f| (module_of(&f), std::fs::read_to_string(&f).expect("readable source")))
        .collect();
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).filter(|m| !m.is_empty()).collect();
    files
        .iter()
        .filter(|(m, _)| !m.is_empty())
        .map(|(m, src)| {
            let targets = referenced_paths(m, src)
                .iter()
                .filter_map(|p| owning_module(p, &modules))
                // A module may use its own children (a folder module and its files).
                .filter(|t| *t != m && !t.starts_with(&format!("{m}::")))
                .cloned()
                .collect();
            (m.clone(), targets)
        })
        .collect()
}

fn is_route(module: &str) -> bool {
    module.starts_with("routes::")
}

#[test]
fn no_route_module_imports_another_route_module() {
    let graph = import_graph();
    let sideways: Vec<String> = graph
        .iter()
        .filter(|(m, _)| is_route(m))
        .flat_map(|(m, ts)| ts.iter().filter(|t| is_route(t)).map(move |t| format!("{m} → {t}")))
        .collect();
    assert!(sideways.is_empty(), "route modules import other route modules: {sideways:#?}");
}

#[test]
fn services_never_import_routes() {
    let graph = import_graph();
    let upward: Vec<String> = graph
        .iter()
        .filter(|(m, _)| m.starts_with("services"))
        .flat_map(|(m, ts)| ts.iter().filter(|t| t.starts_with("routes")).map(move |t| format!("{m} → {t}")))
        .collect();
    assert!(upward.is_empty(), "services import routes: {upward:#?}");
}

/// A circle in the graph, if any, as the list of modules around it.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_two_modules_import_each_other_directly_or_in_a_circle() {
    assert_eq!(find_circle(&import_graph()), None, "modules import each other in a circle");
}

#[test]
fn the_check_sees_grouped_imports_and_circles() {
    assert_eq!(
        expand("crate::{a::b,c::{d,e}}"),
        vec!["crate::a::b".to_owned(), "crate::c::d".to_owned(), "crate::c::e".to_owned()]
    );
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into_iter()
    .collect();
    assert_eq!(find_circle(&graph).map(|c| c.len()), Some(4));
    let paths = referenced_paths("routes::payouts", "use crate::routes::{tasks::x, hours};\nlet y = super::caps::z;");
    assert!(paths.contains(&"routes::tasks::x".to_owned()) && paths.contains(&"routes::caps::z".to_owned()));
}

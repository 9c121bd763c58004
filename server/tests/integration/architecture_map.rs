//! docs/architecture.md's module map matches the tree. Each fenced block of the map starts with a
//! crate's source folder (`app/src/`); every line that does not start with a space names one
//! module of that folder (`store/` or `secrets.rs`), and the rest of the entry (its continuation
//! lines included) names every module inside a folder entry. A module added, moved or removed
//! without the map following it fails here, and so does a map entry for a module that is gone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("server/ has a parent")
        .to_path_buf()
}

/// The modules directly inside `dir`: `name.rs` files (not the crate roots nor `mod.rs`) as
/// `name.rs`, and folders holding Rust files as `name/`.
fn modules_in(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !modules_in(&path).is_empty() || path.join("mod.rs").exists() {
                found.insert(format!("{name}/"));
            }
        } else if name.ends_with(".rs") && !matches!(name.as_str(), "lib.rs" | "main.rs" | "mod.rs")
        {
            found.insert(name);
        }
    }
    found
}

/// A map entry: the module it names and the words that describe it.
struct Entry {
    module: String,
    description: String,
}

/// The map's blocks: (the folder, its entries).
fn map_blocks(doc: &str) -> Vec<(String, Vec<Entry>)> {
    let root = workspace_root();
    let mut blocks = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```" {
            continue;
        }
        let Some(first) = lines.next() else { break };
        let folder = first.trim();
        let is_map = folder.ends_with("/src/") && root.join(folder).is_dir();
        let mut entries: Vec<Entry> = Vec::new();
        for line in lines.by_ref() {
            if line.trim() == "```" {
                break;
            }
            if !is_map || line.trim().is_empty() {
                continue;
            }
            if line.starts_with(' ') {
                let last = entries
                    .last_mut()
                    .expect("a continuation line follows an entry");
                last.description.push(' ');
                last.description.push_str(line.trim());
            } else {
                let (module, description) =
                    line.split_once(char::is_whitespace).unwrap_or((line, ""));
                entries.push(Entry {
                    module: module.to_owned(),
                    description: description.trim().to_owned(),
                });
            }
        }
        if is_map {
            blocks.push((folder.to_owned(), entries));
        }
    }
    blocks
}

/// Whether `text` names the module `name` (`store`, `store/`, `store.rs`) as a whole word.
fn names(text: &str, name: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word == name)
}

#[test]
fn the_module_map_in_docs_architecture_matches_the_tree() {
    let root = workspace_root();
    let doc =
        std::fs::read_to_string(root.join("docs/architecture.md")).expect("docs/architecture.md");
    let blocks = map_blocks(&doc);
    let folders: Vec<&str> = blocks.iter().map(|(folder, _)| folder.as_str()).collect();
    assert_eq!(
        folders,
        ["app/src/", "server/src/"],
        "the map has one block per crate with modules"
    );

    let mut problems = Vec::new();
    let mut named = 0;
    for (folder, entries) in &blocks {
        let dir = root.join(folder);
        let listed: BTreeSet<String> = entries.iter().map(|e| e.module.clone()).collect();
        let actual = modules_in(&dir);
        for missing in actual.difference(&listed) {
            problems.push(format!("{folder}{missing} is not in the map"));
        }
        for gone in listed.difference(&actual) {
            problems.push(format!(
                "the map names {folder}{gone}, which does not exist"
            ));
        }
        for entry in entries
            .iter()
            .filter(|e| e.module.ends_with('/') && actual.contains(&e.module))
        {
            for child in modules_in(&dir.join(&entry.module)) {
                let name = child.trim_end_matches('/').trim_end_matches(".rs");
                named += 1;
                if !names(&entry.description, name) {
                    problems.push(format!(
                        "{folder}{}{child} is not named in its folder's entry",
                        entry.module
                    ));
                }
            }
        }
        named += listed.len();
    }
    assert!(
        problems.is_empty(),
        "docs/architecture.md's module map is out of date:\n{}",
        problems.join("\n")
    );
    assert!(
        named > 40,
        "the map names only {named} modules: is it still parsed?"
    );
}

#[test]
fn names_matches_whole_words_only() {
    assert!(names(
        "every SQL statement: clients.rs, workspaces.rs",
        "clients"
    ));
    assert!(names("pages/ clients/ (list_view)", "list_view"));
    assert!(!names("device_sessions.rs", "sessions"));
    assert!(!names("clients_page", "clients"));
}

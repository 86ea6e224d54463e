//! SQL lives in `crates/store` only: no other crate's source runs a statement. The areas not yet
//! moved onto the storage floor are listed here by file; the list only shrinks: a listed file
//! without SQL fails the test too, so that it is struck off when its area moves.

use std::path::{Path, PathBuf};

/// Files that still hold SQL of their own, to be moved into `crates/store/src/<area>.rs`.
const NOT_YET_MOVED: &[&str] = &[
    "app/src/demo/customers.rs",
    "app/src/demo/findings.rs",
    "app/src/demo/mod.rs",
    "app/src/demo/tickets.rs",
];

/// What running a statement looks like in Rust source.
const MARKS: &[&str] = &["sqlx::query", "sqlx::Row", "use sqlx", "fetch_one(", "fetch_all(", "fetch_optional("];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_sql_outside_the_store() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).expect("crates folder") {
        let krate = krate.expect("entry").path();
        if krate.file_name().is_some_and(|n| n == "store") || !krate.join("src").is_dir() {
            continue;
        }
        rust_files(&krate.join("src"), &mut files);
    }
    assert!(files.len() > 100, "the scan sees the sources ({} files)", files.len());
    let mut offending = Vec::new();
    let mut moved = Vec::new();
    for path in files {
        let name = path.strip_prefix(&crates).expect("under crates").to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(&path).expect("source");
        let has_sql = MARKS.iter().any(|m| text.contains(m));
        match (has_sql, NOT_YET_MOVED.contains(&name.as_str())) {
            (true, false) => offending.push(name),
            (false, true) => moved.push(name),
            _ => {}
        }
    }
    assert!(offending.is_empty(), "SQL outside crates/store: {offending:?}; move it into crates/store/src/<area>.rs");
    assert!(moved.is_empty(), "moved onto the storage floor, strike them off NOT_YET_MOVED: {moved:?}");
}

//! SQL lives in `crates/store` only: no other crate's source runs a statement, names sqlx, or
//! decodes a row. A use case reads and writes through the area modules of `gridsafe-store`.

use std::path::{Path, PathBuf};

/// What running a statement looks like in Rust source.
const MARKS: &[&str] = &["sqlx::", "use sqlx", "fetch_one(", "fetch_all(", "fetch_optional(", "try_get("];

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
    let offending: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).expect("source");
            MARKS.iter().any(|m| text.contains(m))
        })
        .map(|path| path.strip_prefix(&crates).expect("under crates").display().to_string())
        .collect();
    assert!(offending.is_empty(), "SQL outside crates/store: {offending:?}; move it into crates/store/src/<area>.rs");
}

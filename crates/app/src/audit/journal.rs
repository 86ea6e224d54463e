//! The checkpoint journal: every signed checkpoint also appended to a file beside the signing
//! key, outside the database. Whoever can rewrite the database can delete checkpoint rows; the
//! journal still holds them, so a rewritten or cut chain is caught.
//!
//! One line per entry, tab-separated: `checkpoint SEQ HASH AT KEY_ID SIGNATURE`, or `start AT`
//! when a server starts (a gap between checkpoints across a restart is the downtime, not a
//! deletion). The file is only ever appended to.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::chain::Checkpoint;
use crate::AppError;

/// The name of the journal, in the signing key's folder.
pub const FILE_NAME: &str = "audit-checkpoints.journal";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Checkpoint(Checkpoint),
    /// A server started at this time.
    Start(String),
}

/// What reading the journal found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// No journal file (a chain never checkpointed yet, or one from before the journal).
    Absent,
    Entries(Vec<Entry>),
    /// Line `line` (1-based) is not an entry.
    Damaged {
        line: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    /// The journal beside the signing key at `key_path`.
    pub fn beside(key_path: &Path) -> Self {
        Self { path: key_path.with_file_name(FILE_NAME) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Appends entries and waits until they are on disk.
    pub async fn append(&self, entries: Vec<Entry>) -> Result<(), AppError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || append_blocking(&path, &entries))
            .await
            .map_err(|e| AppError::internal(format!("journal task: {e}")))?
    }

    /// Reads every entry; a damaged line is reported, not skipped.
    pub async fn read(&self) -> Result<Read, AppError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || read_blocking(&path))
            .await
            .map_err(|e| AppError::internal(format!("journal task: {e}")))?
    }
}

fn line(entry: &Entry) -> String {
    match entry {
        Entry::Checkpoint(cp) => {
            format!("checkpoint\t{}\t{}\t{}\t{}\t{}\n", cp.seq, cp.hash, cp.at, cp.key_id, cp.signature)
        }
        Entry::Start(at) => format!("start\t{at}\n"),
    }
}

fn append_blocking(path: &Path, entries: &[Entry]) -> Result<(), AppError> {
    let fail = |e: std::io::Error| AppError::internal(format!("cannot append to {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    let text: String = entries.iter().map(line).collect();
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.sync_data().map_err(fail)
}

fn parse(text: &str) -> Option<Entry> {
    let fields: Vec<&str> = text.split('\t').collect();
    match fields.as_slice() {
        ["checkpoint", seq, hash, at, key_id, signature] => Some(Entry::Checkpoint(Checkpoint {
            seq: seq.parse().ok()?,
            hash: (*hash).to_owned(),
            at: (*at).to_owned(),
            key_id: (*key_id).to_owned(),
            signature: (*signature).to_owned(),
        })),
        ["start", at] => Some(Entry::Start((*at).to_owned())),
        _ => None,
    }
}

fn read_blocking(path: &Path) -> Result<Read, AppError> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Read::Absent),
        Err(e) => return Err(AppError::internal(format!("cannot read {}: {e}", path.display()))),
    };
    let mut entries = Vec::new();
    for (i, text) in std::io::BufReader::new(file).lines().enumerate() {
        let Ok(text) = text else { return Ok(Read::Damaged { line: i + 1 }) };
        match parse(&text) {
            Some(entry) => entries.push(entry),
            None => return Ok(Read::Damaged { line: i + 1 }),
        }
    }
    Ok(Read::Entries(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_read_back_as_written_and_a_damaged_line_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let journal = Journal::beside(&dir.path().join("audit-signing.key"));
        assert_eq!(journal.read().await.expect("read"), Read::Absent);
        let cp = Checkpoint { seq: 7, hash: "ab".into(), at: "t".into(), key_id: "k".into(), signature: "s".into() };
        journal.append(vec![Entry::Start("t0".into()), Entry::Checkpoint(cp.clone())]).await.expect("append");
        journal.append(vec![Entry::Start("t1".into())]).await.expect("append");
        assert_eq!(
            journal.read().await.expect("read"),
            Read::Entries(vec![Entry::Start("t0".into()), Entry::Checkpoint(cp), Entry::Start("t1".into())])
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(journal.path())
            .and_then(|mut f| f.write_all(b"checkpoint\tx\n"))
            .expect("damage");
        assert_eq!(journal.read().await.expect("read"), Read::Damaged { line: 4 });
    }
}

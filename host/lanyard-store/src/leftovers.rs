//! What an interrupted start leaves in a data directory, removed before sled
//! opens it.
//!
//! sled 0.34 writes a snapshot of its page table at every start whose log
//! went past the last snapshot: `snap.<lsn>.generating`, then a rename to
//! `snap.<lsn>`. On a full disk the file is created and the write fails,
//! leaving it empty or cut short; sled's own search for the newest snapshot
//! does not skip `.generating` files, picks it, and refuses every later start
//! with "Read corrupted data" (`pagecache/snapshot.rs`, `read_snapshot`). The
//! snapshot only saves replaying the log, which sled can always do from the
//! start, so:
//!
//! - every `snap.*.generating` is removed (the rename is what completes one);
//! - if the newest `snap.*` is not whole (shorter than its trailer, or its
//!   checksum does not match), every snapshot is removed and sled rebuilds
//!   from the log;
//! - a `conf` whose checksum does not match is removed; sled writes it again
//!   from the same settings (it already treats an empty one as missing).
//!
//! It must not touch the log (`db`) or `blobs/`: sled repairs a torn log
//! tail itself, and blobs past the recovered log are collected by sled.

use crate::error::{Result, StoreError};
use std::path::{Path, PathBuf};

/// A snapshot's trailer: its decompressed length (u64 LE), then the crc32 (LE)
/// of what precedes the trailer.
const SNAPSHOT_TRAILER: usize = 12;
/// `conf`'s trailer: the crc32 (LE) of what precedes it.
const CONF_TRAILER: usize = 4;

/// Remove what a start cut short left in `dir`. Returns the files removed.
pub(crate) fn remove(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(io_error(dir, "read", e)),
    };
    let mut snapshots = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, "read", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("snap.") || name.ends_with(".in___motion") {
            continue;
        }
        if name.ends_with(".generating") {
            delete(&entry.path(), &mut removed)?;
        } else {
            snapshots.push(entry.path());
        }
    }
    // sled reads the newest: the greatest name (the lsn is fixed-width hex).
    snapshots.sort();
    if let Some(newest) = snapshots.last()
        && !whole(newest, SNAPSHOT_TRAILER)?
    {
        for path in &snapshots {
            delete(path, &mut removed)?;
        }
    }
    let conf = dir.join("conf");
    if conf.exists() && !whole(&conf, CONF_TRAILER)? {
        delete(&conf, &mut removed)?;
    }
    if !removed.is_empty() {
        tracing::warn!(
            dir = %dir.display(),
            files = ?removed,
            "removed files an interrupted start of the store left incomplete; the store is rebuilt from its log"
        );
    }
    Ok(removed)
}

/// Whether `path` holds a body followed by a trailer of `trailer` bytes that
/// ends with the crc32 of the body.
fn whole(path: &Path, trailer: usize) -> Result<bool> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, "read", e))?;
    if bytes.len() <= trailer {
        return Ok(false);
    }
    let (body, tail) = bytes.split_at(bytes.len() - trailer);
    let crc = u32::from_le_bytes(tail[trailer - 4..].try_into().expect("4 bytes"));
    Ok(crc32fast::hash(body) == crc)
}

fn delete(path: &Path, removed: &mut Vec<PathBuf>) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            removed.push(path.to_path_buf());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path, "remove", e)),
    }
}

fn io_error(path: &Path, op: &str, source: std::io::Error) -> StoreError {
    StoreError::Io {
        context: format!("cannot {op} {} (repairing the data directory)", path.display()),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_trailer(body: &[u8], len_field: bool) -> Vec<u8> {
        let mut out = body.to_vec();
        if len_field {
            out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        }
        out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        out
    }

    #[test]
    fn only_incomplete_files_go() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let good = with_trailer(b"a snapshot", true);
        std::fs::write(d.join("snap.0000000000000010"), &good).unwrap();
        std::fs::write(d.join("snap.0000000000000020.generating"), b"").unwrap();
        std::fs::write(d.join("conf"), with_trailer(b"settings", false)).unwrap();
        std::fs::write(d.join("db"), b"the log").unwrap();
        let removed = remove(d).unwrap();
        assert_eq!(removed, [d.join("snap.0000000000000020.generating")]);
        assert!(d.join("snap.0000000000000010").exists());
        assert!(d.join("conf").exists() && d.join("db").exists());
    }

    #[test]
    fn a_torn_newest_snapshot_takes_every_snapshot_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("snap.0000000000000010"), with_trailer(b"old", true)).unwrap();
        let mut torn = with_trailer(b"a longer snapshot", true);
        torn.truncate(torn.len() - 3);
        std::fs::write(d.join("snap.0000000000000020"), torn).unwrap();
        let mut conf = with_trailer(b"settings", false);
        conf[0] ^= 1;
        std::fs::write(d.join("conf"), conf).unwrap();
        let mut removed = remove(d).unwrap();
        removed.sort();
        assert_eq!(
            removed,
            [
                d.join("conf"),
                d.join("snap.0000000000000010"),
                d.join("snap.0000000000000020")
            ]
        );
    }
}

//! Versions of flow files (`v1/flow-versions`: file, NUL, big-endian version
//! → [`FlowVersion`]) and the audit list (`v1/flow-audit`: big-endian
//! sequence → [`AuditEntry`]), both bounded. Flow files are small (1 MiB at
//! most) and written by people, so nothing here is on a hot path.

use crate::api::{AuditEntry, FlowHistory, FlowVersion, MAX_AUDIT_ENTRIES, MAX_FLOW_VERSIONS};
use crate::codec::{decode, encode};
use crate::error::{Result, StoreError};
use crate::{Store, T_FLOW_AUDIT, T_FLOW_VERSIONS};
use async_trait::async_trait;

const MAX_FILE_BYTES: usize = 1024;
/// A flow file's text is at most 1 MiB; a version adds little to it.
const MAX_SOURCE_BYTES: usize = 1 << 20;

/// Refuse a flow file name that breaks a limit.
pub(crate) fn check_file(file: &str) -> Result<()> {
    if file.is_empty() || file.len() > MAX_FILE_BYTES || file.contains('\0') {
        return Err(StoreError::Invalid(format!(
            "a flow file name must be 1 to {MAX_FILE_BYTES} bytes, without NUL"
        )));
    }
    Ok(())
}

/// Refuse a version whose text is too long.
pub(crate) fn check_source(version: &FlowVersion) -> Result<()> {
    if version.source.len() > MAX_SOURCE_BYTES {
        return Err(StoreError::Invalid(format!(
            "a flow version is at most {MAX_SOURCE_BYTES} bytes of text"
        )));
    }
    Ok(())
}

fn prefix(file: &str) -> Result<Vec<u8>> {
    check_file(file)?;
    let mut k = file.as_bytes().to_vec();
    k.push(0);
    Ok(k)
}

fn version_key(file: &str, version: u64) -> Result<Vec<u8>> {
    let mut k = prefix(file)?;
    k.extend_from_slice(&version.to_be_bytes());
    Ok(k)
}

#[async_trait]
impl FlowHistory for Store {
    async fn add_flow_version(&self, version: &FlowVersion) -> Result<FlowVersion> {
        let b = self.b()?;
        check_source(version)?;
        let tree = &b.t.flow_versions;
        let p = prefix(&version.file)?;
        let mut v = version.clone();
        // Numbered after the newest kept; two writers racing for a number
        // are told apart by compare-and-swap, and the loser takes the next.
        loop {
            let last = tree
                .scan_prefix(&p)
                .keys()
                .next_back()
                .transpose()
                .map_err(|e| StoreError::backend("scan", T_FLOW_VERSIONS, &p, e))?;
            let next = match last {
                Some(k) => {
                    let n: [u8; 8] = k[p.len()..]
                        .try_into()
                        .map_err(|_| StoreError::corrupt(T_FLOW_VERSIONS, &k, "not a version key"))?;
                    u64::from_be_bytes(n) + 1
                }
                None => 1,
            };
            v.version = next;
            let key = version_key(&v.file, next)?;
            let bytes = encode(T_FLOW_VERSIONS, &key, &v)?;
            let swapped = tree
                .compare_and_swap(&key, None as Option<&[u8]>, Some(bytes))
                .map_err(|e| StoreError::backend("write", T_FLOW_VERSIONS, &key, e))?;
            if swapped.is_ok() {
                break;
            }
        }
        // Keep the newest MAX_FLOW_VERSIONS.
        let keys: Vec<sled::IVec> = tree
            .scan_prefix(&p)
            .keys()
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| StoreError::backend("scan", T_FLOW_VERSIONS, &p, e))?;
        if keys.len() > MAX_FLOW_VERSIONS {
            for k in &keys[..keys.len() - MAX_FLOW_VERSIONS] {
                tree.remove(k)
                    .map_err(|e| StoreError::backend("remove", T_FLOW_VERSIONS, k, e))?;
            }
        }
        Ok(v)
    }

    async fn flow_versions(&self, file: &str) -> Result<Vec<FlowVersion>> {
        let b = self.b()?;
        let p = prefix(file)?;
        b.t.flow_versions
            .scan_prefix(&p)
            .rev()
            .map(|item| {
                let (k, v) = item.map_err(|e| StoreError::backend("scan", T_FLOW_VERSIONS, &p, e))?;
                decode(T_FLOW_VERSIONS, &k, &v)
            })
            .collect()
    }

    async fn flow_version(&self, file: &str, version: u64) -> Result<Option<FlowVersion>> {
        let b = self.b()?;
        let key = version_key(file, version)?;
        match b
            .t
            .flow_versions
            .get(&key)
            .map_err(|e| StoreError::backend("read", T_FLOW_VERSIONS, &key, e))?
        {
            Some(v) => decode(T_FLOW_VERSIONS, &key, &v).map(Some),
            None => Ok(None),
        }
    }

    async fn add_audit(&self, entry: &AuditEntry) -> Result<()> {
        let b = self.b()?;
        prefix(&entry.file)?;
        let tree = &b.t.flow_audit;
        // sled's ids only grow, across restarts too: entries stay in order.
        let seq = b
            .db
            .generate_id()
            .map_err(|e| StoreError::backend("write", T_FLOW_AUDIT, b"", e))?;
        let key = seq.to_be_bytes();
        let bytes = encode(T_FLOW_AUDIT, &key, entry)?;
        tree.insert(key, bytes)
            .map_err(|e| StoreError::backend("write", T_FLOW_AUDIT, key, e))?;
        let extra = tree.len().saturating_sub(MAX_AUDIT_ENTRIES);
        for item in tree.iter().keys().take(extra) {
            let k = item.map_err(|e| StoreError::backend("scan", T_FLOW_AUDIT, b"", e))?;
            tree.remove(&k)
                .map_err(|e| StoreError::backend("remove", T_FLOW_AUDIT, &k, e))?;
        }
        Ok(())
    }

    async fn audit(&self, file: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        let b = self.b()?;
        let mut out = Vec::new();
        for item in b.t.flow_audit.iter().rev() {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(|e| StoreError::backend("scan", T_FLOW_AUDIT, b"", e))?;
            let entry: AuditEntry = decode(T_FLOW_AUDIT, &k, &v)?;
            if file.is_none_or(|f| f == entry.file) {
                out.push(entry);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn version(file: &str, source: &str) -> FlowVersion {
        FlowVersion {
            version: 0,
            at: Utc::now(),
            file: file.into(),
            etag: format!("sha256:{}", source.len()),
            action: "save".into(),
            note: None,
            source: source.into(),
        }
    }

    #[tokio::test]
    async fn versions_are_numbered_per_file_newest_first_and_the_last_hundred_kept() {
        let store = Store::temporary().unwrap();
        for i in 1..=105u64 {
            let v = store.add_flow_version(&version("a.yaml", &format!("text {i}"))).await.unwrap();
            assert_eq!(v.version, i);
        }
        // A file whose name is a prefix of another's is its own history.
        assert_eq!(store.add_flow_version(&version("a.yam", "other")).await.unwrap().version, 1);
        let all = store.flow_versions("a.yaml").await.unwrap();
        assert_eq!(all.len(), MAX_FLOW_VERSIONS);
        assert_eq!((all[0].version, all[99].version), (105, 6));
        assert_eq!(store.flow_version("a.yaml", 5).await.unwrap(), None);
        assert_eq!(store.flow_version("a.yaml", 6).await.unwrap().unwrap().source, "text 6");
        // Numbers are never reused, even once old versions are dropped.
        assert_eq!(store.add_flow_version(&version("a.yaml", "again")).await.unwrap().version, 106);
    }

    #[tokio::test]
    async fn audit_is_newest_first_filtered_by_file_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |file: &str, summary: &str| AuditEntry {
            at: Utc::now(),
            flow: "f".into(),
            file: file.into(),
            action: "save".into(),
            version: Some(1),
            note: None,
            summary: summary.into(),
        };
        {
            let store = Store::open(dir.path()).unwrap();
            store.add_audit(&entry("a.yaml", "one")).await.unwrap();
            store.add_audit(&entry("b.yaml", "two")).await.unwrap();
            store.sync_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        store.add_audit(&entry("a.yaml", "three")).await.unwrap();
        let all: Vec<String> = store.audit(None, 10).await.unwrap().into_iter().map(|e| e.summary).collect();
        assert_eq!(all, ["three", "two", "one"]);
        let a: Vec<String> = store.audit(Some("a.yaml"), 10).await.unwrap().into_iter().map(|e| e.summary).collect();
        assert_eq!(a, ["three", "one"]);
        assert_eq!(store.audit(None, 1).await.unwrap().len(), 1);
    }
}

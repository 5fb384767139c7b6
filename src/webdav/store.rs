//! The WebDAV gateway's own state, kept across restarts in one redb file
//! (`webdav.redb` in the state directory): dead properties set by PROPPATCH,
//! keyed by the object's key (its CMIS object id, so they follow renames and
//! moves), and the gateway's locks, keyed by lock token.
//!
//! Values are JSON so that a newer version can read an older file. All
//! calls are short synchronous transactions; callers on the async runtime
//! accept that (each is a few hundred microseconds on a local disk).

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

/// (object key, "namespace NUL name") → [`StoredProp`] as JSON.
const PROPS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("dead_props");
/// lock token → [`StoredLock`] as JSON.
const LOCKS: TableDefinition<&str, &[u8]> = TableDefinition::new("locks");

#[derive(Debug, thiserror::Error)]
#[error("WebDAV state store: {0}")]
pub struct StoreError(String);

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// One dead property: its name and its value as raw XML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredProp {
    pub name: String,
    pub namespace: Option<String>,
    pub prefix: Option<String>,
    pub xml: Option<Vec<u8>>,
}

/// One lock, as the lock system keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLock {
    pub token: String,
    /// The locked path, URL-encoded, without prefix.
    pub path: String,
    pub principal: Option<String>,
    /// The lock owner element as XML.
    pub owner: Option<String>,
    /// Seconds since the epoch when the lock expires.
    pub timeout_at: Option<u64>,
    pub timeout_secs: Option<u64>,
    pub shared: bool,
    pub deep: bool,
}

#[derive(Clone)]
pub struct StateStore {
    db: Arc<Database>,
}

impl StateStore {
    pub fn open(path: &Path) -> Result<StateStore, StoreError> {
        let db = Database::create(path).map_err(err)?;
        let tx = db.begin_write().map_err(err)?;
        tx.open_table(PROPS).map_err(err)?;
        tx.open_table(LOCKS).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(StateStore { db: Arc::new(db) })
    }

    /// An empty store in a temporary file (tests, `--no-state`).
    pub fn temporary() -> Result<StateStore, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(err)?;
        let tx = db.begin_write().map_err(err)?;
        tx.open_table(PROPS).map_err(err)?;
        tx.open_table(LOCKS).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(StateStore { db: Arc::new(db) })
    }

    fn prop_key(p: &StoredProp) -> String {
        format!("{}\0{}", p.namespace.as_deref().unwrap_or(""), p.name)
    }

    /// Applies a PROPPATCH: `(true, p)` sets, `(false, p)` removes.
    pub fn patch_props(
        &self,
        object: &str,
        patch: &[(bool, StoredProp)],
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut t = tx.open_table(PROPS).map_err(err)?;
            for (set, p) in patch {
                let k = Self::prop_key(p);
                if *set {
                    let v = serde_json::to_vec(p).map_err(err)?;
                    t.insert((object, k.as_str()), v.as_slice()).map_err(err)?;
                } else {
                    t.remove((object, k.as_str())).map_err(err)?;
                }
            }
        }
        tx.commit().map_err(err)
    }

    pub fn props(&self, object: &str) -> Result<Vec<StoredProp>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(PROPS).map_err(err)?;
        let mut out = Vec::new();
        for row in t.range((object, "")..).map_err(err)? {
            let (k, v) = row.map_err(err)?;
            if k.value().0 != object {
                break;
            }
            if let Ok(p) = serde_json::from_slice(v.value()) {
                out.push(p);
            }
        }
        Ok(out)
    }

    pub fn copy_props(&self, from: &str, to: &str) -> Result<(), StoreError> {
        let props = self.props(from)?;
        self.delete_props(to)?;
        let patch: Vec<_> = props.into_iter().map(|p| (true, p)).collect();
        self.patch_props(to, &patch)
    }

    pub fn delete_props(&self, object: &str) -> Result<(), StoreError> {
        let props = self.props(object)?;
        let patch: Vec<_> = props.into_iter().map(|p| (false, p)).collect();
        self.patch_props(object, &patch)
    }

    pub fn put_lock(&self, lock: &StoredLock) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut t = tx.open_table(LOCKS).map_err(err)?;
            let v = serde_json::to_vec(lock).map_err(err)?;
            t.insert(lock.token.as_str(), v.as_slice()).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    pub fn remove_locks(&self, tokens: &[String]) -> Result<(), StoreError> {
        if tokens.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut t = tx.open_table(LOCKS).map_err(err)?;
            for token in tokens {
                t.remove(token.as_str()).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    pub fn locks(&self) -> Result<Vec<StoredLock>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(LOCKS).map_err(err)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(err)? {
            let (_, v) = row.map_err(err)?;
            if let Ok(l) = serde_json::from_slice(v.value()) {
                out.push(l);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop(name: &str) -> StoredProp {
        StoredProp {
            name: name.into(),
            namespace: Some("http://example.com/ns".into()),
            prefix: Some("x".into()),
            xml: Some(format!("<x:{name} xmlns:x=\"http://example.com/ns\">v</x:{name}>").into()),
        }
    }

    #[test]
    fn props_persist_per_object() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("webdav.redb");
        {
            let s = StateStore::open(&path).unwrap();
            s.patch_props("a", &[(true, prop("p1")), (true, prop("p2"))])
                .unwrap();
            s.patch_props("ab", &[(true, prop("p3"))]).unwrap();
            s.patch_props("a", &[(false, prop("p1"))]).unwrap();
            s.copy_props("a", "c").unwrap();
        }
        let s = StateStore::open(&path).unwrap();
        assert_eq!(s.props("a").unwrap(), vec![prop("p2")]);
        assert_eq!(s.props("ab").unwrap(), vec![prop("p3")]);
        assert_eq!(s.props("c").unwrap(), vec![prop("p2")]);
        s.delete_props("a").unwrap();
        assert!(s.props("a").unwrap().is_empty());
    }
}

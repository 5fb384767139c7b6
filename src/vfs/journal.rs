//! The crash-safe journal of dirty files and the state store, in one redb
//! database (`state.redb` in the cache directory).
//!
//! - **Journal**: one [`JournalRecord`] per file whose local content is not
//!   yet on the server. It is written (and committed, fsynced by redb)
//!   before the first write()/create of that file returns, updated when the
//!   file is renamed, and removed once the upload succeeded. After a crash,
//!   `kill -9` or a lost network the records are replayed at the next mount:
//!   each names the folder, the cmis:name, the remote object (if any) with
//!   the change token our edit was based on, and the cache file holding the
//!   bytes. A record is never dropped because an upload failed.
//! - **State**: what a user set that the server cannot hold: the mtime of
//!   touch/`cp -p`/`rsync -a` and the mode of chmod. Keyed by the object's
//!   stable key (version series id, or folder id) and valid only while the
//!   server's change token is the one recorded with it: when someone else
//!   changes the object, the server's date wins.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

const JOURNAL: TableDefinition<u64, &[u8]> = TableDefinition::new("journal");
const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");
const CHECKOUTS: TableDefinition<&str, &[u8]> = TableDefinition::new("checkouts");

#[derive(Debug, thiserror::Error)]
#[error("state store {path}: {message}")]
pub struct StoreError {
    pub path: String,
    pub message: String,
}

/// One dirty file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalRecord {
    pub id: u64,
    /// Object id of the folder the file is (to be) filed in.
    pub parent_id: String,
    /// The cmis:name to create it with.
    pub name: String,
    /// The remote document our content replaces, if any.
    pub object_id: Option<String>,
    /// Its change token when our edit started (conflict detection).
    pub base_token: Option<String>,
    /// The cache file with the bytes to upload.
    pub path: PathBuf,
    /// An mtime the user set (ns since the epoch), kept after the upload.
    pub mtime_ns: Option<i64>,
}

/// What the user set on an object (see the module comment).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectState {
    /// The change token these values belong to.
    pub token: String,
    pub mtime_ns: Option<i64>,
    pub mode: Option<u32>,
    #[serde(default)]
    pub atime_ns: Option<i64>,
}

/// A checkout this VFS made (a WebDAV lock), by version series key: ended
/// by a checkIn when something was written into its PWC, else cancelled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutRecord {
    pub pwc_id: String,
    /// Content was uploaded into the PWC.
    pub modified: bool,
}

/// The redb database. After an I/O error (a full disk) redb refuses every
/// further transaction until the database is reopened, so an error drops
/// the handle and the next call reopens it.
pub struct StateStore {
    db: std::sync::Mutex<Option<Arc<Database>>>,
    file: PathBuf,
    path: String,
}

impl StateStore {
    pub fn open(path: &Path) -> Result<StateStore, StoreError> {
        let s = StateStore {
            db: std::sync::Mutex::new(None),
            file: path.to_path_buf(),
            path: path.display().to_string(),
        };
        s.db()?;
        Ok(s)
    }

    fn db(&self) -> Result<Arc<Database>, StoreError> {
        let mut g = self.db.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(db) = g.as_ref() {
            return Ok(db.clone());
        }
        let db = Database::create(&self.file).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError {
                path: self.path.clone(),
                message: "another cmisfs process uses this cache directory; give each mount or endpoint its own --cache-dir".into(),
            },
            e => self.err(e),
        })?;
        let tx = db.begin_write().map_err(|e| self.err(e))?;
        tx.open_table(JOURNAL).map_err(|e| self.err(e))?;
        tx.open_table(STATE).map_err(|e| self.err(e))?;
        tx.open_table(CHECKOUTS).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        let db = Arc::new(db);
        *g = Some(db.clone());
        Ok(db)
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        let message = e.to_string();
        if message.contains("I/O error") || message.contains("os error") {
            // Reopen on the next call (see the type's comment).
            if let Ok(mut g) = self.db.try_lock() {
                *g = None;
            }
        }
        StoreError {
            path: self.path.clone(),
            message,
        }
    }

    /// Writes (or replaces) a journal record, durably.
    pub fn put_record(&self, rec: &JournalRecord) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(rec).map_err(|e| self.err(e))?;
        let tx = self.db()?.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = tx.open_table(JOURNAL).map_err(|e| self.err(e))?;
            t.insert(rec.id, bytes.as_slice())
                .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    pub fn remove_record(&self, id: u64) -> Result<(), StoreError> {
        let tx = self.db()?.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = tx.open_table(JOURNAL).map_err(|e| self.err(e))?;
            t.remove(id).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Every record, oldest first. Records that do not parse (a newer
    /// format) are skipped with a warning, never deleted.
    pub fn records(&self) -> Result<Vec<JournalRecord>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(JOURNAL).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for item in t.iter().map_err(|e| self.err(e))? {
            let (k, v) = item.map_err(|e| self.err(e))?;
            match serde_json::from_slice::<JournalRecord>(v.value()) {
                Ok(r) => out.push(r),
                Err(e) => tracing::warn!(id = k.value(), "unreadable journal record: {e}"),
            }
        }
        Ok(out)
    }

    /// The next free record id.
    pub fn next_id(&self) -> Result<u64, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(JOURNAL).map_err(|e| self.err(e))?;
        let last = t.last().map_err(|e| self.err(e))?;
        Ok(last.map(|(k, _)| k.value() + 1).unwrap_or(1))
    }

    /// The state of `key`, if it belongs to change token `token`.
    pub fn state(&self, key: &str, token: &str) -> Option<ObjectState> {
        let tx = self.db().ok()?.begin_read().ok()?;
        let t = tx.open_table(STATE).ok()?;
        let v = t.get(key).ok()??;
        let s: ObjectState = serde_json::from_slice(v.value()).ok()?;
        (s.token == token).then_some(s)
    }

    pub fn put_state(&self, key: &str, state: &ObjectState) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(state).map_err(|e| self.err(e))?;
        let tx = self.db()?.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = tx.open_table(STATE).map_err(|e| self.err(e))?;
            t.insert(key, bytes.as_slice()).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// The checkout this VFS made of series `key`, if any.
    pub fn checkout(&self, key: &str) -> Option<CheckoutRecord> {
        let tx = self.db().ok()?.begin_read().ok()?;
        let t = tx.open_table(CHECKOUTS).ok()?;
        let v = t.get(key).ok()??;
        serde_json::from_slice(v.value()).ok()
    }

    pub fn put_checkout(&self, key: &str, c: &CheckoutRecord) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(c).map_err(|e| self.err(e))?;
        let tx = self.db()?.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = tx.open_table(CHECKOUTS).map_err(|e| self.err(e))?;
            t.insert(key, bytes.as_slice()).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    pub fn remove_checkout(&self, key: &str) -> Result<(), StoreError> {
        let tx = self.db()?.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = tx.open_table(CHECKOUTS).map_err(|e| self.err(e))?;
            t.remove(key).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    pub fn remove_state(&self, key: &str) -> Result<(), StoreError> {
        let tx = self.db()?.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = tx.open_table(STATE).map_err(|e| self.err(e))?;
            t.remove(key).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u64) -> JournalRecord {
        JournalRecord {
            id,
            parent_id: "f1".into(),
            name: format!("n{id}.txt"),
            object_id: None,
            base_token: None,
            path: PathBuf::from(format!("/tmp/x{id}")),
            mtime_ns: None,
        }
    }

    #[test]
    fn journal_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        {
            let s = StateStore::open(&path).unwrap();
            assert_eq!(s.next_id().unwrap(), 1);
            s.put_record(&rec(1)).unwrap();
            s.put_record(&rec(2)).unwrap();
            let mut r3 = rec(3);
            r3.object_id = Some("doc".into());
            s.put_record(&r3).unwrap();
            s.remove_record(2).unwrap();
        }
        let s = StateStore::open(&path).unwrap();
        let all = s.records().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], rec(1));
        assert_eq!(all[1].object_id.as_deref(), Some("doc"));
        assert_eq!(s.next_id().unwrap(), 4);
    }

    #[test]
    fn state_is_valid_only_for_its_token() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateStore::open(&dir.path().join("s.redb")).unwrap();
        let st = ObjectState {
            token: "7".into(),
            mtime_ns: Some(42),
            mode: Some(0o600),
            atime_ns: None,
        };
        s.put_state("series1", &st).unwrap();
        assert_eq!(s.state("series1", "7"), Some(st));
        assert_eq!(s.state("series1", "8"), None);
        s.remove_state("series1").unwrap();
        assert_eq!(s.state("series1", "7"), None);
        let c = CheckoutRecord {
            pwc_id: "pwc1".into(),
            modified: true,
        };
        s.put_checkout("series1", &c).unwrap();
        assert_eq!(s.checkout("series1"), Some(c));
        s.remove_checkout("series1").unwrap();
        assert_eq!(s.checkout("series1"), None);
    }
}

//! Persistent storage of the embedded repository: metadata in redb, content
//! in plain files.
//!
//! Layout of the data directory:
//! - `meta.redb`: one redb database with the tables below;
//! - `content/<id>`: one file per content stream, owned by exactly one
//!   object record (a checkout copies the file, so appending in place to a
//!   file never changes another version's bytes);
//! - `tmp/`: uploads being received; renamed into `content/` only by the
//!   transaction that makes them visible, so a crash mid-upload leaves at
//!   most an orphan file, never a half document.
//!
//! Tables: `objects` (object id → JSON [`ObjRec`]), `children` ((folder id,
//! name) → child id, the folder index and the uniqueness of names),
//! `series` (version series id → JSON [`SeriesRec`]), `changes` (change log
//! token → JSON [`ChangeRec`]) and `meta` (counters, repository id).
//!
//! Every change runs in one redb write transaction (redb serialises them,
//! which makes concurrent requests safe) and is committed with
//! `Durability::Immediate` before the response is sent. Reads use read
//! transactions (snapshots) and run concurrently with writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use redb::{Database, ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::cmis::error::CmisError;

const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
const CHILDREN: TableDefinition<(&str, &str), &str> = TableDefinition::new("children");
const SERIES: TableDefinition<&str, &[u8]> = TableDefinition::new("series");
const CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("changes");
const META: TableDefinition<&str, &str> = TableDefinition::new("meta");

/// Maps any storage-level failure to the spec's `storage` exception.
pub(crate) trait StorageResult<T> {
    fn st(self) -> Result<T, CmisError>;
}

impl<T, E: std::fmt::Display> StorageResult<T> for Result<T, E> {
    fn st(self) -> Result<T, CmisError> {
        self.map_err(|e| CmisError::Storage(e.to_string()))
    }
}

/// The base kind of a stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Folder,
    Document,
}

/// One content stream on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentRec {
    /// File name under `content/`.
    pub id: String,
    pub length: u64,
    pub mime_type: String,
    pub file_name: String,
}

/// One access control entry: a principal and its basic permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ace {
    pub principal: String,
    /// `cmis:read`, `cmis:write` or `cmis:all`.
    pub permission: String,
}

/// One stored object (a folder, a document version or a PWC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjRec {
    pub id: String,
    pub kind: Kind,
    pub type_id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub secondary_types: Vec<String>,
    /// Folders the object is filed in (folders: one, the root none;
    /// documents: only the latest version of a series is filed).
    #[serde(default)]
    pub parents: Vec<String>,
    pub created_by: String,
    /// Milliseconds since the epoch.
    pub created: i64,
    pub modified_by: String,
    pub modified: i64,
    /// Bumped on every change; the cmis:changeToken.
    pub change_token: u64,
    #[serde(default)]
    pub acl: Vec<Ace>,
    // Documents only.
    #[serde(default)]
    pub content: Option<ContentRec>,
    #[serde(default)]
    pub series_id: Option<String>,
    #[serde(default)]
    pub version_label: Option<String>,
    #[serde(default)]
    pub is_major: bool,
    #[serde(default)]
    pub is_latest: bool,
    #[serde(default)]
    pub is_latest_major: bool,
    #[serde(default)]
    pub is_pwc: bool,
    #[serde(default)]
    pub checkin_comment: Option<String>,
}

/// A version series: its checked-in versions (oldest first) and the PWC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SeriesRec {
    pub id: String,
    pub versions: Vec<String>,
    pub pwc: Option<String>,
    pub checked_out_by: Option<String>,
}

/// One change log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRec {
    pub object_id: String,
    /// `created`, `updated`, `deleted` or `security`.
    pub change_type: String,
    pub time: i64,
    /// A few properties of the object at the time of the change.
    pub properties: BTreeMap<String, String>,
}

/// The open store: the database and the content directory.
pub struct Store {
    db: Database,
    content_dir: PathBuf,
    tmp_dir: PathBuf,
}

impl Store {
    /// Opens (creating when missing) the store in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, CmisError> {
        let content_dir = data_dir.join("content");
        let tmp_dir = data_dir.join("tmp");
        std::fs::create_dir_all(&content_dir).st()?;
        std::fs::create_dir_all(&tmp_dir).st()?;
        // Fails if another process has the database open, before we touch
        // anything of that process's.
        let db = Database::create(data_dir.join("meta.redb")).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => CmisError::Storage(
                "another cmisfs process serves this data directory; stop it, or give this one its own --data".into(),
            ),
            e => CmisError::Storage(e.to_string()),
        })?;
        // Uploads that never committed: nothing refers to them.
        if let Ok(entries) = std::fs::read_dir(&tmp_dir) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        // Create every table once so that read transactions can open them.
        let tx = db.begin_write().st()?;
        {
            tx.open_table(OBJECTS).st()?;
            tx.open_table(CHILDREN).st()?;
            tx.open_table(SERIES).st()?;
            tx.open_table(CHANGES).st()?;
            tx.open_table(META).st()?;
        }
        tx.commit().st()?;
        Ok(Store {
            db,
            content_dir,
            tmp_dir,
        })
    }

    pub fn read(&self) -> Result<Rx, CmisError> {
        let r: ReadTransaction = self.db.begin_read().st()?;
        Ok(Rx {
            objects: r.open_table(OBJECTS).st()?,
            children: r.open_table(CHILDREN).st()?,
            series: r.open_table(SERIES).st()?,
            changes: r.open_table(CHANGES).st()?,
            meta: r.open_table(META).st()?,
        })
    }

    pub fn write(&self) -> Result<Tx, CmisError> {
        let mut tx = self.db.begin_write().st()?;
        tx.set_durability(redb::Durability::Immediate);
        Ok(Tx {
            tx,
            new_files: Vec::new(),
            dead_files: Vec::new(),
        })
    }

    pub fn content_path(&self, content_id: &str) -> PathBuf {
        self.content_dir.join(content_id)
    }

    pub fn tmp_dir(&self) -> &Path {
        &self.tmp_dir
    }

    /// Commits a write transaction, then deletes the content files it
    /// replaced. On failure the files it brought in are removed again.
    pub fn commit(&self, tx: Tx) -> Result<(), CmisError> {
        let Tx {
            tx,
            new_files,
            dead_files,
        } = tx;
        if let Err(e) = tx.commit() {
            for f in new_files {
                let _ = std::fs::remove_file(self.content_path(&f));
            }
            return Err(CmisError::Storage(e.to_string()));
        }
        for f in dead_files {
            let _ = std::fs::remove_file(self.content_path(&f));
        }
        Ok(())
    }

    /// Moves a fully written and synced upload into the content directory
    /// under `content_id`, as part of `tx`.
    pub fn adopt_file(&self, tx: &mut Tx, tmp: &Path, content_id: &str) -> Result<(), CmisError> {
        std::fs::rename(tmp, self.content_path(content_id)).st()?;
        if let Ok(dir) = std::fs::File::open(&self.content_dir) {
            let _ = dir.sync_all();
        }
        tx.new_files.push(content_id.to_string());
        Ok(())
    }

    /// Gives content `from` a second id `to` (checkout: the PWC starts
    /// with the version's content). A hard link, so checking out a large
    /// document costs no copy; content files are never changed in place
    /// while shared (see [`Store::unshare_file`]). Where links fail, a copy.
    pub fn share_file(&self, tx: &mut Tx, from: &str, to: &str) -> Result<(), CmisError> {
        let (src, dst) = (self.content_path(from), self.content_path(to));
        if std::fs::hard_link(&src, &dst).is_ok() {
            std::fs::File::open(&self.content_dir)
                .and_then(|d| d.sync_all())
                .st()?;
        } else {
            std::fs::copy(&src, &dst).st()?;
            std::fs::File::open(&dst).and_then(|f| f.sync_all()).st()?;
        }
        tx.new_files.push(to.to_string());
        Ok(())
    }

    /// Before content `id` is changed in place (appendContentStream): if
    /// another id shares its file, copies it to a new id `to` and returns
    /// true (the caller switches to `to` and retires `id`).
    pub fn unshare_file(&self, tx: &mut Tx, id: &str, to: &str) -> Result<bool, CmisError> {
        use std::os::unix::fs::MetadataExt;
        let src = self.content_path(id);
        if std::fs::metadata(&src).st()?.nlink() <= 1 {
            return Ok(false);
        }
        let dst = self.content_path(to);
        std::fs::copy(&src, &dst).st()?;
        tx.new_files.push(to.to_string());
        std::fs::File::open(&dst).and_then(|f| f.sync_all()).st()?;
        Ok(true)
    }
}

/// A read transaction (a consistent snapshot), its tables opened once.
pub struct Rx {
    objects: ObjTable,
    children: ChildTable,
    series: ObjTable,
    changes: ChangeTable,
    meta: MetaTable,
}

/// A write transaction plus the content files it adds and retires.
pub struct Tx {
    tx: WriteTransaction,
    new_files: Vec<String>,
    dead_files: Vec<String>,
}

/// Reads shared by snapshots and write transactions.
pub trait Read {
    fn obj(&self, id: &str) -> Result<Option<ObjRec>, CmisError>;
    fn child(&self, folder: &str, name: &str) -> Result<Option<String>, CmisError>;
    /// (name, id) of every child, in name order.
    fn children(&self, folder: &str) -> Result<Vec<(String, String)>, CmisError>;
    fn child_count(&self, folder: &str) -> Result<u64, CmisError>;
    fn series(&self, id: &str) -> Result<Option<SeriesRec>, CmisError>;
    fn meta(&self, key: &str) -> Result<Option<String>, CmisError>;
    /// Change log entries with token >= `from`, at most `max`.
    fn changes_from(&self, from: u64, max: usize) -> Result<Vec<(u64, ChangeRec)>, CmisError>;
    fn last_change(&self) -> Result<Option<u64>, CmisError>;
    /// Every object (query scans).
    fn all_objects(&self) -> Result<Vec<ObjRec>, CmisError>;

    fn need(&self, id: &str) -> Result<ObjRec, CmisError> {
        self.obj(id)?
            .ok_or_else(|| CmisError::ObjectNotFound(format!("no object with id '{id}'")))
    }
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, CmisError> {
    serde_json::from_slice(bytes).map_err(|e| CmisError::Storage(format!("corrupt record: {e}")))
}

macro_rules! impl_read {
    ($ty:ty) => {
        impl Read for $ty {
            fn obj(&self, id: &str) -> Result<Option<ObjRec>, CmisError> {
                let t = self.t_objects()?;
                let v = t.get(id).st()?;
                v.map(|g| decode(g.value())).transpose()
            }
            fn child(&self, folder: &str, name: &str) -> Result<Option<String>, CmisError> {
                let t = self.t_children()?;
                let v = t.get((folder, name)).st()?;
                Ok(v.map(|g| g.value().to_string()))
            }
            fn children(&self, folder: &str) -> Result<Vec<(String, String)>, CmisError> {
                let t = self.t_children()?;
                let mut out = Vec::new();
                for item in t.range((folder, "")..).st()? {
                    let (k, v) = item.st()?;
                    let (f, name) = k.value();
                    if f != folder {
                        break;
                    }
                    out.push((name.to_string(), v.value().to_string()));
                }
                Ok(out)
            }
            fn child_count(&self, folder: &str) -> Result<u64, CmisError> {
                let t = self.t_children()?;
                let mut n = 0;
                for item in t.range((folder, "")..).st()? {
                    let (k, _) = item.st()?;
                    if k.value().0 != folder {
                        break;
                    }
                    n += 1;
                }
                Ok(n)
            }
            fn series(&self, id: &str) -> Result<Option<SeriesRec>, CmisError> {
                let t = self.t_series()?;
                let v = t.get(id).st()?;
                v.map(|g| decode(g.value())).transpose()
            }
            fn meta(&self, key: &str) -> Result<Option<String>, CmisError> {
                let t = self.t_meta()?;
                let v = t.get(key).st()?;
                Ok(v.map(|g| g.value().to_string()))
            }
            fn changes_from(
                &self,
                from: u64,
                max: usize,
            ) -> Result<Vec<(u64, ChangeRec)>, CmisError> {
                let t = self.t_changes()?;
                let mut out = Vec::new();
                for item in t.range(from..).st()? {
                    if out.len() >= max {
                        break;
                    }
                    let (k, v) = item.st()?;
                    out.push((k.value(), decode(v.value())?));
                }
                Ok(out)
            }
            fn last_change(&self) -> Result<Option<u64>, CmisError> {
                let t = self.t_changes()?;
                let last = t.last().st()?;
                Ok(last.map(|(k, _)| k.value()))
            }
            fn all_objects(&self) -> Result<Vec<ObjRec>, CmisError> {
                let t = self.t_objects()?;
                let mut out = Vec::new();
                for item in t.iter().st()? {
                    let (_, v) = item.st()?;
                    out.push(decode(v.value())?);
                }
                Ok(out)
            }
        }
    };
}

impl_read!(Rx);
impl_read!(Tx);

type ObjTable = redb::ReadOnlyTable<&'static str, &'static [u8]>;
type ChildTable = redb::ReadOnlyTable<(&'static str, &'static str), &'static str>;
type ChangeTable = redb::ReadOnlyTable<u64, &'static [u8]>;
type MetaTable = redb::ReadOnlyTable<&'static str, &'static str>;

impl Rx {
    fn t_objects(&self) -> Result<&ObjTable, CmisError> {
        Ok(&self.objects)
    }
    fn t_children(&self) -> Result<&ChildTable, CmisError> {
        Ok(&self.children)
    }
    fn t_series(&self) -> Result<&ObjTable, CmisError> {
        Ok(&self.series)
    }
    fn t_meta(&self) -> Result<&MetaTable, CmisError> {
        Ok(&self.meta)
    }
    fn t_changes(&self) -> Result<&ChangeTable, CmisError> {
        Ok(&self.changes)
    }
}

impl Tx {
    fn t_objects(&self) -> Result<redb::Table<'_, &'static str, &'static [u8]>, CmisError> {
        self.tx.open_table(OBJECTS).st()
    }
    fn t_children(
        &self,
    ) -> Result<redb::Table<'_, (&'static str, &'static str), &'static str>, CmisError> {
        self.tx.open_table(CHILDREN).st()
    }
    fn t_series(&self) -> Result<redb::Table<'_, &'static str, &'static [u8]>, CmisError> {
        self.tx.open_table(SERIES).st()
    }
    fn t_meta(&self) -> Result<redb::Table<'_, &'static str, &'static str>, CmisError> {
        self.tx.open_table(META).st()
    }
    fn t_changes(&self) -> Result<redb::Table<'_, u64, &'static [u8]>, CmisError> {
        self.tx.open_table(CHANGES).st()
    }
}

impl Tx {
    pub fn put_obj(&mut self, rec: &ObjRec) -> Result<(), CmisError> {
        let bytes = serde_json::to_vec(rec).st()?;
        let mut t = self.tx.open_table(OBJECTS).st()?;
        t.insert(rec.id.as_str(), bytes.as_slice()).st()?;
        Ok(())
    }

    /// Removes an object record and retires its content file.
    pub fn del_obj(&mut self, rec: &ObjRec) -> Result<(), CmisError> {
        let mut t = self.tx.open_table(OBJECTS).st()?;
        t.remove(rec.id.as_str()).st()?;
        if let Some(c) = &rec.content {
            self.dead_files.push(c.id.clone());
        }
        Ok(())
    }

    /// Marks a content file to be deleted once the transaction commits.
    pub fn retire_file(&mut self, content_id: &str) {
        self.dead_files.push(content_id.to_string());
    }

    pub fn put_child(&mut self, folder: &str, name: &str, id: &str) -> Result<(), CmisError> {
        let mut t = self.tx.open_table(CHILDREN).st()?;
        t.insert((folder, name), id).st()?;
        Ok(())
    }

    pub fn del_child(&mut self, folder: &str, name: &str) -> Result<(), CmisError> {
        let mut t = self.tx.open_table(CHILDREN).st()?;
        t.remove((folder, name)).st()?;
        Ok(())
    }

    pub fn put_series(&mut self, s: &SeriesRec) -> Result<(), CmisError> {
        let bytes = serde_json::to_vec(s).st()?;
        let mut t = self.tx.open_table(SERIES).st()?;
        t.insert(s.id.as_str(), bytes.as_slice()).st()?;
        Ok(())
    }

    pub fn del_series(&mut self, id: &str) -> Result<(), CmisError> {
        let mut t = self.tx.open_table(SERIES).st()?;
        t.remove(id).st()?;
        Ok(())
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), CmisError> {
        let mut t = self.tx.open_table(META).st()?;
        t.insert(key, value).st()?;
        Ok(())
    }

    /// A fresh number from the repository-wide counter (ids never repeat,
    /// also across restarts).
    pub fn next_number(&mut self) -> Result<u64, CmisError> {
        let n = self
            .meta("counter")?
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(100)
            + 1;
        self.set_meta("counter", &n.to_string())?;
        Ok(n)
    }

    pub fn append_change(&mut self, change: &ChangeRec) -> Result<u64, CmisError> {
        let token = self.last_change()?.map_or(1, |t| t + 1);
        let bytes = serde_json::to_vec(change).st()?;
        let mut t = self.tx.open_table(CHANGES).st()?;
        t.insert(token, bytes.as_slice()).st()?;
        Ok(token)
    }
}

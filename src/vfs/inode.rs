//! The inode table: one inode per CMIS object for the life of the mount.
//!
//! An inode's number never changes and is never reused while mounted; the
//! inode itself lives while the kernel holds a lookup on it or it holds
//! state (see [`Inode::holds_state`]), and a later lookup of a dropped
//! object makes a new one. What it *knows* about its object is cached with
//! an expiry (`attr_expires`, the metadata TTL), extended to
//! `attr_trusted_until` while the change-log poll is healthy: after that
//! the next getattr asks the server again. Documents are keyed by their version series id (some
//! servers hand out a new object id at every checkIn), folders by their
//! object id; a file created here and not yet uploaded has a `local:N` key
//! until its first upload gives it one.
//!
//! A document filed in several folders is one inode; `parents` holds the
//! folders we have seen it in, so nlink = their number (at least 1).
//! Directories hold their listing ([`super::dir::Listing`]): name → inode,
//! with its own expiry and a short-lived negative cache.
//!
//! The write life of a file is [`FileState`]: `Clean` (the server's bytes,
//! cached in the content cache by object id + change token), `Dirty` (our
//! bytes in a cache file, journaled, waiting for upload) or `LocalOnly` (a
//! desktop temp/lock file that is never uploaded).

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::cmis::CmisObject;

use super::dir::Listing;
use super::types::{Attr, FileKind, Ino, VfsError, ROOT_INO};

/// Local content not yet on the server.
#[derive(Debug, Clone)]
pub struct Dirty {
    /// Journal record id (0 for local-only files, which are not journaled).
    pub journal_id: u64,
    pub path: PathBuf,
    /// Bumped by every write: an upload that started at an older
    /// generation leaves the file dirty.
    pub generation: u64,
    /// Upload not before this instant (write-back delay after the last
    /// close); `None` while open for writing.
    pub upload_at: Option<Instant>,
    /// The change token our edit started from.
    pub base_token: Option<String>,
}

/// A checkout of the document by our own CMIS user (a WebDAV lock, or
/// another client of the same user): writes go into its private working
/// copy with setContentStream and the checkout stays open.
#[derive(Debug, Clone)]
pub struct OwnCheckout {
    /// cmis:versionSeriesCheckedOutId.
    pub pwc_id: String,
    /// The PWC as last seen (after an upload into it, or read at open):
    /// its content is what the file shows. `None`: not read yet (the PWC
    /// holds the checked-out version's content until someone writes it).
    pub pwc: Option<CmisObject>,
}

/// Where a file's bytes are.
#[derive(Debug, Clone)]
pub enum FileState {
    Clean,
    Dirty(Dirty),
    LocalOnly(PathBuf),
}

#[derive(Debug)]
pub struct Inode {
    pub ino: Ino,
    pub kind: FileKind,
    /// Series id (documents), object id (folders) or `local:N`.
    pub key: String,
    /// The object on the server, as last seen (`None`: not uploaded yet).
    pub object: Option<CmisObject>,
    /// The name in `parent` (a file name, already escaped).
    pub name: String,
    /// The folder we reached it through last.
    pub parent: Ino,
    /// Every folder we have seen it filed in.
    pub parents: BTreeSet<Ino>,
    pub size: u64,
    pub mtime: SystemTime,
    pub ctime: SystemTime,
    pub crtime: SystemTime,
    /// Permission bits shown (allowable actions, or what chmod set).
    pub perm: u16,
    /// Whether we may write content (canSetContentStream, not checked out
    /// by someone else).
    pub writable: bool,
    /// Checked out by our own user: where writes go.
    pub checkout: Option<OwnCheckout>,
    /// The change token a WebDAV ETag shows instead of the object's, while
    /// the object's is still `.1`: our own checkout and its cancel change
    /// the token, not the content (see `Vfs::etag_token`).
    pub etag_pin: Option<(Option<String>, Option<String>)>,
    pub attr_expires: Instant,
    /// Trusted up to then while the change-log poll is healthy (the poll
    /// expires what changes); `None` after any invalidation.
    pub attr_trusted_until: Option<Instant>,
    /// Lookups the kernel holds (FUSE lookup count); 0 for inodes only
    /// WebDAV or the VFS itself use.
    pub lookups: u64,
    /// Held by an adapter beyond a call (FUSE directory snapshots).
    pub pins: u32,
    /// Last use by a VFS call: inodes nobody holds are dropped only after
    /// a grace period, so a caller between two calls keeps its inode.
    pub last_used: Instant,
    pub state: FileState,
    /// Open handles writing to it.
    pub writers: u32,
    /// An mtime / mode the user set (kept in the state store once the
    /// object is on the server).
    pub user_mtime: Option<SystemTime>,
    pub user_mode: Option<u32>,
    /// The last upload failure, for fsync and `pending`.
    pub last_error: Option<String>,
    /// Failed uploads so far (backoff).
    pub attempts: u32,
    /// The last upload could not connect at all (the server is down):
    /// fsync gives up retrying sooner.
    pub unreachable: bool,
    /// The last upload was refused for good (permission, constraint...):
    /// shutdown does not wait for it; close and fsync report it.
    pub refused: Option<VfsError>,
    /// An atime the user set (else atime = mtime).
    pub atime: Option<SystemTime>,
    /// Folders the server files this document in, when asked (lookups
    /// outside a listing ask, where the repository multi-files).
    pub server_links: u32,
    /// The content version the kernel's page cache holds (keep_cache).
    pub page_cache_tag: Option<String>,
    /// Unlinked while open: never uploaded again.
    pub unlinked: bool,
    /// Directories: the listing, when we have one.
    pub listing: Option<Listing>,
    /// Serialises uploads with renames/unlinks of this file.
    pub io_lock: Arc<tokio::sync::Mutex<()>>,
}

impl Inode {
    /// A local change of the inode's metadata (ctime = now).
    pub fn touch_ctime(&mut self) {
        self.ctime = SystemTime::now();
    }

    /// A local change of the content or of a directory's entries.
    pub fn touch_mtime(&mut self) {
        let now = SystemTime::now();
        self.mtime = now;
        self.ctime = now;
    }

    /// Whether the cached attributes may be used without asking the server.
    pub fn attr_fresh(&self, now: Instant, log_healthy: bool) -> bool {
        self.attr_expires > now || (log_healthy && self.attr_trusted_until.is_some_and(|t| t > now))
    }

    /// The next getattr asks the server.
    pub fn expire_attr(&mut self) {
        self.attr_expires = Instant::now();
        self.attr_trusted_until = None;
    }

    /// State that must outlive the kernel's interest: local data, open
    /// writers, uploads.
    pub fn holds_state(&self) -> bool {
        !matches!(self.state, FileState::Clean) || self.writers > 0
    }

    pub fn object_id(&self) -> Option<&str> {
        self.object
            .as_ref()
            .map(|o| o.id())
            .filter(|s| !s.is_empty())
    }

    pub fn change_token(&self) -> Option<&str> {
        self.object.as_ref().and_then(|o| o.change_token())
    }

    /// The object whose content the file shows: the PWC of our own
    /// checkout once we know it, else the document.
    pub fn content_object(&self) -> Option<&CmisObject> {
        self.checkout
            .as_ref()
            .and_then(|c| c.pwc.as_ref())
            .or(self.object.as_ref())
    }

    pub fn nlink(&self) -> u32 {
        match self.kind {
            FileKind::Directory => 2,
            FileKind::RegularFile if self.unlinked => 0,
            FileKind::RegularFile => (self.parents.len() as u32).max(self.server_links).max(1),
        }
    }

    pub fn is_dirty(&self) -> bool {
        matches!(self.state, FileState::Dirty(_))
    }

    pub fn attr(&self, uid: u32, gid: u32) -> Attr {
        Attr {
            ino: self.ino,
            kind: self.kind,
            size: self.size,
            atime: self.atime.unwrap_or(self.mtime),
            mtime: self.mtime,
            ctime: self.ctime,
            crtime: self.crtime,
            perm: self.perm,
            nlink: self.nlink(),
            uid,
            gid,
        }
    }
}

/// All inodes, by number and by key.
pub struct InodeTable {
    inodes: HashMap<Ino, Inode>,
    by_key: HashMap<String, Ino>,
    next: Ino,
}

impl InodeTable {
    /// A table holding the root folder.
    pub fn new(root: Inode) -> InodeTable {
        let mut t = InodeTable {
            inodes: HashMap::new(),
            by_key: HashMap::new(),
            next: ROOT_INO + 1,
        };
        t.by_key.insert(root.key.clone(), ROOT_INO);
        t.inodes.insert(
            ROOT_INO,
            Inode {
                ino: ROOT_INO,
                ..root
            },
        );
        t
    }

    /// A regular file's inode: NotFound if gone, IsDir for a directory.
    pub fn file(&self, ino: Ino) -> Result<&Inode, VfsError> {
        let i = self
            .get(ino)
            .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
        if i.kind == FileKind::Directory {
            return Err(VfsError::IsDir(i.name.clone()));
        }
        Ok(i)
    }

    pub fn get(&self, ino: Ino) -> Option<&Inode> {
        self.inodes.get(&ino)
    }

    pub fn get_mut(&mut self, ino: Ino) -> Option<&mut Inode> {
        self.inodes.get_mut(&ino)
    }

    pub fn by_key(&self, key: &str) -> Option<Ino> {
        self.by_key.get(key).copied()
    }

    /// Inserts a new inode (its `ino` is assigned here) and returns it.
    pub fn insert(&mut self, mut inode: Inode) -> Ino {
        let ino = self.next;
        self.next += 1;
        inode.ino = ino;
        self.by_key.insert(inode.key.clone(), ino);
        self.inodes.insert(ino, inode);
        ino
    }

    /// Changes the key of an inode (first upload, identity moved by a
    /// save-by-rename).
    pub fn rekey(&mut self, ino: Ino, key: String) {
        if let Some(i) = self.inodes.get_mut(&ino) {
            if self.by_key.get(&i.key) == Some(&ino) {
                self.by_key.remove(&i.key);
            }
            i.key = key.clone();
            self.by_key.insert(key, ino);
        }
    }

    /// Forgets the key of an inode (its object is gone); the inode number
    /// stays valid for open handles but is no longer found by key.
    pub fn unkey(&mut self, ino: Ino) {
        if let Some(i) = self.inodes.get(&ino) {
            if self.by_key.get(&i.key) == Some(&ino) {
                self.by_key.remove(&i.key);
            }
        }
    }

    /// Drops an inode (nobody holds it any more); its key is found no
    /// more, and its number is never handed out again.
    pub fn remove(&mut self, ino: Ino) -> Option<Inode> {
        if ino == ROOT_INO {
            return None;
        }
        let i = self.inodes.remove(&ino)?;
        if self.by_key.get(&i.key) == Some(&ino) {
            self.by_key.remove(&i.key);
        }
        Some(i)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Inode> {
        self.inodes.values()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Inode> {
        self.inodes.values_mut()
    }

    pub fn len(&self) -> usize {
        self.inodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inodes.is_empty()
    }
}

/// A fresh inode value (number assigned by [`InodeTable::insert`]).
pub fn blank(kind: FileKind, key: String, parent: Ino, name: String) -> Inode {
    let now = SystemTime::now();
    Inode {
        ino: 0,
        kind,
        key,
        object: None,
        name,
        parent,
        parents: [parent].into_iter().collect(),
        size: 0,
        mtime: now,
        ctime: now,
        crtime: now,
        perm: if kind == FileKind::Directory {
            0o755
        } else {
            0o644
        },
        writable: true,
        checkout: None,
        etag_pin: None,
        attr_expires: Instant::now(),
        attr_trusted_until: None,
        lookups: 0,
        pins: 0,
        last_used: Instant::now(),
        state: FileState::Clean,
        writers: 0,
        user_mtime: None,
        user_mode: None,
        last_error: None,
        attempts: 0,
        unreachable: false,
        refused: None,
        page_cache_tag: None,
        atime: None,
        server_links: 0,
        unlinked: false,
        listing: None,
        io_lock: Arc::new(tokio::sync::Mutex::new(())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_keys_move() {
        let mut t = InodeTable::new(blank(
            FileKind::Directory,
            "root".into(),
            ROOT_INO,
            "".into(),
        ));
        assert_eq!(t.by_key("root"), Some(ROOT_INO));
        let a = t.insert(blank(
            FileKind::RegularFile,
            "local:1".into(),
            ROOT_INO,
            "a".into(),
        ));
        let b = t.insert(blank(
            FileKind::RegularFile,
            "series-b".into(),
            ROOT_INO,
            "b".into(),
        ));
        assert!(a > ROOT_INO && b > a);
        // First upload: the local key becomes the series id.
        t.rekey(a, "series-a".into());
        assert_eq!(t.by_key("series-a"), Some(a));
        assert_eq!(t.by_key("local:1"), None);
        // Save by rename: b's identity moves to a.
        t.unkey(b);
        t.rekey(a, "series-b".into());
        assert_eq!(t.by_key("series-b"), Some(a));
        assert!(t.get(b).is_some(), "the old inode number stays valid");
        assert_eq!(t.len(), 3);
        // Dropping b leaves a's key alone; the root is never dropped.
        assert!(t.remove(b).is_some());
        assert_eq!(t.by_key("series-b"), Some(a));
        assert!(t.remove(ROOT_INO).is_none());
        let c = t.insert(blank(
            FileKind::RegularFile,
            "series-c".into(),
            ROOT_INO,
            "c".into(),
        ));
        assert!(c > b, "numbers are never reused");
    }

    #[test]
    fn nlink_counts_parents() {
        let mut i = blank(FileKind::RegularFile, "k".into(), 5, "x".into());
        assert_eq!(i.nlink(), 1);
        i.parents.insert(7);
        assert_eq!(i.nlink(), 2);
        i.parents.clear();
        assert_eq!(i.nlink(), 1);
        i.unlinked = true;
        assert_eq!(i.nlink(), 0, "an unlinked open file");
    }
}

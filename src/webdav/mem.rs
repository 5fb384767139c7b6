//! An in-memory [`Backend`]: a plain tree of directories and files with
//! POSIX semantics and no repository behind it. It lets the adapter be
//! tested (unit tests, and litmus as a check of the adapter alone) apart
//! from the VFS. Object keys are the inode numbers, never reused.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;

use super::backend::Backend;
use crate::vfs::{
    Attr, DirEntry, Fh, FileKind, Ino, OpenFlags, SetAttr, StatFs, VfsError, VfsResult, ROOT_INO,
};

struct Node {
    kind: FileKind,
    data: Vec<u8>,
    children: BTreeMap<String, Ino>,
    mtime: SystemTime,
    ctime: SystemTime,
}

struct Inner {
    nodes: HashMap<Ino, Node>,
    next_ino: Ino,
    next_fh: Fh,
}

pub struct MemBackend {
    inner: Mutex<Inner>,
}

impl Default for MemBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl MemBackend {
    pub fn new() -> MemBackend {
        let mut nodes = HashMap::new();
        nodes.insert(ROOT_INO, Node::new(FileKind::Directory));
        MemBackend {
            inner: Mutex::new(Inner {
                nodes,
                next_ino: ROOT_INO + 1,
                next_fh: 1,
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> VfsResult<T>) -> VfsResult<T> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| VfsError::Io("poisoned".into()))?;
        f(&mut inner)
    }
}

impl Node {
    fn new(kind: FileKind) -> Node {
        let now = SystemTime::now();
        Node {
            kind,
            data: Vec::new(),
            children: BTreeMap::new(),
            mtime: now,
            ctime: now,
        }
    }

    fn attr(&self, ino: Ino) -> Attr {
        Attr {
            ino,
            kind: self.kind,
            size: self.data.len() as u64,
            atime: self.mtime,
            mtime: self.mtime,
            ctime: self.ctime,
            crtime: self.ctime,
            perm: if self.kind == FileKind::Directory {
                0o755
            } else {
                0o644
            },
            nlink: 1,
            uid: 0,
            gid: 0,
        }
    }
}

impl Inner {
    fn node(&self, ino: Ino) -> VfsResult<&Node> {
        self.nodes
            .get(&ino)
            .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))
    }

    fn node_mut(&mut self, ino: Ino) -> VfsResult<&mut Node> {
        self.nodes
            .get_mut(&ino)
            .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))
    }

    fn dir(&self, ino: Ino) -> VfsResult<&Node> {
        let n = self.node(ino)?;
        if n.kind != FileKind::Directory {
            return Err(VfsError::NotDir(format!("inode {ino}")));
        }
        Ok(n)
    }

    fn child(&self, parent: Ino, name: &str) -> VfsResult<Ino> {
        self.dir(parent)?
            .children
            .get(name)
            .copied()
            .ok_or_else(|| VfsError::NotFound(name.to_string()))
    }

    fn add(&mut self, parent: Ino, name: &str, kind: FileKind) -> VfsResult<Ino> {
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(VfsError::InvalidName(name.to_string()));
        }
        if self.dir(parent)?.children.contains_key(name) {
            return Err(VfsError::Exists(name.to_string()));
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(ino, Node::new(kind));
        let p = self.node_mut(parent)?;
        p.children.insert(name.to_string(), ino);
        p.mtime = SystemTime::now();
        Ok(ino)
    }

    fn remove_subtree(&mut self, ino: Ino) {
        if let Some(node) = self.nodes.remove(&ino) {
            for child in node.children.values() {
                self.remove_subtree(*child);
            }
        }
    }
}

#[async_trait]
impl Backend for MemBackend {
    async fn lookup(&self, parent: Ino, name: &str) -> VfsResult<Attr> {
        self.with(|i| {
            let ino = i.child(parent, name)?;
            Ok(i.node(ino)?.attr(ino))
        })
    }

    async fn getattr(&self, ino: Ino) -> VfsResult<Attr> {
        self.with(|i| Ok(i.node(ino)?.attr(ino)))
    }

    async fn setattr(&self, ino: Ino, set: SetAttr) -> VfsResult<Attr> {
        self.with(|i| {
            let n = i.node_mut(ino)?;
            if let Some(size) = set.size {
                n.data.resize(size as usize, 0);
            }
            if let Some(m) = set.mtime {
                n.mtime = m;
            }
            Ok(n.attr(ino))
        })
    }

    async fn readdir(&self, ino: Ino) -> VfsResult<Vec<DirEntry>> {
        self.with(|i| {
            let d = i.dir(ino)?;
            d.children
                .iter()
                .map(|(name, c)| {
                    Ok(DirEntry {
                        name: name.clone(),
                        attr: i.node(*c)?.attr(*c),
                    })
                })
                .collect()
        })
    }

    async fn open(&self, ino: Ino, flags: OpenFlags) -> VfsResult<Fh> {
        self.with(|i| {
            let n = i.node_mut(ino)?;
            if n.kind == FileKind::Directory && flags.write {
                return Err(VfsError::IsDir(format!("inode {ino}")));
            }
            if flags.truncate && flags.write {
                n.data.clear();
                n.mtime = SystemTime::now();
            }
            i.next_fh += 1;
            Ok(i.next_fh)
        })
    }

    async fn create(&self, parent: Ino, name: &str, _flags: OpenFlags) -> VfsResult<(Attr, Fh)> {
        self.with(|i| {
            let ino = i.add(parent, name, FileKind::RegularFile)?;
            i.next_fh += 1;
            Ok((i.node(ino)?.attr(ino), i.next_fh))
        })
    }

    async fn read(&self, ino: Ino, _fh: Fh, offset: u64, size: u32) -> VfsResult<Bytes> {
        self.with(|i| {
            let n = i.node(ino)?;
            let start = (offset as usize).min(n.data.len());
            let end = start.saturating_add(size as usize).min(n.data.len());
            Ok(Bytes::copy_from_slice(&n.data[start..end]))
        })
    }

    async fn write(&self, ino: Ino, _fh: Fh, offset: u64, data: &[u8]) -> VfsResult<u32> {
        self.with(|i| {
            let n = i.node_mut(ino)?;
            let end = offset as usize + data.len();
            if n.data.len() < end {
                n.data.resize(end, 0);
            }
            n.data[offset as usize..end].copy_from_slice(data);
            n.mtime = SystemTime::now();
            Ok(data.len() as u32)
        })
    }

    async fn fsync(&self, _ino: Ino, _fh: Fh) -> VfsResult<()> {
        Ok(())
    }

    async fn release(&self, _ino: Ino, _fh: Fh) -> VfsResult<()> {
        Ok(())
    }

    async fn mkdir(&self, parent: Ino, name: &str) -> VfsResult<Attr> {
        self.with(|i| {
            let ino = i.add(parent, name, FileKind::Directory)?;
            Ok(i.node(ino)?.attr(ino))
        })
    }

    async fn unlink(&self, parent: Ino, name: &str) -> VfsResult<()> {
        self.with(|i| {
            let ino = i.child(parent, name)?;
            if i.node(ino)?.kind == FileKind::Directory {
                return Err(VfsError::IsDir(name.to_string()));
            }
            i.node_mut(parent)?.children.remove(name);
            i.remove_subtree(ino);
            Ok(())
        })
    }

    async fn rmdir(&self, parent: Ino, name: &str) -> VfsResult<()> {
        self.with(|i| {
            let ino = i.child(parent, name)?;
            let n = i.dir(ino)?;
            if !n.children.is_empty() {
                return Err(VfsError::NotEmpty(name.to_string()));
            }
            i.node_mut(parent)?.children.remove(name);
            i.remove_subtree(ino);
            Ok(())
        })
    }

    async fn rename(
        &self,
        parent: Ino,
        name: &str,
        newparent: Ino,
        newname: &str,
    ) -> VfsResult<()> {
        self.with(|i| {
            let ino = i.child(parent, name)?;
            i.dir(newparent)?;
            if let Ok(old) = i.child(newparent, newname) {
                if old == ino {
                    return Ok(());
                }
                let old_node = i.node(old)?;
                if old_node.kind == FileKind::Directory && !old_node.children.is_empty() {
                    return Err(VfsError::NotEmpty(newname.to_string()));
                }
                i.remove_subtree(old);
            }
            i.node_mut(parent)?.children.remove(name);
            i.node_mut(newparent)?
                .children
                .insert(newname.to_string(), ino);
            Ok(())
        })
    }

    async fn statfs(&self) -> VfsResult<StatFs> {
        Ok(StatFs {
            blocks: 1 << 20,
            blocks_free: 1 << 19,
            files: 1 << 20,
            files_free: 1 << 19,
            block_size: 4096,
            name_max: 255,
        })
    }

    async fn getxattr(&self, ino: Ino, name: &str) -> VfsResult<Vec<u8>> {
        self.with(|i| {
            i.node(ino)?;
            match name {
                "user.cmis.objectId" => Ok(format!("mem-{ino}").into_bytes()),
                _ => Err(VfsError::NoAttr(name.to_string())),
            }
        })
    }
}

//! Older versions of documents, read-only, under a hidden `.versions`
//! directory in every folder:
//!
//! ```text
//! FOLDER/.versions/                      one directory per document of FOLDER
//! FOLDER/.versions/report.odt/           the versions of report.odt (getAllVersions)
//! FOLDER/.versions/report.odt/report (v1.0).odt
//! FOLDER/.versions/report.odt/report (v1.1).odt
//! ```
//!
//! `.versions` is reachable by name only: readdir of FOLDER does not list
//! it, so `rsync`, `cp -r`, `find` and backups do not descend into every
//! version of every document (as with NetApp's `.snapshot` or ZFS's
//! hidden `.zfs`). A real object named `.versions` in a folder wins over
//! the virtual one. A private working copy is not a version and is not
//! shown; a version without a label is named by its position (oldest 1).
//!
//! The nodes live in their own table with inode numbers from
//! [`VIRTUAL_BASE`] up, apart from the inode table: they hold no state
//! (versions are immutable) and every change to them fails with EROFS.
//! Only what someone looked at is made, and [`Vfs::trim`] drops what the
//! kernel forgot, nobody has open and nobody used for the forget grace,
//! so browsing many documents' versions does not grow the table for the
//! life of the mount. A node made again gets a new number.
//! Content is read through the content cache like any document, keyed by
//! the version's own object id and change token.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use crate::cmis::CmisObject;

use super::types::*;
use super::{is_pwc, names, object_key, version_tag, Vfs};

/// The name of the hidden directory in every folder.
pub const VERSIONS_DIR: &str = ".versions";

/// Virtual inode numbers start here (the inode table counts up from 2).
pub const VIRTUAL_BASE: Ino = 1 << 60;

/// Whether an inode number is one of the `.versions` tree.
pub fn is_virtual(ino: Ino) -> bool {
    ino >= VIRTUAL_BASE
}

#[derive(Debug, Clone)]
enum Node {
    /// `FOLDER/.versions`.
    Root { folder: Ino },
    /// `FOLDER/.versions/NAME`: the series of the document NAME.
    Series {
        /// Any object id of the series (getAllVersions takes any).
        doc_id: String,
        /// The versions as last listed: file name → inode.
        listed: Option<(Instant, Vec<(String, Ino)>)>,
    },
    /// One version, as getAllVersions returned it.
    Version { object: Box<CmisObject> },
}

#[derive(Debug, Clone)]
struct VNode {
    node: Node,
    attr: Attr,
    /// Lookups the kernel holds (see [`Vfs::hold`]).
    lookups: u64,
    last_used: Instant,
}

impl VNode {
    fn new(node: Node, attr: Attr) -> VNode {
        VNode {
            node,
            attr,
            lookups: 0,
            last_used: Instant::now(),
        }
    }
}

/// The `.versions` nodes made so far.
#[derive(Debug, Default)]
pub(super) struct Versions {
    nodes: HashMap<Ino, VNode>,
    by_key: HashMap<String, Ino>,
    next: Ino,
}

impl Versions {
    /// The node for `key`, made with `make` (given its inode) if new;
    /// an existing node gets the fresh attributes.
    fn node(&mut self, key: String, make: impl FnOnce(Ino) -> VNode) -> Attr {
        let known = self.by_key.get(&key).copied();
        let ino = known.unwrap_or(VIRTUAL_BASE + self.next);
        let fresh = make(ino);
        let attr = fresh.attr;
        match self.nodes.get_mut(&ino) {
            // Known: fresh attributes (and version object); a series keeps
            // its listing.
            Some(n) => {
                n.attr = attr;
                n.last_used = Instant::now();
                if let (Node::Version { object }, Node::Version { object: new }) =
                    (&mut n.node, fresh.node)
                {
                    *object = new;
                }
            }
            None => {
                self.next += 1;
                self.nodes.insert(ino, fresh);
                self.by_key.insert(key, ino);
            }
        }
        attr
    }

    fn get(&mut self, ino: Ino) -> VfsResult<&VNode> {
        let n = self
            .nodes
            .get_mut(&ino)
            .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
        n.last_used = Instant::now();
        Ok(n)
    }

    pub(super) fn hold(&mut self, ino: Ino) {
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.lookups += 1;
        }
    }

    pub(super) fn forget(&mut self, ino: Ino, n: u64) {
        if let Some(v) = self.nodes.get_mut(&ino) {
            v.lookups = v.lookups.saturating_sub(n);
        }
    }

    /// Drops the nodes the kernel holds no lookup on, that are not open
    /// and were not used for `grace`. Returns how many went.
    pub(super) fn trim(&mut self, open: &HashSet<Ino>, grace: Duration) -> usize {
        let now = Instant::now();
        let before = self.nodes.len();
        self.nodes.retain(|ino, n| {
            n.lookups > 0
                || open.contains(ino)
                || now.saturating_duration_since(n.last_used) < grace
        });
        let nodes = &self.nodes;
        self.by_key.retain(|_, ino| nodes.contains_key(ino));
        before - self.nodes.len()
    }

    pub(super) fn len(&self) -> usize {
        self.nodes.len()
    }
}

fn system_time(d: Option<chrono::DateTime<chrono::Utc>>) -> Option<SystemTime> {
    d.map(SystemTime::from)
}

/// The file name of a version: `STEM (vLABEL)EXT` of the document's name.
pub fn version_file_name(doc_name: &str, label: &str) -> String {
    let label: String = label
        .chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect();
    names::tagged(doc_name, &format!(" (v{label})"))
}

impl Vfs {
    pub(super) fn versions_table(&self) -> std::sync::MutexGuard<'_, Versions> {
        self.versions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn dir_attr(&self, ino: Ino, mtime: SystemTime) -> Attr {
        Attr {
            ino,
            kind: FileKind::Directory,
            size: 0,
            atime: mtime,
            mtime,
            ctime: mtime,
            crtime: mtime,
            perm: 0o555,
            nlink: 2,
            uid: self.cfg.uid,
            gid: self.cfg.gid,
        }
    }

    /// `FOLDER/.versions`, made if new.
    pub(super) fn versions_root(&self, folder: Ino, folder_attr: &Attr) -> Attr {
        let mtime = folder_attr.mtime;
        self.versions_table().node(format!("r:{folder}"), |ino| {
            VNode::new(Node::Root { folder }, self.dir_attr(ino, mtime))
        })
    }

    /// The series directory of the document `doc` (a real inode) in the
    /// `.versions` directory `root`.
    fn series_node(&self, root: Ino, doc: Ino) -> VfsResult<Attr> {
        let (key, doc_id, mtime) = {
            let t = self.lock();
            let i = t
                .get(doc)
                .ok_or_else(|| VfsError::NotFound(format!("inode {doc}")))?;
            match &i.object {
                Some(o) if i.kind == FileKind::RegularFile && o.is_document() => {
                    (object_key(o), o.id().to_string(), i.mtime)
                }
                // Folders have no versions; a file not uploaded yet none.
                _ => return Err(VfsError::NotFound(i.name.clone())),
            }
        };
        Ok(self
            .versions_table()
            .node(format!("s:{root}:{key}"), |ino| {
                let series = Node::Series {
                    doc_id: doc_id.clone(),
                    listed: None,
                };
                VNode::new(series, self.dir_attr(ino, mtime))
            }))
    }

    /// Lists a series (getAllVersions), oldest first, making its nodes.
    async fn list_series(&self, series: Ino) -> VfsResult<Vec<DirEntry>> {
        let doc_id = match &self.versions_table().get(series)?.node {
            Node::Series { doc_id, .. } => doc_id.clone(),
            _ => return Err(VfsError::NotDir(format!("inode {series}"))),
        };
        let mut all = match self.meta(|| self.binding.all_versions(&doc_id)).await {
            Ok(all) => all,
            // Not versionable (OpenCMIS InMemory refuses getAllVersions
            // with invalidArgument): the document is its only version.
            Err(VfsError::InvalidArgument(_) | VfsError::NotSupported(_)) => {
                vec![
                    self.meta(|| self.binding.object(&doc_id, &super::PLAIN_READ))
                        .await?,
                ]
            }
            Err(e) => return Err(e),
        };
        all.retain(|o| !is_pwc(o));
        // getAllVersions answers newest first; files read better oldest first.
        all.reverse();
        let now = SystemTime::now();
        let mut out = Vec::with_capacity(all.len());
        let mut v = self.versions_table();
        for (k, o) in all.into_iter().enumerate() {
            let label = o
                .version_label()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| (k + 1).to_string());
            let name = version_file_name(&names::to_file(o.name()).name, &label);
            let mtime = system_time(o.last_modification_date()).unwrap_or(now);
            let crtime = system_time(o.creation_date()).unwrap_or(mtime);
            let size = o.content_length().unwrap_or(0);
            let attr = v.node(format!("v:{series}:{}", o.id()), |ino| {
                let attr = Attr {
                    ino,
                    kind: FileKind::RegularFile,
                    size,
                    atime: mtime,
                    mtime,
                    ctime: mtime,
                    crtime,
                    perm: 0o444,
                    nlink: 1,
                    uid: self.cfg.uid,
                    gid: self.cfg.gid,
                };
                let object = Box::new(o.clone());
                VNode::new(Node::Version { object }, attr)
            });
            out.push(DirEntry { name, attr });
        }
        if let Some(VNode {
            node: Node::Series { listed, .. },
            ..
        }) = v.nodes.get_mut(&series)
        {
            *listed = Some((
                Instant::now(),
                out.iter().map(|e| (e.name.clone(), e.attr.ino)).collect(),
            ));
        }
        Ok(out)
    }

    /// lookup in a `.versions` directory or a series directory.
    pub(super) async fn versions_lookup(&self, parent: Ino, name: &str) -> VfsResult<Attr> {
        let node = self.versions_table().get(parent)?.node.clone();
        match node {
            Node::Root { folder } => {
                let doc = Box::pin(self.lookup(folder, name)).await?;
                self.series_node(parent, doc.ino)
            }
            Node::Series { listed, .. } => {
                let fresh = listed.filter(|(at, _)| at.elapsed() < self.cfg.metadata_ttl);
                // A fresh listing answers, unless the version's node was
                // trimmed meanwhile: then the series is listed again (the
                // version gets a new node).
                let listed_ino =
                    fresh.map(|(_, l)| l.into_iter().find(|(n, _)| n == name).map(|(_, i)| i));
                let ino = match listed_ino {
                    Some(Some(ino)) if self.versions_table().nodes.contains_key(&ino) => Some(ino),
                    Some(None) => None,
                    _ => self
                        .list_series(parent)
                        .await?
                        .into_iter()
                        .find(|e| e.name == name)
                        .map(|e| e.attr.ino),
                };
                let ino = ino.ok_or_else(|| VfsError::NotFound(name.to_string()))?;
                Ok(self.versions_table().get(ino)?.attr)
            }
            Node::Version { .. } => Err(VfsError::NotDir(name.to_string())),
        }
    }

    /// readdir of a `.versions` directory (the folder's documents) or of a
    /// series (its versions).
    pub(super) async fn versions_readdir(&self, ino: Ino) -> VfsResult<Vec<DirEntry>> {
        let node = self.versions_table().get(ino)?.node.clone();
        match node {
            Node::Root { folder } => {
                let entries = Box::pin(self.readdir(folder)).await?;
                let mut out = Vec::new();
                for e in entries {
                    if e.attr.kind != FileKind::RegularFile {
                        continue;
                    }
                    // Not uploaded yet (or gone meanwhile): no versions.
                    if let Ok(attr) = self.series_node(ino, e.attr.ino) {
                        out.push(DirEntry { name: e.name, attr });
                    }
                }
                Ok(out)
            }
            Node::Series { .. } => self.list_series(ino).await,
            Node::Version { .. } => Err(VfsError::NotDir(format!("inode {ino}"))),
        }
    }

    pub(super) fn versions_attr(&self, ino: Ino) -> VfsResult<Attr> {
        Ok(self.versions_table().get(ino)?.attr)
    }

    /// The version behind a virtual file (`None` for its directories).
    pub(super) fn version_object(&self, ino: Ino) -> VfsResult<Option<CmisObject>> {
        Ok(match &self.versions_table().get(ino)?.node {
            Node::Version { object } => Some((**object).clone()),
            _ => None,
        })
    }

    /// Where a version's bytes are: object id, change token, size.
    pub(super) fn version_source(&self, ino: Ino) -> VfsResult<(String, String, u64)> {
        match self.version_object(ino)? {
            Some(o) => {
                let size = self.versions_attr(ino)?.size;
                Ok((o.id().to_string(), version_tag(&o), size))
            }
            None => Err(VfsError::IsDir(format!("inode {ino}"))),
        }
    }

    /// open of a virtual node: reading only.
    pub(super) fn versions_open(&self, ino: Ino, flags: OpenFlags) -> VfsResult<Fh> {
        let attr = self.versions_attr(ino)?;
        if flags.write || flags.truncate {
            return Err(if attr.kind == FileKind::Directory {
                VfsError::IsDir(format!("inode {ino}"))
            } else {
                VfsError::ReadOnly
            });
        }
        let fh = self.new_handle(ino, false);
        Ok(fh)
    }
}

/// Every change inside the `.versions` tree fails with EROFS.
pub(super) fn refuse(inos: &[Ino]) -> VfsResult<()> {
    if inos.iter().any(|i| is_virtual(*i)) {
        return Err(VfsError::ReadOnly);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_keep_the_extension() {
        assert_eq!(version_file_name("report.odt", "1.1"), "report (v1.1).odt");
        assert_eq!(version_file_name("Makefile", "2.0"), "Makefile (v2.0)");
        assert_eq!(version_file_name(".bashrc", "1"), ".bashrc (v1)");
        assert_eq!(version_file_name("a.txt", "x/y"), "a (vx_y).txt");
        let long = "x".repeat(300) + ".odt";
        let n = version_file_name(&long, "1.0");
        assert!(
            n.len() <= names::NAME_MAX && n.ends_with(" (v1.0).odt"),
            "{n}"
        );
        assert!(is_virtual(VIRTUAL_BASE) && !is_virtual(ROOT_INO));
    }
}

//! dav-server's file system traits over a [`Backend`] (the VFS): paths are
//! resolved to inodes by lookups from the root, files are VFS file handles,
//! and dead properties live in the [`StateStore`] under the object's key.
//!
//! Translation only: what a rename over an existing document means, how a
//! write reaches the repository, which names are temp files, is the VFS's
//! business. Two things are done here because WebDAV has them and POSIX
//! does not: COPY of a document (read from one handle, write to a new
//! file), and the dead properties.

use std::io::SeekFrom;
use std::sync::Arc;
use std::time::SystemTime;

use axum::http::StatusCode;
use bytes::{Buf, Bytes};
use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavFileSystem, DavMetaData, DavProp, FsError, FsFuture, FsResult,
    FsStream, OpenOptions, ReadDirMeta,
};
use futures_util::{FutureExt, StreamExt};

use super::backend::Backend;
use super::store::{StateStore, StoredProp};
use crate::vfs::{Attr, FileKind, Ino, OpenFlags, SetAttr, VfsError, ROOT_INO};

/// Namespace of the stand-in names under which the HTTP layer passes the
/// modification-time properties (DAV:getlastmodified, Win32LastModifiedTime)
/// of a PROPPATCH here: dav-server refuses to set them itself.
pub const MTIME_NS: &str = "urn:x-cmisfs:mtime";

/// Largest read handed to the VFS in one call.
const MAX_READ: usize = 1 << 20;

#[derive(Clone)]
pub struct DavFs {
    backend: Arc<dyn Backend>,
    store: StateStore,
}

pub(crate) fn fs_err(e: VfsError) -> FsError {
    tracing::debug!("webdav: {e}");
    match e {
        VfsError::NotFound(_) | VfsError::NoAttr(_) => FsError::NotFound,
        VfsError::Exists(_) | VfsError::NotEmpty(_) => FsError::Exists,
        VfsError::NoSpace(_) => FsError::InsufficientStorage,
        VfsError::NameTooLong(_) => FsError::PathTooLong,
        VfsError::NotSupported(_) => FsError::NotImplemented,
        VfsError::Io(_) | VfsError::TimedOut(_) => {
            tracing::warn!("webdav: repository error: {e}");
            FsError::GeneralFailure
        }
        _ => FsError::Forbidden,
    }
}

/// The file names along a path, each valid UTF-8 (else the path names no
/// file).
fn segments(path: &DavPath) -> FsResult<Vec<&str>> {
    path.as_bytes()
        .split(|&b| b == b'/')
        .filter(|s| !s.is_empty())
        .map(|s| std::str::from_utf8(s).map_err(|_| FsError::NotFound))
        .collect()
}

impl DavFs {
    pub fn new(backend: Arc<dyn Backend>, store: StateStore) -> DavFs {
        DavFs { backend, store }
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The attributes of the file at `path`.
    pub async fn resolve(&self, path: &DavPath) -> FsResult<Attr> {
        let mut attr = self.backend.getattr(ROOT_INO).await.map_err(fs_err)?;
        for name in segments(path)? {
            if attr.kind != FileKind::Directory {
                return Err(FsError::NotFound);
            }
            attr = self.backend.lookup(attr.ino, name).await.map_err(fs_err)?;
        }
        Ok(attr)
    }

    /// The directory that holds `path`, and the last name.
    async fn resolve_parent<'p>(&self, path: &'p DavPath) -> FsResult<(Ino, &'p str)> {
        let segs = segments(path)?;
        let Some((name, dirs)) = segs.split_last() else {
            return Err(FsError::Forbidden);
        };
        let mut ino = ROOT_INO;
        for d in dirs {
            let a = self.backend.lookup(ino, d).await.map_err(fs_err)?;
            if a.kind != FileKind::Directory {
                return Err(FsError::NotFound);
            }
            ino = a.ino;
        }
        Ok((ino, name))
    }

    async fn key(&self, ino: Ino) -> FsResult<String> {
        self.backend.object_key(ino).await.map_err(fs_err)
    }

    /// Sets the modification time of the file at `path` (PROPPATCH of the
    /// time properties, X-OC-Mtime).
    pub async fn set_mtime(&self, path: &DavPath, t: SystemTime) -> FsResult<()> {
        let a = self.resolve(path).await?;
        let set = SetAttr {
            mtime: Some(t),
            ..SetAttr::default()
        };
        self.backend.setattr(a.ino, set).await.map_err(fs_err)?;
        Ok(())
    }

    async fn do_open(&self, path: &DavPath, o: OpenOptions) -> FsResult<VfsFile> {
        let (parent, name) = self.resolve_parent(path).await?;
        let flags = OpenFlags {
            read: o.read,
            write: o.write || o.append,
            truncate: o.truncate,
            append: o.append,
            exclusive: o.create_new,
        };
        let (attr, fh) = match self.backend.lookup(parent, name).await {
            Ok(attr) => {
                if o.create_new {
                    return Err(FsError::Exists);
                }
                if attr.kind == FileKind::Directory {
                    return Err(FsError::Forbidden);
                }
                // A whole new content: the old stays until it is complete.
                let replace = flags.write && flags.truncate && !flags.append && !flags.read;
                let opened = if replace {
                    self.backend.open_replacing(attr.ino, flags).await
                } else {
                    self.backend.open(attr.ino, flags).await
                };
                match opened {
                    Ok(fh) => (attr, fh),
                    // A file another PUT was making, gone as that PUT
                    // broke off while this one waited for it.
                    Err(VfsError::NotFound(_)) if replace && o.create => self
                        .backend
                        .create_replacing(parent, name, flags)
                        .await
                        .map_err(fs_err)?,
                    Err(e) => return Err(fs_err(e)),
                }
            }
            // A PUT's new file: dropped at the next start if cmisfs stops
            // before the body is complete.
            Err(VfsError::NotFound(_)) if o.create || o.create_new => {
                if flags.write && !flags.read && !flags.append {
                    self.backend.create_replacing(parent, name, flags).await
                } else {
                    self.backend.create(parent, name, flags).await
                }
                .map_err(fs_err)?
            }
            Err(e) => return Err(fs_err(e)),
        };
        let pos = if o.append { attr.size } else { 0 };
        Ok(VfsFile {
            backend: self.backend.clone(),
            ino: attr.ino,
            fh,
            pos,
            dirty: false,
            open: true,
            pending: Vec::new(),
        })
    }

    async fn do_copy(&self, from: &DavPath, to: &DavPath) -> FsResult<()> {
        let src = self.resolve(from).await?;
        if src.kind == FileKind::Directory {
            return Err(FsError::Forbidden);
        }
        let mut input = self.do_open(from, OpenOptions::default_read()).await?;
        let mut oo = OpenOptions::default_read();
        oo.read = false;
        oo.write = true;
        oo.create = true;
        oo.truncate = true;
        let mut output = self.do_open(to, oo).await?;
        loop {
            let chunk = input.read_bytes(MAX_READ).await?;
            if chunk.is_empty() {
                break;
            }
            output.write_bytes(chunk).await?;
        }
        // An empty copy must still reach the repository.
        output.dirty = true;
        output.flush().await?;
        let (from_key, to_key) = (self.key(src.ino).await?, self.key(output.ino).await?);
        if let Err(e) = self.store.copy_props(&from_key, &to_key) {
            tracing::warn!("webdav: {e}");
        }
        // COPY keeps the modification time, as `cp -p` does.
        let set = SetAttr {
            mtime: Some(src.mtime),
            ..SetAttr::default()
        };
        self.backend
            .setattr(output.ino, set)
            .await
            .map_err(fs_err)?;
        Ok(())
    }
}

/// OpenOptions has no public constructor but Default.
trait DefaultRead {
    fn default_read() -> Self;
}

impl DefaultRead for OpenOptions {
    fn default_read() -> OpenOptions {
        OpenOptions {
            read: true,
            ..OpenOptions::default()
        }
    }
}

/// Attributes as dav-server wants them, with the ETag: the repository's
/// change token (it changes with every server-side change) plus size and
/// mtime (which change first, while a write is still local).
#[derive(Debug, Clone)]
pub struct Meta(pub Attr, pub Option<String>);

async fn meta(backend: &dyn Backend, a: Attr) -> Meta {
    let token = backend.etag_token(a.ino).await;
    Meta(a, token)
}

impl DavMetaData for Meta {
    fn etag(&self) -> Option<String> {
        let t = self
            .0
            .mtime
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0);
        // ETags go in quotes on the wire: keep the token's characters safe.
        let token: String = self
            .1
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.:".contains(*c))
            .collect();
        Some(if token.is_empty() {
            format!("{:x}-{t:x}", self.0.size)
        } else {
            format!("{token}-{:x}-{t:x}", self.0.size)
        })
    }

    fn len(&self) -> u64 {
        self.0.size
    }
    fn modified(&self) -> FsResult<SystemTime> {
        Ok(self.0.mtime)
    }
    fn is_dir(&self) -> bool {
        self.0.kind == FileKind::Directory
    }
    fn accessed(&self) -> FsResult<SystemTime> {
        Ok(self.0.atime)
    }
    fn created(&self) -> FsResult<SystemTime> {
        Ok(self.0.crtime)
    }
    fn status_changed(&self) -> FsResult<SystemTime> {
        Ok(self.0.ctime)
    }
    fn executable(&self) -> FsResult<bool> {
        Ok(self.0.perm & 0o100 != 0)
    }
}

struct Entry {
    name: String,
    meta: Meta,
}

impl DavDirEntry for Entry {
    fn name(&self) -> Vec<u8> {
        self.name.as_bytes().to_vec()
    }
    fn metadata(&'_ self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let m: Box<dyn DavMetaData> = Box::new(self.meta.clone());
        futures_util::future::ready(Ok(m)).boxed()
    }
    fn is_dir(&'_ self) -> FsFuture<'_, bool> {
        futures_util::future::ready(Ok(self.meta.is_dir())).boxed()
    }
}

/// An open VFS file. Dropping it releases the handle (in the background).
pub struct VfsFile {
    backend: Arc<dyn Backend>,
    ino: Ino,
    fh: u64,
    pos: u64,
    /// Written since the last flush.
    dirty: bool,
    open: bool,
    /// Bytes written by the client not yet handed to the VFS, which start
    /// at `pos - pending.len()`: a PUT body arrives in small frames, and
    /// each VFS write has a fixed cost (journal, cache file).
    pending: Vec<u8>,
}

/// How much written data is gathered before one VFS write.
const WRITE_CHUNK: usize = 1 << 20;

impl std::fmt::Debug for VfsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VfsFile")
            .field("ino", &self.ino)
            .field("fh", &self.fh)
            .field("pos", &self.pos)
            .finish()
    }
}

impl Drop for VfsFile {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let (backend, ino, fh) = (self.backend.clone(), self.ino, self.fh);
        // Written and never flushed: dav-server flushes at the end of every
        // PUT, so the request broke off (client gone, body cut short) and
        // what arrived is not the file the client meant.
        let unfinished = self.dirty || !self.pending.is_empty();
        self.pending.clear();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if unfinished {
                    if let Err(e) = backend.abandon(ino, fh).await {
                        tracing::warn!("webdav: dropping the unfinished write of inode {ino}: {e}");
                    }
                }
                if let Err(e) = backend.release(ino, fh).await {
                    tracing::warn!("webdav: release of inode {ino}: {e}");
                }
            });
        }
    }
}

/// Writes all of `data` at `offset`.
async fn write_at(
    backend: &dyn Backend,
    ino: Ino,
    fh: u64,
    mut offset: u64,
    mut data: &[u8],
) -> FsResult<()> {
    while !data.is_empty() {
        let n = backend.write(ino, fh, offset, data).await.map_err(fs_err)? as usize;
        if n == 0 {
            return Err(FsError::GeneralFailure);
        }
        offset += n as u64;
        data = &data[n.min(data.len())..];
    }
    Ok(())
}

impl VfsFile {
    async fn write_all(&mut self, data: &[u8]) -> FsResult<()> {
        self.pending.extend_from_slice(data);
        self.pos += data.len() as u64;
        self.dirty = true;
        if self.pending.len() >= WRITE_CHUNK {
            self.push_pending().await?;
        }
        Ok(())
    }

    /// Hands the gathered bytes to the VFS.
    async fn push_pending(&mut self) -> FsResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let at = self.pos - self.pending.len() as u64;
        let r = write_at(&*self.backend, self.ino, self.fh, at, &self.pending).await;
        self.pending.clear();
        r
    }
}

impl DavFile for VfsFile {
    fn metadata(&'_ mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        async move {
            self.push_pending().await?;
            let a = self.backend.getattr(self.ino).await.map_err(fs_err)?;
            Ok(Box::new(meta(&*self.backend, a).await) as Box<dyn DavMetaData>)
        }
        .boxed()
    }

    fn write_buf(&'_ mut self, mut buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        async move {
            while buf.has_remaining() {
                let chunk = Bytes::copy_from_slice(buf.chunk());
                buf.advance(chunk.len());
                self.write_all(&chunk).await?;
            }
            Ok(())
        }
        .boxed()
    }

    fn write_bytes(&'_ mut self, buf: Bytes) -> FsFuture<'_, ()> {
        async move { self.write_all(&buf).await }.boxed()
    }

    fn read_bytes(&'_ mut self, count: usize) -> FsFuture<'_, Bytes> {
        async move {
            self.push_pending().await?;
            let size = count.min(MAX_READ) as u32;
            let b = self
                .backend
                .read(self.ino, self.fh, self.pos, size)
                .await
                .map_err(fs_err)?;
            self.pos += b.len() as u64;
            Ok(b)
        }
        .boxed()
    }

    fn seek(&'_ mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        async move {
            self.push_pending().await?;
            let new = match pos {
                SeekFrom::Start(n) => Some(n),
                SeekFrom::Current(d) => self.pos.checked_add_signed(d),
                SeekFrom::End(d) => {
                    let a = self.backend.getattr(self.ino).await.map_err(fs_err)?;
                    a.size.checked_add_signed(d)
                }
            };
            self.pos = new.ok_or(FsError::GeneralFailure)?;
            Ok(self.pos)
        }
        .boxed()
    }

    /// The end of a PUT: the upload is committed (fsync waits for the
    /// repository) before the response, so its ETag and date are final.
    fn flush(&'_ mut self) -> FsFuture<'_, ()> {
        async move {
            self.push_pending().await?;
            // A replacement becomes the file's content here, also an empty one.
            let replaced = self
                .backend
                .commit(self.ino, self.fh)
                .await
                .map_err(fs_err)?;
            if self.dirty || replaced {
                self.backend
                    .fsync(self.ino, self.fh)
                    .await
                    .map_err(fs_err)?;
                self.dirty = false;
            }
            Ok(())
        }
        .boxed()
    }
}

impl DavFileSystem for DavFs {
    fn open<'a>(
        &'a self,
        path: &'a DavPath,
        options: OpenOptions,
    ) -> FsFuture<'a, Box<dyn DavFile>> {
        async move {
            let f = self.do_open(path, options).await?;
            Ok(Box::new(f) as Box<dyn DavFile>)
        }
        .boxed()
    }

    fn read_dir<'a>(
        &'a self,
        path: &'a DavPath,
        _meta: ReadDirMeta,
    ) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        async move {
            let dir = self.resolve(path).await?;
            if dir.kind != FileKind::Directory {
                return Err(FsError::Forbidden);
            }
            let entries = self.backend.readdir(dir.ino).await.map_err(fs_err)?;
            let mut items = Vec::with_capacity(entries.len());
            for e in entries {
                if e.name == "." || e.name == ".." {
                    continue;
                }
                let meta = meta(&*self.backend, e.attr).await;
                items.push(Ok(
                    Box::new(Entry { name: e.name, meta }) as Box<dyn DavDirEntry>
                ));
            }
            Ok(futures_util::stream::iter(items).boxed() as FsStream<Box<dyn DavDirEntry>>)
        }
        .boxed()
    }

    fn metadata<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, Box<dyn DavMetaData>> {
        async move {
            let a = self.resolve(path).await?;
            Ok(Box::new(meta(&*self.backend, a).await) as Box<dyn DavMetaData>)
        }
        .boxed()
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let (parent, name) = self.resolve_parent(path).await?;
            self.backend.mkdir(parent, name).await.map_err(fs_err)?;
            Ok(())
        }
        .boxed()
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let (parent, name) = self.resolve_parent(path).await?;
            let key = match self.backend.lookup(parent, name).await {
                Ok(a) => self.key(a.ino).await.ok(),
                Err(e) => return Err(fs_err(e)),
            };
            self.backend.rmdir(parent, name).await.map_err(fs_err)?;
            if let Some(k) = key {
                let _ = self.store.delete_props(&k);
            }
            Ok(())
        }
        .boxed()
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let (parent, name) = self.resolve_parent(path).await?;
            let attr = self.backend.lookup(parent, name).await.map_err(fs_err)?;
            let key = self.key(attr.ino).await.ok();
            self.backend.unlink(parent, name).await.map_err(fs_err)?;
            // A document filed elsewhere too keeps its properties.
            if let (Some(k), true) = (key, attr.nlink <= 1) {
                let _ = self.store.delete_props(&k);
            }
            Ok(())
        }
        .boxed()
    }

    fn rename<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let (p1, n1) = self.resolve_parent(from).await?;
            let (p2, n2) = self.resolve_parent(to).await?;
            self.backend.rename(p1, n1, p2, n2).await.map_err(fs_err)?;
            // A save by MOVE (a temp file moved over the document) is
            // uploaded before the answer, as a PUT is: the ETag and date a
            // client reads next are final. The move itself is done: an
            // upload that fails now goes on in the background.
            if let Ok(a) = self.backend.lookup(p2, n2).await {
                if a.kind == FileKind::RegularFile {
                    if let Err(e) = self.backend.fsync(a.ino, 0).await {
                        tracing::warn!("webdav: MOVE to {n2}: upload pending: {e}");
                    }
                }
            }
            Ok(())
        }
        .boxed()
    }

    fn copy<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        self.do_copy(from, to).boxed()
    }

    fn set_modified<'a>(&'a self, path: &'a DavPath, tm: SystemTime) -> FsFuture<'a, ()> {
        self.set_mtime(path, tm).boxed()
    }

    fn have_props<'a>(
        &'a self,
        _path: &'a DavPath,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>> {
        futures_util::future::ready(true).boxed()
    }

    fn patch_props<'a>(
        &'a self,
        path: &'a DavPath,
        patch: Vec<(bool, DavProp)>,
    ) -> FsFuture<'a, Vec<(StatusCode, DavProp)>> {
        async move {
            let attr = self.resolve(path).await?;
            let key = self.key(attr.ino).await?;
            let mut out = Vec::new();
            let mut dead = Vec::new();
            for (set, p) in patch {
                if p.namespace.as_deref() == Some(MTIME_NS) {
                    out.push(self.patch_mtime(attr.ino, set, p).await);
                    continue;
                }
                dead.push((
                    set,
                    StoredProp {
                        name: p.name.clone(),
                        namespace: p.namespace.clone(),
                        prefix: p.prefix.clone(),
                        xml: p.xml.clone(),
                    },
                ));
                out.push((StatusCode::OK, p));
            }
            if let Err(e) = self.store.patch_props(&key, &dead) {
                tracing::warn!("webdav: {e}");
                return Err(FsError::GeneralFailure);
            }
            Ok(out)
        }
        .boxed()
    }

    fn get_props<'a>(&'a self, path: &'a DavPath, do_content: bool) -> FsFuture<'a, Vec<DavProp>> {
        async move {
            let attr = self.resolve(path).await?;
            let key = self.key(attr.ino).await?;
            let props = self.store.props(&key).map_err(|e| {
                tracing::warn!("webdav: {e}");
                FsError::GeneralFailure
            })?;
            Ok(props
                .into_iter()
                .map(|p| DavProp {
                    name: p.name,
                    prefix: p.prefix,
                    namespace: p.namespace,
                    xml: if do_content { p.xml } else { None },
                })
                .collect())
        }
        .boxed()
    }

    fn get_prop<'a>(&'a self, path: &'a DavPath, prop: DavProp) -> FsFuture<'a, Vec<u8>> {
        async move {
            let attr = self.resolve(path).await?;
            let key = self.key(attr.ino).await?;
            let props = self
                .store
                .props(&key)
                .map_err(|_| FsError::GeneralFailure)?;
            props
                .into_iter()
                .find(|p| p.name == prop.name && p.namespace == prop.namespace)
                .and_then(|p| p.xml)
                .ok_or(FsError::NotFound)
        }
        .boxed()
    }

    fn get_quota(&'_ self) -> FsFuture<'_, (u64, Option<u64>)> {
        async move {
            let s = self.backend.statfs().await.map_err(fs_err)?;
            let bs = u64::from(s.block_size);
            let used = s.blocks.saturating_sub(s.blocks_free) * bs;
            Ok((used, Some(s.blocks * bs)))
        }
        .boxed()
    }
}

impl DavFs {
    /// A time property of a PROPPATCH (passed under [`MTIME_NS`]): setting
    /// it sets the file's mtime; removing it is refused.
    async fn patch_mtime(&self, ino: Ino, set: bool, p: DavProp) -> (StatusCode, DavProp) {
        let (ns, name) = super::http::mtime_prop_origin(&p.name);
        let shown = DavProp {
            name: name.to_string(),
            prefix: None,
            namespace: Some(ns.to_string()),
            xml: None,
        };
        if !set {
            return (StatusCode::FORBIDDEN, shown);
        }
        let text = p
            .xml
            .as_deref()
            .and_then(super::http::element_text)
            .unwrap_or_default();
        let Some(t) = super::http::parse_http_date(&text) else {
            return (StatusCode::CONFLICT, shown);
        };
        let set = SetAttr {
            mtime: Some(t),
            ..SetAttr::default()
        };
        match self.backend.setattr(ino, set).await {
            Ok(_) => (StatusCode::OK, shown),
            Err(e) => (
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::FORBIDDEN),
                shown,
            ),
        }
    }
}
